use std::path::PathBuf;
use std::time::Duration;

use indicatif::ProgressBar;

use crate::cache::{HubCache, hf_home};
use crate::download::{Arrival, Checksum, download};
use crate::error::{HubError, Result};
use crate::files::{self, WEIGHTS, WEIGHTS_INDEX};
use crate::id::ModelId;

/// Makes the progress bar of one file: its length in bytes and its path.
pub type BarFactory = Box<dyn Fn(u64, &str) -> ProgressBar + Send + Sync>;

/// The Hub's HTTP API, writing into a [`HubCache`].
///
/// ```no_run
/// use transfer_hub::{HubClient, ModelId};
/// let snapshot = HubClient::from_env().download(&ModelId::parse("BAAI/bge-small-en-v1.5")?)?;
/// println!("{} files in {}", snapshot.files.len(), snapshot.dir.display());
/// # Ok::<(), transfer_hub::HubError>(())
/// ```
pub struct HubClient {
    endpoint: String,
    token: Option<String>,
    cache: HubCache,
    agent: ureq::Agent,
    bar: BarFactory,
}

/// A model's files in the cache, and how each got there.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Snapshot {
    pub id: String,
    pub revision: String,
    pub commit: String,
    pub dir: PathBuf,
    pub files: Vec<SnapshotFile>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SnapshotFile {
    pub path: String,
    pub bytes: u64,
    pub arrival: Arrival,
}

/// One file of a repository, as the Hub's tree listing gives it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RepoFile {
    #[serde(rename = "type")]
    pub kind: String,
    pub path: String,
    #[serde(default)]
    pub size: u64,
    /// The git blob id.
    #[serde(default)]
    pub oid: String,
    pub lfs: Option<LfsFile>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct LfsFile {
    /// The content's SHA-256.
    pub oid: String,
    pub size: u64,
}

impl RepoFile {
    /// The hash the Hub reports: SHA-256 for LFS files, the git blob id otherwise (also the
    /// name of the file's blob in the cache).
    pub fn checksum(&self) -> Checksum {
        match &self.lfs {
            Some(lfs) => Checksum::Sha256(lfs.oid.clone()),
            None => Checksum::GitBlob(self.oid.clone()),
        }
    }

    fn bytes(&self) -> u64 {
        self.lfs.as_ref().map_or(self.size, |l| l.size)
    }
}

impl HubClient {
    pub fn new(endpoint: impl Into<String>, cache: HubCache) -> Self {
        let agent = ureq::AgentBuilder::new()
            .user_agent(concat!("transfer-nlp/", env!("CARGO_PKG_VERSION")))
            .redirect_auth_headers(ureq::RedirectAuthHeaders::SameHost)
            .timeout_connect(Duration::from_secs(30))
            .timeout_read(Duration::from_secs(60))
            .try_proxy_from_env(true)
            .build();
        Self {
            endpoint: endpoint.into().trim_end_matches('/').to_string(),
            token: None,
            cache,
            agent,
            bar: Box::new(|_, _| ProgressBar::hidden()),
        }
    }

    /// `$HF_ENDPOINT` (default `https://huggingface.co`), the cache of [`HubCache::from_env`]
    /// and the token of [`token_from_env`].
    pub fn from_env() -> Self {
        let endpoint = std::env::var("HF_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| "https://huggingface.co".into());
        Self::new(endpoint, HubCache::from_env()).with_token(token_from_env())
    }

    /// The token sent to the Hub (gated and private models), never to the hosts it redirects to.
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.token = token.filter(|t| !t.is_empty());
        self
    }

    /// A progress bar for each file (hidden by default).
    pub fn with_progress(mut self, bar: BarFactory) -> Self {
        self.bar = bar;
        self
    }

    pub fn cache(&self) -> &HubCache {
        &self.cache
    }

    fn authorization(&self) -> Option<String> {
        self.token.as_ref().map(|t| format!("Bearer {t}"))
    }

    /// How a status other than success reads for `id`.
    fn status_error(&self, id: &ModelId, code: u16, url: &str, what: &str) -> HubError {
        match code {
            401 | 403 => HubError::Unauthorized {
                id: id.repo.clone(),
                url: url.into(),
                status: code,
                hint: if self.token.is_some() {
                    "the token in HF_TOKEN is not allowed: accept the model's terms on its page, or use a token with read access"
                } else {
                    "set HF_TOKEN to a token with read access (and accept the model's terms on its page)"
                },
            },
            404 => HubError::NotFound {
                url: url.into(),
                what: what.into(),
            },
            _ => HubError::Http {
                url: url.into(),
                message: format!("the Hub answered {code}"),
            },
        }
    }

    fn get_json(&self, id: &ModelId, url: &str, what: &str) -> Result<ureq::Response> {
        let mut request = self.agent.get(url);
        if let Some(authorization) = self.authorization() {
            request = request.set("Authorization", &authorization);
        }
        request.call().map_err(|e| match e {
            ureq::Error::Status(code, _) => self.status_error(id, code, url, what),
            ureq::Error::Transport(t) => HubError::Http {
                url: url.into(),
                message: t.to_string(),
            },
        })
    }

    /// The commit a revision is at on the Hub.
    pub fn commit(&self, id: &ModelId) -> Result<String> {
        if id.is_commit() {
            return Ok(id.revision.clone());
        }
        let url = format!(
            "{}/api/models/{}/revision/{}",
            self.endpoint,
            id.repo,
            encode(&id.revision)
        );
        let what = format!("no model {} with a revision {}", id.repo, id.revision);
        let json: serde_json::Value = read_json(self.get_json(id, &url, &what)?, &url)?;
        json.get("sha")
            .and_then(|s| s.as_str())
            .filter(|s| crate::id::is_commit(s))
            .map(str::to_string)
            .ok_or_else(|| HubError::Format {
                path: url,
                message: "no commit hash (`sha`) in the answer".into(),
            })
    }

    /// Every file of the repository at `commit` (the tree listing, all pages).
    pub fn files(&self, id: &ModelId, commit: &str) -> Result<Vec<RepoFile>> {
        let mut url = format!(
            "{}/api/models/{}/tree/{commit}?recursive=true",
            self.endpoint, id.repo
        );
        let mut files = Vec::new();
        loop {
            let response = self.get_json(id, &url, "no such repository or commit")?;
            let next = response.header("Link").and_then(next_link);
            let page: Vec<RepoFile> = read_json(response, &url)?;
            files.extend(page.into_iter().filter(|f| f.kind == "file"));
            match next {
                Some(next) => url = next,
                None => return Ok(files),
            }
        }
    }

    /// Downloads what a model needs (config, tokenizer files, `model.safetensors` or its
    /// index and shards, sentence-transformers' module files) into the cache, each checked
    /// against the hash the Hub reports; files already there are kept. The revision's ref is
    /// written last, so an interrupted download is never taken for a complete model.
    pub fn download(&self, id: &ModelId) -> Result<Snapshot> {
        let commit = self.commit(id)?;
        let listing = self.files(id, &commit)?;
        let has = |name: &str| listing.iter().any(|f| f.path == name);
        let model_error = |message: String| HubError::Model {
            id: id.repo.clone(),
            revision: id.revision.clone(),
            message,
        };
        let weights = if has(WEIGHTS) {
            WEIGHTS
        } else if has(WEIGHTS_INDEX) {
            WEIGHTS_INDEX
        } else {
            let names: Vec<&str> = listing.iter().map(|f| f.path.as_str()).collect();
            return Err(model_error(format!(
                "no {WEIGHTS} nor {WEIGHTS_INDEX} (only safetensors weights are read); the repository has: {}",
                names.join(", ")
            )));
        };
        let mut wanted: Vec<&RepoFile> =
            listing.iter().filter(|f| files::wanted(&f.path)).collect();
        wanted.extend(listing.iter().filter(|f| f.path == weights));
        let mut done = Vec::new();
        for file in wanted {
            done.push(self.fetch_file(id, &commit, file)?);
        }
        if weights == WEIGHTS_INDEX {
            let dir = self.cache.model_dir(id).join("snapshots").join(&commit);
            for shard in files::shards(&dir.join(WEIGHTS_INDEX))? {
                let file = listing.iter().find(|f| f.path == shard).ok_or_else(|| {
                    model_error(format!(
                        "{WEIGHTS_INDEX} names the shard {shard}, which the repository does not have"
                    ))
                })?;
                done.push(self.fetch_file(id, &commit, file)?);
            }
        }
        self.cache.write_ref(id, &commit)?;
        Ok(Snapshot {
            id: id.repo.clone(),
            revision: id.revision.clone(),
            dir: self.cache.model_dir(id).join("snapshots").join(&commit),
            commit,
            files: done,
        })
    }

    /// One file into `blobs/HASH`, linked from the snapshot.
    fn fetch_file(&self, id: &ModelId, commit: &str, file: &RepoFile) -> Result<SnapshotFile> {
        let checksum = file.checksum();
        let blob = self.cache.blob(id, checksum.expected());
        let arrival = if blob.is_file() {
            Arrival::Present
        } else {
            let url = format!(
                "{}/{}/resolve/{commit}/{}",
                self.endpoint,
                id.repo,
                encode(&file.path)
            );
            let bar = (self.bar)(file.bytes(), &file.path);
            let what = format!("{} lists {} but does not serve it", id.repo, file.path);
            let on_status = |code: u16, url: &str| self.status_error(id, code, url, &what);
            let authorization = self.authorization();
            let arrival = download(
                &self.agent,
                authorization.as_deref(),
                &url,
                &blob,
                Some(&checksum),
                &bar,
                &on_status,
            )
            .map_err(|e| match e {
                HubError::Checksum { expected, got, .. } => HubError::Checksum {
                    file: format!("{}@{commit}: {}", id.repo, file.path),
                    expected,
                    got,
                },
                other => other,
            })?;
            bar.finish_and_clear();
            arrival
        };
        self.cache
            .link(id, commit, &file.path, checksum.expected())?;
        Ok(SnapshotFile {
            path: file.path.clone(),
            bytes: file.bytes(),
            arrival,
        })
    }
}

fn read_json<T: serde::de::DeserializeOwned>(response: ureq::Response, url: &str) -> Result<T> {
    let text = response.into_string().map_err(|e| HubError::Http {
        url: url.into(),
        message: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| HubError::Format {
        path: url.into(),
        message: e.to_string(),
    })
}

/// The `rel="next"` target of a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params.contains("rel=\"next\"").then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// Percent-encodes a path for a URL, keeping its `/`.
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The token for gated and private models: `$HF_TOKEN`, else `$HUGGING_FACE_HUB_TOKEN`, else
/// the file `huggingface-cli login` writes (`$HF_TOKEN_PATH`, default `$HF_HOME/token`).
pub fn token_from_env() -> Option<String> {
    for name in ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"] {
        if let Ok(token) = std::env::var(name)
            && !token.trim().is_empty()
        {
            return Some(token.trim().to_string());
        }
    }
    let path = std::env::var_os("HF_TOKEN_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| hf_home().join("token"));
    std::fs::read_to_string(path)
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}
