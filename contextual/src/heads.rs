//! Attention helpers shared by the encoders: heads split and merged, and the masks of
//! ModernBERT's local layers and GPT-2.

use burn::prelude::*;

/// `[batch, seq, heads · head_dim]` → `[batch, heads, seq, head_dim]`.
pub(crate) fn split_heads(x: Tensor<3>, heads: usize) -> Tensor<4> {
    let [batch, seq, width] = x.dims();
    x.reshape([batch, seq, heads, width / heads])
        .swap_dims(1, 2)
}

/// `[batch, heads, seq, head_dim]` → `[batch, seq, heads · head_dim]`.
pub(crate) fn merge_heads(x: Tensor<4>) -> Tensor<3> {
    let [batch, heads, seq, dim] = x.dims();
    x.swap_dims(1, 2).reshape([batch, seq, heads * dim])
}

/// `[batch, 1, 1, seq]`: true at the padded keys of `mask` (`[batch, seq]`, true = real).
pub(crate) fn padded_keys(mask: Tensor<2, Bool>) -> Tensor<4, Bool> {
    let [batch, seq] = mask.dims();
    mask.bool_not().reshape([batch, 1, 1, seq])
}

/// `[batch, 1, seq, seq]`: the padded keys of `mask`, each query's own position excepted, so
/// that with a window or causal mask on top no row of a padded text is all masked (the fused
/// attention would give NaN there).
pub(crate) fn padded_keys_but_own(mask: Tensor<2, Bool>) -> Tensor<4, Bool> {
    let [batch, seq] = mask.dims();
    let shape = [batch, 1, seq, seq];
    let itself = position_mask(seq, &mask.device(), |q, k| q == k);
    padded_keys(mask)
        .expand(shape)
        .bool_and(itself.bool_not().expand(shape))
}

/// `[1, 1, seq, seq]`: true where `hidden(query, key)` says the key is out of sight.
pub(crate) fn position_mask(
    seq: usize,
    device: &Device,
    hidden: impl Fn(usize, usize) -> bool,
) -> Tensor<4, Bool> {
    let cells: Vec<bool> = (0..seq)
        .flat_map(|q| (0..seq).map(move |k| (q, k)))
        .map(|(q, k)| hidden(q, k))
        .collect();
    Tensor::<2, Bool>::from_data(TensorData::new(cells, [seq, seq]), device)
        .reshape([1, 1, seq, seq])
}
