//! The `transfer` command: train, evaluate and use pipelines from the shell.

mod data;
mod speed;
mod textflix;
mod train;

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use transfer_nlp::contextual::AnyContextual;
use transfer_nlp::embedder::AnyEmbedder;
use transfer_nlp::pipeline::io::hf::{PretrainedBert, export_bert};
use transfer_nlp::pipeline::runtime::device::parse_device;
use transfer_nlp::predictor::AnyPredictor;
use transfer_nlp::tokenizer::AnyTokenizer;
use transfer_nlp::{Prediction, TransferPipeline};

/// A pipeline whose stages are chosen when it is built or loaded.
pub type CliPipeline = TransferPipeline<AnyTokenizer, AnyEmbedder, AnyContextual, AnyPredictor>;

pub type CliResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

#[derive(Parser)]
#[command(
    name = "transfer",
    version,
    about = "Transfer learning for NLP: train, evaluate and use pipelines"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a pipeline on labelled texts and save it.
    Train(Box<train::TrainArgs>),
    /// Accuracy, macro-F1 and loss of a saved pipeline on labelled texts (JSON).
    Evaluate(EvaluateArgs),
    /// Predict the label of each text: one JSON object a line.
    Predict(PredictArgs),
    /// Sentence embeddings from a pretrained BERT-family model: one JSON object a line.
    Embed(EmbedArgs),
    /// Save a trained BERT pipeline's tokenizer and encoder in Hugging Face layout.
    Export(ExportArgs),
    /// The Textflix study: IMDB learning curves of BERT, ULMFiT, NB-SVM and word-vector sums.
    Textflix(Box<textflix::TextflixArgs>),
    /// Download IMDB and MiniLM with checksums, resuming partial downloads (GloVe only from a
    /// mirror: --base-url).
    Fetch(FetchArgs),
    /// Fine-tuning and inference throughput of a BERT-family model (the speed harness's side).
    Speed(Box<speed::SpeedArgs>),
}

#[derive(clap::Args)]
struct FetchArgs {
    /// The asset directory (default: $TRANSFER_ASSETS).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// A mirror of the asset layout (`<base-url>/data/aclImdb_v1.tar.gz`, …); without it each
    /// asset comes from where it is published (GloVe's subset exists only on mirrors).
    #[arg(long)]
    base_url: Option<String>,
    /// Only the assets whose path contains one of these (comma-separated), e.g. `imdb,minilm`.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    #[arg(long)]
    quiet: bool,
}

#[derive(clap::Args)]
struct ExportArgs {
    /// A directory written by `transfer train --arch bert`.
    #[arg(long)]
    model: PathBuf,
    /// Where to write config.json, model.safetensors and tokenizer.json.
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
struct EmbedArgs {
    /// A model directory in Hugging Face layout (config.json, model.safetensors, tokenizer.json).
    #[arg(long)]
    model: PathBuf,
    /// Tokens per text, the rest cut off.
    #[arg(long, default_value_t = 256)]
    max_length: usize,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// cpu, tch, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Texts to embed; without any, one text per line of standard input.
    texts: Vec<String>,
}

#[derive(clap::Args)]
struct EvaluateArgs {
    /// A directory written by `transfer train`.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    data: data::DataArgs,
    /// How many test texts (balanced, seeded); all by default.
    #[arg(long)]
    test_size: Option<usize>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// cpu, tch, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
}

#[derive(clap::Args)]
struct PredictArgs {
    /// A directory written by `transfer train`.
    #[arg(long)]
    model: PathBuf,
    /// cpu, tch, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Texts to label; without any, one text per line of standard input.
    texts: Vec<String>,
}

fn main() -> ExitCode {
    transfer_nlp::pipeline::runtime::allocator::keep_freed_memory();
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

/// Runs `command` with the kernels `TRANSFER_FUSED` chooses (all fused when unset).
fn run(command: Command) -> CliResult {
    transfer_nlp::kernels::Kernels::from_env()?.set();
    match command {
        Command::Train(args) => train::run(*args),
        Command::Evaluate(args) => evaluate(args),
        Command::Predict(args) => predict(args),
        Command::Embed(args) => embed(args),
        Command::Export(args) => export(args),
        Command::Textflix(args) => textflix::textflix(*args),
        Command::Fetch(args) => fetch(args),
        Command::Speed(args) => speed::speed(*args),
    }
}

fn evaluate(args: EvaluateArgs) -> CliResult {
    let device = parse_device(&args.device)?;
    let pipeline = CliPipeline::load(&args.model, &device)?;
    let texts = args
        .data
        .load(data::Split::Test, args.test_size, args.seed)?;
    let examples = data::to_examples(&texts, pipeline.labels())?;
    let metrics = pipeline.evaluate(&examples)?;
    println!("{}", serde_json::to_string(&metrics)?);
    Ok(())
}

/// The texts given as arguments, or else the lines of standard input.
fn texts_or_stdin(texts: Vec<String>) -> CliResult<Vec<String>> {
    if !texts.is_empty() {
        return Ok(texts);
    }
    Ok(std::io::stdin()
        .lock()
        .lines()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("standard input: {e}"))?)
}

fn fetch(args: FetchArgs) -> CliResult {
    let dir = match args.dir {
        Some(dir) => dir,
        None => std::env::var_os("TRANSFER_ASSETS")
            .map(PathBuf::from)
            .ok_or("no --dir and TRANSFER_ASSETS is not set")?,
    };
    let wanted = |path: &str| {
        args.only.is_empty()
            || args
                .only
                .iter()
                .any(|o| path.to_lowercase().contains(&o.to_lowercase()))
    };
    let mut failures = 0;
    for asset in transfer_nlp::fetch::ASSETS
        .iter()
        .filter(|a| wanted(a.path))
    {
        match transfer_nlp::fetch::fetch(asset, &dir, args.base_url.as_deref(), !args.quiet) {
            Ok(done) => println!("{}", serde_json::to_string(&done)?),
            Err(e) => {
                eprintln!("error: {e}");
                failures += 1;
            }
        }
    }
    if failures > 0 {
        return Err(format!("{failures} assets could not be fetched").into());
    }
    Ok(())
}

fn export(args: ExportArgs) -> CliResult {
    let pipeline = CliPipeline::load(&args.model, &burn::prelude::Device::flex())?;
    let stages = pipeline.stages();
    match (pipeline.tokenizer(), &stages.embedder, &stages.contextual) {
        (AnyTokenizer::Hf(tokenizer), AnyEmbedder::Bert(embeddings), AnyContextual::Bert(encoder)) => {
            export_bert(tokenizer, embeddings, encoder, &args.out)?;
            println!("{}", serde_json::json!({ "exported": args.out }));
            Ok(())
        }
        _ => Err(format!(
            "{}: only pipelines with a Hugging Face tokenizer, BERT embeddings and a BERT encoder export",
            args.model.display()
        )
        .into()),
    }
}

fn embed(args: EmbedArgs) -> CliResult {
    let device = parse_device(&args.device)?;
    let model = PretrainedBert::load(&args.model, &device)?;
    let texts = texts_or_stdin(args.texts)?;
    let embeddings = model.sentence_embeddings(&texts, args.max_length, args.batch_size)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (text, embedding) in texts.iter().zip(embeddings) {
        writeln!(
            out,
            "{}",
            serde_json::json!({ "text": text, "embedding": embedding })
        )?;
    }
    out.flush()?;
    Ok(())
}

fn predict(args: PredictArgs) -> CliResult {
    let device = parse_device(&args.device)?;
    let pipeline = CliPipeline::load(&args.model, &device)?;
    let texts = texts_or_stdin(args.texts)?;
    let predictions = pipeline.predict(&texts)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (text, prediction) in texts.iter().zip(predictions) {
        let line = match prediction {
            Prediction::Class(c) => serde_json::json!({
                "text": text, "label": c.label, "probability": c.probability,
            }),
            Prediction::Values { values } => serde_json::json!({ "text": text, "values": values }),
        };
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}
