//! [`Trainer`]: the optimizer loop every training here shares (a pipeline's fine-tuning, the
//! LSTM language model, the masked LM): each step backpropagates a loss, splits the gradients
//! into groups with their own peak learning rates, clips their global norm, steps AdamW at the
//! schedule's rate, and queues the loss to be read a chunk of steps at a time (see
//! `runtime::overlap`), with a progress bar.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::Gradients;
use indicatif::ProgressBar;
use transfer_kernels::clip_global_norm;

use crate::error::Result;
use crate::runtime::overlap::QueuedLosses;
use crate::runtime::progress;
use crate::training::LrSchedule;

/// The parts a [`Trainer`] is built from.
pub(crate) struct TrainerParts {
    /// The peak learning rate a non-finite loss is reported with.
    pub learning_rate: f64,
    pub schedule: LrSchedule,
    pub weight_decay: f64,
    pub max_grad_norm: Option<f64>,
    /// Steps in the whole run: the schedule's length and the progress bar's.
    pub total_steps: usize,
    pub progress: bool,
    /// The progress bar's label.
    pub label: &'static str,
}

/// Steps a model: AdamW, a schedule, clipping, losses read a chunk at a time, a progress bar.
pub(crate) struct Trainer {
    optimizer: ModuleOptimizer,
    learning_rate: f64,
    schedule: LrSchedule,
    max_grad_norm: Option<f64>,
    total_steps: usize,
    step: usize,
    losses: QueuedLosses,
    bar: ProgressBar,
}

impl Trainer {
    pub(crate) fn new(parts: TrainerParts) -> Self {
        Self {
            optimizer: transfer_kernels::adamw(parts.weight_decay),
            learning_rate: parts.learning_rate,
            schedule: parts.schedule,
            max_grad_norm: parts.max_grad_norm,
            total_steps: parts.total_steps,
            step: 0,
            losses: QueuedLosses::default(),
            bar: progress::bar(parts.total_steps as u64, parts.progress, parts.label),
        }
    }

    /// Continues from a checkpoint: `step` steps done, with `optimizer`'s state.
    pub(crate) fn resume(&mut self, step: usize, optimizer: ModuleOptimizer) {
        self.step = step;
        self.optimizer = optimizer;
        self.bar.set_position(step as u64);
    }

    /// Optimizer steps done.
    pub(crate) fn steps(&self) -> usize {
        self.step
    }

    pub(crate) fn total_steps(&self) -> usize {
        self.total_steps
    }

    pub(crate) fn optimizer(&self) -> &ModuleOptimizer {
        &self.optimizer
    }

    pub(crate) fn bar(&self) -> &ProgressBar {
        &self.bar
    }

    /// One step of `model` on `loss` (of `epoch`): `groups` splits the gradients into sets,
    /// each with its peak learning rate; all are clipped together, then each is stepped at
    /// its rate times the schedule's factor. Returns the model and the losses read, if this
    /// step filled a chunk, as `(step, value)`; a loss that is not finite is an error.
    pub(crate) fn step<M: Module>(
        &mut self,
        model: M,
        loss: Tensor<1>,
        epoch: usize,
        groups: impl FnOnce(&M, Gradients) -> Vec<(f64, GradientsParams)>,
    ) -> Result<(M, Vec<(usize, f32)>)> {
        let factor = self.schedule.factor(self.step, self.total_steps);
        let queued = loss.clone().detach();
        let (rates, mut grads): (Vec<f64>, Vec<GradientsParams>) =
            groups(&model, loss.backward()).into_iter().unzip();
        if let Some(max_norm) = self.max_grad_norm {
            clip_global_norm(&model, &mut grads, max_norm);
        }
        let mut model = model;
        for (rate, g) in rates.into_iter().zip(grads) {
            model = self.optimizer.step(rate * factor, model, g);
        }
        let lr = self.learning_rate * factor;
        let read = self.losses.push(queued, epoch, self.step, lr);
        self.step += 1;
        self.bar.inc(1);
        Ok((model, read.inspect_err(|_| self.bar.abandon())?))
    }

    /// Reads the losses still queued.
    pub(crate) fn flush(&mut self) -> Result<Vec<(usize, f32)>> {
        self.losses.flush().inspect_err(|_| self.bar.abandon())
    }
}

/// [`Trainer::step`]'s `groups` for a model trained whole at `learning_rate`.
pub(crate) fn whole<M: Module>(
    learning_rate: f64,
) -> impl FnOnce(&M, Gradients) -> Vec<(f64, GradientsParams)> {
    move |model, grads| vec![(learning_rate, GradientsParams::from_grads(grads, model))]
}
