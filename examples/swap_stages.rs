//! One sentiment task on IMDB, three pipelines; only the stage constructors change:
//!
//! (a) word-level tokenizer + GloVe vectors + BiLSTM, trained from the vectors on;
//! (b) MiniLM's tokenizer, embeddings and encoder frozen, a trained head on top;
//! (c) the same MiniLM stages, fully fine-tuned.
//!
//! cargo run --release --example swap_stages -- [--train 500] [--test 1000] [--max-length 128] [--device cpu]

use std::time::Instant;

use burn::prelude::Device;
use transfer_nlp::contextual::{Lstm, LstmConfig};
use transfer_nlp::embedder::{OovPolicy, WordVectors};
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts, Sentiment, balanced_sample};
use transfer_nlp::pipeline::io::assets::asset_dir;
use transfer_nlp::pipeline::io::hf::PretrainedEncoder;
use transfer_nlp::pipeline::runtime::device::parse_device;
use transfer_nlp::predictor::{PooledClassifier, PooledClassifierConfig, Pooling};
use transfer_nlp::tokenizer::{EncodePolicy, VocabularyConfig, WordLevelTokenizer};
use transfer_nlp::*;

#[derive(clap::Parser)]
struct Args {
    /// Training reviews (balanced, seeded).
    #[arg(long, default_value_t = 500)]
    train: usize,
    /// Test reviews (balanced, seeded).
    #[arg(long, default_value_t = 1000)]
    test: usize,
    /// Tokens per review.
    #[arg(long, default_value_t = 128)]
    max_length: usize,
    /// cpu, tch, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
}

/// Composes the stages with a mean-pooled linear head, trains what is not frozen, and
/// prints the test accuracy.
#[allow(clippy::too_many_arguments)]
fn run<T: Tokenizer, E: TokenEmbedder, C: ContextualEmbedder>(
    name: &str,
    tokenizer: T,
    embedder: E,
    contextual: C,
    frozen: &[Stage],
    config: TrainConfig,
    data: (&[Example], &[Example]),
    max_length: usize,
    device: &Device,
) -> Result<(), TransferError> {
    let head = PooledClassifier::from_config(
        &PooledClassifierConfig::new(contextual.output_dim(), 2).with_pooling(Pooling::Mean),
        device,
    )?;
    let mut pipeline = TransferPipeline::new(tokenizer, embedder, contextual, head, device)?
        .with_labels(Sentiment::LABELS)?
        .with_encode_policy(EncodePolicy::new(max_length))?;
    for stage in frozen {
        pipeline.freeze(*stage);
    }
    let report = pipeline.train(data.0, &config)?;
    let started = Instant::now();
    let metrics = pipeline.evaluate(data.1)?;
    println!(
        "{}",
        serde_json::json!({
            "pipeline": name,
            "frozen": frozen,
            "train_examples": data.0.len(),
            "test_examples": data.1.len(),
            "accuracy": metrics.accuracy,
            "macro_f1": metrics.macro_f1,
            "epochs": report.epochs.len(),
            "learning_rate": config.learning_rate,
            "train_seconds": report.seconds,
            "test_seconds": started.elapsed().as_secs_f64(),
            "max_length": max_length,
        })
    );
    Ok(())
}

fn main() -> Result<(), TransferError> {
    let args = <Args as clap::Parser>::parse();
    let (n_train, n_test, max_length) = (args.train, args.test, args.max_length);
    let device = parse_device(&args.device)?;
    let seed = 1;
    let imdb = Imdb::load(Imdb::default_path()?, ImdbParts::LABELLED)?;
    let sample = |reviews, n| -> Result<Vec<Example>, TransferError> {
        Ok(balanced_sample(reviews, n, seed)?
            .iter()
            .filter_map(|r| r.example())
            .collect())
    };
    let train = sample(&imdb.train, n_train)?;
    let test = sample(&imdb.test, n_test)?;
    let data = (train.as_slice(), test.as_slice());
    let config = |epochs, learning_rate| TrainConfig {
        epochs,
        batch_size: 16,
        learning_rate,
        seed,
        progress: true,
        ..TrainConfig::default()
    };

    // (a) GloVe + BiLSTM.
    let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
    let vocab = VocabularyConfig {
        min_count: 1,
        max_size: 30_000,
        lowercase: true,
    };
    let tokenizer = WordLevelTokenizer::train(&texts, &vocab)?;
    let vectors = WordVectors::load(asset_dir()?.join("vectors/glove.6B.50d.100k.txt.gz"))?;
    device.seed(seed);
    let (glove, coverage) =
        vectors.embedding_for(&tokenizer, OovPolicy::RandomWithVectorScale, &device)?;
    eprintln!(
        "GloVe covers {:.1}% of the vocabulary",
        100.0 * coverage.fraction()
    );
    let bilstm = Lstm::from_config(&LstmConfig::new(50, 64).with_bidirectional(true), &device)?;
    run(
        "glove-bilstm",
        tokenizer,
        glove,
        bilstm,
        &[],
        config(8, 3e-3),
        data,
        max_length,
        &device,
    )?;

    // (b) MiniLM frozen under a trained head.
    let minilm = || PretrainedEncoder::load(asset_dir()?.join("models/all-MiniLM-L6-v2"), &device);
    let bert = minilm()?;
    let frozen = [Stage::Embedder, Stage::Contextual];
    run(
        "minilm-frozen",
        bert.tokenizer,
        bert.embeddings,
        bert.encoder,
        &frozen,
        config(8, 2e-3),
        data,
        max_length,
        &device,
    )?;

    // (c) MiniLM fully fine-tuned.
    let bert = minilm()?;
    run(
        "minilm-finetuned",
        bert.tokenizer,
        bert.embeddings,
        bert.encoder,
        &[],
        config(4, 5e-5),
        data,
        max_length,
        &device,
    )?;
    Ok(())
}
