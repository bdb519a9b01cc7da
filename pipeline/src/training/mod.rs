//! Fine-tuning a pipeline: the configuration, the step loop every training here shares, the
//! classifier's epochs (validation, early stopping, gradual unfreezing), checkpoints to resume
//! from, learning-rate schedules and pseudo-labelling.

mod checkpoint;
mod config;
mod fit;
mod schedule;
pub mod self_training;
pub(crate) mod trainer;

pub use checkpoint::CheckpointConfig;
pub use config::{EpochReport, TrainConfig, TrainReport};
pub use schedule::LrSchedule;
