//! Sub-word pieces summed back into the words of the text.

use transfer_tokenizer::word_spans;

use super::{TokenAttribution, WordScore};

/// Every word of `text` ([`word_spans`]) with the sum of the scores of the pieces that fall in
/// it. A piece belongs to the word that holds its first byte, or else to the first word that
/// starts inside it; pieces in no word (of an HTML line break) are dropped, and words without
/// pieces (cut off by truncation) score 0.
///
/// ```
/// use transfer_pipeline::explain::merge_into_words;
/// use transfer_pipeline::TokenAttribution;
///
/// let text = "Superbly acted!";
/// let piece = |start, end, score| TokenAttribution { start, end, score };
/// // "super", "##bly", "acted", "!"
/// let pieces = [piece(0, 5, 0.25), piece(5, 8, 0.5), piece(9, 14, -0.125), piece(14, 15, 0.0)];
/// let words = merge_into_words(text, &pieces);
/// let scored: Vec<(&str, f32)> =
///     words.iter().map(|w| (&text[w.start..w.end], w.score)).collect();
/// assert_eq!(scored, [("Superbly", 0.75), ("acted", -0.125), ("!", 0.0)]);
/// ```
pub fn merge_into_words(text: &str, tokens: &[TokenAttribution]) -> Vec<WordScore> {
    let spans = word_spans(text);
    let mut words: Vec<WordScore> = spans
        .iter()
        .map(|&(start, end)| WordScore {
            start,
            end,
            score: 0.0,
        })
        .collect();
    for token in tokens {
        if let Some(word) = word_of(&spans, token.start, token.end) {
            words[word].score += token.score;
        }
    }
    words
}

/// The index of the word of `spans` (sorted, disjoint) that holds byte `start`, or else the
/// first that starts in `start..end`.
fn word_of(spans: &[(usize, usize)], start: usize, end: usize) -> Option<usize> {
    let after = spans.partition_point(|&(s, _)| s <= start);
    if after > 0 && start < spans[after - 1].1 {
        return Some(after - 1);
    }
    (after < spans.len() && spans[after].0 < end).then_some(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_find_their_word_whatever_their_offsets() {
        let spans = [(0, 4), (5, 9), (9, 10)];
        assert_eq!(word_of(&spans, 0, 2), Some(0));
        assert_eq!(word_of(&spans, 2, 4), Some(0));
        // A piece with its leading space (byte-level BPE without trimmed offsets).
        assert_eq!(word_of(&spans, 4, 9), Some(1));
        assert_eq!(word_of(&spans, 9, 10), Some(2));
        assert_eq!(word_of(&spans, 10, 12), None);
        assert_eq!(word_of(&[], 0, 1), None);
    }
}
