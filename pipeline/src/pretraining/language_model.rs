//! ULMFiT's first step: a word-level LSTM language model trained on unlabelled text, whose
//! embedder and LSTM then become the stages of a classifier.

use std::time::Instant;

use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig};
use burn::prelude::*;
use indicatif::ProgressBar;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use transfer_contextual::{ContextualEmbedder, Lstm, LstmConfig, LstmState};
use transfer_embedder::{LearnedEmbedding, LearnedEmbeddingConfig, TokenEmbedder};
use transfer_kernels::cross_entropy;
use transfer_tokenizer::Tokenizer;

use crate::error::{Result, TransferError};
use crate::training::LrSchedule;
use crate::training::trainer::{Trainer, TrainerParts, whole};

/// Embedding → stacked unidirectional LSTM → softmax over the vocabulary, with the softmax
/// weights tied to the embedding table (Press & Wolf 2017), as in ULMFiT.
#[derive(Module, Debug)]
pub struct LstmLanguageModel {
    pub embedder: LearnedEmbedding,
    pub lstm: Lstm,
    decoder_bias: Param<Tensor<1>>,
    dropout: Dropout,
}

/// Shape of an [`LstmLanguageModel`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageModelConfig {
    pub vocab_size: usize,
    /// Embedding size, which is also every LSTM layer's size (the softmax is tied).
    pub dim: usize,
    pub num_layers: usize,
    /// Dropout on the embeddings, between layers and before the softmax.
    pub dropout: f64,
}

impl LstmLanguageModel {
    pub fn new(config: &LanguageModelConfig, device: &Device) -> Result<Self> {
        if !(0.0..1.0).contains(&config.dropout) {
            return Err(TransferError::InvalidConfig {
                field: "dropout",
                message: format!("{} is not in [0, 1)", config.dropout),
            });
        }
        let embedder = LearnedEmbedding::from_config(
            &LearnedEmbeddingConfig::new(config.vocab_size, config.dim).with_init_std(0.1),
            device,
        )?;
        let lstm = Lstm::from_config(
            &LstmConfig::new(config.dim, config.dim)
                .with_num_layers(config.num_layers)
                .with_dropout(config.dropout),
            device,
        )?;
        Ok(Self {
            embedder,
            lstm,
            decoder_bias: Param::from_tensor(Tensor::zeros([config.vocab_size], device)),
            dropout: DropoutConfig::new(config.dropout).init(),
        })
    }

    /// Next-token logits `[batch, seq, vocab]` for ids `[batch, seq]`, continuing from
    /// `states`; returns the final states too.
    pub fn forward(
        &self,
        ids: Tensor<2, Int>,
        states: Option<Vec<LstmState>>,
    ) -> (Tensor<3>, Vec<LstmState>) {
        let x = self.dropout.forward(self.embedder.forward(ids));
        let (h, states) = self.lstm.forward_with_state(x, states);
        let h = self.dropout.forward(h);
        let [batch, seq, dim] = h.dims();
        let table = self.embedder.weights();
        let vocab = table.dims()[0];
        let logits = h.reshape([batch * seq, dim]).matmul(table.transpose())
            + self.decoder_bias.val().unsqueeze();
        (logits.reshape([batch, seq, vocab]), states)
    }
}

/// How [`train_language_model`] trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageModelTraining {
    pub epochs: usize,
    /// Parallel token streams per step.
    pub batch_size: usize,
    /// Tokens per stream per step (truncated backpropagation through time).
    pub bptt: usize,
    pub learning_rate: f64,
    pub schedule: LrSchedule,
    pub weight_decay: f64,
    pub max_grad_norm: f64,
    /// Use at most this many tokens of the corpus.
    pub max_tokens: Option<usize>,
    /// Start the softmax bias at the corpus' log unigram frequencies, so that training starts
    /// from the unigram model instead of spending its first hundreds of steps (and the LSTM's
    /// state) on learning word frequencies. For a fresh model; turn off to continue training.
    pub unigram_bias: bool,
    pub seed: u64,
    pub progress: bool,
}

impl Default for LanguageModelTraining {
    fn default() -> Self {
        Self {
            epochs: 1,
            batch_size: 32,
            bptt: 64,
            learning_rate: 3e-3,
            schedule: LrSchedule::SlantedTriangular {
                cut_fraction: 0.1,
                ratio: 32.0,
            },
            weight_decay: 0.01,
            max_grad_norm: 0.5,
            max_tokens: None,
            unigram_bias: true,
            seed: 0,
            progress: false,
        }
    }
}

/// What [`train_language_model`] did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguageModelReport {
    pub tokens: usize,
    pub steps: usize,
    /// Mean training loss (nats per token) of each epoch.
    pub epoch_losses: Vec<f64>,
    pub seconds: f64,
}

impl LanguageModelReport {
    /// exp(loss) of the last epoch.
    pub fn perplexity(&self) -> f64 {
        self.epoch_losses.last().map_or(f64::NAN, |l| l.exp())
    }
}

/// Trains `model` to predict each next token of `texts` (tokenized by `tokenizer`, joined by
/// the padding token): the corpus is cut into `batch_size` streams read `bptt` tokens at a
/// time, with the LSTM state carried (and detached) from one window to the next.
pub fn train_language_model<T: Tokenizer, S: AsRef<str> + Sync>(
    model: LstmLanguageModel,
    tokenizer: &T,
    texts: &[S],
    config: &LanguageModelTraining,
    device: &Device,
) -> Result<(LstmLanguageModel, LanguageModelReport)> {
    crate::data::check_texts("language-model texts", texts)?;
    super::check_vocabulary(tokenizer, model.embedder.vocab_size())?;
    let started = Instant::now();
    let pad = tokenizer.special_tokens().pad;
    let docs: Vec<Vec<u32>> = texts
        .par_iter()
        .map(|t| tokenizer.tokenize(t.as_ref()).ids)
        .collect();
    let mut stream: Vec<i64> = Vec::new();
    for doc in docs {
        stream.extend(doc.into_iter().map(i64::from));
        stream.push(i64::from(pad));
        if config.max_tokens.is_some_and(|m| stream.len() >= m) {
            break;
        }
    }
    if let Some(m) = config.max_tokens {
        stream.truncate(m);
    }
    let batch = config.batch_size.max(1);
    let per_stream = stream.len() / batch;
    let windows = per_stream.saturating_sub(1) / config.bptt.max(1);
    if windows == 0 {
        return Err(TransferError::InvalidConfig {
            field: "language-model texts",
            message: format!(
                "{} tokens are too few for {batch} streams of {} tokens",
                stream.len(),
                config.bptt
            ),
        });
    }
    // Stream b holds tokens [b·per_stream, (b+1)·per_stream).
    let data = Tensor::<2, Int>::from_data(
        TensorData::new(stream[..batch * per_stream].to_vec(), [batch, per_stream]),
        &device.clone().autodiff(),
    );
    let train_device = device.clone().autodiff();
    train_device.seed(config.seed);
    let model = if config.unigram_bias {
        model.with_unigram_bias(&stream[..batch * per_stream])
    } else {
        model
    };
    let mut model = model.train();
    let mut trainer = Trainer::new(TrainerParts {
        learning_rate: config.learning_rate,
        schedule: config.schedule,
        weight_decay: config.weight_decay,
        max_grad_norm: Some(config.max_grad_norm),
        total_steps: config.epochs * windows,
        progress: config.progress,
        label: "language model",
    });
    let mut epoch_losses = Vec::new();
    for epoch in 0..config.epochs {
        let mut states: Option<Vec<LstmState>> = None;
        let mut loss_sum = 0.0;
        let mut record = |read: Vec<(usize, f32)>, bar: &ProgressBar| {
            loss_sum += read.iter().map(|&(_, v)| f64::from(v)).sum::<f64>();
            if let Some(&(_, value)) = read.last() {
                let ppl = f64::from(value).exp();
                bar.set_message(format!("epoch {} loss {value:.3} ppl {ppl:.0}", epoch + 1));
            }
        };
        for w in 0..windows {
            let start = w * config.bptt;
            let inputs = data.clone().slice([0..batch, start..start + config.bptt]);
            let targets = data
                .clone()
                .slice([0..batch, start + 1..start + 1 + config.bptt]);
            let (logits, next) = model.forward(inputs, states);
            states = Some(next.into_iter().map(LstmState::detach).collect());
            let vocab = logits.dims()[2];
            let loss = cross_entropy(
                logits.reshape([batch * config.bptt, vocab]),
                targets.reshape([batch * config.bptt]),
            );
            let read;
            (model, read) = trainer.step(model, loss, epoch, whole(config.learning_rate))?;
            record(read, trainer.bar());
        }
        record(trainer.flush()?, trainer.bar());
        epoch_losses.push(loss_sum / windows as f64);
    }
    trainer.bar().finish_and_clear();
    Ok((
        model.valid(),
        LanguageModelReport {
            tokens: batch * per_stream,
            steps: trainer.steps(),
            epoch_losses,
            seconds: started.elapsed().as_secs_f64(),
        },
    ))
}

impl LstmLanguageModel {
    /// Mean next-token loss (nats) on `texts`, without training.
    pub fn evaluate<T: Tokenizer, S: AsRef<str> + Sync>(
        &self,
        tokenizer: &T,
        texts: &[S],
        bptt: usize,
    ) -> Result<f64> {
        super::check_vocabulary(tokenizer, self.embedder.vocab_size())?;
        let device = self
            .embedder
            .devices()
            .into_iter()
            .next()
            .unwrap_or_default();
        let (mut sum, mut n) = (0.0, 0usize);
        for text in texts {
            let ids: Vec<i64> = tokenizer
                .tokenize(text.as_ref())
                .ids
                .into_iter()
                .map(i64::from)
                .collect();
            for chunk in ids.chunks(bptt + 1).filter(|c| c.len() > 1) {
                let len = chunk.len() - 1;
                let inputs = Tensor::<2, Int>::from_data(
                    TensorData::new(chunk[..len].to_vec(), [1, len]),
                    &device,
                );
                let targets = Tensor::<1, Int>::from_data(
                    TensorData::new(chunk[1..].to_vec(), [len]),
                    &device,
                );
                let (logits, _) = self.forward(inputs, None);
                let vocab = logits.dims()[2];
                let loss = cross_entropy(logits.reshape([len, vocab]), targets);
                sum += f64::from(loss.into_scalar::<f32>()) * len as f64;
                n += len;
            }
        }
        Ok(sum / n.max(1) as f64)
    }

    /// The same model with its softmax bias set to the log relative frequency of each token in
    /// `ids` (add-one smoothed), so that an untrained model predicts the unigram distribution.
    pub fn with_unigram_bias(mut self, ids: &[i64]) -> Self {
        let vocab = self.decoder_bias.dims()[0];
        let mut counts = vec![1.0f64; vocab];
        for &id in ids {
            if let Some(c) = usize::try_from(id).ok().and_then(|i| counts.get_mut(i)) {
                *c += 1.0;
            }
        }
        let total: f64 = counts.iter().sum();
        let bias: Vec<f32> = counts.iter().map(|c| (c / total).ln() as f32).collect();
        let device = self.decoder_bias.device();
        self.decoder_bias =
            Param::from_tensor(Tensor::from_data(TensorData::new(bias, [vocab]), &device));
        self
    }

    /// The number of LSTM layers and their size.
    pub fn shape(&self) -> (usize, usize) {
        (self.lstm.num_layers(), self.lstm.output_dim())
    }
}
