//! A run's tables and figure, written from its cells: after every cell by the runner, and
//! again from `results.json` and `run.json` alone by [`report`] (`transfer textflix report`),
//! so that every committed table is the output of a command, never an edit.

use std::path::{Path, PathBuf};

use transfer_nlp::pipeline::TransferError;

use crate::plot::{self, Series};
use crate::reference::{RunScoring, reference_series};
use crate::results::{self, Cell, summarise};

/// What a run's header says about it: where it ran and what it was scored on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunFacts {
    pub device: String,
    pub quick: bool,
    /// Scored on held-out training reviews instead of the test set.
    pub held_out: bool,
    /// The samples file the training samples and test reviews came from
    /// ([`crate::StudyConfig::samples`]).
    pub samples: Option<PathBuf>,
    /// What its cells were scored on and its encoder: which references go beside them.
    pub scoring: RunScoring,
}

impl RunFacts {
    /// The facts of a run from its `run.json` (any version of the runner's).
    pub fn read(path: &Path) -> Result<Self, TransferError> {
        let bytes = std::fs::read(path).map_err(|e| TransferError::io(path, e))?;
        let run: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| TransferError::format(path, e))?;
        Self::of(&run).ok_or_else(|| TransferError::format(path, "no string field \"device\""))
    }

    /// The facts of a run's settings (a [`crate::StudyConfig`] as JSON, or an older runner's).
    pub fn of(run: &serde_json::Value) -> Option<Self> {
        Some(Self {
            device: run["device"].as_str()?.to_string(),
            quick: run["quick"].as_bool().unwrap_or(false),
            held_out: run["held_out"].as_u64().is_some(),
            samples: run["samples"].as_str().map(PathBuf::from),
            // Samples files are named relative to the directory the run started in.
            scoring: RunScoring::of(run, Path::new("")),
        })
    }

    /// What `n` cells are scored on, for logs, headers and titles.
    pub fn scored_on(&self, n: usize) -> String {
        if self.held_out {
            format!("{n} held-out training reviews")
        } else {
            format!("{n} test reviews")
        }
    }
}

/// Writes `results.csv`, `results.md` and the learning curves of `cells` into `out`, with the
/// reference curves from `reference` (a `reference/` folder of the assets) when it has them.
pub(crate) fn write_outputs(
    out: &Path,
    cells: &[Cell],
    facts: &RunFacts,
    reference: &Path,
) -> Result<(), TransferError> {
    let scored = facts.scored_on(cells.first().map_or(0, |c| c.test_size));
    let samples = match &facts.samples {
        Some(file) => format!("training samples and test reviews from {}", file.display()),
        None => "balanced training samples".to_string(),
    };
    let header = format!(
        "# Textflix learning curves\n\nIMDB sentiment; {}; {}; device {}{}.",
        samples,
        scored,
        facts.device,
        if facts.quick { "; --quick" } else { "" }
    );
    results::write_tables(out, cells, &header)?;
    let title = format!("IMDB sentiment: accuracy vs labelled examples ({scored})");
    write_curves(
        out,
        cells,
        &title,
        reference,
        std::slice::from_ref(&facts.scoring),
    )
}

/// Writes `learning_curves.svg` and `.png`: one line per model, then the reference curves that
/// fit every run of `runs`.
pub(crate) fn write_curves(
    out: &Path,
    cells: &[Cell],
    title: &str,
    reference: &Path,
    runs: &[RunScoring],
) -> Result<(), TransferError> {
    let mut series: Vec<Series> = Vec::new();
    for ((model, n), s) in summarise(cells) {
        let point = (n, s.mean, s.std.unwrap_or(0.0));
        match series.iter_mut().find(|s| s.name == model) {
            Some(s) => s.points.push(point),
            None => series.push(Series {
                name: model,
                points: vec![point],
                dashed: false,
            }),
        }
    }
    series.extend(reference_series(reference, runs));
    plot::write(out, "learning_curves", &plot::svg(title, &series))
}

/// Rewrites the tables and the figure of the run in `dir` from its `results.json` and
/// `run.json`, training nothing.
///
/// ```no_run
/// use std::path::Path;
/// let assets = transfer_nlp::pipeline::io::assets::asset_dir()?;
/// transfer_textflix::report(Path::new("docs/results/textflix/quick"), &assets.join("reference"))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn report(dir: &Path, reference: &Path) -> Result<(), TransferError> {
    let cells = results::read(&dir.join("results.json"))?;
    if cells.is_empty() {
        return Err(TransferError::format(
            dir.join("results.json"),
            "no cells: nothing to report",
        ));
    }
    let facts = RunFacts::read(&dir.join("run.json"))?;
    write_outputs(dir, &cells, &facts, reference)
}
