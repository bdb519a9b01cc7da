//! The producer side of training: reads the corpus once per epoch on the calling thread,
//! maps tokens to vocabulary ids, and sends batches to the workers.

use crate::corpus::Corpus;
use crate::error::{Result, Word2VecError};
use crate::progress::Progress;
use crate::train::Word2VecConfig;
use crate::vocab::Vocabulary;
use crate::worker::{Batch, Shared};
use std::sync::atomic::Ordering;
use std::sync::mpsc::SyncSender;
use std::time::Instant;

/// In-vocabulary words per batch handed to a thread.
const BATCH_WORDS: usize = 10_000;

/// The producer: reads the corpus, maps tokens to ids and sends batches.
pub(crate) struct Feeder<'a> {
    pub config: &'a Word2VecConfig,
    pub vocabulary: &'a Vocabulary,
    pub shared: &'a Shared<'a>,
    pub clock: Instant,
}

impl Feeder<'_> {
    pub(crate) fn feed_all<C: Corpus + ?Sized>(
        &self,
        corpus: &C,
        sender: SyncSender<Batch>,
        report: &mut dyn FnMut(&Progress),
    ) -> Result<u64> {
        let mut tokens = 0;
        for epoch in 1..=self.config.epochs {
            let fed = self.feed_epoch(corpus, &sender, epoch, report)?;
            if fed == 0 {
                return Err(Word2VecError::EmptyCorpus);
            }
            tokens += fed;
        }
        Ok(tokens)
    }

    /// One pass over the corpus in batches of about [`BATCH_WORDS`] in-vocabulary words;
    /// returns the corpus tokens read.
    fn feed_epoch<C: Corpus + ?Sized>(
        &self,
        corpus: &C,
        sender: &SyncSender<Batch>,
        epoch: usize,
        report: &mut dyn FnMut(&Progress),
    ) -> Result<u64> {
        let mut batch = empty_batch();
        let mut tokens = 0;
        let mut send = |batch: Batch| {
            tokens += batch.tokens;
            // Only fails once every worker has panicked; `run` then re-raises the panic.
            let _ = sender.send(batch);
            report(&self.progress(epoch));
        };
        corpus.for_each_sentence(&mut |sentence| {
            batch.tokens += sentence.len() as u64;
            let before = batch.words.len();
            (batch.words).extend(sentence.iter().filter_map(|t| self.vocabulary.id(t)));
            if batch.words.len() > before {
                batch.ends.push(batch.words.len());
            }
            if batch.words.len() >= BATCH_WORDS {
                send(std::mem::replace(&mut batch, empty_batch()));
            }
        })?;
        if batch.tokens > 0 {
            send(batch);
        }
        Ok(tokens)
    }

    pub(crate) fn progress(&self, epoch: usize) -> Progress {
        let words_done = self.shared.started.load(Ordering::Relaxed);
        Progress {
            epoch,
            epochs: self.config.epochs,
            words_done,
            words_total: self.shared.schedule.total,
            tokens_done: self.shared.finished_tokens.load(Ordering::Relaxed),
            seconds: self.clock.elapsed().as_secs_f64(),
            alpha: self.shared.schedule.at(words_done),
        }
    }
}

fn empty_batch() -> Batch {
    Batch {
        words: Vec::with_capacity(BATCH_WORDS + 1024),
        ends: Vec::new(),
        tokens: 0,
    }
}
