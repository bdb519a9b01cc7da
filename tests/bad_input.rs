//! Bad input gives a typed error naming the file, field or example, never a panic (the CLI's
//! side: `cli/tests/cli.rs`).

mod common;

use std::path::{Path, PathBuf};

use burn::prelude::Device;
use common::*;
use transfer_nlp::*;

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("transfer-bad-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn saved_pipeline(name: &str) -> PathBuf {
    let train = examples(false, 64, 1);
    let pipeline = word_pipeline(&train, Arch::Bag, &Device::flex());
    let dir = tempdir(name);
    pipeline.save(&dir).unwrap();
    dir
}

fn edit_manifest(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join(transfer_nlp::pipeline::MANIFEST);
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut value);
    std::fs::write(&path, serde_json::to_vec(&value).unwrap()).unwrap();
}

#[test]
fn an_unknown_config_field_names_the_file_and_the_field() {
    let _rng = exclusive_rng();
    let dir = saved_pipeline("unknown-field");
    edit_manifest(&dir, |v| v["predictor"]["bogus_option"] = 3.into());
    let err = AnyPipeline::load(&dir, &Device::flex()).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, TransferError::Format { .. }), "{err:?}");
    assert!(
        message.contains("pipeline.json") && message.contains("bogus_option"),
        "{message}"
    );

    edit_manifest(&dir, |v| {
        v["predictor"]
            .as_object_mut()
            .unwrap()
            .remove("bogus_option");
        v["contextual"]["kind"] = "transformer_xl".into();
    });
    let message = AnyPipeline::load(&dir, &Device::flex())
        .unwrap_err()
        .to_string();
    assert!(message.contains("transformer_xl"), "{message}");
}

#[test]
fn missing_files_name_their_path() {
    let _rng = exclusive_rng();
    let err = AnyPipeline::load("/nonexistent/model", &Device::flex()).unwrap_err();
    assert!(matches!(err, TransferError::Io { .. }));
    assert!(
        err.to_string().contains("/nonexistent/model/pipeline.json"),
        "{err}"
    );

    let dir = saved_pipeline("missing-weights");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "safetensors") {
            std::fs::remove_file(path).unwrap();
        }
    }
    let message = AnyPipeline::load(&dir, &Device::flex())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains(".safetensors") && message.contains("No such file"),
        "{message}"
    );
}

#[test]
fn weights_that_do_not_fit_the_config_are_an_error() {
    let _rng = exclusive_rng();
    let dir = saved_pipeline("wrong-shape");
    edit_manifest(&dir, |v| v["embedder"]["dim"] = 16.into());
    edit_manifest(&dir, |v| v["contextual"]["dim"] = 16.into());
    edit_manifest(&dir, |v| v["predictor"]["input_dim"] = 16.into());
    let err = AnyPipeline::load(&dir, &Device::flex()).unwrap_err();
    assert!(matches!(err, TransferError::Weights { .. }), "{err:?}");
    assert!(err.to_string().contains("embedder"), "{err}");
}

#[test]
fn empty_texts_and_empty_datasets_are_typed_errors() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let train = examples(false, 64, 2);
    let mut pipeline = word_pipeline(&train, Arch::Bag, &device);
    let config = TrainConfig {
        epochs: 1,
        ..TrainConfig::default()
    };

    let err = pipeline.train(&[], &config).unwrap_err();
    assert!(matches!(err, TransferError::EmptyDataset { .. }), "{err:?}");

    let mut with_empty = train.clone();
    with_empty[5].text = "  \n".into();
    match pipeline.train(&with_empty, &config).unwrap_err() {
        TransferError::EmptyText { index: 5, .. } => {}
        other => panic!("{other:?}"),
    }
    let mut bad_class = train.clone();
    bad_class[7].target = Target::Class(9);
    assert!(matches!(
        pipeline.train(&bad_class, &config).unwrap_err(),
        TransferError::BadTarget { index: 7, .. }
    ));
    assert!(matches!(
        pipeline.predict(&["good", ""]).unwrap_err(),
        TransferError::EmptyText { index: 1, .. }
    ));
    let mut bad = config.clone();
    bad.batch_size = 0;
    assert!(matches!(
        pipeline.train(&train, &bad).unwrap_err(),
        TransferError::InvalidConfig {
            field: "batch_size",
            ..
        }
    ));
    for lr in [f64::NAN, f64::INFINITY, -1e-3] {
        let mut bad = config.clone();
        bad.learning_rate = lr;
        assert!(
            matches!(
                pipeline.train(&train, &bad).unwrap_err(),
                TransferError::InvalidConfig {
                    field: "learning_rate",
                    ..
                }
            ),
            "learning rate {lr}"
        );
    }
}

#[test]
fn stages_that_do_not_fit_together_are_refused() {
    let _rng = exclusive_rng();
    use transfer_nlp::contextual::{AnyContextual, BagOfEmbeddings};
    let device = Device::flex();
    let train = examples(false, 32, 3);
    let good = word_pipeline(&train, Arch::Bag, &device);
    let stages = good.stages();
    let err = TransferPipeline::new(
        good.tokenizer().clone(),
        stages.embedder.clone(),
        AnyContextual::from(BagOfEmbeddings::new(7)),
        stages.predictor.clone(),
        &device,
    )
    .unwrap_err();
    assert!(matches!(err, TransferError::StageMismatch(_)), "{err:?}");
}

#[test]
fn imdb_archives_with_faults() {
    let _rng = exclusive_rng();
    use std::path::Path;
    use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts};
    let good = |name: &str| (name.to_string(), b"A fine review.".to_vec());
    let mut files = vec![
        good("aclImdb/train/pos/0_9.txt"),
        good("aclImdb/train/neg/0_1.txt"),
        good("aclImdb/test/pos/0_8.txt"),
        good("aclImdb/test/neg/0_3.txt"),
    ];
    // A review that is not UTF-8 is skipped and reported; the rest loads.
    files.push((
        "aclImdb/train/pos/1_10.txt".into(),
        b"caf\xe9 \xff broken".to_vec(),
    ));
    let bytes = tar_gz(&files);
    let imdb =
        Imdb::read_tarball(&bytes[..], Path::new("faulty.tar.gz"), ImdbParts::LABELLED).unwrap();
    assert_eq!(imdb.train.len(), 2);
    assert_eq!(imdb.skipped.len(), 1);
    assert!(imdb.skipped[0].path.ends_with("1_10.txt") && imdb.skipped[0].reason.contains("UTF-8"));

    // A truncated archive is an error naming the file.
    let truncated = &tiny_imdb()[..tiny_imdb().len() / 2];
    let err = Imdb::read_tarball(truncated, Path::new("cut.tar.gz"), ImdbParts::ALL).unwrap_err();
    assert!(err.to_string().contains("cut.tar.gz"), "{err}");

    // A missing label folder is an error naming the folder.
    files.retain(|(name, _)| !name.contains("test/neg"));
    let bytes = tar_gz(&files);
    let err = Imdb::read_tarball(&bytes[..], Path::new("partial.tar.gz"), ImdbParts::LABELLED)
        .unwrap_err();
    assert!(err.to_string().contains("test/neg"), "{err}");

    // Asking for more reviews than there are is a typed error.
    let imdb = Imdb::read_tarball(tiny_imdb(), Path::new("tiny.tar.gz"), ImdbParts::ALL).unwrap();
    assert!(matches!(
        transfer_nlp::pipeline::data::imdb::balanced_sample(&imdb.train, 100, 0),
        Err(TransferError::NotEnoughExamples {
            requested: 50,
            available: 2,
            ..
        })
    ));
}

#[test]
fn odd_reviews_are_handled() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let train = examples(false, 64, 4);
    let pipeline = word_pipeline(&train, Arch::BiLstm, &device);
    let huge = "great ".repeat(200_000); // about 1 MB
    let odd = [
        "!!!???...",
        "🎬🍿😀😀",
        "\u{200b}\u{feff}",
        huge.as_str(),
        "a",
    ];
    let predictions = pipeline.predict(&odd).unwrap();
    let outputs = pipeline.outputs(&odd).unwrap();
    assert_eq!(predictions.len(), odd.len());
    // Each prediction is the softmax of the model's own logits for that text.
    for (p, logits) in predictions.iter().zip(&outputs) {
        let p = p.as_class().unwrap();
        assert!(logits.iter().all(|x| x.is_finite()), "{logits:?}");
        let top = usize::from(logits[1] > logits[0]);
        let probability = 1.0 / (1.0 + (logits[1 - top] - logits[top]).exp());
        assert_eq!(p.label, pipeline.labels()[top]);
        assert!(
            (p.probability - probability).abs() < 1e-6,
            "{} vs {probability}",
            p.probability
        );
    }
}
