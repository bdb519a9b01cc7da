//! The Textflix study: IMDB learning curves (accuracy against the number of labelled
//! reviews) for BERT, ULMFiT, NB-SVM and word-vector sums, with one command. Eight variants
//! use the 50,000 unlabelled reviews once more: `bert-mlm` (masked-LM domain adaptation
//! first), `bert-st` and `ulmfit-st` (self-training on the classifier's confident guesses),
//! `ulmfit-nbsvm` and `bert-nbsvm` (the network's and NB-SVM's scores added, weighed on
//! them), `ulmfit-nbsvm-st` and `bert-nbsvm-st` (those ensembles self-trained) and
//! `bert-nbsvm-cotrain` (only NB-SVM retrained on the ensemble's guesses: CPU-sized).
//!
//! [`run`] trains and scores every (model, n, seed) cell, resumes an interrupted run without
//! redoing finished cells, and writes `results.json`, `results.csv`, `results.md` and the
//! learning curves (`learning_curves.svg`, `.png`) into the output directory.

mod models;
mod plot;
mod results;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use transfer_nlp::contextual::Precision;
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts, balanced_sample};
use transfer_nlp::pipeline::{Example, TransferError, write_atomic};

pub use models::{
    BertSettings, MlmSettings, Model, SelfTrainingSettings, UlmfitSettings, combine_scores,
};
pub use plot::Series;
pub use results::{Cell, summarise};

/// What one run of the study does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyConfig {
    pub models: Vec<Model>,
    /// Training sizes of the baselines (NB-SVM, word-vector sums).
    pub sizes: Vec<usize>,
    pub seeds: u64,
    /// Training sizes and seeds of the transfer models (BERT, ULMFiT), which cost far more.
    pub transfer_sizes: Vec<usize>,
    pub transfer_seeds: u64,
    /// A balanced, seeded subset of the test set; all 25,000 reviews when `None`.
    pub test_size: Option<usize>,
    /// Score on this many balanced training reviews, held out of every training sample,
    /// instead of the test set: for choosing settings without looking at the test set.
    #[serde(default)]
    pub held_out: Option<usize>,
    /// `cpu`, `tch`, `cuda`, `cuda:N`.
    pub device: String,
    /// `aclImdb_v1.tar.gz` or an `aclImdb/` directory.
    pub data: PathBuf,
    pub vectors: PathBuf,
    pub bert: BertSettings,
    #[serde(default)]
    pub self_training: SelfTrainingSettings,
    #[serde(default)]
    pub mlm: MlmSettings,
    pub ulmfit: UlmfitSettings,
    /// The ensembles (`*-nbsvm`, `*-nbsvm-st`) centre each model's scores on unlabelled
    /// reviews before adding them ([`combine_scores`]).
    #[serde(default)]
    pub centre_scores: bool,
    pub quick: bool,
}

impl StudyConfig {
    /// The full study: sizes 10 … 10,000, 3 seeds, all 25,000 test reviews, max 256 tokens.
    /// `ulmfit-nbsvm` comes after `ulmfit`, whose classifiers it reuses; then the
    /// self-trained ensembles, `bert-nbsvm-st` the best at n <= 100 (83.3 % at 100 on a GPU).
    pub fn full(assets: &Path) -> Self {
        Self {
            models: vec![
                Model::Nbsvm,
                Model::Wvsum,
                Model::Bert,
                Model::Ulmfit,
                Model::UlmfitNbsvm,
                Model::UlmfitNbsvmSelfTraining,
                Model::BertNbsvmSelfTraining,
            ],
            sizes: vec![10, 100, 500, 1000, 10000],
            seeds: 3,
            transfer_sizes: vec![10, 100, 500, 1000, 10000],
            transfer_seeds: 3,
            test_size: None,
            held_out: None,
            device: "cpu".into(),
            data: assets.join("data/aclImdb_v1.tar.gz"),
            vectors: assets.join("vectors/glove.6B.50d.100k.txt.gz"),
            bert: BertSettings {
                model_dir: assets.join("models/all-MiniLM-L6-v2"),
                max_length: 256,
                head_tail: false,
                learning_rate: 5e-5,
                batch_size: 16,
                min_epochs: 3,
                min_steps: 150,
                precision: Precision::F32,
            },
            self_training: SelfTrainingSettings::default(),
            mlm: MlmSettings::default(),
            ulmfit: UlmfitSettings {
                vocab_size: 30_000,
                dim: 256,
                num_layers: 3,
                dropout: 0.2,
                lm_epochs: 1,
                lm_tokens: None,
                lm_learning_rate: 1e-2,
                lm_batch_size: 64,
                max_length: 400,
                learning_rate: 1e-2,
                // Gradual unfreezing takes the first three; the whole model trains in the rest.
                min_epochs: 8,
                // Binds at n = 100 (32 steps otherwise): +3.5 points on held-out training
                // reviews (docs/results/textflix/README.md, ULMFiT).
                min_steps: 100,
                // 0.4 / 0.5: worse at n = 100 and 1,000 on held-out training reviews, no
                // gain on the test set at 10,000 (README.md, ULMFiT's classifier dropout).
                classifier_lstm_dropout: 0.2,
                classifier_head_dropout: 0.2,
            },
            centre_scores: false,
            quick: false,
        }
    }

    /// The README's main job on 2 cores (about 7 minutes): NB-SVM and word-vector sums at
    /// every size with 3 seeds; BERT at 10, 100 and 500 with one seed, 128 tokens and at least
    /// 60 steps; all scored on 1,000 balanced test reviews. ULMFiT and the BERT variants are
    /// left out: a useful language model takes about an hour of CPU, and each variant cell
    /// several times a BERT cell (add them with `models`; the language model then reads 1.5
    /// million tokens, masked-LM adaptation takes 200 steps of 16 reviews, self-training
    /// labels 2,000 unlabelled reviews and keeps 400 per class).
    pub fn quick(assets: &Path) -> Self {
        let mut config = Self::full(assets);
        config.quick = true;
        config.models = vec![Model::Nbsvm, Model::Wvsum, Model::Bert];
        config.transfer_sizes = vec![10, 100, 500];
        config.transfer_seeds = 1;
        config.test_size = Some(1000);
        config.bert.max_length = 128;
        config.bert.min_steps = 60;
        config.self_training = SelfTrainingSettings {
            unlabelled: 2_000,
            per_class: 400,
            student_epochs: 1,
            ..SelfTrainingSettings::default()
        };
        config.mlm = MlmSettings {
            steps: 200,
            batch_size: 16,
            max_length: 128,
            ..MlmSettings::default()
        };
        config.ulmfit = UlmfitSettings {
            vocab_size: 15_000,
            dim: 128,
            num_layers: 2,
            lm_tokens: Some(1_500_000),
            max_length: 256,
            ..config.ulmfit
        };
        config
    }

    fn plan(&self) -> Vec<(Model, usize, u64)> {
        let mut cells = Vec::new();
        for &model in &self.models {
            let (sizes, seeds) = if model.is_transfer() {
                (&self.transfer_sizes, self.transfer_seeds)
            } else {
                (&self.sizes, self.seeds)
            };
            for &n in sizes {
                for seed in 0..seeds {
                    cells.push((model, n, seed));
                }
            }
        }
        cells
    }
}

/// Runs every cell not already in `out/results.json`, writing the results after each one.
pub fn run(config: &StudyConfig, out: &Path, progress: bool) -> Result<Vec<Cell>, TransferError> {
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
    check_same_evaluation(out, config)?;
    std::fs::create_dir_all(out).map_err(|e| TransferError::io(out, e))?;
    write_atomic(
        &out.join("run.json"),
        &serde_json::to_vec_pretty(config).expect("config"),
    )?;
    let device = transfer_nlp::pipeline::runtime::device::parse_device(&config.device)?;
    let needs_unlabelled = config.models.iter().any(|&m| m.uses_unlabelled());
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
    let examples = |reviews: &[transfer_nlp::pipeline::data::imdb::Review]| -> Vec<Example> {
        reviews.iter().filter_map(|r| r.example()).collect()
    };
    let (train, test) = match config.held_out {
        Some(n) => {
            let (rest, held) = hold_out(imdb.train, n)?;
            (rest, examples(&held))
        }
        None => (
            imdb.train,
            match config.test_size {
                Some(n) => examples(&balanced_sample(&imdb.test, n, 0)?),
                None => examples(&imdb.test),
            },
        ),
    };
    let train_examples = examples(&train);
    let unlabelled: Vec<String> = imdb.unsup.into_iter().map(|r| r.text).collect();
    let ctx = models::Context::new(
        &train_examples,
        &test,
        &unlabelled,
        device,
        out.to_path_buf(),
        config.bert.clone(),
        config.self_training.clone(),
        config.mlm.clone(),
        config.ulmfit.clone(),
        config.vectors.clone(),
        config.centre_scores,
        progress,
    );

    let mut cells = results::read(&out.join("results.json"))?;
    let plan = config.plan();
    let todo: Vec<_> = plan
        .iter()
        .filter(|(m, n, s)| {
            !cells
                .iter()
                .any(|c| c.key() == (m.name().to_string(), *n, *s, test.len()))
        })
        .collect();
    eprintln!(
        "textflix: {} cells planned, {} already done, {} to run; scored on {}; device {}",
        plan.len(),
        plan.len() - todo.len(),
        todo.len(),
        scored_on(test.len(), config),
        config.device
    );
    let bar =
        transfer_nlp::pipeline::runtime::progress::bar(todo.len() as u64, progress, "textflix");
    for &&(model, n, seed) in &todo {
        bar.set_message(format!("{} n={n} seed={seed}", model.name()));
        let reviews = balanced_sample(&train, n, seed)?;
        let sample = examples(&reviews);
        let (accuracy, train_seconds) = ctx.run(model, &sample, seed)?;
        let cell = Cell {
            model: model.name().into(),
            n,
            seed,
            accuracy,
            test_size: test.len(),
            train_seconds,
            device: match model {
                Model::Nbsvm | Model::NbsvmMidpoint | Model::Wvsum => "cpu".into(),
                _ => config.device.clone(),
            },
        };
        bar.suspend(|| {
            eprintln!(
                "{:>7} n={n:<6} seed={seed} accuracy {:.2}% ({:.1}s)",
                cell.model,
                100.0 * accuracy,
                train_seconds
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
fn hold_out(
    train: Vec<transfer_nlp::pipeline::data::imdb::Review>,
    n: usize,
) -> Result<
    (
        Vec<transfer_nlp::pipeline::data::imdb::Review>,
        Vec<transfer_nlp::pipeline::data::imdb::Review>,
    ),
    TransferError,
> {
    let held = balanced_sample(&train, n, HELD_OUT_SEED)?;
    let key = |r: &transfer_nlp::pipeline::data::imdb::Review| (r.sentiment, r.id);
    let held_keys: std::collections::HashSet<_> = held.iter().map(key).collect();
    let rest = train
        .into_iter()
        .filter(|r| !held_keys.contains(&key(r)))
        .collect();
    Ok((rest, held))
}

/// Refuses to add cells scored on held-out training reviews to cells scored on the test set
/// (or the reverse) in one `results.json`: they answer different questions.
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
    if held_before != config.held_out && !results::read(&out.join("results.json"))?.is_empty() {
        let name = |held: Option<usize>| match held {
            Some(n) => format!("{n} held-out training reviews"),
            None => "the test set".to_string(),
        };
        return Err(TransferError::format(
            &path,
            format!(
                "the cells here were scored on {}, this run scores on {}: use another output \
                 directory",
                name(held_before),
                name(config.held_out)
            ),
        ));
    }
    Ok(())
}

/// What `n` cells are scored on, for logs, headers and titles.
fn scored_on(n: usize, config: &StudyConfig) -> String {
    match config.held_out {
        Some(_) => format!("{n} held-out training reviews"),
        None => format!("{n} test reviews"),
    }
}

fn write_outputs(out: &Path, cells: &[Cell], config: &StudyConfig) -> Result<(), TransferError> {
    let scored = scored_on(cells.first().map_or(0, |c| c.test_size), config);
    let header = format!(
        "# Textflix learning curves\n\nIMDB sentiment; balanced training samples; {}; device {}{}.",
        scored,
        config.device,
        if config.quick { "; --quick" } else { "" }
    );
    results::write_all(out, cells, &header)?;
    let mut series: Vec<Series> = Vec::new();
    for ((model, n), (mean, std, _)) in summarise(cells) {
        match series.iter_mut().find(|s| s.name == model) {
            Some(s) => s.points.push((n, mean, std)),
            None => series.push(Series {
                name: model,
                points: vec![(n, mean, std)],
                dashed: false,
            }),
        }
    }
    if let Some(assets) = config.data.parent().and_then(Path::parent) {
        series.extend(reference_series(&assets.join("reference")));
    }
    let title = format!("IMDB sentiment: accuracy vs labelled examples ({scored})");
    plot::write(out, "learning_curves", &plot::svg(&title, &series))
}

/// The PyTorch and scikit-learn reference curves, drawn dashed, when the files are there.
pub fn reference_series(dir: &Path) -> Vec<Series> {
    let read = |name: &str| -> Option<serde_json::Value> {
        serde_json::from_slice(&std::fs::read(dir.join(name)).ok()?).ok()
    };
    let points = |curve: &serde_json::Value| -> Vec<(usize, f64, f64)> {
        let mut p: Vec<(usize, f64, f64)> = curve
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(n, v)| {
                Some((
                    n.parse().ok()?,
                    v["mean"].as_f64()?,
                    v["std"].as_f64().unwrap_or(0.0),
                ))
            })
            .collect();
        p.sort_by_key(|x| x.0);
        p
    };
    let mut out = Vec::new();
    if let Some(sk) = read("sklearn_baselines.json") {
        for (key, name) in [
            ("nbsvm", "nbsvm (sklearn ref)"),
            ("glove_sum_logreg", "wvsum (sklearn ref)"),
        ] {
            out.push(Series {
                name: name.into(),
                points: points(&sk[key]),
                dashed: true,
            });
        }
    }
    if let Some(pt) = read("pytorch_minilm_h200.json") {
        out.push(Series {
            name: "bert (PyTorch ref)".into(),
            points: points(&pt["curve_minilm_l6_len256"]),
            dashed: true,
        });
    }
    out.retain(|s| !s.points.is_empty());
    out
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
