use burn::module::{Module, Param};
use burn::nn::{Embedding, EmbeddingConfig, Initializer};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{EmbedderError, TokenEmbedder};

/// Shape of a [`LearnedEmbedding`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnedEmbeddingConfig {
    pub vocab_size: usize,
    pub dim: usize,
    /// Standard deviation of the normal initialisation.
    #[serde(default = "default_init_std")]
    pub init_std: f64,
}

fn default_init_std() -> f64 {
    1.0
}

impl LearnedEmbeddingConfig {
    pub fn new(vocab_size: usize, dim: usize) -> Self {
        Self {
            vocab_size,
            dim,
            init_std: default_init_std(),
        }
    }

    pub fn with_init_std(mut self, init_std: f64) -> Self {
        self.init_std = init_std;
        self
    }
}

/// A lookup table of vectors, one row per token id.
#[derive(Module, Debug)]
pub struct LearnedEmbedding {
    pub table: Embedding,
    init_std: f64,
}

impl LearnedEmbedding {
    /// A table holding `weights` (row-major `[vocab_size, dim]`), for example word vectors.
    pub fn from_weights(
        weights: Vec<f32>,
        vocab_size: usize,
        dim: usize,
        device: &Device,
    ) -> Result<Self, EmbedderError> {
        if weights.len() != vocab_size * dim || vocab_size == 0 || dim == 0 {
            return Err(EmbedderError::InvalidConfig {
                field: "weights",
                message: format!(
                    "{} values do not make a [{vocab_size}, {dim}] table",
                    weights.len()
                ),
            });
        }
        let tensor = Tensor::<2>::from_data(TensorData::new(weights, [vocab_size, dim]), device);
        Ok(Self {
            table: Embedding {
                weight: Param::from_tensor(tensor),
            },
            init_std: 1.0,
        })
    }

    /// The table, row-major `[vocab_size, dim]`.
    pub fn weights(&self) -> Tensor<2> {
        self.table.weight.val()
    }
}

impl TokenEmbedder for LearnedEmbedding {
    type Config = LearnedEmbeddingConfig;

    fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        self.table.forward(ids)
    }

    fn dim(&self) -> usize {
        self.table.weight.lazy_shape().dims::<2>()[1]
    }

    fn vocab_size(&self) -> usize {
        self.table.weight.lazy_shape().dims::<2>()[0]
    }

    fn config(&self) -> LearnedEmbeddingConfig {
        LearnedEmbeddingConfig::new(self.vocab_size(), self.dim()).with_init_std(self.init_std)
    }

    fn from_config(
        config: &LearnedEmbeddingConfig,
        device: &Device,
    ) -> Result<Self, EmbedderError> {
        if config.vocab_size == 0 || config.dim == 0 {
            return Err(EmbedderError::InvalidConfig {
                field: "vocab_size/dim",
                message: format!("a [{}, {}] table is empty", config.vocab_size, config.dim),
            });
        }
        if !(config.init_std.is_finite() && config.init_std > 0.0) {
            return Err(EmbedderError::InvalidConfig {
                field: "init_std",
                message: format!("{} is not a positive number", config.init_std),
            });
        }
        let table = EmbeddingConfig::new(config.vocab_size, config.dim)
            .with_initializer(Initializer::Normal {
                mean: 0.0,
                std: config.init_std,
            })
            .init(device);
        Ok(Self {
            table,
            init_std: config.init_std,
        })
    }
}
