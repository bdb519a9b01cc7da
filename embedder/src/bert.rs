use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig,
    Linear, LinearConfig,
};
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use transfer_kernels as fused;

use crate::{EmbedderError, TokenEmbedder};

/// Shape of [`BertEmbeddings`]; field names as in Hugging Face's `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BertEmbeddingsConfig {
    pub vocab_size: usize,
    /// The output size (the encoder's hidden size).
    pub hidden_size: usize,
    pub max_position_embeddings: usize,
    /// 0: no token-type table (DistilBERT, MPNet).
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    pub hidden_dropout_prob: f64,
    /// The first position's id: 0 for BERT, `pad_token_id + 1` for RoBERTa and MPNet.
    #[serde(default)]
    pub position_offset: usize,
    /// The tables' width when it differs from `hidden_size`, followed by a projection to it
    /// (ELECTRA's `embedding_size` and `embeddings_project`).
    #[serde(default)]
    pub embedding_size: Option<usize>,
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
            position_offset: 0,
            embedding_size: None,
        })
    }

    /// The width of the word, position and token-type tables.
    pub fn table_width(&self) -> usize {
        self.embedding_size.unwrap_or(self.hidden_size)
    }

    fn validate(&self) -> Result<(), EmbedderError> {
        let invalid = |field, message: String| Err(EmbedderError::InvalidConfig { field, message });
        for (field, value) in [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("embedding_size", self.table_width()),
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
        if self.position_offset >= self.max_position_embeddings {
            return invalid(
                "position_offset",
                format!(
                    "{} leaves no position of the {} in the table",
                    self.position_offset, self.max_position_embeddings
                ),
            );
        }
        Ok(())
    }
}

/// BERT's input embeddings: word + position + token type (all type 0), then LayerNorm and
/// dropout, and for ELECTRA a projection to the hidden size. Field names mirror Hugging Face's
/// `embeddings.*` tensors; the family variants (RoBERTa's position offset, DistilBERT's and
/// MPNet's missing token types, ELECTRA's projection) are settings of the config.
#[derive(Module, Debug)]
pub struct BertEmbeddings {
    pub word_embeddings: Embedding,
    pub position_embeddings: Embedding,
    pub token_type_embeddings: Option<Embedding>,
    /// Hugging Face's `LayerNorm`.
    pub layer_norm: LayerNorm,
    /// ELECTRA's `embeddings_project`.
    pub projection: Option<Linear>,
    dropout: Dropout,
    layer_norm_eps: f64,
    position_offset: usize,
}

fn rows(table: &Embedding) -> usize {
    table.weight.lazy_shape().dims::<2>()[0]
}

impl BertEmbeddings {
    /// The width of the word table (the hidden size unless projected).
    pub fn table_width(&self) -> usize {
        self.word_embeddings.weight.lazy_shape().dims::<2>()[1]
    }
}

impl TokenEmbedder for BertEmbeddings {
    type Config = BertEmbeddingsConfig;

    /// Positions count from `position_offset` at the first token; sequences may not be longer
    /// than the position table allows (the pipeline checks its maximum length against it).
    fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let [batch, seq] = ids.dims();
        let device = ids.device();
        let width = self.table_width();
        let words = self.word_embeddings.forward(ids);
        let first = self.position_offset as i64;
        let positions = Tensor::<1, Int>::arange(first..first + seq as i64, &device);
        let mut x = words
            + self
                .position_embeddings
                .forward(positions.unsqueeze::<2>())
                .expand([batch, seq, width]);
        if let Some(types) = &self.token_type_embeddings {
            let type_zero = types.weight.val().narrow(0, 0, 1).unsqueeze::<3>();
            x = x + type_zero.expand([batch, seq, width]);
        }
        let normed = fused::layer_norm(&self.layer_norm, self.layer_norm_eps, x);
        let x = fused::dropout(&self.dropout, normed);
        match &self.projection {
            Some(projection) => projection.forward(x),
            None => x,
        }
    }

    fn dim(&self) -> usize {
        match &self.projection {
            Some(p) => p.weight.lazy_shape().dims::<2>()[1],
            None => self.table_width(),
        }
    }

    fn vocab_size(&self) -> usize {
        rows(&self.word_embeddings)
    }

    fn max_sequence_length(&self) -> Option<usize> {
        Some(rows(&self.position_embeddings) - self.position_offset)
    }

    fn config(&self) -> BertEmbeddingsConfig {
        BertEmbeddingsConfig {
            vocab_size: self.vocab_size(),
            hidden_size: self.dim(),
            max_position_embeddings: rows(&self.position_embeddings),
            type_vocab_size: self.token_type_embeddings.as_ref().map_or(0, rows),
            layer_norm_eps: self.layer_norm_eps,
            hidden_dropout_prob: self.dropout.prob,
            position_offset: self.position_offset,
            embedding_size: self.projection.as_ref().map(|_| self.table_width()),
        }
    }

    fn from_config(config: &BertEmbeddingsConfig, device: &Device) -> Result<Self, EmbedderError> {
        config.validate()?;
        let width = config.table_width();
        let normal = Initializer::Normal {
            mean: 0.0,
            std: 0.02,
        };
        let table = |rows| {
            EmbeddingConfig::new(rows, width)
                .with_initializer(normal.clone())
                .init(device)
        };
        Ok(Self {
            word_embeddings: table(config.vocab_size),
            position_embeddings: table(config.max_position_embeddings),
            token_type_embeddings: (config.type_vocab_size > 0)
                .then(|| table(config.type_vocab_size)),
            layer_norm: LayerNormConfig::new(width)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
            projection: config.embedding_size.map(|_| {
                LinearConfig::new(width, config.hidden_size)
                    .with_initializer(normal.clone())
                    .init(device)
            }),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            layer_norm_eps: config.layer_norm_eps,
            position_offset: config.position_offset,
        })
    }
}
