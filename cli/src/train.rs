//! `transfer train`: build a pipeline from flags, train it, save it.

use std::path::PathBuf;

use clap::ValueEnum;
use transfer_nlp::contextual::{AnyContextual, BagOfEmbeddings, Lstm, LstmConfig};
use transfer_nlp::embedder::{
    AnyEmbedder, LearnedEmbedding, LearnedEmbeddingConfig, OovPolicy, WordVectors,
};
use transfer_nlp::pipeline::data::split_validation;
use transfer_nlp::pipeline::io::hf::{ModelSource, PretrainedModel};
use transfer_nlp::pipeline::runtime::device::parse_device;
use transfer_nlp::predictor::{
    AnyPredictor, PooledClassifier, PooledClassifierConfig, PooledRegressor, PooledRegressorConfig,
    Pooling, TargetScaling, Task,
};
use transfer_nlp::tokenizer::{AnyTokenizer, EncodePolicy, VocabularyConfig, WordLevelTokenizer};
use transfer_nlp::{
    ContextualEmbedder, LrSchedule, Predictor, Stage, Target, TokenEmbedder, Tokenizer, TrainConfig,
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
    /// Word-level tokenizer, GloVe/word2vec vectors (--vectors), bidirectional LSTM.
    GloveBilstm,
    /// A pretrained BERT-family model (--pretrained): its WordPiece tokenizer, embeddings and
    /// encoder.
    Bert,
}

/// What the labels are.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TaskArg {
    /// One class per text: the distinct labels are the classes.
    Classification,
    /// A number per text (e.g. a rating): mean squared error.
    Regression,
    /// Any number of labels per text (--label-separator between them): one sigmoid output
    /// per label, each with its own threshold (tuned on --validation-fraction when given).
    MultiLabel,
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
    /// Where to save the trained pipeline (refused if it exists, unless --force).
    #[arg(long, required_unless_present = "print_config")]
    out: Option<PathBuf>,
    /// Replace what --out holds.
    #[arg(long)]
    force: bool,
    /// Print the training config these flags give (JSON, every field) and exit: a file to
    /// edit for --config.
    #[arg(long)]
    print_config: bool,
    #[command(flatten)]
    data: DataArgs,
    /// How many training texts (balanced and seeded for IMDB); all by default.
    #[arg(long)]
    train_size: Option<usize>,
    #[arg(long, value_enum, default_value = "bilstm")]
    arch: Arch,
    /// classification, regression (labels are numbers; IMDB: its star ratings) or
    /// multi-label.
    #[arg(long, value_enum, default_value = "classification")]
    task: TaskArg,
    /// --task regression: learn the targets standardised (their mean and deviation on the
    /// training texts, saved with the model); predictions stay in the targets' units.
    #[arg(long)]
    scale_targets: bool,
    /// The pretrained model for --arch bert: a directory in Hugging Face layout or a Hub id
    /// (ORG/NAME[@REVISION], read from the Hugging Face cache); by default the asset
    /// directory's models/all-MiniLM-L6-v2.
    #[arg(long, value_name = "DIR|ORG/NAME")]
    pretrained: Option<String>,
    /// Download a --pretrained Hub id that the Hugging Face cache lacks.
    #[arg(long)]
    download: bool,
    /// Word vectors for --arch glove-bilstm; by default
    /// $TRANSFER_ASSETS/vectors/glove.6B.50d.100k.txt.gz.
    #[arg(long)]
    vectors: Option<PathBuf>,
    /// Stages to keep as they are: embedder, contextual, predictor (comma-separated).
    #[arg(long, value_delimiter = ',')]
    freeze: Vec<Stage>,
    #[arg(long, default_value_t = 64)]
    embedding_dim: usize,
    /// Hidden size of each LSTM direction.
    #[arg(long, default_value_t = 64)]
    hidden_dim: usize,
    #[arg(long, default_value_t = 1)]
    layers: usize,
    /// How the head pools the states; default: the last token after GPT-2, the mean otherwise.
    #[arg(long, value_enum)]
    pooling: Option<PoolingArg>,
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
    /// Epochs (default 6, or 3 for --arch bert).
    #[arg(long)]
    epochs: Option<usize>,
    /// Examples per step (default 32, or 16 for --arch bert).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Peak learning rate (default 3e-3, or 5e-5 for --arch bert).
    #[arg(long)]
    lr: Option<f64>,
    /// Share of the training texts held out (stratified) to score each epoch (default 0).
    #[arg(long)]
    validation_fraction: Option<f64>,
    /// Save the epoch with the best validation score, not the last (needs
    /// --validation-fraction).
    #[arg(long)]
    keep_best: bool,
    /// Stop after this many epochs without a better validation score, keeping the best
    /// (needs --validation-fraction).
    #[arg(long, value_name = "EPOCHS")]
    patience: Option<usize>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A JSON training config: any of TrainConfig's fields (--print-config lists them), the
    /// rest from the flags' defaults; training flags given too override it.
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
    let config = train_config(&args)?;
    if args.print_config {
        println!("{}", serde_json::to_string_pretty(&config)?);
        return Ok(());
    }
    let out = args.out.clone().expect("clap requires --out");
    if out.exists() && !args.force {
        return Err(format!(
            "{}: exists; choose another --out or add --force to replace it",
            out.display()
        )
        .into());
    }
    if args.scale_targets && args.task != TaskArg::Regression {
        return Err("--scale-targets is for --task regression".into());
    }
    let device = parse_device(&args.device)?;
    let multi_label = args.task == TaskArg::MultiLabel;
    // The kind of task; the number of classes or labels once the texts are read.
    let task = |n: usize| match args.task {
        TaskArg::Classification => Task::Classification { num_classes: n },
        TaskArg::MultiLabel => Task::MultiLabel { num_labels: n },
        TaskArg::Regression => Task::Regression { outputs: 1 },
    };
    let texts = args
        .data
        .load(data::Split::Train, args.train_size, args.seed, task(0))?;
    let labels = match args.task {
        TaskArg::Regression => Vec::new(),
        _ => args.data.labels(&texts, multi_label),
    };
    let task = task(labels.len());
    let examples = args.data.examples(task, &texts, &labels)?;

    let mut pipeline = build(&args, &examples, task, &device)?.with_labels(labels)?;
    let policy = EncodePolicy::new(args.max_length);
    pipeline = pipeline.with_encode_policy(policy)?;
    for stage in &args.freeze {
        pipeline.freeze(*stage);
    }
    let report = pipeline.train(&examples, &config)?;
    if multi_label && config.validation_fraction > 0.0 {
        // The texts training held out (the same split), not the ones it learned from.
        let (_, held_out) = split_validation(&examples, config.validation_fraction, config.seed);
        pipeline.tune_thresholds(&held_out)?;
    }
    pipeline.save(&out)?;
    let kept = if config.keep_best || config.early_stopping_patience.is_some() {
        report.best_epoch
    } else {
        report.epochs.last().map(|e| e.epoch)
    };
    println!(
        "{}",
        serde_json::json!({
            "model": out,
            "epochs": report.epochs.len(),
            "kept_epoch": kept,
            "examples": examples.len(),
            "steps": report.steps,
            "train_seconds": report.seconds,
            "final_train_loss": report.epochs.last().map(|e| e.train_loss),
            "validation": report.epochs.last().and_then(|e| e.validation.clone()),
            "thresholds": multi_label.then(|| pipeline.thresholds().to_vec()),
            "parameters": burn::module::Module::num_params(pipeline.stages()),
        })
    );
    Ok(())
}

/// The training config: the flags' defaults (which depend on --arch), then the --config file's
/// fields, then the training flags given.
fn train_config(args: &TrainArgs) -> CliResult<TrainConfig> {
    let bert = matches!(args.arch, Arch::Bert);
    let defaults = TrainConfig {
        epochs: if bert { 3 } else { 6 },
        batch_size: if bert { 16 } else { 32 },
        learning_rate: if bert { 5e-5 } else { 3e-3 },
        schedule: LrSchedule::WarmupLinearDecay {
            warmup_fraction: 0.1,
        },
        seed: args.seed,
        progress: !args.quiet,
        ..TrainConfig::default()
    };
    let mut config = match &args.config {
        Some(path) => overlay(defaults, path)?,
        None => defaults,
    };
    if let Some(epochs) = args.epochs {
        config.epochs = epochs;
    }
    if let Some(batch_size) = args.batch_size {
        config.batch_size = batch_size;
    }
    if let Some(lr) = args.lr {
        config.learning_rate = lr;
    }
    if let Some(fraction) = args.validation_fraction {
        config.validation_fraction = fraction;
    }
    config.keep_best |= args.keep_best;
    if args.patience.is_some() {
        config.early_stopping_patience = args.patience;
    }
    let wants_validation = config.keep_best || config.early_stopping_patience.is_some();
    if wants_validation && config.validation_fraction <= 0.0 {
        return Err(
            "--keep-best and --patience score each epoch on held-out texts: add \
                    --validation-fraction (e.g. 0.1)"
                .into(),
        );
    }
    config.validate()?;
    Ok(config)
}

/// `defaults` with the fields of the JSON object in `path` laid over them.
fn overlay(defaults: TrainConfig, path: &std::path::Path) -> CliResult<TrainConfig> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let fields: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let serde_json::Value::Object(fields) = fields else {
        return Err(format!(
            "{}: not a JSON object of TrainConfig's fields",
            path.display()
        )
        .into());
    };
    let mut config = serde_json::to_value(defaults)?;
    for (field, value) in fields {
        config[field] = value;
    }
    Ok(serde_json::from_value(config).map_err(|e| format!("{}: {e}", path.display()))?)
}

/// The untrained (or pretrained) stages the flags describe, with a head for `task`.
fn build(
    args: &TrainArgs,
    examples: &[transfer_nlp::Example],
    task: Task,
    device: &burn::prelude::Device,
) -> CliResult<CliPipeline> {
    let asset = transfer_nlp::pipeline::io::assets::asset;
    let mut pooling = Pooling::Mean;
    let (tokenizer, embedder, contextual): (AnyTokenizer, AnyEmbedder, AnyContextual) =
        match args.arch {
            Arch::Bert => {
                let source = match &args.pretrained {
                    Some(name) => ModelSource::from(name).downloading(args.download),
                    None => asset("models/all-MiniLM-L6-v2")?.into(),
                };
                let model = PretrainedModel::load(source, device)?;
                pooling = model.pooling();
                (model.tokenizer.into(), model.embeddings, model.encoder)
            }
            _ => {
                let corpus: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
                let vocab = VocabularyConfig {
                    min_count: args.min_count,
                    max_size: args.vocab_size,
                    lowercase: true,
                };
                let tokenizer = WordLevelTokenizer::train(&corpus, &vocab)?;
                let embedder = match args.arch {
                    Arch::GloveBilstm => {
                        let path = match &args.vectors {
                            Some(path) => path.clone(),
                            None => asset("vectors/glove.6B.50d.100k.txt.gz")?,
                        };
                        let vectors = WordVectors::load(&path)?;
                        device.seed(args.seed);
                        let (embedder, coverage) = vectors.embedding_for(
                            &tokenizer,
                            OovPolicy::RandomWithVectorScale,
                            device,
                        )?;
                        eprintln!(
                            "{}: covers {} of {} vocabulary words ({:.1}%)",
                            path.display(),
                            coverage.found,
                            coverage.vocab_words,
                            100.0 * coverage.fraction()
                        );
                        embedder
                    }
                    _ => LearnedEmbedding::from_config(
                        &LearnedEmbeddingConfig::new(tokenizer.vocab_size(), args.embedding_dim)
                            .with_init_std(0.1),
                        device,
                    )?,
                };
                let dim = embedder.dim();
                let lstm = |bidirectional| {
                    LstmConfig::new(dim, args.hidden_dim)
                        .with_num_layers(args.layers)
                        .with_bidirectional(bidirectional)
                        .with_dropout(if args.layers > 1 { args.dropout } else { 0.0 })
                };
                let contextual: AnyContextual = match args.arch {
                    Arch::Lstm => Lstm::from_config(&lstm(false), device)?.into(),
                    Arch::Bag => BagOfEmbeddings::new(dim).into(),
                    _ => Lstm::from_config(&lstm(true), device)?.into(),
                };
                (tokenizer.into(), embedder.into(), contextual)
            }
        };
    let pooling = args.pooling.map_or(pooling, Into::into);
    let head = head(
        args,
        examples,
        task,
        (contextual.output_dim(), pooling),
        device,
    )?;
    Ok(CliPipeline::new(
        tokenizer, embedder, contextual, head, device,
    )?)
}

/// The predictor for `task` over `input_dim`-d states.
fn head(
    args: &TrainArgs,
    examples: &[transfer_nlp::Example],
    task: Task,
    (input_dim, pooling): (usize, Pooling),
    device: &burn::prelude::Device,
) -> CliResult<AnyPredictor> {
    let classifier = |config: PooledClassifierConfig| {
        PooledClassifier::from_config(
            &config.with_pooling(pooling).with_dropout(args.dropout),
            device,
        )
    };
    Ok(match task {
        Task::Classification { num_classes } => {
            classifier(PooledClassifierConfig::new(input_dim, num_classes))?.into()
        }
        Task::MultiLabel { num_labels } => {
            classifier(PooledClassifierConfig::multi_label(input_dim, num_labels))?.into()
        }
        Task::Regression { .. } => {
            let scaling = if args.scale_targets {
                let targets: Vec<Vec<f32>> = examples
                    .iter()
                    .filter_map(|e| match &e.target {
                        Target::Values(v) => Some(v.clone()),
                        _ => None,
                    })
                    .collect();
                TargetScaling::of(&targets)
            } else {
                None
            };
            PooledRegressor::from_config(
                &PooledRegressorConfig {
                    dropout: args.dropout,
                    ..PooledRegressorConfig::new(input_dim)
                        .with_pooling(pooling)
                        .with_scaling(scaling)
                },
                device,
            )?
            .into()
        }
    })
}
