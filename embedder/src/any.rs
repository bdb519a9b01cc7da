use burn::module::Module;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    BertEmbeddings, BertEmbeddingsConfig, DebertaV2Embeddings, DebertaV2EmbeddingsConfig,
    EmbedderError, Gpt2Embeddings, Gpt2EmbeddingsConfig, LearnedEmbedding, LearnedEmbeddingConfig,
    ModernBertEmbeddings, ModernBertEmbeddingsConfig, TokenEmbedder,
};

/// Any token embedder of this crate, chosen at run time (the `transfer` CLI uses it).
// Stages are built once and moved rarely; boxing would only add indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum AnyEmbedder {
    Learned(LearnedEmbedding),
    Bert(BertEmbeddings),
    ModernBert(ModernBertEmbeddings),
    Gpt2(Gpt2Embeddings),
    DebertaV2(DebertaV2Embeddings),
}

/// The config of an [`AnyEmbedder`], tagged with its `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnyEmbedderConfig {
    Learned(LearnedEmbeddingConfig),
    Bert(BertEmbeddingsConfig),
    ModernBert(ModernBertEmbeddingsConfig),
    Gpt2(Gpt2EmbeddingsConfig),
    DebertaV2(DebertaV2EmbeddingsConfig),
}

impl From<LearnedEmbedding> for AnyEmbedder {
    fn from(e: LearnedEmbedding) -> Self {
        Self::Learned(e)
    }
}

impl From<BertEmbeddings> for AnyEmbedder {
    fn from(e: BertEmbeddings) -> Self {
        Self::Bert(e)
    }
}

impl From<ModernBertEmbeddings> for AnyEmbedder {
    fn from(e: ModernBertEmbeddings) -> Self {
        Self::ModernBert(e)
    }
}

impl From<Gpt2Embeddings> for AnyEmbedder {
    fn from(e: Gpt2Embeddings) -> Self {
        Self::Gpt2(e)
    }
}

impl From<DebertaV2Embeddings> for AnyEmbedder {
    fn from(e: DebertaV2Embeddings) -> Self {
        Self::DebertaV2(e)
    }
}

impl TokenEmbedder for AnyEmbedder {
    type Config = AnyEmbedderConfig;

    fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        match self {
            Self::Learned(e) => e.forward(ids),
            Self::Bert(e) => e.forward(ids),
            Self::ModernBert(e) => e.forward(ids),
            Self::Gpt2(e) => e.forward(ids),
            Self::DebertaV2(e) => e.forward(ids),
        }
    }

    fn dim(&self) -> usize {
        match self {
            Self::Learned(e) => e.dim(),
            Self::Bert(e) => e.dim(),
            Self::ModernBert(e) => e.dim(),
            Self::Gpt2(e) => e.dim(),
            Self::DebertaV2(e) => e.dim(),
        }
    }

    fn vocab_size(&self) -> usize {
        match self {
            Self::Learned(e) => e.vocab_size(),
            Self::Bert(e) => e.vocab_size(),
            Self::ModernBert(e) => e.vocab_size(),
            Self::Gpt2(e) => e.vocab_size(),
            Self::DebertaV2(e) => e.vocab_size(),
        }
    }

    fn max_sequence_length(&self) -> Option<usize> {
        match self {
            Self::Learned(e) => e.max_sequence_length(),
            Self::Bert(e) => e.max_sequence_length(),
            Self::ModernBert(e) => e.max_sequence_length(),
            Self::Gpt2(e) => e.max_sequence_length(),
            Self::DebertaV2(e) => e.max_sequence_length(),
        }
    }

    fn config(&self) -> AnyEmbedderConfig {
        match self {
            Self::Learned(e) => AnyEmbedderConfig::Learned(e.config()),
            Self::Bert(e) => AnyEmbedderConfig::Bert(e.config()),
            Self::ModernBert(e) => AnyEmbedderConfig::ModernBert(e.config()),
            Self::Gpt2(e) => AnyEmbedderConfig::Gpt2(e.config()),
            Self::DebertaV2(e) => AnyEmbedderConfig::DebertaV2(e.config()),
        }
    }

    fn from_config(config: &AnyEmbedderConfig, device: &Device) -> Result<Self, EmbedderError> {
        Ok(match config {
            AnyEmbedderConfig::Learned(c) => {
                Self::Learned(LearnedEmbedding::from_config(c, device)?)
            }
            AnyEmbedderConfig::Bert(c) => Self::Bert(BertEmbeddings::from_config(c, device)?),
            AnyEmbedderConfig::ModernBert(c) => {
                Self::ModernBert(ModernBertEmbeddings::from_config(c, device)?)
            }
            AnyEmbedderConfig::Gpt2(c) => Self::Gpt2(Gpt2Embeddings::from_config(c, device)?),
            AnyEmbedderConfig::DebertaV2(c) => {
                Self::DebertaV2(DebertaV2Embeddings::from_config(c, device)?)
            }
        })
    }
}
