//! Keeps freed tensor buffers in the process heap for reuse.
//!
//! glibc's `malloc` serves blocks above its mmap threshold (at most 32 MiB by default) with
//! fresh `mmap`s and unmaps them on `free`. The pure-Rust backend allocates a new buffer for
//! most tensor operations, and MiniLM's training step at batch 32 × 256 has many of 25–100 MiB,
//! so each step faults in and zeroes those pages again: a third of the step at 256 tokens.
//! [`keep_freed_memory`] raises the mmap and trim thresholds so that such blocks come from, and
//! return to, the heap. Measured on 2 cores (flex, `transfer speed`, same binary with and
//! without): MiniLM training at batch 32 × 256 went from 2.5 to 3.7 examples/s, at 32 × 128
//! from 7.4 to 8.1, inference +3–5 %; peak RSS +80 MB on 1.7–3.8 GB, and `transfer predict`
//! 206 → 209 MB. The `transfer` CLI and the examples call it first; in your own binary call
//! it before the first tensor, or set
//! `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=2147483647:glibc.malloc.trim_threshold=2147483647`.
//!
//! What it keeps stays in the process until [`release_freed_memory`] hands it back, which a
//! program that runs several models in turn (the study runner, between cells) calls between
//! them, so one's leftovers do not add to the next one's peak.
//!
//! ```
//! // true on glibc (Linux), false where there is nothing to tune.
//! let tuned = transfer_pipeline::runtime::allocator::keep_freed_memory();
//! assert_eq!(tuned, cfg!(all(target_os = "linux", target_env = "gnu")));
//! let released = transfer_pipeline::runtime::allocator::release_freed_memory();
//! assert_eq!(released, tuned);
//! ```

/// Raises glibc's mmap and trim thresholds to 2 GiB; returns whether both were set (false on
/// other C libraries and platforms, where it does nothing).
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::raw::c_int;
        unsafe extern "C" {
            fn mallopt(param: c_int, value: c_int) -> c_int;
        }
        const M_TRIM_THRESHOLD: c_int = -1;
        const M_MMAP_THRESHOLD: c_int = -3;
        // SAFETY: mallopt only changes allocator parameters; glibc documents both.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, c_int::MAX) == 1 && mallopt(M_TRIM_THRESHOLD, c_int::MAX) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Returns the heap's free memory to the operating system (glibc's `malloc_trim(0)`); true on
/// glibc, where it always runs, false elsewhere (it does nothing). Costs a pass over the heap:
/// call it between models, not between steps.
pub fn release_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::raw::c_int;
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> c_int;
        }
        // SAFETY: malloc_trim only releases free heap pages; glibc documents it.
        unsafe { malloc_trim(0) };
        true
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
