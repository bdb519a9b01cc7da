//! Asset downloads against a mirror served on 127.0.0.1: downloads with checksums, resumes a
//! partial download with a range request, and refuses a corrupt file.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::assets;
use transfer_nlp::fetch::{ASSETS, Asset, fetch};

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

    // An interrupted download resumes from its .part file with a range request.
    let model = asset("model.safetensors");
    let full = std::fs::read(assets().join(model.path)).unwrap();
    let part = out.join(format!("{}.part", model.path));
    std::fs::create_dir_all(part.parent().unwrap()).unwrap();
    std::fs::write(&part, &full[..full.len() / 3]).unwrap();
    let done = fetch(model, &out, Some(&base), false).unwrap();
    assert_eq!(done.status, "resumed");
    assert_eq!(partial.load(Ordering::SeqCst), 1);
    assert!(same(&done.path, &assets().join(model.path)) && !part.exists());

    // A server that ignores ranges: the download starts over and still verifies.
    ranges.store(false, Ordering::SeqCst);
    let config = asset("all-MiniLM-L6-v2/config.json");
    let part = out.join(format!("{}.part", config.path));
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
