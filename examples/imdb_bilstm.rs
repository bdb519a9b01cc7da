//! Word-level tokenizer + learned embeddings + BiLSTM + mean pooling, trained from scratch
//! on IMDB reviews.
//!
//! cargo run --release --example imdb_bilstm -- [--train 2000] [--test 2000] [--device cpu]

use std::time::Instant;

use transfer_nlp::contextual::{Lstm, LstmConfig};
use transfer_nlp::embedder::{LearnedEmbedding, LearnedEmbeddingConfig};
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts, Sentiment, balanced_sample};
use transfer_nlp::pipeline::runtime::device::parse_device;
use transfer_nlp::predictor::{PooledClassifier, PooledClassifierConfig, Pooling};
use transfer_nlp::tokenizer::{EncodePolicy, VocabularyConfig, WordLevelTokenizer};
use transfer_nlp::*;

#[derive(clap::Parser)]
struct Args {
    /// Training reviews (balanced, seeded).
    #[arg(long, default_value_t = 2000)]
    train: usize,
    /// Test reviews (balanced, seeded).
    #[arg(long, default_value_t = 2000)]
    test: usize,
    /// cpu, tch, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
}

fn main() -> Result<(), TransferError> {
    transfer_nlp::pipeline::runtime::allocator::keep_freed_memory();
    let args = <Args as clap::Parser>::parse();
    let (n_train, n_test) = (args.train, args.test);
    let device = parse_device(&args.device)?;
    let seed = 1;

    let started = Instant::now();
    let imdb = Imdb::load(Imdb::default_path()?, ImdbParts::LABELLED)?;
    eprintln!("read IMDB in {:.1}s", started.elapsed().as_secs_f64());
    let train: Vec<Example> = balanced_sample(&imdb.train, n_train, seed)?
        .iter()
        .filter_map(|r| r.example())
        .collect();
    let test: Vec<Example> = balanced_sample(&imdb.test, n_test, seed)?
        .iter()
        .filter_map(|r| r.example())
        .collect();

    let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
    let vocab = VocabularyConfig {
        min_count: 2,
        max_size: 20_000,
        lowercase: true,
    };
    let tokenizer = WordLevelTokenizer::train(&texts, &vocab)?;
    let embedder = LearnedEmbedding::from_config(
        &LearnedEmbeddingConfig::new(tokenizer.vocab_size(), 64).with_init_std(0.1),
        &device,
    )?;
    let lstm = Lstm::from_config(&LstmConfig::new(64, 64).with_bidirectional(true), &device)?;
    let head = PooledClassifier::from_config(
        &PooledClassifierConfig::new(128, 2)
            .with_pooling(Pooling::Mean)
            .with_dropout(0.3),
        &device,
    )?;
    let mut pipeline = TransferPipeline::new(tokenizer, embedder, lstm, head, &device)?
        .with_labels(Sentiment::LABELS)?
        .with_encode_policy(EncodePolicy::new(256))?;

    let config = TrainConfig {
        epochs: 6,
        batch_size: 32,
        learning_rate: 3e-3,
        schedule: LrSchedule::WarmupLinearDecay {
            warmup_fraction: 0.1,
        },
        seed,
        progress: true,
        ..TrainConfig::default()
    };
    let report = pipeline.train(&train, &config)?;
    let metrics = pipeline.evaluate(&test)?;
    println!(
        "{}",
        serde_json::json!({
            "train_examples": train.len(),
            "test_examples": test.len(),
            "accuracy": metrics.accuracy,
            "macro_f1": metrics.macro_f1,
            "train_seconds": report.seconds,
            "epochs": report.epochs.len(),
        })
    );
    Ok(())
}
