//! Stage 4 of a transfer-learning pipeline: contextual vectors → the task's output.
//!
//! A [`Predictor`] is a Burn module mapping states `[batch, seq, dim]` and the mask of real
//! positions to outputs `[batch, outputs]`, and outputs plus [`Targets`] to a loss:
//!
//! - [`PooledClassifier`]: [`Pooling`] (mean, max, first token, last token, or ULMFiT's
//!   concatenation of last, max and mean) → dropout → optional hidden layer → class logits,
//!   trained with cross-entropy; or, with `multi_label`, one independent yes/no logit per
//!   label, trained with binary cross-entropy (several labels per text).
//! - [`PooledRegressor`]: the same pooling → real values, trained with mean squared error,
//!   optionally on standardised targets ([`TargetScaling`]).
//!
//! ```
//! use burn::prelude::*;
//! use transfer_predictor::{PooledClassifier, PooledClassifierConfig, Pooling, Predictor, Targets};
//!
//! let device = Device::flex();
//! let config = PooledClassifierConfig::new(16, 2).with_pooling(Pooling::Concat);
//! let head = PooledClassifier::from_config(&config, &device).unwrap();
//! let states = Tensor::<3>::ones([3, 7, 16], &device);
//! let mask = Tensor::<2, Bool>::from_data([[true; 7]; 3], &device);
//! let logits = head.forward(states, mask);
//! assert_eq!(logits.dims(), [3, 2]);
//! let labels = Tensor::<1, Int>::from_data([0, 1, 1], &device);
//! let loss = head.loss(logits, Targets::Classes(labels));
//! assert!(loss.into_scalar::<f32>() > 0.0);
//! ```

mod any;
mod classifier;
mod error;
mod pooling;
mod regressor;

use burn::module::{Module, ModuleDisplay};
use burn::prelude::*;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

pub use any::{AnyPredictor, AnyPredictorConfig};
pub use classifier::{PooledClassifier, PooledClassifierConfig};
pub use error::PredictorError;
pub use pooling::{Pooling, pool};
pub use regressor::{PooledRegressor, PooledRegressorConfig, TargetScaling};

/// What a predictor is trained against.
#[derive(Debug, Clone)]
pub enum Targets {
    /// One class index per example, `[batch]`.
    Classes(Tensor<1, Int>),
    /// Real values, `[batch, outputs]`.
    Values(Tensor<2>),
    /// Multi-hot labels, `[batch, labels]`: 1.0 where a label applies, 0.0 where not.
    Labels(Tensor<2>),
}

/// The kind of output a predictor produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Logits over `num_classes` classes.
    Classification { num_classes: usize },
    /// `outputs` real values.
    Regression { outputs: usize },
    /// One logit per label; a text may have any number of the `num_labels` labels.
    MultiLabel { num_labels: usize },
}

/// Contextual states → the task's output, as a Burn module.
pub trait Predictor: Module + ModuleDisplay + Sized {
    /// Everything needed to rebuild the module (without its weights), saved as JSON.
    type Config: Serialize + DeserializeOwned + Clone + std::fmt::Debug + Send + Sync;

    /// `[batch, seq, input_dim]` and the mask of real positions `[batch, seq]` →
    /// `[batch, outputs]` (logits for classification).
    fn forward(&self, states: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<2>;

    /// Mean loss of `output` against `targets`, `[1]`.
    fn loss(&self, output: Tensor<2>, targets: Targets) -> Tensor<1>;

    fn task(&self) -> Task;

    fn input_dim(&self) -> usize;

    fn config(&self) -> Self::Config;

    /// A freshly initialised module of this shape.
    fn from_config(config: &Self::Config, device: &Device) -> Result<Self, PredictorError>;
}
