use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{EmbedderError, TokenEmbedder};

/// Shape of [`Gpt2Embeddings`]; field names as in Hugging Face's `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gpt2EmbeddingsConfig {
    pub vocab_size: usize,
    pub n_embd: usize,
    pub n_positions: usize,
    pub embd_pdrop: f64,
}

/// GPT-2's input embeddings: token (`wte`) + position (`wpe`) tables and dropout, no
/// LayerNorm. Field names mirror Hugging Face's `GPT2Model`.
#[derive(Module, Debug)]
pub struct Gpt2Embeddings {
    pub wte: Embedding,
    pub wpe: Embedding,
    drop: Dropout,
}

impl TokenEmbedder for Gpt2Embeddings {
    type Config = Gpt2EmbeddingsConfig;

    /// Positions count from 0 at the first token (texts are padded on the right).
    fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let [batch, seq] = ids.dims();
        let positions = Tensor::<1, Int>::arange(0..seq as i64, &ids.device()).unsqueeze::<2>();
        let positions = self.wpe.forward(positions).expand([batch, seq, self.dim()]);
        self.drop.forward(self.wte.forward(ids) + positions)
    }

    fn dim(&self) -> usize {
        self.wte.weight.lazy_shape().dims::<2>()[1]
    }

    fn vocab_size(&self) -> usize {
        self.wte.weight.lazy_shape().dims::<2>()[0]
    }

    fn max_sequence_length(&self) -> Option<usize> {
        Some(self.wpe.weight.lazy_shape().dims::<2>()[0])
    }

    fn config(&self) -> Gpt2EmbeddingsConfig {
        Gpt2EmbeddingsConfig {
            vocab_size: self.vocab_size(),
            n_embd: self.dim(),
            n_positions: self.max_sequence_length().unwrap_or(0),
            embd_pdrop: self.drop.prob,
        }
    }

    fn from_config(config: &Gpt2EmbeddingsConfig, device: &Device) -> Result<Self, EmbedderError> {
        for (field, value) in [
            ("vocab_size", config.vocab_size),
            ("n_embd", config.n_embd),
            ("n_positions", config.n_positions),
        ] {
            if value == 0 {
                return Err(EmbedderError::InvalidConfig {
                    field,
                    message: "must be at least 1".into(),
                });
            }
        }
        if !(0.0..1.0).contains(&config.embd_pdrop) {
            return Err(EmbedderError::InvalidConfig {
                field: "embd_pdrop",
                message: format!("{} is not in [0, 1)", config.embd_pdrop),
            });
        }
        let table = |rows, std| {
            EmbeddingConfig::new(rows, config.n_embd)
                .with_initializer(Initializer::Normal { mean: 0.0, std })
                .init(device)
        };
        Ok(Self {
            wte: table(config.vocab_size, 0.02),
            wpe: table(config.n_positions, 0.01),
            drop: DropoutConfig::new(config.embd_pdrop).init(),
        })
    }
}
