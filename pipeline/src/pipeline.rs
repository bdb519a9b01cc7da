use std::collections::BTreeSet;

use burn::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use transfer_contextual::ContextualEmbedder;
use transfer_embedder::TokenEmbedder;
use transfer_predictor::{Predictor, Targets, Task};
use transfer_tokenizer::{EncodePolicy, Tokenizer};

use crate::data::{Example, Target, check_texts};
use crate::error::{Result, TransferError};
use crate::metrics::{
    Metrics, best_threshold, class_report, classification_scores, multi_label_report,
    regression_scores,
};
use crate::runtime::overlap::{INFERENCE_BATCHES_AHEAD, read_ahead, read_inference_outputs};
use crate::stages::{SetFrozen, Stage, Stages};

/// A tokenizer, a token embedder, a contextual embedder and a predictor, composed.
///
/// Each stage with weights can be frozen (kept as it is) or fine-tuned on its own; see
/// [`TransferPipeline::train`] for training, [`TransferPipeline::save`] and
/// [`TransferPipeline::load`] for persistence.
#[derive(Debug)]
pub struct TransferPipeline<T, E, C, P> {
    pub(crate) tokenizer: T,
    pub(crate) stages: Stages<E, C, P>,
    pub(crate) labels: Vec<String>,
    /// Multi-label: the probability at which each label is predicted.
    pub(crate) thresholds: Vec<f32>,
    pub(crate) policy: EncodePolicy,
    pub(crate) frozen: BTreeSet<Stage>,
    pub(crate) device: Device,
    pub(crate) inference_batch_size: usize,
}

/// What the pipeline says about one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Prediction {
    Class(ClassPrediction),
    Labels(LabelsPrediction),
    Values { values: Vec<f32> },
}

/// A multi-label prediction: the labels whose probability reaches their threshold, and every
/// label's probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelsPrediction {
    pub labels: Vec<String>,
    pub probabilities: Vec<f32>,
}

/// A classification: the most probable class and every class's probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassPrediction {
    pub class: usize,
    pub label: String,
    pub probability: f32,
    pub probabilities: Vec<f32>,
}

impl Prediction {
    pub fn as_class(&self) -> Option<&ClassPrediction> {
        match self {
            Prediction::Class(c) => Some(c),
            Prediction::Labels(_) | Prediction::Values { .. } => None,
        }
    }
}

impl<T, E, C, P> TransferPipeline<T, E, C, P>
where
    T: Tokenizer,
    E: TokenEmbedder,
    C: ContextualEmbedder,
    P: Predictor,
{
    /// Composes four stages built on `device`, checking that they fit together: the
    /// tokenizer's ids fit the embedder's table, and each stage's output size is the next
    /// one's input size. Texts are cut at 256 tokens (or the embedder's limit) until
    /// [`with_encode_policy`](Self::with_encode_policy) says otherwise.
    pub fn new(
        tokenizer: T,
        embedder: E,
        contextual: C,
        predictor: P,
        device: &Device,
    ) -> Result<Self> {
        if tokenizer.vocab_size() > embedder.vocab_size() {
            return Err(TransferError::StageMismatch(format!(
                "the tokenizer has {} token ids but the embedder's table has {} rows",
                tokenizer.vocab_size(),
                embedder.vocab_size()
            )));
        }
        if embedder.dim() != contextual.input_dim() {
            return Err(TransferError::StageMismatch(format!(
                "the embedder makes {}-d vectors but the contextual embedder takes {}-d",
                embedder.dim(),
                contextual.input_dim()
            )));
        }
        if contextual.output_dim() != predictor.input_dim() {
            return Err(TransferError::StageMismatch(format!(
                "the contextual embedder makes {}-d states but the predictor takes {}-d",
                contextual.output_dim(),
                predictor.input_dim()
            )));
        }
        let policy = EncodePolicy::new(embedder.max_sequence_length().map_or(256, |m| m.min(256)));
        let (labels, thresholds) = match predictor.task() {
            Task::Classification { num_classes } => (
                (0..num_classes).map(|c| c.to_string()).collect(),
                Vec::new(),
            ),
            Task::MultiLabel { num_labels } => (
                (0..num_labels).map(|c| c.to_string()).collect(),
                vec![0.5; num_labels],
            ),
            Task::Regression { .. } => (Vec::new(), Vec::new()),
        };
        Ok(Self {
            tokenizer,
            stages: Stages {
                embedder,
                contextual,
                predictor,
            },
            labels,
            thresholds,
            policy,
            frozen: BTreeSet::new(),
            device: device.clone(),
            inference_batch_size: 64,
        })
    }

    /// Names the classes or labels (one each, in order; none for a regressor).
    pub fn with_labels<S: Into<String>>(
        mut self,
        labels: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        let labels: Vec<String> = labels.into_iter().map(Into::into).collect();
        match self.stages.predictor.task() {
            Task::Classification { num_classes: n } | Task::MultiLabel { num_labels: n }
                if labels.len() == n =>
            {
                self.labels = labels;
                Ok(self)
            }
            // A regressor has no classes to name (its saved manifest lists none).
            Task::Regression { .. } if labels.is_empty() => Ok(self),
            task => Err(TransferError::InvalidConfig {
                field: "labels",
                message: format!("{} labels for a {task:?} predictor", labels.len()),
            }),
        }
    }

    /// Sets each label's probability threshold (multi-label; 0.5 each until set), each in
    /// (0, 1). [`tune_thresholds`](Self::tune_thresholds) chooses them on held-out examples.
    pub fn with_thresholds(mut self, thresholds: Vec<f32>) -> Result<Self> {
        let task = self.task();
        let fits = matches!(task, Task::MultiLabel { num_labels } if thresholds.len() == num_labels)
            || (thresholds.is_empty() && !matches!(task, Task::MultiLabel { .. }));
        if !fits || thresholds.iter().any(|t| !(*t > 0.0 && *t < 1.0)) {
            return Err(TransferError::InvalidConfig {
                field: "thresholds",
                message: format!("{thresholds:?} for a {task:?} predictor (each in (0, 1))"),
            });
        }
        self.thresholds = thresholds;
        Ok(self)
    }

    /// Multi-label: each label's threshold.
    pub fn thresholds(&self) -> &[f32] {
        &self.thresholds
    }

    /// Multi-label: sets each label's threshold to the one with the best F1 on `examples`
    /// (held-out, not the training examples; see [`best_threshold`]) and returns them.
    pub fn tune_thresholds(&mut self, examples: &[Example]) -> Result<Vec<f32>> {
        let Task::MultiLabel { num_labels } = self.task() else {
            return Err(TransferError::InvalidConfig {
                field: "thresholds",
                message: format!("a {:?} pipeline has no thresholds", self.task()),
            });
        };
        check_examples("examples", examples, self.task())?;
        let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
        let probabilities: Vec<Vec<f32>> = self
            .outputs(&texts)?
            .iter()
            .map(|row| sigmoid_row(row))
            .collect();
        let actual = label_sets(examples, num_labels);
        self.thresholds = (0..num_labels)
            .map(|l| {
                let p: Vec<f32> = probabilities.iter().map(|row| row[l]).collect();
                let a: Vec<bool> = actual.iter().map(|row| row[l]).collect();
                best_threshold(&p, &a)
            })
            .collect();
        Ok(self.thresholds.clone())
    }

    /// Sets the maximum length, truncation and padding of the texts. The maximum length
    /// may not exceed what the embedder handles (BERT's position table).
    pub fn with_encode_policy(mut self, policy: EncodePolicy) -> Result<Self> {
        if let Some(limit) = self.stages.embedder.max_sequence_length()
            && policy.max_length > limit
        {
            return Err(TransferError::InvalidConfig {
                field: "max_length",
                message: format!(
                    "{} is longer than the embedder's {limit} positions",
                    policy.max_length
                ),
            });
        }
        self.policy = policy;
        Ok(self)
    }

    /// Texts per batch in [`predict`](Self::predict) and [`evaluate`](Self::evaluate).
    pub fn with_inference_batch_size(mut self, batch_size: usize) -> Self {
        self.inference_batch_size = batch_size.max(1);
        self
    }

    /// Keeps a stage's weights as they are during training.
    pub fn freeze(&mut self, stage: Stage) {
        self.set_frozen(stage, true);
    }

    /// Lets training change a stage's weights again.
    pub fn unfreeze(&mut self, stage: Stage) {
        self.set_frozen(stage, false);
    }

    fn set_frozen(&mut self, stage: Stage, frozen: bool) {
        if frozen {
            self.frozen.insert(stage);
        } else {
            self.frozen.remove(&stage);
        }
        self.stages = self.stages.clone().map_stage(stage, SetFrozen(frozen));
    }

    pub fn is_frozen(&self, stage: Stage) -> bool {
        self.frozen.contains(&stage)
    }

    pub fn tokenizer(&self) -> &T {
        &self.tokenizer
    }

    pub fn stages(&self) -> &Stages<E, C, P> {
        &self.stages
    }

    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    pub fn encode_policy(&self) -> &EncodePolicy {
        &self.policy
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn task(&self) -> Task {
        self.stages.predictor.task()
    }

    /// Moves the weights to another device (for example from CPU to CUDA).
    pub fn to_device(mut self, device: &Device) -> Self {
        self.stages = self.stages.to_device(device);
        self.device = device.clone();
        self
    }

    /// Token ids of each text, with special tokens, truncated; in parallel.
    pub(crate) fn encode_all<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<Vec<u32>>> {
        let (tokenizer, policy) = (&self.tokenizer, &self.policy);
        texts
            .par_iter()
            .map(|t| {
                tokenizer
                    .encode(t.as_ref(), policy)
                    .map(|(e, _)| e.ids)
                    .map_err(TransferError::from)
            })
            .collect()
    }

    /// [`uploaded_batches`] at this pipeline's inference batch size, on its device, each with
    /// what `with` uploads for its indices.
    fn inference_batches<'a, X: 'a>(
        &'a self,
        encoded: &'a [Vec<u32>],
        with: impl FnMut(&[usize]) -> X + 'a,
    ) -> impl Iterator<Item = (Vec<usize>, Batch, X)> + 'a {
        let pad = self.tokenizer.special_tokens().pad;
        uploaded_batches(encoded, self.inference_batch_size, pad, &self.device, with)
    }

    /// The raw outputs (logits or values) for each text, without autodiff, in batches of
    /// similar lengths; texts that encode alike (e.g. differing only past the truncation) are
    /// run once.
    pub fn outputs<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>> {
        check_texts("texts", texts)?;
        let (encoded, of_text) = deduplicate(self.encode_all(texts)?);
        let mut out = vec![Vec::new(); encoded.len()];
        let queued = self
            .inference_batches(&encoded, |_| ())
            .map(|(batch, tensors, ())| (batch, self.stages.forward_batch(tensors)));
        read_inference_outputs(queued, |(batch, output)| {
            for (&i, row) in batch.iter().zip(rows_of(output)) {
                out[i] = row;
            }
        });
        Ok(of_text.into_iter().map(|i| out[i].clone()).collect())
    }

    /// The prediction for each text: the most probable class and the class probabilities,
    /// or the predicted values.
    pub fn predict<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<Prediction>> {
        let outputs = self.outputs(texts)?;
        Ok(match self.task() {
            Task::Classification { .. } => outputs
                .into_iter()
                .map(|logits| {
                    let probabilities = softmax_row(&logits);
                    let (class, &probability) = probabilities
                        .iter()
                        .enumerate()
                        .max_by(|a, b| a.1.total_cmp(b.1))
                        .expect("at least two classes");
                    Prediction::Class(ClassPrediction {
                        class,
                        label: self.labels[class].clone(),
                        probability,
                        probabilities,
                    })
                })
                .collect(),
            Task::MultiLabel { .. } => outputs
                .into_iter()
                .map(|logits| {
                    let probabilities = sigmoid_row(&logits);
                    let labels = probabilities
                        .iter()
                        .zip(&self.thresholds)
                        .zip(&self.labels)
                        .filter(|((p, t), _)| p >= t)
                        .map(|(_, label)| label.clone())
                        .collect();
                    Prediction::Labels(LabelsPrediction {
                        labels,
                        probabilities,
                    })
                })
                .collect(),
            Task::Regression { .. } => outputs
                .into_iter()
                .map(|values| Prediction::Values { values })
                .collect(),
        })
    }

    /// Loss, and accuracy and macro-F1 or mean squared error, on labelled examples.
    pub fn evaluate(&self, examples: &[Example]) -> Result<Metrics> {
        check_examples("examples", examples, self.task())?;
        let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
        let encoded = self.encode_all(&texts)?;
        let mut loss_sum = 0.0;
        let mut predicted = vec![0usize; examples.len()];
        let mut predicted_sets = vec![Vec::new(); examples.len()];
        let mut squared_error = 0.0;
        let (mut predicted_values, mut actual_values) = (Vec::new(), Vec::new());
        // The targets go up with their batch's ids: an upload on its own would wait for the
        // batches queued before it.
        let targets = |batch: &[usize]| {
            let batch_examples: Vec<&Example> = batch.iter().map(|&i| &examples[i]).collect();
            targets_tensor(&batch_examples, self.task(), &self.device)
        };
        let queued = self
            .inference_batches(&encoded, targets)
            .map(|(batch, tensors, targets)| {
                let output = self.stages.forward_batch(tensors);
                let loss = self.stages.predictor.loss(output.clone(), targets);
                (batch, output, loss)
            });
        read_inference_outputs(queued, |(batch, output, loss)| {
            loss_sum += f64::from(loss.into_scalar::<f32>()) * batch.len() as f64;
            for (&i, row) in batch.iter().zip(rows_of(output)) {
                match &examples[i].target {
                    Target::Class(_) => {
                        predicted[i] = argmax(&row);
                    }
                    Target::Labels(_) => {
                        predicted_sets[i] = sigmoid_row(&row)
                            .iter()
                            .zip(&self.thresholds)
                            .map(|(p, t)| p >= t)
                            .collect();
                    }
                    Target::Values(values) => {
                        squared_error += row
                            .iter()
                            .zip(values)
                            .map(|(p, t)| f64::from(p - t).powi(2))
                            .sum::<f64>()
                            / values.len() as f64;
                        predicted_values.extend(row.iter().map(|&p| f64::from(p)));
                        actual_values.extend(values.iter().map(|&t| f64::from(t)));
                    }
                }
            }
        });
        let n = examples.len();
        Ok(match self.task() {
            Task::Classification { num_classes } => {
                let actual: Vec<usize> = examples
                    .iter()
                    .map(|e| match e.target {
                        Target::Class(c) => c,
                        _ => unreachable!("checked by check_examples"),
                    })
                    .collect();
                let (accuracy, f1) = classification_scores(&predicted, &actual, num_classes);
                let labels: Vec<String> = (0..num_classes)
                    .map(|c| {
                        self.labels()
                            .get(c)
                            .cloned()
                            .unwrap_or_else(|| c.to_string())
                    })
                    .collect();
                let (per_class, confusion) = class_report(&predicted, &actual, &labels);
                Metrics {
                    examples: n,
                    loss: loss_sum / n as f64,
                    accuracy: Some(accuracy),
                    macro_f1: Some(f1),
                    mse: None,
                    per_class: Some(per_class),
                    confusion: Some(confusion),
                    regression: None,
                    multi_label: None,
                }
            }
            Task::MultiLabel { num_labels } => {
                let actual = label_sets(examples, num_labels);
                let (per_label, pooled, macro_f1, exact) =
                    multi_label_report(&predicted_sets, &actual, &self.labels);
                Metrics {
                    examples: n,
                    loss: loss_sum / n as f64,
                    accuracy: Some(exact),
                    macro_f1: Some(macro_f1),
                    mse: None,
                    per_class: Some(per_label),
                    confusion: None,
                    regression: None,
                    multi_label: Some(pooled),
                }
            }
            Task::Regression { .. } => Metrics {
                examples: n,
                loss: loss_sum / n as f64,
                accuracy: None,
                macro_f1: None,
                mse: Some(squared_error / n as f64),
                per_class: None,
                confusion: None,
                regression: Some(regression_scores(&predicted_values, &actual_values)),
                multi_label: None,
            },
        })
    }
}

/// Fails, naming the example, on an empty list, an empty text or a target that does not
/// fit the task.
pub(crate) fn check_examples(what: &'static str, examples: &[Example], task: Task) -> Result<()> {
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    check_texts(what, &texts)?;
    for (index, e) in examples.iter().enumerate() {
        let message = match (&e.target, task) {
            (Target::Class(c), Task::Classification { num_classes }) if *c >= num_classes => {
                format!("class {c} but the predictor has {num_classes} classes")
            }
            (Target::Values(v), Task::Regression { outputs }) if v.len() != outputs => {
                format!("{} values but the predictor makes {outputs}", v.len())
            }
            (Target::Values(v), Task::Regression { .. }) if v.iter().any(|x| !x.is_finite()) => {
                "a value is not finite".to_string()
            }
            (Target::Labels(l), Task::MultiLabel { num_labels }) => {
                match l.iter().find(|&&x| x >= num_labels) {
                    Some(x) => format!("label {x} but the predictor has {num_labels} labels"),
                    None => continue,
                }
            }
            (Target::Class(_), Task::Classification { .. })
            | (Target::Values(_), Task::Regression { .. }) => continue,
            (target, task) => format!("{} given to a {task:?} pipeline", target_kind(target)),
        };
        return Err(TransferError::BadTarget {
            what,
            index,
            message,
        });
    }
    Ok(())
}

fn target_kind(target: &Target) -> &'static str {
    match target {
        Target::Class(_) => "a class",
        Target::Values(_) => "values",
        Target::Labels(_) => "a label set",
    }
}

/// Each example's labels as `[text][label]` booleans (multi-label examples).
fn label_sets(examples: &[Example], num_labels: usize) -> Vec<Vec<bool>> {
    examples
        .iter()
        .map(|e| {
            let mut row = vec![false; num_labels];
            if let Target::Labels(labels) = &e.target {
                for &l in labels {
                    row[l] = true;
                }
            }
            row
        })
        .collect()
}

/// Batches of indices into `encoded`, longest texts first, so that each batch pads little.
pub(crate) fn length_sorted_batches(encoded: &[Vec<u32>], batch_size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..encoded.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(encoded[i].len()));
    order
        .chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

/// Length-sorted batches of `encoded` (longest first), each with its indices, padded with `pad`
/// and uploaded to `device` a few at a time, together with what `with` uploads for the same
/// indices (a batch's targets).
pub(crate) fn uploaded_batches<'a, X: 'a>(
    encoded: &'a [Vec<u32>],
    batch_size: usize,
    pad: u32,
    device: &'a Device,
    mut with: impl FnMut(&[usize]) -> X + 'a,
) -> impl Iterator<Item = (Vec<usize>, Batch, X)> + 'a {
    let batches = length_sorted_batches(encoded, batch_size);
    read_ahead(batches, INFERENCE_BATCHES_AHEAD, move |batch| {
        let rows: Vec<&[u32]> = batch.iter().map(|&i| encoded[i].as_slice()).collect();
        let tensors = Batch::new(&rows, pad, device);
        let extra = with(&batch);
        (batch, tensors, extra)
    })
}

/// One batch of token ids on the device, padded to its longest row, for
/// [`Stages::forward_batch`](crate::Stages::forward_batch).
///
/// ```
/// use burn::prelude::*;
/// use transfer_pipeline::Batch;
///
/// let batch = Batch::new(&[&[5, 6, 7], &[5, 6]], 0, &Device::flex());
/// assert_eq!(batch.ids.dims(), [2, 3]);
/// assert!(batch.padded);
/// assert!(!Batch::new(&[&[5, 6]], 0, &Device::flex()).padded);
/// ```
#[derive(Debug, Clone)]
pub struct Batch {
    pub ids: Tensor<2, Int>,
    /// `true` at real tokens.
    pub mask: Tensor<2, Bool>,
    /// Whether any row is shorter than the longest: known on the host, so the encoder need
    /// not read `mask` back from the device (on CUDA, a wait for all queued work).
    pub padded: bool,
}

impl Batch {
    /// Pads `rows` of token ids with `pad` and uploads them to `device`.
    pub fn new(rows: &[&[u32]], pad: u32, device: &Device) -> Self {
        let seq = rows.iter().map(|r| r.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![i64::from(pad); rows.len() * seq];
        let mut mask = vec![false; rows.len() * seq];
        for (r, row) in rows.iter().enumerate() {
            for (j, &id) in row.iter().enumerate() {
                ids[r * seq + j] = i64::from(id);
                mask[r * seq + j] = true;
            }
        }
        Self {
            padded: mask.contains(&false),
            ids: Tensor::from_data(TensorData::new(ids, [rows.len(), seq]), device),
            mask: Tensor::from_data(TensorData::new(mask, [rows.len(), seq]), device),
        }
    }
}

/// The targets of a batch as the tensor its predictor's loss takes.
pub(crate) fn targets_tensor(examples: &[&Example], task: Task, device: &Device) -> Targets {
    match &examples[0].target {
        Target::Class(_) => {
            let classes: Vec<i64> = examples
                .iter()
                .map(|e| match e.target {
                    Target::Class(c) => c as i64,
                    _ => 0,
                })
                .collect();
            Targets::Classes(Tensor::from_data(
                TensorData::new(classes, [examples.len()]),
                device,
            ))
        }
        Target::Values(first) => {
            let width = first.len();
            let values: Vec<f32> = examples
                .iter()
                .flat_map(|e| match &e.target {
                    Target::Values(v) => v.clone(),
                    _ => vec![0.0; width],
                })
                .collect();
            Targets::Values(Tensor::from_data(
                TensorData::new(values, [examples.len(), width]),
                device,
            ))
        }
        Target::Labels(_) => {
            let width = match task {
                Task::MultiLabel { num_labels } => num_labels,
                _ => 0,
            };
            Targets::Labels(multi_hot(examples, width, device))
        }
    }
}

/// `[batch, width]`: ones where a label applies.
fn multi_hot(examples: &[&Example], width: usize, device: &Device) -> Tensor<2> {
    let mut values = vec![0.0f32; examples.len() * width];
    for (i, e) in examples.iter().enumerate() {
        if let Target::Labels(labels) = &e.target {
            for &l in labels {
                values[i * width + l] = 1.0;
            }
        }
    }
    Tensor::from_data(TensorData::new(values, [examples.len(), width]), device)
}

/// The distinct sequences of `encoded`, in first-seen order, and the index of each one's.
fn deduplicate(encoded: Vec<Vec<u32>>) -> (Vec<Vec<u32>>, Vec<usize>) {
    let mut seen: std::collections::HashMap<Vec<u32>, usize> = std::collections::HashMap::new();
    let mut unique = Vec::new();
    let index = encoded
        .into_iter()
        .map(|ids| {
            *seen.entry(ids).or_insert_with_key(|ids| {
                unique.push(ids.clone());
                unique.len() - 1
            })
        })
        .collect();
    (unique, index)
}

/// Rows of a `[batch, outputs]` tensor, as f32 whatever the float type.
pub(crate) fn rows_of(output: Tensor<2>) -> Vec<Vec<f32>> {
    let [_, width] = output.dims();
    let values: Vec<f32> = output
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap_or_default();
    values.chunks(width.max(1)).map(<[f32]>::to_vec).collect()
}

pub(crate) fn softmax_row(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

pub(crate) fn sigmoid_row(logits: &[f32]) -> Vec<f32> {
    logits.iter().map(|&l| 1.0 / (1.0 + (-l).exp())).collect()
}

fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}
