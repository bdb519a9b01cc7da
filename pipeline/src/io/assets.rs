use std::path::PathBuf;

use crate::error::{Result, TransferError};

/// The asset directory (IMDB, pretrained models, word vectors, golden outputs): the
/// `TRANSFER_ASSETS` environment variable. Cargo sets it to `../shared` for commands run in
/// this workspace (`.cargo/config.toml`).
pub fn asset_dir() -> Result<PathBuf> {
    let dir = std::env::var_os("TRANSFER_ASSETS").ok_or_else(|| TransferError::InvalidConfig {
        field: "TRANSFER_ASSETS",
        message: "not set: point it at the asset directory (data/, models/, vectors/)".into(),
    })?;
    let dir = PathBuf::from(dir);
    if !dir.is_dir() {
        return Err(TransferError::io(
            &dir,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "TRANSFER_ASSETS is not a directory",
            ),
        ));
    }
    Ok(dir)
}
