//! The PyTorch and scikit-learn reference curves drawn beside the study's, from
//! `$TRANSFER_ASSETS/reference/`.

use std::path::Path;

use crate::plot::Series;
use crate::results::Summary;

/// One reference curve: its name (what ran, how) and a summary per n, sorted by n.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceCurve {
    pub name: String,
    pub points: Vec<(usize, Summary)>,
}

/// The reference curves whose files are in `dir`: scikit-learn's NB-SVM and GloVe sum
/// (`sklearn_baselines.json`) and PyTorch's fine-tuned MiniLM (`pytorch_minilm_h200.json`).
pub fn reference_curves(dir: &Path) -> Vec<ReferenceCurve> {
    let read = |name: &str| -> Option<serde_json::Value> {
        serde_json::from_slice(&std::fs::read(dir.join(name)).ok()?).ok()
    };
    let mut out = Vec::new();
    if let Some(sk) = read("sklearn_baselines.json") {
        for (key, name) in [
            ("nbsvm", "nbsvm (sklearn ref)"),
            ("glove_sum_logreg", "wvsum (sklearn ref)"),
        ] {
            out.push(ReferenceCurve {
                name: name.into(),
                points: points(&sk[key]),
            });
        }
    }
    if let Some(pt) = read("pytorch_minilm_h200.json") {
        out.push(ReferenceCurve {
            name: "bert (PyTorch ref, first 256 tokens, bf16)".into(),
            points: points(&pt["curve_minilm_l6_len256"]),
        });
    }
    out.retain(|c| !c.points.is_empty());
    out
}

/// The reference curves, drawn dashed, when the files are there.
pub fn reference_series(dir: &Path) -> Vec<Series> {
    reference_curves(dir)
        .into_iter()
        .map(|c| Series {
            name: c.name,
            points: c
                .points
                .iter()
                .map(|(n, s)| (*n, s.mean, s.std.unwrap_or(0.0)))
                .collect(),
            dashed: true,
        })
        .collect()
}

/// `{"10": {...}, "100": {...}}` as summaries sorted by n.
fn points(curve: &serde_json::Value) -> Vec<(usize, Summary)> {
    let mut p: Vec<(usize, Summary)> = curve
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(n, v)| Some((n.parse().ok()?, summary(v)?)))
        .collect();
    p.sort_by_key(|x| x.0);
    p
}

/// A reference point's summary: from its accuracies (`accs`), or its `mean` and `std`
/// (numpy's, divisor `seeds`) rescaled to the sample standard deviation (divisor `seeds − 1`).
fn summary(point: &serde_json::Value) -> Option<Summary> {
    if let Some(accs) = point["accs"].as_array() {
        let accs: Vec<f64> = accs.iter().filter_map(serde_json::Value::as_f64).collect();
        return (!accs.is_empty()).then(|| Summary::of(&accs));
    }
    let mean = point["mean"].as_f64()?;
    let seeds = point["seeds"].as_u64().unwrap_or(1) as usize;
    let std = match point["std"].as_f64() {
        Some(std) if seeds > 1 => Some(std * (seeds as f64 / (seeds - 1) as f64).sqrt()),
        _ => None,
    };
    Some(Summary { mean, std, seeds })
}
