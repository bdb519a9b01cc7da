use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig,
};
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use transfer_kernels as fused;

use crate::{EmbedderError, TokenEmbedder};

/// Shape of [`ModernBertEmbeddings`]; field names as in Hugging Face's `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModernBertEmbeddingsConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub norm_eps: f64,
    /// Whether the LayerNorm has a bias (`norm_bias`; false in the released models).
    pub norm_bias: bool,
    pub embedding_dropout: f64,
}

/// ModernBERT's input embeddings: the token table, LayerNorm and dropout; positions enter
/// later, as rotations inside attention. Field names mirror Hugging Face's `embeddings.*`.
#[derive(Module, Debug)]
pub struct ModernBertEmbeddings {
    pub tok_embeddings: Embedding,
    pub norm: LayerNorm,
    drop: Dropout,
    norm_eps: f64,
}

impl TokenEmbedder for ModernBertEmbeddings {
    type Config = ModernBertEmbeddingsConfig;

    fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let words = self.tok_embeddings.forward(ids);
        fused::dropout(
            &self.drop,
            fused::layer_norm(&self.norm, self.norm_eps, words),
        )
    }

    fn dim(&self) -> usize {
        self.tok_embeddings.weight.lazy_shape().dims::<2>()[1]
    }

    fn vocab_size(&self) -> usize {
        self.tok_embeddings.weight.lazy_shape().dims::<2>()[0]
    }

    fn config(&self) -> ModernBertEmbeddingsConfig {
        ModernBertEmbeddingsConfig {
            vocab_size: self.vocab_size(),
            hidden_size: self.dim(),
            norm_eps: self.norm_eps,
            norm_bias: self.norm.beta.is_some(),
            embedding_dropout: self.drop.prob,
        }
    }

    fn from_config(
        config: &ModernBertEmbeddingsConfig,
        device: &Device,
    ) -> Result<Self, EmbedderError> {
        let invalid = |field, message: String| Err(EmbedderError::InvalidConfig { field, message });
        if config.vocab_size == 0 || config.hidden_size == 0 {
            return invalid("vocab_size", "the table must have rows and columns".into());
        }
        if !(config.norm_eps.is_finite() && config.norm_eps > 0.0) {
            return invalid("norm_eps", format!("{} is not positive", config.norm_eps));
        }
        if !(0.0..1.0).contains(&config.embedding_dropout) {
            return invalid(
                "embedding_dropout",
                format!("{} is not in [0, 1)", config.embedding_dropout),
            );
        }
        Ok(Self {
            tok_embeddings: EmbeddingConfig::new(config.vocab_size, config.hidden_size)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: 0.02,
                })
                .init(device),
            norm: LayerNormConfig::new(config.hidden_size)
                .with_epsilon(config.norm_eps)
                .with_bias(config.norm_bias)
                .init(device),
            drop: DropoutConfig::new(config.embedding_dropout).init(),
            norm_eps: config.norm_eps,
        })
    }
}
