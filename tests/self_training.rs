//! Pseudo-labels from a classifier trained on real IMDB reviews.

mod common;

use burn::prelude::Device;
use common::*;
use proptest::prelude::*;
use transfer_nlp::pipeline::training::self_training::{
    PseudoLabelConfig, most_confident_by_score, pseudo_label,
};
use transfer_nlp::*;

fn accuracy(guesses: &[Example], truth: &[Example]) -> f64 {
    let right = guesses
        .iter()
        .filter(|g| {
            truth
                .iter()
                .any(|t| t.text == g.text && t.target == g.target)
        })
        .count();
    right as f64 / guesses.len() as f64
}

#[test]
fn the_most_confident_guesses_are_balanced_and_more_often_right() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let train = examples(false, 1000, 2);
    let mut teacher = word_pipeline(&train, Arch::Bag, &device);
    let config = TrainConfig {
        epochs: 4,
        learning_rate: 0.02,
        schedule: LrSchedule::Constant,
        seed: 2,
        ..TrainConfig::default()
    };
    teacher.train(&train, &config).unwrap();
    // Held-out reviews stand in for unlabelled ones; their labels only score the guesses.
    let held_out = examples(true, 600, 2);
    let texts: Vec<&str> = held_out.iter().map(|e| e.text.as_str()).collect();
    let overall = teacher.evaluate(&held_out).unwrap().accuracy.unwrap();

    let config = PseudoLabelConfig {
        per_class: 60,
        min_probability: 0.5,
        balanced: true,
    };
    let guesses = pseudo_label(&teacher, &texts, &config).unwrap();
    assert_eq!(guesses.len(), 120);
    let positive = guesses
        .iter()
        .filter(|g| g.target == Target::Class(1))
        .count();
    assert_eq!(positive, 60);
    let confident = accuracy(&guesses, &held_out);
    assert!(
        confident > overall + 0.1,
        "confident {confident:.3} vs all {overall:.3}"
    );

    // A threshold no guess reaches keeps none.
    let none = PseudoLabelConfig {
        min_probability: 1.5,
        ..config
    };
    assert!(pseudo_label(&teacher, &texts, &none).unwrap().is_empty());
    assert!(matches!(
        pseudo_label(&teacher, &Vec::<&str>::new(), &config),
        Err(TransferError::EmptyDataset { .. })
    ));
}

proptest! {
    /// Scores of a binary ensemble: as many guesses of each class, none with a score of the
    /// other sign, and no guess left out that is surer than one kept.
    #[test]
    fn guesses_by_score_are_balanced_and_the_surest(
        scores in prop::collection::vec(-5.0f64..5.0, 0..60),
        per_class in 0usize..20,
    ) {
        let kept = most_confident_by_score(&scores, per_class);
        let of_class = |class: usize| kept.iter().filter(|k| k.1 == class).count();
        prop_assert_eq!(of_class(0), of_class(1));
        prop_assert!(of_class(0) <= per_class);
        for &(i, class) in &kept {
            let surety = if class == 1 { scores[i] } else { -scores[i] };
            prop_assert!(surety > 0.0);
            let left_surer = (0..scores.len()).filter(|j| !kept.contains(&(*j, class))).any(|j| {
                (if class == 1 { scores[j] } else { -scores[j] }) > surety
            });
            prop_assert!(!left_surer, "{:?} kept before a surer guess", (i, class));
        }
    }
}
