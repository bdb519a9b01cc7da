//! The fused ops on libtorch, with and without burn's autodiff.
//!
//! Without autodiff each is one libtorch call (`addmm`, `layer_norm`,
//! `scaled_dot_product_attention`, `cross_entropy`). Under autodiff each is one custom op on the graph, whose
//! backward takes one of two routes:
//! - [`Route::Own`]: linear layers and LayerNorm on every device and in every precision
//!   (`addmm`'s two `mm`s and a row sum; `native_layer_norm_backward`, through
//!   [`crate::libtorch_ffi`] as tch does not bind it: PyTorch's kernels, without the detour
//!   through libtorch's autograd engine); in f32 on the CPU, where it was measured, also
//!   attention (`_scaled_dot_product_flash_attention_for_cpu` with its backward kernel);
//! - [`Route::Autograd`] everywhere else (attention on CUDA or in half precision,
//!   cross-entropy, the LSTM): the forward runs with
//!   libtorch's own graph recorded behind a leaf per input, and the backward asks that graph for
//!   the inputs' gradients, so libtorch picks the kernels as PyTorch eager does (flash or
//!   memory-efficient attention, cuBLAS).
//!
//! A BERT layer's query, key and value projections run as one packed product
//! ([`packed_self_attention`]: one `addmm` on the three weights side by side, the attention
//! reading its three parts in place), as PyTorch's `nn.MultiheadAttention` does.

use burn::backend::LibTorch;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::libtorch::TchTensor;
use burn::nn::{LayerNorm, Linear};
use burn::prelude::*;
use burn::tensor::FloatDType;

use super::record;
use crate::libtorch_ffi::{LayerNormSaved, layer_norm_backward};

type Ad = Autodiff<LibTorch>;
type AdTensor = <Ad as burn::backend::BackendTypes>::FloatTensorPrimitive;

/// Whose backward an op under autodiff runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    /// Ours (linear layers and LayerNorm everywhere; attention in f32 on the CPU).
    Own,
    /// libtorch's autograd.
    Autograd,
}

/// A float tensor on libtorch, with or without autodiff.
enum Prim {
    Ad(AdTensor),
    Plain(TchTensor),
}

impl Prim {
    fn of<const D: usize>(x: &Tensor<D>) -> Option<Self> {
        if !x.dtype().is_float() {
            return None;
        }
        if x.is_autodiff() {
            x.clone().try_into_primitive::<Ad>().ok().map(Self::Ad)
        } else {
            x.clone()
                .try_into_primitive::<LibTorch>()
                .ok()
                .map(Self::Plain)
        }
    }

    fn tch(&self) -> &tch::Tensor {
        match self {
            Self::Ad(p) => &p.primitive().tensor,
            Self::Plain(p) => &p.tensor,
        }
    }
}

/// The route for ops on `x` unless the caller or `[`crate::Kernels::Autograd`]` forces one: ours
/// where we measured it (f32 on the CPU).
fn route_for(x: &tch::Tensor, forced: Option<Route>) -> Route {
    let ours_measured = x.device() == tch::Device::Cpu && x.kind() == tch::Kind::Float;
    match own_route(forced) {
        Route::Own if forced.is_none() && !ours_measured => Route::Autograd,
        route => route,
    }
}

/// [`Route::Own`] on every device and in every precision (ops whose backward is PyTorch's own
/// kernels called directly) unless the caller or `[`crate::Kernels::Autograd`]` forces one.
fn own_route(forced: Option<Route>) -> Route {
    forced
        .or((!crate::Kernels::current().own_backward()).then_some(Route::Autograd))
        .unwrap_or(Route::Own)
}

/// Runs `f` over three libtorch tensors of one kind (all under autodiff or none): directly,
/// through `own` (an op with our backward, when it offers one for these inputs), or as a
/// [`TorchBackward`] op.
fn dispatch<const D: usize, const N: usize>(
    inputs: [Prim; N],
    route: Route,
    own: impl FnOnce(&[AdTensor; N]) -> Option<AdTensor>,
    f: impl Fn([&tch::Tensor; N]) -> tch::Tensor,
) -> Option<Tensor<D>> {
    if inputs.iter().all(|p| matches!(p, Prim::Plain(_))) {
        let out = tch::no_grad(|| f(inputs.each_ref().map(Prim::tch)));
        return Some(Tensor::from_primitive::<LibTorch>(TchTensor::new(out)));
    }
    let tracked: Vec<AdTensor> = inputs
        .into_iter()
        .map(|p| match p {
            Prim::Ad(t) => Some(t),
            Prim::Plain(_) => None,
        })
        .collect::<Option<_>>()?;
    let inputs: [AdTensor; N] = tracked.try_into().ok()?;
    let out = match route {
        Route::Own => own(&inputs)?,
        Route::Autograd => torch_op(&inputs, f),
    };
    Some(Tensor::from_primitive::<Ad>(out))
}

/// `layer(x)` with `addmm` (`mm` for a layer without a bias), in `half` when given (the
/// result then in `half`).
pub(super) fn linear(
    layer: &Linear,
    x: &Tensor<3>,
    half: Option<FloatDType>,
    forced: Option<Route>,
) -> Option<Tensor<3>> {
    let weight = layer.weight.val();
    let bias = super::bias_or_zeros(layer.bias.as_ref(), weight.dims()[1], &weight.device());
    let bias = Bias {
        values: &bias,
        zero: layer.bias.is_none(),
    };
    linear_of(&weight, bias, x, half, forced)
}

/// A linear layer's bias: a zero one (a layer without a bias, an untracked input) is not added.
#[derive(Clone, Copy)]
struct Bias<'a> {
    values: &'a Tensor<1>,
    zero: bool,
}

/// `x · weight + bias` (`weight`: `[d_input, d_output]`) as [`linear`].
fn linear_of(
    weight: &Tensor<2>,
    bias: Bias,
    x: &Tensor<3>,
    half: Option<FloatDType>,
    forced: Option<Route>,
) -> Option<Tensor<3>> {
    let inputs = [Prim::of(x)?, Prim::of(weight)?, Prim::of(bias.values)?];
    let zero_bias = bias.zero;
    let kind = match half {
        None => tch::Kind::Float,
        Some(FloatDType::BF16) => tch::Kind::BFloat16,
        Some(FloatDType::F16) => tch::Kind::Half,
        Some(_) => return None,
    };
    dispatch(
        inputs,
        own_route(forced),
        |inputs| own_linear(inputs, zero_bias, kind),
        move |[x, w, b]| {
            let mut shape = x.size();
            let d_input = shape.pop().unwrap_or(1);
            shape.push(w.size()[1]);
            let x = x.reshape([-1, d_input]);
            product(b, zero_bias, &in_kind(&x, kind), &in_kind(w, kind), kind)
                .reshape(shape.as_slice())
        },
    )
}

/// `input · w + bias` in `kind`: `addmm`, or `mm` where the bias is zero (no output-sized copy
/// of it for `addmm` to add to).
fn product(
    bias: &tch::Tensor,
    zero_bias: bool,
    input: &tch::Tensor,
    w: &tch::Tensor,
    kind: tch::Kind,
) -> tch::Tensor {
    if zero_bias {
        input.mm(w)
    } else {
        in_kind(bias, kind).addmm(input, w)
    }
}

/// `t` in `kind`: a cast only when it is in another (no libtorch call otherwise).
fn in_kind(t: &tch::Tensor, kind: tch::Kind) -> tch::Tensor {
    if t.kind() == kind {
        t.shallow_clone()
    } else {
        t.to_kind(kind)
    }
}

#[derive(Debug)]
struct LinearBackward;

#[derive(Debug, Clone)]
struct LinearState {
    /// The input as `[rows, d_input]` in the product's type, kept when the weight needs its
    /// gradient.
    input: Option<TchTensor>,
    /// `[d_input, d_output]` in the product's type, kept when the input needs its gradient.
    weight: Option<TchTensor>,
    /// The product's type, and the input's and weight's own (their gradients' types).
    kind: tch::Kind,
    input_kind: tch::Kind,
    weight_kind: tch::Kind,
}

impl Backward<LibTorch, 3> for LinearBackward {
    type State = LinearState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let state = ops.state;
        let dy = grads.consume::<LibTorch>(&ops.node).tensor;
        let mut shape = dy.size();
        let width = shape.pop().unwrap_or(1);
        let dy2 = in_kind(&dy.reshape([-1, width]), state.kind);
        if let (Some(node), Some(weight)) = (node_x, state.weight) {
            shape.push(weight.tensor.size()[0]);
            let grad = in_kind(
                &dy2.mm(&weight.tensor.tr()).reshape(shape),
                state.input_kind,
            );
            grads.register::<LibTorch>(node.id, TchTensor::new(grad));
        }
        if let (Some(node), Some(input)) = (node_weight, state.input) {
            let grad = in_kind(&input.tensor.tr().mm(&dy2), state.weight_kind);
            grads.register::<LibTorch>(node.id, TchTensor::new(grad));
        }
        if let Some(node) = node_bias {
            let grad = dy2.sum_dim_intlist(0, false, tch::Kind::Float);
            grads.register::<LibTorch>(node.id, TchTensor::new(grad));
        }
    }
}

/// `x · W + b` with `addmm` (`mm` where the bias is zero) in `kind` (the inputs cast to it,
/// as autocast does) and our backward: two `mm`s and a row sum, the gradients cast back to the
/// inputs' types.
fn own_linear(
    [x, weight, bias]: &[AdTensor; 3],
    zero_bias: bool,
    kind: tch::Kind,
) -> Option<AdTensor> {
    let (x_tensor, w_tensor) = (&x.primitive().tensor, &weight.primitive().tensor);
    let floats = [tch::Kind::Float, tch::Kind::BFloat16, tch::Kind::Half];
    if !floats.contains(&x_tensor.kind()) || !floats.contains(&w_tensor.kind()) {
        return None;
    }
    let mut shape = x_tensor.size();
    let d_input = shape.pop()?;
    shape.push(w_tensor.size()[1]);
    let input = in_kind(&x_tensor.reshape([-1, d_input]), kind);
    let w = in_kind(w_tensor, kind);
    let forward = |input: &tch::Tensor, w: &tch::Tensor| {
        product(&bias.primitive().tensor, zero_bias, input, w, kind).reshape(shape.as_slice())
    };
    let (x_tracked, weight_tracked) = (x.is_tracked(), weight.is_tracked());
    Some(record(
        LinearBackward,
        [x, weight, bias],
        || {
            let out = TchTensor::new(forward(&input, &w));
            // Views of the inputs' buffers (in f32) share burn's count of their handles, so
            // burn writes into neither while this state holds them.
            let state = LinearState {
                input: weight_tracked.then(|| {
                    TchTensor::from_existing(input.shallow_clone(), x.primitive().storage.clone())
                }),
                weight: x_tracked.then(|| {
                    TchTensor::from_existing(w.shallow_clone(), weight.primitive().storage.clone())
                }),
                kind,
                input_kind: x_tensor.kind(),
                weight_kind: w_tensor.kind(),
            };
            (state, out)
        },
        || TchTensor::new(forward(&input, &w)),
    ))
}

/// The mean cross-entropy of `logits` against class indices as `[1]`: libtorch's
/// `cross_entropy` (log-softmax and NLL, one fused backward), down libtorch's autograd.
pub(super) fn cross_entropy(logits: &Tensor<2>, targets: &Tensor<1, Int>) -> Option<Tensor<1>> {
    let input = Prim::of(logits)?;
    let targets = if targets.is_autodiff() {
        targets.clone().try_into_primitive::<Ad>().ok()?
    } else {
        targets.clone().try_into_primitive::<LibTorch>().ok()?
    };
    let targets = targets.tensor.to_kind(tch::Kind::Int64);
    dispatch(
        [input],
        Route::Autograd,
        |_| None,
        move |[x]| {
            x.cross_entropy_loss::<tch::Tensor>(&targets, None, tch::Reduction::Mean, -100, 0.0)
                .reshape([1])
        },
    )
}

/// `layer(x)`; `epsilon` must be the layer's own.
pub(super) fn layer_norm(
    layer: &LayerNorm,
    epsilon: f64,
    x: &Tensor<3>,
    forced: Option<Route>,
) -> Option<Tensor<3>> {
    let gamma = layer.gamma.val();
    let beta = super::bias_or_zeros(layer.beta.as_ref(), gamma.dims()[0], &gamma.device());
    let inputs = [Prim::of(x)?, Prim::of(&gamma)?, Prim::of(&beta)?];
    let width = inputs[1].tch().size()[0];
    dispatch(
        inputs,
        own_route(forced),
        |inputs| own_layer_norm(inputs, width, epsilon),
        |[x, gamma, beta]| x.layer_norm([width], Some(gamma), Some(beta), epsilon, true),
    )
}

#[derive(Debug)]
struct LayerNormBackward;

/// What `native_layer_norm_backward` reads.
#[derive(Debug, Clone)]
struct LayerNormState {
    input: TchTensor,
    mean: TchTensor,
    rstd: TchTensor,
    gamma: TchTensor,
    beta: TchTensor,
}

impl Backward<LibTorch, 3> for LayerNormBackward {
    type State = LayerNormState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let nodes = ops.parents;
        let dy = grads.consume::<LibTorch>(&ops.node).tensor;
        let state = ops.state;
        let saved = LayerNormSaved {
            input: &state.input.tensor,
            mean: &state.mean.tensor,
            rstd: &state.rstd.tensor,
            gamma: &state.gamma.tensor,
            beta: &state.beta.tensor,
        };
        let found = layer_norm_backward(&dy, &saved, nodes.each_ref().map(Option::is_some))
            // Only a bug of ours (tensors that do not fit the forward's) can fail here.
            .unwrap_or_else(|e| panic!("LayerNorm backward: {e}"));
        for (node, grad) in nodes.into_iter().zip(found) {
            if let (Some(node), Some(grad)) = (node, grad) {
                grads.register::<LibTorch>(node.id, TchTensor::new(grad));
            }
        }
    }
}

/// LayerNorm over the last dimension with `native_layer_norm` and, backward, PyTorch's own
/// kernel (`native_layer_norm_backward`, one call for the three gradients).
fn own_layer_norm([x, gamma, beta]: &[AdTensor; 3], width: i64, epsilon: f64) -> Option<AdTensor> {
    let forward = |x: &tch::Tensor| {
        x.native_layer_norm(
            [width],
            Some(&gamma.primitive().tensor),
            Some(&beta.primitive().tensor),
            epsilon,
        )
    };
    let input = &x.primitive().tensor;
    Some(record(
        LayerNormBackward,
        [x, gamma, beta],
        || {
            let (y, mean, rstd) = forward(input);
            // The input's handle shares burn's count of it, so burn does not write into it
            // while this state holds it.
            let state = LayerNormState {
                input: TchTensor::from_existing(
                    input.shallow_clone(),
                    x.primitive().storage.clone(),
                ),
                mean: TchTensor::new(mean),
                rstd: TchTensor::new(rstd),
                gamma: gamma.primitive().clone(),
                beta: beta.primitive().clone(),
            };
            (state, TchTensor::new(y))
        },
        || TchTensor::new(forward(input).0),
    ))
}

#[derive(Debug)]
struct DropoutBackward;

#[derive(Debug, Clone)]
struct DropoutState {
    /// Where the input was kept (bool).
    kept: TchTensor,
    /// `1 / (1 − prob)`.
    scale: f64,
}

impl Backward<LibTorch, 1> for DropoutBackward {
    type State = DropoutState;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let dy = grads.consume::<LibTorch>(&ops.node).tensor;
        if let Some(node) = node {
            let DropoutState { kept, scale } = ops.state;
            let grad = tch::Tensor::native_dropout_backward(&dy, &kept.tensor, scale);
            grads.register::<LibTorch>(node.id, TchTensor::new(grad));
        }
    }
}

/// Dropout of a tensor under autodiff with `native_dropout` (`prob` in (0, 1)); `None` for a
/// tensor off libtorch or without autodiff, or with `[`crate::Kernels::Autograd`]`.
pub(super) fn dropout<const D: usize>(x: &Tensor<D>, prob: f64) -> Option<Tensor<D>> {
    let Prim::Ad(input) = Prim::of(x)? else {
        return None;
    };
    if own_route(None) != Route::Own {
        return None;
    }
    let tensor = &input.primitive().tensor;
    let out = record(
        DropoutBackward,
        [&input],
        || {
            let (y, kept) = tensor.native_dropout(prob, true);
            let state = DropoutState {
                kept: TchTensor::new(kept),
                scale: 1.0 / (1.0 - prob),
            };
            (state, TchTensor::new(y))
        },
        || TchTensor::new(tensor.native_dropout(prob, true).0),
    );
    Some(Tensor::from_primitive::<Ad>(out))
}

/// `GELU(a) · b` over the halves `[a b]` of `x`'s last dimension (a GeGLU feed-forward's
/// gate), with GELU's `approximate` (`"none"` or `"tanh"`); one op whose backward writes the
/// gradients of both halves into one tensor.
pub(super) fn gelu_gated(
    x: &Tensor<3>,
    approximate: &'static str,
    forced: Option<Route>,
) -> Option<Tensor<3>> {
    dispatch(
        [Prim::of(x)?],
        own_route(forced),
        |[x]| Some(own_gelu_gated(x, approximate)),
        |[x]| {
            let [a, b] = halves(x);
            a.gelu(approximate) * b
        },
    )
}

/// The two halves of the last dimension, as views.
fn halves(x: &tch::Tensor) -> [tch::Tensor; 2] {
    let mut halves = x.chunk(2, -1).into_iter();
    [(); 2].map(|_| halves.next().expect("two halves"))
}

#[derive(Debug)]
struct GeluGatedBackward;

#[derive(Debug, Clone)]
struct GeluGatedState {
    input: TchTensor,
    /// `GELU(a)`.
    activated: TchTensor,
    approximate: &'static str,
}

impl Backward<LibTorch, 1> for GeluGatedBackward {
    type State = GeluGatedState;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [Some(node)] = ops.parents else {
            return;
        };
        let s = ops.state;
        let dy = grads.consume::<LibTorch>(&ops.node).tensor;
        let [a, b] = halves(&s.input.tensor);
        let da = a.gelu_backward(&(&dy * b), s.approximate);
        let db = dy * &s.activated.tensor;
        grads.register::<LibTorch>(node.id, TchTensor::new(tch::Tensor::cat(&[da, db], -1)));
    }
}

fn own_gelu_gated(x: &AdTensor, approximate: &'static str) -> AdTensor {
    let [a, b] = halves(&x.primitive().tensor);
    record(
        GeluGatedBackward,
        [x],
        || {
            let activated = a.gelu(approximate);
            let out = TchTensor::new(&activated * &b);
            let state = GeluGatedState {
                input: x.primitive().clone(),
                activated: TchTensor::new(activated),
                approximate,
            };
            (state, out)
        },
        || TchTensor::new(a.gelu(approximate) * &b),
    )
}

/// Scaled dot-product attention; `masked` (`[batch, 1, 1, seq]`) is true where a key may not be
/// looked at.
pub(super) fn attention(
    query: &Tensor<4>,
    key: &Tensor<4>,
    value: &Tensor<4>,
    masked: Option<&Tensor<4, Bool>>,
    forced: Option<Route>,
) -> Option<Tensor<4>> {
    let inputs = [Prim::of(query)?, Prim::of(key)?, Prim::of(value)?];
    let q = inputs[0].tch();
    let bias = attention_bias(masked, q)?;
    let route = route_for(q, forced);
    dispatch(
        inputs,
        route,
        |inputs| Some(own_attention(inputs, bias.as_ref())),
        |[q, k, v]| {
            tch::Tensor::scaled_dot_product_attention(
                q,
                k,
                v,
                bias.as_ref(),
                0.0,
                false,
                None,
                false,
            )
        },
    )
}

/// Attention with an additive score bias that takes a gradient (MPNet's relative positions,
/// `[1 or batch, heads, seq, seq]`): `softmax(q · kᵀ / √d + bias) · v`, the `masked` keys
/// (`[batch, 1, 1, seq]`) at the lowest finite score. As PyTorch eager runs it (its fused attention kernels give
/// no gradient to a bias): libtorch's matrix products, softmax and their backward, through
/// its autograd.
pub(super) fn biased_attention(
    [query, key, value]: [&Tensor<4>; 3],
    bias: &Tensor<4>,
    masked: Option<&Tensor<4, Bool>>,
) -> Option<Tensor<4>> {
    let inputs = [
        Prim::of(query)?,
        Prim::of(key)?,
        Prim::of(value)?,
        Prim::of(bias)?,
    ];
    let mask = bool_mask(masked)?;
    let scale = 1.0 / (query.dims()[3] as f64).sqrt();
    dispatch(
        inputs,
        Route::Autograd,
        |_| None,
        |[q, k, v, bias]| {
            let scores = q.matmul(&k.transpose(-2, -1)) * scale + in_kind(bias, q.kind());
            let scores = match &mask {
                // The lowest finite score, as transformers' `finfo.min` (see
                // `burn_biased_attention`).
                Some(mask) => scores.masked_fill(mask, f64::from(f32::MIN)),
                None => scores,
            };
            scores.softmax(-1, q.kind()).matmul(v)
        },
    )
}

/// Self-attention from one packed projection: `x · [Wq Wk Wv] + [bq bk bv]` (one product
/// instead of three), then attention over its three parts with `heads` heads, the heads merged
/// again: `[batch, seq, hidden]`. `masked` as in [`attention`].
pub(super) fn packed_self_attention(
    [query, key, value]: [&Linear; 3],
    x: &Tensor<3>,
    heads: usize,
    masked: Option<&Tensor<4, Bool>>,
    half: Option<FloatDType>,
    forced: Option<Route>,
) -> Option<Tensor<3>> {
    // Only libtorch tensors: elsewhere the weights are not concatenated for nothing.
    Prim::of(x)?;
    let biases = [&query.bias, &key.bias, &value.bias].map(|b| b.as_ref().map(|b| b.val()));
    let [Some(bq), Some(bk), Some(bv)] = biases else {
        return None;
    };
    let weight = Tensor::cat(
        vec![query.weight.val(), key.weight.val(), value.weight.val()],
        1,
    );
    let bias = Tensor::cat(vec![bq, bk, bv], 0);
    let bias = Bias {
        values: &bias,
        zero: false,
    };
    let qkv = linear_of(&weight, bias, x, half, forced)?;
    attention_over_packed(&qkv, heads, masked, None, forced)
}

/// Self-attention over packed projections `[batch, seq, 3 · hidden]` whose queries and keys
/// are rotated first by the rotary tables `[cos, signed_sin]` (`[1, 1, seq, head]`, constants):
/// `x · cos + swap_halves(x) · signed_sin`. Heads merged: `[batch, seq, hidden]`.
pub(super) fn rotary_self_attention(
    qkv: &Tensor<3>,
    heads: usize,
    [cos, signed_sin]: &[Tensor<4>; 2],
    masked: Option<&Tensor<4, Bool>>,
    forced: Option<Route>,
) -> Option<Tensor<3>> {
    let kind = Prim::of(qkv)?.tch().kind();
    let table = |t: &Tensor<4>| Some(TchTensor::new(in_kind(Prim::of(t)?.tch(), kind)));
    let rotary = Rotary {
        cos: table(cos)?,
        signed_sin: table(signed_sin)?,
    };
    attention_over_packed(qkv, heads, masked, Some(rotary), forced)
}

/// Attention over the three parts of a packed `[batch, seq, 3 · hidden]` tensor with `heads`
/// heads, the queries and keys rotated first where `rotary` is given; heads merged.
fn attention_over_packed(
    qkv: &Tensor<3>,
    heads: usize,
    masked: Option<&Tensor<4, Bool>>,
    rotary: Option<Rotary>,
    forced: Option<Route>,
) -> Option<Tensor<3>> {
    let inputs = [Prim::of(qkv)?];
    let packed = inputs[0].tch();
    let [batch, seq, width] = packed.size()[..] else {
        return None;
    };
    let heads = heads as i64;
    let hidden = width / 3;
    if width != hidden * 3 || hidden % heads != 0 {
        return None;
    }
    let parts = [batch, seq, 3, heads, hidden / heads];
    let bias = attention_bias(masked, packed)?;
    let route = route_for(packed, forced);
    dispatch(
        inputs,
        route,
        |[qkv]| {
            Some(own_packed_attention(
                qkv,
                parts,
                bias.as_ref(),
                rotary.clone(),
            ))
        },
        |[qkv]| {
            let [q, k, v] = split_heads(qkv, parts);
            let [q, k] = match &rotary {
                Some(r) => [r.apply(&q), r.apply(&k)],
                None => [q, k],
            };
            let out = tch::Tensor::scaled_dot_product_attention(
                &q,
                &k,
                &v,
                bias.as_ref(),
                0.0,
                false,
                None,
                false,
            );
            merge_heads(&out, parts)
        },
    )
}

/// Rotary position tables (see [`rotary_self_attention`]).
#[derive(Debug, Clone)]
struct Rotary {
    cos: TchTensor,
    signed_sin: TchTensor,
}

impl Rotary {
    /// `x · cos + swap_halves(x) · signed_sin`, differentiable by libtorch's autograd.
    fn apply(&self, x: &tch::Tensor) -> tch::Tensor {
        x * &self.cos.tensor + swap_halves(x) * &self.signed_sin.tensor
    }

    /// [`Self::apply`] of a `[batch, heads, seq, head]` part, laid out as `[batch, seq, heads,
    /// head]` (the packed input's order).
    fn rotated(&self, x: &tch::Tensor, [batch, seq, _, heads, head]: [i64; 5]) -> tch::Tensor {
        let out = tch::Tensor::empty([batch, seq, heads, head], (x.kind(), x.device()))
            .permute([0, 2, 1, 3]);
        self.rotate_into(x, &out, false);
        out
    }

    /// Into `out`: `x` rotated, or with `transposed` the gradient of the rotation's input for
    /// its output's `x` (`x · cos + swap_halves(x · signed_sin)`: swapping halves is its own
    /// transpose). Half by half, each half one product and one `addcmul`: no swapped copy.
    fn rotate_into(&self, x: &tch::Tensor, out: &tch::Tensor, transposed: bool) {
        let [x1, x2] = halves(x);
        let [mut o1, mut o2] = halves(out);
        let [c1, c2] = halves(&self.cos.tensor);
        let [s1, s2] = halves(&self.signed_sin.tensor);
        let (s_first, s_second) = if transposed { (s2, s1) } else { (s1, s2) };
        // Each returns a handle on the `out` it wrote.
        let _ = x1.mul_out(&o1, &c1);
        let _ = o1.addcmul_(&x2, &s_first);
        let _ = x2.mul_out(&o2, &c2);
        let _ = o2.addcmul_(&x1, &s_second);
    }
}

/// The two halves of the last dimension swapped.
fn swap_halves(x: &tch::Tensor) -> tch::Tensor {
    let last = x.dim() as i64 - 1;
    x.roll([x.size()[last as usize] / 2], [last])
}

/// The queries, keys and values of a packed `[batch, seq, 3 · hidden]` tensor as
/// `[batch, heads, seq, head]` views (`parts`: `[batch, seq, 3, heads, head]`).
fn split_heads(qkv: &tch::Tensor, parts: [i64; 5]) -> [tch::Tensor; 3] {
    let mut split = qkv
        .reshape(parts)
        .permute([2, 0, 3, 1, 4])
        .unbind(0)
        .into_iter();
    [(); 3].map(|_| split.next().expect("three parts"))
}

/// `[batch, heads, seq, head]` back to `[batch, seq, heads · head]` (`parts` as in
/// [`split_heads`]).
fn merge_heads(out: &tch::Tensor, [batch, seq, _, heads, head]: [i64; 5]) -> tch::Tensor {
    out.transpose(1, 2).reshape([batch, seq, heads * head])
}

/// Additive, in `like`'s type: 0 where a key may be looked at, −∞ where not.
fn attention_bias(
    masked: Option<&Tensor<4, Bool>>,
    like: &tch::Tensor,
) -> Option<Option<tch::Tensor>> {
    Some(bool_mask(masked)?.map(|m| {
        tch::Tensor::zeros(m.size(), (like.kind(), like.device()))
            .masked_fill(&m, f64::NEG_INFINITY)
    }))
}

/// `masked` as a libtorch bool tensor.
fn bool_mask(masked: Option<&Tensor<4, Bool>>) -> Option<Option<tch::Tensor>> {
    let Some(m) = masked else {
        return Some(None);
    };
    let m = m.clone().inner().try_into_primitive::<LibTorch>().ok()?;
    Some(Some(m.tensor))
}

#[derive(Debug)]
struct PackedAttentionBackward;

impl Backward<LibTorch, 1> for PackedAttentionBackward {
    type State = (FlashAttentionState, [i64; 5], Option<Rotary>);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [Some(node)] = ops.parents else {
            return;
        };
        let (s, [batch, seq, three, heads, head], rotary) = ops.state;
        let dy = grads.consume::<LibTorch>(&ops.node).tensor;
        let dy = dy.reshape([batch, seq, heads, head]).transpose(1, 2);
        let (dq, dk, dv) = s.gradients(&dy);
        // Written in place into one `[batch, seq, 3, heads, head]` tensor, each part through a
        // `[batch, heads, seq, head]` view.
        let grad = tch::Tensor::empty([batch, seq, three, heads, head], (dv.kind(), dv.device()));
        let part = |i: i64| grad.select(2, i).permute([0, 2, 1, 3]);
        for (i, d) in [(0, &dq), (1, &dk)] {
            match &rotary {
                Some(r) => r.rotate_into(d, &part(i), true),
                None => part(i).copy_(d),
            }
        }
        part(2).copy_(&dv);
        let grad = grad.view([batch, seq, three * heads * head]);
        grads.register::<LibTorch>(node.id, TchTensor::new(grad));
    }
}

/// [`own_attention`] on a packed input: the flash kernel reads the three parts in place (the
/// queries and keys rotated first where `rotary` is given).
fn own_packed_attention(
    qkv: &AdTensor,
    parts: [i64; 5],
    bias: Option<&tch::Tensor>,
    rotary: Option<Rotary>,
) -> AdTensor {
    let packed = &qkv.primitive().tensor;
    let [q, k, v] = split_heads(packed, parts);
    let view = |t: &tch::Tensor| {
        TchTensor::from_existing(t.shallow_clone(), qkv.primitive().storage.clone())
    };
    let [query, key] = match &rotary {
        Some(r) => [r.rotated(&q, parts), r.rotated(&k, parts)].map(TchTensor::new),
        None => [view(&q), view(&k)],
    };
    let forward = || {
        tch::Tensor::internal_scaled_dot_product_flash_attention_for_cpu(
            &query.tensor,
            &key.tensor,
            &v,
            0.0,
            false,
            bias,
            None,
        )
    };
    record(
        PackedAttentionBackward,
        [qkv],
        || {
            let (out, logsumexp) = forward();
            let merged = TchTensor::new(merge_heads(&out, parts));
            let state = FlashAttentionState {
                query: query.clone(),
                key: key.clone(),
                value: view(&v),
                out: TchTensor::new(out),
                logsumexp: TchTensor::new(logsumexp),
                bias: bias.map(|b| TchTensor::new(b.shallow_clone())),
            };
            ((state, parts, rotary.clone()), merged)
        },
        || TchTensor::new(merge_heads(&forward().0, parts)),
    )
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
    bias: Option<TchTensor>,
}

impl FlashAttentionState {
    /// The queries', keys' and values' gradients for the output's `dy`, by the flash kernel.
    fn gradients(&self, dy: &tch::Tensor) -> (tch::Tensor, tch::Tensor, tch::Tensor) {
        tch::Tensor::internal_scaled_dot_product_flash_attention_for_cpu_backward(
            dy,
            &self.query.tensor,
            &self.key.tensor,
            &self.value.tensor,
            &self.out.tensor,
            &self.logsumexp.tensor,
            0.0,
            false,
            self.bias.as_ref().map(|b| &b.tensor),
            None,
        )
    }
}

impl Backward<LibTorch, 3> for FlashAttentionBackward {
    type State = FlashAttentionState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let parents = ops.parents;
        let dy = grads.consume::<LibTorch>(&ops.node).tensor;
        let s = ops.state;
        let (dq, dk, dv) = s.gradients(&dy);
        for (node, grad) in parents.into_iter().zip([dq, dk, dv]) {
            if let Some(node) = node {
                grads.register::<LibTorch>(node.id, TchTensor::new(grad));
            }
        }
    }
}

fn own_attention([q, k, v]: &[AdTensor; 3], bias: Option<&tch::Tensor>) -> AdTensor {
    let forward = || {
        tch::Tensor::internal_scaled_dot_product_flash_attention_for_cpu(
            &q.primitive().tensor,
            &k.primitive().tensor,
            &v.primitive().tensor,
            0.0,
            false,
            bias,
            None,
        )
    };
    record(
        FlashAttentionBackward,
        [q, k, v],
        || {
            let (out, logsumexp) = forward();
            let out = TchTensor::new(out);
            let state = FlashAttentionState {
                query: q.primitive().clone(),
                key: k.primitive().clone(),
                value: v.primitive().clone(),
                out: out.clone(),
                logsumexp: TchTensor::new(logsumexp),
                bias: bias.map(|b| TchTensor::new(b.shallow_clone())),
            };
            (state, out)
        },
        || TchTensor::new(forward().0),
    )
}

/// One LSTM layer over `x: [batch, seq, in]` as libtorch's `lstm` (cuDNN's on CUDA): `input`
/// is `x · W_ih + b`, `recurrent` is `h · W_hh` (no bias), gates in PyTorch's order (i, f, g,
/// o); from `state` (`[hidden, cell]`, zeros if `None`). Returns the outputs
/// `[batch, seq, hidden]` and the final cell state, which carries no gradient. Under autodiff
/// the backward is libtorch's. `None` (burn's cell then runs) unless every tensor is a libtorch
/// f32 tensor, all under autodiff or none, and `state` needs no gradient.
pub(super) fn lstm(
    input: &Linear,
    recurrent: &Linear,
    x: &Tensor<3>,
    state: Option<[&Tensor<2>; 2]>,
) -> Option<(Tensor<3>, Tensor<2>)> {
    let bias = input.bias.as_ref()?;
    let inputs = [
        Prim::of(x)?,
        Prim::of(&input.weight.val())?,
        Prim::of(&recurrent.weight.val())?,
        Prim::of(&bias.val())?,
    ];
    if inputs.iter().any(|p| p.tch().kind() != tch::Kind::Float) {
        return None;
    }
    let batch = x.dims()[0] as i64;
    let hidden = recurrent.weight.dims()[0] as i64;
    let device = inputs[0].tch().device();
    let [h0, c0] = match state {
        Some(pair) => {
            let mut constants = pair.into_iter().map(|t| match Prim::of(t)? {
                Prim::Ad(p) if p.is_tracked() => None,
                p => Some(p.tch().shallow_clone()),
            });
            [constants.next()??, constants.next()??]
        }
        None => [0, 1].map(|_| tch::Tensor::zeros([batch, hidden], (tch::Kind::Float, device))),
    }
    .map(|t| t.reshape([1, batch, hidden]));
    let no_bias = tch::Tensor::zeros([4 * hidden], (tch::Kind::Float, device));
    let final_cell = std::cell::RefCell::new(None);
    let y = dispatch(
        inputs,
        Route::Autograd,
        |_| None,
        |[x, w_ih, w_hh, b]| {
            // One buffer in cuDNN's layout (W_ih, W_hh as libtorch's `[out, in]`, b_ih, b_hh), the
            // parameters views of it: cuDNN then reads it as it is, where separate tensors would be
            // compacted again at every call, with a warning each time. Differentiable (a `cat`).
            let flat = tch::Tensor::cat(
                &[
                    w_ih.tr().reshape([-1]),
                    w_hh.tr().reshape([-1]),
                    b.reshape([-1]),
                    no_bias.shallow_clone(),
                ],
                0,
            );
            let (inputs, gates) = (w_ih.size()[0], 4 * hidden);
            let parts = flat.split_with_sizes([gates * inputs, gates * hidden, gates, gates], 0);
            let params = [
                parts[0].view([gates, inputs]),
                parts[1].view([gates, hidden]),
                parts[2].shallow_clone(),
                parts[3].shallow_clone(),
            ];
            // cuDNN differentiates only what its training mode ran.
            let train = params.iter().chain([x]).any(tch::Tensor::requires_grad);
            let hx = [h0.shallow_clone(), c0.shallow_clone()];
            let (y, _, c) = x.lstm(&hx, &params, true, 1, 0.0, train, false, true);
            *final_cell.borrow_mut() = Some(c.detach().reshape([batch, hidden]));
            y
        },
    )?;
    let cell = Tensor::from_primitive::<LibTorch>(TchTensor::new(final_cell.into_inner()?));
    Some((
        y,
        if x.is_autodiff() {
            cell.autodiff()
        } else {
            cell
        },
    ))
}

/// An op over `N` inputs differentiated by libtorch's autograd (see [`Route::Autograd`]).
#[derive(Debug)]
struct TorchBackward<const N: usize>;

#[derive(Debug, Clone)]
struct TorchState<const N: usize> {
    /// The output, with libtorch's graph behind it.
    out: TchTensor,
    /// The inputs as libtorch leaves; `None` where no gradient is wanted.
    leaves: [Option<TchTensor>; N],
    /// burn's handles on the inputs and the output: while they live burn runs no in-place op
    /// on a buffer libtorch saved for the backward.
    _held: Vec<TchTensor>,
}

impl<const N: usize> Backward<LibTorch, N> for TorchBackward<N> {
    type State = TorchState<N>;

    fn backward(self, ops: Ops<Self::State, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<LibTorch>(&ops.node).tensor;
        let TorchState { out, leaves, .. } = ops.state;
        let wanted: Vec<_> = ops
            .parents
            .into_iter()
            .zip(leaves)
            .filter_map(|(node, leaf)| Some((node?, leaf?.tensor)))
            .collect();
        // libtorch seeds a backward with ones: the root `out · dy` (one dot product, whose value
        // is never read) hands `out` the gradient dy, exactly.
        let dy = in_kind(&dy, out.tensor.kind());
        let root = out
            .tensor
            .reshape([-1])
            .f_dot(&dy.reshape([-1]))
            .unwrap_or_else(|_| (&out.tensor * &dy).sum(out.tensor.kind()));
        let inputs: Vec<&tch::Tensor> = wanted.iter().map(|(_, t)| t).collect();
        let got = tch::Tensor::run_backward(&[root], &inputs, false, false);
        for ((node, _), grad) in wanted.into_iter().zip(got) {
            grads.register::<LibTorch>(node.id, TchTensor::new(grad));
        }
    }
}

fn torch_op<const N: usize>(
    inputs: &[AdTensor; N],
    f: impl Fn([&tch::Tensor; N]) -> tch::Tensor,
) -> AdTensor {
    record(
        TorchBackward::<N>,
        inputs.each_ref(),
        || {
            let leaves = inputs.each_ref().map(|p| {
                p.is_tracked()
                    .then(|| p.primitive().tensor.detach().set_requires_grad(true))
            });
            let args: [&tch::Tensor; N] = std::array::from_fn(|i| {
                leaves[i].as_ref().unwrap_or(&inputs[i].primitive().tensor)
            });
            let out = tch::with_grad(|| f(args));
            let result = TchTensor::new(out.detach());
            let mut held: Vec<TchTensor> = inputs.iter().map(|p| p.primitive().clone()).collect();
            held.push(result.clone());
            let state = TorchState {
                out: TchTensor::new(out),
                leaves: leaves.map(|l| l.map(TchTensor::new)),
                _held: held,
            };
            (state, result)
        },
        || {
            TchTensor::new(tch::no_grad(|| {
                f(inputs.each_ref().map(|p| &p.primitive().tensor))
            }))
        },
    )
}
