//! The two networks of the study, MiniLM (BERT) and ULMFiT, each as a [`Network`]: how its
//! pipeline is built and trained, so that the self-training and ensemble recipes are written
//! once for both.

use transfer_nlp::contextual::{AnyContextual, Lstm, Precision};
use transfer_nlp::embedder::{AnyEmbedder, LearnedEmbedding};
use transfer_nlp::pipeline::io::hf::{PretrainedEncoder, PretrainedModel};
use transfer_nlp::predictor::{PooledClassifier, PooledClassifierConfig, Pooling};
use transfer_nlp::tokenizer::{EncodePolicy, HfTokenizer, Truncation, WordLevelTokenizer};
use transfer_nlp::{
    ContextualEmbedder, Example, LrSchedule, Predictor, TokenEmbedder, Tokenizer, TrainConfig,
    TransferError, TransferPipeline,
};

use crate::context::Context;
use crate::ensemble::scale_and_test_scores;
use crate::recipes::ulmfit_scores;

/// A network a recipe trains: MiniLM ([`Bert`]) or ULMFiT ([`Ulmfit`]).
pub trait Network: Sync {
    type Tokenizer: Tokenizer;
    type Embedder: TokenEmbedder;
    type Contextual: ContextualEmbedder;
    type Predictor: Predictor;

    /// `bert` or `ulmfit`, in logs.
    fn name(&self) -> &'static str;
    /// Builds on ULMFiT's language model.
    fn uses_language_model(&self) -> bool;
    /// A fresh pipeline, ready to train.
    fn pipeline(&self, ctx: &Context) -> Result<NetworkPipeline<Self>, TransferError>;
    /// The training settings of a teacher (trained on the labelled sample) of `examples`.
    fn teacher_training(&self, ctx: &Context, examples: usize, seed: u64) -> TrainConfig;
    /// The training settings of a self-trained student of `examples`.
    fn student_training(&self, ctx: &Context, examples: usize, seed: u64) -> TrainConfig;
    /// The network trained on `sample` as its own recipe does: its log-odds on the test set and
    /// on the unlabelled reviews that weigh it in an ensemble, and its training seconds.
    fn sample_scores(
        &self,
        ctx: &Context,
        sample: &[Example],
        seed: u64,
    ) -> Result<([Vec<f64>; 2], f64), TransferError>;
}

/// The pipeline of a [`Network`].
pub type NetworkPipeline<N> = TransferPipeline<
    <N as Network>::Tokenizer,
    <N as Network>::Embedder,
    <N as Network>::Contextual,
    <N as Network>::Predictor,
>;

/// MiniLM with a mean-pooled linear head, fine-tuned as the reference does.
pub struct Bert;

impl Network for Bert {
    type Tokenizer = HfTokenizer;
    type Embedder = AnyEmbedder;
    type Contextual = AnyContextual;
    type Predictor = PooledClassifier;

    fn name(&self) -> &'static str {
        "bert"
    }

    fn uses_language_model(&self) -> bool {
        false
    }

    fn pipeline(&self, ctx: &Context) -> Result<BertPipeline, TransferError> {
        ctx.bert_pipeline(false)
    }

    fn teacher_training(&self, ctx: &Context, examples: usize, seed: u64) -> TrainConfig {
        ctx.bert_training(examples, ctx.config.bert.min_epochs, seed)
    }

    fn student_training(&self, ctx: &Context, examples: usize, seed: u64) -> TrainConfig {
        ctx.bert_training(examples, ctx.config.self_training.student_epochs, seed)
    }

    fn sample_scores(
        &self,
        ctx: &Context,
        sample: &[Example],
        seed: u64,
    ) -> Result<([Vec<f64>; 2], f64), TransferError> {
        let (bert, seconds) = ctx.trained_bert(sample, seed, false)?;
        Ok((scale_and_test_scores(ctx, &bert, seed)?, seconds))
    }
}

/// ULMFiT's classifier on the run's language model.
pub struct Ulmfit;

impl Network for Ulmfit {
    type Tokenizer = WordLevelTokenizer;
    type Embedder = LearnedEmbedding;
    type Contextual = Lstm;
    type Predictor = PooledClassifier;

    fn name(&self) -> &'static str {
        "ulmfit"
    }

    fn uses_language_model(&self) -> bool {
        true
    }

    fn pipeline(&self, ctx: &Context) -> Result<UlmfitPipeline, TransferError> {
        ctx.ulmfit_pipeline()
    }

    fn teacher_training(&self, ctx: &Context, examples: usize, seed: u64) -> TrainConfig {
        ctx.ulmfit_training(examples, seed)
    }

    fn student_training(&self, ctx: &Context, examples: usize, seed: u64) -> TrainConfig {
        ctx.ulmfit_training(examples, seed)
    }

    /// The `ulmfit` cell's classifier's scores when it was trained already.
    fn sample_scores(
        &self,
        ctx: &Context,
        sample: &[Example],
        seed: u64,
    ) -> Result<([Vec<f64>; 2], f64), TransferError> {
        let scores = ulmfit_scores(ctx, sample, seed)?;
        Ok(([scores.test, scores.unlabelled], scores.train_seconds))
    }
}

impl Context<'_> {
    /// The pretrained (or domain-adapted) encoder of `bert.model_dir`, any supported family,
    /// with a fresh linear head on its own pooling (the mean; GPT-2's last token).
    pub fn bert_pipeline(&self, adapted: bool) -> Result<BertPipeline, TransferError> {
        let s = &self.config.bert;
        let model = if adapted {
            let mlm = self.adapted_bert()?;
            let mut bert = PretrainedEncoder::load(s.model_source(), &self.device)?;
            bert.embeddings = mlm.embeddings.clone();
            bert.encoder = mlm.encoder.clone();
            PretrainedModel::from(bert)
        } else {
            PretrainedModel::load(s.model_source(), &self.device)?
        };
        let pooling = model.pooling();
        let encoder = match model.encoder {
            AnyContextual::Bert(encoder) => {
                AnyContextual::Bert(encoder.with_precision(s.precision))
            }
            _ if s.precision != Precision::F32 => {
                return Err(TransferError::InvalidConfig {
                    field: "bert.precision",
                    message: format!(
                        "mixed precision runs BERT-layout encoders only; {} is {}",
                        s.model_dir.display(),
                        model.family.model_type()
                    ),
                });
            }
            other => other,
        };
        let head = PooledClassifier::from_config(
            &PooledClassifierConfig::new(encoder.output_dim(), 2)
                .with_pooling(pooling)
                .with_dropout(0.1),
            &self.device,
        )?;
        let truncation = if s.head_tail {
            Truncation::KeepStartAndEnd {
                start: 128.min(s.max_length / 2),
            }
        } else {
            Truncation::KeepStart
        };
        Ok(TransferPipeline::new(
            model.tokenizer,
            model.embeddings,
            encoder,
            head,
            &self.device,
        )?
        .with_encode_policy(EncodePolicy::new(s.max_length).with_truncation(truncation))?
        .with_inference_batch_size(64))
    }

    /// The reference's fine-tuning recipe for `examples` training examples.
    pub fn bert_training(&self, examples: usize, epochs: usize, seed: u64) -> TrainConfig {
        let s = &self.config.bert;
        TrainConfig {
            epochs,
            min_steps: s.min_steps,
            batch_size: s.batch_size.min(examples),
            learning_rate: s.learning_rate,
            schedule: LrSchedule::WarmupLinearDecay {
                warmup_fraction: 0.1,
            },
            weight_decay: 0.01,
            max_grad_norm: Some(1.0),
            seed,
            progress: self.progress,
            ..TrainConfig::default()
        }
    }

    /// MiniLM (pretrained, or `adapted`) fine-tuned on `sample` as `bert`, and its training
    /// seconds.
    pub fn trained_bert(
        &self,
        sample: &[Example],
        seed: u64,
        adapted: bool,
    ) -> Result<(BertPipeline, f64), TransferError> {
        let mut bert = self.bert_pipeline(adapted)?;
        let config = self.bert_training(sample.len(), self.config.bert.min_epochs, seed);
        let report = bert.train(sample, &config)?;
        Ok((bert, report.seconds))
    }

    /// A classifier on the language model's embedder and LSTM: concat pooling, a 50-unit
    /// hidden layer, the last `max_length` tokens of each review.
    pub fn ulmfit_pipeline(&self) -> Result<UlmfitPipeline, TransferError> {
        let s = &self.config.ulmfit;
        let (tokenizer, lm) = self.language_model()?;
        let head = PooledClassifier::from_config(
            &PooledClassifierConfig::new(lm.lstm.output_dim(), 2)
                .with_pooling(Pooling::Concat)
                .with_hidden_dim(Some(50))
                .with_dropout(s.classifier_head_dropout),
            &self.device,
        )?;
        TransferPipeline::new(
            tokenizer.clone(),
            lm.embedder.clone(),
            lm.lstm.clone().with_dropout(s.classifier_lstm_dropout)?,
            head,
            &self.device,
        )?
        .with_encode_policy(EncodePolicy::new(s.max_length).with_truncation(Truncation::KeepEnd))
    }

    /// ULMFiT's classifier recipe for `examples` training examples.
    pub fn ulmfit_training(&self, examples: usize, seed: u64) -> TrainConfig {
        let s = &self.config.ulmfit;
        TrainConfig {
            epochs: s.min_epochs,
            min_steps: s.min_steps,
            batch_size: 32.min(examples),
            learning_rate: s.learning_rate,
            schedule: LrSchedule::SlantedTriangular {
                cut_fraction: 0.1,
                ratio: 32.0,
            },
            weight_decay: 0.01,
            max_grad_norm: Some(1.0),
            gradual_unfreezing: true,
            seed,
            progress: self.progress,
            ..TrainConfig::default()
        }
        .with_discriminative_rates(2.6)
    }
}

/// A pretrained transformer (MiniLM by default) under a pooled linear head.
pub type BertPipeline = TransferPipeline<HfTokenizer, AnyEmbedder, AnyContextual, PooledClassifier>;

/// ULMFiT's classifier: the language model's embedder and LSTM under a pooled head.
pub type UlmfitPipeline =
    TransferPipeline<WordLevelTokenizer, LearnedEmbedding, Lstm, PooledClassifier>;

/// The log-odds of the positive class for each text.
pub fn log_odds<T, E, C, P>(
    pipeline: &TransferPipeline<T, E, C, P>,
    texts: &[&str],
) -> Result<Vec<f64>, TransferError>
where
    T: Tokenizer,
    E: TokenEmbedder,
    C: ContextualEmbedder,
    P: Predictor,
{
    Ok(pipeline
        .outputs(texts)?
        .iter()
        .map(|logits| f64::from(logits[1] - logits[0]))
        .collect())
}
