//! Regression on real IMDB reviews: a pipeline with a `PooledRegressor` learns the star rating
//! (1–10) better than always answering the training mean, and predicts the same after a save
//! and a load; with target scaling it learns ratings given in a unit 1,000 times larger.

mod common;

use burn::prelude::Device;
use common::*;
use transfer_nlp::contextual::BagOfEmbeddings;
use transfer_nlp::embedder::AnyEmbedder;
use transfer_nlp::pipeline::data::imdb::balanced_sample;
use transfer_nlp::predictor::{
    AnyPredictor, PooledRegressor, PooledRegressorConfig, TargetScaling,
};
use transfer_nlp::tokenizer::AnyTokenizer;
use transfer_nlp::*;

/// `n` balanced reviews with their star rating as the target.
fn rated(test: bool, n: usize, seed: u64) -> Vec<Example> {
    let reviews = if test { &imdb().test } else { &imdb().train };
    balanced_sample(reviews, n, seed)
        .unwrap()
        .iter()
        .map(|r| Example::values(r.text.clone(), vec![f32::from(r.stars)]))
        .collect()
}

fn stars(examples: &[Example]) -> Vec<f64> {
    examples
        .iter()
        .map(|e| match &e.target {
            Target::Values(v) => f64::from(v[0]),
            _ => unreachable!("rated examples"),
        })
        .collect()
}

/// A bag-of-embeddings regressor trained on `train`, its targets standardised with `scaling`.
fn trained(train: &[Example], scaling: Option<TargetScaling>, device: &Device) -> AnyPipeline {
    let (tokenizer, embedder) = word_stages(train, device);
    let config = PooledRegressorConfig::new(32).with_scaling(scaling);
    let head = PooledRegressor::from_config(&config, device).unwrap();
    let mut pipeline: AnyPipeline = TransferPipeline::new(
        AnyTokenizer::from(tokenizer),
        AnyEmbedder::from(embedder),
        BagOfEmbeddings::new(32).into(),
        AnyPredictor::from(head),
        device,
    )
    .unwrap();
    let config = TrainConfig {
        epochs: 6,
        learning_rate: 0.02,
        schedule: LrSchedule::Constant,
        seed: 4,
        ..TrainConfig::default()
    };
    pipeline.train(train, &config).unwrap();
    pipeline
}

/// The pipeline's mean squared error on `test` and that of always answering `train`'s mean.
fn errors(pipeline: &AnyPipeline, train: &[Example], test: &[Example]) -> (f64, f64) {
    let truth = stars(test);
    let mean = stars(train).iter().sum::<f64>() / train.len() as f64;
    let baseline = truth.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / truth.len() as f64;
    let mse = pipeline
        .evaluate(test)
        .unwrap()
        .mse
        .expect("a regression metric");
    (mse, baseline)
}

#[test]
fn a_regressor_learns_star_ratings_and_survives_save_and_load() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let (train, test) = (rated(false, 1000, 3), rated(true, 400, 3));
    let pipeline = trained(&train, None, &device);
    let (mse, baseline) = errors(&pipeline, &train, &test);
    // The ratings spread over 1–4 and 7–10: the mean's error is about 12.
    assert!(
        mse < 0.7 * baseline,
        "mse {mse} against the mean's {baseline}"
    );

    let dir = std::env::temp_dir().join(format!("transfer-regression-{}", std::process::id()));
    pipeline.save(&dir).unwrap();
    let loaded = AnyPipeline::load(&dir, &device).unwrap();
    let some: Vec<&str> = test[..8].iter().map(|e| e.text.as_str()).collect();
    assert_eq!(
        loaded.predict(&some).unwrap(),
        pipeline.predict(&some).unwrap()
    );
    assert_eq!(loaded.evaluate(&test).unwrap().mse, Some(mse));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn scaled_targets_are_learned_in_any_unit_and_kept_by_save_and_load() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    // Ratings in thousandths of a star: 1,000 … 10,000, far from where a fresh layer starts.
    let thousandths = |examples: Vec<Example>| -> Vec<Example> {
        let values = stars(&examples);
        examples
            .into_iter()
            .zip(values)
            .map(|(e, v)| Example::values(e.text, vec![(v * 1000.0) as f32]))
            .collect()
    };
    let (train, test) = (
        thousandths(rated(false, 1000, 3)),
        thousandths(rated(true, 400, 3)),
    );
    let targets: Vec<Vec<f32>> = stars(&train).iter().map(|&v| vec![v as f32]).collect();
    let pipeline = trained(&train, TargetScaling::of(&targets), &device);
    let (mse, baseline) = errors(&pipeline, &train, &test);
    assert!(
        mse < 0.7 * baseline,
        "mse {mse} against the mean's {baseline}"
    );

    let dir = std::env::temp_dir().join(format!("transfer-scaled-{}", std::process::id()));
    pipeline.save(&dir).unwrap();
    let loaded = AnyPipeline::load(&dir, &device).unwrap();
    assert_eq!(loaded.evaluate(&test).unwrap().mse, Some(mse));
    std::fs::remove_dir_all(&dir).unwrap();
}
