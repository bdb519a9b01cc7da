//! The asset directory: IMDB, pretrained models, word vectors, golden outputs.

use std::path::PathBuf;

use crate::error::{Result, TransferError};

/// The asset directory: `$TRANSFER_ASSETS` when set (cargo sets it to `../shared` for
/// commands run in this workspace, `.cargo/config.toml`), else [`default_asset_dir`], which
/// `transfer fetch` fills. A `TRANSFER_ASSETS` that is not a directory is an error.
pub fn asset_dir() -> Result<PathBuf> {
    let Some(dir) = std::env::var_os("TRANSFER_ASSETS").filter(|d| !d.is_empty()) else {
        return Ok(default_asset_dir());
    };
    let dir = PathBuf::from(dir);
    if !dir.is_dir() {
        return Err(TransferError::InvalidConfig {
            field: "TRANSFER_ASSETS",
            message: format!(
                "{} is not a directory: point it at the asset directory (data/, models/, vectors/), \
                 or unset it to use {}",
                dir.display(),
                default_asset_dir().display()
            ),
        });
    }
    Ok(dir)
}

/// `transfer-nlp/` under the user's cache directory: `$XDG_CACHE_HOME` or `~/.cache` on
/// Linux, `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows.
pub fn default_asset_dir() -> PathBuf {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let home = || {
        var("HOME")
            .or_else(|| var("USERPROFILE"))
            .unwrap_or_default()
    };
    let cache = if cfg!(target_os = "macos") {
        home().join("Library/Caches")
    } else if cfg!(windows) {
        var("LOCALAPPDATA").unwrap_or_else(|| home().join("AppData/Local"))
    } else {
        var("XDG_CACHE_HOME").unwrap_or_else(|| home().join(".cache"))
    };
    cache.join("transfer-nlp")
}

/// `relative` under the asset directory; a missing one is [`TransferError::MissingAsset`],
/// naming the path and the `transfer fetch` command that fetches it.
///
/// ```
/// # unsafe { std::env::set_var("TRANSFER_ASSETS", std::env::temp_dir()) };
/// let err = transfer_pipeline::io::assets::asset("data/no-such-file.tar.gz").unwrap_err();
/// assert!(err.to_string().contains("transfer fetch"));
/// ```
pub fn asset(relative: &str) -> Result<PathBuf> {
    let path = asset_dir()?.join(relative);
    if path.exists() {
        return Ok(path);
    }
    Err(TransferError::MissingAsset {
        path,
        fetch: fetch_command(relative),
    })
}

/// The command that fetches an asset.
fn fetch_command(relative: &str) -> String {
    let only = [
        ("data/aclImdb", "imdb"),
        ("vectors/glove", "glove"),
        ("models/all-MiniLM-L6-v2", "minilm"),
    ]
    .into_iter()
    .find(|(prefix, _)| relative.starts_with(prefix))
    .map(|(_, name)| format!(" --only {name}"))
    .unwrap_or_default();
    format!("transfer fetch{only}")
}
