use serde::{Deserialize, Serialize};

/// How well a pipeline does on labelled examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub examples: usize,
    /// Mean loss (cross-entropy or squared error).
    pub loss: f64,
    /// Share of examples whose predicted class is right (classification), or whose predicted
    /// label set is exactly right (multi-label).
    pub accuracy: Option<f64>,
    /// Unweighted mean over classes (or labels) of F1.
    pub macro_f1: Option<f64>,
    /// Mean squared error (regression).
    pub mse: Option<f64>,
    /// Precision, recall and F1 of each class or label.
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
    /// Micro-F1 and Hamming loss (multi-label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_label: Option<MultiLabelScores>,
}

/// How well label sets are predicted, over all labels together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiLabelScores {
    /// F1 of every (text, label) decision pooled: 2·TP / (2·TP + FP + FN).
    pub micro_f1: f64,
    /// Share of (text, label) decisions that are wrong.
    pub hamming_loss: f64,
}

/// Each label's scores, the pooled scores, the macro-F1 and the share of exactly right sets,
/// for `predicted[text][label]` against `actual[text][label]`.
///
/// ```
/// use transfer_pipeline::metrics::multi_label_report;
/// let predicted = [vec![true, false], vec![true, true]];
/// let actual = [vec![true, false], vec![false, true]];
/// let (labels, pooled, macro_f1, exact) =
///     multi_label_report(&predicted, &actual, &["a".into(), "b".into()]);
/// assert_eq!((labels[0].precision, labels[1].recall), (0.5, 1.0));
/// assert!((pooled.micro_f1 - 0.8).abs() < 1e-12 && (pooled.hamming_loss - 0.25).abs() < 1e-12);
/// assert!((macro_f1 - (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-12 && exact == 0.5);
/// ```
pub fn multi_label_report(
    predicted: &[Vec<bool>],
    actual: &[Vec<bool>],
    labels: &[String],
) -> (Vec<ClassScores>, MultiLabelScores, f64, f64) {
    let count = |label: usize, want_p: bool, want_a: bool| {
        predicted
            .iter()
            .zip(actual)
            .filter(|(p, a)| p[label] == want_p && a[label] == want_a)
            .count()
    };
    let (mut tp_all, mut fp_all, mut fn_all) = (0, 0, 0);
    let scores: Vec<ClassScores> = labels
        .iter()
        .enumerate()
        .map(|(l, label)| {
            let (tp, fp, fn_) = (
                count(l, true, true),
                count(l, true, false),
                count(l, false, true),
            );
            (tp_all, fp_all, fn_all) = (tp_all + tp, fp_all + fp, fn_all + fn_);
            ClassScores {
                label: label.clone(),
                precision: ratio(tp, tp + fp),
                recall: ratio(tp, tp + fn_),
                f1: ratio(2 * tp, 2 * tp + fp + fn_),
                support: tp + fn_,
            }
        })
        .collect();
    let decisions = predicted.len() * labels.len();
    let pooled = MultiLabelScores {
        micro_f1: ratio(2 * tp_all, 2 * tp_all + fp_all + fn_all),
        hamming_loss: ratio(fp_all + fn_all, decisions),
    };
    let macro_f1 = scores.iter().map(|s| s.f1).sum::<f64>() / labels.len().max(1) as f64;
    let exact = predicted.iter().zip(actual).filter(|(p, a)| p == a).count();
    (scores, pooled, macro_f1, ratio(exact, predicted.len()))
}

/// The threshold on `probabilities` that gives the best F1 against `actual` (ties go to the
/// threshold nearest 0.5), from 0.05, 0.10, … 0.95; 0.5 when no example is positive.
///
/// ```
/// use transfer_pipeline::metrics::best_threshold;
/// // 0.15 and 0.20 both find the three positives and nothing else; 0.20 is nearer 0.5.
/// let t = best_threshold(&[0.1, 0.22, 0.3, 0.9], &[false, true, true, true]);
/// assert!((t - 0.2).abs() < 1e-6);
/// assert_eq!(best_threshold(&[0.7, 0.8], &[false, false]), 0.5);
/// ```
pub fn best_threshold(probabilities: &[f32], actual: &[bool]) -> f32 {
    if !actual.contains(&true) {
        return 0.5;
    }
    let f1 = |threshold: f32| {
        let (mut tp, mut wrong) = (0usize, 0usize);
        for (&p, &a) in probabilities.iter().zip(actual) {
            match (p >= threshold, a) {
                (true, true) => tp += 1,
                (true, false) | (false, true) => wrong += 1,
                (false, false) => {}
            }
        }
        2.0 * tp as f64 / (2 * tp + wrong) as f64
    };
    let mut best = (f64::NEG_INFINITY, 0.5f32);
    for step in 1..20 {
        let threshold = step as f32 * 0.05;
        let score = f1(threshold);
        let nearer = (threshold - 0.5).abs() < (best.1 - 0.5).abs();
        if score > best.0 || (score == best.0 && nearer) {
            best = (score, threshold);
        }
    }
    best.1
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

/// `num / den`, 0 when `den` is 0.
fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
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
