//! The same seeds give the same models: burn draws a fresh parameter lazily, at its first use,
//! from one generator per process, and training seeds that generator first. One test alone in
//! its binary, as tests running beside it would draw from the same generator (the study's
//! counterpart is `textflix/tests/reproducible.rs`).

mod common;

use burn::prelude::Device;
use common::*;
use transfer_nlp::*;

/// Before training seeded the generator, a fresh head was drawn from whatever state earlier
/// work had left (entropy in a new process): a Textflix cell depended on the cell before it.
#[test]
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
