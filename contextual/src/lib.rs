//! Stage 3 of a transfer-learning pipeline: token vectors → context-aware vectors.
//!
//! A [`ContextualEmbedder`] is a Burn module mapping `[batch, seq, dim]` and a mask of the real
//! (unpadded) positions `[batch, seq]` to `[batch, seq, hidden]`:
//!
//! - [`BagOfEmbeddings`]: the identity; each token keeps its own vector.
//! - [`BertEncoder`]: BERT's transformer layers (post-LayerNorm, GELU), loadable from any
//!   BERT-architecture checkpoint in Hugging Face layout (see `transfer_pipeline::io::hf`):
//!   BERT, RoBERTa, XLM-R, DistilBERT, ELECTRA, and MPNet with its relative position bias.
//! - [`ModernBertEncoder`]: ModernBERT's pre-LayerNorm layers (rotary positions, GeGLU,
//!   alternating global and local attention).
//! - [`Gpt2Decoder`]: GPT-2's causal blocks (pool its states with the last token).
//! - [`DebertaV2Encoder`]: DeBERTa-v2/v3's layers with disentangled attention over
//!   log-bucketed relative positions.
//! - [`Lstm`]: stacked uni- or bidirectional LSTM with dropout between layers; the backward
//!   direction reads each sequence from its last real token, so padding never leaks in.
//!
//! Their linear layers, LayerNorms, attention, dropout and LSTM layers run through
//! `transfer_kernels`, which fuses them where the backend allows (see its docs and
//! `transfer_kernels::Kernels`).
//!
//! ```
//! use burn::prelude::*;
//! use transfer_contextual::{ContextualEmbedder, Lstm, LstmConfig};
//!
//! let device = Device::flex();
//! let lstm = Lstm::from_config(&LstmConfig::new(8, 16).with_bidirectional(true), &device).unwrap();
//! let x = Tensor::<3>::ones([2, 5, 8], &device);
//! let mask = Tensor::<2, Bool>::from_data([[true; 5], [true, true, true, false, false]], &device);
//! assert_eq!(lstm.forward(x, mask).dims(), [2, 5, 32]);
//! ```

mod any;
mod bag;
mod bert;
mod deberta;
mod error;
mod gpt2;
mod heads;
mod lstm;
mod modernbert;

use burn::module::{Module, ModuleDisplay};
use burn::prelude::*;
use serde::{Serialize, de::DeserializeOwned};

pub use any::{AnyContextual, AnyContextualConfig};
pub use bag::{BagOfEmbeddings, BagOfEmbeddingsConfig};
pub use bert::{
    BertAttention, BertEncoder, BertEncoderConfig, BertIntermediate, BertLayer, BertResidualOutput,
    BertSelfAttention, HiddenAct, Precision,
};
pub use deberta::{
    DebertaV2Attention, DebertaV2Encoder, DebertaV2EncoderConfig, DebertaV2Intermediate,
    DebertaV2Layer, DebertaV2ResidualOutput, DisentangledSelfAttention, log_bucket,
};
pub use error::ContextualError;
pub use gpt2::{Gpt2Attention, Gpt2Block, Gpt2Decoder, Gpt2DecoderConfig, Gpt2Mlp};
pub use lstm::{Lstm, LstmConfig, LstmState};
pub use modernbert::{
    AttentionSpan, ModernBertAttention, ModernBertEncoder, ModernBertEncoderConfig,
    ModernBertLayer, ModernBertMlp,
};

/// Token vectors → context-aware vectors, as a Burn module.
pub trait ContextualEmbedder: Module + ModuleDisplay + Sized {
    /// Everything needed to rebuild the module (without its weights), saved as JSON.
    type Config: Serialize + DeserializeOwned + Clone + std::fmt::Debug + Send + Sync;

    /// `[batch, seq, input_dim]` and the mask of real positions `[batch, seq]` →
    /// `[batch, seq, output_dim]`. Values at padded positions are unspecified.
    fn forward(&self, embedded: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<3>;

    /// [`forward`](Self::forward), told whether `mask` has padding (any `false`), as a
    /// caller that built the mask on the host knows. An implementation that would otherwise
    /// read the mask back to find out (on CUDA, a wait for all queued work) uses `padded`.
    fn forward_known_padding(
        &self,
        embedded: Tensor<3>,
        mask: Tensor<2, Bool>,
        padded: bool,
    ) -> Tensor<3> {
        let _ = padded;
        self.forward(embedded, mask)
    }

    fn input_dim(&self) -> usize;

    fn output_dim(&self) -> usize;

    fn config(&self) -> Self::Config;

    /// A freshly initialised module of this shape.
    fn from_config(config: &Self::Config, device: &Device) -> Result<Self, ContextualError>;
}
