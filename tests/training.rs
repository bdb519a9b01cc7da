//! Training on real IMDB reviews: learning, freezing, per-stage learning rates, gradual
//! unfreezing, early stopping.

mod common;

use burn::prelude::Device;
use common::*;
use transfer_nlp::*;

fn quick(epochs: usize, lr: f64) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 32,
        learning_rate: lr,
        schedule: LrSchedule::Constant,
        seed: 3,
        ..TrainConfig::default()
    }
}

#[test]
fn bag_of_embeddings_learns_imdb_sentiment() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let train = examples(false, 1000, 1);
    let test = examples(true, 500, 1);
    let mut pipeline = word_pipeline(&train, Arch::Bag, &device);
    let before = pipeline.evaluate(&test).unwrap();
    let report = pipeline.train(&train, &quick(4, 0.02)).unwrap();
    let after = pipeline.evaluate(&test).unwrap();
    assert_eq!(report.steps, 4 * 1000usize.div_ceil(32));
    assert!(report.epochs.last().unwrap().train_loss < report.epochs[0].train_loss);
    assert!(after.loss < before.loss, "{before:?} → {after:?}");
    assert!(after.accuracy.unwrap() > 0.70, "{after:?}");
}

#[test]
fn a_frozen_stage_stays_bit_identical_while_the_others_change() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let train = examples(false, 96, 2);
    let mut pipeline = word_pipeline(&train, Arch::BiLstm, &device);
    pipeline.freeze(Stage::Embedder);
    assert!(pipeline.is_frozen(Stage::Embedder));
    let embedder = params(&pipeline.stages().embedder);
    let contextual = params(&pipeline.stages().contextual);
    let predictor = params(&pipeline.stages().predictor);
    pipeline.train(&train, &quick(1, 1e-2)).unwrap();
    assert_eq!(
        params(&pipeline.stages().embedder),
        embedder,
        "frozen embedder changed"
    );
    assert_ne!(params(&pipeline.stages().contextual), contextual);
    assert_ne!(params(&pipeline.stages().predictor), predictor);
    assert!(pipeline.is_frozen(Stage::Embedder));

    // Unfrozen, it trains again.
    pipeline.unfreeze(Stage::Embedder);
    pipeline.train(&train, &quick(1, 1e-2)).unwrap();
    assert_ne!(params(&pipeline.stages().embedder), embedder);
}

#[test]
fn per_stage_learning_rates_are_applied() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let train = examples(false, 96, 4);
    let mut pipeline = word_pipeline(&train, Arch::BiLstm, &device);
    let embedder = params(&pipeline.stages().embedder);
    let contextual = params(&pipeline.stages().contextual);
    let predictor = params(&pipeline.stages().predictor);
    let mut config = quick(1, 1e-2);
    config.weight_decay = 0.0;
    config.max_grad_norm = None;
    config.stage_learning_rates = [
        (Stage::Embedder, 0.0),
        (Stage::Contextual, 1e-4),
        (Stage::Predictor, 1e-2),
    ]
    .into();
    pipeline.train(&train, &config).unwrap();
    // Learning rate 0: not a bit moves. Adam's steps are about the learning rate, so a
    // 100× smaller rate moves the weights far less.
    assert_eq!(params(&pipeline.stages().embedder), embedder);
    let slow = mean_change(&contextual, &params(&pipeline.stages().contextual));
    let fast = mean_change(&predictor, &params(&pipeline.stages().predictor));
    assert!(
        slow > 0.0 && fast > 20.0 * slow,
        "contextual moved {slow}, predictor {fast}"
    );
}

#[test]
fn gradual_unfreezing_trains_the_top_stage_first() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let train = examples(false, 64, 5);
    let mut pipeline = word_pipeline(&train, Arch::BiLstm, &device);
    let mut config = quick(3, 1e-3).with_discriminative_rates(2.6);
    config.gradual_unfreezing = true;
    let report = pipeline.train(&train, &config).unwrap();
    let trained: Vec<Vec<Stage>> = report.epochs.iter().map(|e| e.trained.clone()).collect();
    assert_eq!(
        trained,
        vec![
            vec![Stage::Predictor],
            vec![Stage::Contextual, Stage::Predictor],
            vec![Stage::Embedder, Stage::Contextual, Stage::Predictor],
        ]
    );
    assert!((config.learning_rate_of(Stage::Embedder) - 1e-3 / 2.6 / 2.6).abs() < 1e-12);
    assert!(!pipeline.is_frozen(Stage::Contextual));
}

#[test]
fn early_stopping_keeps_the_best_epoch() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let train = examples(false, 300, 6);
    let mut pipeline = word_pipeline(&train, Arch::Bag, &device);
    let mut config = quick(8, 0.05);
    config.validation_fraction = 0.3;
    config.early_stopping_patience = Some(2);
    let report = pipeline.train(&train, &config).unwrap();
    let best = report.best_epoch.expect("validation ran");
    let accuracies: Vec<f64> = report
        .epochs
        .iter()
        .map(|e| e.validation.as_ref().unwrap().accuracy.unwrap())
        .collect();
    let top = accuracies.iter().copied().fold(f64::MIN, f64::max);
    assert_eq!(accuracies[best], top);
    assert!(
        report.epochs.len() == 8 || report.epochs.len() - 1 - best == 2,
        "{accuracies:?}"
    );
}

/// With nothing to learn (learning rate 0) validation never improves on the first epoch:
/// training stops `patience` epochs after it, and runs every epoch without early stopping or
/// with a patience longer than the run.
#[test]
fn early_stopping_stops_when_validation_stops_improving_and_not_otherwise() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let train = examples(false, 120, 8);
    for (patience, epochs_run) in [(Some(2), 3), (Some(1), 2), (None, 6), (Some(6), 6)] {
        let mut pipeline = word_pipeline(&train, Arch::Bag, &device);
        let mut config = quick(6, 0.0);
        config.validation_fraction = 0.3;
        config.early_stopping_patience = patience;
        let report = pipeline.train(&train, &config).unwrap();
        assert_eq!(report.epochs.len(), epochs_run, "patience {patience:?}");
        assert_eq!(report.best_epoch, Some(0), "patience {patience:?}");
    }
}

/// With `keep_best`, the saved weights are the best validation epoch's: scored again on the
/// same reviews they give that epoch's accuracy, not the last one's.
#[test]
fn keep_best_keeps_the_best_validation_epoch() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let train = examples(false, 200, 8);
    let validation = examples(true, 100, 8);
    let scores = |keep_best: bool| {
        let mut pipeline = word_pipeline(&train, Arch::Bag, &device);
        // A rate too high to settle: the validation accuracy moves from epoch to epoch.
        let mut config = quick(6, 0.3);
        config.keep_best = keep_best;
        let report = pipeline
            .train_with_validation(&train, Some(&validation), &config)
            .unwrap();
        let accuracy =
            |e: &transfer_nlp::pipeline::EpochReport| e.validation.as_ref().unwrap().accuracy;
        let best = report.best_epoch.unwrap();
        let now = pipeline.evaluate(&validation).unwrap().accuracy;
        (
            accuracy(&report.epochs[best]),
            accuracy(report.epochs.last().unwrap()),
            now,
        )
    };
    let (best, last, kept) = scores(true);
    assert_ne!(
        best, last,
        "the test needs a last epoch worse than the best"
    );
    assert_eq!(kept, best);
    let (_, last, kept) = scores(false);
    assert_eq!(kept, last);
}

#[test]
fn a_learning_rate_that_blows_up_is_a_typed_error() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let train = examples(false, 64, 7);
    let mut pipeline = word_pipeline(&train, Arch::Bag, &device);
    let mut config = quick(3, 1e30);
    config.max_grad_norm = None;
    match pipeline.train(&train, &config) {
        Err(TransferError::NonFiniteLoss { .. }) => {}
        other => panic!("expected NonFiniteLoss, got {other:?}"),
    }
}

#[test]
fn attributions_explain_the_predicted_probabilities_word_by_word() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let train = examples(false, 1000, 1);
    let mut pipeline = word_pipeline(&train, Arch::Bag, &device);
    pipeline.train(&train, &quick(4, 0.02)).unwrap();
    let texts = [
        "An excellent, wonderful film. I loved every minute.",
        "Awful. The worst, most boring movie I have ever seen.",
    ];
    let attributions = pipeline.attribute(&texts, 1).unwrap();
    let predictions = pipeline.predict(&texts).unwrap();
    for ((attribution, prediction), text) in attributions.iter().zip(&predictions).zip(texts) {
        // The forward pass explained is the one `predict` makes: no dropout, same weights.
        let expected = &prediction.as_class().unwrap().probabilities;
        for (a, b) in attribution.probabilities.iter().zip(expected) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        // Every word of the text, no special tokens, offsets into the text.
        let words: Vec<&str> = attribution
            .tokens
            .iter()
            .map(|t| &text[t.start..t.end])
            .collect();
        assert!(
            words.contains(&"film") || words.contains(&"movie"),
            "{words:?}"
        );
        assert!(attribution.tokens.iter().all(|t| t.score.is_finite()));
    }
    // With mean pooling and a linear head each score is the word's own share of the
    // "positive" logit: the positive words push it up, the negative ones down.
    let score = |row: usize, word: &str| {
        attributions[row]
            .tokens
            .iter()
            .find(|t| texts[row][t.start..t.end].eq_ignore_ascii_case(word))
            .map(|t| t.score)
            .unwrap()
    };
    assert!(score(0, "excellent") > 0.0 && score(0, "wonderful") > 0.0);
    assert!(score(1, "worst") < 0.0 && score(1, "boring") < 0.0);
    let total = |row: usize| {
        attributions[row]
            .tokens
            .iter()
            .map(|t| t.score)
            .sum::<f32>()
    };
    assert!(total(0) > total(1), "{} vs {}", total(0), total(1));
    assert!(
        pipeline.attribute(&texts, 2).is_err(),
        "class 2 of 2 is refused"
    );
}
