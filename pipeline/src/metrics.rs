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
    /// Precision, recall and F1 of each class (classification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_class: Option<Vec<ClassScores>>,
    /// `confusion[actual][predicted]`: how many examples of each class went to each
    /// (classification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confusion: Option<Vec<Vec<usize>>>,
    /// Mean absolute error, root mean squared error and the Pearson and Spearman correlations
    /// of predictions and targets (regression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regression: Option<RegressionScores>,
}

/// How close real-valued predictions are to their targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionScores {
    pub mae: f64,
    pub rmse: f64,
    /// Linear correlation (NaN when either side is constant).
    pub pearson: f64,
    /// Rank correlation, ties at their mean rank (NaN when either side is constant).
    pub spearman: f64,
}

/// Scores of `predicted` against `actual` (same length).
///
/// ```
/// use transfer_pipeline::metrics::regression_scores;
/// let s = regression_scores(&[1.0, 2.0, 4.0], &[1.0, 3.0, 5.0]);
/// assert!((s.mae - 2.0 / 3.0).abs() < 1e-12 && (s.spearman - 1.0).abs() < 1e-12);
/// ```
pub fn regression_scores(predicted: &[f64], actual: &[f64]) -> RegressionScores {
    let n = predicted.len().max(1) as f64;
    let errors = predicted.iter().zip(actual).map(|(p, a)| p - a);
    let mae = errors.clone().map(f64::abs).sum::<f64>() / n;
    let rmse = (errors.map(|e| e * e).sum::<f64>() / n).sqrt();
    RegressionScores {
        mae,
        rmse,
        pearson: pearson(predicted, actual),
        spearman: pearson(&ranks(predicted), &ranks(actual)),
    }
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

/// 1-based ranks, ties at their mean rank.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = mean;
        }
        i = j + 1;
    }
    ranks
}

/// How well one class is found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    pub label: String,
    /// Of the examples predicted this class, the share that are (0 when none are predicted).
    pub precision: f64,
    /// Of the examples of this class, the share predicted so (0 when there are none).
    pub recall: f64,
    pub f1: f64,
    /// Examples of this class.
    pub support: usize,
}

/// The confusion matrix (`[actual][predicted]`) and each class's scores, named by `labels`.
///
/// ```
/// use transfer_pipeline::metrics::class_report;
/// let (scores, confusion) = class_report(&[0, 1, 1, 1], &[0, 1, 0, 1], &["neg".into(), "pos".into()]);
/// assert_eq!(confusion, vec![vec![1, 1], vec![0, 2]]);
/// assert_eq!((scores[0].precision, scores[0].recall, scores[0].support), (1.0, 0.5, 2));
/// ```
pub fn class_report(
    predicted: &[usize],
    actual: &[usize],
    labels: &[String],
) -> (Vec<ClassScores>, Vec<Vec<usize>>) {
    let k = labels.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for (&p, &a) in predicted.iter().zip(actual) {
        if p < k && a < k {
            confusion[a][p] += 1;
        }
    }
    let ratio = |num: usize, den: usize| {
        if den == 0 {
            0.0
        } else {
            num as f64 / den as f64
        }
    };
    let scores = (0..k)
        .map(|c| {
            let tp = confusion[c][c];
            let predicted_c: usize = confusion.iter().map(|row| row[c]).sum();
            let support: usize = confusion[c].iter().sum();
            let (precision, recall) = (ratio(tp, predicted_c), ratio(tp, support));
            let f1 = ratio(2 * tp, predicted_c + support);
            ClassScores {
                label: labels[c].clone(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    (scores, confusion)
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
