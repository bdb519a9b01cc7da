//! Occlusion: each word scored by how much the class probability falls when the word is left
//! out of the text (Zeiler & Fergus 2014, one word at a time). Model-agnostic.

use transfer_tokenizer::word_spans;

use super::{ClassProbabilities, Explanation, WordScore, remove_words};
use crate::error::{Result, TransferError};

/// Each text's words scored by p(class | text) − p(class | text without the word): one
/// prediction per word, all of a text's in one call to `model`.
///
/// ```
/// use transfer_pipeline::explain::{ClassProbabilities, occlusion};
///
/// /// Positive as far as the text says "good".
/// struct Good;
/// impl ClassProbabilities for Good {
///     fn class_probabilities(&self, texts: &[String]) -> transfer_pipeline::Result<Vec<Vec<f32>>> {
///         Ok(texts.iter().map(|t| if t.contains("good") { vec![0.25, 0.75] } else { vec![0.75, 0.25] }).collect())
///     }
/// }
/// let explanation = &occlusion(&Good, &["a good film"], 1)?[0];
/// let scores: Vec<f32> = explanation.words.iter().map(|w| w.score).collect();
/// assert_eq!(scores, [0.0, 0.5, 0.0]);
/// # Ok::<(), transfer_pipeline::TransferError>(())
/// ```
pub fn occlusion<M: ClassProbabilities + ?Sized, S: AsRef<str>>(
    model: &M,
    texts: &[S],
    class: usize,
) -> Result<Vec<Explanation>> {
    texts
        .iter()
        .map(|text| {
            let text = text.as_ref();
            let spans = word_spans(text);
            let variants: Vec<String> = std::iter::once(text.to_string())
                .chain(spans.iter().map(|&span| remove_words(text, &[span])))
                .collect();
            let probabilities = model.class_probabilities(&variants)?;
            let full = &probabilities[0];
            if class >= full.len() {
                return Err(TransferError::InvalidConfig {
                    field: "class",
                    message: format!("class {class} of a model with {} classes", full.len()),
                });
            }
            Ok(Explanation {
                class,
                words: spans
                    .iter()
                    .zip(&probabilities[1..])
                    .map(|(&(start, end), without)| WordScore {
                        start,
                        end,
                        score: full[class] - without[class],
                    })
                    .collect(),
                probabilities: full.clone(),
                delta: None,
            })
        })
        .collect()
}
