//! Multi-label classification on a small synthetic set: IMDB reviews with topic words mixed
//! in, each review tagged with every topic it mentions (none, one or several). A bag of
//! embeddings with a sigmoid head learns to tag unseen reviews; thresholds tuned on held-out
//! reviews, predictions and scores survive a save and a load.

mod common;

use burn::prelude::Device;
use common::*;
use transfer_nlp::contextual::BagOfEmbeddings;
use transfer_nlp::embedder::AnyEmbedder;
use transfer_nlp::pipeline::data::rng::SplitMix64;
use transfer_nlp::predictor::{AnyPredictor, PooledClassifier, PooledClassifierConfig, Pooling};
use transfer_nlp::tokenizer::AnyTokenizer;
use transfer_nlp::*;

const TOPICS: [(&str, [&str; 4]); 3] = [
    ("food", ["pasta", "chef", "recipe", "spicy"]),
    ("music", ["guitar", "album", "concert", "drummer"]),
    ("sports", ["goal", "league", "referee", "stadium"]),
];

/// `n` reviews (the first 40 words of each), each with a random subset of the topics: two of
/// a topic's words inserted at random places for each topic it has.
fn tagged(test: bool, n: usize, seed: u64) -> Vec<Example> {
    let reviews = if test { &imdb().test } else { &imdb().train };
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|i| {
            let review = &reviews[(i * 97 + seed as usize) % reviews.len()].text;
            let mut words: Vec<&str> = review.split_whitespace().take(40).collect();
            let labels: Vec<usize> = (0..TOPICS.len()).filter(|_| rng.below(2) == 1).collect();
            for &l in &labels {
                for _ in 0..2 {
                    let at = rng.below(words.len() + 1);
                    words.insert(at, TOPICS[l].1[rng.below(4)]);
                }
            }
            Example::labels(words.join(" "), labels)
        })
        .collect()
}

fn multi_label_pipeline(train: &[Example], device: &Device) -> AnyPipeline {
    let (tokenizer, embedder) = word_stages(train, device);
    let head = PooledClassifier::from_config(
        &PooledClassifierConfig::multi_label(32, 3).with_pooling(Pooling::Max),
        device,
    )
    .unwrap();
    TransferPipeline::new(
        AnyTokenizer::from(tokenizer),
        AnyEmbedder::from(embedder),
        BagOfEmbeddings::new(32).into(),
        AnyPredictor::from(head),
        device,
    )
    .unwrap()
    .with_labels(TOPICS.map(|(name, _)| name))
    .unwrap()
}

#[test]
fn a_multi_label_classifier_tags_unseen_texts_and_survives_save_and_load() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let (train, held_out, test) = (
        tagged(false, 400, 1),
        tagged(false, 100, 2),
        tagged(true, 200, 3),
    );
    let mut pipeline = multi_label_pipeline(&train, &device);
    let config = TrainConfig {
        epochs: 30,
        learning_rate: 0.03,
        schedule: LrSchedule::Constant,
        seed: 5,
        ..TrainConfig::default()
    };
    pipeline.train(&train, &config).unwrap();
    let thresholds = pipeline.tune_thresholds(&held_out).unwrap();
    assert_eq!(pipeline.thresholds(), thresholds.as_slice());
    assert!(thresholds.iter().all(|t| *t > 0.0 && *t < 1.0));

    let metrics = pipeline.evaluate(&test).unwrap();
    let pooled = metrics.multi_label.clone().expect("multi-label scores");
    let per_label = metrics.per_class.clone().expect("each label's scores");
    // Chance: tagging every text with every topic gives micro-F1 2/3, nothing at all 0.
    assert!(pooled.micro_f1 > 0.9, "{metrics:?}");
    assert!(per_label.iter().all(|l| l.f1 > 0.85), "{per_label:?}");
    // Exactly right sets: 1 in 8 by chance.
    assert!(metrics.accuracy.unwrap() > 0.7, "{metrics:?}");
    assert_eq!(
        per_label.iter().map(|l| l.support).sum::<usize>(),
        test.iter()
            .map(|e| match &e.target {
                Target::Labels(l) => l.len(),
                _ => 0,
            })
            .sum::<usize>()
    );

    let texts = [
        "The chef cooked spicy pasta from an old recipe.",
        "The drummer played at the stadium after the league final, with a guitar solo.",
        "A quiet film about nothing in particular.",
    ];
    let labels: Vec<Vec<String>> = pipeline
        .predict(&texts)
        .unwrap()
        .into_iter()
        .map(|p| match p {
            Prediction::Labels(l) => l.labels,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(labels[0], ["food"]);
    assert_eq!(labels[1], ["music", "sports"]);
    assert!(labels[2].is_empty(), "{labels:?}");

    let dir = std::env::temp_dir().join(format!("transfer-multi-label-{}", std::process::id()));
    pipeline.save(&dir).unwrap();
    let loaded = AnyPipeline::load(&dir, &device).unwrap();
    assert_eq!(loaded.thresholds(), pipeline.thresholds());
    assert_eq!(
        loaded.predict(&texts).unwrap(),
        pipeline.predict(&texts).unwrap()
    );
    assert_eq!(loaded.evaluate(&test).unwrap(), metrics);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn label_sets_that_do_not_fit_are_typed_errors() {
    let device = Device::flex();
    let train = tagged(false, 20, 1);
    let mut pipeline = multi_label_pipeline(&train, &device);
    let out_of_range = [Example::labels("a text", vec![0, 3])];
    let error = pipeline.evaluate(&out_of_range).unwrap_err().to_string();
    assert!(error.contains("label 3"), "{error}");
    let a_class = [Example::class("a text", 1)];
    assert!(pipeline.train(&a_class, &TrainConfig::default()).is_err());
    let pipeline = pipeline.with_thresholds(vec![0.5, 1.0, 0.5]);
    assert!(pipeline.is_err(), "a threshold of 1 can never be reached");
}
