//! `transfer train`: build a pipeline from flags, train it, save it.

use std::path::PathBuf;

use clap::ValueEnum;
use transfer_nlp::contextual::{AnyContextual, BagOfEmbeddings, Lstm, LstmConfig};
use transfer_nlp::embedder::{AnyEmbedder, LearnedEmbedding, LearnedEmbeddingConfig};
use transfer_nlp::pipeline::device::parse_device;
use transfer_nlp::predictor::{AnyPredictor, PooledClassifier, PooledClassifierConfig, Pooling};
use transfer_nlp::tokenizer::{AnyTokenizer, EncodePolicy, VocabularyConfig, WordLevelTokenizer};
use transfer_nlp::{
    ContextualEmbedder, LrSchedule, Predictor, TokenEmbedder, Tokenizer, TrainConfig,
};

use crate::data::{self, DataArgs};
use crate::{CliPipeline, CliResult};

#[derive(Clone, Copy, ValueEnum)]
pub enum Arch {
    /// Word-level tokenizer, learned embeddings, bidirectional LSTM.
    Bilstm,
    /// Word-level tokenizer, learned embeddings, left-to-right LSTM.
    Lstm,
    /// Word-level tokenizer, learned embeddings, no context (a bag of embeddings).
    Bag,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PoolingArg {
    Mean,
    Max,
    First,
    Last,
    Concat,
}

impl From<PoolingArg> for Pooling {
    fn from(p: PoolingArg) -> Self {
        match p {
            PoolingArg::Mean => Pooling::Mean,
            PoolingArg::Max => Pooling::Max,
            PoolingArg::First => Pooling::First,
            PoolingArg::Last => Pooling::Last,
            PoolingArg::Concat => Pooling::Concat,
        }
    }
}

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Where to save the trained pipeline.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// How many training texts (balanced and seeded for IMDB); all by default.
    #[arg(long)]
    train_size: Option<usize>,
    #[arg(long, value_enum, default_value = "bilstm")]
    arch: Arch,
    #[arg(long, default_value_t = 64)]
    embedding_dim: usize,
    /// Hidden size of each LSTM direction.
    #[arg(long, default_value_t = 64)]
    hidden_dim: usize,
    #[arg(long, default_value_t = 1)]
    layers: usize,
    #[arg(long, value_enum, default_value = "mean")]
    pooling: PoolingArg,
    #[arg(long, default_value_t = 0.3)]
    dropout: f64,
    /// Tokens per text, the rest cut off.
    #[arg(long, default_value_t = 256)]
    max_length: usize,
    /// Vocabulary entries, the most frequent words.
    #[arg(long, default_value_t = 20_000)]
    vocab_size: usize,
    /// Words seen fewer times become [UNK].
    #[arg(long, default_value_t = 2)]
    min_count: usize,
    #[arg(long, default_value_t = 6)]
    epochs: usize,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[arg(long, default_value_t = 3e-3)]
    lr: f64,
    #[arg(long, default_value_t = 0.0)]
    validation_fraction: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A JSON training config (the fields of TrainConfig); replaces the training flags.
    #[arg(long)]
    config: Option<PathBuf>,
    /// cpu, tch, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn run(args: TrainArgs) -> CliResult {
    let device = parse_device(&args.device)?;
    let texts = args
        .data
        .load(data::Split::Train, args.train_size, args.seed)?;
    let labels = args.data.labels(&texts);
    let examples = data::to_examples(&texts, &labels)?;
    let config = match &args.config {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            serde_json::from_slice::<TrainConfig>(&bytes)
                .map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => TrainConfig {
            epochs: args.epochs,
            batch_size: args.batch_size,
            learning_rate: args.lr,
            schedule: LrSchedule::WarmupLinearDecay {
                warmup_fraction: 0.1,
            },
            validation_fraction: args.validation_fraction,
            seed: args.seed,
            progress: !args.quiet,
            ..TrainConfig::default()
        },
    };

    let corpus: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let vocab = VocabularyConfig {
        min_count: args.min_count,
        max_size: args.vocab_size,
        lowercase: true,
    };
    let tokenizer = WordLevelTokenizer::train(&corpus, &vocab)?;
    let embedder = LearnedEmbedding::from_config(
        &LearnedEmbeddingConfig::new(tokenizer.vocab_size(), args.embedding_dim).with_init_std(0.1),
        &device,
    )?;
    let lstm = |bidirectional| {
        LstmConfig::new(args.embedding_dim, args.hidden_dim)
            .with_num_layers(args.layers)
            .with_bidirectional(bidirectional)
            .with_dropout(if args.layers > 1 { args.dropout } else { 0.0 })
    };
    let contextual: AnyContextual = match args.arch {
        Arch::Bilstm => Lstm::from_config(&lstm(true), &device)?.into(),
        Arch::Lstm => Lstm::from_config(&lstm(false), &device)?.into(),
        Arch::Bag => BagOfEmbeddings::new(args.embedding_dim).into(),
    };
    let head = PooledClassifier::from_config(
        &PooledClassifierConfig::new(contextual.output_dim(), labels.len())
            .with_pooling(args.pooling.into())
            .with_dropout(args.dropout),
        &device,
    )?;
    let mut pipeline = CliPipeline::new(
        AnyTokenizer::from(tokenizer),
        AnyEmbedder::from(embedder),
        contextual,
        AnyPredictor::from(head),
        &device,
    )?
    .with_labels(labels)?
    .with_encode_policy(EncodePolicy::new(args.max_length))?;
    let report = pipeline.train(&examples, &config)?;
    pipeline.save(&args.out)?;
    println!(
        "{}",
        serde_json::json!({
            "model": args.out,
            "examples": examples.len(),
            "steps": report.steps,
            "train_seconds": report.seconds,
            "final_train_loss": report.epochs.last().map(|e| e.train_loss),
            "validation": report.epochs.last().and_then(|e| e.validation.clone()),
            "parameters": burn::module::Module::num_params(pipeline.stages()),
        })
    );
    Ok(())
}
