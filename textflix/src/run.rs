//! One run of the study: every planned (model, n, seed) cell not already in `results.json`,
//! the results rewritten after each one, so an interrupted run resumes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts, Review, balanced_sample};
use transfer_nlp::pipeline::runtime::allocator;
use transfer_nlp::pipeline::runtime::device::parse_device;
use transfer_nlp::pipeline::runtime::progress;
use transfer_nlp::pipeline::write_atomic;
use transfer_nlp::{Example, TransferError};

use crate::config::StudyConfig;
use crate::context::{Context, StudyData};
use crate::report::{self, RunFacts};
use crate::results::{self, Cell};
use crate::samples::Selection;

/// Runs every cell not already in `out/results.json`, writing the results after each one.
pub fn run(config: &StudyConfig, out: &Path, progress: bool) -> Result<Vec<Cell>, TransferError> {
    check(config)?;
    let selection = Selection::new(config)?;
    check_same_evaluation(out, config)?;
    std::fs::create_dir_all(out).map_err(|e| TransferError::io(out, e))?;
    record_invocation(out, config)?;
    write_atomic(
        &out.join("run.json"),
        &serde_json::to_vec_pretty(config).expect("config"),
    )?;
    let device = parse_device(&config.device)?;
    let reviews = Reviews::load(config, &selection)?;
    let data = StudyData {
        train: &reviews.train_examples,
        test: &reviews.test,
        unlabelled: &reviews.unlabelled,
    };
    let ctx = Context::new(config, data, device, out.to_path_buf(), progress);
    run_cells(&ctx, &selection, &reviews.train, out)
}

/// Appends this invocation's settings to `out/invocations.jsonl`, one JSON line each, with the
/// number of cells `results.json` held before it: a run made in several invocations keeps
/// every one's settings (`run.json` holds the last one's).
fn record_invocation(out: &Path, config: &StudyConfig) -> Result<(), TransferError> {
    let path = out.join("invocations.jsonl");
    let mut log = match std::fs::read_to_string(&path) {
        Ok(log) => log,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(TransferError::io(&path, e)),
    };
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let line = serde_json::json!({
        "invocation": log.lines().count() + 1,
        "started_unix": started,
        "cells_before": results::read(&out.join("results.json"))?.len(),
        "version": env!("CARGO_PKG_VERSION"),
        "config": config,
    });
    log.push_str(&format!("{line}\n"));
    write_atomic(&path, log.as_bytes())
}

/// Refuses settings no cell could run with, before any cell.
fn check(config: &StudyConfig) -> Result<(), TransferError> {
    config.self_training.check()?;
    if config.held_out == Some(0) || config.test_size == Some(0) {
        return Err(TransferError::InvalidConfig {
            field: if config.held_out == Some(0) {
                "held_out"
            } else {
                "test_size"
            },
            message: "nothing to score on: ask for at least 2 reviews".into(),
        });
    }
    Ok(())
}

/// The reviews of a run: what samples are drawn from, what cells are scored on, and the
/// unlabelled ones.
struct Reviews {
    train: Vec<Review>,
    train_examples: Vec<Example>,
    test: Vec<Example>,
    unlabelled: Vec<String>,
}

impl Reviews {
    fn load(config: &StudyConfig, selection: &Selection) -> Result<Self, TransferError> {
        let needs_unlabelled = config.models.iter().any(|m| m.recipe().uses_unlabelled());
        let parts = if needs_unlabelled {
            ImdbParts::ALL
        } else {
            ImdbParts::LABELLED
        };
        let imdb = Imdb::load(&config.data, parts)?;
        if !imdb.skipped.is_empty() {
            eprintln!(
                "IMDB: skipped {} unreadable reviews (first: {})",
                imdb.skipped.len(),
                imdb.skipped[0].path
            );
        }
        let (train, test) = match config.held_out {
            Some(n) => {
                let (rest, held) = hold_out(imdb.train, n)?;
                (rest, examples(&held))
            }
            None => (imdb.train, examples(&selection.test(&imdb.test)?)),
        };
        Ok(Self {
            train_examples: examples(&train),
            train,
            test,
            unlabelled: imdb.unsup.into_iter().map(|r| r.text).collect(),
        })
    }
}

fn examples(reviews: &[Review]) -> Vec<Example> {
    reviews.iter().filter_map(|r| r.example()).collect()
}

/// Trains and scores the planned cells that `out/results.json` lacks.
fn run_cells(
    ctx: &Context,
    selection: &Selection,
    train: &[Review],
    out: &Path,
) -> Result<Vec<Cell>, TransferError> {
    let config = ctx.config;
    let test_size = ctx.test.len();
    let mut cells = results::read(&out.join("results.json"))?;
    let plan = config.plan();
    let todo: Vec<_> = plan
        .iter()
        .filter(|(m, n, s)| {
            !cells
                .iter()
                .any(|c| c.key() == (m.name().to_string(), *n, *s, test_size))
        })
        .collect();
    eprintln!(
        "textflix: {} cells planned, {} already done, {} to run; scored on {}; device {}",
        plan.len(),
        plan.len() - todo.len(),
        todo.len(),
        facts(config).scored_on(test_size),
        config.device
    );
    let bar = progress::bar(todo.len() as u64, ctx.progress, "textflix");
    for &&(model, n, seed) in &todo {
        bar.set_message(format!("{} n={n} seed={seed}", model.name()));
        let sample = examples(&selection.train(train, n, seed)?);
        let score = model.recipe().run_cell(ctx, &sample, seed)?;
        // The cell's freed buffers back to the system, so they do not add to the next one's peak.
        allocator::release_freed_memory();
        let cell = Cell {
            model: model.name().into(),
            n,
            seed,
            accuracy: score.accuracy,
            test_size,
            train_seconds: score.train_seconds,
            device: if model.recipe().is_transfer() {
                config.device.clone()
            } else {
                "cpu".into()
            },
        };
        bar.suspend(|| {
            eprintln!(
                "{:>7} n={n:<6} seed={seed} accuracy {:.2}% ({:.1}s)",
                cell.model,
                100.0 * cell.accuracy,
                cell.train_seconds
            )
        });
        cells.push(cell);
        write_outputs(out, &cells, config)?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    write_outputs(out, &cells, config)?;
    Ok(cells)
}

/// Seeds the held-out training reviews ([`StudyConfig::held_out`]).
const HELD_OUT_SEED: u64 = 1_000_003;

/// `n` balanced training reviews held out (seeded), and the others to sample from.
fn hold_out(train: Vec<Review>, n: usize) -> Result<(Vec<Review>, Vec<Review>), TransferError> {
    let held = balanced_sample(&train, n, HELD_OUT_SEED)?;
    let key = |r: &Review| (r.sentiment, r.id);
    let held_keys: HashSet<_> = held.iter().map(key).collect();
    let rest = train
        .into_iter()
        .filter(|r| !held_keys.contains(&key(r)))
        .collect();
    Ok((rest, held))
}

/// Refuses to add cells scored on held-out training reviews to cells scored on the test set
/// (or the reverse), or cells of a samples file's reviews to others, in one `results.json`:
/// they answer different questions.
fn check_same_evaluation(out: &Path, config: &StudyConfig) -> Result<(), TransferError> {
    let path = out.join("run.json");
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(());
    };
    let before: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| TransferError::format(&path, e))?;
    let held_before = before
        .get("held_out")
        .and_then(serde_json::Value::as_u64)
        .map(|n| n as usize);
    let samples_before = before
        .get("samples")
        .and_then(serde_json::Value::as_str)
        .map(PathBuf::from);
    let before = (held_before, samples_before);
    let now = (config.held_out, config.samples.clone());
    if before != now && !results::read(&out.join("results.json"))?.is_empty() {
        let name = |(held, samples): (Option<usize>, Option<PathBuf>)| match (held, samples) {
            (Some(n), _) => format!("{n} held-out training reviews"),
            (None, Some(file)) => format!("the reviews of {}", file.display()),
            (None, None) => "the test set".to_string(),
        };
        return Err(TransferError::format(
            &path,
            format!(
                "the cells here were scored on {}, this run scores on {}: use another output \
                 directory",
                name(before),
                name(now)
            ),
        ));
    }
    Ok(())
}

/// What a run's header says about it.
fn facts(config: &StudyConfig) -> RunFacts {
    let settings = serde_json::to_value(config).expect("config");
    RunFacts::of(&settings).expect("a config has a device")
}

fn write_outputs(out: &Path, cells: &[Cell], config: &StudyConfig) -> Result<(), TransferError> {
    results::write_cells(out, cells)?;
    let reference = config
        .data
        .parent()
        .and_then(Path::parent)
        .map(|assets| assets.join("reference"))
        .unwrap_or_default();
    report::write_outputs(out, cells, &facts(config), &reference)
}

#[cfg(test)]
mod tests {
    use transfer_nlp::pipeline::data::imdb::{Review, Sentiment, Split};

    #[test]
    fn held_out_reviews_are_balanced_and_never_in_the_rest() {
        // The same ids in pos/ and neg/: a review is its sentiment and id.
        let train: Vec<Review> = (0..40)
            .map(|i| Review {
                split: Split::Train,
                id: i / 2,
                sentiment: Some(if i % 2 == 0 {
                    Sentiment::Positive
                } else {
                    Sentiment::Negative
                }),
                stars: if i % 2 == 0 { 8 } else { 2 },
                movie: None,
                text: format!("review {i}"),
            })
            .collect();
        let (rest, held) = super::hold_out(train.clone(), 10).unwrap();
        assert_eq!((rest.len(), held.len()), (30, 10));
        let positive = |r: &&Review| r.sentiment == Some(Sentiment::Positive);
        assert_eq!(held.iter().filter(positive).count(), 5);
        assert!(held.iter().all(|h| rest.iter().all(|r| r.text != h.text)));
        assert!(super::hold_out(train, 50).is_err());
    }
}
