//! Every registered recipe learns: on a separable toy task (reviews of neutral filler words
//! whose sentiment is carried by a few clear words), trained on 24 labelled reviews, each scores
//! far above chance on 100 reviews it never saw. A recipe that ignores its data, flips its
//! labels or lets an ensemble's weaker model swamp the stronger one fails here.

mod common;

use std::path::{Path, PathBuf};

use burn::prelude::Device;
use common::assets;
use transfer_nlp::contextual::AnyContextual;
use transfer_nlp::embedder::WordVectors;
use transfer_nlp::pipeline::data::rng::SplitMix64;
use transfer_nlp::{Example, Stage, Tokenizer};
use transfer_textflix::{Context, Model, StudyConfig, StudyData};

const NEUTRAL: [&str; 20] = [
    "the",
    "film",
    "story",
    "actor",
    "scene",
    "plot",
    "director",
    "camera",
    "music",
    "ending",
    "cast",
    "script",
    "character",
    "minutes",
    "watched",
    "movie",
    "this",
    "was",
    "with",
    "it",
];
const POSITIVE: [&str; 8] = [
    "wonderful",
    "excellent",
    "brilliant",
    "superb",
    "loved",
    "great",
    "beautiful",
    "masterpiece",
];
const NEGATIVE: [&str; 8] = [
    "awful", "terrible", "boring", "worst", "hated", "bad", "waste", "dull",
];

/// One toy review: 10 neutral words and 2 words of its sentiment, in a seeded order.
fn review(rng: &mut SplitMix64, positive: bool) -> String {
    let pick = |rng: &mut SplitMix64, words: &[&'static str]| {
        words[(rng.next_u64() % words.len() as u64) as usize]
    };
    let mut words: Vec<&str> = (0..10).map(|_| pick(rng, &NEUTRAL)).collect();
    for _ in 0..2 {
        let word = pick(rng, if positive { &POSITIVE } else { &NEGATIVE });
        let at = (rng.next_u64() % (words.len() as u64 + 1)) as usize;
        words.insert(at, word);
    }
    words.join(" ")
}

/// `n` reviews, alternating negative and positive.
fn reviews(n: usize, seed: u64) -> Vec<Example> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|i| Example::class(review(&mut rng, i % 2 == 1), i % 2))
        .collect()
}

/// Toy-sized settings: MiniLM on 24 tokens for 30 steps, a one-layer ULMFiT of 32 units.
fn toy_config() -> StudyConfig {
    let mut config = StudyConfig::quick(&assets());
    config.bert.max_length = 24;
    config.bert.min_epochs = 1;
    config.bert.min_steps = 30;
    config.bert.learning_rate = 1e-4;
    config.self_training.unlabelled = 80;
    config.self_training.per_class = 20;
    config.self_training.student_epochs = 1;
    config.mlm.steps = 3;
    config.mlm.batch_size = 4;
    config.mlm.max_length = 24;
    config.ulmfit.vocab_size = 200;
    config.ulmfit.dim = 32;
    config.ulmfit.num_layers = 1;
    config.ulmfit.max_length = 24;
    config.ulmfit.lm_epochs = 4;
    config.ulmfit.lm_batch_size = 16;
    config.ulmfit.min_epochs = 1;
    config.ulmfit.min_steps = 60;
    config.bilstm.max_length = 24;
    config.bilstm.min_epochs = 1;
    config.bilstm.min_steps = 60;
    config
}

fn out_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("transfer-recipes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn every_recipe_beats_chance_on_a_separable_toy_task() {
    let config = toy_config();
    let sample = reviews(24, 1);
    let test = reviews(100, 2);
    let unlabelled: Vec<String> = reviews(400, 3).into_iter().map(|e| e.text).collect();
    let out = out_dir();
    let ctx = Context::new(
        &config,
        StudyData {
            train: &sample,
            test: &test,
            unlabelled: &unlabelled,
        },
        Device::flex(),
        out.clone(),
        false,
    );
    let mut scores = Vec::new();
    for model in Model::all() {
        let score = model.recipe().run_cell(&ctx, &sample, 0).unwrap();
        eprintln!("{:<20} {:.2}", model.name(), score.accuracy);
        scores.push((model.name(), score.accuracy));
    }
    // Chance is 50 % ± 5 % on 100 reviews: 70 % is four standard deviations above it.
    // (NB-SVM and MiniLM reach 95-100 %; ULMFiT, pretrained on 5,000 toy tokens, 72-75 %.)
    let weak: Vec<_> = scores
        .iter()
        .filter(|(_, a)| a.is_nan() || *a < 0.7)
        .collect();
    assert!(weak.is_empty(), "below 70 %: {weak:?} of {scores:?}");
    std::fs::remove_dir_all(&out).unwrap();
}

/// Row `word` of the BiLSTM pipeline's embedding table.
fn embedding_row(pipeline: &transfer_textflix::recipes::BilstmPipeline, word: &str) -> Vec<f32> {
    let id = pipeline.tokenizer().token_to_id(word).unwrap() as usize;
    let table = pipeline.stages().embedder.weights();
    let dim = table.dims()[1];
    table
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap()[id * dim..(id + 1) * dim]
        .to_vec()
}

#[test]
fn the_bilstm_keeps_every_word_of_the_vectors_and_freezes_them_or_tunes_them() {
    let config = toy_config();
    let sample = reviews(24, 1);
    let glove = WordVectors::load(&config.vectors).unwrap();
    let ctx = Context::new(
        &config,
        StudyData {
            train: &sample,
            test: &sample,
            unlabelled: &[],
        },
        Device::flex(),
        out_dir(),
        false,
    );
    let pipeline = ctx.bilstm_pipeline(&sample, 0).unwrap();
    // "dwelling" is in no toy review: its id and vector come from the vectors alone.
    assert!(sample.iter().all(|e| !e.text.contains("dwelling")));
    for word in ["dwelling", "superb", "film"] {
        assert_eq!(
            embedding_row(&pipeline, word),
            glove.get(word).unwrap(),
            "{word}"
        );
    }
    assert!(pipeline.tokenizer().vocab_size() >= glove.len());

    for frozen in [true, false] {
        let mut pipeline = ctx.bilstm_pipeline(&sample, 0).unwrap();
        if frozen {
            pipeline.freeze(Stage::Embedder);
        }
        pipeline
            .train(&sample, &ctx.bilstm_training(sample.len(), 0))
            .unwrap();
        let trained = embedding_row(&pipeline, "superb");
        let pretrained = glove.get("superb").unwrap();
        if frozen {
            assert_eq!(trained, pretrained, "a frozen vector moved");
        } else {
            let moved: Vec<f32> = trained.iter().zip(pretrained).map(|(a, b)| a - b).collect();
            assert!(
                moved.iter().all(|d| d.is_finite()) && moved.iter().any(|d| d.abs() > 1e-3),
                "a tuned vector stayed or broke: {moved:?}"
            );
        }
    }
}

/// The `bert` recipe takes any supported family as `bert.model_dir`: the tiny DeBERTa-v2 and
/// GPT-2 checkpoints transformers made run a cell (GPT-2 pooled by its last token); mixed
/// precision, BERT-layout only, is an error naming the family.
#[test]
fn the_bert_recipe_takes_an_encoder_of_any_family() {
    let families = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/families");
    let sample = reviews(24, 1);
    let test = reviews(40, 2);
    let unlabelled: Vec<String> = Vec::new();
    let bert: Model = "bert".parse().unwrap();
    for family in ["deberta-v2", "gpt2"] {
        let mut config = toy_config();
        config.bert.model_dir = families.join(family);
        config.bert.learning_rate = 1e-3;
        let out = out_dir();
        let data = || StudyData {
            train: &sample,
            test: &test,
            unlabelled: &unlabelled,
        };
        let ctx = Context::new(&config, data(), Device::flex(), out.clone(), false);
        let score = bert.recipe().run_cell(&ctx, &sample, 0).unwrap();
        eprintln!("bert recipe on {family}: {:.2}", score.accuracy);
        assert!((0.0..=1.0).contains(&score.accuracy), "{family}: {score:?}");
        let pipeline = ctx.bert_pipeline(false).unwrap();
        let contextual = &pipeline.stages().contextual;
        assert!(
            matches!(
                contextual,
                AnyContextual::DebertaV2(_) | AnyContextual::Gpt2(_)
            ),
            "{family}: {contextual:?}"
        );

        config.bert.precision = transfer_nlp::contextual::Precision::Bf16;
        let ctx = Context::new(&config, data(), Device::flex(), out.clone(), false);
        let error = ctx.bert_pipeline(false).unwrap_err().to_string();
        assert!(
            error.contains("bert.precision") && error.contains(family),
            "{error}"
        );
        let _ = std::fs::remove_dir_all(&out);
    }
}
