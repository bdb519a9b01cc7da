//! The fast paths under the stages: what runs a BERT layer, an LSTM layer, a loss and an
//! optimizer step in fewer, faster kernels than burn's generic ops, on each backend.
//!
//! - **Ops** ([`linear`], [`layer_norm`], [`dropout`], [`attention`], [`biased_attention`],
//!   [`packed_self_attention`], [`rotary_self_attention`], [`gelu_gated`], [`lstm`],
//!   [`reverse_padded`], [`cross_entropy`]): on libtorch
//!   (CPU and CUDA, with and without autodiff) each is one libtorch kernel with a fused backward
//!   (`fused::libtorch`, plus the C++ shim in `csrc/` for kernels tch does not bind); on the
//!   pure-Rust flex backend LayerNorm, attention per head, the LSTM recurrence and
//!   cross-entropy are ops of their own, on all cores and vectorised (`fused::flex*`);
//!   elsewhere burn's own ops run.
//! - **GELU** ([`exact_gelu`]): exact (erf) GELU on flex, on all cores, vectorised.
//! - **Optimizer** ([`adamw`], [`clip_global_norm`]): AdamW as libtorch's fused kernel and
//!   clipping as its multi-tensor ops, burn's elsewhere; the state is burn's either way.
//!
//! One typed value, [`Kernels`], chooses what runs (burn's ops instead, to compare).

#[macro_use]
mod simd;

mod adamw;
mod clip;
mod compare;
mod fused;
mod gelu;
#[cfg(feature = "tch")]
mod libtorch_ffi;
mod settings;

pub use adamw::{AdamW, adamw};
pub use clip::clip_global_norm;
pub use compare::max_relative_difference;
pub use fused::{
    attention, biased_attention, cross_entropy, dropout, gelu_gated, layer_norm, linear, lstm,
    packed_self_attention, reverse_padded, rotary_self_attention,
};
pub use gelu::exact_gelu;
pub use settings::{Kernels, KernelsError};
