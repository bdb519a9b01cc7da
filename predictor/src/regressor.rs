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
    /// Learn standardised targets: the layer predicts `(y - mean) / std` and the loss is
    /// taken there, while [`forward`](Predictor::forward) returns values in the targets' units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<TargetScaling>,
}

fn one() -> usize {
    1
}

/// Each output's mean and standard deviation on the training targets.
///
/// ```
/// use transfer_predictor::TargetScaling;
/// let s = TargetScaling::of(&[vec![1.0], vec![3.0]]).unwrap();
/// assert_eq!((s.mean[0], s.std[0]), (2.0, 1.0));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetScaling {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl TargetScaling {
    /// The mean and (population) standard deviation of each column of `targets`, rows of
    /// equal length; a constant column gets a deviation of 1. `None` without rows.
    pub fn of(targets: &[Vec<f32>]) -> Option<Self> {
        let width = targets.first()?.len();
        let n = targets.len() as f64;
        let column = |j: usize| targets.iter().map(move |t| f64::from(t[j]));
        let mean: Vec<f64> = (0..width).map(|j| column(j).sum::<f64>() / n).collect();
        let std = (0..width)
            .map(|j| {
                let variance = column(j).map(|v| (v - mean[j]).powi(2)).sum::<f64>() / n;
                if variance > 0.0 {
                    variance.sqrt() as f32
                } else {
                    1.0
                }
            })
            .collect();
        Some(Self {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        })
    }

    fn tensors(&self, device: &Device) -> (Tensor<2>, Tensor<2>) {
        let row = |v: &[f32]| Tensor::<1>::from_floats(v, device).unsqueeze::<2>();
        (row(&self.mean), row(&self.std))
    }
}

impl PooledRegressorConfig {
    /// One value from mean-pooled states.
    pub fn new(input_dim: usize) -> Self {
        Self {
            input_dim,
            outputs: 1,
            pooling: Pooling::Mean,
            dropout: 0.0,
            scaling: None,
        }
    }

    /// Learns the targets standardised by `scaling` (one mean and deviation per output).
    pub fn with_scaling(mut self, scaling: Option<TargetScaling>) -> Self {
        self.scaling = scaling;
        self
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
    #[module(skip)]
    scaling: Option<TargetScaling>,
    input_dim: usize,
}

impl PooledRegressor {
    /// The layer's output: standardised values when the targets are scaled.
    fn standardised(&self, states: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<2> {
        self.output
            .forward(self.dropout.forward(pool(states, mask, self.pooling)))
    }
}

impl Predictor for PooledRegressor {
    type Config = PooledRegressorConfig;

    fn forward(&self, states: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<2> {
        let output = self.standardised(states, mask);
        match &self.scaling {
            Some(scaling) => {
                let (mean, std) = scaling.tensors(&output.device());
                output * std + mean
            }
            None => output,
        }
    }

    /// Mean squared error, in standardised units when the targets are scaled.
    fn loss(&self, output: Tensor<2>, targets: Targets) -> Tensor<1> {
        let Targets::Values(values) = targets else {
            panic!("a regressor is trained on values, got {targets:?}")
        };
        match &self.scaling {
            Some(scaling) => {
                let (_, std) = scaling.tensors(&output.device());
                let error = (output - values) / std;
                (error.clone() * error).mean()
            }
            None => MseLoss::new().forward(output, values, Reduction::Mean),
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
            scaling: self.scaling.clone(),
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
        if let Some(scaling) = &config.scaling {
            let (m, s) = (scaling.mean.len(), scaling.std.len());
            check(
                m == config.outputs && s == config.outputs,
                "scaling",
                || {
                    format!(
                        "{m} means and {s} deviations for {} outputs",
                        config.outputs
                    )
                },
            )?;
            check(
                scaling.mean.iter().all(|m| m.is_finite())
                    && scaling.std.iter().all(|s| s.is_finite() && *s > 0.0),
                "scaling",
                || "means must be finite and deviations finite and positive".into(),
            )?;
        }
        Ok(Self {
            output: LinearConfig::new(config.pooling.output_dim(config.input_dim), config.outputs)
                .init(device),
            dropout: DropoutConfig::new(config.dropout).init(),
            pooling: config.pooling,
            scaling: config.scaling.clone(),
            input_dim: config.input_dim,
        })
    }
}
