use indicatif::{ProgressBar, ProgressStyle};

/// Where training stands; the progress callback gets one after each batch of about 10,000
/// words is handed to the threads, and one at the end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// The epoch being read, from 1.
    pub epoch: usize,
    pub epochs: usize,
    /// In-vocabulary words handed to the threads: the learning rate's clock.
    pub words_done: u64,
    /// `epochs × vocabulary.total_words()`.
    pub words_total: u64,
    /// Corpus tokens (out-of-vocabulary ones included) in finished batches.
    pub tokens_done: u64,
    /// Seconds since training started.
    pub seconds: f64,
    /// The current learning rate.
    pub alpha: f32,
}

impl Progress {
    /// The fraction of training done, 0 to 1.
    pub fn fraction(&self) -> f64 {
        self.words_done as f64 / self.words_total.max(1) as f64
    }

    /// Corpus tokens trained per second so far.
    pub fn words_per_second(&self) -> f64 {
        self.tokens_done as f64 / self.seconds.max(1e-9)
    }
}

/// A bar on stderr showing the words done, words/s and the learning rate (what
/// `Word2VecConfig { progress: true, .. }` draws).
pub(crate) struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub(crate) fn new(words_total: u64) -> Self {
        let bar = ProgressBar::new(words_total);
        let style = ProgressStyle::with_template(
            "word2vec {bar:30} {percent:>3}% epoch {prefix} {msg} ({elapsed} / ~{duration})",
        )
        .expect("a valid template");
        bar.set_style(style);
        Self { bar }
    }

    pub(crate) fn update(&self, p: &Progress) {
        self.bar.set_position(p.words_done);
        self.bar.set_prefix(format!("{}/{}", p.epoch, p.epochs));
        let rate = p.words_per_second();
        self.bar
            .set_message(format!("{rate:.0} words/s, alpha {:.6}", p.alpha));
    }

    pub(crate) fn finish(&self) {
        self.bar.finish();
    }
}
