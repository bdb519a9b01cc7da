//! Linear layers, LayerNorm and attention for the BERT encoder, fused where the backend allows.
//!
//! Under autodiff burn 0.22 runs a linear layer as a matrix product then a separate bias add,
//! differentiates LayerNorm through its decomposition (nine element-wise ops, each with its own
//! backward) and attention through matmul, softmax and matmul, materialising the
//! `[batch, heads, seq, seq]` scores. When training on libtorch's CPU device each runs as one
//! libtorch kernel instead (see `libtorch`); everywhere else, and without autodiff, burn's own
//! ops run.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::ops::{Backward, OpsKind};
use burn::backend::{Backend, BackendTypes};
use burn::nn::{LayerNorm, Linear};
use burn::prelude::*;
use burn::tensor::module::attention as burn_attention;
use burn::tensor::ops::AttentionModuleOptions;

/// `layer(x)`, in f32.
pub(crate) fn linear(layer: &Linear, x: Tensor<3>) -> Tensor<3> {
    #[cfg(feature = "tch")]
    if let Some(y) = libtorch::linear(layer, &x) {
        return y;
    }
    layer.forward(x)
}

/// `layer(x)`; `epsilon` must be the layer's own.
pub(crate) fn layer_norm(layer: &LayerNorm, epsilon: f64, x: Tensor<3>) -> Tensor<3> {
    #[cfg(feature = "tch")]
    if let Some(y) = libtorch::layer_norm(layer, epsilon, &x) {
        return y;
    }
    if let Some(y) = flex::layer_norm(layer, epsilon, &x) {
        return y;
    }
    layer.forward(x)
}

/// Scaled dot-product attention of `[batch, heads, seq, head_dim]` queries, keys and values;
/// `masked` (`[batch, 1, 1, seq]`) is true at the keys no query may look at (padding).
pub(crate) fn attention(
    query: Tensor<4>,
    key: Tensor<4>,
    value: Tensor<4>,
    masked: Option<Tensor<4, Bool>>,
    libtorch_allow_mask: bool,
) -> Tensor<4> {
    #[cfg(feature = "tch")]
    if let Some(y) = libtorch::attention(&query, &key, &value, masked.as_ref()) {
        return y;
    }
    let [batch, heads, seq, _] = query.dims();
    let masked = masked.map(|m| {
        // burn's libtorch backend hands the mask to torch unchanged, where true means "may
        // attend": the opposite of burn's convention (and of its autodiff fallback).
        let m = if libtorch_allow_mask { m.bool_not() } else { m };
        m.expand([batch, heads, seq, seq])
    });
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

/// Records `op` over its three inputs on the autodiff graph: `tracked` computes the output and
/// the state `op`'s backward needs when an input needs a gradient, `untracked` the output alone.
fn record<B: Backend, O: Backward<B, 3>>(
    op: O,
    inputs: [&AdPrimitive<B>; 3],
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

    /// Off-centre and wide, as a residual stream is.
    pub(super) fn random<const D: usize>(
        device: &Device,
        shape: [usize; D],
        seed: u64,
    ) -> Tensor<D> {
        device.seed(seed);
        Tensor::random(shape, Distribution::Normal(0.5, 2.0), device).require_grad()
    }

    pub(super) fn assert_close<const D: usize>(what: &str, a: Tensor<D>, b: Tensor<D>) {
        let worst = (a - b.clone()).abs().max().into_scalar::<f32>()
            / b.abs().max().into_scalar::<f32>().max(1e-6);
        assert!(
            worst < 1e-5,
            "{what}: largest relative difference {worst:e}"
        );
    }

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
    /// of the flex kernel holds.
    pub(super) fn check_layer_norm(
        device: &Device,
        fused: impl Fn(&LayerNorm, f64, &Tensor<3>) -> Option<Tensor<3>>,
    ) {
        let mut layer = LayerNormConfig::new(48).with_epsilon(1e-12).init(device);
        layer.gamma = Param::from_tensor(random(device, [48], 1));
        layer.beta = Some(Param::from_tensor(random(device, [48], 2)));
        let x = random(device, [3, 70, 48], 3);
        let y = fused(&layer, 1e-12, &x).expect("the fused path");
        let plain = layer.forward(x.clone());
        assert_close("output", y.clone(), plain.clone());
        let (g1, g2) = backward_both(y, plain, 4);
        assert_close("d input", x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
        let gamma = layer.gamma.val();
        let (a, b) = (gamma.grad(&g1).unwrap(), gamma.grad(&g2).unwrap());
        assert_close("d gamma", a, b);
        let beta = layer.beta.as_ref().unwrap().val();
        assert_close("d beta", beta.grad(&g1).unwrap(), beta.grad(&g2).unwrap());
    }

    #[cfg(feature = "tch")]
    #[allow(deprecated)]
    mod on_libtorch {
        use burn::module::Param;
        use burn::nn::LinearConfig;

        use super::super::*;
        use super::{assert_close, backward_both, check_layer_norm};

        fn device() -> Device {
            Device::libtorch().autodiff()
        }

        fn random<const D: usize>(shape: [usize; D], seed: u64) -> Tensor<D> {
            super::random(&device(), shape, seed)
        }

        #[test]
        fn linear_matches_burn() {
            let mut layer = LinearConfig::new(24, 40).init(&device());
            layer.bias = Some(Param::from_tensor(random([40], 7)));
            let x = random([3, 5, 24], 1);
            assert!(libtorch::linear(&layer, &x).is_some(), "not fused");
            let fused = linear(&layer, x.clone());
            let plain = layer.forward(x.clone());
            assert_close("output", fused.clone(), plain.clone());
            let (g1, g2) = backward_both(fused, plain, 9);
            assert_close("d input", x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
            let w = layer.weight.val();
            assert_close("d weight", w.grad(&g1).unwrap(), w.grad(&g2).unwrap());
            let b = layer.bias.as_ref().unwrap().val();
            assert_close("d bias", b.grad(&g1).unwrap(), b.grad(&g2).unwrap());
        }

        #[test]
        fn layer_norm_matches_burn() {
            check_layer_norm(&device(), libtorch::layer_norm);
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
            for masked in [None, Some(real.bool_not().reshape([2, 1, 1, 6]))] {
                let direct = libtorch::attention(&q, &k, &v, masked.as_ref());
                assert!(direct.is_some(), "not fused");
                let fused = attention(q.clone(), k.clone(), v.clone(), masked.clone(), false);
                let plain = burn_attention(
                    q.clone(),
                    k.clone(),
                    v.clone(),
                    masked.map(|m| m.expand([2, 3, 6, 6])),
                    None,
                    AttentionModuleOptions::default(),
                );
                assert_close("output", fused.clone(), plain.clone());
                let (g1, g2) = backward_both(fused, plain, 14);
                for (name, t) in [("d query", &q), ("d key", &k), ("d value", &v)] {
                    assert_close(name, t.grad(&g1).unwrap(), t.grad(&g2).unwrap());
                }
            }
        }
    }
}
