//! The study's results: one [`Cell`] per (model, n, seed), kept in `results.json` (rewritten
//! atomically after every cell, so an interrupted run resumes), and summarised as CSV and a
//! markdown table.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
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

/// The accuracy of one model at one n over its seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub mean: f64,
    /// Sample standard deviation (divisor seeds − 1); `None` for a single seed.
    pub std: Option<f64>,
    pub seeds: usize,
}

impl Summary {
    /// Mean and sample standard deviation of `values`.
    ///
    /// ```
    /// use transfer_textflix::Summary;
    /// let s = Summary::of(&[0.8, 0.9, 1.0]);
    /// assert!((s.mean - 0.9).abs() < 1e-12 && (s.std.unwrap() - 0.1).abs() < 1e-12);
    /// assert_eq!(Summary::of(&[0.7]).std, None);
    /// ```
    pub fn of(values: &[f64]) -> Self {
        let seeds = values.len();
        let mean = values.iter().sum::<f64>() / seeds.max(1) as f64;
        let std = (seeds > 1).then(|| {
            let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
            (squares / (seeds - 1) as f64).sqrt()
        });
        Self { mean, std, seeds }
    }

    /// `mean ± std (seeds)` in percent, `mean (1)` for one seed.
    pub fn percent(&self) -> String {
        match self.std {
            Some(std) => format!(
                "{:.1} ± {:.1} ({})",
                100.0 * self.mean,
                100.0 * std,
                self.seeds
            ),
            None => format!("{:.1} ({})", 100.0 * self.mean, self.seeds),
        }
    }
}

/// The accuracy per model and n: mean, sample standard deviation and number of seeds.
pub fn summarise(cells: &[Cell]) -> BTreeMap<(String, usize), Summary> {
    let mut groups: BTreeMap<(String, usize), Vec<f64>> = BTreeMap::new();
    for c in cells {
        groups
            .entry((c.model.clone(), c.n))
            .or_default()
            .push(c.accuracy);
    }
    groups
        .into_iter()
        .map(|(k, v)| (k, Summary::of(&v)))
        .collect()
}

/// Writes `results.json` into `dir`.
pub fn write_cells(dir: &Path, cells: &[Cell]) -> Result<(), TransferError> {
    let json = serde_json::to_vec_pretty(cells).expect("cells serialise");
    write_atomic(&dir.join("results.json"), &json)
}

/// Writes `results.csv` and `results.md` (`header`, then the table) into `dir`.
pub fn write_tables(dir: &Path, cells: &[Cell], header: &str) -> Result<(), TransferError> {
    write_csv(dir, cells)?;
    let md = format!("{header}\n\n{}", accuracy_table(cells));
    write_atomic(&dir.join("results.md"), md.as_bytes())
}

/// The CSV of the cells, one line each.
fn write_csv(dir: &Path, cells: &[Cell]) -> Result<(), TransferError> {
    let mut csv = String::from("model,n,seed,accuracy,test_size,train_seconds,device\n");
    for c in cells {
        csv.push_str(&format!(
            "{},{},{},{:.6},{},{:.2},{}\n",
            c.model, c.n, c.seed, c.accuracy, c.test_size, c.train_seconds, c.device
        ));
    }
    write_atomic(&dir.join("results.csv"), csv.as_bytes())
}

/// The markdown table: one row per model (in order of first appearance), one column per n.
pub fn accuracy_table(cells: &[Cell]) -> String {
    let summary = summarise(cells);
    let sizes = sizes_of(cells);
    let mut models: Vec<&str> = Vec::new();
    for c in cells {
        if !models.contains(&c.model.as_str()) {
            models.push(&c.model);
        }
    }
    let rows: Vec<(String, Vec<Option<Summary>>)> = models
        .iter()
        .map(|m| {
            let row = sizes
                .iter()
                .map(|n| summary.get(&(m.to_string(), *n)).copied());
            (m.to_string(), row.collect())
        })
        .collect();
    format!(
        "Accuracy (%), mean ± sample standard deviation over seeds (number of seeds).\n\n{}",
        table("model", &sizes, &rows)
    )
}

/// The distinct n of `cells`, sorted.
pub(crate) fn sizes_of(cells: &[Cell]) -> Vec<usize> {
    let mut sizes: Vec<usize> = cells.iter().map(|c| c.n).collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// A markdown table of summaries: `corner` heads the names, one column per n.
pub(crate) fn table(
    corner: &str,
    sizes: &[usize],
    rows: &[(String, Vec<Option<Summary>>)],
) -> String {
    let mut md = format!("| {corner} |");
    for n in sizes {
        md.push_str(&format!(" n = {n} |"));
    }
    md.push_str("\n| --- |");
    md.push_str(&" --- |".repeat(sizes.len()));
    md.push('\n');
    for (name, row) in rows {
        md.push_str(&format!("| {name} |"));
        for cell in row {
            match cell {
                Some(s) => md.push_str(&format!(" {} |", s.percent())),
                None => md.push_str(" |"),
            }
        }
        md.push('\n');
    }
    md
}
