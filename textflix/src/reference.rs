//! The PyTorch and scikit-learn reference curves drawn beside the study's, from
//! `$TRANSFER_ASSETS/reference/`.

use std::path::Path;

use crate::plot::Series;

/// The PyTorch and scikit-learn reference curves, drawn dashed, when the files are there.
pub fn reference_series(dir: &Path) -> Vec<Series> {
    let read = |name: &str| -> Option<serde_json::Value> {
        serde_json::from_slice(&std::fs::read(dir.join(name)).ok()?).ok()
    };
    let points = |curve: &serde_json::Value| -> Vec<(usize, f64, f64)> {
        let mut p: Vec<(usize, f64, f64)> = curve
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(n, v)| {
                Some((
                    n.parse().ok()?,
                    v["mean"].as_f64()?,
                    v["std"].as_f64().unwrap_or(0.0),
                ))
            })
            .collect();
        p.sort_by_key(|x| x.0);
        p
    };
    let mut out = Vec::new();
    if let Some(sk) = read("sklearn_baselines.json") {
        for (key, name) in [
            ("nbsvm", "nbsvm (sklearn ref)"),
            ("glove_sum_logreg", "wvsum (sklearn ref)"),
        ] {
            out.push(Series {
                name: name.into(),
                points: points(&sk[key]),
                dashed: true,
            });
        }
    }
    if let Some(pt) = read("pytorch_minilm_h200.json") {
        out.push(Series {
            name: "bert (PyTorch ref)".into(),
            points: points(&pt["curve_minilm_l6_len256"]),
            dashed: true,
        });
    }
    out.retain(|s| !s.points.is_empty());
    out
}
