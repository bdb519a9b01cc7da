//! Which words drove a prediction, and how far to trust the answer.
//!
//! Three methods, one a file, each giving a score per word of the text ([`word_spans`]'s
//! words; a model's sub-word pieces are summed back into them):
//! - [`Method::GradientTimesInput`]: one backward pass (Shrikumar et al. 2016);
//! - [`Method::IntegratedGradients`]: gradients along the straight path from a baseline to the
//!   input embeddings, integrated by quadrature (Sundararajan et al. 2017), as Captum does;
//! - [`Method::Occlusion`]: the drop in probability when the word is left out of the text;
//!   needs only [`ClassProbabilities`], so it explains any classifier (NB-SVM too).
//!
//! [`faithfulness`] measures them (ERASER's comprehensiveness and sufficiency).
//!
//! [`word_spans`]: transfer_tokenizer::word_spans

mod faithfulness;
mod gradient_input;
mod integrated_gradients;
mod occlusion;
mod words;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use transfer_contextual::ContextualEmbedder;
use transfer_embedder::TokenEmbedder;
use transfer_predictor::{Predictor, Task};
use transfer_tokenizer::Tokenizer;

use crate::error::{Result, TransferError};
use crate::pipeline::{Prediction, TransferPipeline};

pub use faithfulness::{Faithfulness, faithfulness, keep_words, random_explanation, remove_words};
pub use gradient_input::{Attribution, TokenAttribution};
pub use integrated_gradients::{Baseline, IntegratedGradientsConfig, Quadrature};
pub use occlusion::occlusion;
pub use words::merge_into_words;

/// One word's share in a prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordScore {
    /// Byte range of the word in the text.
    pub start: usize,
    pub end: usize,
    /// Positive: pushed towards the explained class; negative: away from it. Words the model
    /// never saw (cut off by truncation) score 0.
    pub score: f32,
}

/// Why a text got its prediction, word by word.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The class explained.
    pub class: usize,
    /// The class probabilities of the text (the same as `predict`'s).
    pub probabilities: Vec<f32>,
    /// Every word of the text, in order.
    pub words: Vec<WordScore>,
    /// Integrated gradients: the sum of the scores minus (p(text) − p(baseline)), the
    /// quadrature's error (Captum's convergence delta).
    pub delta: Option<f32>,
}

/// How to explain a prediction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "method")]
pub enum Method {
    /// The gradient of the class's logit times each token's embedding, summed over the vector.
    GradientTimesInput,
    /// The class probability's gradient integrated from a baseline to the embeddings.
    IntegratedGradients(IntegratedGradientsConfig),
    /// The class probability minus its value without the word.
    Occlusion,
}

impl Method {
    /// `gradient-x-input`, `integrated-gradients` or `occlusion`.
    pub fn name(&self) -> &'static str {
        match self {
            Method::GradientTimesInput => "gradient-x-input",
            Method::IntegratedGradients(_) => "integrated-gradients",
            Method::Occlusion => "occlusion",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::IntegratedGradients(c) => write!(f, "{} ({} steps)", self.name(), c.steps),
            _ => f.write_str(self.name()),
        }
    }
}

impl FromStr for Method {
    type Err = TransferError;

    /// A method by [`name`](Method::name); integrated gradients with default settings.
    ///
    /// ```
    /// use transfer_pipeline::explain::Method;
    /// assert_eq!("occlusion".parse::<Method>()?, Method::Occlusion);
    /// assert!("saliency".parse::<Method>().unwrap_err().to_string().contains("occlusion"));
    /// # Ok::<(), transfer_pipeline::TransferError>(())
    /// ```
    fn from_str(name: &str) -> Result<Self> {
        match name {
            "gradient-x-input" => Ok(Method::GradientTimesInput),
            "integrated-gradients" => Ok(Method::IntegratedGradients(
                IntegratedGradientsConfig::default(),
            )),
            "occlusion" => Ok(Method::Occlusion),
            _ => Err(TransferError::InvalidConfig {
                field: "method",
                message: format!(
                    "unknown explanation method `{name}`: gradient-x-input, integrated-gradients or occlusion"
                ),
            }),
        }
    }
}

/// A classifier that gives class probabilities for texts: all [`Method::Occlusion`] and
/// [`faithfulness`] need.
pub trait ClassProbabilities {
    /// One row of class probabilities per text.
    fn class_probabilities(&self, texts: &[String]) -> Result<Vec<Vec<f32>>>;
}

impl<T, E, C, P> ClassProbabilities for TransferPipeline<T, E, C, P>
where
    T: Tokenizer,
    E: TokenEmbedder,
    C: ContextualEmbedder,
    P: Predictor,
{
    fn class_probabilities(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        self.predict(texts)?
            .into_iter()
            .map(|p| match p {
                Prediction::Class(c) => Ok(c.probabilities),
                _ => Err(not_a_classifier(self.task())),
            })
            .collect()
    }
}

impl ClassProbabilities for crate::classifiers::NbSvm {
    /// The logistic of NB-SVM's margin as the positive class's probability (class 1).
    fn class_probabilities(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        Ok(self
            .decisions(texts)
            .into_iter()
            .map(|d| {
                let p = (1.0 / (1.0 + (-d).exp())) as f32;
                vec![1.0 - p, p]
            })
            .collect())
    }
}

fn not_a_classifier(task: Task) -> TransferError {
    TransferError::InvalidConfig {
        field: "class",
        message: format!("only a classification pipeline can be explained, not {task:?}"),
    }
}

/// The class index `class` of a pipeline with `task`, checked.
fn check_class(task: Task, class: usize) -> Result<()> {
    match task {
        Task::Classification { num_classes } if class < num_classes => Ok(()),
        Task::Classification { num_classes } => Err(TransferError::InvalidConfig {
            field: "class",
            message: format!("class {class} of a pipeline with {num_classes} classes"),
        }),
        task => Err(not_a_classifier(task)),
    }
}

impl<T, E, C, P> TransferPipeline<T, E, C, P>
where
    T: Tokenizer,
    E: TokenEmbedder,
    C: ContextualEmbedder,
    P: Predictor,
{
    /// Each text's words scored towards `class` by `method`.
    ///
    /// ```no_run
    /// # fn demo(pipeline: &transfer_pipeline::AnyPipeline) -> transfer_pipeline::Result<()> {
    /// use transfer_pipeline::explain::{IntegratedGradientsConfig, Method};
    ///
    /// let method = Method::IntegratedGradients(IntegratedGradientsConfig::default());
    /// let text = "A superb score, and I loved it.";
    /// let explanation = &pipeline.explain(&[text], 1, &method)?[0];
    /// for word in &explanation.words {
    ///     println!("{:>12} {:+.3}", &text[word.start..word.end], word.score);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn explain<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        class: usize,
        method: &Method,
    ) -> Result<Vec<Explanation>> {
        crate::data::check_texts("texts", texts)?;
        check_class(self.task(), class)?;
        match method {
            Method::GradientTimesInput => Ok(self
                .attribute(texts, class)?
                .into_iter()
                .zip(texts)
                .map(|(a, text)| Explanation {
                    class,
                    words: merge_into_words(text.as_ref(), &a.tokens),
                    probabilities: a.probabilities,
                    delta: None,
                })
                .collect()),
            Method::IntegratedGradients(config) => texts
                .iter()
                .map(|text| self.integrated_gradients(text.as_ref(), class, config))
                .collect(),
            Method::Occlusion => occlusion(self, texts, class),
        }
    }
}
