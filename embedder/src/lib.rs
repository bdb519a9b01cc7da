//! Stage 2 of a transfer-learning pipeline: token ids → vectors.
//!
//! A [`TokenEmbedder`] is a Burn module mapping ids `[batch, seq]` to `[batch, seq, dim]`:
//!
//! - [`LearnedEmbedding`]: a table trained with the task, or initialised from word vectors
//!   ([`WordVectors`]: GloVe text, word2vec text and binary, plain or gzipped).
//! - [`BertEmbeddings`]: BERT's word + position + token-type embeddings and LayerNorm (also
//!   RoBERTa's, XLM-R's, DistilBERT's, ELECTRA's and MPNet's, as settings of its config).
//! - [`ModernBertEmbeddings`]: ModernBERT's token table and LayerNorm (positions are rotary).
//! - [`Gpt2Embeddings`]: GPT-2's token and position tables.
//! - [`DebertaV2Embeddings`]: DeBERTa-v2/v3's token table and LayerNorm (positions are
//!   relative, inside attention).
//!
//! ```
//! use burn::prelude::*;
//! use transfer_embedder::{LearnedEmbedding, LearnedEmbeddingConfig, TokenEmbedder};
//!
//! let device = Device::flex();
//! let embedder = LearnedEmbedding::from_config(&LearnedEmbeddingConfig::new(100, 8), &device)
//!     .unwrap();
//! let ids = Tensor::<2, Int>::from_data([[1, 2, 3], [4, 0, 0]], &device);
//! assert_eq!(embedder.forward(ids).dims(), [2, 3, 8]);
//! ```

mod any;
mod bert;
mod deberta;
mod error;
mod gpt2;
mod learned;
mod modernbert;
mod word_vectors;

use burn::module::{Module, ModuleDisplay};
use burn::prelude::*;
use serde::{Serialize, de::DeserializeOwned};

pub use any::{AnyEmbedder, AnyEmbedderConfig};
pub use bert::{BertEmbeddings, BertEmbeddingsConfig};
pub use deberta::{DebertaV2Embeddings, DebertaV2EmbeddingsConfig};
pub use error::EmbedderError;
pub use gpt2::{Gpt2Embeddings, Gpt2EmbeddingsConfig};
pub use learned::{LearnedEmbedding, LearnedEmbeddingConfig};
pub use modernbert::{ModernBertEmbeddings, ModernBertEmbeddingsConfig};
pub use word_vectors::{Coverage, OovPolicy, VectorFormat, WordVectors};

/// Token ids → vectors, as a Burn module.
pub trait TokenEmbedder: Module + ModuleDisplay + Sized {
    /// Everything needed to rebuild the module (without its weights), saved as JSON.
    type Config: Serialize + DeserializeOwned + Clone + std::fmt::Debug + Send + Sync;

    /// `[batch, seq]` ids → `[batch, seq, dim]`.
    fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3>;

    /// The vector size.
    fn dim(&self) -> usize;

    /// How many ids the table knows.
    fn vocab_size(&self) -> usize;

    /// The longest sequence the embedder handles (a position table's size), if limited.
    fn max_sequence_length(&self) -> Option<usize> {
        None
    }

    fn config(&self) -> Self::Config;

    /// A freshly initialised module of this shape.
    fn from_config(config: &Self::Config, device: &Device) -> Result<Self, EmbedderError>;
}
