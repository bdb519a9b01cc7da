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
    /// Labels instead of classes: each of the `num_classes` outputs is an independent yes/no
    /// logit (sigmoid), trained with binary cross-entropy against [`Targets::Labels`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multi_label: bool,
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
            multi_label: false,
        }
    }

    /// A multi-label head: `num_labels` independent yes/no outputs.
    pub fn multi_label(input_dim: usize, num_labels: usize) -> Self {
        Self {
            multi_label: true,
            ..Self::new(input_dim, num_labels)
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

/// Pooling → dropout → (hidden ReLU layer → dropout) → class logits (or one logit per label).
#[derive(Module, Debug)]
pub struct PooledClassifier {
    hidden: Option<Linear>,
    output: Linear,
    dropout: Dropout,
    #[module(skip)]
    pooling: Pooling,
    input_dim: usize,
    num_classes: usize,
    multi_label: bool,
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
            Targets::Labels(labels) => binary_cross_entropy_with_logits(output, labels),
            Targets::Values(values) => {
                panic!(
                    "a classifier is trained on classes or labels, got values of shape {:?}",
                    values.dims()
                )
            }
        }
    }

    fn task(&self) -> Task {
        if self.multi_label {
            Task::MultiLabel {
                num_labels: self.num_classes,
            }
        } else {
            Task::Classification {
                num_classes: self.num_classes,
            }
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
            multi_label: self.multi_label,
        }
    }

    fn from_config(
        config: &PooledClassifierConfig,
        device: &Device,
    ) -> Result<Self, PredictorError> {
        check(config.input_dim > 0, "input_dim", || {
            "must be at least 1".into()
        })?;
        let least = if config.multi_label { 1 } else { 2 };
        check(config.num_classes >= least, "num_classes", || {
            format!(
                "{} classes: a classifier needs at least {least}",
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
            multi_label: config.multi_label,
        })
    }
}

/// Mean over every element of the binary cross-entropy of `sigmoid(logits)` against `labels`
/// (0 or 1), computed stably: `max(x, 0) - x * y + ln(1 + e^-|x|)`.
fn binary_cross_entropy_with_logits(logits: Tensor<2>, labels: Tensor<2>) -> Tensor<1> {
    let softplus_part = logits.clone().abs().neg().exp().log1p();
    (logits.clone().clamp_min(0.0) - logits * labels + softplus_part).mean()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_cross_entropy_matches_its_definition_and_stays_finite() {
        let device = Device::flex();
        let logits = [[2.0f32, -1.0, 0.0], [-3.0, 0.5, 80.0]];
        let labels = [[1.0f32, 0.0, 1.0], [1.0, 1.0, 0.0]];
        let loss = binary_cross_entropy_with_logits(
            Tensor::from_data(logits, &device),
            Tensor::from_data(labels, &device),
        )
        .into_scalar::<f32>();
        let mut expected = 0.0f64;
        for (row, labels) in logits.iter().zip(&labels) {
            for (&x, &y) in row.iter().zip(labels) {
                let p = 1.0 / (1.0 + (-f64::from(x)).exp());
                // 1 - p underflows at x = 80; its log is -x there.
                let log_not_p = if x > 30.0 {
                    -f64::from(x)
                } else {
                    (1.0 - p).ln()
                };
                expected -= f64::from(y) * p.ln() + (1.0 - f64::from(y)) * log_not_p;
            }
        }
        expected /= 6.0;
        assert!(
            (f64::from(loss) - expected).abs() < 1e-5,
            "{loss} against {expected}"
        );
    }

    #[test]
    fn a_multi_label_head_reports_its_labels_and_keeps_them_through_its_config() {
        let device = Device::flex();
        let head =
            PooledClassifier::from_config(&PooledClassifierConfig::multi_label(8, 3), &device)
                .unwrap();
        assert_eq!(head.task(), Task::MultiLabel { num_labels: 3 });
        let again = PooledClassifier::from_config(&head.config(), &device).unwrap();
        assert_eq!(again.task(), Task::MultiLabel { num_labels: 3 });
        let single = PooledClassifierConfig::new(8, 1);
        assert!(PooledClassifier::from_config(&single, &device).is_err());
        assert!(
            PooledClassifier::from_config(&PooledClassifierConfig::multi_label(8, 1), &device)
                .is_ok()
        );
    }
}
