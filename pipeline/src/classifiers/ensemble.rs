//! Ensembles of binary classifiers without labels to weigh them: each model's scores (positive =
//! the positive class) scaled, and optionally centred, on its own scores over unlabelled texts,
//! then added (Mesnil et al. 2015 add a language model's and NB-SVM's scores this way).

/// Adds the models' scores (positive = positive class), each divided by its standard
/// deviation over `reference` (the same models' scores on unlabelled texts): models on
/// different scales then weigh alike, and no labelled data is spent on weighing them. With
/// `centre`, each model's median over `reference` is first subtracted, so that each calls half
/// of the reference texts positive: the balanced prior of the labelled sample, whatever
/// threshold a model learned (self-trained students drift towards one class).
///
/// ```
/// use transfer_pipeline::classifiers::ensemble::combine_scores;
/// // The first model's scores spread twice as wide: its 2 counts as the second's 1.
/// let scores = [vec![2.0, -4.0], vec![-1.0, 1.0]];
/// let reference = [vec![2.0, -2.0], vec![1.0, -1.0]];
/// assert_eq!(combine_scores(&scores, &reference, false), vec![0.0, -1.0]);
/// ```
pub fn combine_scores<const M: usize>(
    scores: &[Vec<f64>; M],
    reference: &[Vec<f64>; M],
    centre: bool,
) -> Vec<f64> {
    let scales = reference.each_ref().map(|r| {
        let centre = if centre { median(r) } else { 0.0 };
        let scale = mean_and_std(r).1.max(f64::MIN_POSITIVE);
        (centre, scale)
    });
    let n = scores.iter().map(Vec::len).min().unwrap_or(0);
    (0..n)
        .map(|i| {
            scores
                .iter()
                .zip(&scales)
                .map(|(s, (centre, scale))| (s[i] - centre) / scale)
                .sum()
        })
        .collect()
}

/// The median of `values` (0 when empty).
///
/// ```
/// use transfer_pipeline::classifiers::ensemble::median;
/// assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
/// assert_eq!(median(&[4.0, 1.0]), 2.5);
/// ```
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Mean and population standard deviation of `values`; zeros when empty.
///
/// ```
/// use transfer_pipeline::classifiers::ensemble::mean_and_std;
/// assert_eq!(mean_and_std(&[1.0, 3.0]), (2.0, 1.0));
/// ```
pub fn mean_and_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::combine_scores;

    #[test]
    fn combined_scores_weigh_each_model_by_its_spread_on_the_reference_texts() {
        // The first model's scores spread three times as wide: its 3 counts as the second's 1.
        let scores = [vec![3.0, -3.0, 6.0], vec![-2.0, 1.0, -1.0]];
        let reference = [vec![3.0, -3.0], vec![1.0, -1.0]];
        assert_eq!(
            combine_scores(&scores, &reference, false),
            vec![-1.0, 0.0, 1.0]
        );
        // Rescaling one model (scores and reference alike) changes nothing.
        let scaled = [
            scores[0].iter().map(|s| s * 100.0).collect(),
            scores[1].clone(),
        ];
        let scaled_reference = [vec![300.0, -300.0], reference[1].clone()];
        assert_eq!(
            combine_scores(&scaled, &scaled_reference, false),
            vec![-1.0, 0.0, 1.0]
        );
    }

    #[test]
    fn centred_scores_call_half_of_the_reference_texts_positive() {
        // Both models call every reference text positive; centred, each splits them in half.
        let reference = [vec![1.0, 2.0, 3.0, 4.0], vec![10.0, 20.0, 30.0, 40.0]];
        let combined = combine_scores(&reference, &reference, true);
        assert_eq!(combined.iter().filter(|&&c| c > 0.0).count(), 2);
        assert!(combined[0] < 0.0 && combined[3] > 0.0);
        // A median of an even count lies between the middle two; so does the threshold.
        let scores = [vec![2.5], vec![25.0]];
        assert_eq!(combine_scores(&scores, &reference, true), vec![0.0]);
        assert_eq!(super::median(&[3.0, 1.0, 2.0]), 2.0);
    }
}
