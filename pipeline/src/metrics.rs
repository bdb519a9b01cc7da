use serde::{Deserialize, Serialize};

/// How well a pipeline does on labelled examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub examples: usize,
    /// Mean loss (cross-entropy or squared error).
    pub loss: f64,
    /// Share of examples whose predicted class is right (classification).
    pub accuracy: Option<f64>,
    /// Unweighted mean over classes of F1 (classification).
    pub macro_f1: Option<f64>,
    /// Mean squared error (regression).
    pub mse: Option<f64>,
}

/// Accuracy and macro-F1 of `predicted` against `actual` classes.
pub fn classification_scores(
    predicted: &[usize],
    actual: &[usize],
    num_classes: usize,
) -> (f64, f64) {
    let n = predicted.len().max(1) as f64;
    let correct = predicted.iter().zip(actual).filter(|(p, a)| p == a).count() as f64;
    let mut f1_sum = 0.0;
    for class in 0..num_classes {
        let tp = predicted
            .iter()
            .zip(actual)
            .filter(|&(&p, &a)| p == class && a == class)
            .count() as f64;
        let fp = predicted
            .iter()
            .zip(actual)
            .filter(|&(&p, &a)| p == class && a != class)
            .count() as f64;
        let fn_ = predicted
            .iter()
            .zip(actual)
            .filter(|&(&p, &a)| p != class && a == class)
            .count() as f64;
        if tp + fp + fn_ > 0.0 {
            f1_sum += 2.0 * tp / (2.0 * tp + fp + fn_);
        }
    }
    (correct / n, f1_sum / num_classes.max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_and_macro_f1() {
        let (acc, f1) = classification_scores(&[0, 1, 1, 1], &[0, 1, 0, 1], 2);
        assert_eq!(acc, 0.75);
        // class 0: tp 1 fp 0 fn 1 → 2/3; class 1: tp 2 fp 1 fn 0 → 0.8
        assert!((f1 - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-12);
    }
}
