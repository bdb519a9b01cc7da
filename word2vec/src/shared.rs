use std::cell::UnsafeCell;

/// A row-major matrix that the training threads read and update at the same time without
/// locks ("Hogwild!", Niu et al. 2011), as word2vec has always been trained.
pub(crate) struct HogwildMatrix {
    cells: Box<[UnsafeCell<f32>]>,
    dim: usize,
}

// SAFETY: sharing is what this type is for, and it is a deliberate departure from Rust's
// rules: two threads may update the same row at once, which the Rust memory model calls a
// data race and so undefined behaviour. We accept it as word2vec's C tool and gensim do,
// for speed (a lock or atomic per element would forbid the vectorised loops): the rows are
// plain, aligned f32s, which x86-64 and AArch64 load and store whole, so in practice a race
// only makes one thread read a slightly stale value or overwrite another's update of the
// same few floats, and stochastic gradient descent absorbs that noise. Nothing here keeps
// pointers, lengths or other invariants inside the shared memory: every row's bounds are
// checked against `cells`, which outlives every borrow of it (`row` borrows `self`), so
// a race can only change numbers, never reach memory outside the matrix. With one thread
// there is no race and training is deterministic.
unsafe impl Sync for HogwildMatrix {}

impl HogwildMatrix {
    pub(crate) fn new(values: Vec<f32>, dim: usize) -> Self {
        assert!(dim > 0 && values.len().is_multiple_of(dim));
        Self {
            cells: values.into_iter().map(UnsafeCell::new).collect(),
            dim,
        }
    }

    /// Row `i`, to read and write.
    ///
    /// # Safety
    /// Within one thread, no two rows borrowed from the same matrix may be the same row
    /// while both are in use; other threads may touch it concurrently (see the note on
    /// `Sync` above).
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn row(&self, i: usize) -> &mut [f32] {
        let cells = &self.cells[i * self.dim..(i + 1) * self.dim];
        // SAFETY: `UnsafeCell<f32>` has the layout of `f32`, the range is in bounds, and
        // interior mutability through `UnsafeCell` makes writing through it allowed; the
        // aliasing contract is the caller's (above).
        unsafe { std::slice::from_raw_parts_mut(UnsafeCell::raw_get(cells.as_ptr()), self.dim) }
    }

    pub(crate) fn into_vec(self) -> Vec<f32> {
        self.cells.into_iter().map(UnsafeCell::into_inner).collect()
    }
}
