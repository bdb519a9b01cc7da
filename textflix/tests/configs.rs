//! The committed config files load, and each config the README names asks for exactly the run
//! whose results are committed (its `docs/results/textflix/*/run.json`).

use std::path::{Path, PathBuf};

use transfer_textflix::StudyConfig;

fn configs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml" || e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_committed_config_loads() {
    let files = configs();
    assert!(files.len() >= 3, "{files:?}");
    for file in files {
        let config = StudyConfig::load(Path::new("/assets"), false, Some(&file), &[]);
        assert!(
            config.is_ok(),
            "{}: {}",
            file.display(),
            config.unwrap_err()
        );
    }
}

/// `run` as JSON without the settings of families none of its models uses (a run keeps the
/// defaults of its day for those).
fn used_settings(run: &StudyConfig) -> serde_json::Value {
    let mut value = serde_json::to_value(run).unwrap();
    let names: Vec<String> = run.models.iter().map(|m| m.name().to_string()).collect();
    let uses = |pred: &dyn Fn(&str) -> bool| names.iter().any(|n| pred(n));
    let object = value.as_object_mut().unwrap();
    if !uses(&|n| n.starts_with("ulmfit")) {
        object.remove("ulmfit");
    }
    if !uses(&|n| n.starts_with("bert")) {
        object.remove("bert");
    }
    if !uses(&|n| n.ends_with("-st") || n.contains("cotrain")) {
        object.remove("self_training");
    }
    if !uses(&|n| n == "bert-mlm") {
        object.remove("mlm");
    }
    value
}

#[test]
fn each_readme_config_asks_for_its_committed_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (config, run) in [
        ("cpu-cotrain-student.toml", "cpu-cotrain-student"),
        ("gpu-bert.toml", "gpu-bert"),
        ("gpu-whole.toml", "gpu-whole"),
    ] {
        let run_json = root
            .join("docs/results/textflix")
            .join(run)
            .join("run.json");
        let committed: StudyConfig =
            serde_json::from_slice(&std::fs::read(&run_json).unwrap()).unwrap();
        // The assets directory the run read them from.
        let assets = committed.data.parent().unwrap().parent().unwrap();
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("configs")
            .join(config);
        let loaded = StudyConfig::load(assets, false, Some(&file), &[]).unwrap();
        assert_eq!(
            used_settings(&loaded),
            used_settings(&committed),
            "{config} vs {run}"
        );
    }
}

/// Every `run.json` under `dir`, however deep.
fn run_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            run_files(&path, found);
        } else if path.file_name().is_some_and(|n| n == "run.json") {
            found.push(path);
        }
    }
}

#[test]
fn every_committed_run_reads_back_as_a_config() {
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/results/textflix");
    let mut found = Vec::new();
    run_files(&results, &mut found);
    assert!(found.len() > 10, "{found:?}");
    for path in found {
        let read: Result<StudyConfig, _> = serde_json::from_slice(&std::fs::read(&path).unwrap());
        assert!(read.is_ok(), "{}: {}", path.display(), read.unwrap_err());
    }
}
