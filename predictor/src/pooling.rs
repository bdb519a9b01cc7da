use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// How token states become one vector per text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// Average over real tokens (sentence-transformers' choice).
    #[default]
    Mean,
    /// Element-wise maximum over real tokens.
    Max,
    /// The first token (BERT's `[CLS]`).
    First,
    /// The last real token (a left-to-right LSTM's summary).
    Last,
    /// ULMFiT's concat pooling: last, max and mean side by side (3 × dim).
    Concat,
}

impl Pooling {
    /// Size of the pooled vector for states of size `dim`.
    pub fn output_dim(self, dim: usize) -> usize {
        match self {
            Pooling::Concat => 3 * dim,
            _ => dim,
        }
    }
}

/// Pools `states: [batch, seq, dim]` over the real positions of `mask: [batch, seq]`.
/// A row without any real position pools to zeros (mean) or to the padding value.
pub fn pool(states: Tensor<3>, mask: Tensor<2, Bool>, pooling: Pooling) -> Tensor<2> {
    match pooling {
        Pooling::Mean => mean(states, mask),
        Pooling::Max => max(states, mask),
        Pooling::First => {
            let [batch, _, dim] = states.dims();
            states.slice([0..batch, 0..1]).reshape([batch, dim])
        }
        Pooling::Last => last(states, mask),
        Pooling::Concat => Tensor::cat(
            vec![
                last(states.clone(), mask.clone()),
                max(states.clone(), mask.clone()),
                mean(states, mask),
            ],
            1,
        ),
    }
}

fn mean(states: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<2> {
    let [batch, _, dim] = states.dims();
    let weights = mask.float().unsqueeze_dim::<3>(2);
    let counts = weights
        .clone()
        .sum_dim(1)
        .clamp_min(1.0)
        .reshape([batch, 1]);
    (states * weights).sum_dim(1).reshape([batch, dim]) / counts
}

fn max(states: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<2> {
    let [batch, seq, dim] = states.dims();
    let padded = mask
        .bool_not()
        .unsqueeze_dim::<3>(2)
        .expand([batch, seq, dim]);
    // Finite, so half precision holds it too.
    states
        .mask_fill(padded, -1.0e4)
        .max_dim(1)
        .reshape([batch, dim])
}

fn last(states: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<2> {
    let [batch, _, dim] = states.dims();
    let index = (mask.int().sum_dim(1) - 1)
        .clamp_min(0)
        .unsqueeze_dim::<3>(2)
        .expand([batch, 1, dim]);
    states.gather(1, index).reshape([batch, dim])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn pools_only_real_positions() {
        let device = Device::flex();
        // Two texts, three positions, dim 2; the second text has one padded position.
        let states = Tensor::<3>::from_data(
            [
                [[1.0, -1.0], [3.0, 5.0], [2.0, 0.0]],
                [[4.0, 2.0], [0.0, 6.0], [100.0, 100.0]],
            ],
            &device,
        );
        let mask = Tensor::<2, Bool>::from_data([[true, true, true], [true, true, false]], &device);
        let run = |p| values(pool(states.clone(), mask.clone(), p));
        assert_eq!(run(Pooling::Mean), [2.0, 4.0 / 3.0, 2.0, 4.0]);
        assert_eq!(run(Pooling::Max), [3.0, 5.0, 4.0, 6.0]);
        assert_eq!(run(Pooling::First), [1.0, -1.0, 4.0, 2.0]);
        assert_eq!(run(Pooling::Last), [2.0, 0.0, 0.0, 6.0]);
        assert_eq!(
            run(Pooling::Concat),
            [
                2.0,
                0.0,
                3.0,
                5.0,
                2.0,
                4.0 / 3.0,
                0.0,
                6.0,
                4.0,
                6.0,
                2.0,
                4.0
            ]
        );
    }
}
