//! The study's results: one [`Cell`] per (model, n, seed), kept in `results.json` (rewritten
//! atomically after every cell, so an interrupted run resumes), and summarised as CSV and a
//! markdown table.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use transfer_nlp::pipeline::classifiers::ensemble::mean_and_std;
use transfer_nlp::pipeline::{TransferError, write_atomic};

/// One trained and evaluated model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub model: String,
    pub n: usize,
    pub seed: u64,
    pub accuracy: f64,
    pub test_size: usize,
    pub train_seconds: f64,
    pub device: String,
}

impl Cell {
    /// Two cells answer the same question when these agree.
    pub fn key(&self) -> (String, usize, u64, usize) {
        (self.model.clone(), self.n, self.seed, self.test_size)
    }
}

/// Reads the cells of an earlier run, or none.
pub fn read(path: &Path) -> Result<Vec<Cell>, TransferError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| TransferError::format(path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(TransferError::io(path, e)),
    }
}

/// Mean and (population) standard deviation of the accuracy per model and n.
pub fn summarise(cells: &[Cell]) -> BTreeMap<(String, usize), (f64, f64, usize)> {
    let mut groups: BTreeMap<(String, usize), Vec<f64>> = BTreeMap::new();
    for c in cells {
        groups
            .entry((c.model.clone(), c.n))
            .or_default()
            .push(c.accuracy);
    }
    groups
        .into_iter()
        .map(|(k, v)| {
            let (mean, std) = mean_and_std(&v);
            (k, (mean, std, v.len()))
        })
        .collect()
}

/// Writes `results.json`, `results.csv` and `results.md` into `dir`.
pub fn write_all(dir: &Path, cells: &[Cell], header: &str) -> Result<(), TransferError> {
    let json = serde_json::to_vec_pretty(cells).expect("cells serialise");
    write_atomic(&dir.join("results.json"), &json)?;

    let mut csv = String::from("model,n,seed,accuracy,test_size,train_seconds,device\n");
    for c in cells {
        csv.push_str(&format!(
            "{},{},{},{:.6},{},{:.2},{}\n",
            c.model, c.n, c.seed, c.accuracy, c.test_size, c.train_seconds, c.device
        ));
    }
    write_atomic(&dir.join("results.csv"), csv.as_bytes())?;

    let summary = summarise(cells);
    let sizes: Vec<usize> = {
        let mut s: Vec<usize> = cells.iter().map(|c| c.n).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    let mut models: Vec<String> = Vec::new();
    for c in cells {
        if !models.contains(&c.model) {
            models.push(c.model.clone());
        }
    }
    let mut md =
        format!("{header}\n\nAccuracy (%), mean ± std over seeds (number of seeds).\n\n| model |");
    for n in &sizes {
        md.push_str(&format!(" n = {n} |"));
    }
    md.push_str("\n| --- |");
    md.push_str(&" --- |".repeat(sizes.len()));
    md.push('\n');
    for m in &models {
        md.push_str(&format!("| {m} |"));
        for n in &sizes {
            match summary.get(&(m.clone(), *n)) {
                Some((mean, std, k)) => md.push_str(&format!(
                    " {:.1} ± {:.1} ({k}) |",
                    100.0 * mean,
                    100.0 * std
                )),
                None => md.push_str(" |"),
            }
        }
        md.push('\n');
    }
    write_atomic(&dir.join("results.md"), md.as_bytes())
}
