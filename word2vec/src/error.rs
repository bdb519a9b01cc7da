use std::path::PathBuf;

/// What went wrong building a vocabulary, training, or reading and writing vectors.
#[derive(Debug, thiserror::Error)]
pub enum Word2VecError {
    /// The corpus held no token at all (or, while training, none in some epoch: a corpus
    /// must stream its sentences again each epoch).
    #[error("the corpus is empty: it has no tokens")]
    EmptyCorpus,
    /// Every word occurred fewer than `min_count` times.
    #[error(
        "min_count {min_count} removed every word: none of the corpus's {distinct} distinct \
         words occurs {min_count} times or more"
    )]
    EmptyVocabulary { min_count: u64, distinct: usize },
    /// A setting of [`crate::Word2VecConfig`] is out of range.
    #[error("{word:?} is not in the vocabulary")]
    UnknownWord { word: String },
    #[error("bad setting {field} = {value}: {reason}")]
    BadSetting {
        field: &'static str,
        value: String,
        reason: &'static str,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A vectors or evaluation file is malformed; `line` counts from 1.
    #[error("{path}:{line}: {message}")]
    Format {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// This crate's result.
pub type Result<T> = std::result::Result<T, Word2VecError>;

impl Word2VecError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn format(
        path: impl Into<PathBuf>,
        line: usize,
        message: impl Into<String>,
    ) -> Self {
        Self::Format {
            path: path.into(),
            line,
            message: message.into(),
        }
    }

    pub(crate) fn bad(field: &'static str, value: impl ToString, reason: &'static str) -> Self {
        Self::BadSetting {
            field,
            value: value.to_string(),
            reason,
        }
    }
}
