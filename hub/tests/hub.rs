//! The Hub client against a fake Hub on 127.0.0.1 (the real one is out of reach here):
//! the cache layout `huggingface_hub` writes, redirects to a CDN host, resuming after a cut
//! connection, a wrong hash, a missing file, a gated model, a sharded checkpoint.

mod support;

use std::path::{Path, PathBuf};

use support::fake_hub::{FakeHub, git_blob_id, sha256};
use transfer_hub::download::Arrival;
use transfer_hub::{HubCache, HubClient, HubError, ModelId, ModelSource};

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("transfer-hub-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Bytes that differ from file to file (so a mix-up shows).
fn bytes(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32 * 31 + seed as u32 * 7) as u8)
        .collect()
}

/// A small model repository: config and tokenizer in git, the weights in LFS, plus files a
/// model does not need.
fn model_files() -> Vec<(String, Vec<u8>)> {
    vec![
        ("config.json".into(), br#"{"model_type": "bert"}"#.to_vec()),
        ("tokenizer.json".into(), bytes(1, 3_000)),
        ("tokenizer_config.json".into(), b"{}".to_vec()),
        (
            "1_Pooling/config.json".into(),
            br#"{"pooling_mode_mean_tokens": true}"#.to_vec(),
        ),
        ("modules.json".into(), b"[]".to_vec()),
        ("model.safetensors".into(), bytes(2, 60_000)),
        ("pytorch_model.bin".into(), bytes(3, 60_000)),
        ("README.md".into(), b"# tiny".to_vec()),
    ]
}

fn client(hub: &FakeHub, cache: &Path) -> HubClient {
    HubClient::new(&hub.url, HubCache::new(cache))
}

fn content(files: &[(String, Vec<u8>)], name: &str) -> Vec<u8> {
    files.iter().find(|(p, _)| p == name).unwrap().1.clone()
}

#[test]
fn downloads_into_the_hugging_face_cache_layout_through_the_cdn() {
    let hub = FakeHub::start();
    let files = model_files();
    let commit = hub.publish("org/tiny", files.clone(), None);
    let scratch = Scratch::new("layout");
    let id = ModelId::parse("org/tiny").unwrap();

    let snapshot = client(&hub, &scratch.0).download(&id).unwrap();
    let model_dir = scratch.0.join("models--org--tiny");
    assert_eq!(snapshot.commit, commit);
    assert_eq!(snapshot.dir, model_dir.join("snapshots").join(&commit));
    assert_eq!(
        std::fs::read_to_string(model_dir.join("refs/main")).unwrap(),
        commit
    );
    let mut got: Vec<&str> = snapshot.files.iter().map(|f| f.path.as_str()).collect();
    got.sort();
    assert_eq!(
        got,
        [
            "1_Pooling/config.json",
            "config.json",
            "model.safetensors",
            "modules.json",
            "tokenizer.json",
            "tokenizer_config.json"
        ]
    );
    // Each file links to blobs/HASH: the SHA-256 of an LFS file, the git blob id otherwise.
    let weights = snapshot.dir.join("model.safetensors");
    let sha = sha256(&content(&files, "model.safetensors"));
    assert_eq!(
        std::fs::read_link(&weights).unwrap(),
        PathBuf::from(format!("../../blobs/{sha}"))
    );
    assert_eq!(
        std::fs::read(&weights).unwrap(),
        content(&files, "model.safetensors")
    );
    let pooling = snapshot.dir.join("1_Pooling/config.json");
    let oid = git_blob_id(&content(&files, "1_Pooling/config.json"));
    assert_eq!(
        std::fs::read_link(&pooling).unwrap(),
        PathBuf::from(format!("../../../blobs/{oid}"))
    );
    assert!(
        !snapshot.dir.join("pytorch_model.bin").exists()
            && !snapshot.dir.join("README.md").exists()
    );
    // The weights came from the CDN host; the tree listing took more than one page.
    let seen = hub.seen();
    assert!(seen.iter().any(|s| s.host == "cdn" && s.method == "GET"));
    assert!(seen.iter().filter(|s| s.target.contains("/tree/")).count() >= 2);

    // Found again without the network; a second download fetches nothing.
    assert_eq!(
        HubCache::new(&scratch.0).snapshot(&id).unwrap(),
        snapshot.dir
    );
    hub.clear_seen();
    let again = client(&hub, &scratch.0).download(&id).unwrap();
    assert!(again.files.iter().all(|f| f.arrival == Arrival::Present));
    assert!(
        !hub.seen()
            .iter()
            .any(|s| s.target.contains("/resolve/") || s.host == "cdn")
    );

    // A commit hash needs no revision lookup.
    hub.clear_seen();
    let pinned = ModelId::parse(&format!("org/tiny@{commit}")).unwrap();
    assert_eq!(
        client(&hub, &scratch.0).download(&pinned).unwrap().dir,
        snapshot.dir
    );
    assert!(!hub.seen().iter().any(|s| s.target.contains("/revision/")));
}

#[test]
fn resumes_after_a_cut_connection() {
    let hub = FakeHub::start();
    let files = model_files();
    hub.publish("org/tiny", files.clone(), None);
    hub.cut_next("model.safetensors", 20_000);
    hub.cut_next("tokenizer.json", 1_000);
    let scratch = Scratch::new("resume");
    let snapshot = client(&hub, &scratch.0)
        .download(&ModelId::parse("org/tiny").unwrap())
        .unwrap();
    let arrival = |name: &str| {
        snapshot
            .files
            .iter()
            .find(|f| f.path == name)
            .unwrap()
            .arrival
    };
    assert_eq!(arrival("model.safetensors"), Arrival::Resumed);
    assert_eq!(arrival("tokenizer.json"), Arrival::Resumed);
    assert_eq!(arrival("config.json"), Arrival::Downloaded);
    let ranges: Vec<String> = hub.seen().into_iter().filter_map(|s| s.range).collect();
    assert!(ranges.contains(&"bytes=20000-".to_string()), "{ranges:?}");
    assert!(ranges.contains(&"bytes=1000-".to_string()), "{ranges:?}");
    for name in ["model.safetensors", "tokenizer.json"] {
        assert_eq!(
            std::fs::read(snapshot.dir.join(name)).unwrap(),
            content(&files, name)
        );
    }
}

#[test]
fn a_wrong_hash_is_refused_and_nothing_is_kept() {
    let hub = FakeHub::start();
    hub.publish("org/tiny", model_files(), None);
    hub.corrupt("model.safetensors");
    let scratch = Scratch::new("hash");
    let id = ModelId::parse("org/tiny").unwrap();
    let err = client(&hub, &scratch.0).download(&id).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, HubError::Checksum { .. }), "{text}");
    assert!(
        text.contains("org/tiny") && text.contains("model.safetensors"),
        "{text}"
    );
    assert!(
        text.contains(&sha256(&content(&model_files(), "model.safetensors"))),
        "{text}"
    );
    let model_dir = scratch.0.join("models--org--tiny");
    let blobs: Vec<_> = std::fs::read_dir(model_dir.join("blobs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        !blobs
            .iter()
            .any(|b| b.to_string_lossy().contains(".incomplete")),
        "{blobs:?}"
    );
    assert!(!model_dir.join("refs/main").exists());
    let err = HubCache::new(&scratch.0).snapshot(&id).unwrap_err();
    assert!(matches!(err, HubError::NotCached { .. }), "{err}");
}

#[test]
fn a_missing_file_is_named_online_and_offline() {
    let hub = FakeHub::start();
    hub.publish("org/tiny", model_files(), None);
    hub.withhold("tokenizer.json");
    let scratch = Scratch::new("missing");
    let id = ModelId::parse("org/tiny").unwrap();
    let err = client(&hub, &scratch.0).download(&id).unwrap_err();
    assert!(matches!(err, HubError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("tokenizer.json"), "{err}");

    // Offline: a model never fetched, and one whose snapshot lost a file.
    let cache = HubCache::new(&scratch.0);
    let other = ModelId::parse("org/other@v2").unwrap();
    let text = cache.snapshot(&other).unwrap_err().to_string();
    assert!(text.contains("org/other") && text.contains("v2"), "{text}");
    assert!(text.contains("transfer fetch --hub org/other@v2"), "{text}");
    let hub2 = FakeHub::start();
    hub2.publish("org/tiny", model_files(), None);
    let snapshot = client(&hub2, &scratch.0).download(&id).unwrap();
    std::fs::remove_file(snapshot.dir.join("tokenizer.json")).unwrap();
    let text = cache.snapshot(&id).unwrap_err().to_string();
    assert!(text.contains("lacks tokenizer.json"), "{text}");

    // A repository without safetensors weights, and an unknown revision.
    let no_weights: Vec<_> = model_files()
        .into_iter()
        .filter(|(p, _)| p != "model.safetensors")
        .collect();
    hub2.publish("org/binonly", no_weights, None);
    let text = client(&hub2, &scratch.0)
        .download(&ModelId::parse("org/binonly").unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("no model.safetensors") && text.contains("pytorch_model.bin"),
        "{text}"
    );
    let err = client(&hub2, &scratch.0)
        .download(&ModelId::parse("org/tiny@no-such-branch").unwrap())
        .unwrap_err();
    assert!(matches!(err, HubError::NotFound { .. }), "{err}");
}

#[test]
fn a_gated_model_needs_the_token_and_the_cdn_never_sees_it() {
    let hub = FakeHub::start();
    hub.publish("org/gated", model_files(), Some("hf_secret"));
    let scratch = Scratch::new("gated");
    let id = ModelId::parse("org/gated").unwrap();
    let err = client(&hub, &scratch.0).download(&id).unwrap_err();
    assert!(
        matches!(err, HubError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("HF_TOKEN"), "{err}");
    let wrong = client(&hub, &scratch.0).with_token(Some("hf_wrong".into()));
    assert!(
        wrong
            .download(&id)
            .unwrap_err()
            .to_string()
            .contains("not allowed")
    );

    hub.clear_seen();
    let with_token = client(&hub, &scratch.0).with_token(Some("hf_secret".into()));
    let snapshot = with_token.download(&id).unwrap();
    assert!(snapshot.dir.join("model.safetensors").is_file());
    let seen = hub.seen();
    assert!(
        seen.iter()
            .filter(|s| s.host == "hub")
            .all(|s| s.authorization.as_deref() == Some("Bearer hf_secret"))
    );
    assert!(seen.iter().any(|s| s.host == "cdn"));
    assert!(
        seen.iter()
            .filter(|s| s.host == "cdn")
            .all(|s| s.authorization.is_none())
    );
}

#[test]
fn a_sharded_checkpoint_downloads_every_shard_it_names() {
    let hub = FakeHub::start();
    let index = serde_json::json!({
        "metadata": { "total_size": 40_000 },
        "weight_map": {
            "a.weight": "model-00001-of-00002.safetensors",
            "b.weight": "model-00002-of-00002.safetensors",
            "c.weight": "model-00001-of-00002.safetensors",
        }
    });
    let mut files: Vec<(String, Vec<u8>)> = model_files()
        .into_iter()
        .filter(|(p, _)| p != "model.safetensors")
        .collect();
    files.push((
        "model.safetensors.index.json".into(),
        index.to_string().into_bytes(),
    ));
    files.push(("model-00001-of-00002.safetensors".into(), bytes(5, 20_000)));
    files.push(("model-00002-of-00002.safetensors".into(), bytes(6, 20_000)));
    files.push(("model-stale.safetensors".into(), bytes(7, 20_000)));
    hub.publish("org/sharded", files, None);
    let scratch = Scratch::new("sharded");
    let id = ModelId::parse("org/sharded").unwrap();
    let snapshot = client(&hub, &scratch.0).download(&id).unwrap();
    for shard in [
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
    ] {
        assert!(snapshot.dir.join(shard).is_file(), "{shard}");
    }
    assert!(!snapshot.dir.join("model-stale.safetensors").exists());
    assert!(
        transfer_hub::files::missing(&snapshot.dir)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        HubCache::new(&scratch.0).snapshot(&id).unwrap(),
        snapshot.dir
    );

    // An index naming a shard the repository lacks.
    let mut broken: Vec<(String, Vec<u8>)> = model_files()
        .into_iter()
        .filter(|(p, _)| p != "model.safetensors")
        .collect();
    let index =
        serde_json::json!({ "weight_map": { "a.weight": "model-00009-of-00009.safetensors" } });
    broken.push((
        "model.safetensors.index.json".into(),
        index.to_string().into_bytes(),
    ));
    hub.publish("org/broken", broken, None);
    let text = client(&hub, &scratch.0)
        .download(&ModelId::parse("org/broken").unwrap())
        .unwrap_err()
        .to_string();
    assert!(text.contains("model-00009-of-00009.safetensors"), "{text}");
}

#[test]
fn a_model_source_downloads_only_when_asked() {
    let hub = FakeHub::start();
    hub.publish("org/tiny", model_files(), None);
    let scratch = Scratch::new("source");
    let hub_client = client(&hub, &scratch.0);
    let source = ModelSource::from("org/tiny");
    let err = source.resolve_with(&hub_client).unwrap_err();
    assert!(matches!(err, HubError::NotCached { .. }), "{err}");
    assert!(err.to_string().contains("no directory org/tiny"), "{err}");
    assert!(
        hub.seen().is_empty(),
        "resolving offline touched the network"
    );
    let dir = source.downloading(true).resolve_with(&hub_client).unwrap();
    assert!(dir.join("config.json").is_file());
    assert_eq!(
        ModelSource::from("org/tiny")
            .resolve_with(&hub_client)
            .unwrap(),
        dir
    );
    // A directory is itself.
    let here = ModelSource::from(scratch.0.to_str().unwrap());
    assert_eq!(here.resolve_with(&hub_client).unwrap(), scratch.0);
}
