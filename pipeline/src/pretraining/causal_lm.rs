//! GPT-2 as a language model (Hugging Face's `GPT2LMHeadModel`): next-token scores,
//! perplexity, generation, and causal-LM training continued on a domain's text, whose stages
//! then become a classifier's.

use burn::module::Module;
use burn::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use transfer_contextual::{AnyContextual, ContextualEmbedder, Gpt2Decoder};
use transfer_embedder::{AnyEmbedder, Gpt2Embeddings, TokenEmbedder};
use transfer_kernels::cross_entropy;
use transfer_tokenizer::{EncodePolicy, Tokenizer};

use super::steps::{Steps, train_steps};
use crate::data::rng::SplitMix64;
use crate::error::{Result, TransferError};
use crate::io::hf::PretrainedModel;
use crate::pipeline::Batch;
use crate::training::LrSchedule;

/// GPT-2's embeddings and decoder with its language-model head: the scores of the next token
/// are the decoder's states times the token table (`lm_head` tied to `wte`, no bias), as in
/// every released GPT-2.
///
/// ```no_run
/// use burn::prelude::*;
/// use transfer_pipeline::io::hf::PretrainedModel;
/// use transfer_pipeline::pretraining::causal_lm::{CausalLanguageModel, Decoding};
///
/// let model = PretrainedModel::load("openai-community/gpt2", &Device::flex())?;
/// let tokenizer = model.tokenizer.clone();
/// let lm = CausalLanguageModel::try_from(model)?;
/// let more = lm.generate(&tokenizer, "This movie was", 20, &Decoding::Greedy)?;
/// let nats = lm.evaluate(&tokenizer, &["A fine film."], 128)?;
/// # Ok::<(), transfer_pipeline::TransferError>(())
/// ```
#[derive(Module, Debug)]
pub struct CausalLanguageModel {
    pub embeddings: Gpt2Embeddings,
    pub decoder: Gpt2Decoder,
}

impl TryFrom<PretrainedModel> for CausalLanguageModel {
    type Error = TransferError;

    /// GPT-2's stages; a model of another family is an error naming it.
    fn try_from(model: PretrainedModel) -> Result<Self> {
        match (model.embeddings, model.encoder) {
            (AnyEmbedder::Gpt2(embeddings), AnyContextual::Gpt2(decoder)) => {
                Ok(Self::new(embeddings, decoder))
            }
            _ => Err(TransferError::StageMismatch(format!(
                "a causal language model needs GPT-2's stages (model_type gpt2); this model is \
                 {}: masked-LM training (train_masked_lm) adapts the BERT-layout families",
                model.family.model_type()
            ))),
        }
    }
}

/// Texts with their next-token targets: the padded ids, and for each real token followed by
/// another, its flat position (row · seq + column) and the id that follows it.
struct NextTokens {
    ids: Batch,
    positions: Tensor<1, Int>,
    targets: Tensor<1, Int>,
}

impl NextTokens {
    /// `None` when no row has two tokens.
    fn new(rows: &[&[u32]], pad: u32, device: &Device) -> Option<Self> {
        let seq = rows.iter().map(|r| r.len()).max().unwrap_or(0);
        let (mut positions, mut targets) = (Vec::new(), Vec::new());
        for (r, row) in rows.iter().enumerate() {
            for (j, pair) in row.windows(2).enumerate() {
                positions.push((r * seq + j) as i64);
                targets.push(i64::from(pair[1]));
            }
        }
        let m = positions.len();
        (m > 0).then(|| Self {
            ids: Batch::new(rows, pad, device),
            positions: Tensor::from_data(TensorData::new(positions, [m]), device),
            targets: Tensor::from_data(TensorData::new(targets, [m]), device),
        })
    }
}

impl CausalLanguageModel {
    pub fn new(embeddings: Gpt2Embeddings, decoder: Gpt2Decoder) -> Self {
        Self {
            embeddings,
            decoder,
        }
    }

    /// Next-token scores `[batch, seq, vocab]` for ids `[batch, seq]` (`mask`: real tokens).
    pub fn forward(&self, ids: Tensor<2, Int>, mask: Tensor<2, Bool>) -> Tensor<3> {
        let states = self.decoder.forward(self.embeddings.forward(ids), mask);
        let [batch, seq, dim] = states.dims();
        let scores = self.scores(states.reshape([batch * seq, dim]));
        let vocab = scores.dims()[1];
        scores.reshape([batch, seq, vocab])
    }

    fn scores(&self, states: Tensor<2>) -> Tensor<2> {
        states.matmul(self.embeddings.wte.weight.val().transpose())
    }

    /// Mean cross-entropy of each real token's prediction of the next (transformers' loss
    /// with `labels = input_ids` and padding ignored).
    fn next_token_loss(&self, batch: NextTokens) -> Tensor<1> {
        let states = self
            .decoder
            .forward(self.embeddings.forward(batch.ids.ids), batch.ids.mask);
        let [b, s, dim] = states.dims();
        let picked = states.reshape([b * s, dim]).select(0, batch.positions);
        cross_entropy(self.scores(picked), batch.targets)
    }

    /// The training loss on token rows (each a text's ids, padded here with `pad`): the mean
    /// cross-entropy of each token's prediction of the next, as transformers computes it with
    /// `labels = input_ids` and padding ignored. On an autodiff device, `.backward()` gives
    /// the gradients.
    pub fn loss(&self, rows: &[&[u32]], pad: u32) -> Result<Tensor<1>> {
        let batch =
            NextTokens::new(rows, pad, &self.device()).ok_or(TransferError::InvalidConfig {
                field: "rows",
                message: "no row has two tokens: there is no next token to predict".into(),
            })?;
        Ok(self.next_token_loss(batch))
    }

    fn device(&self) -> Device {
        self.embeddings
            .devices()
            .into_iter()
            .next()
            .unwrap_or_default()
    }

    /// Each text's first `max_length` tokens, without special tokens (GPT-2 adds none).
    fn encode<T: Tokenizer, S: AsRef<str> + Sync>(
        &self,
        tokenizer: &T,
        texts: &[S],
        max_length: usize,
    ) -> Result<Vec<Vec<u32>>> {
        super::check_vocabulary(tokenizer, self.embeddings.vocab_size())?;
        let limit = self
            .embeddings
            .max_sequence_length()
            .map_or(max_length, |m| m.min(max_length));
        let policy = EncodePolicy::new(limit);
        texts
            .par_iter()
            .map(|t| Ok(tokenizer.encode(t.as_ref(), &policy)?.0.ids))
            .collect()
    }

    /// Mean next-token loss (nats per token) on the first `max_length` tokens of each text,
    /// without training; `exp` of it is the perplexity.
    pub fn evaluate<T: Tokenizer, S: AsRef<str> + Sync>(
        &self,
        tokenizer: &T,
        texts: &[S],
        max_length: usize,
    ) -> Result<f64> {
        crate::data::check_texts("language-model texts", texts)?;
        let encoded = self.encode(tokenizer, texts, max_length)?;
        let (device, pad) = (self.device(), tokenizer.special_tokens().pad);
        let (mut sum, mut n) = (0.0, 0usize);
        for chunk in encoded.chunks(16) {
            let rows: Vec<&[u32]> = chunk.iter().map(Vec::as_slice).collect();
            let Some(batch) = NextTokens::new(&rows, pad, &device) else {
                continue;
            };
            let m = batch.targets.dims()[0];
            let loss = self.next_token_loss(batch).into_scalar::<f32>();
            sum += f64::from(loss) * m as f64;
            n += m;
        }
        if n == 0 {
            return Err(TransferError::InvalidConfig {
                field: "language-model texts",
                message: "no text has two tokens: there is no next token to predict".into(),
            });
        }
        Ok(sum / n as f64)
    }

    /// Up to `max_new_tokens` ids continuing `prompt`, stopping after `stop` if it comes.
    /// The model reads at most its `n_positions` last tokens.
    pub fn generate_ids(
        &self,
        prompt: &[u32],
        max_new_tokens: usize,
        decoding: &Decoding,
        stop: Option<u32>,
    ) -> Result<Vec<u32>> {
        if prompt.is_empty() {
            return Err(TransferError::EmptyText {
                what: "prompt",
                index: 0,
            });
        }
        decoding.validate()?;
        let device = self.device();
        let window = self.embeddings.max_sequence_length().unwrap_or(usize::MAX);
        let mut context = prompt.to_vec();
        let mut rng = decoding.rng();
        let mut generated = Vec::new();
        while generated.len() < max_new_tokens {
            let start = context.len().saturating_sub(window);
            let batch = Batch::new(&[&context[start..]], 0, &device);
            let [_, seq] = batch.ids.dims();
            let states = self
                .decoder
                .forward(self.embeddings.forward(batch.ids), batch.mask);
            let dim = states.dims()[2];
            let last = states.slice([0..1, seq - 1..seq]).reshape([1, dim]);
            let scores = crate::pipeline::rows_of(self.scores(last))
                .into_iter()
                .next()
                .filter(|row| !row.is_empty())
                .ok_or_else(|| TransferError::StageMismatch("the model gave no scores".into()))?;
            let id = decoding.choose(&scores, &mut rng);
            generated.push(id);
            context.push(id);
            if Some(id) == stop {
                break;
            }
        }
        Ok(generated)
    }

    /// `prompt` continued by up to `max_new_tokens` tokens (stopping at the end-of-text
    /// token), decoded to text.
    pub fn generate<T: Tokenizer>(
        &self,
        tokenizer: &T,
        prompt: &str,
        max_new_tokens: usize,
        decoding: &Decoding,
    ) -> Result<String> {
        super::check_vocabulary(tokenizer, self.embeddings.vocab_size())?;
        let ids = tokenizer.tokenize(prompt).ids;
        let end = tokenizer.special_tokens().pad;
        let mut new = self.generate_ids(&ids, max_new_tokens, decoding, Some(end))?;
        if new.last() == Some(&end) {
            new.pop();
        }
        Ok(tokenizer.decode(&new))
    }

    /// The adapted stages, to build a classifier on (pool with `Pooling::Last`).
    pub fn into_stages(self) -> (Gpt2Embeddings, Gpt2Decoder) {
        (self.embeddings, self.decoder)
    }
}

/// How [`CausalLanguageModel::generate`] picks each next token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Decoding {
    /// The most likely token (transformers' `do_sample=False`).
    Greedy,
    /// A token drawn from the softmax of the scores divided by `temperature`, among the
    /// `top_k` most likely (all when `None`), with a seeded generator.
    Sample {
        temperature: f64,
        top_k: Option<usize>,
        seed: u64,
    },
}

impl Decoding {
    fn validate(&self) -> Result<()> {
        match self {
            Self::Sample { temperature, .. }
                if !(*temperature > 0.0 && temperature.is_finite()) =>
            {
                Err(TransferError::InvalidConfig {
                    field: "temperature",
                    message: format!("{temperature} is not a positive number"),
                })
            }
            Self::Sample { top_k: Some(0), .. } => Err(TransferError::InvalidConfig {
                field: "top_k",
                message: "must be at least 1".into(),
            }),
            _ => Ok(()),
        }
    }

    fn rng(&self) -> SplitMix64 {
        match self {
            Self::Sample { seed, .. } => SplitMix64::new(*seed),
            Self::Greedy => SplitMix64::new(0),
        }
    }

    fn choose(&self, scores: &[f32], rng: &mut SplitMix64) -> u32 {
        let mut ranked: Vec<(usize, f32)> = scores.iter().copied().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let Self::Sample {
            temperature, top_k, ..
        } = self
        else {
            return ranked[0].0 as u32;
        };
        ranked.truncate(top_k.unwrap_or(ranked.len()));
        let top = f64::from(ranked[0].1);
        let weights: Vec<f64> = ranked
            .iter()
            .map(|&(_, s)| ((f64::from(s) - top) / temperature).exp())
            .collect();
        let mut draw = rng.next_f64() * weights.iter().sum::<f64>();
        for (&(id, _), w) in ranked.iter().zip(&weights) {
            draw -= w;
            if draw <= 0.0 {
                return id as u32;
            }
        }
        ranked[ranked.len() - 1].0 as u32
    }
}

/// How [`train_causal_lm`] trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CausalLmTraining {
    pub steps: usize,
    pub batch_size: usize,
    /// Tokens per text (the start of longer texts).
    pub max_length: usize,
    pub learning_rate: f64,
    pub schedule: LrSchedule,
    pub weight_decay: f64,
    pub max_grad_norm: f64,
    pub seed: u64,
    pub progress: bool,
}

impl Default for CausalLmTraining {
    fn default() -> Self {
        Self {
            steps: 1000,
            batch_size: 16,
            max_length: 256,
            learning_rate: 5e-5,
            schedule: LrSchedule::WarmupLinearDecay {
                warmup_fraction: 0.06,
            },
            weight_decay: 0.01,
            max_grad_norm: 1.0,
            seed: 0,
            progress: false,
        }
    }
}

/// Continues next-token training of `model` on `texts` for `config.steps` steps of
/// `config.batch_size` texts (in a seeded random order, reshuffled after each pass).
pub fn train_causal_lm<T: Tokenizer, S: AsRef<str> + Sync>(
    model: CausalLanguageModel,
    tokenizer: &T,
    texts: &[S],
    config: &CausalLmTraining,
    device: &Device,
) -> Result<(CausalLanguageModel, super::PretrainingReport)> {
    crate::data::check_texts("language-model texts", texts)?;
    let encoded: Vec<Vec<u32>> = model
        .encode(tokenizer, texts, config.max_length)?
        .into_iter()
        .filter(|ids| ids.len() > 1)
        .collect();
    if encoded.is_empty() {
        return Err(TransferError::InvalidConfig {
            field: "language-model texts",
            message: "no text has two tokens: there is no next token to predict".into(),
        });
    }
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
        label: "causal LM",
    };
    train_steps(
        model,
        &encoded,
        &steps,
        |rows, _| NextTokens::new(rows, pad, &train_device).expect("every text has two tokens"),
        |model: &CausalLanguageModel, batch| model.next_token_loss(batch),
    )
}
