//! Domain adaptation of a pretrained BERT: masked-language-model training continued on
//! unlabelled text of the task's domain (ULMFiT's idea applied to the transformer; Gururangan
//! et al. 2020), with a fresh prediction head when the checkpoint ships none.

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, LayerNormConfig, Linear};
use burn::prelude::*;
use burn::tensor::activation::gelu;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use transfer_contextual::{BertEncoder, ContextualEmbedder};
use transfer_embedder::{BertEmbeddings, TokenEmbedder};
use transfer_kernels::cross_entropy;
use transfer_tokenizer::{EncodePolicy, Tokenizer};

use crate::data::rng::SplitMix64;
use crate::error::{Result, TransferError};
use crate::pipeline::Batch;
use crate::training::LrSchedule;

use super::steps::{Steps, train_steps};

/// BERT's embeddings and encoder with BERT's masked-LM head: dense → GELU → LayerNorm →
/// scores over the vocabulary, the output weights tied to the word embeddings.
#[derive(Module, Debug)]
pub struct MaskedLanguageModel {
    pub embeddings: BertEmbeddings,
    pub encoder: BertEncoder,
    transform: Linear,
    layer_norm: LayerNorm,
    decoder_bias: Param<Tensor<1>>,
}

impl MaskedLanguageModel {
    /// A fresh head (BERT's initialisation: normal, std 0.02, zero biases) on pretrained
    /// stages; the same `seed` gives the same head on every backend.
    pub fn new(
        embeddings: BertEmbeddings,
        encoder: BertEncoder,
        seed: u64,
        device: &Device,
    ) -> Self {
        let dim = embeddings.dim();
        // The word table's width: the hidden size, or ELECTRA's smaller embedding size.
        let width = embeddings.table_width();
        let vocab = embeddings.vocab_size();
        let mut rng = SplitMix64::new(seed);
        let weights: Vec<f32> = (0..dim * width)
            .map(|_| (0.02 * rng.next_normal()) as f32)
            .collect();
        Self {
            transform: Linear {
                weight: Param::from_tensor(Tensor::from_data(
                    TensorData::new(weights, [dim, width]),
                    device,
                )),
                bias: Some(Param::from_tensor(Tensor::zeros([width], device))),
            },
            layer_norm: LayerNormConfig::new(width).with_epsilon(1e-12).init(device),
            decoder_bias: Param::from_tensor(Tensor::zeros([vocab], device)),
            embeddings,
            encoder,
        }
    }

    /// Vocabulary scores `[positions, vocab]` at the flat `positions` (row · seq + column) of
    /// `ids: [batch, seq]`.
    pub fn forward(
        &self,
        ids: Tensor<2, Int>,
        mask: Tensor<2, Bool>,
        positions: Tensor<1, Int>,
    ) -> Tensor<2> {
        let states = self.encoder.forward(self.embeddings.forward(ids), mask);
        self.scores_at(states, positions)
    }

    fn scores_at(&self, states: Tensor<3>, positions: Tensor<1, Int>) -> Tensor<2> {
        let [batch, seq, dim] = states.dims();
        let picked = states.reshape([batch * seq, dim]).select(0, positions);
        let h = self
            .layer_norm
            .forward(gelu(self.transform.forward(picked)));
        h.matmul(self.embeddings.word_embeddings.weight.val().transpose())
            + self.decoder_bias.val().unsqueeze()
    }

    /// Mean cross-entropy of the predictions at a batch's masked positions.
    fn masked_loss(&self, batch: UploadedBatch) -> Tensor<1> {
        let embedded = self.embeddings.forward(batch.ids.ids);
        let states = self
            .encoder
            .forward_known_padding(embedded, batch.ids.mask, batch.ids.padded);
        let logits = self.scores_at(states, batch.positions);
        cross_entropy(logits, batch.targets)
    }

    /// The adapted stages, to build a classifier on.
    pub fn into_stages(self) -> (BertEmbeddings, BertEncoder) {
        (self.embeddings, self.encoder)
    }
}

/// How [`train_masked_lm`] trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskedLmTraining {
    pub steps: usize,
    pub batch_size: usize,
    /// Tokens per text, special tokens included (the start of longer texts).
    pub max_length: usize,
    pub learning_rate: f64,
    pub schedule: LrSchedule,
    pub weight_decay: f64,
    pub max_grad_norm: f64,
    /// Share of the real tokens to predict; of those, 80 % are replaced by the mask token,
    /// 10 % by a random token and 10 % left as they are (BERT's recipe).
    pub mask_probability: f64,
    pub seed: u64,
    pub progress: bool,
}

impl Default for MaskedLmTraining {
    fn default() -> Self {
        Self {
            steps: 1000,
            batch_size: 32,
            max_length: 256,
            learning_rate: 1e-4,
            schedule: LrSchedule::WarmupLinearDecay {
                warmup_fraction: 0.06,
            },
            weight_decay: 0.01,
            max_grad_norm: 1.0,
            mask_probability: 0.15,
            seed: 0,
            progress: false,
        }
    }
}

/// What [`train_masked_lm`] did.
pub type MaskedLmReport = super::PretrainingReport;

/// Texts to mask, and a tokenizer with a mask token to mask them with.
fn check_input<T: Tokenizer, S: AsRef<str>>(
    tokenizer: &T,
    texts: &[S],
    model: &MaskedLanguageModel,
) -> Result<()> {
    crate::data::check_texts("masked-LM texts", texts)?;
    super::check_vocabulary(tokenizer, model.embeddings.vocab_size())?;
    if tokenizer.special_tokens().mask.is_none() {
        return Err(TransferError::InvalidConfig {
            field: "tokenizer",
            message: "has no mask token ([MASK]) to mask texts with".into(),
        });
    }
    Ok(())
}

/// One batch with some tokens masked: inputs, real-token mask, flat masked positions and the
/// original ids there.
struct MaskedBatch {
    ids: Vec<Vec<u32>>,
    positions: Vec<i64>,
    targets: Vec<i64>,
}

/// A [`MaskedBatch`] on the device.
struct UploadedBatch {
    ids: Batch,
    positions: Tensor<1, Int>,
    targets: Tensor<1, Int>,
}

impl MaskedBatch {
    fn upload(self, pad: u32, device: &Device) -> UploadedBatch {
        let rows: Vec<&[u32]> = self.ids.iter().map(Vec::as_slice).collect();
        let m = self.positions.len();
        UploadedBatch {
            ids: Batch::new(&rows, pad, device),
            positions: Tensor::from_data(TensorData::new(self.positions, [m]), device),
            targets: Tensor::from_data(TensorData::new(self.targets, [m]), device),
        }
    }
}

fn mask_batch<T: Tokenizer>(
    rows: &[&[u32]],
    tokenizer: &T,
    probability: f64,
    rng: &mut SplitMix64,
) -> MaskedBatch {
    let special = tokenizer.special_tokens();
    let is_special =
        |id: u32| id == special.pad || Some(id) == special.cls || Some(id) == special.sep;
    let mask_id = special.mask.expect("checked by train_masked_lm");
    let vocab = tokenizer.vocab_size();
    let seq = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut batch = MaskedBatch {
        ids: rows.iter().map(|r| r.to_vec()).collect(),
        positions: Vec::new(),
        targets: Vec::new(),
    };
    let mut candidates = Vec::new();
    for (r, row) in batch.ids.iter_mut().enumerate() {
        for (j, id) in row.iter_mut().enumerate() {
            if is_special(*id) {
                continue;
            }
            candidates.push((r * seq + j) as i64);
            if rng.next_f64() >= probability {
                continue;
            }
            batch.positions.push((r * seq + j) as i64);
            batch.targets.push(i64::from(*id));
            let roll = rng.next_f64();
            if roll < 0.8 {
                *id = mask_id;
            } else if roll < 0.9 {
                *id = rng.below(vocab) as u32;
            }
        }
    }
    // A batch with nothing masked (short texts, bad luck) still predicts one token.
    if batch.positions.is_empty()
        && let Some(&p) = candidates.get(rng.below(candidates.len().max(1)))
    {
        let (r, j) = (p as usize / seq, p as usize % seq);
        batch.positions.push(p);
        batch.targets.push(i64::from(batch.ids[r][j]));
        batch.ids[r][j] = mask_id;
    }
    batch
}

/// Continues masked-LM training of `model` on `texts` for `config.steps` steps of
/// `config.batch_size` texts (in a seeded random order, reshuffled after each pass).
pub fn train_masked_lm<T: Tokenizer, S: AsRef<str> + Sync>(
    model: MaskedLanguageModel,
    tokenizer: &T,
    texts: &[S],
    config: &MaskedLmTraining,
    device: &Device,
) -> Result<(MaskedLanguageModel, MaskedLmReport)> {
    check_input(tokenizer, texts, &model)?;
    if !(0.0 < config.mask_probability && config.mask_probability < 1.0) {
        return Err(TransferError::InvalidConfig {
            field: "mask_probability",
            message: format!("{} is not in (0, 1)", config.mask_probability),
        });
    }
    let policy = EncodePolicy::new(config.max_length);
    let encoded: Vec<Vec<u32>> = texts
        .par_iter()
        .map(|t| tokenizer.encode(t.as_ref(), &policy).map(|(e, _)| e.ids))
        .collect::<std::result::Result<_, _>>()?;
    let train_device = device.clone().autodiff();
    train_device.seed(config.seed);
    let pad = tokenizer.special_tokens().pad;
    let steps = Steps {
        steps: config.steps,
        batch_size: config.batch_size,
        learning_rate: config.learning_rate,
        schedule: config.schedule,
        weight_decay: config.weight_decay,
        max_grad_norm: config.max_grad_norm,
        seed: config.seed,
        progress: config.progress,
        label: "masked LM",
    };
    train_steps(
        model,
        &encoded,
        &steps,
        |rows, rng| {
            mask_batch(rows, tokenizer, config.mask_probability, rng).upload(pad, &train_device)
        },
        |model: &MaskedLanguageModel, batch| model.masked_loss(batch),
    )
}

impl MaskedLanguageModel {
    /// Mean masked-token loss (nats) on `texts`, masking with `seed` as in training, without
    /// training: how well the model fills in the domain's text.
    pub fn evaluate<T: Tokenizer, S: AsRef<str> + Sync>(
        &self,
        tokenizer: &T,
        texts: &[S],
        max_length: usize,
        seed: u64,
    ) -> Result<f64> {
        check_input(tokenizer, texts, self)?;
        let device = self
            .decoder_bias
            .devices()
            .into_iter()
            .next()
            .unwrap_or_default();
        let policy = EncodePolicy::new(max_length);
        let mut rng = SplitMix64::new(seed);
        let pad = tokenizer.special_tokens().pad;
        let (mut sum, mut n) = (0.0, 0usize);
        for chunk in texts.chunks(16) {
            let encoded: Vec<Vec<u32>> = chunk
                .iter()
                .map(|t| tokenizer.encode(t.as_ref(), &policy).map(|(e, _)| e.ids))
                .collect::<std::result::Result<_, _>>()?;
            let rows: Vec<&[u32]> = encoded.iter().map(Vec::as_slice).collect();
            let masked = mask_batch(&rows, tokenizer, 0.15, &mut rng);
            let m = masked.positions.len();
            let loss = self.masked_loss(masked.upload(pad, &device));
            sum += f64::from(loss.into_scalar::<f32>()) * m as f64;
            n += m;
        }
        Ok(sum / n.max(1) as f64)
    }
}
