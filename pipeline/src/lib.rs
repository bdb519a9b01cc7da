//! [`TransferPipeline`]: a tokenizer, a token embedder, a contextual embedder and a predictor
//! composed into one model whose stages can each be frozen or fine-tuned.
//!
//! ```
//! use burn::prelude::*;
//! use transfer_pipeline::{Example, Stage, TrainConfig, TransferPipeline};
//! use transfer_contextual::{BagOfEmbeddings, ContextualEmbedder, BagOfEmbeddingsConfig};
//! use transfer_embedder::{LearnedEmbedding, LearnedEmbeddingConfig, TokenEmbedder};
//! use transfer_predictor::{PooledClassifier, PooledClassifierConfig, Predictor};
//! use transfer_tokenizer::{Tokenizer, VocabularyConfig, WordLevelTokenizer};
//!
//! let train = vec![
//!     Example::class("a wonderful, moving film", 1),
//!     Example::class("wonderful acting", 1),
//!     Example::class("a dull, boring mess", 0),
//!     Example::class("boring and dull", 0),
//! ];
//! let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
//! let device = Device::flex();
//! let tokenizer = WordLevelTokenizer::train(&texts, &VocabularyConfig::default())?;
//! let embedder = LearnedEmbedding::from_config(
//!     &LearnedEmbeddingConfig::new(tokenizer.vocab_size(), 8), &device)?;
//! let bag = BagOfEmbeddings::from_config(&BagOfEmbeddingsConfig { dim: 8 }, &device)?;
//! let head = PooledClassifier::from_config(&PooledClassifierConfig::new(8, 2), &device)?;
//! let mut pipeline = TransferPipeline::new(tokenizer, embedder, bag, head, &device)?
//!     .with_labels(["negative", "positive"])?;
//!
//! let config = TrainConfig { epochs: 30, batch_size: 2, learning_rate: 0.05, ..Default::default() };
//! pipeline.train(&train, &config)?;
//! let predictions = pipeline.predict(&["wonderful", "boring"])?;
//! assert_eq!(predictions[0].as_class().unwrap().label, "positive");
//! assert_eq!(predictions[1].as_class().unwrap().label, "negative");
//! # Ok::<(), transfer_pipeline::TransferError>(())
//! ```

pub mod classifiers;
pub mod data;
mod error;
pub mod explain;
pub mod io;
pub mod metrics;
mod pipeline;
pub mod pretraining;
pub mod runtime;
mod stages;
pub mod training;

pub use data::{Example, LabeledText, Target};
pub use error::{Result, TransferError};
pub use explain::{Attribution, TokenAttribution};
pub use io::{FORMAT, MANIFEST, load_weights, save_weights, write_atomic};
pub use metrics::{
    ClassScores, Metrics, MultiLabelScores, RegressionScores, best_threshold, class_report,
    classification_scores, multi_label_report, regression_scores,
};
pub use pipeline::{Batch, ClassPrediction, LabelsPrediction, Prediction, TransferPipeline};

/// A pipeline of any of the library's stages, chosen at run time: what `transfer train`
/// saves, and what [`TransferPipeline::load`] reads back whatever the stages were.
pub type AnyPipeline = TransferPipeline<
    transfer_tokenizer::AnyTokenizer,
    transfer_embedder::AnyEmbedder,
    transfer_contextual::AnyContextual,
    transfer_predictor::AnyPredictor,
>;
pub use stages::{Stage, Stages};
pub use training::{CheckpointConfig, EpochReport, LrSchedule, TrainConfig, TrainReport};
