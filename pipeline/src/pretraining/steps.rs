//! The loop the transformer pretraining objectives share: a fixed number of steps over
//! batches of encoded texts drawn in a seeded random order, reshuffled after each pass.

use std::time::Instant;

use burn::module::Module;
use burn::prelude::*;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use crate::data::rng::SplitMix64;
use crate::error::Result;
use crate::runtime::overlap::{TRAIN_BATCHES_AHEAD, read_ahead};
use crate::training::LrSchedule;
use crate::training::trainer::{Trainer, TrainerParts, whole};

/// What a masked- or causal-LM training run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PretrainingReport {
    pub steps: usize,
    /// Texts read (with repetition when the steps outrun the corpus).
    pub texts: usize,
    /// Mean loss (nats per predicted token) of the first and the last tenth of the steps.
    pub first_loss: f64,
    pub last_loss: f64,
    pub seconds: f64,
}

/// The optimiser's settings and how many steps of how many texts.
pub(super) struct Steps {
    pub steps: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub schedule: LrSchedule,
    pub weight_decay: f64,
    pub max_grad_norm: f64,
    pub seed: u64,
    pub progress: bool,
    pub label: &'static str,
}

/// Trains `model` for `steps.steps` steps: each step `batch` makes a batch of
/// `steps.batch_size` of the `encoded` texts (a step ahead, while the model trains on the
/// last one) and `loss` scores the model on it.
pub(super) fn train_steps<M: Module, B>(
    model: M,
    encoded: &[Vec<u32>],
    steps: &Steps,
    mut batch: impl FnMut(&[&[u32]], &mut SplitMix64) -> B,
    loss: impl Fn(&M, B) -> Tensor<1>,
) -> Result<(M, PretrainingReport)> {
    let started = Instant::now();
    let mut rng = SplitMix64::new(steps.seed);
    let mut order: Vec<usize> = (0..encoded.len()).collect();
    rng.shuffle(&mut order);
    let mut next = 0;
    let mut model = model.train();
    let batch_size = steps.batch_size.clamp(1, encoded.len().max(1));
    let mut trainer = Trainer::new(TrainerParts {
        learning_rate: steps.learning_rate,
        schedule: steps.schedule,
        weight_decay: steps.weight_decay,
        max_grad_norm: Some(steps.max_grad_norm),
        total_steps: steps.steps,
        progress: steps.progress,
        label: steps.label,
    });
    let tenth = steps.steps.div_ceil(10).max(1);
    let (mut first, mut last) = (Vec::new(), Vec::new());
    let mut record = |read: Vec<(usize, f32)>, bar: &ProgressBar| {
        for (step, value) in read {
            if step < tenth {
                first.push(f64::from(value));
            }
            if step + tenth >= steps.steps {
                last.push(f64::from(value));
            }
            bar.set_message(format!("loss {value:.3}"));
        }
    };
    let batches = read_ahead(0..steps.steps, TRAIN_BATCHES_AHEAD, |_| {
        let mut rows: Vec<&[u32]> = Vec::with_capacity(batch_size);
        while rows.len() < batch_size {
            if next == order.len() {
                rng.shuffle(&mut order);
                next = 0;
            }
            rows.push(&encoded[order[next]]);
            next += 1;
        }
        batch(&rows, &mut rng)
    });
    for b in batches {
        let value = loss(&model, b);
        let read;
        (model, read) = trainer.step(model, value, 0, whole(steps.learning_rate))?;
        record(read, trainer.bar());
    }
    record(trainer.flush()?, trainer.bar());
    trainer.bar().finish_and_clear();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    Ok((
        model.valid(),
        PretrainingReport {
            steps: steps.steps,
            texts: steps.steps * batch_size,
            first_loss: mean(&first),
            last_loss: mean(&last),
            seconds: started.elapsed().as_secs_f64(),
        },
    ))
}
