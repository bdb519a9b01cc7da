use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use burn::optim::GradientsParams;
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use transfer_contextual::ContextualEmbedder;
use transfer_embedder::TokenEmbedder;
use transfer_predictor::{Predictor, Task};
use transfer_tokenizer::Tokenizer;

use crate::clip::clip_global_norm;
use crate::data::{Example, split_validation};
use crate::error::{Result, TransferError};
use crate::metrics::Metrics;
use crate::overlap::{QueuedLosses, TRAIN_BATCHES_AHEAD, read_ahead};
use crate::pipeline::{Batch, TransferPipeline, check_examples, targets_tensor};
use crate::progress;
use crate::resume::{self, CheckpointConfig, ResumeState};
use crate::rng::SplitMix64;
use crate::schedule::LrSchedule;
use crate::stages::{SetFrozen, Stage, Stages};

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

    fn validate(&self) -> Result<()> {
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

        let started = Instant::now();
        let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
        let encoded = self.encode_all(&texts)?;
        let pad = self.tokenizer.special_tokens().pad;
        let steps_per_epoch = train.len().div_ceil(config.batch_size);
        let epochs = config
            .epochs
            .max(config.min_steps.div_ceil(steps_per_epoch));
        let total_steps = epochs * steps_per_epoch;

        let device = self.device.clone().autodiff();
        let mut model = self.stages.clone().train();
        let mut optimizer = crate::adamw(config.weight_decay);
        let mut rng = SplitMix64::new(config.seed);
        let mut reports = Vec::with_capacity(epochs);
        let mut best: Option<(f64, usize, Stages<E, C, P>)> = None;
        let (mut step, mut first_epoch, mut skip, mut carried_loss, mut earlier_seconds) =
            (0, 0, 0, 0.0, 0.0);

        let fingerprint = fingerprint(config, train, validation);
        if let Some(checkpoint) = &config.checkpoint {
            let mut plain = self.stages.clone();
            let mut best_model = Some(self.stages.clone());
            let (state, loaded) = resume::load(
                &checkpoint.dir,
                &fingerprint,
                &mut plain,
                optimizer,
                &mut best_model,
            )?;
            optimizer = loaded;
            if let Some(state) = state {
                model = plain.train();
                rng = SplitMix64::new(state.epoch_rng);
                step = state.step;
                first_epoch = state.epoch;
                skip = state.step_in_epoch;
                carried_loss = state.loss_sum;
                earlier_seconds = state.seconds;
                reports = state.reports;
                best = state
                    .best
                    .zip(best_model)
                    .map(|((score, epoch), m)| (score, epoch, m));
            }
        }
        let bar = progress::bar(total_steps as u64, config.progress, "train");
        bar.set_position(step as u64);

        let mut active: BTreeSet<Stage> = trainable.iter().copied().collect();
        for epoch in first_epoch..epochs {
            let epoch_start = Instant::now();
            let wanted = trained_in_epoch(&trainable, epoch, config.gradual_unfreezing);
            for stage in Stage::ALL {
                if trainable.contains(&stage) && wanted.contains(&stage) != active.contains(&stage)
                {
                    model = model.map_stage(stage, SetFrozen(!wanted.contains(&stage)));
                }
            }
            active = wanted;

            let epoch_rng = rng.state();
            let batches = shuffled_batches(&encoded, config.batch_size, &mut rng);
            let mut loss_sum = std::mem::take(&mut carried_loss);
            let uploaded = read_ahead(
                batches.iter().enumerate().skip(std::mem::take(&mut skip)),
                TRAIN_BATCHES_AHEAD,
                |(index, batch)| {
                    let rows: Vec<&[u32]> = batch.iter().map(|&i| encoded[i].as_slice()).collect();
                    let examples: Vec<&Example> = batch.iter().map(|&i| &train[i]).collect();
                    let targets = targets_tensor(&examples, &device);
                    (index, Batch::new(&rows, pad, &device), targets)
                },
            );
            let mut losses = QueuedLosses::default();
            let record = |read: Result<Vec<(usize, f32)>>, loss_sum: &mut f64| {
                let read = read.inspect_err(|_| bar.abandon())?;
                *loss_sum += read.iter().map(|&(_, v)| f64::from(v)).sum::<f64>();
                if let Some((_, value)) = read.last() {
                    bar.set_message(format!("epoch {} loss {value:.4}", epoch + 1));
                }
                Ok::<_, TransferError>(())
            };
            for (index, batch, targets) in uploaded {
                // Dropout draws from a generator seeded by the step: a resumed run draws the same.
                device.seed(config.seed ^ (step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let output = model.forward_batch(batch);
                let loss = model.predictor.loss(output, targets);
                let factor = config.schedule.factor(step, total_steps);
                let loss_value = loss.clone().detach();

                let mut grads = loss.backward();
                let mut stage_grads: Vec<(Stage, GradientsParams)> = active
                    .iter()
                    .map(|&stage| {
                        let g = match stage {
                            Stage::Embedder => {
                                GradientsParams::from_module(&mut grads, &model.embedder)
                            }
                            Stage::Contextual => {
                                GradientsParams::from_module(&mut grads, &model.contextual)
                            }
                            Stage::Predictor => {
                                GradientsParams::from_module(&mut grads, &model.predictor)
                            }
                        };
                        (stage, g)
                    })
                    .collect();
                if let Some(max_norm) = config.max_grad_norm {
                    clip_global_norm(&model, &mut stage_grads, max_norm);
                }
                for (stage, g) in stage_grads {
                    model = optimizer.step(config.learning_rate_of(stage) * factor, model, g);
                }
                // Losses are read a chunk of steps at a time (see `overlap`).
                let lr = config.learning_rate * factor;
                record(losses.push(loss_value, epoch, step, lr), &mut loss_sum)?;
                step += 1;
                bar.inc(1);

                if let Some(checkpoint) = &config.checkpoint
                    && step % checkpoint.every_steps.max(1) == 0
                    && index + 1 < batches.len()
                {
                    record(losses.flush(), &mut loss_sum)?;
                    let state = ResumeState {
                        fingerprint: fingerprint.clone(),
                        step,
                        epoch,
                        step_in_epoch: index + 1,
                        epoch_rng,
                        loss_sum,
                        reports: reports.clone(),
                        best: best.as_ref().map(|(s, e, _)| (*s, *e)),
                        seconds: earlier_seconds + started.elapsed().as_secs_f64(),
                        ..ResumeState::default()
                    };
                    resume::save(
                        &checkpoint.dir,
                        state,
                        &model.valid(),
                        &optimizer,
                        best.as_ref().map(|b| &b.2),
                    )?;
                }
                if config.stop_after_steps == Some(step) && step < total_steps {
                    record(losses.flush(), &mut loss_sum)?;
                    bar.abandon();
                    self.stages = model.valid();
                    return Ok(TrainReport {
                        epochs: reports,
                        best_epoch: None,
                        steps: step,
                        seconds: earlier_seconds + started.elapsed().as_secs_f64(),
                        stopped_early: true,
                    });
                }
            }
            record(losses.flush(), &mut loss_sum)?;

            self.stages = model.valid();
            let validation_metrics = match validation {
                Some(v) => Some(self.evaluate(v)?),
                None => None,
            };
            let report = EpochReport {
                epoch,
                train_loss: loss_sum / batches.len().max(1) as f64,
                validation: validation_metrics.clone(),
                trained: active.iter().copied().collect(),
                seconds: epoch_start.elapsed().as_secs_f64(),
            };
            if config.progress {
                bar.suspend(|| eprintln!("{}", describe(&report)));
            }
            reports.push(report);

            let mut stop = false;
            if let Some(metrics) = validation_metrics {
                let score = match task {
                    Task::Classification { .. } => metrics.accuracy.unwrap_or(0.0),
                    Task::Regression { .. } => -metrics.loss,
                };
                if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                    best = Some((score, epoch, self.stages.clone()));
                } else if let (Some(patience), Some((_, best_epoch, _))) =
                    (config.early_stopping_patience, &best)
                {
                    stop = epoch - best_epoch >= patience;
                }
            }
            if let Some(checkpoint) = &config.checkpoint
                && epoch + 1 < epochs
                && !stop
            {
                let state = ResumeState {
                    fingerprint: fingerprint.clone(),
                    step,
                    epoch: epoch + 1,
                    step_in_epoch: 0,
                    epoch_rng: rng.state(),
                    loss_sum: 0.0,
                    reports: reports.clone(),
                    best: best.as_ref().map(|(s, e, _)| (*s, *e)),
                    seconds: earlier_seconds + started.elapsed().as_secs_f64(),
                    ..ResumeState::default()
                };
                resume::save(
                    &checkpoint.dir,
                    state,
                    &self.stages,
                    &optimizer,
                    best.as_ref().map(|b| &b.2),
                )?;
            }
            if stop {
                break;
            }
        }
        bar.finish_and_clear();

        let best_epoch = best.as_ref().map(|(_, e, _)| *e);
        if let Some((_, _, stages)) = best.filter(|_| config.early_stopping_patience.is_some()) {
            self.stages = stages;
        }
        // Stages held back by gradual unfreezing are trainable again afterwards.
        for stage in trainable {
            self.stages = self.stages.clone().map_stage(stage, SetFrozen(false));
        }
        if let Some(checkpoint) = &config.checkpoint {
            resume::clear(&checkpoint.dir)?;
        }
        Ok(TrainReport {
            epochs: reports,
            best_epoch,
            steps: step,
            seconds: earlier_seconds + started.elapsed().as_secs_f64(),
            stopped_early: false,
        })
    }
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

fn describe(report: &EpochReport) -> String {
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

/// One optimizer step of the whole `model` on the gradients of `loss`, their global L2 norm
/// clipped to `max_norm` (the language models' training loops).
pub(crate) fn clipped_step<M: Module>(
    model: M,
    optimizer: &mut burn::optim::ModuleOptimizer,
    loss: Tensor<1>,
    learning_rate: f64,
    max_norm: f64,
) -> M {
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let mut grads = [(Stage::Predictor, grads)];
    clip_global_norm(&model, &mut grads, max_norm);
    let [(_, grads)] = grads;
    optimizer.step(learning_rate, model, grads)
}
