//! Attention on flex: per (batch, head), on all cores, the scores `Q·Kᵀ` and the output `P·V`
//! by gemm, as burn-flex does, and the softmax between them vectorised (`widest_simd_fn!`) with
//! a branch-free exp. burn-flex's softmax takes libm's `expf` score by score, with a branch per
//! score for masks it does not have here: about a quarter of MiniLM's inference time at 256
//! tokens on 2 cores. Under autodiff the same forward is one op on the graph that keeps the
//! probabilities `P`; its backward is `dV = Pᵀ·dO`, `dP = dO·Vᵀ`,
//! `dS = P ⊙ (dP − rowsum(dP ⊙ P))`, `dQ = s·dS·K`, `dK = s·dSᵀ·Q` (`s` the scale), by gemm
//! per head, instead of burn's decomposed matmul / softmax / matmul and their backwards.

use burn::backend::Flex;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::flex::FlexTensor;
use burn::prelude::*;
use burn::tensor::DType;
use rayon::prelude::*;

use super::flex::{LANES, flex, gemm, row_max, values};
use super::record;
use crate::gelu::exp_nonpositive;

type Ad = Autodiff<Flex>;

/// The sizes of one attention: `heads` counts every (batch, head) pair.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    heads: usize,
    heads_per_batch: usize,
    seq_q: usize,
    seq_k: usize,
    dim: usize,
    val_dim: usize,
}

impl Sizes {
    fn scale(&self) -> f32 {
        1.0 / (self.dim as f32).sqrt()
    }

    /// Head `index`'s queries, keys and values, out of all heads' `q`, `k` and `v`.
    fn head<'a>(&self, index: usize, q: &'a [f32], k: &'a [f32], v: &'a [f32]) -> [&'a [f32]; 3] {
        let block =
            |t: &'a [f32], rows: usize, width: usize| &t[index * rows * width..][..rows * width];
        [
            block(q, self.seq_q, self.dim),
            block(k, self.seq_k, self.dim),
            block(v, self.seq_k, self.val_dim),
        ]
    }
}

/// Scaled dot-product attention of flex f32 tensors, all plain or all under autodiff;
/// `masked` (`[batch, 1, 1, seq]`) is true at the keys no query may look at. `None` elsewhere.
pub(crate) fn attention(
    query: &Tensor<4>,
    key: &Tensor<4>,
    value: &Tensor<4>,
    masked: Option<&Tensor<4, Bool>>,
) -> Option<Tensor<4>> {
    let [batch, heads, seq_q, dim] = query.dims();
    let [_, _, seq_k, val_dim] = value.dims();
    let f32s = [query, key, value].iter().all(|t| t.dtype() == DType::F32);
    if !f32s || key.dims() != [batch, heads, seq_k, dim] || value.dims()[..2] != [batch, heads] {
        return None;
    }
    let sizes = Sizes {
        heads: batch * heads,
        heads_per_batch: heads,
        seq_q,
        seq_k,
        dim,
        val_dim,
    };
    // One additive row per sequence: 0 where a key may be looked at, −∞ where not.
    let bias = match masked {
        Some(m) if m.dims() == [batch, 1, 1, seq_k] => Some(
            m.clone()
                .into_data()
                .try_to_vec::<bool>()
                .ok()?
                .into_iter()
                .map(|masked| if masked { f32::NEG_INFINITY } else { 0.0 })
                .collect::<Vec<f32>>(),
        ),
        Some(_) => return None,
        None => None,
    };
    let out_shape = vec![batch, heads, seq_q, val_dim];
    if [query, key, value].iter().all(|t| t.is_autodiff()) {
        let tracked = |t: &Tensor<4>| t.clone().try_into_primitive::<Ad>().ok();
        let (q, k, v) = (tracked(query)?, tracked(key)?, tracked(value)?);
        let run = |keep: bool| {
            let (q, k, v) = (
                values(q.primitive()),
                values(k.primitive()),
                values(v.primitive()),
            );
            forward(&q, &k, &v, bias.as_deref(), sizes, keep)
        };
        let out = record(
            AttentionBackward,
            [&q, &k, &v],
            || {
                let (out, probabilities) = run(true);
                let state = AttentionState {
                    query: q.primitive().clone(),
                    key: k.primitive().clone(),
                    value: v.primitive().clone(),
                    probabilities,
                    sizes,
                };
                (state, flex(out, out_shape.clone()))
            },
            || flex(run(false).0, out_shape.clone()),
        );
        return Some(Tensor::from_primitive::<Ad>(out));
    }
    let plain = |t: &Tensor<4>| {
        (!t.is_autodiff())
            .then(|| t.clone().try_into_primitive::<Flex>().ok())
            .flatten()
    };
    let (q, k, v) = (plain(query)?, plain(key)?, plain(value)?);
    let (q, k, v) = (values(&q), values(&k), values(&v));
    let (out, _) = forward(&q, &k, &v, bias.as_deref(), sizes, false);
    Some(Tensor::from_primitive::<Flex>(flex(out, out_shape)))
}

/// The output, and the probabilities `P` of every head when `keep` (else empty).
fn forward(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    bias: Option<&[f32]>,
    sizes: Sizes,
    keep: bool,
) -> (Vec<f32>, Vec<f32>) {
    let Sizes {
        heads,
        heads_per_batch,
        seq_q,
        seq_k,
        dim,
        val_dim,
    } = sizes;
    let scale = sizes.scale();
    let head = |index: usize, out: &mut [f32], scores: &mut [f32]| {
        let [q, k, v] = sizes.head(index, q, k, v);
        // SAFETY: each slice holds the rows × columns its strides walk.
        unsafe {
            // scores = scale · Q · Kᵀ ([seq_q, dim] · [dim, seq_k])
            gemm(
                (seq_q, seq_k, dim),
                (scores.as_mut_ptr(), seq_k),
                (q.as_ptr(), 1, dim),
                (k.as_ptr(), dim, 1),
                scale,
            );
        }
        let row_bias = bias.map(|b| &b[(index / heads_per_batch) * seq_k..][..seq_k]);
        softmax_rows(scores, seq_k, row_bias);
        // SAFETY: as above.
        unsafe {
            // out = P · V ([seq_q, seq_k] · [seq_k, val_dim])
            gemm(
                (seq_q, val_dim, seq_k),
                (out.as_mut_ptr(), val_dim),
                (scores.as_ptr(), 1, seq_k),
                (v.as_ptr(), 1, val_dim),
                1.0,
            );
        }
    };
    let mut out = vec![0f32; heads * seq_q * val_dim];
    let outs = out.par_chunks_mut(seq_q * val_dim).enumerate();
    if keep {
        let mut probabilities = vec![0f32; heads * seq_q * seq_k];
        outs.zip(probabilities.par_chunks_mut(seq_q * seq_k))
            .for_each(|((index, out), scores)| head(index, out, scores));
        (out, probabilities)
    } else {
        outs.for_each_init(
            || vec![0f32; seq_q * seq_k],
            |scores, (index, out)| head(index, out, scores),
        );
        (out, Vec::new())
    }
}

#[derive(Debug)]
struct AttentionBackward;

#[derive(Debug, Clone)]
struct AttentionState {
    query: FlexTensor,
    key: FlexTensor,
    value: FlexTensor,
    /// `P`, `[heads, seq_q, seq_k]`.
    probabilities: Vec<f32>,
    sizes: Sizes,
}

impl Backward<Flex, 3> for AttentionBackward {
    type State = AttentionState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_q, node_k, node_v] = ops.parents;
        let d_out = grads.consume::<Flex>(&ops.node);
        let state = &ops.state;
        let Sizes {
            heads,
            heads_per_batch,
            seq_q,
            seq_k,
            dim,
            val_dim,
        } = state.sizes;
        let scale = state.sizes.scale();
        let (d_out, q) = (values(&d_out), values(&state.query));
        let (k, v) = (values(&state.key), values(&state.value));
        let mut dq = vec![0f32; heads * seq_q * dim];
        let mut dk = vec![0f32; heads * seq_k * dim];
        let mut dv = vec![0f32; heads * seq_k * val_dim];
        dq.par_chunks_mut(seq_q * dim)
            .zip(dk.par_chunks_mut(seq_k * dim))
            .zip(dv.par_chunks_mut(seq_k * val_dim))
            .enumerate()
            .for_each_init(
                || vec![0f32; seq_q * seq_k],
                |ds, (index, ((dq, dk), dv))| {
                    let p = &state.probabilities[index * seq_q * seq_k..][..seq_q * seq_k];
                    let d_out = &d_out[index * seq_q * val_dim..][..seq_q * val_dim];
                    let [q, k, v] = state.sizes.head(index, &q, &k, &v);
                    // SAFETY: each slice holds the rows × columns its strides walk.
                    unsafe {
                        // dV = Pᵀ · dO ([seq_k, seq_q] · [seq_q, val_dim])
                        gemm(
                            (seq_k, val_dim, seq_q),
                            (dv.as_mut_ptr(), val_dim),
                            (p.as_ptr(), seq_k, 1),
                            (d_out.as_ptr(), 1, val_dim),
                            1.0,
                        );
                        // dP = dO · Vᵀ ([seq_q, val_dim] · [val_dim, seq_k])
                        gemm(
                            (seq_q, seq_k, val_dim),
                            (ds.as_mut_ptr(), seq_k),
                            (d_out.as_ptr(), 1, val_dim),
                            (v.as_ptr(), val_dim, 1),
                            1.0,
                        );
                    }
                    softmax_backward_rows(ds, p, seq_k);
                    // SAFETY: as above.
                    unsafe {
                        // dQ = s · dS · K ([seq_q, seq_k] · [seq_k, dim])
                        gemm(
                            (seq_q, dim, seq_k),
                            (dq.as_mut_ptr(), dim),
                            (ds.as_ptr(), 1, seq_k),
                            (k.as_ptr(), 1, dim),
                            scale,
                        );
                        // dK = s · dSᵀ · Q ([seq_k, seq_q] · [seq_q, dim])
                        gemm(
                            (seq_k, dim, seq_q),
                            (dk.as_mut_ptr(), dim),
                            (ds.as_ptr(), seq_k, 1),
                            (q.as_ptr(), 1, dim),
                            scale,
                        );
                    }
                },
            );
        let batch = heads / heads_per_batch;
        let shape = |seq, width| vec![batch, heads_per_batch, seq, width];
        for (node, grad, shape) in [
            (node_q, dq, shape(seq_q, dim)),
            (node_k, dk, shape(seq_k, dim)),
            (node_v, dv, shape(seq_k, val_dim)),
        ] {
            if let Some(node) = node {
                grads.register::<Flex>(node.id, flex(grad, shape));
            }
        }
    }
}

widest_simd_fn!(
    /// [`softmax`] over each row of `scores`.
    fn softmax_rows(scores: &mut [f32], width: usize, bias: Option<&[f32]>) {
        for row in scores.chunks_exact_mut(width) {
            softmax(row, bias);
        }
    }
);

/// `row ← softmax(row + bias)` in place, branch-free so that it vectorises; a row whose every
/// key is masked becomes zeros.
#[inline(always)]
fn softmax(row: &mut [f32], bias: Option<&[f32]>) {
    if let Some(bias) = bias {
        for (s, b) in row.iter_mut().zip(bias) {
            *s += b;
        }
    }
    let max = row_max(row);
    if max == f32::NEG_INFINITY {
        row.fill(0.0);
        return;
    }
    let mut sums = [0f32; LANES];
    let mut chunks = row.chunks_exact_mut(LANES);
    for chunk in &mut chunks {
        for (sum, s) in sums.iter_mut().zip(chunk) {
            *s = exp_nonpositive(*s - max);
            *sum += *s;
        }
    }
    let mut sum: f32 = sums.iter().sum();
    for s in chunks.into_remainder() {
        *s = exp_nonpositive(*s - max);
        sum += *s;
    }
    let inverse = 1.0 / sum;
    for s in row.iter_mut() {
        *s *= inverse;
    }
}

widest_simd_fn!(
    /// `dS = P ⊙ (dP − rowsum(dP ⊙ P))` for each row, in place in `ds` (which holds `dP`).
    fn softmax_backward_rows(ds: &mut [f32], p: &[f32], width: usize) {
        for (ds, p) in ds.chunks_exact_mut(width).zip(p.chunks_exact(width)) {
            let mut lanes = [0f32; LANES];
            let mut chunks = ds.chunks_exact(LANES).zip(p.chunks_exact(LANES));
            for (ds, p) in &mut chunks {
                for ((sum, d), p) in lanes.iter_mut().zip(ds).zip(p) {
                    *sum += d * p;
                }
            }
            let tail = width - width % LANES;
            let dot: f32 = lanes.iter().sum::<f32>()
                + ds[tail..]
                    .iter()
                    .zip(&p[tail..])
                    .map(|(d, p)| d * p)
                    .sum::<f32>();
            for (d, p) in ds.iter_mut().zip(p) {
                *d = p * (*d - dot);
            }
        }
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fused::tests::{assert_close, backward_both, burn_reference, random};

    #[test]
    fn matches_burn_with_and_without_padding() {
        let device = Device::flex();
        // Lengths off the 16 lanes, and a head dimension off gemm's tiles.
        let [q, k, v] = [1, 2, 3].map(|seed| random(&device, [2, 3, 37, 12], seed));
        let masked =
            Tensor::<2, Bool>::from_data([[false; 37], std::array::from_fn(|i| i >= 20)], &device)
                .reshape([2, 1, 1, 37]);
        for masked in [None, Some(masked)] {
            let ours = attention(&q, &k, &v, masked.as_ref()).expect("not fused");
            let burn = burn_reference(q.clone(), k.clone(), v.clone(), masked);
            assert_close("attention", ours, burn);
        }
    }

    #[test]
    fn strided_inputs_and_no_mixed_tensors() {
        let device = Device::flex();
        // As the encoder hands them over: [batch, seq, heads, dim] swapped to heads first.
        let [q, k, v] = [4, 5, 6].map(|seed| random(&device, [2, 9, 3, 8], seed).swap_dims(1, 2));
        let ours = attention(&q, &k, &v, None).expect("not fused");
        let burn = burn_reference(q, k, v, None);
        assert_close("attention", ours, burn);

        let plain = random(&device, [1, 1, 4, 4], 7);
        let tracked = random(&device.clone().autodiff(), [1, 1, 4, 4], 7);
        assert!(attention(&plain, &tracked, &tracked, None).is_none());
    }

    /// Under autodiff: the values and every input's gradient against burn's attention, with
    /// and without padding, at sizes off gemm's tiles and the lanes.
    #[test]
    fn gradients_match_burn() {
        let device = Device::flex().autodiff();
        let [q, k, v] = [8, 9, 10].map(|seed| random(&device, [2, 3, 21, 12], seed));
        let masked =
            Tensor::<2, Bool>::from_data([[false; 21], std::array::from_fn(|i| i >= 13)], &device)
                .reshape([2, 1, 1, 21]);
        for masked in [None, Some(masked)] {
            let ours = attention(&q, &k, &v, masked.as_ref()).expect("not fused");
            let burn = burn_reference(q.clone(), k.clone(), v.clone(), masked);
            assert_close("attention", ours.clone(), burn.clone());
            let (g1, g2) = backward_both(ours, burn, 11);
            for (name, t) in [("d query", &q), ("d key", &k), ("d value", &v)] {
                assert_close(name, t.grad(&g1).unwrap(), t.grad(&g2).unwrap());
            }
        }
    }
}
