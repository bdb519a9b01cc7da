//! The arithmetic of one training step over contiguous slices. Each function is generic over
//! `FMA`: `true` only inside functions compiled with the `avx2` and `fma` target features
//! (detected at run time), which use AVX2 intrinsics; `false` is portable code the compiler
//! vectorises for the baseline CPU.

/// `x · y`: AVX2 + FMA intrinsics when `FMA`, else 8 independent partial sums that the
/// compiler vectorises.
#[inline(always)]
pub(crate) fn dot<const FMA: bool>(x: &[f32], y: &[f32]) -> f32 {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    #[cfg(target_arch = "x86_64")]
    if FMA {
        // SAFETY: `FMA` is true only in code run after `has_fma()` said yes.
        return unsafe { avx2::dot(x, y) };
    }
    let mut acc = [0.0f32; 8];
    let (xs, ys) = (x.chunks_exact(8), y.chunks_exact(8));
    let (x_rest, y_rest) = (xs.remainder(), ys.remainder());
    for (xc, yc) in xs.zip(ys) {
        for k in 0..8 {
            acc[k] += xc[k] * yc[k];
        }
    }
    let mut tail = 0.0f32;
    for (&a, &b) in x_rest.iter().zip(y_rest) {
        tail += a * b;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// `y += a · x`.
#[inline(always)]
pub(crate) fn axpy<const FMA: bool>(a: f32, x: &[f32], y: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if FMA {
        // SAFETY: as in `dot`.
        return unsafe { avx2::axpy(a, x, y) };
    }
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// Asks the CPU to start loading `row` into cache (a hint: no effect on results).
#[inline(always)]
pub(crate) fn prefetch(row: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in row.chunks(16) {
        // SAFETY: prefetching is a hint that never faults; SSE is part of x86-64.
        unsafe {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// Four 8-lane accumulators over 32 floats a step, then 8 a step, then the tail.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn dot(x: &[f32], y: &[f32]) -> f32 {
        let n = x.len().min(y.len());
        let (px, py) = (x.as_ptr(), y.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY: every load reads 8 floats at `i + 8 * k + 8 <= n`, inside both slices.
        unsafe {
            while i + 32 <= n {
                for (k, a) in acc.iter_mut().enumerate() {
                    let (u, v) = (px.add(i + 8 * k), py.add(i + 8 * k));
                    *a = _mm256_fmadd_ps(_mm256_loadu_ps(u), _mm256_loadu_ps(v), *a);
                }
                i += 32;
            }
            while i + 8 <= n {
                let (u, v) = (_mm256_loadu_ps(px.add(i)), _mm256_loadu_ps(py.add(i)));
                acc[0] = _mm256_fmadd_ps(u, v, acc[0]);
                i += 8;
            }
        }
        let sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        let half = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps::<1>(sum));
        let quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
        let mut total = _mm_cvtss_f32(_mm_add_ss(quarter, _mm_movehdup_ps(quarter)));
        for j in i..n {
            total = x[j].mul_add(y[j], total);
        }
        total
    }

    /// `y += a · x`, 8 lanes a step.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
        let n = x.len().min(y.len());
        let (px, py) = (x.as_ptr(), y.as_mut_ptr());
        let va = _mm256_set1_ps(a);
        let mut i = 0;
        // SAFETY: every access covers 8 floats at `i + 8 <= n`, inside both slices.
        unsafe {
            while i + 8 <= n {
                let v = _mm256_fmadd_ps(va, _mm256_loadu_ps(px.add(i)), _mm256_loadu_ps(py.add(i)));
                _mm256_storeu_ps(py.add(i), v);
                i += 8;
            }
        }
        for j in i..n {
            y[j] = a.mul_add(x[j], y[j]);
        }
    }
}

/// The logistic function from a table of 2048 steps over [-8, 8] (0 and 1 outside): a few
/// cycles instead of an `exp`, and an error below 0.002, which SGD does not notice.
pub(crate) struct Sigmoid {
    table: Box<[f32; SIGMOID_STEPS]>,
}

const SIGMOID_STEPS: usize = 2048;
const SIGMOID_MAX: f32 = 8.0;
const SIGMOID_SCALE: f32 = SIGMOID_STEPS as f32 / (2.0 * SIGMOID_MAX);

impl Sigmoid {
    pub(crate) fn new() -> Self {
        let mut table = Box::new([0.0f32; SIGMOID_STEPS]);
        for (i, v) in table.iter_mut().enumerate() {
            let x = (i as f64 + 0.5) / SIGMOID_SCALE as f64 - SIGMOID_MAX as f64;
            *v = (1.0 / (1.0 + (-x).exp())) as f32;
        }
        Self { table }
    }

    #[inline(always)]
    pub(crate) fn get(&self, x: f32) -> f32 {
        if x >= SIGMOID_MAX {
            1.0
        } else if x <= -SIGMOID_MAX {
            0.0
        } else {
            // NaN lands on step 0; the `min` keeps rounding inside the table.
            let i = ((x + SIGMOID_MAX) * SIGMOID_SCALE) as usize;
            self.table[i.min(SIGMOID_STEPS - 1)]
        }
    }
}

/// One logistic-regression step of the output layer: predict `label` (1 or 0) from
/// `hidden` with the output row `out`; add the input's gradient to `grad` and update `out`.
#[inline(always)]
pub(crate) fn output_step<const FMA: bool>(
    hidden: &[f32],
    out: &mut [f32],
    label: f32,
    alpha: f32,
    grad: &mut [f32],
    sigmoid: &Sigmoid,
) {
    let g = (label - sigmoid.get(dot::<FMA>(hidden, out))) * alpha;
    axpy::<FMA>(g, out, grad);
    axpy::<FMA>(g, hidden, out);
}

/// Whether this CPU runs the AVX2 + FMA build of the training loop.
pub(crate) fn has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_and_axpy_match_the_plain_sums() {
        let x: Vec<f32> = (0..100).map(|i| (i as f32 * 0.37).sin()).collect();
        let y: Vec<f32> = (0..100).map(|i| (i as f32 * 0.11).cos()).collect();
        let plain: f32 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
        let both = if has_fma() {
            [false, true]
        } else {
            [false, false]
        };
        for fma in both {
            let d = if fma {
                dot::<true>(&x, &y)
            } else {
                dot::<false>(&x, &y)
            };
            assert!((d - plain).abs() < 1e-4, "fma {fma}: {d} vs {plain}");
            let mut z = y.clone();
            if fma {
                axpy::<true>(0.5, &x, &mut z);
            } else {
                axpy::<false>(0.5, &x, &mut z);
            }
            let expected = x.iter().zip(&y).map(|(x, y)| y + 0.5 * x);
            assert!(
                z.iter().zip(expected).all(|(z, e)| (z - e).abs() < 1e-6),
                "fma {fma}"
            );
        }
    }

    #[test]
    fn sigmoid_table_is_close_and_nan_safe() {
        let s = Sigmoid::new();
        for i in -1000..=1000 {
            let x = i as f32 / 100.0;
            let exact = 1.0 / (1.0 + (-x).exp());
            assert!((s.get(x) - exact).abs() < 0.002, "{x}");
        }
        assert!(s.get(f32::NAN).is_finite());
    }
}
