//! The PyTorch and scikit-learn reference curves drawn beside the study's, from
//! `$TRANSFER_ASSETS/reference/`: each only beside cells scored on the same test reviews, and
//! a PyTorch fine-tuning curve only beside runs of the same encoder.

use std::collections::BTreeMap;
use std::path::Path;

use crate::plot::Series;
use crate::results::Summary;

/// One reference curve: its name (what ran, how) and a summary per n, sorted by n.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceCurve {
    pub name: String,
    pub points: Vec<(usize, Summary)>,
    /// The test reviews it was scored on.
    pub scoring: Scoring,
    /// The encoder it fine-tuned (its model directory's name); `None` for the baselines.
    pub encoder: Option<String>,
}

/// The test reviews a curve was scored on: a reference is drawn beside a run only when both
/// were scored on the same ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scoring {
    /// All 25,000 test reviews.
    AllTest,
    /// The `size` test reviews that `random.Random(test_seed)` draws in the PyTorch reference
    /// `pytorch_encoder_cpu.py` (and in the samples files of `scripts/reference_samples.py`).
    ReferenceDraw { size: usize, test_seed: u64 },
    /// Anything else: a seeded subset of ours, held-out training reviews.
    Other,
}

/// How a run was scored and which encoder its BERT recipe fine-tuned: what a reference must
/// share with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunScoring {
    pub scoring: Scoring,
    pub encoder: Option<String>,
}

/// IMDB's test set: a `test_size` this large is all of it.
const IMDB_TEST_REVIEWS: u64 = 25_000;

impl RunScoring {
    /// How the run whose settings are `run` (its `run.json`) was scored, its samples file
    /// (when it has one) relative to `root`; the encoder is the last part of `bert.model_dir`
    /// (a directory or a Hub id).
    pub fn of(run: &serde_json::Value, root: &Path) -> Self {
        let encoder = run["bert"]["model_dir"]
            .as_str()
            .and_then(|dir| Path::new(dir).file_name())
            .map(|name| name.to_string_lossy().into_owned());
        let scoring = if run["held_out"].as_u64().is_some() {
            Scoring::Other
        } else if let Some(file) = run["samples"].as_str() {
            samples_scoring(&root.join(file))
        } else if run["test_size"]
            .as_u64()
            .is_some_and(|n| n < IMDB_TEST_REVIEWS)
        {
            Scoring::Other
        } else {
            Scoring::AllTest
        };
        Self { scoring, encoder }
    }
}

/// The test draw a samples file records (its `test_seed` and `test` list, as
/// `scripts/reference_samples.py` writes them); [`Scoring::Other`] when it records none.
fn samples_scoring(file: &Path) -> Scoring {
    let samples: Option<serde_json::Value> = std::fs::read(file)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let draw = samples.as_ref().and_then(|s| {
        Some(Scoring::ReferenceDraw {
            size: s["test"].as_array()?.len(),
            test_seed: s["test_seed"].as_u64()?,
        })
    });
    draw.unwrap_or(Scoring::Other)
}

impl ReferenceCurve {
    /// Whether this curve compares with a run scored as `run`: the same test reviews, and the
    /// same encoder where both name one.
    pub fn fits(&self, run: &RunScoring) -> bool {
        let same_encoder = match (&self.encoder, &run.encoder) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        self.scoring == run.scoring && self.scoring != Scoring::Other && same_encoder
    }
}

/// The reference curves whose files are in `dir`: scikit-learn's NB-SVM and GloVe sum
/// (`sklearn_baselines.json`) and PyTorch's fine-tuned MiniLM (`pytorch_minilm_h200.json`) on
/// all 25,000 test reviews, and every output of `pytorch_encoder_cpu.py` (a JSON file with
/// `model`, `n`, `test_size`, `test_seed` and per-seed `cells`), one curve per encoder and test
/// draw, its seeds gathered over the files (each seed once, files in name order).
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
                scoring: Scoring::AllTest,
                encoder: None,
            });
        }
    }
    if let Some(pt) = read("pytorch_minilm_h200.json") {
        out.push(ReferenceCurve {
            name: "bert (PyTorch ref, first 256 tokens, bf16)".into(),
            points: points(&pt["curve_minilm_l6_len256"]),
            scoring: Scoring::AllTest,
            encoder: Some("all-MiniLM-L6-v2".into()),
        });
    }
    out.extend(encoder_curves(dir));
    out.retain(|c| !c.points.is_empty());
    out
}

/// The reference curves that fit every one of `runs` ([`ReferenceCurve::fits`]).
pub fn references_for(dir: &Path, runs: &[RunScoring]) -> Vec<ReferenceCurve> {
    reference_curves(dir)
        .into_iter()
        .filter(|curve| runs.iter().all(|run| curve.fits(run)))
        .collect()
}

/// The curves of `pytorch_encoder_cpu.py`'s outputs in `dir`.
fn encoder_curves(dir: &Path) -> Vec<ReferenceCurve> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    // (encoder, size, test seed) → n → seed → accuracy
    type Key = (String, usize, u64);
    let mut found: BTreeMap<Key, BTreeMap<usize, BTreeMap<u64, f64>>> = BTreeMap::new();
    for path in files {
        let Some(run) = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        else {
            continue;
        };
        let (Some(model), Some(n), Some(size), Some(test_seed), Some(cells)) = (
            run["model"].as_str(),
            run["n"].as_u64(),
            run["test_size"].as_u64(),
            run["test_seed"].as_u64(),
            run["cells"].as_array(),
        ) else {
            continue;
        };
        let seeds = found
            .entry((model.to_string(), size as usize, test_seed))
            .or_default()
            .entry(n as usize)
            .or_default();
        for cell in cells {
            if let (Some(seed), Some(accuracy)) = (cell["seed"].as_u64(), cell["accuracy"].as_f64())
            {
                seeds.entry(seed).or_insert(accuracy);
            }
        }
    }
    found
        .into_iter()
        .map(|((model, size, test_seed), by_n)| ReferenceCurve {
            name: format!("{model} (PyTorch ref, same reviews)"),
            points: by_n
                .into_iter()
                .map(|(n, seeds)| (n, Summary::of(&seeds.into_values().collect::<Vec<_>>())))
                .collect(),
            scoring: Scoring::ReferenceDraw { size, test_seed },
            encoder: Some(model),
        })
        .collect()
}

/// The reference curves that fit every one of `runs`, drawn dashed.
pub fn reference_series(dir: &Path, runs: &[RunScoring]) -> Vec<Series> {
    references_for(dir, runs)
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
