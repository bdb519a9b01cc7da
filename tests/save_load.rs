//! A saved pipeline loads back and predicts exactly the same probabilities.

mod common;

use burn::prelude::Device;
use common::*;
use transfer_nlp::*;

fn trained(arch: Arch) -> (AnyPipeline, Vec<String>) {
    let device = Device::flex();
    let train = examples(false, 128, 11);
    let mut pipeline = word_pipeline(&train, arch, &device);
    pipeline.freeze(Stage::Embedder);
    let config = TrainConfig {
        epochs: 1,
        learning_rate: 1e-2,
        seed: 5,
        ..TrainConfig::default()
    };
    pipeline.train(&train, &config).unwrap();
    let texts = examples(true, 20, 3).into_iter().map(|e| e.text).collect();
    (pipeline, texts)
}

fn probabilities(pipeline: &AnyPipeline, texts: &[String]) -> Vec<Vec<f32>> {
    pipeline
        .predict(texts)
        .unwrap()
        .into_iter()
        .map(|p| p.as_class().unwrap().probabilities.clone())
        .collect()
}

#[test]
fn save_load_predict_gives_identical_probabilities() {
    let _rng = exclusive_rng();
    for arch in [Arch::Bag, Arch::BiLstm] {
        let (pipeline, texts) = trained(arch);
        let dir = tempdir("save-load");
        pipeline.save(&dir).unwrap();
        let loaded = AnyPipeline::load(&dir, &Device::flex()).unwrap();
        assert_eq!(
            probabilities(&loaded, &texts),
            probabilities(&pipeline, &texts)
        );
        assert_eq!(loaded.labels(), pipeline.labels());
        assert_eq!(loaded.encode_policy(), pipeline.encode_policy());
        assert!(loaded.is_frozen(Stage::Embedder));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn saving_again_replaces_the_files_of_the_previous_save() {
    let _rng = exclusive_rng();
    let (pipeline, texts) = trained(Arch::Bag);
    let dir = tempdir("resave");
    pipeline.save(&dir).unwrap();
    pipeline.save(&dir).unwrap();
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    let loaded = AnyPipeline::load(&dir, &Device::flex()).unwrap();
    assert_eq!(
        probabilities(&loaded, &texts),
        probabilities(&pipeline, &texts)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

pub fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("transfer-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
