use std::path::{Path, PathBuf};

use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::{AddedToken, Tokenizer as Inner};

use crate::bert_wordpiece::BertWordPiece;
use crate::{Encoding, SpecialTokens, Tokenizer, TokenizerError};

/// A Hugging Face tokenizer (WordPiece, BPE, Unigram, …) through the `tokenizers` crate.
///
/// The truncation and padding stored in `tokenizer.json` are ignored: the
/// [`EncodePolicy`](crate::EncodePolicy) given to [`Tokenizer::encode_batch`] decides. Special
/// tokens are found by name (`[CLS]`/`<s>`, `[SEP]`/`</s>`, `[PAD]`/`<pad>`, …).
///
/// A BERT WordPiece pipeline (`BertNormalizer`, `BertPreTokenizer`, `WordPiece`: BERT, MiniLM,
/// DistilBERT, …) is tokenized by a specialised path that gives the same ids and offsets as
/// `tokenizers`, several times faster on mostly-ASCII text.
#[derive(Debug, Clone)]
pub struct HfTokenizer {
    inner: Inner,
    fast: Option<BertWordPiece>,
    special: SpecialTokens,
    source: PathBuf,
}

const CANDIDATES: [(&str, [&str; 2]); 5] = [
    ("pad", ["[PAD]", "<pad>"]),
    ("unk", ["[UNK]", "<unk>"]),
    ("cls", ["[CLS]", "<s>"]),
    ("sep", ["[SEP]", "</s>"]),
    ("mask", ["[MASK]", "<mask>"]),
];

impl HfTokenizer {
    /// Loads a `tokenizer.json`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, TokenizerError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| TokenizerError::io(path, e))?;
        let inner = Inner::from_bytes(&bytes).map_err(|e| TokenizerError::Format {
            path: path.into(),
            message: e.to_string(),
        })?;
        Self::from_inner(inner, path)
    }

    /// Builds an uncased BERT WordPiece tokenizer from a `vocab.txt` (one token a line).
    pub fn from_bert_vocab(
        path: impl AsRef<Path>,
        lowercase: bool,
    ) -> Result<Self, TokenizerError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| TokenizerError::io(path, e))?;
        let mut vocab = std::collections::HashMap::new();
        for (id, token) in text.lines().enumerate() {
            if let Some(first) = vocab.insert(token.to_string(), id as u32) {
                return Err(TokenizerError::DuplicateToken {
                    path: path.into(),
                    token: token.into(),
                    first,
                    second: id as u32,
                });
            }
        }
        if !vocab.contains_key("[UNK]") {
            return Err(TokenizerError::MissingSpecialToken {
                path: path.into(),
                token: "[UNK]".into(),
            });
        }
        let utf8_path = path.to_str().ok_or_else(|| TokenizerError::Format {
            path: path.into(),
            message: "the path is not valid UTF-8".into(),
        })?;
        let model = WordPiece::from_file(utf8_path)
            .unk_token("[UNK]".into())
            .build()
            .map_err(|e| TokenizerError::Backend(e.to_string()))?;
        let mut inner = Inner::new(model);
        inner
            .with_normalizer(Some(BertNormalizer::new(true, true, None, lowercase)))
            .map_err(|e| TokenizerError::Backend(e.to_string()))?;
        inner.with_pre_tokenizer(Some(BertPreTokenizer));
        inner.with_decoder(Some(WordPieceDecoder::default()));
        let specials: Vec<AddedToken> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
            .iter()
            .filter(|t| inner.token_to_id(t).is_some())
            .map(|t| AddedToken::from(*t, true))
            .collect();
        inner
            .add_special_tokens(specials)
            .map_err(|e| TokenizerError::Backend(e.to_string()))?;
        Self::from_inner(inner, path)
    }

    /// Loads the tokenizer of a model directory in Hugging Face layout: `tokenizer.json`, or
    /// else `vocab.txt` (lowercased as `tokenizer_config.json` says, default true). The pad,
    /// unknown and mask tokens that `special_tokens_map.json` or `tokenizer_config.json` name
    /// take precedence over those found by name.
    pub fn from_pretrained_dir(dir: impl AsRef<Path>) -> Result<Self, TokenizerError> {
        let dir = dir.as_ref();
        let json = dir.join("tokenizer.json");
        if json.exists() {
            let mut tokenizer = Self::from_file(json)?;
            tokenizer.use_declared_specials(dir);
            return Ok(tokenizer);
        }
        let vocab = dir.join("vocab.txt");
        if vocab.exists() {
            let lowercase = std::fs::read(dir.join("tokenizer_config.json"))
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| v.get("do_lower_case").and_then(|l| l.as_bool()))
                .unwrap_or(true);
            return Self::from_bert_vocab(vocab, lowercase);
        }
        Err(TokenizerError::io(
            json,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no tokenizer.json nor vocab.txt in the model directory",
            ),
        ))
    }

    fn from_inner(mut inner: Inner, path: &Path) -> Result<Self, TokenizerError> {
        let padding_pad = inner.get_padding().map(|p| p.pad_id);
        inner
            .with_truncation(None)
            .map_err(|e| TokenizerError::Backend(e.to_string()))?;
        inner.with_padding(None);
        let find = |names: &[&str; 2]| names.iter().find_map(|n| inner.token_to_id(n));
        let [pad, unk, mut cls, mut sep, mask] = CANDIDATES.map(|(_, names)| find(&names));
        if inner.get_post_processor().is_some() {
            (cls, sep) = template_ends(&inner);
        }
        // GPT-2's vocabulary has no pad token: its end-of-text token pads (padding is masked).
        let pad = padding_pad
            .or(pad)
            .or_else(|| inner.token_to_id("<|endoftext|>"))
            .ok_or_else(|| TokenizerError::MissingSpecialToken {
                path: path.into(),
                token: "[PAD] or <pad>".into(),
            })?;
        Ok(Self {
            fast: BertWordPiece::for_pipeline(&inner),
            special: SpecialTokens {
                pad,
                unk,
                cls,
                sep,
                mask,
            },
            inner,
            source: path.into(),
        })
    }

    /// Takes the pad, unknown and mask tokens that `special_tokens_map.json` (else
    /// `tokenizer_config.json`) in `dir` declare, where they are in the vocabulary.
    fn use_declared_specials(&mut self, dir: &Path) {
        for file in ["tokenizer_config.json", "special_tokens_map.json"] {
            let Some(json) = std::fs::read(dir.join(file))
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            else {
                continue;
            };
            let declared = |key: &str| {
                let value = json.get(key)?;
                let token = value.as_str().or_else(|| value.get("content")?.as_str())?;
                self.inner.token_to_id(token)
            };
            if let Some(pad) = declared("pad_token") {
                self.special.pad = pad;
            }
            self.special.unk = declared("unk_token").or(self.special.unk);
            self.special.mask = declared("mask_token").or(self.special.mask);
        }
    }

    /// The file this tokenizer was read from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Tokenizes through the `tokenizers` pipeline, never the specialised BERT path
    /// ([`Tokenizer::tokenize`] gives the same encoding).
    pub fn tokenize_with_pipeline(&self, text: &str) -> Encoding {
        match self.inner.encode(text, false) {
            Ok(e) => Encoding {
                ids: e.get_ids().to_vec(),
                offsets: e.get_offsets().to_vec(),
            },
            // The `tokenizers` pipeline only fails on misconfiguration, which loading checks.
            Err(_) => Encoding::default(),
        }
    }

    /// Whether this tokenizer takes the specialised BERT WordPiece path.
    pub fn is_bert_wordpiece(&self) -> bool {
        self.fast.is_some()
    }

    /// The wrapped `tokenizers` tokenizer.
    pub fn inner(&self) -> &Inner {
        &self.inner
    }
}

/// The special tokens the post-processor puts before and after a text (`[CLS]`/`<s>` and
/// `[SEP]`/`</s>`), read from the encoding of an empty one; none for GPT-2's.
fn template_ends(inner: &Inner) -> (Option<u32>, Option<u32>) {
    let Ok(encoding) = inner.encode("", true) else {
        return (None, None);
    };
    let specials: Vec<u32> = encoding
        .get_ids()
        .iter()
        .zip(encoding.get_special_tokens_mask())
        .filter(|&(_, &special)| special == 1)
        .map(|(&id, _)| id)
        .collect();
    match specials[..] {
        [] => (None, None),
        [sep] => (None, Some(sep)),
        [cls, .., sep] => (Some(cls), Some(sep)),
    }
}

impl Tokenizer for HfTokenizer {
    fn tokenize(&self, text: &str) -> Encoding {
        match &self.fast {
            Some(fast) => fast.tokenize(text, |piece| self.tokenize_with_pipeline(piece)),
            None => self.tokenize_with_pipeline(text),
        }
    }

    fn special_tokens(&self) -> SpecialTokens {
        self.special
    }

    fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    fn decode(&self, ids: &[u32]) -> String {
        self.inner.decode(ids, true).unwrap_or_default()
    }

    fn save(&self, path: &Path) -> Result<(), TokenizerError> {
        self.inner
            .save(path, false)
            .map_err(|e| TokenizerError::Backend(format!("{}: {e}", path.display())))
    }

    fn load(path: &Path) -> Result<Self, TokenizerError> {
        Self::from_file(path)
    }
}
