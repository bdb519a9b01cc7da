//! Pretrained models by name. A model is a directory in Hugging Face layout or a Hub id
//! (`ORG/NAME[@REVISION]`): [`ModelSource`] finds an id in the user's Hugging Face cache
//! ([`HubCache`], the layout `huggingface_hub` writes, so a cache made by Python is reused
//! as it is) without the network, and [`HubClient`] downloads it into that cache from the
//! Hub's HTTP API (resumable, each file checked against the hash the Hub reports, a token
//! from `HF_TOKEN` for gated models).
//!
//! ```no_run
//! use transfer_hub::ModelSource;
//! let dir = ModelSource::from("sentence-transformers/all-MiniLM-L6-v2")
//!     .downloading(true) // only from the cache without this
//!     .resolve()?;
//! assert!(dir.join("config.json").is_file());
//! # Ok::<(), transfer_hub::HubError>(())
//! ```

mod cache;
mod client;
pub mod download;
mod error;
pub mod files;
mod id;
mod source;

pub use cache::HubCache;
pub use client::{
    BarFactory, HubClient, LfsFile, RepoFile, Snapshot, SnapshotFile, token_from_env,
};
pub use error::{HubError, Result};
pub use id::ModelId;
pub use source::ModelSource;
