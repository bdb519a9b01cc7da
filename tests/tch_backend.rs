//! The same pipelines on libtorch (CPU): training, freezing, and weights that move between
//! backends. Run with `cargo test --features tch` (see .ci/run for the libtorch set-up).
#![cfg(feature = "tch")]
#![allow(deprecated)] // burn marks its tch backend deprecated

mod common;

use burn::prelude::Device;
use common::*;
use transfer_nlp::*;

#[test]
fn libtorch_trains_freezes_and_shares_weights_with_flex() {
    let _rng = exclusive_rng();
    let device = Device::libtorch();
    let train = examples(false, 1000, 1);
    let test = examples(true, 500, 1);
    let mut pipeline = word_pipeline(&train, Arch::BiLstm, &device);
    pipeline.freeze(Stage::Predictor);
    let head = params(&pipeline.stages().predictor);
    let config = TrainConfig {
        epochs: 1,
        learning_rate: 1e-2,
        seed: 3,
        ..TrainConfig::default()
    };
    pipeline.train(&train, &config).unwrap();
    assert_eq!(
        params(&pipeline.stages().predictor),
        head,
        "frozen head changed on libtorch"
    );
    pipeline.unfreeze(Stage::Predictor);
    let config = TrainConfig {
        epochs: 3,
        ..config
    };
    pipeline.train(&train, &config).unwrap();
    let metrics = pipeline.evaluate(&test).unwrap();
    assert!(metrics.accuracy.unwrap() > 0.65, "{metrics:?}");

    let dir = std::env::temp_dir().join(format!("transfer-tch-{}", std::process::id()));
    pipeline.save(&dir).unwrap();
    let on_flex = AnyPipeline::load(&dir, &Device::flex()).unwrap();
    let texts: Vec<String> = test.iter().take(16).map(|e| e.text.clone()).collect();
    let a = pipeline.predict(&texts).unwrap();
    let b = on_flex.predict(&texts).unwrap();
    for (x, y) in a.iter().zip(&b) {
        let (x, y) = (x.as_class().unwrap(), y.as_class().unwrap());
        assert_eq!(x.class, y.class);
        assert!(
            (x.probability - y.probability).abs() < 1e-4,
            "{x:?} vs {y:?}"
        );
    }
    // Explanations are the same on both backends.
    let method = "integrated-gradients".parse().unwrap();
    let texts = &texts[..2];
    let a = pipeline.explain(texts, 1, &method).unwrap();
    let b = on_flex.explain(texts, 1, &method).unwrap();
    for (x, y) in a.iter().zip(&b) {
        let largest = y.words.iter().map(|w| w.score.abs()).fold(0.0f32, f32::max);
        assert!(largest > 0.0);
        for (u, v) in x.words.iter().zip(&y.words) {
            assert!(
                (u.score - v.score).abs() <= 1e-3 * largest,
                "{u:?} vs {v:?}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn minilm_matches_transformers_on_libtorch() {
    let _rng = exclusive_rng();
    let worst = golden::check_against_reference(&Device::libtorch());
    eprintln!("largest |difference| from transformers on tch: {worst:e}");
}
