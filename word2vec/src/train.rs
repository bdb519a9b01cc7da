use crate::corpus::Corpus;
use crate::error::{Result, Word2VecError};
use crate::feed::Feeder;
use crate::huffman::Huffman;
use crate::kernel::Sigmoid;
use crate::model::Word2Vec;
use crate::progress::{Bar, Progress};
use crate::rng::SplitMix64;
use crate::sampling::{NegativeTable, keep_thresholds};
use crate::shared::HogwildMatrix;
use crate::vocab::Vocabulary;
use crate::worker::{Batch, Schedule, Shared, Worker};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::sync_channel;
use std::time::Instant;

/// Which word2vec model to train.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// Each context word predicts the centre word (gensim's `sg=1`).
    #[default]
    SkipGram,
    /// The mean of the context words' vectors predicts the centre word (`sg=0`,
    /// `cbow_mean=1`).
    Cbow,
}

/// How to train. The defaults are gensim 4's, skip-gram aside (gensim defaults to CBOW),
/// including `alpha` 0.025 for both models (the C tool uses 0.05 for CBOW: set it).
///
/// ```
/// use transfer_word2vec::{Architecture, Word2VecConfig};
/// let config = Word2VecConfig { model: Architecture::Cbow, alpha: 0.05, ..Default::default() };
/// assert_eq!((config.dim, config.window, config.negative, config.epochs), (100, 5, 5, 5));
/// config.validate()?;
/// # Ok::<(), transfer_word2vec::Word2VecError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Word2VecConfig {
    pub model: Architecture,
    /// Vector size.
    pub dim: usize,
    /// The largest distance to a context word; each centre word draws its own reach in
    /// `1..=window` (the "dynamic window").
    pub window: usize,
    /// Words seen fewer times are dropped (used by [`Word2Vec::fit`]).
    pub min_count: u64,
    /// Noise words per prediction (negative sampling); 0 turns it off.
    pub negative: usize,
    /// Hierarchical softmax over a Huffman tree.
    pub hs: bool,
    /// The frequent-word subsampling threshold; 0 turns it off.
    pub sample: f64,
    /// The learning rate at the start, falling linearly to `min_alpha` over all epochs.
    pub alpha: f32,
    pub min_alpha: f32,
    pub epochs: usize,
    /// Training threads (lock-free). With 1, training is reproducible bit for bit on a
    /// given machine.
    pub threads: usize,
    pub seed: u64,
    /// Draw a progress bar on stderr (words/s, learning rate).
    pub progress: bool,
}

impl Default for Word2VecConfig {
    fn default() -> Self {
        Self {
            model: Architecture::SkipGram,
            dim: 100,
            window: 5,
            min_count: 5,
            negative: 5,
            hs: false,
            sample: 1e-3,
            alpha: 0.025,
            min_alpha: 0.0001,
            epochs: 5,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            seed: 1,
            progress: false,
        }
    }
}

impl Word2VecConfig {
    /// Checks every setting; the error names the field and its value.
    pub fn validate(&self) -> Result<()> {
        if self.dim == 0 {
            return Err(Word2VecError::bad("dim", self.dim, "must be at least 1"));
        }
        if self.window == 0 {
            return Err(Word2VecError::bad(
                "window",
                self.window,
                "must be at least 1",
            ));
        }
        if self.negative == 0 && !self.hs {
            let why = "must be at least 1 when hs is false: there would be no output layer";
            return Err(Word2VecError::bad("negative", self.negative, why));
        }
        if self.epochs == 0 {
            return Err(Word2VecError::bad(
                "epochs",
                self.epochs,
                "must be at least 1",
            ));
        }
        if !(self.sample >= 0.0 && self.sample.is_finite()) {
            return Err(Word2VecError::bad(
                "sample",
                self.sample,
                "must be finite and 0 or more",
            ));
        }
        if !(self.alpha > 0.0 && self.alpha.is_finite()) {
            return Err(Word2VecError::bad(
                "alpha",
                self.alpha,
                "must be finite and above 0",
            ));
        }
        if !(self.min_alpha >= 0.0 && self.min_alpha <= self.alpha) {
            return Err(Word2VecError::bad(
                "min_alpha",
                self.min_alpha,
                "must be 0 or more and at most alpha",
            ));
        }
        if self.threads == 0 {
            return Err(Word2VecError::bad(
                "threads",
                self.threads,
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

/// How training went. `words_per_second` is `words_processed / seconds`, where
/// `words_processed` counts every corpus token of every epoch (out-of-vocabulary and
/// subsampled words included: corpus tokens × epochs), as the reference figures do, not
/// gensim's "effective words".
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    pub words_processed: u64,
    pub seconds: f64,
    pub words_per_second: f64,
}

impl Word2Vec {
    /// Builds the vocabulary from one pass over `corpus` (with `config.min_count`), then
    /// trains on it: [`Vocabulary::from_corpus`] + [`Word2Vec::train`].
    pub fn fit<C: Corpus + ?Sized>(config: &Word2VecConfig, corpus: &C) -> Result<Self> {
        config.validate()?;
        let vocabulary = Vocabulary::from_corpus(corpus, config.min_count)?;
        Self::train(config, vocabulary, corpus)
    }

    /// Trains vectors for `vocabulary`'s words on `corpus`, streamed once per epoch; words
    /// outside the vocabulary are skipped. Errors: a bad setting, an empty corpus, the
    /// corpus's read errors.
    pub fn train<C: Corpus + ?Sized>(
        config: &Word2VecConfig,
        vocabulary: Vocabulary,
        corpus: &C,
    ) -> Result<Self> {
        Self::train_with_progress(config, vocabulary, corpus, &mut |_| {})
    }

    /// [`Word2Vec::train`], calling `on_progress` after each batch (on this thread).
    ///
    /// ```
    /// use transfer_word2vec::{Vocabulary, Word2Vec, Word2VecConfig};
    /// let corpus = vec![vec!["a", "b", "c"]; 50];
    /// let vocab = Vocabulary::build(&corpus, 1)?;
    /// let config = Word2VecConfig { dim: 8, threads: 1, ..Default::default() };
    /// let mut last = None;
    /// let model = Word2Vec::train_with_progress(&config, vocab, &corpus, &mut |p| last = Some(*p))?;
    /// assert_eq!(last.unwrap().words_done, 5 * 150);
    /// assert_eq!(model.report.words_processed, 5 * 150);
    /// # Ok::<(), transfer_word2vec::Word2VecError>(())
    /// ```
    pub fn train_with_progress<C: Corpus + ?Sized>(
        config: &Word2VecConfig,
        vocabulary: Vocabulary,
        corpus: &C,
        on_progress: &mut dyn FnMut(&Progress),
    ) -> Result<Self> {
        config.validate()?;
        let clock = Instant::now();
        let bar = config
            .progress
            .then(|| Bar::new(words_total(config, &vocabulary)));
        let mut report = |p: &Progress| {
            bar.iter().for_each(|b| b.update(p));
            on_progress(p);
        };
        let mut seeds = SplitMix64::new(config.seed);
        let input = initial_input(vocabulary.len(), config.dim, seeds.next_u64());
        let model = Model::new(config, &vocabulary, input);
        let worker_seeds: Vec<u64> = (0..config.threads).map(|_| seeds.next_u64()).collect();
        let tokens = model.run(
            config,
            &vocabulary,
            corpus,
            &worker_seeds,
            clock,
            &mut report,
        )?;
        bar.iter().for_each(Bar::finish);
        let seconds = clock.elapsed().as_secs_f64();
        Ok(Word2Vec {
            vectors: model.input.into_vec(),
            dim: config.dim,
            vocabulary,
            report: TrainReport {
                words_processed: tokens,
                seconds,
                words_per_second: tokens as f64 / seconds.max(1e-9),
            },
        })
    }
}

fn words_total(config: &Word2VecConfig, vocabulary: &Vocabulary) -> u64 {
    config.epochs as u64 * vocabulary.total_words()
}

/// Input vectors drawn uniformly from `[-0.5 / dim, 0.5 / dim)`.
fn initial_input(words: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    let scale = 1.0 / dim as f32;
    (0..words * dim)
        .map(|_| (rng.unit_f32() - 0.5) * scale)
        .collect()
}

/// The matrices and tables training shares between threads.
struct Model {
    input: HogwildMatrix,
    softmax: Option<(Huffman, HogwildMatrix)>,
    negatives: Option<(NegativeTable, HogwildMatrix)>,
    keep: Vec<u64>,
    sigmoid: Sigmoid,
    started: AtomicU64,
    finished_tokens: AtomicU64,
}

impl Model {
    fn new(config: &Word2VecConfig, vocabulary: &Vocabulary, input: Vec<f32>) -> Self {
        let (counts, dim) = (vocabulary.counts(), config.dim);
        let softmax = config.hs.then(|| {
            let tree = Huffman::new(counts);
            let nodes = HogwildMatrix::new(vec![0.0; tree.inner_nodes() * dim], dim);
            (tree, nodes)
        });
        let negatives = (config.negative > 0).then(|| {
            let outputs = HogwildMatrix::new(vec![0.0; counts.len() * dim], dim);
            (NegativeTable::new(counts), outputs)
        });
        Self {
            input: HogwildMatrix::new(input, dim),
            softmax,
            negatives,
            keep: keep_thresholds(counts, config.sample),
            sigmoid: Sigmoid::new(),
            started: AtomicU64::new(0),
            finished_tokens: AtomicU64::new(0),
        }
    }

    fn shared(&self, config: &Word2VecConfig, vocabulary: &Vocabulary) -> Shared<'_> {
        Shared {
            input: &self.input,
            softmax: self.softmax.as_ref().map(|(t, m)| (t, m)),
            negatives: self.negatives.as_ref().map(|(t, m)| (t, m)),
            negative: config.negative,
            keep: &self.keep,
            sigmoid: &self.sigmoid,
            schedule: Schedule {
                alpha: f64::from(config.alpha),
                min_alpha: f64::from(config.min_alpha),
                total: words_total(config, vocabulary),
            },
            window: u32::try_from(config.window).unwrap_or(u32::MAX),
            architecture: config.model,
            dim: config.dim,
            started: &self.started,
            finished_tokens: &self.finished_tokens,
        }
    }

    /// Starts one worker per seed, feeds them every epoch from this thread, and waits for
    /// them; returns the corpus tokens fed.
    fn run<C: Corpus + ?Sized>(
        &self,
        config: &Word2VecConfig,
        vocabulary: &Vocabulary,
        corpus: &C,
        seeds: &[u64],
        clock: Instant,
        report: &mut dyn FnMut(&Progress),
    ) -> Result<u64> {
        let shared = self.shared(config, vocabulary);
        let (sender, receiver) = sync_channel::<Batch>(2 * seeds.len());
        let receiver = Mutex::new(receiver);
        std::thread::scope(|scope| {
            let workers: Vec<_> = (seeds.iter())
                .map(|&seed| {
                    let (shared, receiver) = (&shared, &receiver);
                    scope.spawn(move || Worker::new(seed, shared.dim).run(shared, receiver))
                })
                .collect();
            let feeder = Feeder {
                config,
                vocabulary,
                shared: &shared,
                clock,
            };
            let fed = feeder.feed_all(corpus, sender, report);
            for worker in workers {
                if let Err(panic) = worker.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            let p = feeder.progress(config.epochs);
            report(&p);
            fed
        })
    }
}
