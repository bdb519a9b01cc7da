//! The committed tables are the runner's: each run's `results.md` and `results.csv` are what
//! `report` writes from its `results.json` and `run.json`, and `full/` is what `merge` writes
//! from the runs `textflix/merges/full.toml` names. An edit by hand fails here.

use std::path::{Path, PathBuf};

use transfer_textflix::{
    MergeSpec, MergedCell, RunScoring, Scoring, Summary, merge, references_for, report,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn results() -> PathBuf {
    root().join("docs/results/textflix")
}

/// Every run directory (a `run.json` beside a `results.json`) under `dir`, but `full/`.
fn runs(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() && !path.ends_with("full") {
            runs(&path, found);
        } else if path.ends_with("run.json") && dir.join("results.json").exists() {
            found.push(dir.to_path_buf());
        }
    }
}

/// A fresh directory of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("transfer-results-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_committed_table_is_what_report_writes() {
    let mut found = Vec::new();
    runs(&results(), &mut found);
    assert!(found.len() > 20, "{found:?}");
    let scratch = scratch("report");
    for run in found {
        let copy = scratch.join(run.strip_prefix(results()).unwrap());
        std::fs::create_dir_all(&copy).unwrap();
        for file in ["results.json", "run.json"] {
            std::fs::copy(run.join(file), copy.join(file)).unwrap();
        }
        report(&copy, Path::new("/no-reference")).unwrap();
        for file in ["results.md", "results.csv"] {
            assert_eq!(
                read(&copy.join(file)),
                read(&run.join(file)),
                "{} is not what `transfer textflix report` writes (scripts/textflix_results.sh)",
                run.join(file).display()
            );
        }
    }
}

/// `textflix/merges/{spec}.toml` merged afresh: its cells, checked to be the committed
/// `docs/results/textflix/{dir}/`'s, JSON and CSV alike.
fn merged_as_committed(spec: &str, dir: &str) -> Vec<MergedCell> {
    let spec = MergeSpec::read(&root().join(format!("textflix/merges/{spec}.toml"))).unwrap();
    let scratch = scratch(dir);
    let merged = merge(&spec, &root(), &scratch, Path::new("/no-reference")).unwrap();
    let committed: Vec<MergedCell> =
        serde_json::from_str(&read(&results().join(dir).join("results.json"))).unwrap();
    assert_eq!(
        merged, committed,
        "{dir}/results.json: rerun scripts/textflix_results.sh"
    );
    assert_eq!(
        read(&scratch.join("results.csv")),
        read(&results().join(dir).join("results.csv"))
    );
    merged
}

#[test]
fn the_full_table_is_the_merge_of_its_runs() {
    let merged = merged_as_committed("full", "full");
    // Every cell says where it came from; the two BERT truncations are separate rows.
    assert!(
        merged
            .iter()
            .all(|m| !m.commit.is_empty() && !m.machine.is_empty())
    );
    let truncation = |row: &str| {
        let mut t: Vec<&str> = merged
            .iter()
            .filter(|m| m.row == row)
            .map(|m| m.truncation.as_str())
            .collect();
        t.dedup();
        t
    };
    assert_eq!(truncation("bert"), ["first 256 WordPiece tokens"]);
    assert_eq!(
        truncation("bert-head-tail"),
        ["first 128 + last 128 WordPiece tokens"]
    );
}

#[test]
fn the_mpnet_curve_is_the_merge_of_its_runs() {
    let merged = merged_as_committed("mpnet-cpu", "mpnet-cpu");
    // Two rows, each (row, n, seed) once; the co-trained one at n = 100 only.
    let mut cells: Vec<(&str, usize, u64)> = merged
        .iter()
        .map(|m| (m.row.as_str(), m.cell.n, m.cell.seed))
        .collect();
    let count = cells.len();
    cells.sort();
    cells.dedup();
    assert_eq!(cells.len(), count, "a cell merged twice");
    assert!(merged.iter().all(|m| m.cell.test_size == 2000));
    let sizes = |row: &str| {
        let mut n: Vec<usize> = cells.iter().filter(|c| c.0 == row).map(|c| c.1).collect();
        n.dedup();
        n
    };
    assert_eq!(sizes("mpnet"), [10, 100, 500, 1000]);
    assert_eq!(sizes("mpnet + NB-SVM co-trained"), [100]);
    assert_eq!(count, 15);
}

#[test]
fn a_merge_refuses_held_out_runs_and_missing_models() {
    let spec = |dir: &str, model: &str| -> MergeSpec {
        toml::from_str(&format!(
            "title = \"t\"\n[[source]]\ndir = \"{dir}\"\nmodels = [\"{model}\"]\ncommit = \"c\"\nmachine = \"m\"\n"
        ))
        .unwrap()
    };
    let out = scratch("refuse");
    let held = merge(
        &spec("docs/results/textflix/held-out/bert-nbsvm", "bert-nbsvm"),
        &root(),
        &out,
        Path::new("/no-reference"),
    );
    assert!(held.unwrap_err().to_string().contains("held-out"));
    let missing = merge(
        &spec("docs/results/textflix/cpu-baselines", "bert"),
        &root(),
        &out,
        Path::new("/no-reference"),
    );
    assert!(missing.unwrap_err().to_string().contains("\"bert\""));
}

#[test]
fn spreads_are_sample_standard_deviations() {
    // 0.80, 0.82, 0.84: mean 0.82, sample std 0.02 (the population one is 0.0163).
    let s = Summary::of(&[0.80, 0.82, 0.84]);
    assert!((s.mean - 0.82).abs() < 1e-12);
    assert!((s.std.unwrap() - 0.02).abs() < 1e-12, "{s:?}");
    assert_eq!(s.percent(), "82.0 ± 2.0 (3)");
    assert_eq!(Summary::of(&[0.5]).percent(), "50.0 (1)");
    assert!(Summary::of(&[f64::NAN, 0.5]).std.unwrap().is_nan());
}

/// A reference goes only beside cells scored on the same test reviews, and a fine-tuning
/// reference only beside runs of its own encoder: the full-test-set runs of MiniLM get the
/// scikit-learn and MiniLM curves, MPNet's runs on the PyTorch reference's 2,000 reviews its
/// cells on those reviews (two files, one seed each), and anything else none.
#[test]
fn references_fit_what_a_run_was_scored_on() {
    let reference = transfer_nlp::pipeline::io::assets::asset_dir()
        .unwrap()
        .join("reference");
    let names = |runs: &[RunScoring]| -> Vec<String> {
        references_for(&reference, runs)
            .into_iter()
            .map(|c| c.name)
            .collect()
    };
    let run = |dir: &str| {
        let settings = read(&results().join(dir).join("run.json"));
        RunScoring::of(&serde_json::from_str(&settings).unwrap(), &root())
    };
    let (full, mpnet) = (run("gpu-bert"), run("cpu-mpnet-n100"));
    assert_eq!(full.scoring, Scoring::AllTest);
    let baselines = ["nbsvm (sklearn ref)", "wvsum (sklearn ref)"];
    let minilm = "bert (PyTorch ref, first 256 tokens, bf16)";
    assert_eq!(
        names(std::slice::from_ref(&full)),
        [baselines[0], baselines[1], minilm]
    );
    let full_mpnet = RunScoring {
        encoder: Some("all-mpnet-base-v2".into()),
        ..full.clone()
    };
    assert_eq!(names(&[full_mpnet]), baselines);

    let draw = Scoring::ReferenceDraw {
        size: 2000,
        test_seed: 12345,
    };
    assert_eq!(mpnet.scoring, draw);
    assert_eq!(mpnet.encoder.as_deref(), Some("all-mpnet-base-v2"));
    let curves = references_for(&reference, std::slice::from_ref(&mpnet));
    assert_eq!(curves.len(), 1, "{curves:?}");
    assert_eq!(
        curves[0].name,
        "all-mpnet-base-v2 (PyTorch ref, same reviews)"
    );
    // pytorch_mpnet_cpu_n100.json (seed 0) and pytorch_mpnet_cpu_n100_seed1.json.
    assert_eq!(curves[0].points, [(100, Summary::of(&[0.8645, 0.866]))]);

    assert!(names(&[full, mpnet.clone()]).is_empty());
    let other_encoder = RunScoring {
        encoder: Some("all-MiniLM-L6-v2".into()),
        ..mpnet
    };
    assert!(names(&[other_encoder]).is_empty());
    assert!(names(&[run("quick")]).is_empty(), "a seeded subset of ours");
    assert!(names(&[run("held-out/bert-nbsvm")]).is_empty());
}
