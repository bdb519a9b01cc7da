//! A samples file (`StudyConfig::samples`, written for the PyTorch reference by
//! scripts/reference_samples.py) decides exactly which reviews a run trains and scores on.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use transfer_nlp::TransferError;
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts, Review};
use transfer_textflix::{Selection, StudyConfig, run};

/// Drawn by the reference from the test set (seed 12345) and from the training set (seed 0),
/// with the first words of each review as the reference read them.
const TEST: [(&str, &str); 6] = [
    ("test/pos/4894_8.txt", "After three outstanding BBC"),
    ("test/pos/9555_9.txt", "<br /><br />This is the best"),
    ("test/pos/1014_8.txt", "I finally saw LAURE and"),
    ("test/neg/1665_4.txt", "André Roussin was a"),
    ("test/neg/5305_3.txt", "Chili Palmer is tired"),
    ("test/neg/1806_3.txt", "If you've ever heard the"),
];
const TRAIN: [(&str, &str); 4] = [
    ("train/pos/4430_8.txt", "One of the less widely"),
    ("train/pos/9928_7.txt", "As soon as I knew Keira"),
    ("train/neg/4631_2.txt", "Although Misty Ayers"),
    ("train/neg/9223_3.txt", "From the nepotism capitol"),
];

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("transfer-samples-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A samples file of the six test reviews and one training sample: n = 4, seed 0.
fn samples_file(dir: &Path) -> PathBuf {
    let ids =
        |reviews: &[(&'static str, &str)]| reviews.iter().map(|(id, _)| *id).collect::<Vec<_>>();
    let file = dir.join("samples.json");
    let json = serde_json::json!({
        "source": "textflix/tests/samples.rs",
        "test_seed": 12345,
        "test": ids(&TEST),
        "train": {"4": {"0": ids(&TRAIN)}},
    });
    std::fs::write(&file, json.to_string()).unwrap();
    file
}

/// `reviews` as ids in the samples file's form, and their texts.
fn ids_and_texts(reviews: &[Review]) -> Vec<(String, String)> {
    reviews
        .iter()
        .map(|r| {
            let split = format!("{:?}", r.split).to_lowercase();
            let folder = match r.sentiment.unwrap().class() {
                1 => "pos",
                _ => "neg",
            };
            let id = format!("{split}/{folder}/{}_{}.txt", r.id, r.stars);
            (id, r.text.clone())
        })
        .collect()
}

fn assert_selected(selected: &[Review], expected: &[(&str, &str)]) {
    let got = ids_and_texts(selected);
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for ((id, text), (want_id, start)) in got.iter().zip(expected) {
        assert_eq!(id, want_id);
        assert!(text.starts_with(start), "{id}: {text:.80}");
    }
}

#[test]
fn the_study_trains_and_scores_on_exactly_the_reviews_of_a_samples_file() {
    let dir = temp_dir("select");
    let file = samples_file(&dir);
    let mut config = StudyConfig::quick(&assets());
    config.models = vec![model("nbsvm")];
    config.sizes = vec![4];
    config.seeds = 1;
    config.samples = Some(file.clone());
    config.test_size = None;

    let imdb = Imdb::load(&config.data, ImdbParts::LABELLED).unwrap();
    let selection = Selection::new(&config).unwrap();
    assert_eq!(selection.samples_file(), Some(file.as_path()));
    assert_selected(&selection.test(&imdb.test).unwrap(), &TEST);
    assert_selected(&selection.train(&imdb.train, 4, 0).unwrap(), &TRAIN);

    // The committed file of the reference's reviews: every id is one the reader gives.
    let mut reference = config.clone();
    reference.samples = Some(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../docs/results/textflix/reference_samples_n100.json"),
    );
    reference.test_size = Some(2000);
    let reference = Selection::new(&reference).unwrap();
    assert_eq!(reference.test(&imdb.test).unwrap().len(), 2000);
    for seed in 0..3 {
        assert_eq!(reference.train(&imdb.train, 100, seed).unwrap().len(), 100);
    }

    // An (n, seed) the file has no sample for: an error naming the file, n and seed.
    for (n, seed) in [(4, 1), (10, 0)] {
        match selection.train(&imdb.train, n, seed) {
            Err(TransferError::Format { path, message }) => {
                assert_eq!(path, file);
                assert_eq!(
                    message,
                    format!("no training sample for n = {n}, seed = {seed}")
                );
            }
            other => panic!("n = {n}, seed = {seed}: {other:?}"),
        }
    }

    // The runner: one cell on the 4 reviews, scored on the 6; the results name the file.
    let out = dir.join("run");
    let cells = run(&config, &out, false).unwrap();
    assert_eq!((cells.len(), cells[0].n, cells[0].test_size), (1, 4, 6));
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(
        md.contains(&format!("test reviews from {}", file.display())),
        "{md}"
    );
    let recorded: StudyConfig =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(recorded.samples.as_deref(), Some(file.as_path()));
    config.seeds = 2;
    let err = run(&config, &out, false).unwrap_err().to_string();
    assert!(
        err.contains("n = 4, seed = 1") && err.contains("samples.json"),
        "{err}"
    );
    // Cells of drawn samples do not join them in one directory.
    config.samples = None;
    let err = run(&config, &out, false).unwrap_err().to_string();
    assert!(err.contains("use another output directory"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_samples_file_refuses_held_out_reviews_another_test_size_and_unknown_ids() {
    let dir = temp_dir("refuse");
    let file = samples_file(&dir);
    let mut config = StudyConfig::quick(&assets());
    config.samples = Some(file.clone());
    let err = Selection::new(&config).unwrap_err().to_string();
    assert!(
        err.contains("test_size") && err.contains("has 6 reviews"),
        "{err}"
    );
    config.test_size = Some(6);
    assert!(Selection::new(&config).is_ok());
    config.held_out = Some(100);
    assert!(
        Selection::new(&config)
            .unwrap_err()
            .to_string()
            .contains("held_out")
    );
    config.held_out = None;

    std::fs::write(&file, r#"{"test": ["test/pos/4894.txt"], "train": {}}"#).unwrap();
    let err = Selection::new(&config).unwrap_err().to_string();
    assert!(
        err.contains("samples.json") && err.contains("test/pos/4894.txt"),
        "{err}"
    );
    config.samples = Some(dir.join("missing.json"));
    let err = Selection::new(&config).unwrap_err().to_string();
    assert!(err.contains("missing.json"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
