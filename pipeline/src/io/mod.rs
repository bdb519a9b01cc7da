//! Files: a pipeline's save and load, atomic writes, Hugging Face checkpoints, the asset
//! directory.

pub mod assets;
mod atomic;
pub mod hf;
mod save_load;

pub(crate) use atomic::sync_dir;
pub use atomic::write_atomic;
pub(crate) use save_load::save_through;
pub use save_load::{FORMAT, MANIFEST, check_weights_size, load_weights, save_weights};
