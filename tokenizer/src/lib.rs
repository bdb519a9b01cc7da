//! Stage 1 of a transfer-learning pipeline: text → token ids.
//!
//! A [`Tokenizer`] turns one text into an [`Encoding`] (ids and byte offsets). The provided
//! [`Tokenizer::encode_batch`] adds the special tokens, truncates and pads a batch the same
//! way for every implementation, in parallel:
//!
//! - [`WordLevelTokenizer`]: lowercased words and punctuation, HTML `<br />` removed, with a
//!   vocabulary built from a corpus (min count, max size), saved as JSON.
//! - [`HfTokenizer`]: any Hugging Face `tokenizer.json` (or a BERT `vocab.txt`), through the
//!   `tokenizers` crate; BERT WordPiece pipelines take a specialised path with the same output
//!   (all 50,000 labelled IMDB reviews in 0.6 s on 2 cores).
//!
//! ```
//! use transfer_tokenizer::{EncodePolicy, Tokenizer, VocabularyConfig, WordLevelTokenizer};
//!
//! let corpus = ["A great movie!", "A dull movie.<br /><br />Skip it."];
//! let tokenizer = WordLevelTokenizer::train(&corpus, &VocabularyConfig::default()).unwrap();
//! let batch = tokenizer
//!     .encode_batch(&["a great, great movie", "dull"], &EncodePolicy::new(16))
//!     .unwrap();
//! assert_eq!(batch.seq_len, 5);
//! assert_eq!(batch.lengths(), vec![5, 1]);
//! assert_eq!(tokenizer.decode(batch.row(0)), "a great [UNK] great movie");
//! ```

mod any;
mod bert_wordpiece;
mod encoding;
mod error;
mod hf;
mod word_level;

use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use any::AnyTokenizer;
pub use encoding::{BatchEncoding, EncodePolicy, Encoding, Padding, Truncation};
pub use error::TokenizerError;
pub use hf::HfTokenizer;
pub use word_level::{VocabularyConfig, WordLevelTokenizer, word_spans};

/// Ids of the tokens a tokenizer treats specially.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialTokens {
    /// Fills padded positions.
    pub pad: u32,
    /// Stands for words outside the vocabulary.
    pub unk: Option<u32>,
    /// Put before every sequence (`[CLS]` for BERT).
    pub cls: Option<u32>,
    /// Put after every sequence (`[SEP]` for BERT).
    pub sep: Option<u32>,
    /// Masked-language-model mask (`[MASK]` for BERT).
    pub mask: Option<u32>,
}

impl SpecialTokens {
    /// How many special tokens [`Tokenizer::encode_batch`] adds around each text.
    pub fn added_per_sequence(&self) -> usize {
        usize::from(self.cls.is_some()) + usize::from(self.sep.is_some())
    }

    /// Whether `id` is one of the special tokens.
    pub fn contains(&self, id: u32) -> bool {
        id == self.pad || [self.unk, self.cls, self.sep, self.mask].contains(&Some(id))
    }
}

/// Text → token ids. Implementations only tokenize one text; batching, special tokens,
/// truncation and padding are shared.
pub trait Tokenizer: Send + Sync {
    /// Tokenizes one text without special tokens, truncation or padding. Never fails: any
    /// UTF-8 text has an encoding (possibly empty).
    fn tokenize(&self, text: &str) -> Encoding;

    fn special_tokens(&self) -> SpecialTokens;

    fn vocab_size(&self) -> usize;

    fn token_to_id(&self, token: &str) -> Option<u32>;

    fn id_to_token(&self, id: u32) -> Option<String>;

    /// Turns ids back into text, skipping special tokens.
    fn decode(&self, ids: &[u32]) -> String;

    /// Writes the tokenizer to one file that [`Tokenizer::load`] reads back.
    fn save(&self, path: &Path) -> Result<(), TokenizerError>;

    /// Reads a tokenizer written by [`Tokenizer::save`].
    fn load(path: &Path) -> Result<Self, TokenizerError>
    where
        Self: Sized;

    /// One text with its special tokens, truncated to `policy.max_length`, unpadded.
    /// Returns the encoding and whether tokens were cut.
    fn encode(
        &self,
        text: &str,
        policy: &EncodePolicy,
    ) -> Result<(Encoding, bool), TokenizerError> {
        let special = self.special_tokens();
        let budget = content_budget(policy, &special)?;
        let mut content = self.tokenize(text);
        let truncated = encoding::truncate(&mut content, budget, policy.truncation);
        let mut out = Encoding {
            ids: Vec::with_capacity(content.ids.len() + 2),
            offsets: Vec::with_capacity(content.ids.len() + 2),
        };
        if let Some(cls) = special.cls {
            out.ids.push(cls);
            out.offsets.push((0, 0));
        }
        out.ids.extend(content.ids);
        out.offsets.extend(content.offsets);
        if let Some(sep) = special.sep {
            out.ids.push(sep);
            out.offsets.push((0, 0));
        }
        Ok((out, truncated))
    }

    /// A batch with special tokens, truncated and padded following `policy`; texts are
    /// tokenized in parallel.
    fn encode_batch(
        &self,
        texts: &[&str],
        policy: &EncodePolicy,
    ) -> Result<BatchEncoding, TokenizerError> {
        content_budget(policy, &self.special_tokens())?;
        let encoded: Vec<(Encoding, bool)> = texts
            .par_iter()
            .map(|text| self.encode(text, policy))
            .collect::<Result<_, _>>()?;
        let longest = encoded.iter().map(|(e, _)| e.ids.len()).max().unwrap_or(0);
        let seq_len = match policy.padding {
            Padding::Longest => longest,
            Padding::MaxLength => policy.max_length,
            Padding::MultipleOf(m) if m > 0 => longest.div_ceil(m) * m,
            Padding::MultipleOf(_) => {
                return Err(TokenizerError::InvalidConfig {
                    field: "padding",
                    message: "multiple_of must be at least 1".into(),
                });
            }
        };
        let pad = self.special_tokens().pad;
        let mut ids = vec![pad; texts.len() * seq_len];
        let mut attention_mask = vec![false; texts.len() * seq_len];
        let mut offsets = Vec::with_capacity(texts.len());
        let mut truncated = Vec::with_capacity(texts.len());
        for (row, (encoding, cut)) in encoded.into_iter().enumerate() {
            let start = row * seq_len;
            let len = encoding.ids.len();
            ids[start..start + len].copy_from_slice(&encoding.ids);
            attention_mask[start..start + len].fill(true);
            offsets.push(encoding.offsets);
            truncated.push(cut);
        }
        Ok(BatchEncoding {
            ids,
            attention_mask,
            offsets,
            truncated,
            batch_size: texts.len(),
            seq_len,
        })
    }
}

/// How many content tokens fit once the special tokens are added.
fn content_budget(policy: &EncodePolicy, special: &SpecialTokens) -> Result<usize, TokenizerError> {
    let added = special.added_per_sequence();
    if policy.max_length <= added {
        return Err(TokenizerError::InvalidConfig {
            field: "max_length",
            message: format!(
                "{} leaves no room for text after {added} special tokens",
                policy.max_length
            ),
        });
    }
    if let Truncation::KeepStartAndEnd { start } = policy.truncation
        && start > policy.max_length - added
    {
        return Err(TokenizerError::InvalidConfig {
            field: "truncation",
            message: format!(
                "keeps {start} tokens from the start but only {} fit",
                policy.max_length - added
            ),
        });
    }
    Ok(policy.max_length - added)
}
