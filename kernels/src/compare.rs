//! Comparing a kernel's result with burn's own op's.

use burn::prelude::*;
use burn::tensor::FloatDType;

/// The largest `|a − b|` over the largest `|b|` (at least 1e-6), computed on the host in f32:
/// NaN when either holds a NaN (a tensor's `max` may skip one), so that a NaN fails every
/// `< tolerance`.
///
/// ```
/// use burn::prelude::*;
/// use transfer_kernels::max_relative_difference;
///
/// let device = Device::flex();
/// let b = Tensor::<1>::from_floats([2.0, -4.0], &device);
/// let a = Tensor::<1>::from_floats([2.0, -3.0], &device);
/// assert_eq!(max_relative_difference(a, b.clone()), 0.25);
/// let nan = Tensor::<1>::from_floats([f32::NAN, -4.0], &device);
/// assert!(max_relative_difference(nan, b).is_nan());
/// ```
pub fn max_relative_difference<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    let values = |t: Tensor<D>| {
        t.cast(FloatDType::F32)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("converted to f32")
    };
    let (a, b) = (values(a), values(b));
    let nan_max = |m: f32, x: f32| {
        if m.is_nan() || x.is_nan() {
            f32::NAN
        } else {
            m.max(x)
        }
    };
    let diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, nan_max);
    diff / b.iter().map(|y| y.abs()).fold(0.0, nan_max).max(1e-6)
}
