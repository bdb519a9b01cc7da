use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig,
};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{EmbedderError, TokenEmbedder};

/// Shape of [`BertEmbeddings`]; field names as in Hugging Face's `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BertEmbeddingsConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    pub hidden_dropout_prob: f64,
}

impl BertEmbeddingsConfig {
    /// The fields of a Hugging Face BERT `config.json` this stage uses (the rest is ignored).
    pub fn from_hf_json(json: &serde_json::Value) -> Result<Self, EmbedderError> {
        let field = |name: &'static str| {
            json.get(name).ok_or(EmbedderError::InvalidConfig {
                field: name,
                message: "missing from config.json".into(),
            })
        };
        let usize_field = |name: &'static str| {
            field(name)?
                .as_u64()
                .map(|v| v as usize)
                .ok_or(EmbedderError::InvalidConfig {
                    field: name,
                    message: "not a non-negative integer".into(),
                })
        };
        let f64_field = |name: &'static str, default: f64| match json.get(name) {
            None => Ok(default),
            Some(v) => v.as_f64().ok_or(EmbedderError::InvalidConfig {
                field: name,
                message: "not a number".into(),
            }),
        };
        Ok(Self {
            vocab_size: usize_field("vocab_size")?,
            hidden_size: usize_field("hidden_size")?,
            max_position_embeddings: usize_field("max_position_embeddings")?,
            type_vocab_size: json
                .get("type_vocab_size")
                .and_then(|v| v.as_u64())
                .unwrap_or(2) as usize,
            layer_norm_eps: f64_field("layer_norm_eps", 1e-12)?,
            hidden_dropout_prob: f64_field("hidden_dropout_prob", 0.1)?,
        })
    }

    fn validate(&self) -> Result<(), EmbedderError> {
        let invalid = |field, message: String| Err(EmbedderError::InvalidConfig { field, message });
        for (field, value) in [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
        ] {
            if value == 0 {
                return invalid(field, "must be at least 1".into());
            }
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps > 0.0) {
            return invalid(
                "layer_norm_eps",
                format!("{} is not positive", self.layer_norm_eps),
            );
        }
        if !(0.0..1.0).contains(&self.hidden_dropout_prob) {
            return invalid(
                "hidden_dropout_prob",
                format!("{} is not in [0, 1)", self.hidden_dropout_prob),
            );
        }
        Ok(())
    }
}

/// BERT's input embeddings: word + position + token type (all type 0), then LayerNorm and
/// dropout. Field names mirror Hugging Face's `embeddings.*` tensors.
#[derive(Module, Debug)]
pub struct BertEmbeddings {
    pub word_embeddings: Embedding,
    pub position_embeddings: Embedding,
    pub token_type_embeddings: Embedding,
    /// Hugging Face's `LayerNorm`.
    pub layer_norm: LayerNorm,
    dropout: Dropout,
    layer_norm_eps: f64,
}

impl TokenEmbedder for BertEmbeddings {
    type Config = BertEmbeddingsConfig;

    /// Positions count from 0 at the first token; sequences may not be longer than
    /// `max_position_embeddings` (the pipeline checks its maximum length against it).
    fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let [batch, seq] = ids.dims();
        let device = ids.device();
        let words = self.word_embeddings.forward(ids);
        let positions = Tensor::<1, Int>::arange(0..seq as i64, &device).unsqueeze::<2>();
        let positions = self.position_embeddings.forward(positions);
        let types = self
            .token_type_embeddings
            .weight
            .val()
            .narrow(0, 0, 1)
            .unsqueeze::<3>();
        let dim = self.dim();
        let x = words + positions.expand([batch, seq, dim]) + types.expand([batch, seq, dim]);
        self.dropout.forward(self.layer_norm.forward(x))
    }

    fn dim(&self) -> usize {
        self.word_embeddings.weight.lazy_shape().dims::<2>()[1]
    }

    fn vocab_size(&self) -> usize {
        self.word_embeddings.weight.lazy_shape().dims::<2>()[0]
    }

    fn max_sequence_length(&self) -> Option<usize> {
        Some(self.position_embeddings.weight.lazy_shape().dims::<2>()[0])
    }

    fn config(&self) -> BertEmbeddingsConfig {
        BertEmbeddingsConfig {
            vocab_size: self.vocab_size(),
            hidden_size: self.dim(),
            max_position_embeddings: self.position_embeddings.weight.lazy_shape().dims::<2>()[0],
            type_vocab_size: self.token_type_embeddings.weight.lazy_shape().dims::<2>()[0],
            layer_norm_eps: self.layer_norm_eps,
            hidden_dropout_prob: self.dropout.prob,
        }
    }

    fn from_config(config: &BertEmbeddingsConfig, device: &Device) -> Result<Self, EmbedderError> {
        config.validate()?;
        let table = |rows| {
            EmbeddingConfig::new(rows, config.hidden_size)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: 0.02,
                })
                .init(device)
        };
        Ok(Self {
            word_embeddings: table(config.vocab_size),
            position_embeddings: table(config.max_position_embeddings),
            token_type_embeddings: table(config.type_vocab_size),
            layer_norm: LayerNormConfig::new(config.hidden_size)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            layer_norm_eps: config.layer_norm_eps,
        })
    }
}
