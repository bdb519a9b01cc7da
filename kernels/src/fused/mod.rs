//! Linear layers, LayerNorm, dropout and attention for the BERT encoder, the LSTM's layers, and
//! the language models' softmax loss, fused where the backend allows.
//!
//! Under autodiff burn 0.22 runs a linear layer as a matrix product then a separate bias add,
//! differentiates LayerNorm through its decomposition (nine element-wise ops, each with its own
//! backward), attention through matmul, softmax and matmul, materialising the
//! `[batch, heads, seq, seq]` scores, an LSTM as about ten ops per time step, and cross-entropy
//! as log-softmax, gather and mean, and dropout as a draw, a product and a scale. On libtorch
//! (CPU and CUDA, with and without autodiff) each runs as one libtorch kernel instead (see
//! `libtorch`); on flex LayerNorm is one op with its
//! own kernels (`flex`), attention runs per head with a vectorised softmax (`flex_attention`),
//! an LSTM layer's recurrence is one op (`flex_lstm`) and so is cross-entropy
//! (`flex_cross_entropy`), with and without autodiff; everywhere else burn's own ops run.
//! [`Kernels::Burn`] turns all of it off, to compare.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::ops::{Backward, OpsKind};
use burn::backend::{Backend, BackendTypes};
use burn::module::Param;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Dropout, LayerNorm, Linear};
use burn::prelude::*;
use burn::tensor::FloatDType;
use burn::tensor::module::attention as burn_attention;
use burn::tensor::ops::AttentionModuleOptions;

use crate::Kernels;

/// Whether the fused ops run ([`Kernels::fused_ops`] of the current setting).
fn enabled() -> bool {
    Kernels::current().fused_ops()
}

/// `bias`, or for a layer without one (ModernBERT's) `width` zeros on `device`, untracked: the
/// fused kernels take a bias, and a zero one changes nothing and gets no gradient.
fn bias_or_zeros(bias: Option<&Param<Tensor<1>>>, width: usize, device: &Device) -> Tensor<1> {
    bias.map_or_else(|| Tensor::zeros([width], device), Param::val)
}

/// `layer(x)`, in `half` when given (mixed precision: the result in `half`), else in f32.
pub fn linear(layer: &Linear, x: Tensor<3>, half: Option<FloatDType>) -> Tensor<3> {
    #[cfg(feature = "tch")]
    if enabled()
        && let Some(y) = libtorch::linear(layer, &x, half, None)
    {
        return y;
    }
    let Some(half) = half else {
        return layer.forward(x);
    };
    let y = x
        .cast(half)
        .matmul(layer.weight.val().cast(half).unsqueeze::<3>());
    match &layer.bias {
        Some(bias) => y + bias.val().cast(half).unsqueeze::<3>(),
        None => y,
    }
}

/// `layer(x)`; `epsilon` must be the layer's own.
pub fn layer_norm(layer: &LayerNorm, epsilon: f64, x: Tensor<3>) -> Tensor<3> {
    if enabled() {
        #[cfg(feature = "tch")]
        if let Some(y) = libtorch::layer_norm(layer, epsilon, &x, None) {
            return y;
        }
        if let Some(y) = flex::layer_norm(layer, epsilon, &x) {
            return y;
        }
    }
    layer.forward(x)
}

/// `layer(x)`: on libtorch under autodiff libtorch's `native_dropout` (one kernel draws the mask
/// and scales) and its backward kernel; elsewhere burn's (a draw, then two products).
pub fn dropout<const D: usize>(layer: &Dropout, x: Tensor<D>) -> Tensor<D> {
    if !layer.training.is_enabled() || !x.device().is_autodiff() || layer.prob == 0.0 {
        return x;
    }
    #[cfg(feature = "tch")]
    if enabled()
        && let Some(y) = libtorch::dropout(&x, layer.prob)
    {
        return y;
    }
    layer.forward(x)
}

/// One LSTM layer in one op: libtorch's own LSTM (see `libtorch::lstm`), or the recurrence as
/// one op on flex (see `flex_lstm`). The outputs and the final cell state (which carries no
/// gradient), or `None` where the inputs are neither or the fused ops are off.
pub fn lstm(
    input: &Linear,
    recurrent: &Linear,
    x: &Tensor<3>,
    state: Option<[&Tensor<2>; 2]>,
) -> Option<(Tensor<3>, Tensor<2>)> {
    if !enabled() {
        return None;
    }
    #[cfg(feature = "tch")]
    if let Some(out) = libtorch::lstm(input, recurrent, x, state) {
        return Some(out);
    }
    flex_lstm::lstm(input, recurrent, x, state)
}

/// `x: [batch, seq, dim]` with each row's real positions (`mask`, which puts them first)
/// reversed, the padding left in place: one op on flex (see `flex_reverse`), `None` elsewhere
/// or with the fused ops off.
pub fn reverse_padded(x: &Tensor<3>, mask: &Tensor<2, Bool>) -> Option<Tensor<3>> {
    enabled()
        .then(|| flex_reverse::reverse_padded(x, mask))
        .flatten()
}

/// The mean cross-entropy of `logits` (`[rows, classes]`) against class indices (`[rows]`),
/// as burn's `CrossEntropyLoss` computes it without padding, weights or smoothing, as `[1]`.
/// On libtorch one `cross_entropy` (with libtorch's backward), on flex one op (see
/// `flex_cross_entropy`, which leaves targets that are not class indices to burn's); burn's
/// own elsewhere or with the fused ops off.
///
/// # Example
/// ```
/// use burn::prelude::*;
///
/// let device = Device::flex();
/// let logits = Tensor::<2>::from_data([[2.0, 0.0], [0.0, 0.0]], &device);
/// let targets = Tensor::<1, Int>::from_data([0, 1], &device);
/// let loss = transfer_kernels::cross_entropy(logits, targets).into_scalar::<f32>();
/// // (−log σ(2) − log ½) / 2
/// assert!((loss - 0.4100).abs() < 1e-4);
/// ```
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    if enabled() {
        #[cfg(feature = "tch")]
        if let Some(y) = libtorch::cross_entropy(&logits, &targets) {
            return y;
        }
        if let Some(y) = flex_cross_entropy::cross_entropy(&logits, &targets) {
            return y;
        }
    }
    CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits, targets)
}

/// Scaled dot-product attention of `[batch, heads, seq, head_dim]` queries, keys and values;
/// `masked` (`[batch, 1, 1, seq]`) is true at the keys no query may look at (padding).
pub fn attention(
    query: Tensor<4>,
    key: Tensor<4>,
    value: Tensor<4>,
    masked: Option<Tensor<4, Bool>>,
    libtorch_allow_mask: bool,
) -> Tensor<4> {
    if enabled() {
        #[cfg(feature = "tch")]
        if let Some(y) = libtorch::attention(&query, &key, &value, masked.as_ref(), None) {
            return y;
        }
        if let Some(y) = flex_attention::attention(&query, &key, &value, masked.as_ref()) {
            return y;
        }
    }
    // burn's libtorch backend hands the mask to torch unchanged, where true means "may attend":
    // the opposite of burn's convention (and of its autodiff fallback).
    let masked = masked.map(|m| if libtorch_allow_mask { m.bool_not() } else { m });
    burn_masked_attention(query, key, value, masked)
}

/// Attention of `[batch, heads, seq, head_dim]` queries, keys and values with an additive score
/// `bias` (`[1 or batch, heads, seq, seq]`) that takes a gradient, as MPNet's relative position
/// bias does; `masked` (`[batch, 1, 1, seq]`) is true at the keys no query may look at. On
/// libtorch the scores, softmax and products are libtorch's, with its backward (see
/// `libtorch::biased_attention`); elsewhere, or with the fused ops off, burn's ops.
pub fn biased_attention(
    query: Tensor<4>,
    key: Tensor<4>,
    value: Tensor<4>,
    bias: Tensor<4>,
    masked: Option<Tensor<4, Bool>>,
) -> Tensor<4> {
    #[cfg(feature = "tch")]
    if enabled()
        && let Some(y) = libtorch::biased_attention([&query, &key, &value], &bias, masked.as_ref())
    {
        return y;
    }
    burn_biased_attention(query, key, value, bias, masked)
}

/// `softmax(q · kᵀ / √d + bias) · v` in burn's ops. Masked scores are the lowest finite value
/// (as transformers' `finfo.min`), not −∞: a NaN at a padded key cannot reach a real query
/// through a zero weight.
fn burn_biased_attention(
    query: Tensor<4>,
    key: Tensor<4>,
    value: Tensor<4>,
    bias: Tensor<4>,
    masked: Option<Tensor<4, Bool>>,
) -> Tensor<4> {
    let [batch, heads, seq, dim] = query.dims();
    let shape = [batch, heads, seq, seq];
    let scores = query
        .matmul(key.swap_dims(2, 3))
        .mul_scalar((dim as f64).sqrt().recip())
        + bias.expand(shape).cast(value.dtype());
    let scores = match masked {
        Some(masked) => scores.mask_fill(masked.expand(shape), f32::MIN),
        None => scores,
    };
    burn::tensor::activation::softmax(scores, 3).matmul(value)
}

/// Self-attention's three projections as one packed product and the attention over its parts,
/// heads merged (`[batch, seq, hidden]`), on libtorch (see `libtorch::packed_self_attention`);
/// `None` elsewhere, with the fused ops off, or with [`Kernels::Unpacked`].
pub fn packed_self_attention(
    projections: [&Linear; 3],
    x: &Tensor<3>,
    heads: usize,
    masked: Option<&Tensor<4, Bool>>,
    half: Option<FloatDType>,
) -> Option<Tensor<3>> {
    if !Kernels::current().packed_projections() {
        return None;
    }
    #[cfg(feature = "tch")]
    return libtorch::packed_self_attention(projections, x, heads, masked, half, None);
    #[cfg(not(feature = "tch"))]
    {
        let _ = (projections, x, heads, masked, half);
        None
    }
}

/// Self-attention over packed projections `qkv` (`[batch, seq, 3 · hidden]`: queries, keys and
/// values side by side, as ModernBERT's `Wqkv` makes them) with `heads` heads, the queries and
/// keys rotated first by the rotary tables `[cos, signed_sin]` (`[1, 1, seq, head]`):
/// `x · cos + swap_halves(x) · signed_sin`. Heads merged: `[batch, seq, hidden]`. `masked`
/// (`[batch, 1, 1 or seq, seq]`) is true where a key may not be looked at. One op on libtorch,
/// with one backward for all three parts (see `libtorch::rotary_self_attention`); `None`
/// elsewhere or with the fused ops off.
pub fn rotary_self_attention(
    qkv: &Tensor<3>,
    heads: usize,
    rotary: &[Tensor<4>; 2],
    masked: Option<&Tensor<4, Bool>>,
) -> Option<Tensor<3>> {
    if !enabled() {
        return None;
    }
    #[cfg(feature = "tch")]
    return libtorch::rotary_self_attention(qkv, heads, rotary, masked, None);
    #[cfg(not(feature = "tch"))]
    {
        let _ = (qkv, heads, rotary, masked);
        None
    }
}

/// `GELU(a) · b` over the halves `[a b]` of `x`'s last dimension (a GeGLU feed-forward's gate,
/// ModernBERT's), with exact GELU or its tanh approximation. On libtorch one op whose backward
/// writes both halves' gradients at once (see `libtorch::gelu_gated`); elsewhere, or with the
/// fused ops off, burn's ops on the two halves ([`exact_gelu`](crate::exact_gelu) for exact
/// GELU).
///
/// # Example
/// ```
/// use burn::prelude::*;
///
/// let x = Tensor::<3>::from_data([[[1.0, -1.0, 2.0, 3.0]]], &Device::flex());
/// let y = transfer_kernels::gelu_gated(x, false).into_data().to_vec::<f32>().unwrap();
/// // GELU(1) · 2 and GELU(−1) · 3
/// assert!((y[0] - 1.6827).abs() < 1e-4 && (y[1] + 0.4759).abs() < 1e-4);
/// ```
pub fn gelu_gated(x: Tensor<3>, tanh_approximation: bool) -> Tensor<3> {
    #[cfg(feature = "tch")]
    if enabled()
        && let Some(y) =
            libtorch::gelu_gated(&x, if tanh_approximation { "tanh" } else { "none" }, None)
    {
        return y;
    }
    let width = x.dims()[2] / 2;
    let (a, b) = (x.clone().narrow(2, 0, width), x.narrow(2, width, width));
    let activated = if tanh_approximation {
        burn::tensor::activation::gelu_approximate(a)
    } else {
        crate::exact_gelu(a)
    };
    activated * b
}

/// burn's own attention; `masked` (`[batch, 1, 1, seq]`) expanded over heads and queries.
fn burn_masked_attention(
    query: Tensor<4>,
    key: Tensor<4>,
    value: Tensor<4>,
    masked: Option<Tensor<4, Bool>>,
) -> Tensor<4> {
    let [batch, heads, seq, _] = query.dims();
    let masked = masked.map(|m| m.expand([batch, heads, seq, seq]));
    burn_attention(
        query,
        key,
        value,
        masked,
        None,
        AttentionModuleOptions::default(),
    )
}

/// An autodiff tensor's primitive on backend `B`.
type AdPrimitive<B> = <Autodiff<B> as BackendTypes>::FloatTensorPrimitive;

/// Records `op` over its `N` inputs on the autodiff graph: `tracked` computes the output and
/// the state `op`'s backward needs when an input needs a gradient, `untracked` the output alone.
fn record<B: Backend, O: Backward<B, N>, const N: usize>(
    op: O,
    inputs: [&AdPrimitive<B>; N],
    tracked: impl FnOnce() -> (O::State, B::FloatTensorPrimitive),
    untracked: impl FnOnce() -> B::FloatTensorPrimitive,
) -> AdPrimitive<B> {
    match op
        .prepare::<NoCheckpointing>(inputs.map(|t| t.node()))
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let (state, out) = tracked();
            prep.finish(state, out)
        }
        OpsKind::UnTracked(prep) => prep.finish(untracked()),
    }
}

mod flex;
mod flex_attention;
mod flex_cross_entropy;
mod flex_lstm;
mod flex_reverse;
#[cfg(feature = "tch")]
// burn 0.22 deprecates its libtorch backend; it is the one this project runs on CUDA.
#[allow(deprecated)]
mod libtorch;

#[cfg(test)]
mod tests {
    //! Each fused op against burn's own on the same autodiff device: values, the gradients of
    //! every input, and that the fused path was the one taken.

    use burn::module::Param;
    use burn::nn::LayerNormConfig;
    use burn::tensor::{Distribution, Gradients};

    use super::*;

    /// Off-centre and wide, as a residual stream is; tracked on an autodiff device.
    pub(super) fn random<const D: usize>(
        device: &Device,
        shape: [usize; D],
        seed: u64,
    ) -> Tensor<D> {
        // The generator is global to the process: seed and draw while no other test can.
        static DRAWS: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _drawing = DRAWS.lock().unwrap_or_else(|e| e.into_inner());
        device.seed(seed);
        let t = Tensor::random(shape, Distribution::Normal(0.5, 2.0), device);
        if device.is_autodiff() {
            t.require_grad()
        } else {
            t
        }
    }

    pub(super) fn assert_close<const D: usize>(what: &str, a: Tensor<D>, b: Tensor<D>) {
        assert_within(what, a, b, 1e-5);
    }

    /// The largest difference at most `tolerance` times the largest magnitude in `b`.
    pub(super) fn assert_within<const D: usize>(
        what: &str,
        a: Tensor<D>,
        b: Tensor<D>,
        tolerance: f32,
    ) {
        let worst = crate::max_relative_difference(a, b);
        assert!(
            worst < tolerance,
            "{what}: largest relative difference {worst:e}"
        );
    }

    pub(super) use super::burn_masked_attention as burn_reference;

    /// The gradients of `Σ y · w` (different at every output element) for both outputs, with
    /// one `w` (tests drawing from the device's seed in parallel would make two differ).
    pub(super) fn backward_both<const D: usize>(
        fused: Tensor<D>,
        plain: Tensor<D>,
        seed: u64,
    ) -> (Gradients, Gradients) {
        let w = random(&fused.device(), fused.dims(), seed).detach();
        (
            (fused * w.clone()).sum().backward(),
            (plain * w).sum().backward(),
        )
    }

    /// `fused` against `LayerNorm::forward` on `device`, over more rows than one parallel task
    /// of the flex kernel holds, with a bias and without one (ModernBERT's).
    pub(super) fn check_layer_norm(
        device: &Device,
        fused: impl Fn(&LayerNorm, f64, &Tensor<3>) -> Option<Tensor<3>>,
    ) {
        for with_beta in [true, false] {
            let mut layer = LayerNormConfig::new(48)
                .with_epsilon(1e-12)
                .with_bias(with_beta)
                .init(device);
            layer.gamma = Param::from_tensor(random(device, [48], 1));
            if with_beta {
                layer.beta = Some(Param::from_tensor(random(device, [48], 2)));
            }
            let x = random(device, [3, 70, 48], 3);
            let y = fused(&layer, 1e-12, &x).expect("the fused path");
            let plain = layer.forward(x.clone());
            assert_close("output", y.clone(), plain.clone());
            let (g1, g2) = backward_both(y, plain, 4);
            assert_close("d input", x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
            let gamma = layer.gamma.val();
            let (a, b) = (gamma.grad(&g1).unwrap(), gamma.grad(&g2).unwrap());
            assert_close("d gamma", a, b);
            if let Some(beta) = &layer.beta {
                let beta = beta.val();
                assert_close("d beta", beta.grad(&g1).unwrap(), beta.grad(&g2).unwrap());
            }
        }
    }

    #[cfg(feature = "tch")]
    #[allow(deprecated)]
    mod on_libtorch {
        //! Both routes of every op on libtorch's CPU device (the autograd route is the one CUDA
        //! takes), and the ops without autodiff.

        use burn::module::Param;
        use burn::nn::{LayerNormConfig, LinearConfig};
        use burn::tensor::DType;

        use super::super::libtorch::Route;
        use super::super::*;
        use super::{assert_close, assert_within, backward_both, burn_reference, check_layer_norm};

        fn on_cuda() -> bool {
            std::env::var("TRANSFER_TEST_CUDA").as_deref() == Ok("1")
        }

        /// libtorch's CPU, or CUDA device 0 with `TRANSFER_TEST_CUDA=1` (scripts/device/fused.sh).
        fn plain_device() -> Device {
            if on_cuda() {
                Device::libtorch_cuda(0)
            } else {
                Device::libtorch()
            }
        }

        fn device() -> Device {
            plain_device().autodiff()
        }

        /// Both routes of linear layers and LayerNorm, on every device.
        const BOTH_ROUTES: [Route; 2] = [Route::Own, Route::Autograd];

        /// Ours runs attention on the CPU only.
        fn routes() -> Vec<Route> {
            if on_cuda() {
                vec![Route::Autograd]
            } else {
                vec![Route::Own, Route::Autograd]
            }
        }

        fn random<const D: usize>(shape: [usize; D], seed: u64) -> Tensor<D> {
            super::random(&device(), shape, seed)
        }

        fn layer(device: &Device) -> Linear {
            let mut layer = LinearConfig::new(24, 40).init(device);
            layer.weight = Param::from_tensor(super::random(device, [24, 40], 6));
            layer.bias = Some(Param::from_tensor(super::random(device, [40], 7)));
            layer
        }

        /// With a bias and without one (ModernBERT's).
        #[test]
        fn linear_matches_burn() {
            for (route, with_bias) in BOTH_ROUTES
                .into_iter()
                .flat_map(|r| [(r, true), (r, false)])
            {
                let mut layer = layer(&device());
                if !with_bias {
                    layer.bias = None;
                }
                let x = random([3, 5, 24], 1);
                let fused = libtorch::linear(&layer, &x, None, Some(route)).expect("not fused");
                let plain = layer.forward(x.clone());
                assert_close("output", fused.clone(), plain.clone());
                let (g1, g2) = backward_both(fused, plain, 9);
                assert_close("d input", x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
                let w = layer.weight.val();
                assert_close("d weight", w.grad(&g1).unwrap(), w.grad(&g2).unwrap());
                if let Some(b) = &layer.bias {
                    let b = b.val();
                    assert_close("d bias", b.grad(&g1).unwrap(), b.grad(&g2).unwrap());
                }
            }
        }

        #[test]
        fn frozen_linear_gives_the_input_its_gradient_only() {
            for route in BOTH_ROUTES {
                let layer = layer(&device()).no_grad();
                let x = random([3, 5, 24], 2);
                let fused = libtorch::linear(&layer, &x, None, Some(route)).expect("not fused");
                let plain = layer.forward(x.clone());
                let (g1, g2) = backward_both(fused, plain, 10);
                assert_close("d input", x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
                assert!(layer.weight.val().grad(&g1).is_none(), "{route:?}");
            }
        }

        #[test]
        fn bf16_linear_matches_burn_in_bf16() {
            for route in BOTH_ROUTES {
                let layer = layer(&device());
                let x = random([3, 5, 24], 3);
                let half = Some(FloatDType::BF16);
                let fused = libtorch::linear(&layer, &x, half, Some(route)).expect("not fused");
                assert_eq!(fused.dtype(), DType::BF16);
                let bias = layer.bias.as_ref().unwrap().val();
                let plain = x
                    .clone()
                    .cast(FloatDType::BF16)
                    .matmul(layer.weight.val().cast(FloatDType::BF16).unsqueeze::<3>())
                    + bias.clone().cast(FloatDType::BF16).unsqueeze::<3>();
                // One bf16 rounding (addmm) against two (matmul, then the bias add).
                assert_within("output", fused.clone(), plain.clone(), 1e-2);
                let (g1, g2) =
                    backward_both(fused.cast(FloatDType::F32), plain.cast(FloatDType::F32), 11);
                let (a, b) = (x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
                assert_eq!(a.dtype(), DType::F32, "d input, {route:?}");
                assert_within("d input", a, b, 1e-2);
                let w = layer.weight.val();
                let (a, b) = (w.grad(&g1).unwrap(), w.grad(&g2).unwrap());
                assert_eq!(a.dtype(), DType::F32, "d weight, {route:?}");
                assert_within("d weight", a, b, 1e-2);
                let (a, b) = (bias.grad(&g1).unwrap(), bias.grad(&g2).unwrap());
                assert_eq!(a.dtype(), DType::F32, "d bias, {route:?}");
                assert_within("d bias", a, b, 1e-2);
            }
        }

        #[test]
        fn layer_norm_matches_burn() {
            for route in BOTH_ROUTES {
                check_layer_norm(&device(), |layer, epsilon, x| {
                    libtorch::layer_norm(layer, epsilon, x, Some(route))
                });
            }
        }

        #[test]
        fn attention_matches_burn_with_and_without_padding() {
            let (q, k, v) = (
                random([2, 3, 6, 8], 11),
                random([2, 3, 6, 8], 12),
                random([2, 3, 6, 8], 13),
            );
            // The second sequence has two padded positions.
            let real = Tensor::<2, Bool>::from_data(
                [[true; 6], [true, true, true, true, false, false]],
                &device(),
            );
            for (route, masked) in routes().into_iter().flat_map(|r| {
                [
                    (r, None),
                    (r, Some(real.clone().bool_not().reshape([2, 1, 1, 6]))),
                ]
            }) {
                let fused = libtorch::attention(&q, &k, &v, masked.as_ref(), Some(route))
                    .expect("not fused");
                let plain = burn_reference(q.clone(), k.clone(), v.clone(), masked);
                assert_close("output", fused.clone(), plain.clone());
                let (g1, g2) = backward_both(fused, plain, 14);
                for (name, t) in [("d query", &q), ("d key", &k), ("d value", &v)] {
                    assert_close(name, t.grad(&g1).unwrap(), t.grad(&g2).unwrap());
                }
            }
        }

        /// The packed projections and attention against three linear layers and burn's
        /// attention: values, and the gradients of the input and of every weight and bias.
        #[test]
        fn packed_self_attention_matches_burn_with_and_without_padding() {
            let device = device();
            let projection = |seed| {
                let mut layer = LinearConfig::new(24, 24).init(&device);
                let weight = (super::random(&device, [24, 24], seed) * 0.1).detach();
                layer.weight = Param::from_tensor(weight.require_grad());
                layer.bias = Some(Param::from_tensor(super::random(&device, [24], seed + 1)));
                layer
            };
            let layers = [projection(40), projection(42), projection(44)];
            let x = random([2, 6, 24], 46);
            let real = Tensor::<2, Bool>::from_data(
                [[true; 6], [true, true, true, true, false, false]],
                &device,
            );
            let split = |t: Tensor<3>| t.reshape([2, 6, 3, 8]).swap_dims(1, 2);
            for (route, masked) in routes().into_iter().flat_map(|r| {
                [
                    (r, None),
                    (r, Some(real.clone().bool_not().reshape([2, 1, 1, 6]))),
                ]
            }) {
                let fused = libtorch::packed_self_attention(
                    [&layers[0], &layers[1], &layers[2]],
                    &x,
                    3,
                    masked.as_ref(),
                    None,
                    Some(route),
                )
                .expect("not fused");
                let [q, k, v] = [0, 1, 2].map(|i| split(layers[i].forward(x.clone())));
                let plain = burn_reference(q, k, v, masked)
                    .swap_dims(1, 2)
                    .reshape([2, 6, 24]);
                assert_close("output", fused.clone(), plain.clone());
                let (g1, g2) = backward_both(fused, plain, 47);
                assert_close("d input", x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
                for layer in &layers {
                    let w = layer.weight.val();
                    assert_close("d weight", w.grad(&g1).unwrap(), w.grad(&g2).unwrap());
                }
                // All three at once: the keys' bias moves every score of a query alike, so its
                // gradient is zero up to rounding, and only comparable beside the others'.
                let biases = |g: &burn::tensor::Gradients| {
                    let each = layers.each_ref().map(|l| l.bias.as_ref().unwrap().val());
                    Tensor::cat(each.map(|b| b.grad(g).unwrap()).to_vec(), 0)
                };
                assert_close("d biases", biases(&g1), biases(&g2));
            }
        }

        /// With and without padding, every input's gradient, the bias's summed over the batch.
        #[test]
        fn biased_attention_matches_burn() {
            let [q, k, v] = [70, 71, 72].map(|seed| random([2, 3, 6, 8], seed));
            let bias = random([1, 3, 6, 6], 73);
            let padded = Tensor::<2, Bool>::from_data(
                [[false; 6], [false, false, false, false, true, true]],
                &device(),
            )
            .reshape([2, 1, 1, 6]);
            for masked in [None, Some(padded)] {
                let fused = libtorch::biased_attention([&q, &k, &v], &bias, masked.as_ref())
                    .expect("not fused");
                let plain = super::super::burn_biased_attention(
                    q.clone(),
                    k.clone(),
                    v.clone(),
                    bias.clone(),
                    masked,
                );
                assert_close("output", fused.clone(), plain.clone());
                let (g1, g2) = backward_both(fused, plain, 74);
                for (name, t) in [
                    ("d query", &q),
                    ("d key", &k),
                    ("d value", &v),
                    ("d bias", &bias),
                ] {
                    assert_close(name, t.grad(&g1).unwrap(), t.grad(&g2).unwrap());
                }
            }
        }

        /// The rotated packed attention against the parts split, rotated and attended by
        /// burn's ops: values and the packed input's gradient, with no mask, padded keys, and a
        /// window over padded keys (`[batch, 1, seq, seq]`, ModernBERT's local layers).
        #[test]
        fn rotary_self_attention_matches_burn() {
            let device = device();
            let qkv = random([2, 6, 72], 50);
            let rotary = [51, 52].map(|seed| random([1, 1, 6, 8], seed).detach());
            let padded = Tensor::<2, Bool>::from_data(
                [[false; 6], [false, false, false, false, true, true]],
                &device,
            )
            .reshape([2, 1, 1, 6]);
            let far: Vec<bool> = (0..36usize).map(|i| (i / 6).abs_diff(i % 6) > 2).collect();
            let window = Tensor::<1, Bool>::from_data(far.as_slice(), &device)
                .reshape([1, 1, 6, 6])
                .expand([2, 1, 6, 6])
                .bool_or(padded.clone().expand([2, 1, 6, 6]));
            let rotate = |x: Tensor<4>| {
                let swapped = Tensor::cat(
                    vec![x.clone().narrow(3, 4, 4), x.clone().narrow(3, 0, 4)],
                    3,
                );
                let [cos, sin] = rotary.clone().map(|t| t.expand([2, 3, 6, 8]));
                x * cos + swapped * sin
            };
            let part = |i| {
                let part = qkv.clone().reshape([2, 6, 3, 24]).narrow(2, i, 1);
                part.reshape([2, 6, 3, 8]).swap_dims(1, 2)
            };
            for (route, masked) in routes().into_iter().flat_map(|r| {
                [
                    (r, None),
                    (r, Some(padded.clone())),
                    (r, Some(window.clone())),
                ]
            }) {
                let fused =
                    libtorch::rotary_self_attention(&qkv, 3, &rotary, masked.as_ref(), Some(route))
                        .expect("not fused");
                let plain = burn_reference(rotate(part(0)), rotate(part(1)), part(2), masked)
                    .swap_dims(1, 2)
                    .reshape([2, 6, 24]);
                assert_close("output", fused.clone(), plain.clone());
                let (g1, g2) = backward_both(fused, plain, 53);
                assert_close("d qkv", qkv.grad(&g1).unwrap(), qkv.grad(&g2).unwrap());
            }
        }

        /// Exact and tanh-approximated, against burn's GELU on one half times the other.
        #[test]
        fn gelu_gated_matches_burn() {
            for (route, tanh) in BOTH_ROUTES
                .into_iter()
                .flat_map(|r| [(r, false), (r, true)])
            {
                let x = random([3, 5, 16], 60);
                let approximate = if tanh { "tanh" } else { "none" };
                let fused = libtorch::gelu_gated(&x, approximate, Some(route)).expect("not fused");
                let (a, b) = (x.clone().narrow(2, 0, 8), x.clone().narrow(2, 8, 8));
                let activated = if tanh {
                    burn::tensor::activation::gelu_approximate(a)
                } else {
                    burn::tensor::activation::gelu(a)
                };
                let plain = activated * b;
                assert_close("output", fused.clone(), plain.clone());
                let (g1, g2) = backward_both(fused, plain, 61);
                assert_close("d input", x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
            }
        }

        #[test]
        fn cross_entropy_matches_burn() {
            for device in [device(), plain_device()] {
                let x = super::random(&device, [7, 11], 31);
                let t = Tensor::<1, Int>::from_data([0, 10, 3, 3, 5, 9, 1], &device);
                let fused = libtorch::cross_entropy(&x, &t).expect("not fused");
                let plain = CrossEntropyLossConfig::new()
                    .init(&device)
                    .forward(x.clone(), t);
                assert_close("loss", fused.clone(), plain.clone());
                if device.is_autodiff() {
                    let (g1, g2) = (fused.backward(), plain.backward());
                    assert_close("d logits", x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
                }
            }
        }

        #[test]
        fn dropout_keeps_scales_and_passes_gradients_where_kept() {
            let (prob, n) = (0.3, 20_000);
            let layer = burn::nn::DropoutConfig::new(prob).init();
            let x = (random([n], 31).abs() + 0.5).detach().require_grad();
            assert!(libtorch::dropout(&x, prob).is_some(), "not fused");
            let y = dropout(&layer, x.clone());
            let kept = y.clone().not_equal_elem(0.0);
            let share = kept.clone().float().sum().into_scalar::<f32>() as f64 / n as f64;
            assert!((share - (1.0 - prob)).abs() < 0.02, "kept {share}");
            let scaled = x.clone() / (1.0 - prob);
            let expected = scaled.clone().mask_fill(kept.clone().bool_not(), 0.0);
            assert_close("output", y.clone(), expected.clone());
            let w = random([n], 32).detach();
            let grads = (y * w.clone()).sum().backward();
            let expected = (w / (1.0 - prob)).mask_fill(kept.bool_not(), 0.0);
            assert_close("d input", x.grad(&grads).unwrap(), expected);
            // Frozen, or without autodiff: the input as it is.
            let mut frozen = layer.clone();
            frozen.training = Param::from_bool(false);
            assert_close("frozen", dropout(&frozen, x.clone()), x.clone());
            let plain = x.inner();
            assert_close("plain", dropout(&layer, plain.clone()), plain);
        }

        #[test]
        fn without_autodiff_each_op_is_libtorchs() {
            let device = plain_device();
            let fresh = |shape: [usize; 3], seed| super::random(&device, shape, seed);
            let layer = layer(&device);
            let x = fresh([3, 5, 24], 21);
            let y = libtorch::linear(&layer, &x, None, None).expect("not fused");
            assert_close("linear", y, layer.forward(x.clone()));
            let unbiased = Linear {
                bias: None,
                ..layer.clone()
            };
            let y = libtorch::linear(&unbiased, &x, None, None).expect("not fused");
            assert_close("linear without bias", y, unbiased.forward(x));

            let mut norm = LayerNormConfig::new(24).with_epsilon(1e-12).init(&device);
            norm.beta = Some(Param::from_tensor(super::random(&device, [24], 22)));
            let x = fresh([3, 5, 24], 23);
            let y = libtorch::layer_norm(&norm, 1e-12, &x, None).expect("not fused");
            assert_close("layer norm", y, norm.forward(x));

            let [q, k, v] = [24, 25, 26].map(|s| fresh([6, 5, 4], s).reshape([2, 3, 5, 4]));
            let masked = Tensor::<2, Bool>::from_data(
                [[false; 5], [false, false, false, true, true]],
                &device,
            )
            .reshape([2, 1, 1, 5]);
            let y = libtorch::attention(&q, &k, &v, Some(&masked), None).expect("not fused");
            // burn's libtorch attention takes the mask as "may attend" (see `attention`).
            let expected = burn_reference(q, k, v, Some(masked.bool_not()));
            assert_close("attention", y, expected);

            let x = fresh([3, 5, 24], 27);
            let y = libtorch::gelu_gated(&x, "none", None).expect("not fused");
            let expected = burn::tensor::activation::gelu(x.clone().narrow(2, 0, 12));
            assert_close("gelu gated", y, expected * x.narrow(2, 12, 12));
        }
    }
}
