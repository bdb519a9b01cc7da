use std::path::Path;

use crate::word_level::WORD_LEVEL_KIND;
use crate::{Encoding, HfTokenizer, SpecialTokens, Tokenizer, TokenizerError, WordLevelTokenizer};

/// Either tokenizer of this crate, chosen when a saved pipeline is loaded.
#[derive(Debug, Clone)]
pub enum AnyTokenizer {
    WordLevel(WordLevelTokenizer),
    Hf(Box<HfTokenizer>),
}

impl From<WordLevelTokenizer> for AnyTokenizer {
    fn from(t: WordLevelTokenizer) -> Self {
        Self::WordLevel(t)
    }
}

impl From<HfTokenizer> for AnyTokenizer {
    fn from(t: HfTokenizer) -> Self {
        Self::Hf(Box::new(t))
    }
}

macro_rules! delegate {
    ($self:ident, $t:ident => $e:expr) => {
        match $self {
            AnyTokenizer::WordLevel($t) => $e,
            AnyTokenizer::Hf($t) => $e,
        }
    };
}

impl Tokenizer for AnyTokenizer {
    fn tokenize(&self, text: &str) -> Encoding {
        delegate!(self, t => t.tokenize(text))
    }

    fn special_tokens(&self) -> SpecialTokens {
        delegate!(self, t => t.special_tokens())
    }

    fn vocab_size(&self) -> usize {
        delegate!(self, t => t.vocab_size())
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        delegate!(self, t => t.token_to_id(token))
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        delegate!(self, t => t.id_to_token(id))
    }

    fn decode(&self, ids: &[u32]) -> String {
        delegate!(self, t => t.decode(ids))
    }

    fn save(&self, path: &Path) -> Result<(), TokenizerError> {
        delegate!(self, t => t.save(path))
    }

    /// Reads either format: a word-level file says `"type": "word_level"`.
    fn load(path: &Path) -> Result<Self, TokenizerError> {
        let bytes = std::fs::read(path).map_err(|e| TokenizerError::io(path, e))?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| TokenizerError::Format {
                path: path.into(),
                message: e.to_string(),
            })?;
        if value.get("type").and_then(|t| t.as_str()) == Some(WORD_LEVEL_KIND) {
            WordLevelTokenizer::load(path).map(Self::WordLevel)
        } else {
            HfTokenizer::from_file(path).map(Self::from)
        }
    }
}
