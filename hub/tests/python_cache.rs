//! Caches shared with Python: one written by `huggingface_hub` (PyPI) is read here without the
//! network, and one written here is read by `huggingface_hub` offline.

mod support;

use std::path::PathBuf;

use support::fake_hub::FakeHub;
use support::python::{hub_python, snapshot_download};
use transfer_hub::download::Arrival;
use transfer_hub::{HubCache, HubClient, ModelId};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("transfer-pycache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn files() -> Vec<(String, Vec<u8>)> {
    let index = serde_json::json!({ "weight_map": {
        "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors" } });
    vec![
        ("config.json".into(), br#"{"model_type": "bert"}"#.to_vec()),
        ("tokenizer.json".into(), vec![b'x'; 12_000]),
        ("1_Pooling/config.json".into(), b"{}".to_vec()),
        (
            "model.safetensors.index.json".into(),
            index.to_string().into_bytes(),
        ),
        ("model-00001-of-00002.safetensors".into(), vec![1; 30_000]),
        ("model-00002-of-00002.safetensors".into(), vec![2; 30_000]),
    ]
}

#[test]
fn a_cache_written_by_huggingface_hub_is_read_offline_and_ours_is_read_by_it() {
    let hub = FakeHub::start();
    let commit = hub.publish("org/sharded", files(), None);
    let cache = scratch("python");

    let python_snapshot = snapshot_download(&hub.url, &cache, "org/sharded");
    hub.clear_seen();
    let id = ModelId::parse("org/sharded").unwrap();
    let ours = HubCache::new(&cache).snapshot(&id).unwrap();
    assert_eq!(ours, python_snapshot);
    assert!(ours.ends_with(&commit));
    for (name, bytes) in files() {
        assert_eq!(std::fs::read(ours.join(&name)).unwrap(), bytes, "{name}");
    }
    assert!(
        hub.seen().is_empty(),
        "reading the cache touched the network"
    );

    // Our client names blobs as huggingface_hub does: nothing to download again.
    let snapshot = HubClient::new(&hub.url, HubCache::new(&cache))
        .download(&id)
        .unwrap();
    assert!(
        snapshot.files.iter().all(|f| f.arrival == Arrival::Present),
        "{snapshot:?}"
    );

    // A cache written here, read by huggingface_hub with the network off.
    let ours_cache = scratch("ours");
    HubClient::new(&hub.url, HubCache::new(&ours_cache))
        .download(&id)
        .unwrap();
    let script = "import sys\nfrom huggingface_hub import hf_hub_download\n\
                  print(hf_hub_download(sys.argv[1], 'model-00002-of-00002.safetensors', local_files_only=True))";
    let path = hub_python(&hub.url, &ours_cache, script, &["org/sharded"]);
    assert_eq!(std::fs::read(path).unwrap(), vec![2; 30_000]);
    std::fs::remove_dir_all(&cache).unwrap();
    std::fs::remove_dir_all(&ours_cache).unwrap();
}
