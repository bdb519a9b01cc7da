//! One file over HTTP: resumed where an interrupted download stopped (a range request on
//! `FILE.incomplete`), retried when the connection is cut, checked against its hash before it
//! takes its name.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::ProgressBar;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::error::{HubError, Result};

/// How many times a cut connection is resumed within one call.
const ATTEMPTS: u32 = 5;

/// The hash a file must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// SHA-256 of the content, hex (the Hub's hash of an LFS file).
    Sha256(String),
    /// The git blob id, hex: SHA-1 of `blob LEN\0` and the content (the Hub's hash of a file
    /// kept in git itself).
    GitBlob(String),
}

impl Checksum {
    pub fn expected(&self) -> &str {
        match self {
            Self::Sha256(hex) | Self::GitBlob(hex) => hex,
        }
    }

    /// The same kind of hash of the file at `path`.
    pub fn of_file(&self, path: &Path) -> Result<String> {
        let len = std::fs::metadata(path)
            .map_err(|e| HubError::io(path, e))?
            .len();
        match self {
            Self::Sha256(_) => hash_file(Sha256::new(), path),
            Self::GitBlob(_) => {
                let mut hasher = Sha1::new();
                hasher.update(format!("blob {len}\0").as_bytes());
                hash_file(hasher, path)
            }
        }
    }

    /// Whether the file at `path` has this hash.
    pub fn matches(&self, path: &Path) -> Result<bool> {
        Ok(self.of_file(path)?.eq_ignore_ascii_case(self.expected()))
    }
}

fn hash_file<D: Digest>(mut hasher: D, path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| HubError::io(path, e))?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| HubError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// How a file arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrival {
    /// Already there (its hash checked, or a blob named by its hash).
    Present,
    Downloaded,
    /// Continued from what an earlier, interrupted download left.
    Resumed,
}

/// `FILE.incomplete`, where a download is written until its hash is checked.
pub fn incomplete(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".incomplete");
    target.with_file_name(name)
}

/// A status other than 200 / 206, as the caller words it (a 401 means a gated model on the
/// Hub, a missing mirror file elsewhere).
pub type StatusError<'a> = &'a dyn Fn(u16, &str) -> HubError;

/// Downloads `url` to `target` (with an `Authorization` header when given; it is not sent
/// on to another host when redirected): continues `target.incomplete` when an earlier attempt left
/// one, resumes up to five times when the connection is cut, checks `checksum` (a mismatch
/// removes the partial file; `None`: the caller checks what it makes of the file) and only
/// then renames it to `target`.
pub fn download(
    agent: &ureq::Agent,
    authorization: Option<&str>,
    url: &str,
    target: &Path,
    checksum: Option<&Checksum>,
    bar: &ProgressBar,
    on_status: StatusError,
) -> Result<Arrival> {
    let part = incomplete(target);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| HubError::io(parent, e))?;
    }
    let mut resumed = false;
    let mut last_cut = String::new();
    let mut complete = false;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
        }
        let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        let mut request = agent.get(url).set("Accept-Encoding", "identity");
        if let Some(authorization) = authorization {
            request = request.set("Authorization", authorization);
        }
        if have > 0 {
            request = request.set("Range", &format!("bytes={have}-"));
        }
        let response = match request.call() {
            Ok(response) => response,
            Err(ureq::Error::Status(416, _)) if have > 0 => {
                complete = true; // everything had arrived; the hash says whether it is right
                break;
            }
            Err(ureq::Error::Status(code, _)) => return Err(on_status(code, url)),
            Err(ureq::Error::Transport(t)) => {
                last_cut = t.to_string();
                continue;
            }
        };
        let append = have > 0 && response.status() == 206;
        resumed |= append;
        match receive(response, &part, append, have, bar)? {
            None => {
                complete = true;
                break;
            }
            Some(cut) => last_cut = cut,
        }
    }
    if !complete {
        return Err(HubError::Http {
            url: url.into(),
            message: format!(
                "the connection was cut {ATTEMPTS} times ({last_cut}); what arrived is kept in {} and the next run resumes from it",
                part.display()
            ),
        });
    }
    if let Some(checksum) = checksum {
        let got = checksum.of_file(&part)?;
        if !got.eq_ignore_ascii_case(checksum.expected()) {
            let _ = std::fs::remove_file(&part);
            return Err(HubError::Checksum {
                file: target.display().to_string(),
                expected: checksum.expected().into(),
                got,
            });
        }
    }
    std::fs::rename(&part, target).map_err(|e| HubError::io(target, e))?;
    Ok(if resumed {
        Arrival::Resumed
    } else {
        Arrival::Downloaded
    })
}

/// Writes the body to `part` (appended when the server sent the rest); `Some(why)` when the
/// connection was cut before `Content-Length` bytes arrived.
fn receive(
    response: ureq::Response,
    part: &Path,
    append: bool,
    have: u64,
    bar: &ProgressBar,
) -> Result<Option<String>> {
    let start = if append { have } else { 0 };
    let length: Option<u64> = response
        .header("Content-Length")
        .and_then(|l| l.parse().ok());
    if let Some(length) = length {
        bar.set_length(start + length);
    }
    bar.set_position(start);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(part)
        .map_err(|e| HubError::io(part, e))?;
    let mut reader = response.into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut received = 0u64;
    let cut = loop {
        match reader.read(&mut buf) {
            Ok(0) => break None,
            Ok(n) => {
                file.write_all(&buf[..n])
                    .map_err(|e| HubError::io(part, e))?;
                received += n as u64;
                bar.inc(n as u64);
            }
            Err(e) => break Some(e.to_string()),
        }
    };
    file.sync_all().map_err(|e| HubError::io(part, e))?;
    Ok(match (cut, length) {
        (Some(why), _) => Some(why),
        (None, Some(length)) if received < length => {
            Some(format!("{received} of {length} bytes arrived"))
        }
        (None, _) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_git_s_and_sha256() {
        let path = std::env::temp_dir().join(format!("transfer-hub-hello-{}", std::process::id()));
        std::fs::write(&path, b"hello\n").unwrap();
        // `printf 'hello\n' | git hash-object --stdin` and `sha256sum`.
        let git = Checksum::GitBlob("ce013625030ba8dba906f756967f9e9ca394464a".into());
        let sha = Checksum::Sha256(
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03".into(),
        );
        assert!(git.matches(&path).unwrap() && sha.matches(&path).unwrap());
        assert!(
            !Checksum::GitBlob(sha.expected().into())
                .matches(&path)
                .unwrap()
        );
        std::fs::remove_file(path).unwrap();
    }
}
