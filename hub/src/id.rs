use std::fmt;

use crate::error::{HubError, Result};

/// A model on the Hugging Face Hub: `ORG/NAME` (or a legacy `NAME`) at a revision, a branch,
/// tag or commit (`main` by default).
///
/// ```
/// use transfer_hub::ModelId;
/// let id = ModelId::parse("sentence-transformers/all-MiniLM-L6-v2@v1.0")?;
/// assert_eq!(id.repo, "sentence-transformers/all-MiniLM-L6-v2");
/// assert_eq!(id.revision, "v1.0");
/// assert_eq!(id.cache_folder(), "models--sentence-transformers--all-MiniLM-L6-v2");
/// assert!(ModelId::parse("../etc").is_err());
/// # Ok::<(), transfer_hub::HubError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelId {
    pub repo: String,
    pub revision: String,
}

impl ModelId {
    /// Reads `ORG/NAME[@REVISION]`; the names follow the Hub's rules (letters, digits, `-`,
    /// `_`, `.`; no `--` or `..`; at most 96 characters).
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |reason| HubError::InvalidId {
            text: text.into(),
            reason,
        };
        let (repo, revision) = match text.split_once('@') {
            Some((repo, revision)) => (repo, revision),
            None => (text, "main"),
        };
        if revision.is_empty() || revision.chars().any(char::is_whitespace) {
            return Err(invalid("empty revision or one with spaces"));
        }
        if revision
            .split('/')
            .any(|part| part.is_empty() || part == "..")
        {
            return Err(invalid("a revision cannot have empty or `..` parts"));
        }
        let parts: Vec<&str> = repo.split('/').collect();
        if parts.len() > 2 {
            return Err(invalid("more than one `/`"));
        }
        if repo.len() > 96 {
            return Err(invalid("longer than 96 characters"));
        }
        for part in &parts {
            check_name(part).map_err(invalid)?;
        }
        Ok(Self {
            repo: repo.into(),
            revision: revision.into(),
        })
    }

    /// The folder of this model in a Hub cache: `models--ORG--NAME`.
    pub fn cache_folder(&self) -> String {
        format!("models--{}", self.repo.replace('/', "--"))
    }

    /// Whether the revision is a commit hash (40 hex digits), which never moves.
    pub fn is_commit(&self) -> bool {
        is_commit(&self.revision)
    }
}

pub(crate) fn is_commit(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn check_name(name: &str) -> std::result::Result<(), &'static str> {
    if name.is_empty() {
        return Err("an empty name");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err("only letters, digits, `-`, `_` and `.` are allowed");
    }
    if name.contains("--") || name.contains("..") {
        return Err("`--` and `..` are not allowed");
    }
    if name.starts_with(['-', '.']) || name.ends_with(['-', '.']) {
        return Err("a name cannot start or end with `-` or `.`");
    }
    Ok(())
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repo)
    }
}

impl std::str::FromStr for ModelId {
    type Err = HubError;
    fn from_str(text: &str) -> Result<Self> {
        Self::parse(text)
    }
}
