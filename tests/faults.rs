//! Nothing lost: resumed training ends bit-identical to an uninterrupted run, a save killed
//! with SIGKILL leaves a loadable pipeline, and the same seed gives the same results.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use burn::prelude::Device;
use common::*;
use transfer_nlp::pipeline::CheckpointConfig;
use transfer_nlp::*;

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("transfer-faults-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Dropout in the LSTM and the head (`fresh`), gradual unfreezing, discriminative rates, a schedule and
/// validation: everything a resume has to restore.
fn config(checkpoint: Option<&Path>) -> TrainConfig {
    TrainConfig {
        epochs: 3,
        batch_size: 16,
        learning_rate: 3e-3,
        gradual_unfreezing: true,
        validation_fraction: 0.2,
        early_stopping_patience: Some(5),
        seed: 11,
        checkpoint: checkpoint.map(|d| CheckpointConfig {
            dir: d.to_path_buf(),
            every_steps: 2,
        }),
        ..TrainConfig::default()
    }
    .with_discriminative_rates(2.6)
}

fn fresh() -> (AnyPipeline, Vec<Example>) {
    static INIT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let train = examples(false, 100, 21);
    // Same initial weights every time: saved once, loaded by each caller.
    let init = INIT.get_or_init(|| {
        let dir = dir("init");
        word_pipeline(&train, Arch::BiLstmDropout, &Device::flex())
            .save(&dir)
            .unwrap();
        dir
    });
    (AnyPipeline::load(init, &Device::flex()).unwrap(), train)
}

/// Dropout draws differ from step to step and are part of what a resume restores.
#[test]
fn training_draws_dropout() {
    let _rng = exclusive_rng();
    let (pipeline, train) = fresh();
    let stages = burn::module::Module::train(pipeline.stages().clone());
    let device = Device::flex().autodiff();
    let rows: Vec<Vec<u32>> = train[..4]
        .iter()
        .map(|e| pipeline.tokenizer().tokenize(&e.text).ids)
        .collect();
    let rows: Vec<&[u32]> = rows.iter().map(Vec::as_slice).collect();
    let batch = Batch::new(&rows, pipeline.tokenizer().special_tokens().pad, &device);
    device.seed(1);
    let a = params_of(stages.forward_batch(batch.clone()));
    device.seed(2);
    let b = params_of(stages.forward_batch(batch));
    assert_ne!(
        a, b,
        "training forwards with different seeds gave the same logits"
    );
}

fn params_of(t: burn::prelude::Tensor<2>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec().unwrap()
}

#[test]
fn resumed_training_ends_bit_identical() {
    let _rng = exclusive_rng();
    let (mut uninterrupted, train) = fresh();
    let full = uninterrupted.train(&train, &config(None)).unwrap();

    for stop_at in [3, 5, 6] {
        let checkpoints = dir(&format!("resume-{stop_at}"));
        let (mut first, _) = fresh();
        let mut stopping = config(Some(&checkpoints));
        stopping.stop_after_steps = Some(stop_at);
        let partial = first.train(&train, &stopping).unwrap();
        assert!(partial.stopped_early && partial.steps == stop_at);
        assert!(checkpoints.join("state.json").exists());

        // A new process would start from scratch: a fresh pipeline picks up the checkpoint.
        let (mut second, _) = fresh();
        let resumed = second.train(&train, &config(Some(&checkpoints))).unwrap();
        assert_eq!(resumed.steps, full.steps);
        assert_eq!(
            params(second.stages()),
            params(uninterrupted.stages()),
            "stopped at {stop_at}"
        );
        let losses = |r: &TrainReport| {
            r.epochs
                .iter()
                .map(|e| (e.train_loss, e.validation.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(losses(&resumed), losses(&full));
        assert!(
            !checkpoints.join("state.json").exists(),
            "a finished training clears its checkpoint"
        );
    }

    // A checkpoint of other data is refused, not silently mixed in.
    let checkpoints = dir("other-data");
    let (mut p, _) = fresh();
    let mut stopping = config(Some(&checkpoints));
    stopping.stop_after_steps = Some(2);
    p.train(&train, &stopping).unwrap();
    let err = p
        .train(&train[..90], &config(Some(&checkpoints)))
        .unwrap_err();
    assert!(err.to_string().contains("state.json"), "{err}");
}

#[test]
fn the_same_seed_gives_the_same_results() {
    let _rng = exclusive_rng();
    let (mut a, train) = fresh();
    let (mut b, _) = fresh();
    let ra = a.train(&train, &config(None)).unwrap();
    let rb = b.train(&train, &config(None)).unwrap();
    assert_eq!(params(a.stages()), params(b.stages()));
    let test = examples(true, 50, 3);
    assert_eq!(a.evaluate(&test).unwrap(), b.evaluate(&test).unwrap());
    assert_eq!(
        ra.epochs.iter().map(|e| e.train_loss).collect::<Vec<_>>(),
        rb.epochs.iter().map(|e| e.train_loss).collect::<Vec<_>>()
    );
}

/// Run by `a_save_killed_midway_leaves_a_loadable_pipeline` in a child process: saves the
/// pipeline of `TRANSFER_KILL_SOURCE` to `TRANSFER_KILL_TARGET` over and over, adding a byte
/// to `TRANSFER_KILL_TARGET.saves` after each save.
#[test]
#[ignore = "a helper run in a child process"]
fn child_saves_forever() {
    let (Ok(source), Ok(target)) = (
        std::env::var("TRANSFER_KILL_SOURCE"),
        std::env::var("TRANSFER_KILL_TARGET"),
    ) else {
        return;
    };
    let pipeline = AnyPipeline::load(&source, &Device::flex()).unwrap();
    let mut saves = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(saves_log(Path::new(&target)))
        .unwrap();
    loop {
        pipeline.save(&target).unwrap();
        std::io::Write::write_all(&mut saves, b".").unwrap();
    }
}

/// Where `child_saves_forever` counts its finished saves.
fn saves_log(target: &Path) -> PathBuf {
    target.with_extension("saves")
}

/// The saves the child has finished.
fn saves(target: &Path) -> u64 {
    std::fs::metadata(saves_log(target)).map_or(0, |m| m.len())
}

#[test]
fn a_save_killed_midway_leaves_a_loadable_pipeline() {
    let _rng = exclusive_rng();
    let base = dir("kill");
    let (pipeline, _) = fresh();
    let source = base.join("source");
    let target = base.join("target");
    pipeline.save(&source).unwrap();
    pipeline.save(&target).unwrap();
    let texts = ["A fine film.", "Dull."];
    let expected: Vec<_> = pipeline.predict(&texts).unwrap();
    let mut rng = transfer_nlp::pipeline::data::rng::SplitMix64::new(5);
    for round in 0..8 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_saves_forever", "--ignored", "--quiet"])
            .env("TRANSFER_KILL_SOURCE", &source)
            .env("TRANSFER_KILL_TARGET", &target)
            .spawn()
            .unwrap();
        // Killed only once it has saved at least twice more, at a random point after that.
        let before = saves(&target);
        let started = std::time::Instant::now();
        while saves(&target) < before + 2 {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "round {round}: the child never saved twice"
            );
            if let Some(status) = child.try_wait().unwrap() {
                panic!("round {round}: the child exited ({status}) before saving twice");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(rng.below(300) as u64));
        assert!(
            child.try_wait().unwrap().is_none(),
            "round {round}: the child stopped before it was killed"
        );
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(saves(&target) >= before + 2, "round {round}");
        let loaded = AnyPipeline::load(&target, &Device::flex()).unwrap_or_else(|e| {
            panic!("round {round}: the killed save left {target:?} unloadable: {e}")
        });
        assert_eq!(loaded.predict(&texts).unwrap(), expected, "round {round}");
    }
    std::fs::remove_dir_all(&base).unwrap();
}
