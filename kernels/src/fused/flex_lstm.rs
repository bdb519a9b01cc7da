//! The LSTM recurrence on flex as one op. burn runs a cell step by step, about ten ops a
//! step, each with its own backward under autodiff; here the input projection `P = x·W_ih + b`
//! is still burn's (one matrix product over every step), and the recurrence over `P` is one
//! op: per step the small product `P_t + h_{t-1}·W_hh` ([`rows_times`], which reads `W_hh` in
//! place) and the gates in one vectorised pass; backward, the steps in reverse
//! (`dh_{t-1} = dG_t·W_hhᵀ`), then `dW_hh = Σ h_{t-1}ᵀ·dG_t` by gemm. The batch's rows are
//! independent, so each core runs the whole sequence for its share of them (no
//! synchronisation per step). Buffers keep `P`'s layout, `[batch, seq, ·]`.

use burn::backend::Flex;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::flex::FlexTensor;
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::DType;
use rayon::prelude::*;

use super::flex::{flex, gemm, on_flex, values};
use super::record;
use crate::gelu::exp_nonpositive;

type Ad = Autodiff<Flex>;

#[derive(Debug, Clone, Copy)]
struct Sizes {
    batch: usize,
    seq: usize,
    hidden: usize,
}

impl Sizes {
    fn gates(&self) -> usize {
        4 * self.hidden
    }
}

/// Time step `t` of a sequence of `seq` steps with `hidden` units.
#[derive(Debug, Clone, Copy)]
struct Step {
    t: usize,
    seq: usize,
    hidden: usize,
}

/// One LSTM layer's outputs `[batch, seq, hidden]` and final cell state `[batch, hidden]` on
/// flex f32 tensors (all plain or all under autodiff); the cell state carries no gradient.
/// `None` elsewhere, or when a given state needs a gradient.
pub(crate) fn lstm(
    input: &Linear,
    recurrent: &Linear,
    x: &Tensor<3>,
    state: Option<[&Tensor<2>; 2]>,
) -> Option<(Tensor<3>, Tensor<2>)> {
    let autodiff = x.is_autodiff();
    let bias = input.bias.as_ref()?.val();
    let weight = recurrent.weight.val();
    if !on_flex(x, autodiff)
        || !on_flex(&input.weight.val(), autodiff)
        || !on_flex(&bias, autodiff)
        || !on_flex(&weight, autodiff)
    {
        return None;
    }
    let [batch, seq, _] = x.dims();
    if seq == 0 {
        return None;
    }
    let hidden = weight.dims()[0];
    let sizes = Sizes { batch, seq, hidden };
    let start = match state {
        Some([h, c]) => Some([constant(h, autodiff)?, constant(c, autodiff)?]),
        None => None,
    };
    let projected = input.forward(x.clone());
    let cell_shape = vec![batch, hidden];
    if !autodiff {
        let (p, w) = (
            projected.try_into_primitive::<Flex>().ok()?,
            weight.try_into_primitive::<Flex>().ok()?,
        );
        let run = forward(&values(&p), &values(&w), start.as_ref(), sizes);
        return Some((
            Tensor::from_primitive::<Flex>(run.hiddens.clone()),
            Tensor::from_primitive::<Flex>(flex(run.final_cell(), cell_shape)),
        ));
    }
    let (p, w) = (
        projected.try_into_primitive::<Ad>().ok()?,
        weight.try_into_primitive::<Ad>().ok()?,
    );
    let final_cell = std::cell::RefCell::new(Vec::new());
    let run = || {
        let run = forward(
            &values(p.primitive()),
            &values(w.primitive()),
            start.as_ref(),
            sizes,
        );
        *final_cell.borrow_mut() = run.final_cell();
        let y = run.hiddens.clone();
        (run, y)
    };
    let y = record(
        RecurrenceBackward,
        [&p, &w],
        || {
            let (run, y) = run();
            let recurrent = w.primitive().clone();
            (RecurrenceState { recurrent, run }, y)
        },
        || run().1,
    );
    let cell = Tensor::<2>::from_primitive::<Flex>(flex(final_cell.into_inner(), cell_shape));
    Some((Tensor::from_primitive::<Ad>(y), cell.autodiff()))
}

/// The values of a state tensor that needs no gradient.
fn constant(t: &Tensor<2>, autodiff: bool) -> Option<Vec<f32>> {
    if t.dtype() != DType::F32 {
        return None;
    }
    if autodiff {
        let p = t.clone().try_into_primitive::<Ad>().ok()?;
        (!p.is_tracked()).then(|| values(p.primitive()).into_owned())
    } else {
        let p = t.clone().try_into_primitive::<Flex>().ok()?;
        Some(values(&p).into_owned())
    }
}

/// Everything a forward pass computed, in `[batch, seq, ·]` layout.
#[derive(Debug, Clone)]
struct Run {
    /// The gates after their activations (i, f, g, o), `4 × hidden` wide.
    gates: Vec<f32>,
    cells: Vec<f32>,
    /// The outputs.
    hiddens: FlexTensor,
    /// The state before the first step (hidden, cell), `[batch, hidden]` each.
    start: [Vec<f32>; 2],
    sizes: Sizes,
}

impl Run {
    fn final_cell(&self) -> Vec<f32> {
        let Sizes { seq, hidden, .. } = self.sizes;
        self.cells
            .chunks_exact(seq * hidden)
            .flat_map(|row| &row[(seq - 1) * hidden..])
            .copied()
            .collect()
    }
}

/// Batch rows per parallel task: the batch split evenly over the cores.
fn rows_per_task(batch: usize) -> usize {
    batch.div_ceil(rayon::current_num_threads().max(1)).max(1)
}

/// The recurrence over `p = x·W_ih + b` (`[batch, seq, 4 × hidden]`) with `w = W_hh`
/// (`[hidden, 4 × hidden]`), from `start` (hidden, cell) or zeros.
fn forward(p: &[f32], w: &[f32], start: Option<&[Vec<f32>; 2]>, sizes: Sizes) -> Run {
    let Sizes { batch, seq, hidden } = sizes;
    let mut gates = p.to_vec();
    let mut cells = vec![0f32; batch * seq * hidden];
    let mut hiddens = vec![0f32; batch * seq * hidden];
    let start = start
        .cloned()
        .unwrap_or_else(|| [vec![0f32; batch * hidden], vec![0f32; batch * hidden]]);
    let rows = rows_per_task(batch);
    let (per_gates, per_state) = (rows * seq * sizes.gates(), rows * seq * hidden);
    gates
        .par_chunks_mut(per_gates)
        .zip(cells.par_chunks_mut(per_state))
        .zip(hiddens.par_chunks_mut(per_state))
        .zip(start[0].par_chunks(rows * hidden))
        .zip(start[1].par_chunks(rows * hidden))
        .for_each(|((((gates, cells), hiddens), h0), c0)| {
            forward_rows(gates, cells, hiddens, [h0, c0], w, sizes);
        });
    let hiddens = flex(hiddens, vec![batch, seq, hidden]);
    Run {
        gates,
        cells,
        hiddens,
        start,
        sizes,
    }
}

/// [`forward`] for the rows whose initial states are `h0` and `c0`; `gates` holds their `P`.
fn forward_rows(
    gates: &mut [f32],
    cells: &mut [f32],
    hiddens: &mut [f32],
    [h0, c0]: [&[f32]; 2],
    w: &[f32],
    sizes: Sizes,
) {
    let Sizes { seq, hidden, .. } = sizes;
    let (rows, width) = (h0.len() / hidden, sizes.gates());
    for t in 0..seq {
        let (h_prev, h_rs) = match t {
            0 => (h0, hidden),
            _ => (&hiddens[(t - 1) * hidden..], seq * hidden),
        };
        // Row b of step t is at (b·seq + t)·width in `gates`, at (b·seq + t − 1)·hidden in
        // `hiddens` (b·hidden in `h0`).
        let product = Product {
            rows,
            inner: hidden,
            columns: width,
            accumulate: true,
        };
        rows_times(
            &mut gates[t * width..],
            seq * width,
            h_prev,
            h_rs,
            w,
            product,
        );
        step_forward(gates, cells, hiddens, c0, Step { t, seq, hidden });
    }
}

#[derive(Debug)]
struct RecurrenceBackward;

#[derive(Debug, Clone)]
struct RecurrenceState {
    recurrent: FlexTensor,
    run: Run,
}

impl Backward<Flex, 2> for RecurrenceBackward {
    type State = RecurrenceState;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_p, node_w] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let RecurrenceState { recurrent, run } = ops.state;
        let Sizes { batch, seq, hidden } = run.sizes;
        let width = run.sizes.gates();
        let (dy, hiddens) = (values(&dy), values(&run.hiddens));
        let w_t = transpose(&values(&recurrent), hidden, width);
        let rows = rows_per_task(batch);
        let (per_gates, per_state) = (rows * seq * width, rows * seq * hidden);
        let mut d_gates = vec![0f32; batch * seq * width];
        let dw = d_gates
            .par_chunks_mut(per_gates)
            .zip(dy.par_chunks(per_state))
            .zip(run.gates.par_chunks(per_gates))
            .zip(run.cells.par_chunks(per_state))
            .zip(hiddens.par_chunks(per_state))
            .zip(run.start[0].par_chunks(rows * hidden))
            .zip(run.start[1].par_chunks(rows * hidden))
            .map(|((((((d_gates, dy), gates), cells), hiddens), h0), c0)| {
                backward_rows(d_gates, dy, gates, cells, c0, &w_t, run.sizes);
                node_w
                    .is_some()
                    .then(|| weight_gradient(d_gates, hiddens, h0, run.sizes))
            })
            .reduce(
                || None,
                |a, b| match (a, b) {
                    (Some(mut a), Some(b)) => {
                        a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                        Some(a)
                    }
                    (a, b) => a.or(b),
                },
            );
        if let (Some(node), Some(dw)) = (node_w, dw) {
            grads.register::<Flex>(node.id, flex(dw, vec![hidden, width]));
        }
        if let Some(node) = node_p {
            grads.register::<Flex>(node.id, flex(d_gates, vec![batch, seq, width]));
        }
    }
}

/// The gradients of the pre-activation gates (= of `P`) of some rows, from `dy` (theirs);
/// `w_t` is `W_hhᵀ`, `[4 × hidden, hidden]`.
fn backward_rows(
    d_gates: &mut [f32],
    dy: &[f32],
    gates: &[f32],
    cells: &[f32],
    c0: &[f32],
    w_t: &[f32],
    sizes: Sizes,
) {
    let Sizes { seq, hidden, .. } = sizes;
    let (rows, width) = (c0.len() / hidden, sizes.gates());
    // What reaches h_t from the step after, then all of it; what reaches c_t.
    let (mut dh, mut dc) = (vec![0f32; rows * hidden], vec![0f32; rows * hidden]);
    for t in (0..seq).rev() {
        for (b, dh) in dh.chunks_exact_mut(hidden).enumerate() {
            let dy = &dy[(b * seq + t) * hidden..][..hidden];
            dh.iter_mut().zip(dy).for_each(|(dh, dy)| *dh += dy);
        }
        let step = Step { t, seq, hidden };
        step_backward(d_gates, &mut dc, &dh, gates, cells, c0, step);
        if t > 0 {
            // Row b of step t is at (b·seq + t)·width in `d_gates`.
            let product = Product {
                rows,
                inner: width,
                columns: hidden,
                accumulate: false,
            };
            rows_times(
                &mut dh,
                hidden,
                &d_gates[t * width..],
                seq * width,
                w_t,
                product,
            );
        }
    }
}

/// `Σ_t h_{t-1}ᵀ·dG_t` over some rows: `hiddens` are their outputs, `h0` their initial states.
fn weight_gradient(d_gates: &[f32], hiddens: &[f32], h0: &[f32], sizes: Sizes) -> Vec<f32> {
    let Sizes { seq, hidden, .. } = sizes;
    let width = sizes.gates();
    // The state before each step: each row's h0, then its outputs but the last.
    let mut before = Vec::with_capacity(hiddens.len());
    for (h0, hiddens) in h0
        .chunks_exact(hidden)
        .zip(hiddens.chunks_exact(seq * hidden))
    {
        before.extend_from_slice(h0);
        before.extend_from_slice(&hiddens[..(seq - 1) * hidden]);
    }
    let mut dw = vec![0f32; hidden * width];
    // SAFETY: `before` is steps × hidden (read transposed), `d_gates` steps × width, `dw`
    // hidden × width, all row-major.
    unsafe {
        gemm(
            (hidden, width, before.len() / hidden),
            (dw.as_mut_ptr(), width),
            (before.as_ptr(), hidden, 1),
            (d_gates.as_ptr(), 1, width),
            1.0,
        );
    }
    dw
}

/// `[rows, columns]` row-major, transposed.
fn transpose(m: &[f32], rows: usize, columns: usize) -> Vec<f32> {
    let mut t = vec![0f32; m.len()];
    for (r, row) in m.chunks_exact(columns).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            t[c * rows + r] = v;
        }
    }
    t
}

/// The sizes of `dst (rows × columns) ← [dst +] lhs (rows × inner) · rhs (inner × columns)`.
#[derive(Debug, Clone, Copy)]
struct Product {
    rows: usize,
    inner: usize,
    columns: usize,
    accumulate: bool,
}

/// Rows and columns of one block of [`rows_times`]: 4 rows × 64 columns of accumulators fill
/// 16 AVX-512 registers, and each row of `rhs` loaded serves 4 rows.
const BLOCK_ROWS: usize = 4;
const BLOCK_COLUMNS: usize = 64;

widest_simd_fn!(
    /// A step's small product ([`Product`]): row r of `dst` at `r · dst_rs`, of `lhs` at
    /// `r · lhs_rs`; `rhs` row-major and read in place (gemm would repack it at every step).
    /// `mul_add` is one FMA instruction in the AVX-512 and AVX2 + FMA builds (a library call
    /// on the rare x86 CPU without FMA).
    fn rows_times(
        dst: &mut [f32],
        dst_rs: usize,
        lhs: &[f32],
        lhs_rs: usize,
        rhs: &[f32],
        product: Product,
    ) {
        let Product {
            rows,
            inner,
            columns,
            accumulate,
        } = product;
        for r0 in (0..rows).step_by(BLOCK_ROWS) {
            for c0 in (0..columns).step_by(BLOCK_COLUMNS) {
                if r0 + BLOCK_ROWS <= rows && c0 + BLOCK_COLUMNS <= columns {
                    let mut acc = [[0f32; BLOCK_COLUMNS]; BLOCK_ROWS];
                    if accumulate {
                        for (r, acc) in acc.iter_mut().enumerate() {
                            acc.copy_from_slice(&dst[(r0 + r) * dst_rs + c0..][..BLOCK_COLUMNS]);
                        }
                    }
                    for k in 0..inner {
                        let w: &[f32; BLOCK_COLUMNS] = rhs[k * columns + c0..][..BLOCK_COLUMNS]
                            .try_into()
                            .expect("a block of columns");
                        for (r, acc) in acc.iter_mut().enumerate() {
                            let a = lhs[(r0 + r) * lhs_rs + k];
                            for j in 0..BLOCK_COLUMNS {
                                acc[j] = a.mul_add(w[j], acc[j]);
                            }
                        }
                    }
                    for (r, acc) in acc.iter().enumerate() {
                        dst[(r0 + r) * dst_rs + c0..][..BLOCK_COLUMNS].copy_from_slice(acc);
                    }
                } else {
                    // The edges: fewer rows or columns than a block.
                    let (rr, cc) = (
                        (rows - r0).min(BLOCK_ROWS),
                        (columns - c0).min(BLOCK_COLUMNS),
                    );
                    for r in r0..r0 + rr {
                        let out = &mut dst[r * dst_rs + c0..][..cc];
                        if !accumulate {
                            out.fill(0.0);
                        }
                        for k in 0..inner {
                            let a = lhs[r * lhs_rs + k];
                            let w = &rhs[k * columns + c0..][..cc];
                            out.iter_mut()
                                .zip(w)
                                .for_each(|(o, w)| *o = a.mul_add(*w, *o));
                        }
                    }
                }
            }
        }
    }
);

/// σ(x), branch-free.
#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    let e = exp_nonpositive(-x.abs());
    let s = 1.0 / (1.0 + e);
    if x >= 0.0 { s } else { 1.0 - s }
}

/// tanh(x), branch-free.
#[inline(always)]
fn tanh(x: f32) -> f32 {
    let e = exp_nonpositive(-2.0 * x.abs());
    let t = (1.0 - e) / (1.0 + e);
    if x >= 0.0 { t } else { -t }
}

widest_simd_fn!(
    /// Step `t` of every row: its gates in place (pre-activations in, i, f, g, o out), its
    /// cell state `c = f·c_prev + i·g` and output `h = o·tanh(c)`.
    fn step_forward(
        gates: &mut [f32],
        cells: &mut [f32],
        hiddens: &mut [f32],
        c0: &[f32],
        step: Step,
    ) {
        let Step { t, seq, hidden } = step;
        for b in 0..c0.len() / hidden {
            let g = &mut gates[(b * seq + t) * 4 * hidden..][..4 * hidden];
            let (ifg, o) = g.split_at_mut(3 * hidden);
            let (i_f, gg) = ifg.split_at_mut(2 * hidden);
            i_f.iter_mut().for_each(|v| *v = sigmoid(*v));
            gg.iter_mut().for_each(|v| *v = tanh(*v));
            o.iter_mut().for_each(|v| *v = sigmoid(*v));
            let (i, f) = i_f.split_at(hidden);
            let at = (b * seq + t) * hidden;
            let (before, after) = cells.split_at_mut(at);
            let c_prev = match t {
                0 => &c0[b * hidden..][..hidden],
                _ => &before[at - hidden..],
            };
            let h = &mut hiddens[at..][..hidden];
            new_state(i, f, gg, o, c_prev, &mut after[..hidden], h);
        }
    }
);

/// `c = f·c_prev + i·g`, `h = o·tanh(c)` (separate arguments, so that the loops vectorise).
#[inline(always)]
fn new_state(
    i: &[f32],
    f: &[f32],
    g: &[f32],
    o: &[f32],
    c_prev: &[f32],
    c: &mut [f32],
    h: &mut [f32],
) {
    for j in 0..c.len() {
        c[j] = f[j] * c_prev[j] + i[j] * g[j];
    }
    for j in 0..h.len() {
        h[j] = o[j] * tanh(c[j]);
    }
}

widest_simd_fn!(
    /// Step `t` backward for every row: from `dh` (all of the loss's gradient reaching h_t)
    /// and `dc` (what reaches c_t from the step after), the gradients of the pre-activation
    /// gates into `d_gates`; `dc` becomes what reaches c_{t-1}.
    fn step_backward(
        d_gates: &mut [f32],
        dc: &mut [f32],
        dh: &[f32],
        gates: &[f32],
        cells: &[f32],
        c0: &[f32],
        step: Step,
    ) {
        let Step { t, seq, hidden } = step;
        for b in 0..c0.len() / hidden {
            let at = (b * seq + t) * hidden;
            let c_prev = match t {
                0 => &c0[b * hidden..][..hidden],
                _ => &cells[at - hidden..][..hidden],
            };
            let rows = b * hidden..(b + 1) * hidden;
            gate_gradients(
                &mut d_gates[(b * seq + t) * 4 * hidden..][..4 * hidden],
                &mut dc[rows.clone()],
                &dh[rows],
                &gates[(b * seq + t) * 4 * hidden..][..4 * hidden],
                c_prev,
                &cells[at..][..hidden],
            );
        }
    }
);

/// [`step_backward`] for one row (separate arguments, so that the loop vectorises).
#[inline(always)]
fn gate_gradients(
    dg: &mut [f32],
    dc: &mut [f32],
    dh: &[f32],
    g: &[f32],
    c_prev: &[f32],
    c: &[f32],
) {
    let hidden = dc.len();
    let (dg_ifg, dg_o) = dg.split_at_mut(3 * hidden);
    let (dg_if, dg_g) = dg_ifg.split_at_mut(2 * hidden);
    let (dg_i, dg_f) = dg_if.split_at_mut(hidden);
    for j in 0..hidden {
        let (i, f, gg, o) = (g[j], g[hidden + j], g[2 * hidden + j], g[3 * hidden + j]);
        let tc = tanh(c[j]);
        let dc_total = dc[j] + dh[j] * o * (1.0 - tc * tc);
        dg_i[j] = dc_total * gg * i * (1.0 - i);
        dg_f[j] = dc_total * c_prev[j] * f * (1.0 - f);
        dg_g[j] = dc_total * i * (1.0 - gg * gg);
        dg_o[j] = dh[j] * tc * o * (1.0 - o);
        dc[j] = dc_total * f;
    }
}
