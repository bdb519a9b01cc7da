//! One training thread: takes batches of sentences from the producer and updates the shared
//! matrices with skip-gram or CBOW steps.

use crate::huffman::Huffman;
use crate::kernel::{Sigmoid, axpy, has_fma, output_step, prefetch};
use crate::rng::SplitMix64;
use crate::sampling::NegativeTable;
use crate::shared::HogwildMatrix;
use crate::train::Architecture;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Receiver;

/// Sentences as vocabulary ids, flat: sentence `k` ends at `ends[k]`.
pub(crate) struct Batch {
    pub words: Vec<u32>,
    pub ends: Vec<usize>,
    /// The corpus tokens these sentences held, out-of-vocabulary ones included.
    pub tokens: u64,
}

/// What every thread reads (and, for the matrices, writes).
pub(crate) struct Shared<'a> {
    pub input: &'a HogwildMatrix,
    /// Hierarchical softmax: the tree and its inner nodes' vectors.
    pub softmax: Option<(&'a Huffman, &'a HogwildMatrix)>,
    /// Negative sampling: the noise distribution and the output vectors.
    pub negatives: Option<(&'a NegativeTable, &'a HogwildMatrix)>,
    pub negative: usize,
    pub keep: &'a [u64],
    pub sigmoid: &'a Sigmoid,
    pub schedule: Schedule,
    pub window: u32,
    pub architecture: Architecture,
    pub dim: usize,
    /// In-vocabulary words handed to threads so far, for the learning rate.
    pub started: &'a AtomicU64,
    /// Corpus tokens whose batch is finished, for progress.
    pub finished_tokens: &'a AtomicU64,
}

/// The learning rate falls linearly from `alpha` to `min_alpha` over `total` words.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schedule {
    pub alpha: f64,
    pub min_alpha: f64,
    pub total: u64,
}

impl Schedule {
    pub(crate) fn at(&self, done: u64) -> f32 {
        let progress = (done as f64 / self.total.max(1) as f64).min(1.0);
        (self.alpha - (self.alpha - self.min_alpha) * progress) as f32
    }
}

/// A thread's own state: its random stream and scratch vectors, allocated once.
pub(crate) struct Worker {
    rng: SplitMix64,
    hidden: Vec<f32>,
    grad: Vec<f32>,
    kept: Vec<u32>,
    noise: Vec<u32>,
    fma: bool,
}

impl Worker {
    pub(crate) fn new(seed: u64, dim: usize) -> Self {
        Self {
            rng: SplitMix64::new(seed),
            hidden: vec![0.0; dim],
            grad: vec![0.0; dim],
            kept: Vec::new(),
            noise: Vec::new(),
            fma: has_fma(),
        }
    }

    /// Trains on batches until the producer hangs up.
    pub(crate) fn run(&mut self, shared: &Shared, batches: &Mutex<Receiver<Batch>>) {
        loop {
            let next = batches.lock().unwrap_or_else(|e| e.into_inner()).recv();
            let Ok(batch) = next else { return };
            self.train_batch(shared, &batch);
            (shared.finished_tokens).fetch_add(batch.tokens, Ordering::Relaxed);
        }
    }

    fn train_batch(&mut self, shared: &Shared, batch: &Batch) {
        #[cfg(target_arch = "x86_64")]
        if self.fma {
            // SAFETY: `fma` is true only when the CPU has AVX2 and FMA (`has_fma`).
            unsafe { self.train_batch_fma(shared, batch) };
            return;
        }
        self.train_batch_with::<false>(shared, batch);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn train_batch_fma(&mut self, shared: &Shared, batch: &Batch) {
        self.train_batch_with::<true>(shared, batch);
    }

    /// Subsamples and trains each sentence, with the learning rate at its first word.
    #[inline(always)]
    fn train_batch_with<const FMA: bool>(&mut self, shared: &Shared, batch: &Batch) {
        let n = batch.words.len() as u64;
        let mut done = shared.started.fetch_add(n, Ordering::Relaxed);
        let mut start = 0;
        for &end in &batch.ends {
            let sentence = &batch.words[start..end];
            let alpha = shared.schedule.at(done);
            self.subsample(shared.keep, sentence);
            match shared.architecture {
                Architecture::SkipGram => self.skip_gram::<FMA>(shared, alpha),
                Architecture::Cbow => self.cbow::<FMA>(shared, alpha),
            }
            done += sentence.len() as u64;
            start = end;
        }
    }

    /// Keeps each word with its subsampling probability, into `self.kept`.
    #[inline(always)]
    fn subsample(&mut self, keep: &[u64], sentence: &[u32]) {
        self.kept.clear();
        for &w in sentence {
            if (self.rng.next_u64() >> 32) < keep[w as usize] {
                self.kept.push(w);
            }
        }
    }

    /// Each context word's input vector predicts the centre word, within a window of
    /// random reach `1..=window` on each side. The noise words of all the centre's pairs are
    /// drawn first, so that each pair's rows can be fetched from memory while the pair
    /// before it is computed.
    #[inline(always)]
    fn skip_gram<const FMA: bool>(&mut self, shared: &Shared, alpha: f32) {
        let Self {
            rng,
            grad,
            kept,
            noise,
            ..
        } = self;
        let stride = shared.negative + 1;
        for (pos, &center) in kept.iter().enumerate() {
            let reach = (shared.window - rng.below(shared.window)) as usize;
            let (lo, hi) = (pos.saturating_sub(reach), (pos + reach + 1).min(kept.len()));
            let pairs = hi - lo - 1;
            let context = |k: usize| kept[if lo + k < pos { lo + k } else { lo + k + 1 }];
            draw_noise(shared, center, pairs, rng, noise);
            let noise_of = |k: usize| noise.get(k * stride..(k + 1) * stride).unwrap_or(&[]);
            if pairs > 0 {
                prefetch_pair(shared, context(0), noise_of(0));
            }
            for k in 0..pairs {
                if k + 1 < pairs {
                    prefetch_pair(shared, context(k + 1), noise_of(k + 1));
                }
                // SAFETY: the only row of `input` this thread holds (see `HogwildMatrix`).
                let input = unsafe { shared.input.row(context(k) as usize) };
                grad.fill(0.0);
                softmax_steps::<FMA>(shared, input, grad, center, alpha);
                negative_steps::<FMA>(shared, input, grad, noise_of(k), alpha);
                axpy::<FMA>(1.0, grad, input);
            }
        }
    }

    /// The mean of the context words' input vectors predicts the centre word; each context
    /// word gets the whole gradient.
    #[inline(always)]
    fn cbow<const FMA: bool>(&mut self, shared: &Shared, alpha: f32) {
        let Self {
            rng,
            hidden,
            grad,
            kept,
            noise,
            ..
        } = self;
        for (pos, &center) in kept.iter().enumerate() {
            let reach = (shared.window - rng.below(shared.window)) as usize;
            let (lo, hi) = (pos.saturating_sub(reach), (pos + reach + 1).min(kept.len()));
            if hi - lo < 2 {
                continue;
            }
            hidden.fill(0.0);
            for c in (lo..hi).filter(|&c| c != pos) {
                // SAFETY: read only, and no other row of `input` is held meanwhile.
                axpy::<FMA>(1.0, unsafe { shared.input.row(kept[c] as usize) }, hidden);
            }
            let scale = 1.0 / (hi - lo - 1) as f32;
            hidden.iter_mut().for_each(|h| *h *= scale);
            grad.fill(0.0);
            draw_noise(shared, center, 1, rng, noise);
            prefetch_outputs(shared, noise);
            softmax_steps::<FMA>(shared, hidden, grad, center, alpha);
            negative_steps::<FMA>(shared, hidden, grad, noise, alpha);
            for c in (lo..hi).filter(|&c| c != pos) {
                // SAFETY: one row of `input` at a time.
                axpy::<FMA>(1.0, grad, unsafe { shared.input.row(kept[c] as usize) });
            }
        }
    }
}

/// Marks a noise draw that hit the true word, which is skipped.
const SKIPPED: u32 = u32::MAX;

/// For each of `pairs` predictions of `target`: `target`, then `negative` noise words
/// ([`SKIPPED`] where the draw was `target`), into `noise`; nothing without negative
/// sampling.
#[inline(always)]
fn draw_noise(
    shared: &Shared,
    target: u32,
    pairs: usize,
    rng: &mut SplitMix64,
    noise: &mut Vec<u32>,
) {
    noise.clear();
    let Some((table, _)) = shared.negatives else {
        return;
    };
    for _ in 0..pairs {
        noise.push(target);
        for _ in 0..shared.negative {
            let word = table.sample(rng);
            noise.push(if word == target { SKIPPED } else { word });
        }
    }
}

/// Starts loading a pair's rows: the input row `input` and the output rows of `noise`.
#[inline(always)]
fn prefetch_pair(shared: &Shared, input: u32, noise: &[u32]) {
    // SAFETY: only read for the hint; no row of `input` is held meanwhile.
    prefetch(unsafe { shared.input.row(input as usize) });
    prefetch_outputs(shared, noise);
}

/// Starts loading the output rows of `noise`.
#[inline(always)]
fn prefetch_outputs(shared: &Shared, noise: &[u32]) {
    if let Some((_, outputs)) = shared.negatives {
        for &word in noise.iter().filter(|&&w| w != SKIPPED) {
            // SAFETY: only read for the hint; no output row is held meanwhile.
            prefetch(unsafe { outputs.row(word as usize) });
        }
    }
}

/// Hierarchical softmax: one logistic step per inner node on `target`'s Huffman path, the
/// input's gradient summed into `grad`.
#[inline(always)]
fn softmax_steps<const FMA: bool>(
    shared: &Shared,
    hidden: &[f32],
    grad: &mut [f32],
    target: u32,
    alpha: f32,
) {
    let Some((tree, nodes)) = shared.softmax else {
        return;
    };
    let (codes, points) = (tree.code(target as usize), tree.points(target as usize));
    // SAFETY (all rows below): one row of this matrix at a time in this thread.
    for &point in points {
        prefetch(unsafe { nodes.row(point as usize) });
    }
    for (&code, &point) in codes.iter().zip(points) {
        let out = unsafe { nodes.row(point as usize) };
        let label = 1.0 - f32::from(code);
        output_step::<FMA>(hidden, out, label, alpha, grad, shared.sigmoid);
    }
}

/// Negative sampling: a logistic step towards 1 for the true word (`noise[0]`) and towards 0
/// for each noise word, the input's gradient summed into `grad`.
#[inline(always)]
fn negative_steps<const FMA: bool>(
    shared: &Shared,
    hidden: &[f32],
    grad: &mut [f32],
    noise: &[u32],
    alpha: f32,
) {
    let Some((_, outputs)) = shared.negatives else {
        return;
    };
    for (k, &word) in noise.iter().enumerate().filter(|&(_, &w)| w != SKIPPED) {
        // SAFETY: one row of this matrix at a time in this thread.
        let out = unsafe { outputs.row(word as usize) };
        let label = if k == 0 { 1.0 } else { 0.0 };
        output_step::<FMA>(hidden, out, label, alpha, grad, shared.sigmoid);
    }
}

/// The skip-gram negative-sampling update for one (centre, context) pair, as training runs
/// it (AVX2 + FMA where the CPU has them), on plain matrices: `input` is the context word's
/// input vector, `outputs` the output matrix (rows of `input.len()`), `targets[0]` the centre
/// word and the rest noise words; `grad` is scratch of `input.len()`. Exposed for
/// benchmarks.
///
/// ```
/// let dim = 4;
/// let mut input = vec![0.1f32; dim];
/// let mut outputs = vec![0.0f32; 3 * dim];
/// let mut grad = vec![0.0f32; dim];
/// transfer_word2vec::skip_gram_negative_update(&mut input, &mut outputs, &[0, 2], 0.025, &mut grad);
/// assert!(outputs[0] > 0.0 && outputs[2 * dim] < 0.0 && outputs[dim] == 0.0);
/// ```
pub fn skip_gram_negative_update(
    input: &mut [f32],
    outputs: &mut [f32],
    targets: &[u32],
    alpha: f32,
    grad: &mut [f32],
) {
    thread_local! {
        static SIGMOID: Sigmoid = Sigmoid::new();
    }
    SIGMOID.with(|sigmoid| {
        #[cfg(target_arch = "x86_64")]
        if has_fma() {
            // SAFETY: the CPU has AVX2 and FMA.
            unsafe { pair_update_fma(input, outputs, targets, alpha, grad, sigmoid) };
            return;
        }
        pair_update::<false>(input, outputs, targets, alpha, grad, sigmoid);
    });
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn pair_update_fma(
    input: &mut [f32],
    outputs: &mut [f32],
    targets: &[u32],
    alpha: f32,
    grad: &mut [f32],
    sigmoid: &Sigmoid,
) {
    pair_update::<true>(input, outputs, targets, alpha, grad, sigmoid);
}

#[inline(always)]
fn pair_update<const FMA: bool>(
    input: &mut [f32],
    outputs: &mut [f32],
    targets: &[u32],
    alpha: f32,
    grad: &mut [f32],
    sigmoid: &Sigmoid,
) {
    let dim = input.len();
    grad.fill(0.0);
    for (k, &t) in targets.iter().enumerate() {
        let out = &mut outputs[t as usize * dim..(t as usize + 1) * dim];
        let label = if k == 0 { 1.0 } else { 0.0 };
        output_step::<FMA>(input, out, label, alpha, grad, sigmoid);
    }
    axpy::<FMA>(1.0, grad, input);
}
