use std::path::PathBuf;

/// Everything that can go wrong building, loading or saving a tokenizer.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid tokenizer file: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}: the vocabulary has no token {token:?}, which this tokenizer needs")]
    MissingSpecialToken { path: PathBuf, token: String },
    #[error("{path}: token {token:?} appears twice in the vocabulary (ids {first} and {second})")]
    DuplicateToken {
        path: PathBuf,
        token: String,
        first: u32,
        second: u32,
    },
    #[error("cannot build a vocabulary from an empty corpus")]
    EmptyCorpus,
    #[error("invalid {field}: {message}")]
    InvalidConfig {
        field: &'static str,
        message: String,
    },
    #[error("tokenizers: {0}")]
    Backend(String),
}

impl TokenizerError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
