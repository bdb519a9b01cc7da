use std::path::PathBuf;

use transfer_contextual::ContextualError;
use transfer_embedder::EmbedderError;
use transfer_predictor::PredictorError;
use transfer_tokenizer::TokenizerError;

/// Everything that can go wrong composing, training, saving or loading a pipeline.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("tokenizer: {0}")]
    Tokenizer(#[from] TokenizerError),
    #[error("token embedder: {0}")]
    Embedder(#[from] EmbedderError),
    #[error("contextual embedder: {0}")]
    Contextual(#[from] ContextualError),
    #[error("predictor: {0}")]
    Predictor(#[from] PredictorError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}: weights do not match the model: {message}")]
    Weights { path: PathBuf, message: String },
    #[error("stages do not fit together: {0}")]
    StageMismatch(String),
    #[error("invalid {field}: {message}")]
    InvalidConfig {
        field: &'static str,
        message: String,
    },
    #[error("{what} is empty")]
    EmptyDataset { what: &'static str },
    #[error("{what}[{index}]: the text is empty")]
    EmptyText { what: &'static str, index: usize },
    #[error("{what}[{index}]: {message}")]
    BadTarget {
        what: &'static str,
        index: usize,
        message: String,
    },
    #[error("asked for {requested} examples of {what} but only {available} are available")]
    NotEnoughExamples {
        what: String,
        requested: usize,
        available: usize,
    },
    #[error(
        "the loss became {value} at epoch {epoch}, step {step} (learning rate {learning_rate:e}): \
         lower the learning rate or clip gradients"
    )]
    NonFiniteLoss {
        epoch: usize,
        step: usize,
        value: f32,
        learning_rate: f64,
    },
    #[error(
        "{path} is missing: fetch it with `{fetch}` (into $TRANSFER_ASSETS, or the default asset directory when it is unset)"
    )]
    MissingAsset { path: PathBuf, fetch: String },
    /// A model named by its Hub id that is not in the cache, or a download that failed.
    #[error("{0}")]
    Hub(#[from] transfer_hub::HubError),
    #[error("device {0:?}: {1}")]
    Device(String, String),
}

impl TransferError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// `path` is not in the expected format.
    pub fn format(path: impl Into<PathBuf>, message: impl ToString) -> Self {
        Self::Format {
            path: path.into(),
            message: message.to_string(),
        }
    }
}

pub type Result<T, E = TransferError> = std::result::Result<T, E>;
