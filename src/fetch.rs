//! `transfer fetch`: download the assets (IMDB, GloVe, a Hugging Face model) into the asset
//! directory, for people with internet access. Downloads show a progress bar, resume where an
//! interrupted one stopped (HTTP range requests on a `.part` file), and are verified against
//! their SHA-256 before they take their final name.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use transfer_pipeline::TransferError;

/// One file to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Path under the asset directory (and under a mirror's base URL).
    pub path: &'static str,
    /// Where it is published when no mirror is given; `None`: only from a mirror.
    pub url: Option<&'static str>,
    pub sha256: &'static str,
}

/// The assets the project reads, with their checksums.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "data/aclImdb_v1.tar.gz",
        url: Some("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"),
        sha256: "61152dc6c30c11f64ee0d04fed2d274ef64707b0670c2ebaef308d93b95316a4",
    },
    // The 100,000 most frequent words of GloVe 6B-50d: a subset of nlp.stanford.edu's zip,
    // published only on mirrors of the asset layout.
    Asset {
        path: "vectors/glove.6B.50d.100k.txt.gz",
        url: None,
        sha256: "3300034fb3deb9adfff1706eea6ec1d3bf668759d94fa3e04b1a819f119459fb",
    },
    Asset {
        path: "models/all-MiniLM-L6-v2/config.json",
        url: Some(concat!(
            "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/main",
            "/config.json"
        )),
        sha256: "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    },
    Asset {
        path: "models/all-MiniLM-L6-v2/model.safetensors",
        url: Some(concat!(
            "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/main",
            "/model.safetensors"
        )),
        sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    },
    Asset {
        path: "models/all-MiniLM-L6-v2/tokenizer.json",
        url: Some(concat!(
            "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/main",
            "/tokenizer.json"
        )),
        sha256: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    },
    Asset {
        path: "models/all-MiniLM-L6-v2/tokenizer_config.json",
        url: Some(concat!(
            "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/main",
            "/tokenizer_config.json"
        )),
        sha256: "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    },
    Asset {
        path: "models/all-MiniLM-L6-v2/vocab.txt",
        url: Some(concat!(
            "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/main",
            "/vocab.txt"
        )),
        sha256: "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    },
];

/// What happened to one asset.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fetched {
    pub path: PathBuf,
    /// `present` (already there, checksum good), `downloaded` or `resumed`.
    pub status: &'static str,
    pub bytes: u64,
}

fn sha256_of(path: &Path) -> Result<String, TransferError> {
    let mut file = std::fs::File::open(path).map_err(|e| TransferError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| TransferError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// Fetches `asset` into `dir` from `base_url` (a mirror of the asset layout) or its own URL.
pub fn fetch(
    asset: &Asset,
    dir: &Path,
    base_url: Option<&str>,
    progress: bool,
) -> Result<Fetched, TransferError> {
    let target = dir.join(asset.path);
    if target.is_file() && sha256_of(&target)? == asset.sha256 {
        let bytes = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
        return Ok(Fetched {
            path: target,
            status: "present",
            bytes,
        });
    }
    let url = match (base_url, asset.url) {
        (Some(base), _) => format!("{}/{}", base.trim_end_matches('/'), asset.path),
        (None, Some(url)) => url.to_string(),
        (None, None) => {
            return Err(TransferError::format(
                &target,
                "published only on mirrors of the asset layout: pass --base-url",
            ));
        }
    };
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| TransferError::io(parent, e))?;
    }
    let part = target.with_file_name(format!(
        "{}.part",
        target
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let mut request = ureq::get(&url);
    if have > 0 {
        request = request.set("Range", &format!("bytes={have}-"));
    }
    let response = request
        .call()
        .map_err(|e| TransferError::format(&target, format!("{url}: {e}")))?;
    let resumed = have > 0 && response.status() == 206;
    let remaining: Option<u64> = response
        .header("Content-Length")
        .and_then(|l| l.parse().ok());
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(resumed)
        .truncate(!resumed)
        .open(&part)
        .map_err(|e| TransferError::io(part.clone(), e))?;
    let start = if resumed { have } else { 0 };
    let bar = transfer_pipeline::runtime::progress::bar(
        remaining.map_or(0, |r| r + start),
        progress,
        asset.path,
    );
    bar.set_position(start);
    let mut reader = response.into_reader();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| TransferError::format(&target, format!("{url}: {e}")))?;
        if n == 0 {
            break;
        }
        file.write_all(&buf[..n])
            .map_err(|e| TransferError::io(part.clone(), e))?;
        bar.inc(n as u64);
    }
    file.sync_all()
        .map_err(|e| TransferError::io(part.clone(), e))?;
    drop(file);
    bar.finish_and_clear();
    let digest = sha256_of(&part)?;
    if digest != asset.sha256 {
        let _ = std::fs::remove_file(&part);
        return Err(TransferError::format(
            &target,
            format!(
                "checksum mismatch: got {digest}, expected {}; the partial file was removed",
                asset.sha256
            ),
        ));
    }
    std::fs::rename(&part, &target).map_err(|e| TransferError::io(target.clone(), e))?;
    let bytes = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
    Ok(Fetched {
        path: target,
        status: if resumed { "resumed" } else { "downloaded" },
        bytes,
    })
}
