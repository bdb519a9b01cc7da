//! [`TrainConfig`]: how a pipeline trains, and the reports of what it did.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::checkpoint::CheckpointConfig;
use super::schedule::LrSchedule;
use crate::error::{Result, TransferError};
use crate::metrics::Metrics;
use crate::stages::Stage;

/// How [`TransferPipeline::train`] trains: AdamW with a learning-rate schedule, per-stage
/// learning rates, gradual unfreezing, gradient clipping and early stopping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    /// The peak learning rate of every stage without its own in `stage_learning_rates`.
    pub learning_rate: f64,
    /// Per-stage peak learning rates (discriminative fine-tuning).
    #[serde(default)]
    pub stage_learning_rates: BTreeMap<Stage, f64>,
    pub schedule: LrSchedule,
    /// AdamW's decoupled weight decay.
    pub weight_decay: f64,
    /// Clip the global gradient norm to this.
    #[serde(default)]
    pub max_grad_norm: Option<f64>,
    /// ULMFiT's gradual unfreezing: the first epoch trains only the predictor, the second
    /// adds the contextual embedder, the third the token embedder. Frozen stages stay frozen.
    #[serde(default)]
    pub gradual_unfreezing: bool,
    /// Share of the training examples held out for validation (stratified), when no
    /// validation set is given.
    #[serde(default)]
    pub validation_fraction: f64,
    /// Stop after this many epochs without a better validation score, and keep the best
    /// weights.
    #[serde(default)]
    pub early_stopping_patience: Option<usize>,
    /// Keep the weights of the best validation epoch rather than the last (early stopping
    /// always does). Needs validation data.
    #[serde(default)]
    pub keep_best: bool,
    /// Train for more epochs if needed to take at least this many optimizer steps.
    #[serde(default)]
    pub min_steps: usize,
    /// Decides the validation split, the batch order, dropout and the fresh weights not yet
    /// drawn (burn draws a parameter at its first use).
    pub seed: u64,
    /// Show a progress bar and a line per epoch on stderr.
    #[serde(default)]
    pub progress: bool,
    /// Save a checkpoint every so many steps, and resume from it when training restarts.
    #[serde(default)]
    pub checkpoint: Option<CheckpointConfig>,
    /// Stop after this many optimizer steps in all (a time budget), keeping the checkpoint
    /// so that a later call resumes where this one stopped.
    #[serde(default)]
    pub stop_after_steps: Option<usize>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 3,
            batch_size: 32,
            learning_rate: 1e-3,
            stage_learning_rates: BTreeMap::new(),
            schedule: LrSchedule::WarmupLinearDecay {
                warmup_fraction: 0.1,
            },
            weight_decay: 0.01,
            max_grad_norm: Some(1.0),
            gradual_unfreezing: false,
            validation_fraction: 0.0,
            early_stopping_patience: None,
            keep_best: false,
            min_steps: 0,
            seed: 42,
            progress: false,
            checkpoint: None,
            stop_after_steps: None,
        }
    }
}

impl TrainConfig {
    /// ULMFiT's discriminative learning rates over the stages: the predictor gets
    /// `learning_rate`, each stage below it `factor` times less (2.6 in the paper).
    pub fn with_discriminative_rates(mut self, factor: f64) -> Self {
        let lr = self.learning_rate;
        self.stage_learning_rates = BTreeMap::from([
            (Stage::Predictor, lr),
            (Stage::Contextual, lr / factor),
            (Stage::Embedder, lr / (factor * factor)),
        ]);
        self
    }

    /// The peak learning rate of `stage`.
    pub fn learning_rate_of(&self, stage: Stage) -> f64 {
        self.stage_learning_rates
            .get(&stage)
            .copied()
            .unwrap_or(self.learning_rate)
    }

    /// Checks every field, naming the first bad one ([`TransferError::InvalidConfig`]).
    pub fn validate(&self) -> Result<()> {
        let invalid = |field, message: String| Err(TransferError::InvalidConfig { field, message });
        if self.epochs == 0 && self.min_steps == 0 {
            return invalid(
                "epochs",
                "0 epochs and 0 min_steps: nothing to train".into(),
            );
        }
        if self.batch_size == 0 {
            return invalid("batch_size", "must be at least 1".into());
        }
        for (stage, lr) in std::iter::once((None, self.learning_rate)).chain(
            self.stage_learning_rates
                .iter()
                .map(|(s, lr)| (Some(*s), *lr)),
        ) {
            if !(lr.is_finite() && lr >= 0.0) {
                let what = stage.map_or("learning_rate".to_string(), |s| {
                    format!("{} learning rate", s.name())
                });
                return invalid(
                    "learning_rate",
                    format!("{what} {lr} is not a finite, non-negative number"),
                );
            }
        }
        if !(0.0..1.0).contains(&self.validation_fraction) {
            return invalid(
                "validation_fraction",
                format!("{} is not in [0, 1)", self.validation_fraction),
            );
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return invalid(
                "weight_decay",
                format!("{} is not a non-negative number", self.weight_decay),
            );
        }
        if let Some(norm) = self.max_grad_norm
            && !(norm.is_finite() && norm > 0.0)
        {
            return invalid("max_grad_norm", format!("{norm} is not a positive number"));
        }
        self.schedule.validate().or_else(|m| invalid("schedule", m))
    }
}

/// What happened in one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    pub epoch: usize,
    /// Mean training loss over the epoch's steps.
    pub train_loss: f64,
    pub validation: Option<Metrics>,
    /// The stages that were trained.
    pub trained: Vec<Stage>,
    pub seconds: f64,
}

/// What [`TransferPipeline::train`] did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    pub epochs: Vec<EpochReport>,
    /// The epoch whose weights were kept (early stopping), if validation ran.
    pub best_epoch: Option<usize>,
    pub steps: usize,
    pub seconds: f64,
    /// Training stopped at `stop_after_steps` before its end (resume it with the checkpoint).
    #[serde(default)]
    pub stopped_early: bool,
}

/// One line for the log: the epoch, its loss and time, and the validation metrics.
pub(crate) fn describe(report: &EpochReport) -> String {
    let mut line = format!(
        "epoch {}: train loss {:.4} ({:.1}s, trained {:?})",
        report.epoch + 1,
        report.train_loss,
        report.seconds,
        report.trained
    );
    if let Some(m) = &report.validation {
        line.push_str(&format!(", validation loss {:.4}", m.loss));
        if let Some(acc) = m.accuracy {
            line.push_str(&format!(" accuracy {:.2}%", acc * 100.0));
        }
    }
    line
}
