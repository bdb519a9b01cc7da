use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig,
    Linear, LinearConfig,
};
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use transfer_kernels as fused;

use crate::{EmbedderError, TokenEmbedder};

/// Shape of [`DebertaV2Embeddings`]; field names as in Hugging Face's `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebertaV2EmbeddingsConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    /// The tables' width when it differs from `hidden_size` (then projected, `embed_proj`).
    pub embedding_size: Option<usize>,
    pub max_position_embeddings: usize,
    /// Absolute positions added to the tokens (`position_biased_input`; false in DeBERTa-v3,
    /// whose positions are only relative, inside attention).
    pub position_biased_input: bool,
    /// 0: no token types.
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    pub hidden_dropout_prob: f64,
}

/// DeBERTa-v2/v3's input embeddings: the token table (plus absolute positions and token types
/// when configured), the projection to the hidden size when narrower, LayerNorm and dropout.
/// Field names mirror Hugging Face's `embeddings.*`. transformers also zeroes the padded
/// positions; attention never reads them, so the real positions' states are the same.
#[derive(Module, Debug)]
pub struct DebertaV2Embeddings {
    pub word_embeddings: Embedding,
    pub position_embeddings: Option<Embedding>,
    pub token_type_embeddings: Option<Embedding>,
    pub embed_proj: Option<Linear>,
    /// Hugging Face's `LayerNorm`.
    pub layer_norm: LayerNorm,
    dropout: Dropout,
    layer_norm_eps: f64,
    max_position_embeddings: usize,
}

impl TokenEmbedder for DebertaV2Embeddings {
    type Config = DebertaV2EmbeddingsConfig;

    fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let [batch, seq] = ids.dims();
        let device = ids.device();
        let mut x = self.word_embeddings.forward(ids);
        let width = x.dims()[2];
        if let Some(table) = &self.position_embeddings {
            let positions = Tensor::<1, Int>::arange(0..seq as i64, &device).unsqueeze::<2>();
            x = x + table.forward(positions).expand([batch, seq, width]);
        }
        if let Some(table) = &self.token_type_embeddings {
            let zeros = Tensor::<2, Int>::zeros([1, seq], &device);
            x = x + table.forward(zeros).expand([batch, seq, width]);
        }
        if let Some(projection) = &self.embed_proj {
            x = projection.forward(x);
        }
        let normed = fused::layer_norm(&self.layer_norm, self.layer_norm_eps, x);
        fused::dropout(&self.dropout, normed)
    }

    fn dim(&self) -> usize {
        self.layer_norm.gamma.lazy_shape().dims::<1>()[0]
    }

    fn vocab_size(&self) -> usize {
        self.word_embeddings.weight.lazy_shape().dims::<2>()[0]
    }

    /// `max_position_embeddings`, what the model was trained at, also for relative positions.
    fn max_sequence_length(&self) -> Option<usize> {
        Some(self.max_position_embeddings)
    }

    fn config(&self) -> DebertaV2EmbeddingsConfig {
        let width = self.word_embeddings.weight.lazy_shape().dims::<2>()[1];
        DebertaV2EmbeddingsConfig {
            vocab_size: self.vocab_size(),
            hidden_size: self.dim(),
            embedding_size: (width != self.dim()).then_some(width),
            max_position_embeddings: self.max_position_embeddings,
            position_biased_input: self.position_embeddings.is_some(),
            type_vocab_size: self
                .token_type_embeddings
                .as_ref()
                .map_or(0, |t| t.weight.lazy_shape().dims::<2>()[0]),
            layer_norm_eps: self.layer_norm_eps,
            hidden_dropout_prob: self.dropout.prob,
        }
    }

    fn from_config(
        config: &DebertaV2EmbeddingsConfig,
        device: &Device,
    ) -> Result<Self, EmbedderError> {
        let invalid = |field, message: String| Err(EmbedderError::InvalidConfig { field, message });
        let width = config.embedding_size.unwrap_or(config.hidden_size);
        for (field, value) in [
            ("vocab_size", config.vocab_size),
            ("hidden_size", config.hidden_size),
            ("embedding_size", width),
            ("max_position_embeddings", config.max_position_embeddings),
        ] {
            if value == 0 {
                return invalid(field, "must be at least 1".into());
            }
        }
        if !(config.layer_norm_eps.is_finite() && config.layer_norm_eps > 0.0) {
            return invalid(
                "layer_norm_eps",
                format!("{} is not positive", config.layer_norm_eps),
            );
        }
        if !(0.0..1.0).contains(&config.hidden_dropout_prob) {
            return invalid(
                "hidden_dropout_prob",
                format!("{} is not in [0, 1)", config.hidden_dropout_prob),
            );
        }
        let table = |rows| {
            EmbeddingConfig::new(rows, width)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: 0.02,
                })
                .init(device)
        };
        Ok(Self {
            word_embeddings: table(config.vocab_size),
            position_embeddings: config
                .position_biased_input
                .then(|| table(config.max_position_embeddings)),
            token_type_embeddings: (config.type_vocab_size > 0)
                .then(|| table(config.type_vocab_size)),
            embed_proj: (width != config.hidden_size).then(|| {
                LinearConfig::new(width, config.hidden_size)
                    .with_bias(false)
                    .init(device)
            }),
            layer_norm: LayerNormConfig::new(config.hidden_size)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            layer_norm_eps: config.layer_norm_eps,
            max_position_embeddings: config.max_position_embeddings,
        })
    }
}
