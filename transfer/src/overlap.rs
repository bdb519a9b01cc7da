//! Keeping the device busy: batches uploaded a chunk ahead of the step that uses them, and
//! each step's loss read one step late.
//!
//! On CUDA, libtorch's host→device copy (what `Tensor::from_data` does) waits for all queued
//! work, and so does every read of a device value. Uploading each batch just before its step
//! and reading each step's loss at once would let the device idle while the host builds the
//! next step. The loops therefore upload a chunk of batches at a time (one wait per chunk)
//! and read each step's result one step late, after the next step is queued.

use std::collections::VecDeque;

use burn::prelude::*;

use crate::error::{Result, TransferError};

/// How many training batches are uploaded at once.
pub(crate) const TRAIN_BATCHES_AHEAD: usize = 32;
/// How many inference batches are uploaded at once (they are larger).
pub(crate) const INFERENCE_BATCHES_AHEAD: usize = 8;

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

/// Calls `read` on each item of `queued` once the item after it has been made: when making an
/// item queues device work, the device has the next batch to run while the host reads one.
pub(crate) fn read_one_behind<T>(queued: impl Iterator<Item = T>, mut read: impl FnMut(T)) {
    let mut before = None;
    for item in queued {
        if let Some(item) = before.replace(item) {
            read(item);
        }
    }
    before.map(read);
}

/// Each step's loss, read after the next step is queued. A loss that is not finite is an
/// error naming its own step.
#[derive(Default)]
pub(crate) struct LaggedLoss {
    queued: Option<QueuedLoss>,
}

struct QueuedLoss {
    loss: Tensor<1>,
    epoch: usize,
    step: usize,
    learning_rate: f64,
}

impl LaggedLoss {
    /// Queues `loss` (detached: no graph is kept) and returns the loss queued before it, as
    /// `(its step, its value)`.
    pub(crate) fn push(
        &mut self,
        loss: Tensor<1>,
        epoch: usize,
        step: usize,
        learning_rate: f64,
    ) -> Result<Option<(usize, f32)>> {
        let queued = QueuedLoss {
            loss: loss.detach(),
            epoch,
            step,
            learning_rate,
        };
        self.queued
            .replace(queued)
            .map(QueuedLoss::read)
            .transpose()
    }

    /// Reads the loss still queued, if any.
    pub(crate) fn flush(&mut self) -> Result<Option<(usize, f32)>> {
        self.queued.take().map(QueuedLoss::read).transpose()
    }
}

impl QueuedLoss {
    fn read(self) -> Result<(usize, f32)> {
        let value = self.loss.into_scalar::<f32>();
        if !value.is_finite() {
            return Err(TransferError::NonFiniteLoss {
                epoch: self.epoch,
                step: self.step,
                value,
                learning_rate: self.learning_rate,
            });
        }
        Ok((self.step, value))
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
    fn items_are_read_once_the_next_is_made() {
        let made = std::cell::Cell::new(0);
        let mut read = Vec::new();
        read_one_behind((0..4).inspect(|&i| made.set(i + 1)), |i| {
            read.push((i, made.get()))
        });
        assert_eq!(read, vec![(0, 2), (1, 3), (2, 4), (3, 4)]);
    }

    #[test]
    fn losses_come_back_one_step_late_and_a_nan_names_its_step() {
        let device = Device::flex();
        let loss = |v: f32| Tensor::<1>::from_floats([v], &device);
        let mut lagged = LaggedLoss::default();
        assert!(lagged.push(loss(0.5), 0, 0, 1e-3).unwrap().is_none());
        assert_eq!(lagged.push(loss(0.25), 0, 1, 1e-3).unwrap(), Some((0, 0.5)));
        assert_eq!(
            lagged.push(loss(f32::NAN), 1, 2, 2e-3).unwrap(),
            Some((1, 0.25))
        );
        match lagged.flush() {
            Err(TransferError::NonFiniteLoss {
                epoch: 1,
                step: 2,
                learning_rate,
                ..
            }) => assert_eq!(learning_rate, 2e-3),
            other => panic!("expected the NaN of step 2, got {other:?}"),
        }
        assert!(lagged.flush().unwrap().is_none());
    }
}
