//! The `transfer` command on bad input (a nonzero exit naming the file or field, never a
//! panic), `embed` printing what the library computes, and `fetch` refusing a corrupt
//! download. The library's side of each is tested in the facade's `tests/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::prelude::Device;
use transfer_nlp::pipeline::io::assets::asset_dir;
use transfer_nlp::pipeline::io::hf::{PretrainedEncoder, PretrainedModel};
use transfer_nlp::predictor::Pooling;

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("transfer-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the CLI; returns its exit code, stdout and stderr.
fn cli(args: &[&str]) -> (i32, String, String) {
    cli_env(args, &[], &[])
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
    let model = PretrainedEncoder::load(&minilm, &Device::flex()).unwrap();
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
    let model = PretrainedEncoder::load(&exported, &Device::flex()).unwrap();
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

/// A user's own file: a CSV of real IMDB reviews (quotes, commas and `<br />` inside) with
/// columns named differently, trained with a stratified subset, evaluated on a TSV whose
/// extension says nothing (`--format`); a label the model never saw is named with its line.
#[test]
fn a_users_csv_trains_and_a_tsv_evaluates() {
    use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts, balanced_sample};
    let dir = tempdir("own-data");
    let imdb = Imdb::load(Imdb::default_path().unwrap(), ImdbParts::LABELLED).unwrap();
    let label = |r: &transfer_nlp::pipeline::data::imdb::Review| {
        if r.stars >= 7 { "liked" } else { "disliked" }
    };
    let mut csv = String::from("id,review,verdict\n");
    for (i, r) in balanced_sample(&imdb.train, 600, 3)
        .unwrap()
        .iter()
        .enumerate()
    {
        csv.push_str(&format!(
            "{i},\"{}\",{}\n",
            r.text.replace('"', "\"\""),
            label(r)
        ));
    }
    let mut tsv = String::from("review\tverdict\n");
    for r in balanced_sample(&imdb.test, 300, 3).unwrap() {
        tsv.push_str(&format!(
            "{}\t{}\n",
            r.text.replace(['\t', '\n', '"'], " "),
            label(&r)
        ));
    }
    let (train, test) = (dir.join("reviews.csv"), dir.join("test.txt"));
    std::fs::write(&train, csv).unwrap();
    std::fs::write(&test, &tsv).unwrap();
    let model = dir.join("model");
    let columns = ["--text-column", "review", "--label-column", "verdict"];
    let mut args = vec![
        "train", "--arch", "bag", "--epochs", "6", "--lr", "0.02", "--quiet",
    ];
    args.extend(["--data", train.to_str().unwrap(), "--train-size", "500"]);
    args.extend(["--out", model.to_str().unwrap()]);
    args.extend(columns);
    ok(&args);
    let mut evaluate = vec!["evaluate", "--model", model.to_str().unwrap()];
    evaluate.extend(["--data", test.to_str().unwrap(), "--format", "tsv"]);
    evaluate.extend(columns);
    let predictions = dir.join("predictions.jsonl");
    let mut with_predictions = evaluate.clone();
    with_predictions.extend(["--predictions", predictions.to_str().unwrap()]);
    let metrics: serde_json::Value = serde_json::from_str(&ok(&with_predictions)).unwrap();
    let accuracy = metrics["accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.65, "{metrics}");
    // Per class and the confusion matrix, named by the file's labels; each text's prediction.
    let per_class = metrics["per_class"].as_array().unwrap();
    let names: Vec<&str> = per_class
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["disliked", "liked"], "{metrics}");
    assert_eq!(per_class[0]["support"], 150, "{metrics}");
    let confusion: Vec<Vec<u64>> = serde_json::from_value(metrics["confusion"].clone()).unwrap();
    assert_eq!(confusion.iter().flatten().sum::<u64>(), 300);
    assert_eq!((confusion[0][0] + confusion[1][1]) as f64 / 300.0, accuracy);
    let rows = json_lines(&std::fs::read_to_string(&predictions).unwrap());
    assert_eq!(rows.len(), 300);
    let correct = rows.iter().filter(|r| r["gold"] == r["predicted"]).count();
    assert_eq!(correct as f64 / 300.0, accuracy);
    assert_eq!(rows[0]["line"], 2);

    // Every class's probability; an empty text is an error line, the others still predicted.
    let printed = json_lines(&ok(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "A wonderful film.",
        " ",
        "Awful.",
    ]));
    assert_eq!(printed.len(), 3, "{printed:?}");
    assert_eq!(printed[1]["error"], "empty text");
    assert_eq!(printed[1]["line"], 2);
    for line in [&printed[0], &printed[2]] {
        let p = &line["probabilities"];
        let sum = p["liked"].as_f64().unwrap() + p["disliked"].as_f64().unwrap();
        assert!((sum - 1.0).abs() < 1e-5, "{line}");
        assert_eq!(
            p[line["label"].as_str().unwrap()],
            line["probability"],
            "{line}"
        );
    }

    std::fs::write(&test, format!("{tsv}a review of its own\tunsure\n")).unwrap();
    let (code, _, stderr) = cli(&evaluate);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("test.txt") && stderr.contains("line 302") && stderr.contains("unsure"),
        "{stderr}"
    );
    let (code, _, stderr) = cli(&["train", "--data", "notes.xlsx", "--out", "x", "--quiet"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("notes.xlsx") && stderr.contains("csv, tsv"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--print-config` gives every field to start a `--config` from; a partial `--config` takes
/// the rest from the flags' defaults; `--keep-best` saves the best epoch and says which; an
/// existing `--out` is kept unless `--force`.
#[test]
fn training_a_user_can_steer() {
    let dir = tempdir("steer");
    let printed: serde_json::Value =
        serde_json::from_str(&ok(&["train", "--arch", "bert", "--print-config"])).unwrap();
    assert_eq!(printed["epochs"], 3, "{printed}");
    assert_eq!(printed["learning_rate"], 5e-5, "{printed}");
    assert_eq!(printed["keep_best"], false, "{printed}");

    let config = dir.join("config.json");
    std::fs::write(&config, "{\"epochs\": 3, \"batch_size\": 16}").unwrap();
    let model = dir.join("model");
    let train = |extra: &[&str]| {
        let mut args = vec!["train", "--arch", "bag", "--train-size", "240", "--quiet"];
        args.extend(["--config", config.to_str().unwrap()]);
        args.extend(["--out", model.to_str().unwrap()]);
        args.extend(extra);
        cli(&args)
    };
    let (code, stdout, stderr) = train(&["--validation-fraction", "0.25", "--keep-best"]);
    assert_eq!(code, 0, "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["epochs"], 3, "{summary}");
    assert!(
        summary["kept_epoch"].as_u64().is_some_and(|e| e < 3),
        "{summary}"
    );

    let (code, _, stderr) = train(&[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("exists") && stderr.contains("--force"),
        "{stderr}"
    );
    let (code, _, stderr) = train(&["--force", "--epochs", "1"]);
    assert_eq!(code, 0, "{stderr}");

    let (code, _, stderr) = train(&["--force", "--keep-best"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("--validation-fraction"), "{stderr}");
    std::fs::write(&config, "{\"epochz\": 3}").unwrap();
    let (code, _, stderr) = train(&["--force"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("config.json") && stderr.contains("epochz"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--task regression` on IMDB's star ratings: the model beats predicting the training mean,
/// reports MAE / RMSE / correlations, and `predict` prints a number.
#[test]
fn a_regressor_learns_imdb_star_ratings() {
    use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts, balanced_sample};
    let dir = tempdir("regression");
    let model = dir.join("stars");
    let m = model.to_str().unwrap();
    ok(&[
        "train",
        "--task",
        "regression",
        "--scale-targets",
        "--arch",
        "bag",
        "--train-size",
        "800",
        "--epochs",
        "8",
        "--lr",
        "0.02",
        "--out",
        m,
        "--quiet",
    ]);
    let metrics: serde_json::Value =
        serde_json::from_str(&ok(&["evaluate", "--model", m, "--test-size", "400"])).unwrap();
    // The same 400 test reviews the CLI drew (balanced, seed 1), and their stars' variance:
    // the squared error of predicting their mean.
    let imdb = Imdb::load(Imdb::default_path().unwrap(), ImdbParts::LABELLED).unwrap();
    let stars: Vec<f64> = balanced_sample(&imdb.test, 400, 1)
        .unwrap()
        .iter()
        .map(|r| f64::from(r.stars))
        .collect();
    let mean = stars.iter().sum::<f64>() / 400.0;
    let variance = stars.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / 400.0;
    let mse = metrics["mse"].as_f64().unwrap();
    assert!(
        mse < 0.8 * variance,
        "mse {mse} vs variance {variance}: {metrics}"
    );
    let regression = &metrics["regression"];
    assert!(regression["pearson"].as_f64().unwrap() > 0.4, "{metrics}");
    assert!(
        (regression["rmse"].as_f64().unwrap() - mse.sqrt()).abs() < 1e-3,
        "{metrics}"
    );
    let printed = json_lines(&ok(&["predict", "--model", m, "A wonderful film."]));
    assert!(printed[0]["values"][0].as_f64().is_some(), "{printed:?}");
    // The training stars' mean and deviation are saved with the model.
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model.join("pipeline.json")).unwrap()).unwrap();
    let mean = saved["predictor"]["scaling"]["mean"][0].as_f64().unwrap();
    assert!((4.0..7.0).contains(&mean), "{saved}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A CSV of IMDB reviews (their first 30 words) tagged with the topics whose words were mixed
/// in: `food,sports`, one topic, or none (an empty field).
fn write_tagged_csv(path: &Path, test: bool, n: usize) {
    use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts};
    use transfer_nlp::pipeline::data::rng::SplitMix64;
    const TOPICS: [(&str, [&str; 3]); 3] = [
        ("food", ["pasta", "chef", "recipe"]),
        ("music", ["guitar", "album", "drummer"]),
        ("sports", ["goal", "league", "stadium"]),
    ];
    let imdb = Imdb::load(Imdb::default_path().unwrap(), ImdbParts::LABELLED).unwrap();
    let reviews = if test { &imdb.test } else { &imdb.train };
    let mut rng = SplitMix64::new(u64::from(test) + 7);
    let mut csv = String::from("text,topics\n");
    for i in 0..n {
        let text = reviews[i * 31].text.replace('"', "'");
        let mut words: Vec<&str> = text.split_whitespace().take(30).collect();
        let mut tags = Vec::new();
        for (name, topic_words) in TOPICS {
            if rng.below(2) == 1 {
                tags.push(name);
                for _ in 0..2 {
                    let at = rng.below(words.len() + 1);
                    words.insert(at, topic_words[rng.below(3)]);
                }
            }
        }
        csv.push_str(&format!("\"{}\",\"{}\"\n", words.join(" "), tags.join(",")));
    }
    std::fs::write(path, csv).unwrap();
}

#[test]
fn multi_label_tags_from_a_csv() {
    let dir = tempdir("multi-label");
    let (train, test) = (dir.join("train.csv"), dir.join("test.csv"));
    write_tagged_csv(&train, false, 500);
    write_tagged_csv(&test, true, 200);
    let model = dir.join("tagger");
    let m = model.to_str().unwrap();
    let summary: serde_json::Value = serde_json::from_str(&ok(&[
        "train",
        "--task",
        "multi-label",
        "--data",
        train.to_str().unwrap(),
        "--label-column",
        "topics",
        "--arch",
        "bag",
        "--pooling",
        "max",
        "--dropout",
        "0",
        "--epochs",
        "30",
        "--lr",
        "0.03",
        "--validation-fraction",
        "0.2",
        "--out",
        m,
        "--quiet",
    ]))
    .unwrap();
    // Tuned on the held-out fifth, one per label.
    assert_eq!(
        summary["thresholds"].as_array().unwrap().len(),
        3,
        "{summary}"
    );

    let predictions = dir.join("predictions.jsonl");
    let metrics: serde_json::Value = serde_json::from_str(&ok(&[
        "evaluate",
        "--model",
        m,
        "--data",
        test.to_str().unwrap(),
        "--label-column",
        "topics",
        "--predictions",
        predictions.to_str().unwrap(),
    ]))
    .unwrap();
    let per_label = metrics["per_class"].as_array().unwrap();
    let labels: Vec<&str> = per_label
        .iter()
        .map(|l| l["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["food", "music", "sports"]);
    assert!(
        metrics["multi_label"]["micro_f1"].as_f64().unwrap() > 0.85,
        "{metrics}"
    );
    assert!(metrics["macro_f1"].as_f64().unwrap() > 0.8, "{metrics}");
    let lines = json_lines(&std::fs::read_to_string(&predictions).unwrap());
    assert_eq!(lines.len(), 200);
    assert!(lines[0]["gold"].is_array() && lines[0]["probabilities"]["food"].is_number());

    let printed = json_lines(&ok(&[
        "predict",
        "--model",
        m,
        "The drummer ate pasta at the stadium.",
    ]));
    assert_eq!(
        printed[0]["labels"],
        serde_json::json!(["food", "music", "sports"]),
        "{printed:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// GPT-2 (a tiny checkpoint transformers made) through the CLI: fine-tuned with its own
/// pooling (the last token), exported in GPT-2's layout, and the export embedded as the library
/// embeds it.
#[test]
fn a_gpt2_checkpoint_fine_tunes_pools_its_last_token_and_exports() {
    let dir = tempdir("gpt2");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let gpt2 = root.join("tests/data/families/gpt2");
    let data = root.join("examples/data/reviews.csv");
    let model = dir.join("gpt2-reviews");
    let m = model.to_str().unwrap();
    ok(&[
        "train",
        "--arch",
        "bert",
        "--pretrained",
        gpt2.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--epochs",
        "1",
        "--max-length",
        "48",
        "--out",
        m,
        "--quiet",
    ]);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model.join("pipeline.json")).unwrap()).unwrap();
    let saved = saved.to_string();
    assert!(saved.contains("\"gpt2\""), "{saved}");
    assert!(
        saved.contains("\"last\""),
        "not pooled by the last token: {saved}"
    );

    let exported = dir.join("gpt2-hf");
    let e = exported.to_str().unwrap();
    ok(&["export", "--model", m, "--out", e]);
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(exported.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["model_type"], "gpt2");
    let text = "A slow start, then a wonderful film.";
    let embedded = json_lines(&ok(&["embed", "--model", e, "--max-length", "32", text]));
    let library = PretrainedModel::load(&exported, &Device::flex()).unwrap();
    assert_eq!(library.pooling(), Pooling::Last);
    let expected = library.sentence_embeddings(&[text], 32, 1).unwrap();
    let got: Vec<f32> = serde_json::from_value(embedded[0]["embedding"].clone()).unwrap();
    assert_eq!(got, expected[0]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[path = "../../hub/tests/support/mod.rs"]
mod support;

/// Runs the CLI with these environment variables set and those removed; returns its exit
/// code, stdout and stderr.
fn cli_env(args: &[&str], set: &[(&str, &Path)], remove: &[&str]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_transfer"));
    command.args(args);
    for (name, value) in set {
        command.env(name, value);
    }
    for name in remove {
        command.env_remove(name);
    }
    let out = command.output().expect("run transfer");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "the CLI panicked: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn models_named_by_hub_id_train_embed_and_fetch() {
    const MINILM: &str = "sentence-transformers/all-MiniLM-L6-v2";
    let dir = tempdir("hub-ids");
    let minilm = asset_dir().unwrap().join("models/all-MiniLM-L6-v2");
    let hub = support::fake_hub::FakeHub::start();
    hub.publish_dir(MINILM, &minilm, None);
    hub.publish_dir("org/minilm-copy", &minilm, None);
    // The user's cache, written by Python's huggingface_hub.
    let cache = dir.join("hf-cache");
    support::python::snapshot_download(&hub.url, &cache, MINILM);
    hub.clear_seen();
    let endpoint = PathBuf::from(&hub.url);
    let env = [
        ("HF_HUB_CACHE", cache.as_path()),
        ("HF_ENDPOINT", endpoint.as_path()),
    ];
    let run = |args: &[&str]| cli_env(args, &env, &["HF_TOKEN"]);

    let model = dir.join("model");
    let (code, _, stderr) = run(&[
        "train",
        "--arch",
        "bert",
        "--pretrained",
        MINILM,
        "--train-size",
        "32",
        "--epochs",
        "1",
        "--max-length",
        "32",
        "--out",
        model.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(model.join("pipeline.json").is_file());
    let text = "A wonderful, moving film.";
    let (code, stdout, stderr) = run(&["embed", "--model", MINILM, "--max-length", "32", text]);
    assert_eq!(code, 0, "{stderr}");
    let got: Vec<f32> =
        serde_json::from_value(json_lines(&stdout)[0]["embedding"].clone()).unwrap();
    let library = PretrainedModel::load(&minilm, &Device::flex()).unwrap();
    assert_eq!(got, library.sentence_embeddings(&[text], 32, 1).unwrap()[0]);
    assert!(hub.seen().is_empty(), "a cached model touched the network");

    // Not in the cache: named, with the command that fetches it; --download fetches it.
    let (code, _, stderr) = run(&["embed", "--model", "org/minilm-copy", text]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("transfer fetch --hub org/minilm-copy@main"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&[
        "embed",
        "--model",
        "org/minilm-copy",
        "--download",
        "--max-length",
        "32",
        text,
    ]);
    assert_eq!(code, 0, "{stderr}");

    // `fetch --hub`: one JSON line per model; a second run finds every file present.
    let (code, stdout, stderr) = run(&[
        "fetch",
        "--quiet",
        "--hub",
        "org/minilm-copy",
        "--hub",
        MINILM,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let lines = json_lines(&stdout);
    assert_eq!(lines.len(), 2);
    assert!(
        lines[1]["dir"]
            .as_str()
            .unwrap()
            .starts_with(cache.to_str().unwrap())
    );
    assert!(
        lines
            .iter()
            .flat_map(|l| l["files"].as_array().unwrap())
            .all(|f| f["arrival"] == "present")
    );
    let (code, _, stderr) = run(&["fetch", "--quiet", "--hub", "org/no-such-model"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("404") && stderr.contains("org/no-such-model"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Serves the files under `root` on 127.0.0.1 (a mirror of the asset layout).
fn serve_dir(root: PathBuf) -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let path = root.join(request.url().trim_start_matches('/'));
            let _ = match std::fs::File::open(&path) {
                Ok(file) => request.respond(tiny_http::Response::from_file(file)),
                Err(_) => request.respond(tiny_http::Response::empty(404)),
            };
        }
    });
    base
}

#[test]
fn a_bare_binary_uses_the_default_asset_directory_that_fetch_fills() {
    let home = tempdir("bare-home");
    let env = [("HOME", home.as_path()), ("XDG_CACHE_HOME", home.as_path())];
    let run = |args: &[&str]| cli_env(args, &env, &["TRANSFER_ASSETS"]);
    let out = home.join("model");
    let train = [
        "train",
        "--arch",
        "bag",
        "--train-size",
        "64",
        "--epochs",
        "1",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    let (code, _, stderr) = run(&train);
    assert_eq!(code, 1);
    let expected = home.join("transfer-nlp/data/aclImdb_v1.tar.gz");
    assert!(
        stderr.contains(&format!("{} is missing", expected.display())),
        "{stderr}"
    );
    assert!(stderr.contains("transfer fetch --only imdb"), "{stderr}");

    let mirror = serve_dir(asset_dir().unwrap());
    let (code, stdout, stderr) =
        run(&["fetch", "--quiet", "--only", "imdb", "--base-url", &mirror]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"downloaded\""), "{stdout}");
    assert!(expected.is_file());
    let (code, _, stderr) = run(&train);
    assert_eq!(code, 0, "{stderr}");
    assert!(out.join("pipeline.json").is_file());
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn word2vec_trains_on_a_text_file_and_its_vectors_answer_queries() {
    let dir = tempdir("word2vec");
    let corpus = dir.join("corpus.txt");
    // A small corpus where "good" and "great" share their contexts, and "table" has others.
    let mut text = String::new();
    for i in 0..400 {
        let adjective = ["good", "great", "fine"][i % 3];
        text.push_str(&format!(
            "a {adjective} film with a {adjective} story<br />\n"
        ));
        text.push_str("the table and the chair stood in the room\n");
    }
    std::fs::write(&corpus, text).unwrap();
    let out = dir.join("vectors.bin");
    let args = |extra: &[&str]| {
        let mut args = vec![
            "word2vec",
            "--corpus",
            corpus.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(&[
            "--min-count",
            "2",
            "--dim",
            "20",
            "--epochs",
            "20",
            "--threads",
            "1",
            "--quiet",
        ]);
        args.extend_from_slice(extra);
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |extra: &[&str]| {
        let owned = args(extra);
        cli(&owned.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let (code, stdout, stderr) = run(&[]);
    assert_eq!(code, 0, "{stderr}");
    let summary = &json_lines(&stdout)[0];
    assert_eq!(summary["vocab"], 14, "{summary}");
    assert_eq!(summary["words_processed"], 20 * 400 * (7 + 9), "{summary}");
    let first = std::fs::read(&out).unwrap();
    assert!(first.starts_with(b"14 20\n"));
    // One thread and the same seed: the same file, byte for byte.
    assert_eq!(run(&[]).0, 0);
    assert_eq!(std::fs::read(&out).unwrap(), first);

    let v = out.to_str().unwrap();
    let (code, stdout, stderr) = cli(&["neighbours", "--vectors", v, "--top", "2", "great"]);
    assert_eq!(code, 0, "{stderr}");
    let nearest: Vec<String> = json_lines(&stdout)[0]["neighbours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n[0].as_str().unwrap().to_string())
        .collect();
    // Nearest: another word of its contexts; none of the other sentence's words.
    assert!(nearest[0] == "good" || nearest[0] == "fine", "{nearest:?}");
    let other = ["the", "table", "and", "chair", "stood", "in", "room"];
    assert!(
        !nearest.iter().any(|w| other.contains(&w.as_str())),
        "{nearest:?}"
    );
    let (code, stdout, stderr) = cli(&["analogy", "--vectors", v, "good", "great", "good"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        json_lines(&stdout)[0]["answers"].as_array().unwrap().len(),
        5
    );

    // Bad input: an unknown word, a bad setting, an empty corpus; each named, exit 1.
    let (code, _, stderr) = cli(&["neighbours", "--vectors", v, "zebra"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("zebra"), "{stderr}");
    let (code, _, stderr) = run(&["--window", "0"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("window = 0"), "{stderr}");
    std::fs::write(&corpus, "\n\n").unwrap();
    let (code, _, stderr) = run(&[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("empty"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
