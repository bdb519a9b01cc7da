//! A specialised path for BERT WordPiece pipelines (`BertNormalizer` → `BertPreTokenizer` →
//! `WordPiece`): the same ids and offsets as the `tokenizers` crate, without its per-character
//! alignment bookkeeping.
//!
//! The text is cut at ASCII whitespace, which is always a token boundary in this pipeline.
//! Pieces made only of printable ASCII are tokenized here (lowercased words, one token per
//! punctuation mark, greedy longest-match WordPiece); any other piece (accents, CJK, control
//! characters, an added token such as a literal `[SEP]`) goes through the `tokenizers`
//! pipeline on its own, its offsets shifted back into the text.

use std::collections::HashMap;

use tokenizers::models::ModelWrapper;
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{Model, Tokenizer as Inner};

use crate::Encoding;

#[derive(Debug, Clone)]
pub(crate) struct BertWordPiece {
    /// Every vocabulary entry (word starts).
    words: HashMap<Box<str>, u32>,
    /// Entries that start with the continuing-subword prefix, prefix removed.
    continuations: HashMap<Box<str>, u32>,
    /// Longest entry in bytes, prefix removed: no match can be longer.
    longest: usize,
    unk: u32,
    max_word_chars: usize,
    lowercase: bool,
    /// Added tokens (lowercased): a piece that may contain one takes the full pipeline.
    added: Vec<String>,
}

impl BertWordPiece {
    /// The fast path for `inner`, or `None` when its pipeline is not exactly BERT's.
    pub(crate) fn for_pipeline(inner: &Inner) -> Option<Self> {
        let Some(NormalizerWrapper::BertNormalizer(normalizer)) = inner.get_normalizer() else {
            return None;
        };
        if !matches!(
            inner.get_pre_tokenizer(),
            Some(PreTokenizerWrapper::BertPreTokenizer(_))
        ) {
            return None;
        }
        let ModelWrapper::WordPiece(model) = inner.get_model() else {
            return None;
        };
        let mut added = Vec::new();
        for token in inner.get_added_tokens_decoder().into_values() {
            let content = &token.content;
            if token.lstrip
                || token.rstrip
                || content.is_empty()
                || !content.bytes().all(|b| b.is_ascii_graphic())
            {
                return None;
            }
            added.push(content.to_ascii_lowercase());
        }
        let prefix = model.continuing_subword_prefix.as_str();
        let mut words = HashMap::new();
        let mut continuations = HashMap::new();
        let mut longest = 0;
        for (token, id) in model.get_vocab() {
            // With an empty prefix every entry also continues a word.
            if let Some(rest) = token.strip_prefix(prefix) {
                continuations.insert(rest.into(), id);
            }
            longest = longest.max(token.len());
            words.insert(token.into_boxed_str(), id);
        }
        let unk = *words.get(model.unk_token.as_str())?;
        Some(Self {
            words,
            continuations,
            longest,
            unk,
            max_word_chars: model.max_input_chars_per_word,
            lowercase: normalizer.lowercase,
            added,
        })
    }

    /// Tokenizes `text`; `full_pipeline` tokenizes the pieces this path does not handle.
    pub(crate) fn tokenize(
        &self,
        text: &str,
        full_pipeline: impl Fn(&str) -> Encoding,
    ) -> Encoding {
        let mut out = Encoding {
            ids: Vec::with_capacity(text.len() / 4),
            offsets: Vec::with_capacity(text.len() / 4),
        };
        let mut word = Vec::with_capacity(64);
        let bytes = text.as_bytes();
        let mut start = 0;
        while start < bytes.len() {
            if is_ascii_space(bytes[start]) {
                start += 1;
                continue;
            }
            let end = bytes[start..]
                .iter()
                .position(|&b| is_ascii_space(b))
                .map_or(bytes.len(), |p| start + p);
            let piece = &bytes[start..end];
            if piece.iter().all(u8::is_ascii_graphic) && !self.may_hold_added_token(piece) {
                self.tokenize_ascii(piece, start, &mut word, &mut out);
            } else {
                let encoded = full_pipeline(&text[start..end]);
                out.ids.extend(encoded.ids);
                out.offsets
                    .extend(encoded.offsets.iter().map(|&(s, e)| (s + start, e + start)));
            }
            start = end;
        }
        out
    }

    fn may_hold_added_token(&self, piece: &[u8]) -> bool {
        self.added.iter().any(|token| {
            piece
                .windows(token.len())
                .any(|w| w.eq_ignore_ascii_case(token.as_bytes()))
        })
    }

    /// A piece of printable ASCII at byte `at`: punctuation marks alone, alphanumeric runs as
    /// words.
    fn tokenize_ascii(&self, piece: &[u8], at: usize, word: &mut Vec<u8>, out: &mut Encoding) {
        let mut i = 0;
        while i < piece.len() {
            if piece[i].is_ascii_punctuation() {
                self.push_word(&piece[i..=i], at + i, word, out);
                i += 1;
                continue;
            }
            let end = piece[i..]
                .iter()
                .position(u8::is_ascii_punctuation)
                .map_or(piece.len(), |p| i + p);
            self.push_word(&piece[i..end], at + i, word, out);
            i = end;
        }
    }

    /// Greedy longest-match WordPiece over one ASCII word at byte `at`.
    fn push_word(&self, raw: &[u8], at: usize, word: &mut Vec<u8>, out: &mut Encoding) {
        if raw.len() > self.max_word_chars {
            out.ids.push(self.unk);
            out.offsets.push((at, at + raw.len()));
            return;
        }
        word.clear();
        word.extend_from_slice(raw);
        if self.lowercase {
            word.make_ascii_lowercase();
        }
        // ASCII bytes are valid UTF-8 on their own.
        let word = std::str::from_utf8(word).unwrap_or_default();
        let first = out.ids.len();
        let mut start = 0;
        while start < word.len() {
            let vocab = if start == 0 {
                &self.words
            } else {
                &self.continuations
            };
            let mut end = word.len().min(start + self.longest);
            let found = loop {
                if end == start {
                    break None;
                }
                if let Some(&id) = vocab.get(&word[start..end]) {
                    break Some(id);
                }
                end -= 1;
            };
            let Some(id) = found else {
                out.ids.truncate(first);
                out.offsets.truncate(first);
                out.ids.push(self.unk);
                out.offsets.push((at, at + word.len()));
                return;
            };
            out.ids.push(id);
            out.offsets.push((at + start, at + end));
            start = end;
        }
    }
}

/// The ASCII bytes that both `tokenizers`' BERT normalizer and pre-tokenizer treat as
/// whitespace (other ASCII control bytes are removed, not split on).
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}
