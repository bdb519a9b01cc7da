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
/// # use transfer_pipeline::{Example, TransferPipeline};
/// # use transfer_pipeline::training::self_training::{PseudoLabelConfig, pseudo_label};
/// # fn demo<T: transfer_tokenizer::Tokenizer, E: transfer_embedder::TokenEmbedder,
/// #     C: transfer_contextual::ContextualEmbedder, P: transfer_predictor::Predictor>(
/// #     teacher: &TransferPipeline<T, E, C, P>, unlabelled: &[String], labelled: &[Example],
/// # ) -> transfer_pipeline::Result<()> {
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
    let mut by_class: Vec<Vec<(f64, usize)>> = vec![Vec::new(); num_classes];
    for (i, prediction) in predictions.iter().enumerate() {
        if let Some(p) = prediction.as_class()
            && p.probability >= config.min_probability
        {
            by_class[p.class].push((f64::from(p.probability), i));
        }
    }
    Ok(most_confident(by_class, config.per_class, config.balanced)
        .into_iter()
        .map(|(i, class)| Example::class(texts[i].as_ref(), class))
        .collect())
}

/// The most confident guesses of a binary scorer (a score above zero means class 1, and the
/// further from zero the surer): `(index, class)` of at most `per_class` texts per class, as
/// many of each class, class 0 first, each class in order of confidence. For models without
/// probabilities, such as an ensemble's summed scores.
///
/// ```
/// use transfer_pipeline::training::self_training::most_confident_by_score;
///
/// let scores = [0.5, -3.0, 2.0, -0.1, 4.0];
/// assert_eq!(most_confident_by_score(&scores, 2), vec![(1, 0), (3, 0), (4, 1), (2, 1)]);
/// // One negative guess only: one of each class.
/// assert_eq!(most_confident_by_score(&[1.0, 2.0, -1.0], 2), vec![(2, 0), (1, 1)]);
/// ```
pub fn most_confident_by_score(scores: &[f64], per_class: usize) -> Vec<(usize, usize)> {
    let mut by_class: Vec<Vec<(f64, usize)>> = vec![Vec::new(); 2];
    for (i, &score) in scores.iter().enumerate() {
        if score > 0.0 {
            by_class[1].push((score, i));
        } else if score < 0.0 {
            by_class[0].push((-score, i));
        }
    }
    most_confident(by_class, per_class, true)
}

/// `(index, class)` of the `per_class` most confident `(confidence, index)` guesses of each
/// class (the same number of each when `balanced`); ties in index order, so the result does
/// not depend on sorting.
fn most_confident(
    by_class: Vec<Vec<(f64, usize)>>,
    per_class: usize,
    balanced: bool,
) -> Vec<(usize, usize)> {
    let mut keep = per_class;
    if balanced {
        keep = by_class.iter().map(Vec::len).fold(keep, usize::min);
    }
    let mut kept = Vec::new();
    for (class, mut guesses) in by_class.into_iter().enumerate() {
        guesses.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        kept.extend(guesses.into_iter().take(keep).map(|(_, i)| (i, class)));
    }
    kept
}
