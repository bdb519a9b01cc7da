//! What the benches share: the backends built in and the reference's kind of input.

use burn::prelude::*;

/// flex, and libtorch's CPU with the `tch` feature. Sets glibc's allocator up as the `transfer`
/// CLI does (`keep_freed_memory`), before the first tensor.
pub fn devices() -> Vec<(&'static str, Device)> {
    transfer_nlp::pipeline::runtime::allocator::keep_freed_memory();
    #[allow(unused_mut)]
    let mut devices = vec![("flex", Device::flex())];
    #[cfg(feature = "tch")]
    #[allow(deprecated)]
    devices.push(("tch-cpu", Device::libtorch()));
    devices
}

/// Ids drawn from 1000..`vocab` (the PyTorch reference draws from 1000..20000), no padding.
pub fn ids(
    batch: usize,
    seq: usize,
    vocab: usize,
    device: &Device,
) -> (Tensor<2, Int>, Tensor<2, Bool>) {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let ids: Vec<i64> = (0..batch * seq)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            1000 + (state % (vocab as u64 - 1000)) as i64
        })
        .collect();
    (
        Tensor::from_data(TensorData::new(ids, [batch, seq]), device),
        Tensor::from_data(
            TensorData::new(vec![true; batch * seq], [batch, seq]),
            device,
        ),
    )
}
