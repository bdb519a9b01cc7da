//! LayerNorm as one custom autodiff op on `Autodiff<Flex>`: one pass over the rows forward,
//! one backward (`dx = rstd · (g − mean(g) − x̂ · mean(g · x̂))`, `g = dy · γ`, and the
//! column sums for γ and β), on all cores, vectorised (`widest_simd_fn!`).

use burn::backend::Flex;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::flex::FlexTensor;
use burn::nn::LayerNorm;
use burn::prelude::*;
use burn::tensor::{DType, TensorData};
use rayon::prelude::*;

use super::record;

type Ad = Autodiff<Flex>;
type AdTensor = <Ad as burn::backend::BackendTypes>::FloatTensorPrimitive;

/// Rows per parallel task.
const ROWS: usize = 64;

fn primitive<const D: usize>(x: &Tensor<D>) -> Option<AdTensor> {
    if x.dtype() != DType::F32 || !x.is_autodiff() {
        return None;
    }
    x.clone().try_into_primitive::<Ad>().ok()
}

/// The values of an f32 flex tensor, in row-major order.
pub(super) fn values(t: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => s.into(),
        // One copy: the contiguous buffer becomes the vector.
        None => t
            .to_contiguous()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap_or_default()
            .into(),
    }
}

/// Whether `t` is an f32 flex tensor, under autodiff when `autodiff`.
pub(super) fn on_flex<const D: usize>(t: &Tensor<D>, autodiff: bool) -> bool {
    t.dtype() == DType::F32
        && t.is_autodiff() == autodiff
        && if autodiff {
            t.clone().try_into_primitive::<Ad>().is_ok()
        } else {
            t.clone().try_into_primitive::<Flex>().is_ok()
        }
}

/// Lanes of the vectorised row reductions: one AVX-512 register, or two AVX2 ones.
pub(super) const LANES: usize = 16;

/// The largest value of `row` (−∞ if none), branch-free so that it vectorises where inlined
/// into a `widest_simd_fn!`.
#[inline(always)]
pub(super) fn row_max(row: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let mut chunks = row.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (m, &v) in lanes.iter_mut().zip(chunk) {
            *m = if v > *m { v } else { *m };
        }
    }
    chunks
        .remainder()
        .iter()
        .chain(&lanes)
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m })
}

pub(super) fn flex(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// `dst = factor · lhs · rhs` for a row-major `[m, n]` `dst` of row stride `dst_rs`, and
/// `lhs` (`[m, k]`) and `rhs` (`[k, n]`) given by pointer, column stride and row stride; on
/// this thread (the callers run it on every core for their share of the work).
///
/// # Safety
/// The pointers must hold every element their shapes and strides reach.
pub(super) unsafe fn gemm(
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

#[derive(Debug)]
struct LayerNormBackward;

#[derive(Debug, Clone)]
struct LayerNormState {
    /// `x̂ = (x − mean) · rstd`.
    normalized: FlexTensor,
    /// One per row.
    rstd: FlexTensor,
    gamma: FlexTensor,
}

impl Backward<Flex, 3> for LayerNormBackward {
    type State = LayerNormState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let shape = dy.layout().shape().to_vec();
        let width = *shape.last().unwrap_or(&1);
        let (dy, xhat) = (values(&dy), values(&ops.state.normalized));
        let (rstd, gamma) = (values(&ops.state.rstd), values(&ops.state.gamma));
        if node_gamma.is_some() || node_beta.is_some() {
            let zeros = || (vec![0f32; width], vec![0f32; width]);
            let (dgamma, dbeta) = dy
                .par_chunks(width * ROWS)
                .zip(xhat.par_chunks(width * ROWS))
                .fold(zeros, |(mut dg, mut db), (dy, xhat)| {
                    column_sums(&mut dg, &mut db, dy, xhat);
                    (dg, db)
                })
                .reduce(zeros, |(mut a, mut b), (c, d)| {
                    a.iter_mut().zip(c).for_each(|(a, c)| *a += c);
                    b.iter_mut().zip(d).for_each(|(b, d)| *b += d);
                    (a, b)
                });
            if let Some(node) = node_gamma {
                grads.register::<Flex>(node.id, flex(dgamma, vec![width]));
            }
            if let Some(node) = node_beta {
                grads.register::<Flex>(node.id, flex(dbeta, vec![width]));
            }
        }
        if let Some(node) = node_x {
            let mut dx = vec![0f32; dy.len()];
            dx.par_chunks_mut(width * ROWS)
                .zip(dy.par_chunks(width * ROWS))
                .zip(xhat.par_chunks(width * ROWS))
                .zip(rstd.par_chunks(ROWS))
                .for_each(|(((dx, dy), xhat), rstd)| input_gradient(dx, dy, xhat, rstd, &gamma));
            grads.register::<Flex>(node.id, flex(dx, shape));
        }
    }
}

widest_simd_fn!(
    /// Adds each row's `dy · x̂` to `dg` and `dy` to `db` (rows as wide as `dg`).
    fn column_sums(dg: &mut [f32], db: &mut [f32], dy: &[f32], xhat: &[f32]) {
        let width = dg.len();
        for (dy, xhat) in dy.chunks(width).zip(xhat.chunks(width)) {
            for j in 0..width {
                dg[j] += dy[j] * xhat[j];
                db[j] += dy[j];
            }
        }
    }
);

widest_simd_fn!(
    /// `dx = rstd · (g − mean(g) − x̂ · mean(g · x̂))`, `g = dy · γ`, for each row.
    fn input_gradient(dx: &mut [f32], dy: &[f32], xhat: &[f32], rstd: &[f32], gamma: &[f32]) {
        let width = gamma.len();
        let rows = dx.chunks_mut(width).zip(dy.chunks(width));
        for (((dx, dy), xhat), &rstd) in rows.zip(xhat.chunks(width)).zip(rstd) {
            let (mut sum_g, mut sum_gx) = (0f32, 0f32);
            for j in 0..width {
                let g = dy[j] * gamma[j];
                sum_g += g;
                sum_gx += g * xhat[j];
            }
            let (mean_g, mean_gx) = (sum_g / width as f32, sum_gx / width as f32);
            for j in 0..width {
                dx[j] = rstd * (dy[j] * gamma[j] - mean_g - xhat[j] * mean_gx);
            }
        }
    }
);

widest_simd_fn!(
    /// `y = x̂ · γ + β` for each row of `x`; x̂ and rstd too unless `rstd` is empty.
    fn normalize_rows(
        y: &mut [f32],
        x: &[f32],
        xhat: &mut [f32],
        rstd: &mut [f32],
        gamma: &[f32],
        beta: &[f32],
        epsilon: f32,
    ) {
        let width = gamma.len();
        for (i, (y, x)) in y.chunks_mut(width).zip(x.chunks(width)).enumerate() {
            let mean = x.iter().sum::<f32>() / width as f32;
            let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / width as f32;
            let r = 1.0 / (var + epsilon).sqrt();
            for j in 0..width {
                y[j] = (x[j] - mean) * r * gamma[j] + beta[j];
            }
            if !rstd.is_empty() {
                rstd[i] = r;
                let xhat = &mut xhat[i * width..(i + 1) * width];
                for j in 0..width {
                    xhat[j] = (x[j] - mean) * r;
                }
            }
        }
    }
);

/// `y = x̂ · γ + β` for every row, and x̂ and rstd when `keep`.
fn forward(
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f32,
    keep: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let width = gamma.len();
    let rows = x.len() / width;
    let mut y = vec![0f32; x.len()];
    let (mut xhat, mut rstd) = if keep {
        (vec![0f32; x.len()], vec![0f32; rows])
    } else {
        (Vec::new(), Vec::new())
    };
    let chunks = y
        .par_chunks_mut(width * ROWS)
        .zip(x.par_chunks(width * ROWS));
    if keep {
        chunks
            .zip(xhat.par_chunks_mut(width * ROWS))
            .zip(rstd.par_chunks_mut(ROWS))
            .for_each(|(((y, x), xhat), rstd)| {
                normalize_rows(y, x, xhat, rstd, gamma, beta, epsilon)
            });
    } else {
        chunks.for_each(|(y, x)| normalize_rows(y, x, &mut [], &mut [], gamma, beta, epsilon));
    }
    (y, xhat, rstd)
}

/// `layer(x)` on autodiff flex f32 tensors; `None` elsewhere.
pub(crate) fn layer_norm(layer: &LayerNorm, epsilon: f64, x: &Tensor<3>) -> Option<Tensor<3>> {
    let gamma = layer.gamma.val();
    let beta = super::bias_or_zeros(layer.beta.as_ref(), gamma.dims()[0], &gamma.device());
    let (x, gamma, beta) = (primitive(x)?, primitive(&gamma)?, primitive(&beta)?);
    let shape = x.primitive().layout().shape().to_vec();
    let rows_shape = shape[..shape.len() - 1].to_vec();
    let run = |keep: bool| {
        forward(
            &values(x.primitive()),
            &values(gamma.primitive()),
            &values(beta.primitive()),
            epsilon as f32,
            keep,
        )
    };
    let out = record(
        LayerNormBackward,
        [&x, &gamma, &beta],
        || {
            let (y, xhat, rstd) = run(true);
            let state = LayerNormState {
                normalized: flex(xhat, shape.clone()),
                rstd: flex(rstd, rows_shape),
                gamma: gamma.primitive().clone(),
            };
            (state, flex(y, shape.clone()))
        },
        || flex(run(false).0, shape.clone()),
    );
    Some(Tensor::from_primitive::<Ad>(out))
}

#[cfg(test)]
mod tests {
    use burn::nn::LayerNormConfig;

    use super::*;
    use crate::fused::tests::check_layer_norm;

    #[test]
    fn layer_norm_matches_burn() {
        check_layer_norm(&Device::flex().autodiff(), layer_norm);
    }

    #[test]
    fn only_autodiff_flex_tensors_take_it() {
        let layer = LayerNormConfig::new(4).init(&Device::flex());
        let x = Tensor::<3>::ones([1, 2, 4], &Device::flex());
        assert!(layer_norm(&layer, 1e-5, &x).is_none());
    }
}
