//! The study's baselines on real IMDB reviews.

mod common;

use common::*;
use transfer_nlp::embedder::WordVectors;
use transfer_nlp::pipeline::classifiers::{NbSvm, NbSvmConfig, WordVectorSum};
use transfer_nlp::*;

fn split(examples: &[Example]) -> (Vec<&str>, Vec<bool>) {
    examples
        .iter()
        .map(|e| (e.text.as_str(), e.target == Target::Class(1)))
        .unzip()
}

fn accuracy(predicted: &[bool], actual: &[bool]) -> f64 {
    predicted.iter().zip(actual).filter(|(p, a)| p == a).count() as f64 / actual.len() as f64
}

#[test]
fn nbsvm_learns_from_a_thousand_reviews() {
    let _rng = exclusive_rng();
    let train = examples(false, 1000, 1);
    let (train, labels) = split(&train);
    let test = examples(true, 4000, 2);
    let (test_texts, test_labels) = split(&test);
    let model = NbSvm::fit(&train, &labels, &NbSvmConfig::default()).unwrap();
    let acc = accuracy(&model.predict(&test_texts), &test_labels);
    eprintln!(
        "NB-SVM n=1000: {acc:.4} ({} features, {} epochs)",
        model.num_features(),
        model.epochs
    );
    // scikit-learn reference at n = 1,000: 77.8 % (5 seeds).
    assert!(acc > 0.75, "{acc}");
    assert!(model.epochs < NbSvmConfig::default().max_epochs);
}

#[test]
fn nbsvm_midpoint_intercept_calls_half_the_reviews_positive() {
    let _rng = exclusive_rng();
    let train = examples(false, 1000, 1);
    let (train, labels) = split(&train);
    let test = examples(true, 4000, 2);
    let (test_texts, test_labels) = split(&test);
    let fit = |midpoint_intercept| {
        let config = NbSvmConfig {
            midpoint_intercept,
            ..NbSvmConfig::default()
        };
        let predicted = NbSvm::fit(&train, &labels, &config)
            .unwrap()
            .predict(&test_texts);
        let positive = predicted.iter().filter(|&&p| p).count() as f64 / predicted.len() as f64;
        (accuracy(&predicted, &test_labels), positive)
    };
    let (paper, midpoint) = (fit(false), fit(true));
    eprintln!("NB-SVM n=1000 (accuracy, called positive): paper {paper:?}, midpoint {midpoint:?}");
    // The test set is balanced.
    assert!((midpoint.1 - 0.5).abs() < 0.05, "{midpoint:?}");
    assert!(
        midpoint.0 > 0.8 && midpoint.0 >= paper.0,
        "{midpoint:?} against {paper:?}"
    );
}

#[test]
fn word_vector_sums_learn_from_a_thousand_reviews() {
    let _rng = exclusive_rng();
    let vectors = WordVectors::load(assets().join("vectors/glove.6B.50d.100k.txt.gz")).unwrap();
    let (train, test) = (examples(false, 1000, 1), examples(true, 4000, 2));
    let ((train, labels), (test, test_labels)) = (split(&train), split(&test));
    let model =
        WordVectorSum::fit(&WordVectorSum::features(&vectors, &train), &labels, 1.0).unwrap();
    let acc = accuracy(
        &model.predict(&WordVectorSum::features(&vectors, &test)),
        &test_labels,
    );
    eprintln!("word-vector sum n=1000: {acc:.4}");
    // scikit-learn reference at n = 1,000: 73.2 % (5 seeds).
    assert!(acc > 0.70, "{acc}");
}

#[test]
fn baselines_refuse_bad_input() {
    let _rng = exclusive_rng();
    assert!(matches!(
        NbSvm::fit::<&str>(&[], &[], &NbSvmConfig::default()),
        Err(TransferError::EmptyDataset { .. })
    ));
    assert!(matches!(
        NbSvm::fit(&["good", " "], &[true, false], &NbSvmConfig::default()),
        Err(TransferError::EmptyText { index: 1, .. })
    ));
    assert!(NbSvm::fit(&["good"], &[true, false], &NbSvmConfig::default()).is_err());
}
