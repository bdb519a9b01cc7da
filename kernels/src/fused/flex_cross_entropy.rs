//! Cross-entropy of logits against class indices on flex as one op: forward, per row, a
//! vectorised max and sum of exps (the log-sum-exp); backward one pass writing
//! `(softmax − one-hot) · g / rows`. burn runs log-softmax, gather and mean as separate ops, each
//! with its own pass (and its own backward) over the whole `[rows, classes]` tensor: a language
//! model's tied softmax over 15,000 words is most of its step.

use burn::backend::Flex;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::flex::FlexTensor;
use burn::prelude::*;
use rayon::prelude::*;

use super::flex::{LANES, flex, on_flex, row_max, values};
use super::record;
use crate::gelu::exp_nonpositive;

/// Rows per parallel task.
const ROWS: usize = 8;

type Ad = Autodiff<Flex>;

/// The mean over rows of `−log softmax(logits)[target]`, as `[1]`; `None` unless `logits` is a
/// flex f32 tensor and every target is a class index.
pub(crate) fn cross_entropy(logits: &Tensor<2>, targets: &Tensor<1, Int>) -> Option<Tensor<1>> {
    let [rows, classes] = logits.dims();
    if targets.dims() != [rows] || rows == 0 || !on_flex(logits, logits.is_autodiff()) {
        return None;
    }
    // Read only once `logits` is known to be on flex: elsewhere this would wait for a device.
    let targets: Vec<usize> = targets
        .clone()
        .into_data()
        .iter::<i64>()
        .map(|t| usize::try_from(t).ok().filter(|&t| t < classes))
        .collect::<Option<_>>()?;
    // The log-sum-exp of each row and the mean loss.
    let forward = |x: &FlexTensor| {
        let x = values(x);
        let lse = log_sum_exp(&x, classes);
        let sum: f64 = lse
            .iter()
            .zip(&targets)
            .enumerate()
            .map(|(row, (&lse, &t))| f64::from(lse - x[row * classes + t]))
            .sum();
        (lse, flex(vec![(sum / rows as f64) as f32], vec![1]))
    };
    if !logits.is_autodiff() {
        let x = logits.clone().try_into_primitive::<Flex>().ok()?;
        return Some(Tensor::from_primitive::<Flex>(forward(&x).1));
    }
    let x = logits.clone().try_into_primitive::<Ad>().ok()?;
    let y = record(
        CrossEntropyBackward,
        [&x],
        || {
            let (lse, y) = forward(x.primitive());
            let state = CrossEntropyState {
                logits: x.primitive().clone(),
                lse,
                targets: targets.clone(),
            };
            (state, y)
        },
        || forward(x.primitive()).1,
    );
    Some(Tensor::from_primitive::<Ad>(y))
}

/// `log Σ exp` of each row of `x` (rows of `classes` values), on all cores.
fn log_sum_exp(x: &[f32], classes: usize) -> Vec<f32> {
    let mut lse = vec![0f32; x.len() / classes];
    lse.par_chunks_mut(ROWS)
        .zip(x.par_chunks(ROWS * classes))
        .for_each(|(lse, x)| log_sum_exp_rows(x, classes, lse));
    lse
}

widest_simd_fn!(
    /// `lse[i] = log Σ_j exp(x[i, j])` for each row of `x`.
    fn log_sum_exp_rows(x: &[f32], classes: usize, lse: &mut [f32]) {
        for (row, lse) in x.chunks_exact(classes).zip(lse) {
            let max = row_max(row);
            if !max.is_finite() {
                *lse = max;
                continue;
            }
            let mut sums = [0f32; LANES];
            let mut chunks = row.chunks_exact(LANES);
            for chunk in &mut chunks {
                for (sum, &v) in sums.iter_mut().zip(chunk) {
                    *sum += exp_nonpositive(v - max);
                }
            }
            let tail: f32 = chunks
                .remainder()
                .iter()
                .map(|&v| exp_nonpositive(v - max))
                .sum();
            *lse = max + (sums.iter().sum::<f32>() + tail).ln();
        }
    }
);

widest_simd_fn!(
    /// `x[i, j] ← scale · (exp(x[i, j] − lse[i]) − [j = target[i]])` for each row, in place.
    fn softmax_minus_one_hot_rows(
        x: &mut [f32],
        classes: usize,
        lse: &[f32],
        targets: &[usize],
        scale: f32,
    ) {
        for ((row, &lse), &target) in x.chunks_exact_mut(classes).zip(lse).zip(targets) {
            for v in row.iter_mut() {
                *v = scale * exp_nonpositive(*v - lse);
            }
            row[target] -= scale;
        }
    }
);

#[derive(Debug)]
struct CrossEntropyBackward;

#[derive(Debug, Clone)]
struct CrossEntropyState {
    logits: FlexTensor,
    /// One per row.
    lse: Vec<f32>,
    targets: Vec<usize>,
}

impl Backward<Flex, 1> for CrossEntropyBackward {
    type State = CrossEntropyState;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let Some(node) = node else {
            return;
        };
        let CrossEntropyState {
            mut logits,
            lse,
            targets,
        } = ops.state;
        let shape = logits.layout().shape().to_vec();
        let (rows, classes) = (lse.len(), shape[1]);
        let scale = values(&dy)[0] / rows as f32;
        let n = rows * classes;
        // The logits become their gradient in place where nothing else holds them (the
        // language models' case), sparing a buffer as large as the logits.
        let whole = logits.as_slice::<f32>().is_some_and(|s| s.len() == n)
            && logits.storage::<f32>().len() == n;
        let mut copy = Vec::new();
        let dx = match logits.try_storage_mut::<f32>() {
            Some(buffer) if whole => {
                #[cfg(test)]
                tests::IN_PLACE.with(|n| n.set(n.get() + 1));
                buffer
            }
            _ => {
                copy = values(&logits).into_owned();
                &mut copy
            }
        };
        dx.par_chunks_mut(ROWS * classes)
            .zip(lse.par_chunks(ROWS))
            .zip(targets.par_chunks(ROWS))
            .for_each(|((dx, lse), targets)| {
                softmax_minus_one_hot_rows(dx, classes, lse, targets, scale);
            });
        let dx = if copy.is_empty() {
            logits
        } else {
            flex(copy, shape)
        };
        grads.register::<Flex>(node.id, dx);
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::loss::CrossEntropyLossConfig;

    use std::cell::Cell;

    use super::*;
    use crate::fused::tests::{assert_close, random};

    thread_local! {
        /// Backward passes on this thread that reused the logits' buffer.
        pub(super) static IN_PLACE: Cell<usize> = const { Cell::new(0) };
    }

    fn targets(device: &Device, rows: usize, classes: usize) -> Tensor<1, Int> {
        let t: Vec<i64> = (0..rows).map(|i| ((i * 7 + 3) % classes) as i64).collect();
        Tensor::from_data(TensorData::new(t, [rows]), device)
    }

    #[test]
    fn matches_burn_with_gradients() {
        let device = Device::flex().autodiff();
        // More rows than one task, a width with a tail past the lanes, wide logits.
        for (rows, classes) in [(21, 37), (3, 5), (1, 1)] {
            let wide = random(&Device::flex(), [rows, classes], 1).mul_scalar(4.0);
            let x = Tensor::<2>::from_data(wide.into_data(), &device).require_grad();
            let t = targets(&device, rows, classes);
            let ours = cross_entropy(&x, &t).expect("not fused");
            let theirs = CrossEntropyLossConfig::new()
                .init(&device)
                .forward(x.clone(), t.clone());
            assert_close("loss", ours.clone(), theirs.clone());
            let (g1, g2) = (
                ours.mul_scalar(3.0).backward(),
                theirs.mul_scalar(3.0).backward(),
            );
            assert_close("d logits", x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
            // Logits that only the op holds (an intermediate, as in a language model) become
            // their gradient in place.
            let before = IN_PLACE.with(Cell::get);
            let ours = cross_entropy(&x.clone().mul_scalar(1.0), &t).expect("not fused");
            let g3 = ours.mul_scalar(3.0).backward();
            assert_eq!(IN_PLACE.with(Cell::get), before + 1);
            assert_close(
                "d logits in place",
                x.grad(&g3).unwrap(),
                x.grad(&g2).unwrap(),
            );
        }
    }

    #[test]
    fn without_autodiff_and_bad_targets() {
        let device = Device::flex();
        let x = random(&device, [6, 9], 2);
        let t = targets(&device, 6, 9);
        let ours = cross_entropy(&x, &t).expect("not fused");
        let theirs = CrossEntropyLossConfig::new()
            .init(&device)
            .forward(x.clone(), t);
        assert_close("loss", ours, theirs);
        let out_of_range = Tensor::<1, Int>::from_data([0, 9, 1, 2, 3, 4], &device);
        assert!(cross_entropy(&x, &out_of_range).is_none());
        let negative = Tensor::<1, Int>::from_data([0, -1, 1, 2, 3, 4], &device);
        assert!(cross_entropy(&x, &negative).is_none());
    }
}
