//! The Textflix runner on real IMDB at toy sizes: the files it writes, resuming without
//! redoing cells, and the ULMFiT language model trained once and reused.

mod common;

use std::path::PathBuf;

use common::*;
use transfer_textflix::{Cell, StudyConfig, run};

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("transfer-textflix-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn cells_of<'a>(cells: &'a [Cell], model: &str) -> Vec<&'a Cell> {
    cells.iter().filter(|c| c.model == model).collect()
}

#[test]
fn baselines_write_every_output_and_a_rerun_only_adds_new_cells() {
    let out = out_dir("baselines");
    let mut config = StudyConfig::quick(&assets());
    config.models = vec![model("nbsvm"), model("wvsum")];
    config.sizes = vec![100];
    config.seeds = 2;
    config.test_size = Some(400);
    let cells = run(&config, &out, false).unwrap();
    assert_eq!(cells.len(), 4);
    for c in &cells {
        assert_eq!(c.test_size, 400);
        assert!((0.5..1.0).contains(&c.accuracy), "{c:?}");
    }
    for file in [
        "results.json",
        "results.csv",
        "results.md",
        "learning_curves.svg",
        "learning_curves.png",
        "run.json",
    ] {
        let len = std::fs::metadata(out.join(file)).map(|m| m.len());
        assert!(len.as_ref().is_ok_and(|l| *l > 0), "{file}: {len:?}");
    }
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 4, "{csv}");

    // Same plan: nothing to do, the cells are those of the first run.
    assert_eq!(run(&config, &out, false).unwrap(), cells);
    // One more size: only its cells are trained.
    config.sizes = vec![100, 200];
    let grown = run(&config, &out, false).unwrap();
    assert_eq!(grown.len(), 8);
    assert_eq!(&grown[..4], &cells[..]);
    assert_eq!(grown[4..].iter().filter(|c| c.n == 200).count(), 4);
    // Each invocation's settings are kept, with the cells that were there before it.
    let log = std::fs::read_to_string(out.join("invocations.jsonl")).unwrap();
    let invocations: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let before: Vec<u64> = invocations
        .iter()
        .map(|i| i["cells_before"].as_u64().unwrap())
        .collect();
    assert_eq!(before, [0, 4, 4]);
    assert_eq!(invocations[0]["config"]["sizes"], serde_json::json!([100]));
    assert_eq!(
        invocations[2]["config"]["sizes"],
        serde_json::json!([100, 200])
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn ulmfit_variants_train_the_language_model_once_and_refuse_another_in_the_same_directory() {
    let out = out_dir("ulmfit");
    let mut config = toy_ulmfit_config();
    let cells = run(&config, &out, false).unwrap();
    assert_eq!(cells_of(&cells, "ulmfit").len(), 1);
    let lm = out.join("ulmfit-lm");
    let weights = lm.join("model.safetensors");
    let trained_at = std::fs::metadata(&weights).unwrap().modified().unwrap();
    let report = lm_report(&out);
    assert_eq!(report["tokens"].as_u64().unwrap() / 1000, 29, "{report}");

    // More sizes, and self-training on the same language model.
    config.transfer_sizes = vec![40, 60];
    config.models.push(model("ulmfit-st"));
    config.self_training.unlabelled = 60;
    config.self_training.per_class = 10;
    let cells = run(&config, &out, false).unwrap();
    assert_eq!(cells_of(&cells, "ulmfit").len(), 2);
    assert_eq!(cells_of(&cells, "ulmfit-st").len(), 2);

    // The ensemble reuses each ulmfit cell's classifier (its saved scores), adding NB-SVM.
    let scores = out.join("scores/ulmfit-n40-seed0.json");
    let scored_at = std::fs::metadata(&scores).unwrap().modified().unwrap();
    // Its self-trained version trains its own teacher and students.
    config
        .models
        .extend([model("ulmfit-nbsvm"), model("ulmfit-nbsvm-st")]);
    let cells = run(&config, &out, false).unwrap();
    for model in ["ulmfit-nbsvm", "ulmfit-nbsvm-st"] {
        let ensemble = cells_of(&cells, model);
        assert_eq!(ensemble.len(), 2, "{ensemble:?}");
    }
    assert_eq!(
        std::fs::metadata(&scores).unwrap().modified().unwrap(),
        scored_at
    );
    let reused_at = std::fs::metadata(&weights).unwrap().modified().unwrap();
    assert_eq!(
        trained_at, reused_at,
        "the language model was trained again"
    );

    config.transfer_sizes = vec![80];
    config.models = vec![model("ulmfit-nbsvm-st")];
    config.self_training.rounds = 0;
    let err = run(&config, &out, false).unwrap_err().to_string();
    assert!(err.contains("self_training.rounds"), "{err}");
    config.self_training.rounds = 1;
    config.self_training.teachers = 0;
    let err = run(&config, &out, false).unwrap_err().to_string();
    assert!(err.contains("self_training.teachers"), "{err}");
    config.self_training.teachers = 1;
    config.ulmfit.dim = 48;
    let err = run(&config, &out, false).unwrap_err().to_string();
    assert!(
        err.contains("settings.json") && err.contains("\"dim\":32"),
        "{err}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn held_out_training_reviews_replace_the_test_set_in_a_directory_of_their_own() {
    let out = out_dir("held-out");
    let mut config = StudyConfig::quick(&assets());
    config.models = vec![model("nbsvm")];
    config.sizes = vec![200];
    config.seeds = 1;
    config.held_out = Some(0);
    let err = run(&config, &out, false).unwrap_err().to_string();
    assert!(err.contains("held_out"), "{err}");
    config.held_out = Some(300);
    let cells = run(&config, &out, false).unwrap();
    assert_eq!(cells.len(), 1);
    assert_eq!(cells[0].test_size, 300);
    assert!((0.6..1.0).contains(&cells[0].accuracy), "{cells:?}");
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("300 held-out training reviews"), "{md}");

    // Test-set cells would mix two questions in one table.
    config.held_out = None;
    let err = run(&config, &out, false).unwrap_err().to_string();
    assert!(
        err.contains("run.json") && err.contains("held-out training reviews"),
        "{err}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

fn lm_report(out: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("ulmfit-lm/report.json")).unwrap()).unwrap()
}

#[test]
fn ulmfit_continues_a_copied_language_model_for_more_epochs() {
    let first = out_dir("lm-epoch1");
    let mut config = toy_ulmfit_config();
    run(&config, &first, false).unwrap();
    let one = lm_report(&first);
    assert_eq!(one["epoch_losses"].as_array().unwrap().len(), 1, "{one}");

    // Not where cells of the one-epoch model are: they would mix two models in one table.
    config.ulmfit.lm_epochs = 2;
    config.transfer_sizes = vec![60];
    let err = run(&config, &first, false).unwrap_err().to_string();
    assert!(
        err.contains("results.json") && err.contains("ULMFiT cells"),
        "{err}"
    );
    config.transfer_sizes = vec![40];
    // ulmfit-st cells use the language model as well.
    let st = out_dir("lm-epoch1-st");
    config.ulmfit.lm_epochs = 1;
    config.models = vec![model("ulmfit-st")];
    config.self_training.unlabelled = 60;
    config.self_training.per_class = 10;
    run(&config, &st, false).unwrap();
    config.ulmfit.lm_epochs = 2;
    config.transfer_sizes = vec![60];
    let err = run(&config, &st, false).unwrap_err().to_string();
    assert!(err.contains("ULMFiT cells"), "{err}");
    config.models = vec![model("ulmfit")];
    config.transfer_sizes = vec![40];
    std::fs::remove_dir_all(&st).unwrap();

    let second = out_dir("lm-epoch2");
    std::fs::create_dir_all(second.join("ulmfit-lm")).unwrap();
    for file in [
        "model.safetensors",
        "tokenizer.json",
        "settings.json",
        "report.json",
    ] {
        std::fs::copy(
            first.join("ulmfit-lm").join(file),
            second.join("ulmfit-lm").join(file),
        )
        .unwrap();
    }
    let cells = run(&config, &second, false).unwrap();
    assert_eq!(cells_of(&cells, "ulmfit").len(), 1);
    let two = lm_report(&second);
    let losses: Vec<f64> = two["epoch_losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_f64().unwrap())
        .collect();
    assert_eq!(losses.len(), 2, "{two}");
    assert_eq!(losses[0], one["epoch_losses"][0].as_f64().unwrap());
    // The second pass starts from the trained model (about as good as the first epoch's
    // mean), not from fresh weights (ln 3000 = 8.0 nats at the start).
    assert!(
        losses[1] < losses[0] + 0.05 && losses[1] < 6.0,
        "{losses:?}"
    );
    assert_eq!(two["steps"], one["steps"].as_u64().unwrap() * 2);
    let settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(second.join("ulmfit-lm/settings.json")).unwrap())
            .unwrap();
    assert_eq!(settings["lm_epochs"], 2);

    // Asking for fewer epochs than the model has is a mismatch, not a silent reuse.
    config.ulmfit.lm_epochs = 1;
    config.transfer_sizes = vec![60];
    let err = run(&config, &second, false).unwrap_err().to_string();
    assert!(err.contains("\"lm_epochs\":2"), "{err}");
    std::fs::remove_dir_all(&first).unwrap();
    std::fs::remove_dir_all(&second).unwrap();
}

/// BERT's variants at toy sizes: 8 labelled reviews, 32 tokens, a few steps.
fn toy_bert_config(models: &[&str]) -> StudyConfig {
    let mut config = StudyConfig::quick(&assets());
    config.models = models.iter().map(|&name| model(name)).collect();
    config.centre_scores = true;
    config.transfer_sizes = vec![8];
    config.transfer_seeds = 1;
    config.test_size = Some(40);
    config.bert.max_length = 32;
    config.bert.min_epochs = 1;
    config.bert.min_steps = 2;
    config.self_training.unlabelled = 24;
    config.self_training.per_class = 4;
    config.mlm.steps = 3;
    config.mlm.batch_size = 4;
    config.mlm.max_length = 32;
    config
}

#[test]
fn bert_variants_run_at_toy_sizes() {
    let out = out_dir("bert-variants");
    let mut config = toy_bert_config(&[
        "bert-st",
        "bert-mlm",
        "bert-nbsvm",
        "bert-nbsvm-st",
        "bert-nbsvm-cotrain",
    ]);
    let cells = run(&config, &out, false).unwrap();
    assert_eq!(cells.len(), 5);
    for model in [
        "bert-st",
        "bert-mlm",
        "bert-nbsvm",
        "bert-nbsvm-st",
        "bert-nbsvm-cotrain",
    ] {
        // One cell each; what each learns is tests/recipes.rs's.
        assert_eq!(cells_of(&cells, model).len(), 1, "{cells:?}");
    }
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("bert-mlm/report.json")).unwrap()).unwrap();
    assert_eq!(report["steps"], 3, "{report}");

    config.models = vec![model("bert-mlm")];
    config.mlm.steps = 4;
    config.transfer_sizes = vec![12];
    let err = run(&config, &out, false).unwrap_err().to_string();
    assert!(err.contains("bert-mlm/settings.json"), "{err}");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn bert_cotraining_options_run_at_toy_sizes() {
    let mut config = toy_bert_config(&["bert-nbsvm-cotrain"]);
    // Two MiniLM teachers; scored by the last NB-SVM student alone (MiniLM never reads the
    // test set).
    let alone = out_dir("bert-cotrain-student-alone");
    config.self_training.student_alone = true;
    config.self_training.teachers = 2;
    let cells = run(&config, &alone, false).unwrap();
    let cell = cells_of(&cells, "bert-nbsvm-cotrain");
    assert_eq!((cell.len(), cell[0].test_size), (1, 40), "{cells:?}");
    let correct = cell[0].accuracy * 40.0;
    assert!((correct - correct.round()).abs() < 1e-9, "{cells:?}");
    let settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(alone.join("run.json")).unwrap()).unwrap();
    assert_eq!(
        settings["self_training"]["student_alone"], true,
        "{settings}"
    );
    assert_eq!(settings["self_training"]["teachers"], 2, "{settings}");
    std::fs::remove_dir_all(&alone).unwrap();
    config.self_training.student_alone = false;
    config.self_training.teachers = 1;

    // Guesses picked on centred scores, the cell scored by the uncentred ensemble; run.json
    // keeps both settings.
    let uncentred = out_dir("bert-cotrain-uncentred-ensemble");
    config.centre_ensemble = Some(false);
    let cells = run(&config, &uncentred, false).unwrap();
    assert_eq!(cells_of(&cells, "bert-nbsvm-cotrain").len(), 1, "{cells:?}");
    let settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(uncentred.join("run.json")).unwrap()).unwrap();
    assert_eq!(
        (&settings["centre_scores"], &settings["centre_ensemble"]),
        (&serde_json::json!(true), &serde_json::json!(false)),
        "{settings}"
    );
    std::fs::remove_dir_all(&uncentred).unwrap();
    config.centre_ensemble = None;

    // A MiniLM student of the last NB-SVM, scored with it; not with `student_alone`.
    let minilm_student = out_dir("bert-cotrain-minilm-student");
    config.self_training.minilm_student_per_class = 3;
    config.self_training.student_alone = true;
    let err = run(&config, &minilm_student, false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("self_training.minilm_student_per_class"),
        "{err}"
    );
    config.self_training.student_alone = false;
    let cells = run(&config, &minilm_student, false).unwrap();
    let cell = cells_of(&cells, "bert-nbsvm-cotrain");
    assert_eq!((cell.len(), cell[0].test_size), (1, 40), "{cells:?}");
    std::fs::remove_dir_all(&minilm_student).unwrap();
    config.self_training.minilm_student_per_class = 0;

    // Teachers from the domain-adapted MiniLM: trained by the co-training cell itself, and
    // checked against a cache of other settings.
    let adapted = out_dir("bert-cotrain-adapted-teacher");
    config.self_training.adapted_teacher = true;
    let cells = run(&config, &adapted, false).unwrap();
    let cell = cells_of(&cells, "bert-nbsvm-cotrain");
    assert_eq!((cell.len(), cell[0].test_size), (1, 40), "{cells:?}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(adapted.join("bert-mlm/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["steps"], 3, "{report}");
    std::fs::remove_file(adapted.join("results.json")).unwrap();
    config.mlm.steps = 5;
    let err = run(&config, &adapted, false).unwrap_err().to_string();
    assert!(err.contains("bert-mlm/settings.json"), "{err}");
    std::fs::remove_dir_all(&adapted).unwrap();
    config.self_training.adapted_teacher = false;
}
