//! Custom autodiff ops on `Autodiff<LibTorch>`: libtorch computes the forward in one
//! kernel (`addmm`, `native_layer_norm`, `_scaled_dot_product_flash_attention_for_cpu`);
//! the backward is flash attention's own kernel, and for LayerNorm the closed form
//! `dx = rstd · (g − mean(g) − x̂ · mean(g · x̂))` with `g = dy · γ` (tch exposes no
//! `native_layer_norm_backward`).

use burn::backend::LibTorch;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::libtorch::TchTensor;
use burn::nn::{LayerNorm, Linear};
use burn::prelude::*;
use burn::tensor::DType;

use super::record;

type Ad = Autodiff<LibTorch>;
type AdTensor = <Ad as burn::backend::BackendTypes>::FloatTensorPrimitive;

/// The autodiff libtorch primitive of an f32 tensor on the CPU, if it is one.
fn primitive<const D: usize>(x: &Tensor<D>) -> Option<AdTensor> {
    if x.dtype() != DType::F32 || !x.is_autodiff() {
        return None;
    }
    let p = x.clone().try_into_primitive::<Ad>().ok()?;
    (p.primitive().tensor.device() == tch::Device::Cpu).then_some(p)
}

#[derive(Debug)]
struct LinearBackward;

#[derive(Debug, Clone)]
struct LinearState {
    /// The input as `[rows, d_input]`, kept when the weight needs its gradient.
    input: Option<TchTensor>,
    /// `[d_input, d_output]`, kept when the input needs its gradient.
    weight: Option<TchTensor>,
}

impl Backward<LibTorch, 3> for LinearBackward {
    type State = LinearState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let dy = grads.consume::<LibTorch>(&ops.node).tensor;
        let mut shape = dy.size();
        let width = shape.pop().unwrap_or(1);
        let dy2 = dy.reshape([-1, width]);
        if let (Some(node), Some(weight)) = (node_x, ops.state.weight) {
            let d_input = weight.tensor.size()[0];
            shape.push(d_input);
            let grad = dy2.mm(&weight.tensor.tr()).reshape(shape);
            grads.register::<LibTorch>(node.id, TchTensor::new(grad));
        }
        if let (Some(node), Some(input)) = (node_weight, ops.state.input) {
            let grad = input.tensor.tr().mm(&dy2);
            grads.register::<LibTorch>(node.id, TchTensor::new(grad));
        }
        if let Some(node) = node_bias {
            let grad = dy2.sum_dim_intlist(0, false, tch::Kind::Float);
            grads.register::<LibTorch>(node.id, TchTensor::new(grad));
        }
    }
}

pub(super) fn linear(layer: &Linear, x: &Tensor<3>) -> Option<Tensor<3>> {
    let bias = layer.bias.as_ref()?;
    let (x, weight, bias) = (
        primitive(x)?,
        primitive(&layer.weight.val())?,
        primitive(&bias.val())?,
    );
    let mut shape = x.primitive().tensor.size();
    let d_input = shape.pop()?;
    shape.push(weight.primitive().tensor.size()[1]);
    let input = x.primitive().tensor.reshape([-1, d_input]);
    let forward = |input: &tch::Tensor| {
        bias.primitive()
            .tensor
            .addmm(input, &weight.primitive().tensor)
            .reshape(shape.as_slice())
    };
    let (x_tracked, weight_tracked) = (x.is_tracked(), weight.is_tracked());
    let out = record(
        LinearBackward,
        [&x, &weight, &bias],
        || {
            let state = LinearState {
                input: weight_tracked.then(|| TchTensor::new(input.shallow_clone())),
                weight: x_tracked.then(|| weight.primitive().clone()),
            };
            (state, TchTensor::new(forward(&input)))
        },
        || TchTensor::new(forward(&input)),
    );
    Some(Tensor::from_primitive::<Ad>(out))
}

#[derive(Debug)]
struct LayerNormBackward;

#[derive(Debug, Clone)]
struct LayerNormState {
    /// `x̂ = (x − mean) · rstd`, the normalised input.
    normalized: TchTensor,
    rstd: TchTensor,
    gamma: TchTensor,
}

impl Backward<LibTorch, 3> for LayerNormBackward {
    type State = LayerNormState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = grads.consume::<LibTorch>(&ops.node).tensor;
        let LayerNormState {
            normalized,
            rstd,
            gamma,
        } = ops.state;
        let (xhat, rstd) = (normalized.tensor, rstd.tensor);
        let rows: Vec<i64> = (0..dy.dim() as i64 - 1).collect();
        if let Some(node) = node_gamma {
            let grad = (&dy * &xhat).sum_dim_intlist(rows.as_slice(), false, tch::Kind::Float);
            grads.register::<LibTorch>(node.id, TchTensor::new(grad));
        }
        if let Some(node) = node_beta {
            let grad = dy.sum_dim_intlist(rows.as_slice(), false, tch::Kind::Float);
            grads.register::<LibTorch>(node.id, TchTensor::new(grad));
        }
        if let Some(node) = node_x {
            let g = &dy * &gamma.tensor;
            let mean_g = g.mean_dim(-1, true, tch::Kind::Float);
            let mean_gx = (&g * &xhat).mean_dim(-1, true, tch::Kind::Float);
            let grad = (g - mean_g - xhat * mean_gx) * rstd;
            grads.register::<LibTorch>(node.id, TchTensor::new(grad));
        }
    }
}

pub(super) fn layer_norm(layer: &LayerNorm, epsilon: f64, x: &Tensor<3>) -> Option<Tensor<3>> {
    let beta = layer.beta.as_ref()?;
    let (x, gamma, beta) = (
        primitive(x)?,
        primitive(&layer.gamma.val())?,
        primitive(&beta.val())?,
    );
    let width = gamma.primitive().tensor.size()[0];
    let forward = |x: &tch::Tensor| {
        x.native_layer_norm(
            [width],
            Some(&gamma.primitive().tensor),
            Some(&beta.primitive().tensor),
            epsilon,
        )
    };
    let input = &x.primitive().tensor;
    let out = record(
        LayerNormBackward,
        [&x, &gamma, &beta],
        || {
            let (y, mean, rstd) = forward(input);
            let state = LayerNormState {
                normalized: TchTensor::new((input - mean) * &rstd),
                rstd: TchTensor::new(rstd),
                gamma: gamma.primitive().clone(),
            };
            (state, TchTensor::new(y))
        },
        || TchTensor::new(forward(input).0),
    );
    Some(Tensor::from_primitive::<Ad>(out))
}

#[derive(Debug)]
struct FlashAttentionBackward;

#[derive(Debug, Clone)]
struct FlashAttentionState {
    query: TchTensor,
    key: TchTensor,
    value: TchTensor,
    out: TchTensor,
    logsumexp: TchTensor,
    /// Additive: 0 where a key may be looked at, −∞ where not.
    bias: Option<TchTensor>,
}

impl Backward<LibTorch, 3> for FlashAttentionBackward {
    type State = FlashAttentionState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let parents = ops.parents;
        let dy = grads.consume::<LibTorch>(&ops.node).tensor;
        let s = ops.state;
        let (dq, dk, dv) =
            tch::Tensor::internal_scaled_dot_product_flash_attention_for_cpu_backward(
                &dy,
                &s.query.tensor,
                &s.key.tensor,
                &s.value.tensor,
                &s.out.tensor,
                &s.logsumexp.tensor,
                0.0,
                false,
                s.bias.as_ref().map(|b| &b.tensor),
                None,
            );
        for (node, grad) in parents.into_iter().zip([dq, dk, dv]) {
            if let Some(node) = node {
                grads.register::<LibTorch>(node.id, TchTensor::new(grad));
            }
        }
    }
}

pub(super) fn attention(
    query: &Tensor<4>,
    key: &Tensor<4>,
    value: &Tensor<4>,
    masked: Option<&Tensor<4, Bool>>,
) -> Option<Tensor<4>> {
    let (q, k, v) = (primitive(query)?, primitive(key)?, primitive(value)?);
    let bias = match masked {
        Some(m) => {
            let m = m
                .clone()
                .inner()
                .try_into_primitive::<LibTorch>()
                .ok()?
                .tensor;
            Some(TchTensor::new(
                tch::Tensor::zeros(m.size(), (tch::Kind::Float, tch::Device::Cpu))
                    .masked_fill(&m, f64::NEG_INFINITY),
            ))
        }
        None => None,
    };
    let forward = || {
        tch::Tensor::internal_scaled_dot_product_flash_attention_for_cpu(
            &q.primitive().tensor,
            &k.primitive().tensor,
            &v.primitive().tensor,
            0.0,
            false,
            bias.as_ref().map(|b| &b.tensor),
            None,
        )
    };
    let out = record(
        FlashAttentionBackward,
        [&q, &k, &v],
        || {
            let (out, logsumexp) = forward();
            let out = TchTensor::new(out);
            let state = FlashAttentionState {
                query: q.primitive().clone(),
                key: k.primitive().clone(),
                value: v.primitive().clone(),
                out: out.clone(),
                logsumexp: TchTensor::new(logsumexp),
                bias: bias.clone(),
            };
            (state, out)
        },
        || TchTensor::new(forward().0),
    );
    Some(Tensor::from_primitive::<Ad>(out))
}
