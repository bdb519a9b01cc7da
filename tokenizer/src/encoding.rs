use serde::{Deserialize, Serialize};

/// The tokens of one text, before special tokens, truncation and padding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoding {
    /// Token ids.
    pub ids: Vec<u32>,
    /// Byte range of each token in the original text.
    pub offsets: Vec<(usize, usize)>,
}

/// Which tokens survive when a text is longer than the maximum length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Truncation {
    /// Keep the first tokens (Hugging Face's default).
    KeepStart,
    /// Keep the last tokens.
    KeepEnd,
    /// Keep `start` tokens from the start and fill the rest from the end
    /// (head + tail truncation, Sun et al. 2019).
    KeepStartAndEnd { start: usize },
}

/// How a batch is padded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Padding {
    /// Pad to the longest sequence of the batch (dynamic padding).
    Longest,
    /// Pad every sequence to the maximum length.
    MaxLength,
    /// Pad to the longest sequence, rounded up to a multiple of this.
    MultipleOf(usize),
}

/// Truncation and padding applied by [`Tokenizer::encode_batch`](crate::Tokenizer::encode_batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncodePolicy {
    /// Maximum sequence length, special tokens included. At least 1 plus the special tokens.
    pub max_length: usize,
    pub truncation: Truncation,
    pub padding: Padding,
}

impl EncodePolicy {
    /// Keep the start, pad to the longest sequence of the batch.
    pub fn new(max_length: usize) -> Self {
        Self {
            max_length,
            truncation: Truncation::KeepStart,
            padding: Padding::Longest,
        }
    }

    pub fn with_truncation(mut self, truncation: Truncation) -> Self {
        self.truncation = truncation;
        self
    }

    pub fn with_padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }
}

/// Token ids, attention mask and offsets of a batch, padded to one length.
///
/// `ids` and `attention_mask` are row-major `[batch, seq_len]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchEncoding {
    pub ids: Vec<u32>,
    pub attention_mask: Vec<bool>,
    /// Byte range of each unpadded token in its text; special tokens get `(0, 0)`.
    pub offsets: Vec<Vec<(usize, usize)>>,
    /// Whether each text lost tokens to truncation.
    pub truncated: Vec<bool>,
    pub batch_size: usize,
    pub seq_len: usize,
}

impl BatchEncoding {
    /// Number of unpadded tokens of each text, special tokens included.
    pub fn lengths(&self) -> Vec<usize> {
        self.offsets.iter().map(Vec::len).collect()
    }

    /// The unpadded ids of text `index`.
    pub fn row(&self, index: usize) -> &[u32] {
        let start = index * self.seq_len;
        &self.ids[start..start + self.offsets[index].len()]
    }
}

/// Cuts `encoding` to `budget` tokens following `truncation`. Returns whether tokens were cut.
pub(crate) fn truncate(encoding: &mut Encoding, budget: usize, truncation: Truncation) -> bool {
    if encoding.ids.len() <= budget {
        return false;
    }
    let start = match truncation {
        Truncation::KeepStart => budget,
        Truncation::KeepEnd => 0,
        Truncation::KeepStartAndEnd { start } => start.min(budget),
    };
    keep_ends(&mut encoding.ids, start, budget);
    keep_ends(&mut encoding.offsets, start, budget);
    true
}

/// Keeps the first `start` and the last `budget - start` items of `v`.
fn keep_ends<T>(v: &mut Vec<T>, start: usize, budget: usize) {
    let tail = v.split_off(v.len() - (budget - start));
    v.truncate(start);
    v.extend(tail);
}
