//! Attention on flex without autodiff (inference): per (batch, head), on all cores, the scores
//! `Q·Kᵀ` and the output `P·V` by gemm, as burn-flex does, and the softmax between them
//! vectorised (`widest_simd_fn!`) with a branch-free exp. burn-flex's softmax takes libm's `expf`
//! score by score, with a branch per score for masks it does not have here: about a quarter of
//! MiniLM's inference time at 256 tokens on 2 cores.

use burn::backend::Flex;
use burn::prelude::*;
use burn::tensor::DType;
use rayon::prelude::*;

use super::flex::{flex, values};
use crate::flex_gelu::exp_nonpositive;

/// Lanes of the max and sum accumulators: one AVX-512 register, or two AVX2 ones.
const LANES: usize = 16;

/// Scaled dot-product attention of plain (not autodiff) flex f32 tensors; `masked`
/// (`[batch, 1, 1, seq]`) is true at the keys no query may look at. `None` elsewhere.
pub(crate) fn attention(
    query: &Tensor<4>,
    key: &Tensor<4>,
    value: &Tensor<4>,
    masked: Option<&Tensor<4, Bool>>,
) -> Option<Tensor<4>> {
    let plain = |t: &Tensor<4>| {
        (t.dtype() == DType::F32 && !t.is_autodiff())
            .then(|| t.clone().try_into_primitive::<Flex>().ok())
            .flatten()
    };
    let (q, k, v) = (plain(query)?, plain(key)?, plain(value)?);
    let [batch, heads, seq_q, dim] = query.dims();
    let [_, _, seq_k, val_dim] = value.dims();
    if key.dims() != [batch, heads, seq_k, dim] || value.dims()[..2] != [batch, heads] {
        return None;
    }
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
    let (q, k, v) = (values(&q), values(&k), values(&v));
    let scale = 1.0 / (dim as f32).sqrt();
    let mut out = vec![0f32; batch * heads * seq_q * val_dim];
    out.par_chunks_mut(seq_q * val_dim)
        .enumerate()
        .for_each_init(
            || vec![0f32; seq_q * seq_k],
            |scores, (head, out)| {
                let q = &q[head * seq_q * dim..][..seq_q * dim];
                let k = &k[head * seq_k * dim..][..seq_k * dim];
                let v = &v[head * seq_k * val_dim..][..seq_k * val_dim];
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
                let row_bias = bias.as_ref().map(|b| &b[(head / heads) * seq_k..][..seq_k]);
                softmax_rows_widest(scores, seq_k, row_bias);
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
            },
        );
    let out = flex(out, vec![batch, heads, seq_q, val_dim]);
    Some(Tensor::from_primitive::<Flex>(out))
}

/// `dst = factor · lhs · rhs` for a row-major `[m, n]` `dst` of row stride `dst_rs`, and
/// `lhs` (`[m, k]`) and `rhs` (`[k, n]`) given by pointer, column stride and row stride; on
/// this thread (the heads run in parallel).
///
/// # Safety
/// The pointers must hold every element their shapes and strides reach.
unsafe fn gemm(
    (m, n, k): (usize, usize, usize),
    (dst, dst_rs): (*mut f32, usize),
    (lhs, lhs_cs, lhs_rs): (*const f32, usize, usize),
    (rhs, rhs_cs, rhs_rs): (*const f32, usize, usize),
    factor: f32,
) {
    // SAFETY: the caller's.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_rs as isize,
            false,
            lhs,
            lhs_cs as isize,
            lhs_rs as isize,
            rhs,
            rhs_cs as isize,
            rhs_rs as isize,
            0.0,
            factor,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

widest_simd_fn!(
    /// [`softmax_rows`] compiled for the widest vector unit the CPU has.
    fn softmax_rows_widest(scores: &mut [f32], width: usize, bias: Option<&[f32]>) => softmax_rows
);

/// [`softmax`] over each row of `scores`.
#[inline(always)]
fn softmax_rows(scores: &mut [f32], width: usize, bias: Option<&[f32]>) {
    for row in scores.chunks_exact_mut(width) {
        softmax(row, bias);
    }
}

/// `row ← softmax(row + bias)` in place, branch-free so that it vectorises; a row whose every
/// key is masked becomes zeros.
#[inline(always)]
fn softmax(row: &mut [f32], bias: Option<&[f32]>) {
    if let Some(bias) = bias {
        for (s, b) in row.iter_mut().zip(bias) {
            *s += b;
        }
    }
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let mut chunks = row.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (m, &s) in lanes.iter_mut().zip(chunk) {
            *m = if s > *m { s } else { *m };
        }
    }
    let max = chunks
        .remainder()
        .iter()
        .chain(&lanes)
        .fold(f32::NEG_INFINITY, |m, &s| if s > m { s } else { m });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fused::tests::{assert_close, burn_reference, random};

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
    fn strided_inputs_and_only_plain_flex_tensors() {
        let device = Device::flex();
        // As the encoder hands them over: [batch, seq, heads, dim] swapped to heads first.
        let [q, k, v] = [4, 5, 6].map(|seed| random(&device, [2, 9, 3, 8], seed).swap_dims(1, 2));
        let ours = attention(&q, &k, &v, None).expect("not fused");
        let burn = burn_reference(q, k, v, None);
        assert_close("attention", ours, burn);

        let tracked = random(&device.clone().autodiff(), [1, 1, 4, 4], 7);
        assert!(attention(&tracked, &tracked, &tracked, None).is_none());
    }
}
