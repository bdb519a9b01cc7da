//! Transfer learning for NLP in Rust.
//!
//! A modern NLP system has four parts, one crate each, re-exported here:
//!
//! | stage | trait | implementations |
//! | --- | --- | --- |
//! | [`tokenizer`]: text → token ids | [`Tokenizer`] | word-level, Hugging Face `tokenizer.json`, BERT `vocab.txt` |
//! | [`embedder`]: ids → vectors | [`TokenEmbedder`] | learned table, GloVe / word2vec vectors, BERT embeddings |
//! | [`contextual`]: vectors → context-aware vectors | [`ContextualEmbedder`] | bag of embeddings, LSTM, BERT encoder |
//! | [`predictor`]: states → the task's output | [`Predictor`] | pooled classifier, pooled regressor |
//!
//! [`TransferPipeline`] ([`pipeline`]) composes any four, freezes or fine-tunes each, trains,
//! evaluates, predicts, saves and loads; the same crate pretrains language models, reads IMDB
//! and Hugging Face checkpoints, and has NB-SVM and word-vector-sum classifiers. [`kernels`]
//! holds the fast paths under the stages. Everything runs on Burn's pure-Rust CPU backend
//! (`Device::flex()`) or, with the `tch` feature, on libtorch (CPU and CUDA).

pub mod fetch;

/// Burn, the tensor library under every stage (`burn::prelude::Device`): one dependency is
/// enough to use the library.
pub use burn;

pub use transfer_contextual as contextual;
pub use transfer_embedder as embedder;
pub use transfer_hub as hub;
pub use transfer_kernels as kernels;
pub use transfer_pipeline as pipeline;
pub use transfer_predictor as predictor;
pub use transfer_tokenizer as tokenizer;
pub use transfer_word2vec as word2vec;

pub use transfer_contextual::ContextualEmbedder;
pub use transfer_embedder::TokenEmbedder;
pub use transfer_pipeline::{
    AnyPipeline, Batch, ClassPrediction, Example, LabeledText, LabelsPrediction, LrSchedule,
    Metrics, Prediction, Stage, Target, TrainConfig, TrainReport, TransferError, TransferPipeline,
};
pub use transfer_predictor::Predictor;
pub use transfer_tokenizer::Tokenizer;

// The README's Rust example compiles as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
