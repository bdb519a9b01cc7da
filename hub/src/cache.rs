use std::path::{Path, PathBuf};

use crate::error::{HubError, Result};
use crate::files;
use crate::id::{ModelId, is_commit};

/// A Hugging Face Hub cache, the layout `huggingface_hub` writes and reads:
/// `models--ORG--NAME/refs/REVISION` holds a commit hash, `snapshots/COMMIT/FILE` links to
/// `blobs/HASH` (the file's SHA-256 for LFS files, its git blob id otherwise).
///
/// ```
/// use transfer_hub::{HubCache, ModelId};
/// let cache = HubCache::new("/tmp/no-such-hub-cache");
/// let err = cache.snapshot(&ModelId::parse("org/model")?).unwrap_err();
/// assert!(err.to_string().contains("transfer fetch --hub org/model@main"));
/// # Ok::<(), transfer_hub::HubError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubCache {
    root: PathBuf,
}

impl HubCache {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The cache `huggingface_hub` uses: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
    /// `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
    pub fn from_env() -> Self {
        if let Some(dir) = env_path("HF_HUB_CACHE") {
            return Self::new(dir);
        }
        Self::new(hf_home().join("hub"))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `models--ORG--NAME` under the cache.
    pub fn model_dir(&self, id: &ModelId) -> PathBuf {
        self.root.join(id.cache_folder())
    }

    /// The commit the revision names in this cache: the revision itself when it is a commit
    /// hash, else what `refs/REVISION` holds.
    pub fn commit(&self, id: &ModelId) -> Option<String> {
        if id.is_commit() {
            return Some(id.revision.clone());
        }
        let text = std::fs::read_to_string(self.model_dir(id).join("refs").join(&id.revision));
        text.ok()
            .map(|t| t.trim().to_string())
            .filter(|t| is_commit(t))
    }

    /// The snapshot directory of `id` at its revision, holding every file a model needs
    /// (config, tokenizer, weights: see [`files::missing`]). Nothing here touches the network;
    /// a missing revision or file is [`HubError::NotCached`] naming it and the command that
    /// fetches it.
    pub fn snapshot(&self, id: &ModelId) -> Result<PathBuf> {
        let not_cached = |missing: String| HubError::NotCached {
            id: id.repo.clone(),
            revision: id.revision.clone(),
            cache: self.root.clone(),
            missing,
        };
        let model_dir = self.model_dir(id);
        let Some(commit) = self.commit(id) else {
            return Err(not_cached(format!(
                "no {}",
                model_dir.join("refs").join(&id.revision).display()
            )));
        };
        let dir = model_dir.join("snapshots").join(&commit);
        if !dir.is_dir() {
            return Err(not_cached(format!("no snapshot {}", dir.display())));
        }
        let missing = files::missing(&dir)?;
        if !missing.is_empty() {
            return Err(not_cached(format!(
                "snapshot {commit} lacks {}",
                missing.join(", ")
            )));
        }
        Ok(dir)
    }

    /// Where the file with this hash is stored.
    pub(crate) fn blob(&self, id: &ModelId, hash: &str) -> PathBuf {
        self.model_dir(id).join("blobs").join(hash)
    }

    /// Links `snapshots/COMMIT/FILE` to its blob (a relative symbolic link, as
    /// `huggingface_hub` makes; a copy where links cannot be made).
    pub(crate) fn link(
        &self,
        id: &ModelId,
        commit: &str,
        file: &str,
        hash: &str,
    ) -> Result<PathBuf> {
        let link = self.model_dir(id).join("snapshots").join(commit).join(file);
        let parent = link.parent().expect("a snapshot file has a parent");
        std::fs::create_dir_all(parent).map_err(|e| HubError::io(parent, e))?;
        let up = "../".repeat(2 + file.matches('/').count());
        let target = PathBuf::from(format!("{up}blobs/{hash}"));
        if std::fs::read_link(&link).is_ok_and(|t| t == target) {
            return Ok(link);
        }
        let _ = std::fs::remove_file(&link);
        make_link(&target, &self.blob(id, hash), &link)?;
        Ok(link)
    }

    /// Records that the revision (a branch or tag) is at `commit`, atomically.
    pub(crate) fn write_ref(&self, id: &ModelId, commit: &str) -> Result<()> {
        if id.is_commit() {
            return Ok(());
        }
        let path = self.model_dir(id).join("refs").join(&id.revision);
        let parent = path.parent().expect("a ref has a parent");
        std::fs::create_dir_all(parent).map_err(|e| HubError::io(parent, e))?;
        let temp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&temp, commit).map_err(|e| HubError::io(&temp, e))?;
        std::fs::rename(&temp, &path).map_err(|e| HubError::io(&path, e))
    }
}

#[cfg(unix)]
fn make_link(target: &Path, _blob: &Path, link: &Path) -> Result<()> {
    std::os::unix::fs::symlink(target, link).map_err(|e| HubError::io(link, e))
}

#[cfg(not(unix))]
fn make_link(_target: &Path, blob: &Path, link: &Path) -> Result<()> {
    std::fs::copy(blob, link)
        .map(|_| ())
        .map_err(|e| HubError::io(link, e))
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`.
pub(crate) fn hf_home() -> PathBuf {
    if let Some(dir) = env_path("HF_HOME") {
        return dir;
    }
    let cache = env_path("XDG_CACHE_HOME").unwrap_or_else(|| home().join(".cache"));
    cache.join("huggingface")
}

pub(crate) fn home() -> PathBuf {
    env_path("HOME")
        .or_else(|| env_path("USERPROFILE"))
        .unwrap_or_else(|| PathBuf::from("."))
}
