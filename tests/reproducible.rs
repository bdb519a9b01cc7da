//! The same seeds give the same models: burn draws a fresh parameter lazily, at its first use,
//! from one generator per process, and training seeds that generator first. One test alone in
//! its binary, as tests running beside it would draw from the same generator.

mod common;

use burn::prelude::Device;
use common::*;
use transfer_nlp::textflix::run;
use transfer_nlp::*;

#[test]
fn the_same_seeds_give_the_same_models() {
    training_is_decided_by_its_seed_not_by_earlier_draws();
    two_runs_of_the_same_ulmfit_settings_give_the_same_model_and_accuracies();
}

/// Before training seeded the generator, a fresh head was drawn from whatever state earlier
/// work had left (entropy in a new process): a Textflix cell depended on the cell before it.
fn training_is_decided_by_its_seed_not_by_earlier_draws() {
    let device = Device::flex();
    let train = examples(false, 60, 1);
    let test: Vec<String> = examples(true, 10, 1).into_iter().map(|e| e.text).collect();
    let config = TrainConfig {
        epochs: 1,
        batch_size: 8,
        seed: 5,
        ..TrainConfig::default()
    };
    let probabilities: Vec<Vec<f32>> = [1u64, 2]
        .into_iter()
        .map(|earlier| {
            device.seed(earlier);
            let mut pipeline = word_pipeline(&train, Arch::BiLstm, &device);
            pipeline.train(&train, &config).unwrap();
            pipeline
                .predict(&test)
                .unwrap()
                .iter()
                .map(|p| p.as_class().unwrap().probabilities[0])
                .collect()
        })
        .collect();
    assert_eq!(probabilities[0], probabilities[1]);
}

fn two_runs_of_the_same_ulmfit_settings_give_the_same_model_and_accuracies() {
    let mut config = toy_ulmfit_config();
    config.transfer_seeds = 2;
    config.ulmfit.lm_tokens = Some(20_000);

    let runs: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|name| {
            let out = std::env::temp_dir().join(format!(
                "transfer-reproducible-{name}-{}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&out);
            let cells = run(&config, &out, false).unwrap();
            let weights = tensors(&out.join("ulmfit-lm/model.safetensors"));
            std::fs::remove_dir_all(&out).unwrap();
            let accuracies: Vec<(u64, f64)> = cells.iter().map(|c| (c.seed, c.accuracy)).collect();
            (weights, accuracies)
        })
        .collect();
    assert_eq!(runs[0].0.len(), 5);
    for ((name, a), (_, b)) in runs[0].0.iter().zip(&runs[1].0) {
        assert!(a == b, "the language models differ in {name}");
    }
    assert_eq!(runs[0].1.len(), 2);
    assert_eq!(runs[0].1, runs[1].1);
}

/// Every tensor of a safetensors file by name, as raw bytes (the header's order and metadata
/// may differ between two saves of the same weights).
fn tensors(path: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    file.tensors()
        .into_iter()
        .map(|(name, view)| (name, view.data().to_vec()))
        .collect()
}
