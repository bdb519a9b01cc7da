//! `transfer fetch`: download the assets (IMDB, GloVe, MiniLM from the Hugging Face Hub) into
//! the asset directory. Downloads show a progress bar, resume where an interrupted one stopped
//! (range requests on `FILE.incomplete`, also when the connection is cut) and are verified
//! against their SHA-256 before they take their final name. GloVe's 100,000-word subset is
//! made from Stanford's published zip and checked by the SHA-256 of its lines.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use transfer_hub::HubError;
use transfer_hub::download::{Arrival, Checksum, download};
use transfer_pipeline::TransferError;

/// One file to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Path under the asset directory (and under a mirror's base URL).
    pub path: &'static str,
    /// Where it is published as it is; `None`: made by `derive`, or only on mirrors.
    pub url: Option<&'static str>,
    /// SHA-256 of the file.
    pub sha256: &'static str,
    /// How to make it from a published archive when there is no mirror.
    pub derive: Option<Derive>,
}

/// An asset made from a published zip: the first `lines` lines of `member`, gzip-compressed,
/// checked by the SHA-256 of those lines (the archive itself has no published checksum).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derive {
    pub url: &'static str,
    pub member: &'static str,
    pub lines: usize,
    pub lines_sha256: &'static str,
}

macro_rules! minilm {
    ($file:literal, $sha:literal) => {
        Asset {
            path: concat!("models/all-MiniLM-L6-v2/", $file),
            url: Some(concat!(
                "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/main/",
                $file
            )),
            sha256: $sha,
            derive: None,
        }
    };
}

/// The assets the project reads, with their checksums.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "data/aclImdb_v1.tar.gz",
        url: Some("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"),
        sha256: "61152dc6c30c11f64ee0d04fed2d274ef64707b0670c2ebaef308d93b95316a4",
        derive: None,
    },
    // The 100,000 most frequent words of GloVe 6B-50d, in the original order.
    Asset {
        path: "vectors/glove.6B.50d.100k.txt.gz",
        url: None,
        sha256: "3300034fb3deb9adfff1706eea6ec1d3bf668759d94fa3e04b1a819f119459fb",
        derive: Some(Derive {
            url: "https://nlp.stanford.edu/data/glove.6B.zip",
            member: "glove.6B.50d.txt",
            lines: 100_000,
            lines_sha256: "af4e215a94cf5a3d0af68378b1faade5aaef67f7b653adfdd2937895c481cdc0",
        }),
    },
    minilm!(
        "config.json",
        "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"
    ),
    minilm!(
        "model.safetensors",
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    ),
    minilm!(
        "tokenizer.json",
        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
    ),
    minilm!(
        "tokenizer_config.json",
        "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"
    ),
    minilm!(
        "special_tokens_map.json",
        "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"
    ),
    minilm!(
        "vocab.txt",
        "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
    ),
    minilm!(
        "modules.json",
        "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf"
    ),
    minilm!(
        "1_Pooling/config.json",
        "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23"
    ),
];

/// What happened to one asset.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fetched {
    pub path: PathBuf,
    /// `present` (already there, checksum good), `downloaded`, `resumed` or `derived`.
    pub status: &'static str,
    pub bytes: u64,
}

/// Fetches `asset` into `dir` from `base_url` (a mirror of the asset layout), or from where it
/// is published.
pub fn fetch(
    asset: &Asset,
    dir: &Path,
    base_url: Option<&str>,
    progress: bool,
) -> Result<Fetched, TransferError> {
    let target = dir.join(asset.path);
    let done = |status| {
        let bytes = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
        Ok(Fetched {
            path: target.clone(),
            status,
            bytes,
        })
    };
    if is_present(asset, &target)? {
        return done("present");
    }
    let checksum = Checksum::Sha256(asset.sha256.into());
    let status = match (base_url, asset.url, &asset.derive) {
        (Some(base), _, _) => {
            let url = format!("{}/{}", base.trim_end_matches('/'), asset.path);
            get(&url, &target, Some(&checksum), progress, asset.path)?
        }
        (None, Some(url), _) => get(url, &target, Some(&checksum), progress, asset.path)?,
        (None, None, Some(derive)) => {
            derive_from_zip(derive, &target, progress)?;
            "derived"
        }
        (None, None, None) => {
            return Err(TransferError::format(
                &target,
                "published only on mirrors of the asset layout: pass --base-url",
            ));
        }
    };
    done(status)
}

/// Whether the asset is there already: its checksum, or for a derived one the checksum of its
/// lines (a mirror's file and one made here differ only in compression).
fn is_present(asset: &Asset, target: &Path) -> Result<bool, TransferError> {
    if !target.is_file() {
        return Ok(false);
    }
    if Checksum::Sha256(asset.sha256.into()).matches(target)? {
        return Ok(true);
    }
    match &asset.derive {
        Some(derive) => {
            let file = std::fs::File::open(target).map_err(|e| TransferError::io(target, e))?;
            let lines = BufReader::new(flate2::read::GzDecoder::new(file));
            Ok(first_lines(lines, derive.lines, &mut std::io::sink())
                .is_ok_and(|(n, sha)| n == derive.lines && sha == derive.lines_sha256))
        }
        None => Ok(false),
    }
}

/// Downloads `url` to `target` with a progress bar; `downloaded` or `resumed`.
fn get(
    url: &str,
    target: &Path,
    checksum: Option<&Checksum>,
    progress: bool,
    what: &str,
) -> Result<&'static str, TransferError> {
    let agent = ureq::AgentBuilder::new().try_proxy_from_env(true).build();
    let bar = transfer_pipeline::runtime::progress::bytes_bar(0, progress, what);
    let on_status = |code: u16, url: &str| match code {
        404 => HubError::NotFound {
            url: url.into(),
            what: "no such file on the server".into(),
        },
        _ => HubError::Http {
            url: url.into(),
            message: format!("the server answered {code}"),
        },
    };
    let arrival = download(&agent, None, url, target, checksum, &bar, &on_status)?;
    bar.finish_and_clear();
    Ok(match arrival {
        Arrival::Resumed => "resumed",
        _ => "downloaded",
    })
}

/// Downloads the archive beside `target`, writes the first lines of its member gzip-compressed
/// to `target` (atomically) if their checksum is right, and removes the archive.
fn derive_from_zip(derive: &Derive, target: &Path, progress: bool) -> Result<(), TransferError> {
    let name = derive.url.rsplit('/').next().unwrap_or("archive.zip");
    let archive_path = target.with_file_name(name);
    get(derive.url, &archive_path, None, progress, name)?;
    let file =
        std::fs::File::open(&archive_path).map_err(|e| TransferError::io(&archive_path, e))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| TransferError::format(&archive_path, format!("not a zip archive: {e}")))?;
    let member = archive
        .by_name(derive.member)
        .map_err(|e| TransferError::format(&archive_path, format!("{}: {e}", derive.member)))?;
    let part = transfer_hub::download::incomplete(target);
    let out = std::fs::File::create(&part).map_err(|e| TransferError::io(&part, e))?;
    let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    let (n, sha) = first_lines(BufReader::new(member), derive.lines, &mut gz)
        .map_err(|e| TransferError::format(&archive_path, format!("{}: {e}", derive.member)))?;
    gz.finish()
        .and_then(|f| f.sync_all())
        .map_err(|e| TransferError::io(&part, e))?;
    if n != derive.lines || sha != derive.lines_sha256 {
        let _ = std::fs::remove_file(&part);
        let _ = std::fs::remove_file(&archive_path);
        return Err(TransferError::format(
            &archive_path,
            format!(
                "the first {} lines of {} ({n} read) have SHA-256 {sha}, expected {}: the archive \
                 was removed; run again to download it afresh",
                derive.lines, derive.member, derive.lines_sha256
            ),
        ));
    }
    std::fs::rename(&part, target).map_err(|e| TransferError::io(target, e))?;
    std::fs::remove_file(&archive_path).map_err(|e| TransferError::io(&archive_path, e))
}

/// Copies up to `limit` lines of `input` to `out`: how many, and their SHA-256.
fn first_lines(
    mut input: impl BufRead,
    limit: usize,
    out: &mut impl Write,
) -> std::io::Result<(usize, String)> {
    let mut hasher = Sha256::new();
    let mut line = Vec::new();
    let mut n = 0;
    while n < limit {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        hasher.update(&line);
        out.write_all(&line)?;
        n += 1;
    }
    let sha = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((n, sha))
}
