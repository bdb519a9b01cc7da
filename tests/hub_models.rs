//! Pretrained models named by their Hub id: read from a Hugging Face cache that Python's
//! `huggingface_hub` wrote, without the network; downloaded from a fake Hub on 127.0.0.1 when
//! asked, sharded checkpoints included. One test: it sets the process's `HF_*` variables.

#[path = "../hub/tests/support/mod.rs"]
mod support;

mod common;

use burn::prelude::Device;
use common::{ScratchDir, minilm_dir};
use safetensors::SafeTensors;
use support::fake_hub::FakeHub;
use support::python::snapshot_download;
use transfer_nlp::pipeline::io::hf::{ModelSource, PretrainedEncoder, PretrainedModel};

const MINILM: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// MiniLM's files with its weights split in two shards and an index; `drop` leaves one
/// tensor out of both.
fn sharded_minilm(drop: Option<&str>) -> Vec<(String, Vec<u8>)> {
    let dir = minilm_dir();
    let mut files: Vec<(String, Vec<u8>)> = support::fake_hub::read_tree(&dir, &dir)
        .into_iter()
        .filter(|(name, _)| name != "model.safetensors")
        .collect();
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let tensors = SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = tensors.names().into_iter().map(str::to_string).collect();
    names.sort();
    let half = names.len() / 2;
    let mut weight_map = serde_json::Map::new();
    for (k, part) in [&names[..half], &names[half..]].into_iter().enumerate() {
        let shard = format!("model-0000{}-of-00002.safetensors", k + 1);
        let kept: Vec<(String, safetensors::tensor::TensorView)> = part
            .iter()
            .filter(|n| Some(n.as_str()) != drop)
            .map(|n| (n.clone(), tensors.tensor(n).unwrap()))
            .collect();
        for (name, _) in &kept {
            weight_map.insert(name.clone(), shard.clone().into());
        }
        files.push((shard, safetensors::serialize(kept, None).unwrap()));
    }
    let index = serde_json::json!({ "metadata": {}, "weight_map": weight_map });
    files.push((
        "model.safetensors.index.json".into(),
        index.to_string().into_bytes(),
    ));
    files
}

#[test]
fn models_load_by_hub_id_from_a_python_made_cache_and_sharded_from_the_hub() {
    let hub = FakeHub::start();
    hub.publish_dir(MINILM, &minilm_dir(), None);
    let cache = ScratchDir::new("hf-cache");
    snapshot_download(&hub.url, cache.path(), MINILM);
    // SAFETY: the only test in this binary; nothing else reads the environment meanwhile.
    unsafe {
        std::env::set_var("HF_HUB_CACHE", cache.path());
        std::env::set_var("HF_ENDPOINT", &hub.url);
        std::env::remove_var("HF_TOKEN");
    }
    hub.clear_seen();

    let device = Device::flex();
    let texts = ["A wonderful, moving film.", "Dull and far too long."];
    let by_dir = PretrainedModel::load(minilm_dir(), &device).unwrap();
    let expected = by_dir.sentence_embeddings(&texts, 32, 2).unwrap();
    let by_id = PretrainedModel::load(MINILM, &device).unwrap();
    assert_eq!(by_id.sentence_embeddings(&texts, 32, 2).unwrap(), expected);
    assert!(hub.seen().is_empty(), "a cached model touched the network");

    // Not cached and not asked to download: the error says what is missing and how to fetch it.
    let err = PretrainedEncoder::load("org/absent", &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("org/absent") && err.contains("transfer fetch --hub org/absent@main"),
        "{err}"
    );
    assert!(hub.seen().is_empty());

    // Sharded on the Hub: downloaded when asked, and the same model.
    hub.publish("org/minilm-sharded", sharded_minilm(None), None);
    let source = ModelSource::from("org/minilm-sharded").downloading(true);
    let sharded = PretrainedModel::load(source, &device).unwrap();
    assert_eq!(
        sharded.sentence_embeddings(&texts, 32, 2).unwrap(),
        expected
    );

    // A tensor in none of the shards is named.
    let dropped = "encoder.layer.3.output.dense.weight";
    hub.publish("org/minilm-incomplete", sharded_minilm(Some(dropped)), None);
    let source = ModelSource::from("org/minilm-incomplete").downloading(true);
    let err = PretrainedEncoder::load(source, &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("none of the shards") && err.contains("layer"),
        "{err}"
    );
}
