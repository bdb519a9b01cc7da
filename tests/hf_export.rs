//! A fine-tuned BERT pipeline exports back to Hugging Face layout with the same outputs.
//! (`scripts/check_hf_export.py` checks the export against transformers itself.)

mod common;

use burn::prelude::Device;
use common::*;
use transfer_nlp::pipeline::io::hf::{PretrainedEncoder, export_encoder};
use transfer_nlp::predictor::{PooledClassifier, PooledClassifierConfig};
use transfer_nlp::tokenizer::EncodePolicy;
use transfer_nlp::*;

#[test]
fn fine_tuned_minilm_exports_with_identical_hidden_states() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let bert = PretrainedEncoder::load(minilm_dir(), &device).unwrap();
    let head =
        PooledClassifier::from_config(&PooledClassifierConfig::new(384, 2), &device).unwrap();
    let mut pipeline =
        TransferPipeline::new(bert.tokenizer, bert.embeddings, bert.encoder, head, &device)
            .unwrap()
            .with_encode_policy(EncodePolicy::new(48))
            .unwrap();
    let train = examples(false, 16, 9);
    let config = TrainConfig {
        epochs: 1,
        batch_size: 8,
        learning_rate: 1e-3,
        seed: 1,
        ..TrainConfig::default()
    };
    pipeline.train(&train, &config).unwrap();

    let dir = std::env::temp_dir().join(format!("hf-export-{}", std::process::id()));
    let stages = pipeline.stages();
    export_encoder(
        pipeline.tokenizer(),
        &stages.embedder,
        &stages.contextual,
        &dir,
    )
    .unwrap();
    for file in ["config.json", "model.safetensors", "tokenizer.json"] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    let reloaded = PretrainedEncoder::load(&dir, &device).unwrap();
    let original = PretrainedEncoder::load(minilm_dir(), &device).unwrap();
    let texts = ["An uneven but often brilliant film.", "Dreadful."];
    let tuned = PretrainedEncoder {
        tokenizer: pipeline.tokenizer().clone(),
        embeddings: stages.embedder.clone(),
        encoder: stages.contextual.clone(),
        family: original.family,
    };
    let (ids, _, _, expected) = golden::hidden_states(&tuned, &texts, 48, &device);
    let (reloaded_ids, _, _, states) = golden::hidden_states(&reloaded, &texts, 48, &device);
    let (_, _, _, before) = golden::hidden_states(&original, &texts, 48, &device);
    assert_eq!(ids, reloaded_ids);
    let diff = golden::max_abs_diff;
    assert!(
        diff(&states, &expected) < 1e-6,
        "export changed the outputs: {}",
        diff(&states, &expected)
    );
    assert!(
        diff(&before, &expected) > 1e-3,
        "fine-tuning did not change the encoder"
    );

    let names: serde_json::Value = {
        let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        serde_json::from_slice(&bytes[8..8 + n]).unwrap()
    };
    for name in [
        "embeddings.LayerNorm.weight",
        "encoder.layer.5.attention.self.query.weight",
        "encoder.layer.0.output.LayerNorm.bias",
    ] {
        assert!(names.get(name).is_some(), "{name} missing from the export");
    }
    assert_eq!(
        names["encoder.layer.0.intermediate.dense.weight"]["shape"],
        serde_json::json!([1536, 384])
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
