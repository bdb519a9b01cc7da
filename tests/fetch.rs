//! Asset downloads against a mirror served on 127.0.0.1: downloads with checksums, resumes a
//! partial download with a range request, and refuses a corrupt file.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::assets;
use transfer_nlp::fetch::{ASSETS, Asset, Derive, fetch};

/// Serves `root` on 127.0.0.1, honouring `Range: bytes=N-` when `ranges` is set. Returns the
/// base URL and a counter of partial responses.
fn serve(root: PathBuf, ranges: Arc<AtomicBool>) -> (String, Arc<AtomicUsize>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    let partial = Arc::new(AtomicUsize::new(0));
    let counter = partial.clone();
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let path = root.join(request.url().trim_start_matches('/'));
            let Ok(bytes) = std::fs::read(&path) else {
                let _ = request.respond(tiny_http::Response::empty(404));
                continue;
            };
            let from = request
                .headers()
                .iter()
                .find(|h| h.field.equiv("Range"))
                .and_then(|h| {
                    h.value
                        .as_str()
                        .strip_prefix("bytes=")?
                        .strip_suffix('-')?
                        .parse::<usize>()
                        .ok()
                })
                .filter(|_| ranges.load(Ordering::SeqCst));
            let response = match from {
                Some(from) if from < bytes.len() => {
                    counter.fetch_add(1, Ordering::SeqCst);
                    tiny_http::Response::from_data(bytes[from..].to_vec()).with_status_code(206)
                }
                _ => tiny_http::Response::from_data(bytes),
            };
            let _ = request.respond(response);
        }
    });
    (base, partial)
}

fn asset(path: &str) -> &'static Asset {
    ASSETS.iter().find(|a| a.path.contains(path)).unwrap()
}

fn mirror(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("transfer-mirror-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for a in ASSETS {
        let target = dir.join(a.path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(assets().join(a.path), target).unwrap();
    }
    dir
}

fn same(a: &Path, b: &Path) -> bool {
    std::fs::read(a).unwrap() == std::fs::read(b).unwrap()
}

#[test]
fn downloads_verifies_and_resumes() {
    let ranges = Arc::new(AtomicBool::new(true));
    let (base, partial) = serve(mirror("ok"), ranges.clone());
    let out = std::env::temp_dir().join(format!("transfer-fetched-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);

    let glove = asset("glove");
    let done = fetch(glove, &out, Some(&base), false).unwrap();
    assert_eq!(done.status, "downloaded");
    assert!(same(&done.path, &assets().join(glove.path)));
    // Already there with the right checksum: nothing to do.
    assert_eq!(
        fetch(glove, &out, Some(&base), false).unwrap().status,
        "present"
    );

    // An interrupted download resumes from its .incomplete file with a range request.
    let model = asset("model.safetensors");
    let full = std::fs::read(assets().join(model.path)).unwrap();
    let part = out.join(format!("{}.incomplete", model.path));
    std::fs::create_dir_all(part.parent().unwrap()).unwrap();
    std::fs::write(&part, &full[..full.len() / 3]).unwrap();
    let done = fetch(model, &out, Some(&base), false).unwrap();
    assert_eq!(done.status, "resumed");
    assert_eq!(partial.load(Ordering::SeqCst), 1);
    assert!(same(&done.path, &assets().join(model.path)) && !part.exists());

    // A server that ignores ranges: the download starts over and still verifies.
    ranges.store(false, Ordering::SeqCst);
    let config = asset("all-MiniLM-L6-v2/config.json");
    let part = out.join(format!("{}.incomplete", config.path));
    std::fs::write(&part, b"stale bytes").unwrap();
    assert_eq!(
        fetch(config, &out, Some(&base), false).unwrap().status,
        "downloaded"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_corrupt_download_is_refused() {
    let root = mirror("corrupt");
    let vocab = asset("vocab.txt");
    std::fs::remove_file(root.join(vocab.path)).unwrap();
    std::fs::write(root.join(vocab.path), b"[PAD]\n[UNK]\n").unwrap();
    let (base, _) = serve(root, Arc::new(AtomicBool::new(true)));
    let out = std::env::temp_dir().join(format!("transfer-corrupt-{}", std::process::id()));
    let err = fetch(vocab, &out, Some(&base), false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("checksum mismatch") && err.contains("vocab.txt"),
        "{err}"
    );
    assert!(!out.join(vocab.path).exists());
    let missing = fetch(
        asset("tokenizer_config"),
        &out,
        Some(&format!("{base}/nowhere")),
        false,
    )
    .unwrap_err();
    assert!(missing.to_string().contains("404"), "{missing}");

    let _ = std::fs::remove_dir_all(&out);
}

/// A zip holding `member` with these lines, as Stanford publishes GloVe.
fn zip_with(path: &Path, member: &str, text: &str) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options =
        zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("glove.6B.100d.txt", options).unwrap();
    std::io::Write::write_all(&mut zip, b"other 0.1 0.2\n").unwrap();
    zip.start_file(member, options).unwrap();
    std::io::Write::write_all(&mut zip, text.as_bytes()).unwrap();
    zip.finish().unwrap();
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn glove_is_made_from_the_published_zip_and_checked_by_its_lines() {
    let root = std::env::temp_dir().join(format!("transfer-zip-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let text = "the 0.1 0.2\n, 0.3 0.4\n. 0.5 0.6\nof 0.7 0.8\n";
    zip_with(&root.join("glove.zip"), "glove.6B.50d.txt", text);
    zip_with(
        &root.join("bad.zip"),
        "glove.6B.50d.txt",
        &text.replace("0.3", "9.9"),
    );
    let (base, _) = serve(root.clone(), Arc::new(AtomicBool::new(true)));
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let first_three = "the 0.1 0.2\n, 0.3 0.4\n. 0.5 0.6\n";
    let asset = |zip: &str| Asset {
        path: "vectors/glove.small.txt.gz",
        url: None,
        sha256: "0000000000000000000000000000000000000000000000000000000000000000",
        derive: Some(Derive {
            url: leak(format!("{base}/{zip}")),
            member: "glove.6B.50d.txt",
            lines: 3,
            lines_sha256: leak(sha256_hex(first_three.as_bytes())),
        }),
    };
    let out = root.join("assets");

    let err = fetch(&asset("bad.zip"), &out, None, false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("expected") && err.contains("glove.6B.50d.txt"),
        "{err}"
    );
    assert!(!out.join("vectors/glove.small.txt.gz").exists());
    assert!(
        !out.join("vectors/bad.zip").exists(),
        "a bad archive is removed"
    );

    let done = fetch(&asset("glove.zip"), &out, None, false).unwrap();
    assert_eq!(done.status, "derived");
    let mut lines = String::new();
    let gz = std::fs::File::open(&done.path).unwrap();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gz), &mut lines).unwrap();
    assert_eq!(lines, first_three);
    assert!(
        !out.join("vectors/glove.zip").exists(),
        "the archive is removed once used"
    );
    assert_eq!(
        fetch(&asset("glove.zip"), &out, None, false)
            .unwrap()
            .status,
        "present"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn the_real_glove_subset_passes_its_own_line_check() {
    // The shared file is what `transfer fetch` makes from Stanford's zip: the same lines.
    let glove = asset("glove");
    let out = std::env::temp_dir().join(format!("transfer-glove-{}", std::process::id()));
    let target = out.join(glove.path);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    let gz = std::fs::File::open(assets().join(glove.path)).unwrap();
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz), &mut text).unwrap();
    // Compressed again here: other bytes, the same lines.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut encoder, &text).unwrap();
    std::fs::write(&target, encoder.finish().unwrap()).unwrap();
    assert_eq!(
        fetch(glove, &out, Some("http://127.0.0.1:9"), false)
            .unwrap()
            .status,
        "present"
    );
    std::fs::remove_dir_all(&out).unwrap();
}
