//! [`TransferPipeline::train`]: a pipeline's fine-tuning, epoch by epoch, on [`Trainer`]'s
//! steps: gradual unfreezing, per-stage learning rates, validation, early stopping,
//! checkpoints to resume from and a step budget.

use std::collections::BTreeSet;
use std::time::Instant;

use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Gradients;
use transfer_contextual::ContextualEmbedder;
use transfer_embedder::TokenEmbedder;
use transfer_predictor::{Predictor, Task};
use transfer_tokenizer::Tokenizer;

use super::checkpoint::{self as resume, CheckpointConfig, ResumeState};
use super::config::{EpochReport, TrainConfig, TrainReport, describe};
use super::trainer::{Trainer, TrainerParts};
use crate::data::rng::SplitMix64;
use crate::data::{Example, split_validation};
use crate::error::{Result, TransferError};
use crate::pipeline::{Batch, TransferPipeline, check_examples, targets_tensor};
use crate::runtime::overlap::{TRAIN_BATCHES_AHEAD, read_ahead};
use crate::stages::{SetFrozen, Stage, Stages};

/// A training run in progress: the trainer and what a checkpoint saves besides the weights.
struct Run<E, C, P> {
    trainer: Trainer,
    /// The data-order generator.
    rng: SplitMix64,
    reports: Vec<EpochReport>,
    /// The best validation score so far, its epoch and its weights.
    best: Option<(f64, usize, Stages<E, C, P>)>,
    first_epoch: usize,
    /// Steps of `first_epoch` already done, and the sum of their losses.
    skip: usize,
    carried_loss: f64,
    earlier_seconds: f64,
    started: Instant,
    fingerprint: String,
}

impl<E: TokenEmbedder, C: ContextualEmbedder, P: Predictor> Run<E, C, P> {
    fn seconds(&self) -> f64 {
        self.earlier_seconds + self.started.elapsed().as_secs_f64()
    }

    /// The position after `step_in_epoch` steps of `epoch`, whose data order `epoch_rng` drew.
    fn state(
        &self,
        epoch: usize,
        step_in_epoch: usize,
        epoch_rng: u64,
        loss_sum: f64,
    ) -> ResumeState {
        ResumeState {
            fingerprint: self.fingerprint.clone(),
            step: self.trainer.steps(),
            epoch,
            step_in_epoch,
            epoch_rng,
            loss_sum,
            reports: self.reports.clone(),
            best: self.best.as_ref().map(|(s, e, _)| (*s, *e)),
            seconds: self.seconds(),
            ..ResumeState::default()
        }
    }

    fn save(
        &self,
        checkpoint: &CheckpointConfig,
        state: ResumeState,
        model: &Stages<E, C, P>,
    ) -> Result<()> {
        let best = self.best.as_ref().map(|b| &b.2);
        resume::save(
            &checkpoint.dir,
            state,
            model,
            self.trainer.optimizer(),
            best,
        )
    }

    /// Records the epoch's validation `score`; whether training should stop early.
    fn observe(
        &mut self,
        score: f64,
        epoch: usize,
        stages: &Stages<E, C, P>,
        patience: Option<usize>,
    ) -> bool {
        if self.best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            self.best = Some((score, epoch, stages.clone()));
            return false;
        }
        match (patience, &self.best) {
            (Some(patience), Some((_, best_epoch, _))) => epoch - best_epoch >= patience,
            _ => false,
        }
    }
}

/// The tokenized training data and what each step needs of it.
struct EpochData<'a> {
    train: &'a [Example],
    encoded: Vec<Vec<u32>>,
    pad: u32,
    epochs: usize,
    trainable: Vec<Stage>,
}

impl<T, E, C, P> TransferPipeline<T, E, C, P>
where
    T: Tokenizer,
    E: TokenEmbedder,
    C: ContextualEmbedder,
    P: Predictor,
{
    /// Trains the stages that are not frozen on `examples`, holding out
    /// `config.validation_fraction` of them for validation.
    pub fn train(&mut self, examples: &[Example], config: &TrainConfig) -> Result<TrainReport> {
        let (train, validation) =
            split_validation(examples, config.validation_fraction, config.seed);
        let validation = (!validation.is_empty()).then_some(validation.as_slice());
        self.train_with_validation(&train, validation, config)
    }

    /// Trains on `train`, validating on `validation` after every epoch when given.
    pub fn train_with_validation(
        &mut self,
        train: &[Example],
        validation: Option<&[Example]>,
        config: &TrainConfig,
    ) -> Result<TrainReport> {
        config.validate()?;
        // Fresh weights are drawn lazily, at their first use: from here on, from `config.seed`.
        self.device.seed(config.seed);
        let trainable = self.check_training(train, validation)?;
        let started = Instant::now();
        let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
        let encoded = self.encode_all(&texts)?;
        let steps_per_epoch = train.len().div_ceil(config.batch_size);
        let epochs = config
            .epochs
            .max(config.min_steps.div_ceil(steps_per_epoch));
        let data = EpochData {
            train,
            encoded,
            pad: self.tokenizer.special_tokens().pad,
            epochs,
            trainable,
        };
        let mut run = Run {
            trainer: Trainer::new(TrainerParts {
                learning_rate: config.learning_rate,
                schedule: config.schedule,
                weight_decay: config.weight_decay,
                max_grad_norm: config.max_grad_norm,
                total_steps: epochs * steps_per_epoch,
                progress: config.progress,
                label: "train",
            }),
            rng: SplitMix64::new(config.seed),
            reports: Vec::with_capacity(epochs),
            best: None,
            first_epoch: 0,
            skip: 0,
            carried_loss: 0.0,
            earlier_seconds: 0.0,
            started,
            fingerprint: fingerprint(config, train, validation),
        };
        let mut model = self.stages.clone().train();
        if let Some(checkpoint) = &config.checkpoint
            && let Some(resumed) = self.resume(&mut run, checkpoint, config.weight_decay)?
        {
            model = resumed.train();
        }
        let stopped = self.train_epochs(model, &mut run, &data, validation, config)?;
        if stopped {
            run.trainer.bar().abandon();
            return Ok(TrainReport {
                seconds: run.seconds(),
                steps: run.trainer.steps(),
                epochs: run.reports,
                best_epoch: None,
                stopped_early: true,
            });
        }
        run.trainer.bar().finish_and_clear();
        self.finish(run, &data.trainable, config)
    }

    /// The trainable stages, once the examples are checked against the task.
    fn check_training(
        &self,
        train: &[Example],
        validation: Option<&[Example]>,
    ) -> Result<Vec<Stage>> {
        let task = self.task();
        check_examples("training examples", train, task)?;
        if let Some(v) = validation {
            check_examples("validation examples", v, task)?;
        }
        let trainable: Vec<Stage> = Stage::ALL
            .into_iter()
            .filter(|s| !self.is_frozen(*s))
            .collect();
        if trainable.is_empty() {
            return Err(TransferError::InvalidConfig {
                field: "frozen",
                message: "every stage is frozen: nothing to train".into(),
            });
        }
        Ok(trainable)
    }

    /// Loads `checkpoint` into `run` when it holds one of this run; the weights it saved.
    fn resume(
        &self,
        run: &mut Run<E, C, P>,
        checkpoint: &CheckpointConfig,
        weight_decay: f64,
    ) -> Result<Option<Stages<E, C, P>>> {
        let mut plain = self.stages.clone();
        let mut best_model = Some(self.stages.clone());
        let fresh = transfer_kernels::adamw(weight_decay);
        let (state, optimizer) = resume::load(
            &checkpoint.dir,
            &run.fingerprint,
            &mut plain,
            fresh,
            &mut best_model,
        )?;
        let Some(state) = state else {
            return Ok(None);
        };
        run.trainer.resume(state.step, optimizer);
        run.rng = SplitMix64::new(state.epoch_rng);
        run.first_epoch = state.epoch;
        run.skip = state.step_in_epoch;
        run.carried_loss = state.loss_sum;
        run.earlier_seconds = state.seconds;
        run.reports = state.reports;
        run.best = state
            .best
            .zip(best_model)
            .map(|((score, epoch), m)| (score, epoch, m));
        Ok(Some(plain))
    }

    /// The epochs from `run.first_epoch` on; true when `stop_after_steps` stopped them.
    fn train_epochs(
        &mut self,
        mut model: Stages<E, C, P>,
        run: &mut Run<E, C, P>,
        data: &EpochData,
        validation: Option<&[Example]>,
        config: &TrainConfig,
    ) -> Result<bool> {
        let mut active: BTreeSet<Stage> = data.trainable.iter().copied().collect();
        for epoch in run.first_epoch..data.epochs {
            let epoch_start = Instant::now();
            let wanted = trained_in_epoch(&data.trainable, epoch, config.gradual_unfreezing);
            for stage in Stage::ALL {
                if data.trainable.contains(&stage)
                    && wanted.contains(&stage) != active.contains(&stage)
                {
                    model = model.map_stage(stage, SetFrozen(!wanted.contains(&stage)));
                }
            }
            active = wanted;
            let (trained, loss_sum, stopped) =
                self.train_epoch(model, run, data, epoch, &active, config)?;
            model = trained;
            self.stages = model.valid();
            if stopped {
                return Ok(true);
            }
            let report = EpochReport {
                epoch,
                train_loss: loss_sum,
                validation: None,
                trained: active.iter().copied().collect(),
                seconds: epoch_start.elapsed().as_secs_f64(),
            };
            if self.end_epoch(run, report, validation, data.epochs, config)? {
                break;
            }
        }
        Ok(false)
    }

    /// One epoch's steps (from `run.skip` on): the model, the mean training loss, and whether
    /// `stop_after_steps` stopped it.
    fn train_epoch(
        &self,
        mut model: Stages<E, C, P>,
        run: &mut Run<E, C, P>,
        data: &EpochData,
        epoch: usize,
        active: &BTreeSet<Stage>,
        config: &TrainConfig,
    ) -> Result<(Stages<E, C, P>, f64, bool)> {
        let device = self.device.clone().autodiff();
        let task = self.task();
        let epoch_rng = run.rng.state();
        let batches = shuffled_batches(&data.encoded, config.batch_size, &mut run.rng);
        let mut loss_sum = std::mem::take(&mut run.carried_loss);
        let record = |read: Vec<(usize, f32)>, trainer: &Trainer| {
            if let Some((_, value)) = read.last() {
                trainer
                    .bar()
                    .set_message(format!("epoch {} loss {value:.4}", epoch + 1));
            }
            read.iter().map(|&(_, v)| f64::from(v)).sum::<f64>()
        };
        let uploaded = read_ahead(
            batches
                .iter()
                .enumerate()
                .skip(std::mem::take(&mut run.skip)),
            TRAIN_BATCHES_AHEAD,
            |(index, batch)| {
                let rows: Vec<&[u32]> = batch.iter().map(|&i| data.encoded[i].as_slice()).collect();
                let examples: Vec<&Example> = batch.iter().map(|&i| &data.train[i]).collect();
                let targets = targets_tensor(&examples, task, &device);
                (index, Batch::new(&rows, data.pad, &device), targets)
            },
        );
        for (index, batch, targets) in uploaded {
            // Dropout draws from a generator seeded by the step: a resumed run draws the same.
            let step = run.trainer.steps() as u64;
            device.seed(config.seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let output = model.forward_batch(batch);
            let loss = model.predictor.loss(output, targets);
            let groups = |m: &Stages<E, C, P>, grads| stage_gradients(m, grads, active, config);
            let read;
            (model, read) = run.trainer.step(model, loss, epoch, groups)?;
            loss_sum += record(read, &run.trainer);
            let steps = run.trainer.steps();
            if let Some(checkpoint) = &config.checkpoint
                && steps.is_multiple_of(checkpoint.every_steps.max(1))
                && index + 1 < batches.len()
            {
                loss_sum += record(run.trainer.flush()?, &run.trainer);
                let state = run.state(epoch, index + 1, epoch_rng, loss_sum);
                run.save(checkpoint, state, &model.valid())?;
            }
            if config.stop_after_steps == Some(steps) && steps < run.trainer.total_steps() {
                loss_sum += record(run.trainer.flush()?, &run.trainer);
                return Ok((model, loss_sum, true));
            }
        }
        loss_sum += record(run.trainer.flush()?, &run.trainer);
        Ok((model, loss_sum / batches.len().max(1) as f64, false))
    }

    /// After an epoch: validation, the best weights, a checkpoint; whether to stop early.
    fn end_epoch(
        &mut self,
        run: &mut Run<E, C, P>,
        mut report: EpochReport,
        validation: Option<&[Example]>,
        epochs: usize,
        config: &TrainConfig,
    ) -> Result<bool> {
        let epoch = report.epoch;
        report.validation = match validation {
            Some(v) => Some(self.evaluate(v)?),
            None => None,
        };
        if config.progress {
            run.trainer
                .bar()
                .suspend(|| eprintln!("{}", describe(&report)));
        }
        let score = report.validation.as_ref().map(|metrics| match self.task() {
            Task::Classification { .. } => metrics.accuracy.unwrap_or(0.0),
            Task::MultiLabel { .. } => metrics.multi_label.as_ref().map_or(0.0, |m| m.micro_f1),
            Task::Regression { .. } => -metrics.loss,
        });
        run.reports.push(report);
        let stop = score.is_some_and(|score| {
            run.observe(score, epoch, &self.stages, config.early_stopping_patience)
        });
        if let Some(checkpoint) = &config.checkpoint
            && epoch + 1 < epochs
            && !stop
        {
            let state = run.state(epoch + 1, 0, run.rng.state(), 0.0);
            run.save(checkpoint, state, &self.stages)?;
        }
        Ok(stop)
    }

    /// The report, once the best weights are restored (early stopping) and every trainable
    /// stage is trainable again (gradual unfreezing held some back).
    fn finish(
        &mut self,
        run: Run<E, C, P>,
        trainable: &[Stage],
        config: &TrainConfig,
    ) -> Result<TrainReport> {
        let seconds = run.seconds();
        let best_epoch = run.best.as_ref().map(|(_, e, _)| *e);
        if let Some((_, _, stages)) = run
            .best
            .filter(|_| config.keep_best || config.early_stopping_patience.is_some())
        {
            self.stages = stages;
        }
        for &stage in trainable {
            self.stages = self.stages.clone().map_stage(stage, SetFrozen(false));
        }
        if let Some(checkpoint) = &config.checkpoint {
            resume::clear(&checkpoint.dir)?;
        }
        Ok(TrainReport {
            epochs: run.reports,
            best_epoch,
            steps: run.trainer.steps(),
            seconds,
            stopped_early: false,
        })
    }
}

/// The gradients of each stage in `active`, with that stage's peak learning rate.
fn stage_gradients<E: Module, C: Module, P: Module>(
    model: &Stages<E, C, P>,
    mut grads: Gradients,
    active: &BTreeSet<Stage>,
    config: &TrainConfig,
) -> Vec<(f64, GradientsParams)> {
    active
        .iter()
        .map(|&stage| {
            let g = match stage {
                Stage::Embedder => GradientsParams::from_module(&mut grads, &model.embedder),
                Stage::Contextual => GradientsParams::from_module(&mut grads, &model.contextual),
                Stage::Predictor => GradientsParams::from_module(&mut grads, &model.predictor),
            };
            (config.learning_rate_of(stage), g)
        })
        .collect()
}
/// Identifies a training run: the config (without display or checkpoint settings) and the
/// data, so that a checkpoint is never resumed with anything else.
fn fingerprint(config: &TrainConfig, train: &[Example], validation: Option<&[Example]>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    let mut stable = config.clone();
    stable.progress = false;
    stable.checkpoint = None;
    stable.stop_after_steps = None;
    feed(&serde_json::to_vec(&stable).unwrap_or_default());
    for e in train.iter().chain(validation.into_iter().flatten()) {
        feed(e.text.as_bytes());
        feed(&serde_json::to_vec(&e.target).unwrap_or_default());
    }
    format!("{hash:016x}-{}", train.len())
}

/// The stages trained in `epoch`: all of `trainable`, or with gradual unfreezing the top
/// `epoch + 1` of them (predictor first).
fn trained_in_epoch(trainable: &[Stage], epoch: usize, gradual: bool) -> BTreeSet<Stage> {
    let mut stages: Vec<Stage> = trainable.to_vec();
    if gradual {
        stages.sort_by(|a, b| b.cmp(a));
        stages.truncate(epoch + 1);
    }
    stages.into_iter().collect()
}

/// One epoch's batches: a random order, sorted by length within windows of 50 batches so
/// that each batch pads little, then the batches shuffled.
fn shuffled_batches(
    encoded: &[Vec<u32>],
    batch_size: usize,
    rng: &mut SplitMix64,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..encoded.len()).collect();
    rng.shuffle(&mut order);
    let mut batches = Vec::with_capacity(encoded.len().div_ceil(batch_size));
    for window in order.chunks_mut(batch_size * 50) {
        window.sort_by_key(|&i| encoded[i].len());
        batches.extend(window.chunks(batch_size).map(<[usize]>::to_vec));
    }
    rng.shuffle(&mut batches);
    batches
}
