use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use crate::error::check;
use crate::{Pooling, Predictor, PredictorError, Targets, Task, pool};

/// Shape of a [`PooledClassifier`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PooledClassifierConfig {
    /// Size of the contextual states.
    pub input_dim: usize,
    pub num_classes: usize,
    #[serde(default)]
    pub pooling: Pooling,
    /// A hidden ReLU layer of this size (an MLP head); none for a linear head.
    #[serde(default)]
    pub hidden_dim: Option<usize>,
    /// Dropout on the pooled vector (and after the hidden layer), in [0, 1).
    #[serde(default)]
    pub dropout: f64,
}

impl PooledClassifierConfig {
    /// A linear head over mean-pooled states, without dropout.
    pub fn new(input_dim: usize, num_classes: usize) -> Self {
        Self {
            input_dim,
            num_classes,
            pooling: Pooling::Mean,
            hidden_dim: None,
            dropout: 0.0,
        }
    }

    pub fn with_pooling(mut self, pooling: Pooling) -> Self {
        self.pooling = pooling;
        self
    }

    pub fn with_hidden_dim(mut self, hidden_dim: Option<usize>) -> Self {
        self.hidden_dim = hidden_dim;
        self
    }

    pub fn with_dropout(mut self, dropout: f64) -> Self {
        self.dropout = dropout;
        self
    }
}

/// Pooling → dropout → (hidden ReLU layer → dropout) → class logits.
#[derive(Module, Debug)]
pub struct PooledClassifier {
    hidden: Option<Linear>,
    output: Linear,
    dropout: Dropout,
    #[module(skip)]
    pooling: Pooling,
    input_dim: usize,
    num_classes: usize,
}

impl Predictor for PooledClassifier {
    type Config = PooledClassifierConfig;

    fn forward(&self, states: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<2> {
        let mut x = self.dropout.forward(pool(states, mask, self.pooling));
        if let Some(hidden) = &self.hidden {
            x = self.dropout.forward(relu(hidden.forward(x)));
        }
        self.output.forward(x)
    }

    fn loss(&self, output: Tensor<2>, targets: Targets) -> Tensor<1> {
        match targets {
            Targets::Classes(classes) => CrossEntropyLossConfig::new()
                .init(&output.device())
                .forward(output, classes),
            Targets::Values(values) => {
                panic!(
                    "a classifier is trained on classes, got values of shape {:?}",
                    values.dims()
                )
            }
        }
    }

    fn task(&self) -> Task {
        Task::Classification {
            num_classes: self.num_classes,
        }
    }

    fn input_dim(&self) -> usize {
        self.input_dim
    }

    fn config(&self) -> PooledClassifierConfig {
        PooledClassifierConfig {
            input_dim: self.input_dim,
            num_classes: self.num_classes,
            pooling: self.pooling,
            hidden_dim: self
                .hidden
                .as_ref()
                .map(|h| h.weight.lazy_shape().dims::<2>()[1]),
            dropout: self.dropout.prob,
        }
    }

    fn from_config(
        config: &PooledClassifierConfig,
        device: &Device,
    ) -> Result<Self, PredictorError> {
        check(config.input_dim > 0, "input_dim", || {
            "must be at least 1".into()
        })?;
        check(config.num_classes >= 2, "num_classes", || {
            format!(
                "{} classes: a classifier needs at least 2",
                config.num_classes
            )
        })?;
        check(config.hidden_dim != Some(0), "hidden_dim", || {
            "must be at least 1".into()
        })?;
        check(
            config.dropout.is_finite() && (0.0..1.0).contains(&config.dropout),
            "dropout",
            || format!("{} is not in [0, 1)", config.dropout),
        )?;
        let pooled = config.pooling.output_dim(config.input_dim);
        let hidden = config
            .hidden_dim
            .map(|h| LinearConfig::new(pooled, h).init(device));
        let output =
            LinearConfig::new(config.hidden_dim.unwrap_or(pooled), config.num_classes).init(device);
        Ok(Self {
            hidden,
            output,
            dropout: DropoutConfig::new(config.dropout).init(),
            pooling: config.pooling,
            input_dim: config.input_dim,
            num_classes: config.num_classes,
        })
    }
}
