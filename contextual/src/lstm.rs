use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, tanh};
use serde::{Deserialize, Serialize};

use crate::error::check;
use crate::{ContextualEmbedder, ContextualError};

const MAX_DIM: usize = 1 << 16;

/// Shape of an [`Lstm`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LstmConfig {
    pub input_dim: usize,
    /// Hidden size of each direction.
    pub hidden_dim: usize,
    #[serde(default = "one")]
    pub num_layers: usize,
    #[serde(default)]
    pub bidirectional: bool,
    /// Dropout between layers, in [0, 1).
    #[serde(default)]
    pub dropout: f64,
}

fn one() -> usize {
    1
}

impl LstmConfig {
    /// One unidirectional layer without dropout.
    pub fn new(input_dim: usize, hidden_dim: usize) -> Self {
        Self {
            input_dim,
            hidden_dim,
            num_layers: 1,
            bidirectional: false,
            dropout: 0.0,
        }
    }

    pub fn with_num_layers(mut self, num_layers: usize) -> Self {
        self.num_layers = num_layers;
        self
    }

    pub fn with_bidirectional(mut self, bidirectional: bool) -> Self {
        self.bidirectional = bidirectional;
        self
    }

    pub fn with_dropout(mut self, dropout: f64) -> Self {
        self.dropout = dropout;
        self
    }

    fn validate(&self) -> Result<(), ContextualError> {
        // Bounded so that a corrupt config cannot make the biases allocate gigabytes.
        check((1..=MAX_DIM).contains(&self.input_dim), "input_dim", || {
            format!("{} is not in 1..={MAX_DIM}", self.input_dim)
        })?;
        check(
            (1..=MAX_DIM).contains(&self.hidden_dim),
            "hidden_dim",
            || format!("{} is not in 1..={MAX_DIM}", self.hidden_dim),
        )?;
        check(self.num_layers > 0, "num_layers", || {
            "must be at least 1".into()
        })?;
        check(
            self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout),
            "dropout",
            || format!("{} is not in [0, 1)", self.dropout),
        )
    }
}

/// Hidden and cell state of one unidirectional layer, `[batch, hidden]` each.
#[derive(Debug, Clone)]
pub struct LstmState {
    pub hidden: Tensor<2>,
    pub cell: Tensor<2>,
}

impl LstmState {
    /// The same state cut off from the autodiff graph (truncated backpropagation through time).
    pub fn detach(self) -> Self {
        Self {
            hidden: self.hidden.detach(),
            cell: self.cell.detach(),
        }
    }
}

/// One direction of one layer. Gates in PyTorch order: input, forget, cell, output.
#[derive(Module, Debug)]
struct LstmCell {
    /// `[input, 4 × hidden]`, with the bias of all gates.
    input: Linear,
    /// `[hidden, 4 × hidden]`.
    recurrent: Linear,
    hidden_dim: usize,
}

impl LstmCell {
    fn new(input_dim: usize, hidden_dim: usize, device: &Device) -> Self {
        let bound = 1.0 / (hidden_dim as f64).sqrt();
        let init = Initializer::Uniform {
            min: -bound,
            max: bound,
        };
        let mut input = LinearConfig::new(input_dim, 4 * hidden_dim)
            .with_initializer(init.clone())
            .init(device);
        // Forget-gate bias 1: remember by default (Jozefowicz et al. 2015).
        let bias: Vec<f32> = (0..4 * hidden_dim)
            .map(|i| {
                if (hidden_dim..2 * hidden_dim).contains(&i) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        input.bias = Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(bias, [4 * hidden_dim]),
            device,
        )));
        let recurrent = LinearConfig::new(hidden_dim, 4 * hidden_dim)
            .with_bias(false)
            .with_initializer(init)
            .init(device);
        Self {
            input,
            recurrent,
            hidden_dim,
        }
    }

    /// Runs the cell left to right over `x: [batch, seq, input]`: on libtorch as one call of
    /// its LSTM (cuDNN's on CUDA), on flex as one op for the recurrence (the final cell state
    /// then carries no gradient), elsewhere step by step.
    fn run(&self, x: Tensor<3>, state: Option<LstmState>) -> (Tensor<3>, LstmState) {
        if let Some((y, cell)) = transfer_kernels::lstm(
            &self.input,
            &self.recurrent,
            &x,
            state.as_ref().map(|s| [&s.hidden, &s.cell]),
        ) {
            let [batch, seq, hidden] = y.dims();
            let last = y
                .clone()
                .slice([0..batch, seq - 1..seq])
                .reshape([batch, hidden]);
            return (y, LstmState { hidden: last, cell });
        }
        self.run_steps(x, state)
    }

    /// [`run`](Self::run), one time step at a time with burn's ops.
    fn run_steps(&self, x: Tensor<3>, state: Option<LstmState>) -> (Tensor<3>, LstmState) {
        let [batch, seq, _] = x.dims();
        let device = x.device();
        let projected = self.input.forward(x);
        let LstmState {
            mut hidden,
            mut cell,
        } = state.unwrap_or_else(|| LstmState {
            hidden: Tensor::zeros([batch, self.hidden_dim], &device),
            cell: Tensor::zeros([batch, self.hidden_dim], &device),
        });
        let mut outputs = Vec::with_capacity(seq);
        for step in time_steps(projected) {
            let gates = (step + self.recurrent.forward(hidden)).chunk(4, 1);
            let [i, f, g, o]: [Tensor<2>; 4] = gates.try_into().expect("four gates");
            cell = sigmoid(f) * cell + sigmoid(i) * tanh(g);
            hidden = sigmoid(o) * tanh(cell.clone());
            outputs.push(hidden.clone());
        }
        (Tensor::stack(outputs, 1), LstmState { hidden, cell })
    }
}

/// Splits `[batch, seq, d]` into `seq` tensors `[batch, d]`.
///
/// The backward pass of a slice writes a zero tensor of the sliced tensor's full size, so
/// slicing each step straight out of the sequence costs O(seq²). Slicing blocks of √seq
/// steps first, then the steps out of each block, costs O(seq·√seq).
fn time_steps(x: Tensor<3>) -> Vec<Tensor<2>> {
    let [batch, seq, _] = x.dims();
    let block = (seq as f64).sqrt().ceil().max(1.0) as usize;
    let mut steps = Vec::with_capacity(seq);
    for start in (0..seq).step_by(block) {
        let end = (start + block).min(seq);
        let chunk = x.clone().slice([0..batch, start..end]);
        for t in 0..end - start {
            steps.push(
                chunk
                    .clone()
                    .slice([0..batch, t..t + 1])
                    .squeeze_dim::<2>(1),
            );
        }
    }
    steps
}

/// For each row, the index that reverses its first `length` positions and leaves the
/// padding in place; expanded to `[batch, seq, dim]` for `gather`. Its own inverse.
fn reversal_index(mask: Tensor<2, Bool>, dim: usize) -> Tensor<3, Int> {
    let [batch, seq] = mask.dims();
    let device = mask.device();
    let lengths = mask.int().sum_dim(1).expand([batch, seq]);
    let positions = Tensor::<1, Int>::arange(0..seq as i64, &device)
        .unsqueeze::<2>()
        .expand([batch, seq]);
    let inside = positions.clone().lower(lengths.clone());
    let reversed = lengths - positions.clone() - 1;
    positions
        .mask_where(inside, reversed)
        .unsqueeze_dim::<3>(2)
        .expand([batch, seq, dim])
}

/// `x` with each row's real positions reversed (see [`reversal_index`]): one op on flex,
/// elsewhere a `gather` by an index kept in `cache` for the next call of the same width.
fn reverse_padded(
    x: Tensor<3>,
    mask: &Tensor<2, Bool>,
    cache: &mut Option<(usize, Tensor<3, Int>)>,
) -> Tensor<3> {
    if let Some(y) = transfer_kernels::reverse_padded(&x, mask) {
        return y;
    }
    let dim = x.dims()[2];
    let index = match cache {
        Some((d, index)) if *d == dim => index.clone(),
        _ => reversal_index(mask.clone(), dim),
    };
    *cache = Some((dim, index.clone()));
    x.gather(1, index)
}

/// One layer: a forward cell and, when bidirectional, a backward one.
#[derive(Module, Debug)]
struct LstmLayer {
    forward: LstmCell,
    backward: Option<LstmCell>,
}

/// A stack of LSTM layers, uni- or bidirectional, with dropout between layers.
///
/// Output size is `hidden_dim`, or `2 × hidden_dim` when bidirectional (forward states
/// then backward states).
#[derive(Module, Debug)]
pub struct Lstm {
    layers: Vec<LstmLayer>,
    dropout: Dropout,
    input_dim: usize,
    hidden_dim: usize,
    bidirectional: bool,
}

impl Lstm {
    /// The same weights with another dropout between layers (a classifier on a language
    /// model's LSTM often wants more than the language model trained with).
    pub fn with_dropout(mut self, dropout: f64) -> Result<Self, ContextualError> {
        self.config().with_dropout(dropout).validate()?;
        self.dropout = DropoutConfig::new(dropout).init();
        Ok(self)
    }

    /// Runs a unidirectional stack from `states` (one per layer, zeros if `None`), returning
    /// the top layer's outputs and each layer's final state: what a language model needs to
    /// carry state from one chunk of text to the next. Dropout is applied between layers. On
    /// libtorch and flex the final cell states carry no gradient (the hidden states do): detach both,
    /// as truncated backpropagation through time does.
    ///
    /// # Panics
    /// If the LSTM is bidirectional or `states` has the wrong number of layers.
    pub fn forward_with_state(
        &self,
        x: Tensor<3>,
        states: Option<Vec<LstmState>>,
    ) -> (Tensor<3>, Vec<LstmState>) {
        assert!(
            !self.bidirectional,
            "forward_with_state needs a unidirectional LSTM"
        );
        let mut states = states.map(|s| s.into_iter().map(Some).collect::<Vec<_>>());
        if let Some(s) = &states {
            assert_eq!(s.len(), self.layers.len(), "one state per layer");
        }
        let mut x = x;
        let mut finals = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            if i > 0 {
                x = transfer_kernels::dropout(&self.dropout, x);
            }
            let state = states.as_mut().and_then(|s| s[i].take());
            let (out, last) = layer.forward.run(x, state);
            x = out;
            finals.push(last);
        }
        (x, finals)
    }

    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }
}

impl ContextualEmbedder for Lstm {
    type Config = LstmConfig;

    fn forward(&self, embedded: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<3> {
        let mut x = embedded;
        let mut reversal: Option<(usize, Tensor<3, Int>)> = None;
        for (i, layer) in self.layers.iter().enumerate() {
            if i > 0 {
                x = transfer_kernels::dropout(&self.dropout, x);
            }
            let (forward, _) = layer.forward.run(x.clone(), None);
            x = match &layer.backward {
                None => forward,
                Some(cell) => {
                    let (backward, _) = cell.run(reverse_padded(x, &mask, &mut reversal), None);
                    let backward = reverse_padded(backward, &mask, &mut reversal);
                    Tensor::cat(vec![forward, backward], 2)
                }
            };
        }
        x
    }

    fn input_dim(&self) -> usize {
        self.input_dim
    }

    fn output_dim(&self) -> usize {
        self.hidden_dim * if self.bidirectional { 2 } else { 1 }
    }

    fn config(&self) -> LstmConfig {
        LstmConfig {
            input_dim: self.input_dim,
            hidden_dim: self.hidden_dim,
            num_layers: self.layers.len(),
            bidirectional: self.bidirectional,
            dropout: self.dropout.prob,
        }
    }

    fn from_config(config: &LstmConfig, device: &Device) -> Result<Self, ContextualError> {
        config.validate()?;
        let directions = if config.bidirectional { 2 } else { 1 };
        let layers = (0..config.num_layers)
            .map(|i| {
                let input = if i == 0 {
                    config.input_dim
                } else {
                    config.hidden_dim * directions
                };
                LstmLayer {
                    forward: LstmCell::new(input, config.hidden_dim, device),
                    backward: config
                        .bidirectional
                        .then(|| LstmCell::new(input, config.hidden_dim, device)),
                }
            })
            .collect();
        Ok(Self {
            layers,
            dropout: DropoutConfig::new(config.dropout).init(),
            input_dim: config.input_dim,
            hidden_dim: config.hidden_dim,
            bidirectional: config.bidirectional,
        })
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::Distribution;

    use super::*;

    fn normal<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
        Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
    }

    /// Within 1e-5 of the largest value; 5e-3 on CUDA, where cuDNN's LSTM multiplies in TF32
    /// (libtorch's default for cuDNN, as in PyTorch) and burn's steps in f32.
    fn assert_close<const D: usize>(what: &str, a: Tensor<D>, b: Tensor<D>) {
        let tolerance = if std::env::var("TRANSFER_TEST_CUDA").as_deref() == Ok("1") {
            5e-3
        } else {
            1e-5
        };
        let worst = transfer_kernels::max_relative_difference(a, b);
        assert!(
            worst < tolerance,
            "{what}: largest relative difference {worst:e}"
        );
    }

    /// The fused cell on `device` (an autodiff one) against burn's step-by-step cell at one
    /// shape (`[batch, seq, input, hidden]`), from zeros or a random state: that the fused path
    /// is taken, the outputs, the final states and the gradients of the input and the three
    /// weights.
    fn fused_matches_the_steps_at(device: &Device, shape: [usize; 4], start: bool, seed: u64) {
        let [batch, seq, input, hidden] = shape;
        device.seed(seed);
        let cell = LstmCell::new(input, hidden, device);
        let x = normal([batch, seq, input], device).require_grad();
        let start = start.then(|| LstmState {
            hidden: normal([batch, hidden], device),
            cell: normal([batch, hidden], device),
        });
        let as_pair = start.as_ref().map(|s| [&s.hidden, &s.cell]);
        assert!(
            transfer_kernels::lstm(&cell.input, &cell.recurrent, &x, as_pair).is_some(),
            "the fused path was not taken"
        );
        let (y1, s1) = cell.run(x.clone(), start.clone());
        let (y2, s2) = cell.run_steps(x.clone(), start);
        assert_close("outputs", y1.clone(), y2.clone());
        assert_close("final hidden", s1.hidden.clone(), s2.hidden.clone());
        assert_close("final cell", s1.cell, s2.cell.detach());
        let (w, v) = (
            normal([batch, seq, hidden], device),
            normal([batch, hidden], device),
        );
        let g1 = ((y1 * w.clone()).sum() + (s1.hidden * v.clone()).sum()).backward();
        let g2 = ((y2 * w).sum() + (s2.hidden * v).sum()).backward();
        assert_close("d x", x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
        for (what, p) in [
            ("d W_ih", cell.input.weight.val()),
            ("d W_hh", cell.recurrent.weight.val()),
        ] {
            assert_close(what, p.grad(&g1).unwrap(), p.grad(&g2).unwrap());
        }
        let bias = cell.input.bias.as_ref().unwrap().val();
        assert_close("d bias", bias.grad(&g1).unwrap(), bias.grad(&g2).unwrap());
    }

    /// [`fused_matches_the_steps_at`] from zeros and from a given state; a given state that
    /// needs a gradient takes the steps; the same values without autodiff.
    fn check_fused_matches_the_steps(device: Device) {
        for start in [false, true] {
            fused_matches_the_steps_at(&device, [3, 9, 6, 5], start, 7);
        }
        let cell = LstmCell::new(6, 5, &device);
        let x = normal([3, 9, 6], &device).require_grad();
        let tracked = normal([3, 5], &device).require_grad();
        let pair = Some([&tracked, &tracked]);
        assert!(transfer_kernels::lstm(&cell.input, &cell.recurrent, &x, pair).is_none());
        let plain = cell.valid();
        let x = x.inner();
        let (y1, _) = plain.run(x.clone(), None);
        let (y2, _) = plain.run_steps(x, None);
        assert!(!y1.is_autodiff());
        assert_close("outputs without autodiff", y1, y2);
    }

    #[test]
    fn flex_lstm_matches_the_steps() {
        check_fused_matches_the_steps(Device::flex().autodiff());
    }

    /// Longer than a few steps, with a batch and hidden size that fill the flex kernel's
    /// blocks and leave edges (10 rows, 5 per core; 70 units, 280 gates): the gradients
    /// through many steps of the recurrence.
    #[test]
    fn flex_lstm_matches_the_steps_over_a_long_sequence() {
        fused_matches_the_steps_at(&Device::flex().autodiff(), [10, 40, 7, 70], false, 8);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Any small shape, one row or one unit or one step included.
        #[test]
        fn flex_lstm_matches_the_steps_at_any_shape(
            batch in 1usize..10,
            seq in 1usize..13,
            input in 1usize..9,
            hidden in 1usize..21,
            start: bool,
            seed: u64,
        ) {
            let device = Device::flex().autodiff();
            fused_matches_the_steps_at(&device, [batch, seq, input, hidden], start, seed);
        }
    }

    /// The flex reversal against `gather` by [`reversal_index`]: values and gradients, rows
    /// of every length from none to all (with and without autodiff).
    #[test]
    fn flex_reversal_matches_the_gather() {
        let device = Device::flex().autodiff();
        device.seed(9);
        let x = normal([4, 5, 3], &device).require_grad();
        let lengths = [5, 3, 0, 1];
        let real: Vec<bool> = lengths
            .iter()
            .flat_map(|&n| (0..5).map(move |t| t < n))
            .collect();
        let mask = Tensor::<2, Bool>::from_data(TensorData::new(real, [4, 5]), &device);
        let fused = transfer_kernels::reverse_padded(&x, &mask).expect("the flex reversal");
        let plain = x.clone().gather(1, reversal_index(mask.clone(), 3));
        assert_eq!(
            fused.to_data().try_to_vec::<f32>().unwrap(),
            plain.to_data().try_to_vec::<f32>().unwrap()
        );
        let w = normal([4, 5, 3], &device);
        let g1 = (fused * w.clone()).sum().backward();
        let g2 = (plain * w).sum().backward();
        assert_close("d x", x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
        let (x, mask) = (x.inner(), mask.inner());
        let fused = transfer_kernels::reverse_padded(&x, &mask).expect("the flex reversal");
        assert!(!fused.is_autodiff());
        assert_close(
            "without autodiff",
            fused,
            x.gather(1, reversal_index(mask, 3)),
        );
    }

    /// libtorch's CPU under autodiff, or CUDA device 0 with `TRANSFER_TEST_CUDA=1`.
    #[cfg(feature = "tch")]
    #[allow(deprecated)]
    #[test]
    fn libtorch_lstm_matches_the_steps() {
        let plain = if std::env::var("TRANSFER_TEST_CUDA").as_deref() == Ok("1") {
            Device::libtorch_cuda(0)
        } else {
            Device::libtorch()
        };
        check_fused_matches_the_steps(plain.autodiff());
    }
}
