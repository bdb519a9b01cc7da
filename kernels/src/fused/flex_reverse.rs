//! Reversing each sequence's real positions (the backward LSTM's input and output) on flex as
//! one copy per row. burn's `gather` takes an index as large as the tensor, built and expanded
//! for it, and costs an integer division per element; here the lengths come from the mask and
//! each position's vector moves as one slice. The reversal is its own inverse, and so its own
//! backward.

use burn::backend::Flex;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::prelude::*;

use super::flex::{flex, on_flex, values};
use super::record;

type Ad = Autodiff<Flex>;

/// `x: [batch, seq, dim]` with each row's first `length` positions (the true ones of `mask`,
/// which come first) reversed and the padding left in place; `None` unless `x` is a flex f32
/// tensor.
pub(crate) fn reverse_padded(x: &Tensor<3>, mask: &Tensor<2, Bool>) -> Option<Tensor<3>> {
    let shape = x.dims();
    let [batch, seq, _] = shape;
    if mask.dims() != [batch, seq] || !on_flex(x, x.is_autodiff()) {
        return None;
    }
    // Read only once `x` is known to be on flex: elsewhere this would wait for a device.
    let real = mask.clone().into_data().try_to_vec::<bool>().ok()?;
    let lengths: Vec<usize> = real
        .chunks_exact(seq.max(1))
        .map(|row| row.iter().filter(|&&r| r).count())
        .collect();
    if !x.is_autodiff() {
        let x = x.clone().try_into_primitive::<Flex>().ok()?;
        let y = reverse(&values(&x), &lengths, shape);
        return Some(Tensor::from_primitive::<Flex>(flex(y, shape.to_vec())));
    }
    let x = x.clone().try_into_primitive::<Ad>().ok()?;
    let run = || {
        flex(
            reverse(&values(x.primitive()), &lengths, shape),
            shape.to_vec(),
        )
    };
    let y = record(
        ReverseBackward,
        [&x],
        || ((lengths.clone(), shape), run()),
        &run,
    );
    Some(Tensor::from_primitive::<Ad>(y))
}

/// [`reverse_padded`] of row-major values.
fn reverse(x: &[f32], lengths: &[usize], [_, seq, dim]: [usize; 3]) -> Vec<f32> {
    let mut y = x.to_vec();
    for ((y, x), &length) in y
        .chunks_exact_mut(seq * dim)
        .zip(x.chunks_exact(seq * dim))
        .zip(lengths)
    {
        for t in 0..length.min(seq) {
            y[t * dim..][..dim].copy_from_slice(&x[(length - 1 - t) * dim..][..dim]);
        }
    }
    y
}

#[derive(Debug)]
struct ReverseBackward;

impl Backward<Flex, 1> for ReverseBackward {
    /// The lengths and the shape.
    type State = (Vec<usize>, [usize; 3]);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        if let Some(node) = node {
            let (lengths, shape) = ops.state;
            let dx = reverse(&values(&dy), &lengths, shape);
            grads.register::<Flex>(node.id, flex(dx, shape.to_vec()));
        }
    }
}
