use burn::module::Module;
use burn::nn::loss::{MseLoss, Reduction};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::check;
use crate::{Pooling, Predictor, PredictorError, Targets, Task, pool};

/// Shape of a [`PooledRegressor`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PooledRegressorConfig {
    pub input_dim: usize,
    /// How many values to predict per text.
    #[serde(default = "one")]
    pub outputs: usize,
    #[serde(default)]
    pub pooling: Pooling,
    #[serde(default)]
    pub dropout: f64,
}

fn one() -> usize {
    1
}

impl PooledRegressorConfig {
    /// One value from mean-pooled states.
    pub fn new(input_dim: usize) -> Self {
        Self {
            input_dim,
            outputs: 1,
            pooling: Pooling::Mean,
            dropout: 0.0,
        }
    }

    pub fn with_pooling(mut self, pooling: Pooling) -> Self {
        self.pooling = pooling;
        self
    }
}

/// Pooling → dropout → linear → real values, trained with mean squared error (for example
/// a review's star rating).
#[derive(Module, Debug)]
pub struct PooledRegressor {
    output: Linear,
    dropout: Dropout,
    #[module(skip)]
    pooling: Pooling,
    input_dim: usize,
}

impl Predictor for PooledRegressor {
    type Config = PooledRegressorConfig;

    fn forward(&self, states: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<2> {
        self.output
            .forward(self.dropout.forward(pool(states, mask, self.pooling)))
    }

    fn loss(&self, output: Tensor<2>, targets: Targets) -> Tensor<1> {
        match targets {
            Targets::Values(values) => MseLoss::new().forward(output, values, Reduction::Mean),
            Targets::Classes(classes) => {
                panic!(
                    "a regressor is trained on values, got classes of shape {:?}",
                    classes.dims()
                )
            }
        }
    }

    fn task(&self) -> Task {
        Task::Regression {
            outputs: self.output.weight.lazy_shape().dims::<2>()[1],
        }
    }

    fn input_dim(&self) -> usize {
        self.input_dim
    }

    fn config(&self) -> PooledRegressorConfig {
        PooledRegressorConfig {
            input_dim: self.input_dim,
            outputs: self.output.weight.lazy_shape().dims::<2>()[1],
            pooling: self.pooling,
            dropout: self.dropout.prob,
        }
    }

    fn from_config(
        config: &PooledRegressorConfig,
        device: &Device,
    ) -> Result<Self, PredictorError> {
        check(config.input_dim > 0, "input_dim", || {
            "must be at least 1".into()
        })?;
        check(config.outputs > 0, "outputs", || {
            "must be at least 1".into()
        })?;
        check(
            config.dropout.is_finite() && (0.0..1.0).contains(&config.dropout),
            "dropout",
            || format!("{} is not in [0, 1)", config.dropout),
        )?;
        Ok(Self {
            output: LinearConfig::new(config.pooling.output_dim(config.input_dim), config.outputs)
                .init(device),
            dropout: DropoutConfig::new(config.dropout).init(),
            pooling: config.pooling,
            input_dim: config.input_dim,
        })
    }
}
