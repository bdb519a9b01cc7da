//! Keeping the device busy: batches uploaded a chunk ahead of the steps that use them, and
//! results read back a chunk at a time.
//!
//! On CUDA, libtorch's host→device copy (what `Tensor::from_data` does) waits for all queued
//! work, and so does every read of a device value: the device runs a stream's work in order,
//! so a read queued after step k's kernels returns only once step k has run, whichever earlier
//! value it reads. Each wait leaves the device idle while the host builds the next step. The
//! loops therefore upload a chunk of batches at a time and read their results (losses,
//! outputs) a chunk at a time, so that the host runs up to a chunk ahead of the device and
//! the device waits for the host once per chunk, not once per step.

use std::collections::VecDeque;
use std::sync::OnceLock;

use burn::prelude::*;

use crate::error::{Result, TransferError};

/// How many training batches are uploaded at once.
pub(crate) const TRAIN_BATCHES_AHEAD: usize = 32;
/// How many inference batches are uploaded, and their outputs read, at once (they are larger).
pub(crate) const INFERENCE_BATCHES_AHEAD: usize = 8;

/// How many training steps or inference batches are queued between two reads of their
/// results: `TRANSFER_READ_EVERY` in the environment (`1`: a wait for the device after every
/// step and batch, as the loops did before, to compare), else `default`.
pub(crate) fn reads_every(default: usize) -> usize {
    static EVERY: OnceLock<Option<usize>> = OnceLock::new();
    EVERY
        .get_or_init(|| {
            std::env::var("TRANSFER_READ_EVERY")
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|&n| n >= 1)
        })
        .unwrap_or(default)
}

/// An iterator over `upload(item)`, calling `upload` for `ahead` items at a time.
pub(crate) struct ReadAhead<I: Iterator, F, T> {
    items: I,
    upload: F,
    ready: VecDeque<T>,
    ahead: usize,
}

/// Maps `items` through `upload`, `ahead` at a time.
pub(crate) fn read_ahead<I, F, T>(items: I, ahead: usize, upload: F) -> ReadAhead<I::IntoIter, F, T>
where
    I: IntoIterator,
    F: FnMut(I::Item) -> T,
{
    ReadAhead {
        items: items.into_iter(),
        upload,
        ready: VecDeque::with_capacity(ahead.max(1)),
        ahead: ahead.max(1),
    }
}

impl<I, F, T> Iterator for ReadAhead<I, F, T>
where
    I: Iterator,
    F: FnMut(I::Item) -> T,
{
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.ready.is_empty() {
            let chunk = self.items.by_ref().take(self.ahead).map(&mut self.upload);
            self.ready.extend(chunk);
        }
        self.ready.pop_front()
    }
}

/// Makes `chunk` items of `queued` (each queues device work), then calls `read` on each of
/// them in order, and so on: one wait for the device per chunk.
pub(crate) fn read_in_chunks<T>(
    queued: impl Iterator<Item = T>,
    chunk: usize,
    mut read: impl FnMut(T),
) {
    let mut queued = queued.peekable();
    while queued.peek().is_some() {
        let made: Vec<T> = queued.by_ref().take(chunk.max(1)).collect();
        made.into_iter().for_each(&mut read);
    }
}

/// [`read_in_chunks`] of [`INFERENCE_BATCHES_AHEAD`] batches (see [`reads_every`]).
pub(crate) fn read_inference_outputs<T>(queued: impl Iterator<Item = T>, read: impl FnMut(T)) {
    read_in_chunks(queued, reads_every(INFERENCE_BATCHES_AHEAD), read);
}

/// Training steps' losses, kept on the device and read [`TRAIN_BATCHES_AHEAD`] steps at a time
/// (see [`reads_every`]), so that each read falls just before the next chunk's upload and
/// the two share one wait. A loss that is not finite is an error naming its own step.
pub(crate) struct QueuedLosses {
    queued: Vec<QueuedLoss>,
    read_every: usize,
}

struct QueuedLoss {
    loss: Tensor<1>,
    epoch: usize,
    step: usize,
    learning_rate: f64,
}

impl Default for QueuedLosses {
    fn default() -> Self {
        Self::reading_every(reads_every(TRAIN_BATCHES_AHEAD))
    }
}

impl QueuedLosses {
    /// Losses read once `read_every` are queued.
    pub(crate) fn reading_every(read_every: usize) -> Self {
        Self {
            queued: Vec::new(),
            read_every: read_every.max(1),
        }
    }

    /// Queues `loss` (detached: no graph is kept); once `read_every` losses are queued, reads
    /// them all and returns them in order as `(step, value)`, else returns none.
    pub(crate) fn push(
        &mut self,
        loss: Tensor<1>,
        epoch: usize,
        step: usize,
        learning_rate: f64,
    ) -> Result<Vec<(usize, f32)>> {
        self.queued.push(QueuedLoss {
            loss: loss.detach(),
            epoch,
            step,
            learning_rate,
        });
        if self.queued.len() < self.read_every {
            return Ok(Vec::new());
        }
        self.flush()
    }

    /// Reads the losses still queued, in one copy from the device.
    pub(crate) fn flush(&mut self) -> Result<Vec<(usize, f32)>> {
        let queued = std::mem::take(&mut self.queued);
        if queued.is_empty() {
            return Ok(Vec::new());
        }
        let losses: Vec<Tensor<1>> = queued.iter().map(|q| q.loss.clone()).collect();
        let values: Vec<f32> = Tensor::cat(losses, 0)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("converted to f32");
        queued
            .into_iter()
            .zip(values)
            .map(|(q, value)| {
                if value.is_finite() {
                    Ok((q.step, value))
                } else {
                    Err(TransferError::NonFiniteLoss {
                        epoch: q.epoch,
                        step: q.step,
                        value,
                        learning_rate: q.learning_rate,
                    })
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_a_chunk_at_a_time_and_keeps_the_order() {
        let calls = std::cell::RefCell::new(Vec::new());
        let mut seen = Vec::new();
        for value in read_ahead(0..7, 3, |i| {
            calls.borrow_mut().push(i);
            i * 10
        }) {
            // When item i arrives, its whole chunk of 3 has been uploaded, and no more.
            let i = value / 10;
            assert_eq!(calls.borrow().len(), ((i / 3 + 1) * 3).min(7));
            seen.push(value);
        }
        assert_eq!(seen, vec![0, 10, 20, 30, 40, 50, 60]);
        assert_eq!(*calls.borrow(), (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn items_are_read_a_chunk_at_a_time_in_order() {
        let made = std::cell::Cell::new(0);
        let mut read = Vec::new();
        read_in_chunks((0..5).inspect(|&i| made.set(i + 1)), 2, |i| {
            read.push((i, made.get()))
        });
        // Items 0 and 1 are read once both are made, 2 and 3 once those are, then 4.
        assert_eq!(read, vec![(0, 2), (1, 2), (2, 4), (3, 4), (4, 5)]);
    }

    #[test]
    fn losses_are_read_every_few_steps_and_a_nan_names_its_step() {
        let device = Device::flex();
        let loss = |v: f32| Tensor::<1>::from_floats([v], &device);
        let mut queued = QueuedLosses::reading_every(2);
        assert!(queued.push(loss(0.5), 0, 0, 1e-3).unwrap().is_empty());
        assert_eq!(
            queued.push(loss(0.25), 0, 1, 1e-3).unwrap(),
            vec![(0, 0.5), (1, 0.25)]
        );
        assert!(queued.push(loss(f32::NAN), 1, 2, 2e-3).unwrap().is_empty());
        match queued.push(loss(0.125), 1, 3, 3e-3) {
            Err(TransferError::NonFiniteLoss {
                epoch: 1,
                step: 2,
                learning_rate,
                ..
            }) => assert_eq!(learning_rate, 2e-3),
            other => panic!("expected the NaN of step 2, got {other:?}"),
        }
        assert!(queued.flush().unwrap().is_empty());
        assert!(queued.push(loss(1.0), 1, 4, 1e-3).unwrap().is_empty());
        assert_eq!(queued.flush().unwrap(), vec![(4, 1.0)]);
    }
}
