use std::fmt;
use std::path::{Path, PathBuf};

use crate::client::HubClient;
use crate::error::{HubError, Result};
use crate::id::ModelId;

/// Where a pretrained model is read from: a directory in Hugging Face layout, or a Hub id,
/// found in the user's Hugging Face cache without the network, and downloaded first only
/// when asked ([`downloading`](Self::downloading)).
///
/// ```
/// use transfer_hub::ModelSource;
/// // An existing directory is a directory; anything else that reads as ORG/NAME is a Hub id.
/// assert!(matches!(ModelSource::from("."), ModelSource::Dir(_)));
/// let hub = ModelSource::from("BAAI/bge-small-en-v1.5@main");
/// assert!(matches!(hub, ModelSource::Hub { download: false, .. }));
/// assert_eq!(hub.to_string(), "BAAI/bge-small-en-v1.5@main");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    Dir(PathBuf),
    Hub { id: ModelId, download: bool },
}

impl ModelSource {
    /// A Hub id, resolved from the cache only.
    pub fn hub(id: &str) -> Result<Self> {
        Ok(Self::Hub {
            id: ModelId::parse(id)?,
            download: false,
        })
    }

    /// Downloads a Hub id that the cache lacks (no effect on a directory).
    pub fn downloading(self, download: bool) -> Self {
        match self {
            Self::Hub { id, .. } => Self::Hub { id, download },
            dir => dir,
        }
    }

    /// The model's directory: the directory itself, or the id's snapshot in the cache of
    /// [`HubClient::from_env`] (downloaded there first if it is missing and downloading was
    /// asked for).
    pub fn resolve(&self) -> Result<PathBuf> {
        match self {
            Self::Dir(dir) => Ok(dir.clone()),
            Self::Hub { .. } => self.resolve_with(&HubClient::from_env()),
        }
    }

    /// [`resolve`](Self::resolve) with a given client (its cache, endpoint and token).
    pub fn resolve_with(&self, client: &HubClient) -> Result<PathBuf> {
        let (id, download) = match self {
            Self::Dir(dir) => return Ok(dir.clone()),
            Self::Hub { id, download } => (id, *download),
        };
        match client.cache().snapshot(id) {
            Err(HubError::NotCached { .. }) if download => {
                client.download(id)?;
                client.cache().snapshot(id)
            }
            Err(HubError::NotCached {
                id,
                revision,
                cache,
                missing,
            }) => Err(HubError::NotCached {
                missing: format!("{missing} (and there is no directory {id})"),
                id,
                revision,
                cache,
            }),
            found => found,
        }
    }
}

impl From<&str> for ModelSource {
    /// An existing path is a directory; otherwise text that reads as a Hub id is one; anything
    /// else stays a path, whose absence the loader reports.
    fn from(text: &str) -> Self {
        let path = Path::new(text);
        if path.exists() || path.is_absolute() || text.starts_with('.') {
            return Self::Dir(path.into());
        }
        match ModelId::parse(text) {
            Ok(id) => Self::Hub {
                id,
                download: false,
            },
            Err(_) => Self::Dir(path.into()),
        }
    }
}

impl From<String> for ModelSource {
    fn from(text: String) -> Self {
        Self::from(text.as_str())
    }
}

impl From<&String> for ModelSource {
    fn from(text: &String) -> Self {
        Self::from(text.as_str())
    }
}

impl From<&Path> for ModelSource {
    fn from(path: &Path) -> Self {
        Self::Dir(path.into())
    }
}

impl From<PathBuf> for ModelSource {
    fn from(path: PathBuf) -> Self {
        Self::Dir(path)
    }
}

impl From<&PathBuf> for ModelSource {
    fn from(path: &PathBuf) -> Self {
        Self::Dir(path.clone())
    }
}

impl From<ModelId> for ModelSource {
    fn from(id: ModelId) -> Self {
        Self::Hub {
            id,
            download: false,
        }
    }
}

impl std::str::FromStr for ModelSource {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Self::from(text))
    }
}

impl fmt::Display for ModelSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dir(dir) => write!(f, "{}", dir.display()),
            Self::Hub { id, .. } => write!(f, "{}@{}", id.repo, id.revision),
        }
    }
}
