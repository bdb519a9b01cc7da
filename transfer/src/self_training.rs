//! Self-training: a classifier trained on a few labels labels unlabelled texts, and its most
//! confident guesses become training examples for a fresh model (the student).

use serde::{Deserialize, Serialize};
use transfer_contextual::ContextualEmbedder;
use transfer_embedder::TokenEmbedder;
use transfer_predictor::{Predictor, Task};
use transfer_tokenizer::Tokenizer;

use crate::data::Example;
use crate::error::{Result, TransferError};
use crate::pipeline::TransferPipeline;

/// Which of the teacher's guesses become examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PseudoLabelConfig {
    /// Keep at most this many texts per class, the most confident first.
    pub per_class: usize,
    /// Keep a guess only if the teacher gives its class at least this probability.
    pub min_probability: f32,
    /// Keep the same number of texts of every class (the smallest class's count), so that a
    /// teacher leaning towards one class does not pass its bias on.
    pub balanced: bool,
}

impl Default for PseudoLabelConfig {
    fn default() -> Self {
        Self {
            per_class: 1000,
            min_probability: 0.5,
            balanced: true,
        }
    }
}

/// Labels `texts` with `teacher` and returns the most confident guesses as examples, class by
/// class in order of confidence.
///
/// ```no_run
/// # use transfer::{Example, TransferPipeline};
/// # use transfer::self_training::{PseudoLabelConfig, pseudo_label};
/// # fn demo<T: transfer_tokenizer::Tokenizer, E: transfer_embedder::TokenEmbedder,
/// #     C: transfer_contextual::ContextualEmbedder, P: transfer_predictor::Predictor>(
/// #     teacher: &TransferPipeline<T, E, C, P>, unlabelled: &[String], labelled: &[Example],
/// # ) -> transfer::Result<()> {
/// let config = PseudoLabelConfig { per_class: 500, min_probability: 0.9, ..Default::default() };
/// let mut examples = labelled.to_vec();
/// examples.extend(pseudo_label(teacher, unlabelled, &config)?);
/// // …then train a fresh pipeline (the student) on `examples`.
/// # Ok(()) }
/// ```
pub fn pseudo_label<T, E, C, P, S>(
    teacher: &TransferPipeline<T, E, C, P>,
    texts: &[S],
    config: &PseudoLabelConfig,
) -> Result<Vec<Example>>
where
    T: Tokenizer,
    E: TokenEmbedder,
    C: ContextualEmbedder,
    P: Predictor,
    S: AsRef<str> + Sync,
{
    let Task::Classification { num_classes } = teacher.task() else {
        return Err(TransferError::InvalidConfig {
            field: "teacher",
            message: "pseudo-labels need a classifier".into(),
        });
    };
    let predictions = teacher.predict(texts)?;
    let mut by_class: Vec<Vec<(f32, usize)>> = vec![Vec::new(); num_classes];
    for (i, prediction) in predictions.iter().enumerate() {
        if let Some(p) = prediction.as_class()
            && p.probability >= config.min_probability
        {
            by_class[p.class].push((p.probability, i));
        }
    }
    let mut keep = config.per_class;
    if config.balanced {
        keep = by_class.iter().map(Vec::len).fold(keep, usize::min);
    }
    let mut examples = Vec::new();
    for (class, mut guesses) in by_class.into_iter().enumerate() {
        // Most confident first; ties in text order, so the result does not depend on sorting.
        guesses.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        examples.extend(
            guesses
                .into_iter()
                .take(keep)
                .map(|(_, i)| Example::class(texts[i].as_ref(), class)),
        );
    }
    Ok(examples)
}
