//! The `transfer` command on bad input (a nonzero exit naming the file or field, never a
//! panic), `embed` printing what the library computes, and `fetch` refusing a corrupt
//! download. The library's side of each is tested in the facade's `tests/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::prelude::Device;
use transfer_nlp::pipeline::io::assets::asset_dir;
use transfer_nlp::pipeline::io::hf::PretrainedBert;

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("transfer-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the CLI; returns its exit code, stdout and stderr.
fn cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_transfer"))
        .args(args)
        .output()
        .expect("run transfer");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "the CLI panicked: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn an_unknown_field_in_a_saved_pipeline_is_named() {
    let dir = tempdir("unknown-field");
    let model = dir.join("model");
    let model_arg = model.to_str().unwrap();
    let (code, _, stderr) = cli(&[
        "train",
        "--arch",
        "bag",
        "--train-size",
        "64",
        "--epochs",
        "1",
        "--out",
        model_arg,
        "--quiet",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let manifest = model.join(transfer_nlp::pipeline::MANIFEST);
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    value["predictor"]["bogus_option"] = 3.into();
    std::fs::write(&manifest, serde_json::to_vec(&value).unwrap()).unwrap();
    let (code, _, stderr) = cli(&["predict", "--model", model_arg, "fine"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("bogus_option"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_files_name_their_path() {
    let (code, _, stderr) = cli(&[
        "evaluate",
        "--model",
        "/nonexistent/model",
        "--data",
        "/nonexistent/reviews.jsonl",
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("/nonexistent/model"), "{stderr}");
}

#[test]
fn empty_and_broken_datasets_are_refused() {
    let dir = tempdir("empty-data");
    let out = dir.join("model");
    let train = |data: &Path| {
        cli(&[
            "train",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
    };
    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let (code, _, stderr) = train(&empty);
    assert_eq!(code, 1);
    assert!(stderr.contains("empty"), "{stderr}");
    let broken = dir.join("broken.jsonl");
    std::fs::write(
        &broken,
        "{\"text\": \"fine\", \"label\": \"pos\"}\n{\"txt\": \"typo\"}\n",
    )
    .unwrap();
    let (code, _, stderr) = train(&broken);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("broken.jsonl") && stderr.contains("line 2"),
        "{stderr}"
    );
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn embed_prints_the_librarys_sentence_embeddings() {
    let minilm = asset_dir().unwrap().join("models/all-MiniLM-L6-v2");
    let text = "A quiet film that stays with you.";
    let model = PretrainedBert::load(&minilm, &Device::flex()).unwrap();
    let ours = model.sentence_embeddings(&[text], 128, 1).unwrap();
    let (code, stdout, stderr) = cli(&[
        "embed",
        "--model",
        minilm.to_str().unwrap(),
        "--max-length",
        "128",
        text,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let line: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(line["text"], text);
    let printed: Vec<f32> = line["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(printed.len(), ours[0].len());
    assert!(
        printed
            .iter()
            .zip(&ours[0])
            .all(|(a, b)| (a - b).abs() < 1e-6)
    );
}

/// Serves `body` at every path on 127.0.0.1; returns the base URL.
fn serve(body: &'static [u8]) -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let _ = request.respond(tiny_http::Response::from_data(body));
        }
    });
    base
}

#[test]
fn fetch_exits_with_1_and_names_a_corrupt_download() {
    let base = serve(b"[PAD]\n[UNK]\n");
    let out = tempdir("corrupt");
    let (code, _, stderr) = cli(&[
        "fetch",
        "--quiet",
        "--only",
        "vocab",
        "--dir",
        out.to_str().unwrap(),
        "--base-url",
        &base,
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_textflix_config_typo_names_the_file_and_the_field() {
    let dir = tempdir("textflix-config");
    let config = dir.join("study.toml");
    std::fs::write(&config, "models = [\"bert\"]\n\n[bert]\nhed_tail = true\n").unwrap();
    let out = dir.join("out");
    let (code, _, stderr) = cli(&[
        "textflix",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("study.toml") && stderr.contains("bert.hed_tail"),
        "{stderr}"
    );
    let (code, _, stderr) = cli(&[
        "textflix",
        "--set",
        "self_training.rounds=many",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("--set self_training.rounds=many"),
        "{stderr}"
    );
    let (code, _, stderr) = cli(&["textflix", "--models", "bert,bret", "--out", "x"]);
    assert_eq!(code, 2, "a usage error");
    assert!(stderr.contains("unknown model `bret`"), "{stderr}");
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

type CliPipeline = transfer_nlp::TransferPipeline<
    transfer_nlp::tokenizer::AnyTokenizer,
    transfer_nlp::embedder::AnyEmbedder,
    transfer_nlp::contextual::AnyContextual,
    transfer_nlp::predictor::AnyPredictor,
>;

/// Runs the CLI, which must succeed; its stdout.
fn ok(args: &[&str]) -> String {
    let (code, stdout, stderr) = cli(args);
    assert_eq!(code, 0, "transfer {args:?}: {stderr}");
    stdout
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// The normal paths on real data, end to end: train → evaluate (beats chance) → predict (what
/// the library predicts with the saved pipeline), a MiniLM fine-tuned → export → embed (what
/// the library embeds with the export), and a small study (its cells and tables written).
#[test]
fn train_evaluate_predict_export_embed_and_a_study() {
    let dir = tempdir("normal-paths");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let bag = path("bag");
    ok(&[
        "train",
        "--arch",
        "bag",
        "--train-size",
        "800",
        "--epochs",
        "6",
        "--lr",
        "0.02",
        "--out",
        &bag,
        "--quiet",
    ]);
    let metrics: serde_json::Value =
        serde_json::from_str(&ok(&["evaluate", "--model", &bag, "--test-size", "400"])).unwrap();
    let accuracy = metrics["accuracy"].as_f64().expect("an accuracy");
    assert!(accuracy > 0.65, "{metrics}");

    let texts = [
        "A wonderful, moving film.",
        "A dull and boring waste of time.",
    ];
    let printed = json_lines(&ok(&["predict", "--model", &bag, texts[0], texts[1]]));
    let library = CliPipeline::load(&bag, &Device::flex())
        .unwrap()
        .predict(&texts)
        .unwrap();
    assert_eq!(printed.len(), 2);
    for ((line, expected), text) in printed.iter().zip(&library).zip(texts) {
        let expected = expected.as_class().unwrap();
        assert_eq!(line["text"], text);
        assert_eq!(line["label"], expected.label.as_str());
        let p = line["probability"].as_f64().unwrap();
        assert!((p - f64::from(expected.probability)).abs() < 1e-6, "{line}");
    }

    let minilm = path("minilm");
    ok(&[
        "train",
        "--arch",
        "bert",
        "--train-size",
        "32",
        "--epochs",
        "1",
        "--max-length",
        "32",
        "--out",
        &minilm,
        "--quiet",
    ]);
    let exported = path("minilm-hf");
    ok(&["export", "--model", &minilm, "--out", &exported]);
    let embedded = json_lines(&ok(&[
        "embed",
        "--model",
        &exported,
        "--max-length",
        "32",
        texts[0],
    ]));
    let model = PretrainedBert::load(&exported, &Device::flex()).unwrap();
    let expected = model.sentence_embeddings(&texts[..1], 32, 1).unwrap();
    let got: Vec<f32> = serde_json::from_value(embedded[0]["embedding"].clone()).unwrap();
    assert_eq!(got.len(), 384);
    let worst = got
        .iter()
        .zip(&expected[0])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(
        worst < 1e-6 && got.iter().chain(&expected[0]).all(|x| x.is_finite()),
        "{worst}"
    );

    let study = path("study");
    let summary: serde_json::Value = serde_json::from_str(&ok(&[
        "textflix",
        "--quick",
        "--models",
        "nbsvm",
        "--sizes",
        "100",
        "--seeds",
        "2",
        "--test-size",
        "300",
        "--out",
        &study,
        "--quiet",
    ]))
    .unwrap();
    assert_eq!(summary["cells"], 2, "{summary}");
    let cells: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(dir.join("study/results.json")).unwrap()).unwrap();
    for cell in &cells {
        assert_eq!(
            (cell["model"].as_str(), cell["n"].as_u64()),
            (Some("nbsvm"), Some(100))
        );
        // NB-SVM on 100 reviews: about 74 % on the whole test set.
        assert!(cell["accuracy"].as_f64().unwrap() > 0.62, "{cell}");
    }
    for file in ["results.md", "results.csv", "learning_curves.svg"] {
        assert!(dir.join("study").join(file).exists(), "{file}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
