//! Stage 3 of a transfer-learning pipeline: token vectors → context-aware vectors.
//!
//! A [`ContextualEmbedder`] is a Burn module mapping `[batch, seq, dim]` and a mask of the real
//! (unpadded) positions `[batch, seq]` to `[batch, seq, hidden]`:
//!
//! - [`BagOfEmbeddings`]: the identity; each token keeps its own vector.
//! - [`BertEncoder`]: BERT's transformer layers (post-LayerNorm, GELU), loadable from any
//!   BERT-architecture checkpoint in Hugging Face layout (see `transfer::hf`). On the pure-Rust
//!   flex backend its exact GELU (and, in training, its derivative) runs on all cores,
//!   vectorised (burn-flex's is scalar and single-threaded): +35 % MiniLM inference on 2 cores.
//!   In training, its linear layers, LayerNorms and attention are single custom autodiff ops on
//!   libtorch (`addmm`, `native_layer_norm`, flash attention, each with a fused backward: ours
//!   on the CPU, libtorch's autograd on CUDA and in half precision) and its LayerNorm one on
//!   flex, where burn would differentiate their decompositions: +17–43 % fine-tuning
//!   throughput on libtorch CPU, +7 % on flex. In inference on flex its attention runs per
//!   head on all cores with a vectorised softmax: +20 % at 256 tokens. `TRANSFER_FUSED=0` turns
//!   all of these off.
//! - [`Lstm`]: stacked uni- or bidirectional LSTM with dropout between layers; the backward
//!   direction reads each sequence from its last real token, so padding never leaks in. On
//!   libtorch each direction of each layer is one call of libtorch's own LSTM (cuDNN's on
//!   CUDA) with libtorch's backward, instead of a dozen burn ops per time step: training
//!   5× faster on libtorch's CPU (`TRANSFER_FUSED=0` turns it off).
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

#[macro_use]
mod simd;

mod any;
mod bag;
mod bert;
mod error;
mod flex_gelu;
mod fused;
#[cfg(feature = "tch")]
pub mod libtorch_kernels;
mod lstm;

use burn::module::{Module, ModuleDisplay};
use burn::prelude::*;
use serde::{Serialize, de::DeserializeOwned};

pub use any::{AnyContextual, AnyContextualConfig};
pub use bag::{BagOfEmbeddings, BagOfEmbeddingsConfig};
pub use bert::{
    BertAttention, BertEncoder, BertEncoderConfig, BertIntermediate, BertLayer, BertResidualOutput,
    BertSelfAttention, HiddenAct, Precision,
};
pub use error::ContextualError;
pub use fused::{
    cross_entropy, enabled as fused_ops_enabled, optimizer_enabled as fused_optimizer_enabled,
};
pub use lstm::{Lstm, LstmConfig, LstmState};

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
