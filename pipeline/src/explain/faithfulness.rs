//! ERASER's faithfulness measures (DeYoung et al. 2020): does removing the words an
//! explanation ranks highest change the prediction (comprehensiveness), and do they alone keep
//! it (sufficiency)?

use serde::{Deserialize, Serialize};
use transfer_tokenizer::word_spans;

use super::{ClassProbabilities, Explanation, WordScore};
use crate::data::rng::SplitMix64;
use crate::error::{Result, TransferError};

/// One text's faithfulness at one fraction of its words.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Faithfulness {
    /// The fraction of the words taken as the explanation's top words.
    pub fraction: f64,
    /// p(class | text) − p(class | text without the top words): higher is more faithful.
    pub comprehensiveness: f64,
    /// p(class | text) − p(class | the top words alone): lower is more faithful.
    pub sufficiency: f64,
}

/// `text` with the byte ranges `spans` cut out.
pub fn remove_words(text: &str, spans: &[(usize, usize)]) -> String {
    let mut spans = spans.to_vec();
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in spans {
        if start >= at {
            out.push_str(&text[at..start]);
            at = end;
        }
    }
    out.push_str(&text[at.min(text.len())..]);
    out
}

/// The words at `spans` alone, in the text's order, joined by spaces.
pub fn keep_words(text: &str, spans: &[(usize, usize)]) -> String {
    let mut spans = spans.to_vec();
    spans.sort_unstable();
    spans
        .iter()
        .map(|&(start, end)| &text[start..end])
        .collect::<Vec<_>>()
        .join(" ")
}

/// An explanation of `text` that knows nothing: seeded random scores, the floor a method must
/// beat.
pub fn random_explanation(text: &str, class: usize, seed: u64) -> Explanation {
    let mut rng = SplitMix64::new(seed);
    Explanation {
        class,
        probabilities: Vec::new(),
        words: word_spans(text)
            .into_iter()
            .map(|(start, end)| WordScore {
                start,
                end,
                score: (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32,
            })
            .collect(),
        delta: None,
    }
}

/// Comprehensiveness and sufficiency of `explanation` (of `text`, towards its class) at each
/// fraction of the words (at least one word each), from one call to `model`. The top words
/// are those with the highest scores, earlier words first among equals.
pub fn faithfulness<M: ClassProbabilities + ?Sized>(
    model: &M,
    text: &str,
    explanation: &Explanation,
    fractions: &[f64],
) -> Result<Vec<Faithfulness>> {
    if let Some(bad) = fractions.iter().find(|f| !(**f > 0.0 && **f <= 1.0)) {
        return Err(TransferError::InvalidConfig {
            field: "fractions",
            message: format!("{bad} is not in (0, 1]"),
        });
    }
    let words = &explanation.words;
    let mut ranked: Vec<usize> = (0..words.len()).collect();
    ranked.sort_by(|&a, &b| words[b].score.total_cmp(&words[a].score).then(a.cmp(&b)));
    let mut variants = vec![text.to_string()];
    for fraction in fractions {
        let k = ((fraction * words.len() as f64).ceil() as usize).clamp(1, words.len().max(1));
        let top: Vec<(usize, usize)> = ranked
            .iter()
            .take(k)
            .map(|&i| (words[i].start, words[i].end))
            .collect();
        variants.push(remove_words(text, &top));
        variants.push(keep_words(text, &top));
    }
    let probabilities = model.class_probabilities(&variants)?;
    let class = explanation.class;
    let p = |row: usize| -> Result<f64> {
        probabilities[row]
            .get(class)
            .map(|&p| f64::from(p))
            .ok_or_else(|| TransferError::InvalidConfig {
                field: "class",
                message: format!(
                    "class {class} of a model with {} classes",
                    probabilities[row].len()
                ),
            })
    };
    let full = p(0)?;
    fractions
        .iter()
        .enumerate()
        .map(|(i, &fraction)| {
            Ok(Faithfulness {
                fraction,
                comprehensiveness: full - p(1 + 2 * i)?,
                sufficiency: full - p(2 + 2 * i)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_removed_or_kept_by_their_spans() {
        let text = "a truly superb film";
        assert_eq!(remove_words(text, &[(8, 14), (0, 1)]), " truly  film");
        assert_eq!(keep_words(text, &[(8, 14), (0, 1)]), "a superb");
        assert_eq!(remove_words(text, &[]), text);
    }
}
