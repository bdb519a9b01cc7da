//! `bilstm-frozen` and `bilstm-tuned`: the study's word vectors under a BiLSTM, the vectors
//! frozen or fine-tuned with the rest.

use transfer_nlp::contextual::{Lstm, LstmConfig};
use transfer_nlp::embedder::{LearnedEmbedding, OovPolicy};
use transfer_nlp::predictor::{PooledClassifier, PooledClassifierConfig, Pooling};
use transfer_nlp::tokenizer::{EncodePolicy, VocabularyConfig, WordLevelTokenizer};
use transfer_nlp::{
    ContextualEmbedder, Example, LrSchedule, Predictor, Stage, TrainConfig, TransferError,
    TransferPipeline,
};

use super::{CellScore, Recipe};
use crate::context::{Context, texts};

/// Word vectors + BiLSTM + mean pooling + linear head.
pub type BilstmPipeline =
    TransferPipeline<WordLevelTokenizer, LearnedEmbedding, Lstm, PooledClassifier>;

/// The vectors under a BiLSTM; the embedding table frozen when `frozen`.
pub struct WordVectorBilstm {
    name: &'static str,
    frozen: bool,
}

impl WordVectorBilstm {
    pub const fn new(name: &'static str, frozen: bool) -> Self {
        Self { name, frozen }
    }
}

impl Recipe for WordVectorBilstm {
    fn name(&self) -> &'static str {
        self.name
    }

    fn run_cell(
        &self,
        ctx: &Context,
        sample: &[Example],
        seed: u64,
    ) -> Result<CellScore, TransferError> {
        let mut pipeline = ctx.bilstm_pipeline(sample, seed)?;
        if self.frozen {
            pipeline.freeze(Stage::Embedder);
        }
        let report = pipeline.train(sample, &ctx.bilstm_training(sample.len(), seed))?;
        let metrics = pipeline.evaluate(ctx.test)?;
        Ok(CellScore {
            accuracy: metrics.accuracy.unwrap_or(0.0),
            train_seconds: report.seconds,
        })
    }
}

impl Context<'_> {
    /// A fresh BiLSTM classifier over the study's vectors. Its vocabulary is every word of
    /// `sample` and then every word of the vectors, so that test words the sample lacks keep
    /// their vector; sample words without one get random rows at the vectors' scale (drawn
    /// from `seed`).
    pub fn bilstm_pipeline(
        &self,
        sample: &[Example],
        seed: u64,
    ) -> Result<BilstmPipeline, TransferError> {
        let s = &self.config.bilstm;
        let (vectors, _) = self.vectors()?;
        let vocabulary = VocabularyConfig {
            min_count: 1,
            max_size: usize::MAX,
            lowercase: true,
        };
        let tokenizer =
            WordLevelTokenizer::train(&texts(sample), &vocabulary)?.with_words(vectors.words());
        self.device.seed(seed);
        let (embedding, _) =
            vectors.embedding_for(&tokenizer, OovPolicy::RandomWithVectorScale, &self.device)?;
        let lstm = Lstm::from_config(
            &LstmConfig::new(vectors.dim(), s.hidden).with_bidirectional(true),
            &self.device,
        )?;
        let head = PooledClassifier::from_config(
            &PooledClassifierConfig::new(lstm.output_dim(), 2)
                .with_pooling(Pooling::Mean)
                .with_dropout(s.dropout),
            &self.device,
        )?;
        Ok(
            TransferPipeline::new(tokenizer, embedding, lstm, head, &self.device)?
                .with_encode_policy(EncodePolicy::new(s.max_length))?
                .with_inference_batch_size(64),
        )
    }

    /// The BiLSTM's training settings for `examples` training examples.
    pub fn bilstm_training(&self, examples: usize, seed: u64) -> TrainConfig {
        let s = &self.config.bilstm;
        TrainConfig {
            epochs: s.min_epochs,
            min_steps: s.min_steps,
            batch_size: s.batch_size.min(examples),
            learning_rate: s.learning_rate,
            schedule: LrSchedule::WarmupLinearDecay {
                warmup_fraction: 0.1,
            },
            weight_decay: 0.0,
            max_grad_norm: Some(1.0),
            seed,
            progress: self.progress,
            ..TrainConfig::default()
        }
    }
}
