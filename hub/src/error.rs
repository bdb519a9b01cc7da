use std::path::PathBuf;

/// What went wrong finding or fetching a model; each names the model, file or URL.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("{text:?} is not a Hub model id ({reason}): expected ORG/NAME[@REVISION]")]
    InvalidId { text: String, reason: &'static str },
    #[error(
        "{id} (revision {revision}) is not in the Hugging Face cache {cache}: {missing}; \
         fetch it with `transfer fetch --hub {id}@{revision}` (or pass --download)"
    )]
    NotCached {
        id: String,
        revision: String,
        cache: PathBuf,
        missing: String,
    },
    #[error("{url}: the Hub answered {status}: {id} is gated or private; {hint}")]
    Unauthorized {
        id: String,
        url: String,
        status: u16,
        hint: &'static str,
    },
    #[error("{url}: not found (404): {what}")]
    NotFound { url: String, what: String },
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error(
        "{file}: checksum mismatch: got {got}, expected {expected} (as its publisher reports); the partial file was removed"
    )]
    Checksum {
        file: String,
        expected: String,
        got: String,
    },
    #[error("{id}@{revision}: {message}")]
    Model {
        id: String,
        revision: String,
        message: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Format { path: String, message: String },
}

impl HubError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = HubError> = std::result::Result<T, E>;
