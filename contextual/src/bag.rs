use burn::module::Module;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::check;
use crate::{ContextualEmbedder, ContextualError};

/// Shape of a [`BagOfEmbeddings`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BagOfEmbeddingsConfig {
    pub dim: usize,
}

/// No context at all: each token keeps its embedding. With mean pooling this is the
/// "word-vector sum" baseline.
#[derive(Module, Debug)]
pub struct BagOfEmbeddings {
    dim: usize,
}

impl BagOfEmbeddings {
    pub fn new(dim: usize) -> Self {
        Self { dim }
    }
}

impl ContextualEmbedder for BagOfEmbeddings {
    type Config = BagOfEmbeddingsConfig;

    fn forward(&self, embedded: Tensor<3>, _mask: Tensor<2, Bool>) -> Tensor<3> {
        embedded
    }

    fn input_dim(&self) -> usize {
        self.dim
    }

    fn output_dim(&self) -> usize {
        self.dim
    }

    fn config(&self) -> BagOfEmbeddingsConfig {
        BagOfEmbeddingsConfig { dim: self.dim }
    }

    fn from_config(
        config: &BagOfEmbeddingsConfig,
        _device: &Device,
    ) -> Result<Self, ContextualError> {
        check(config.dim > 0, "dim", || "must be at least 1".into())?;
        Ok(Self::new(config.dim))
    }
}
