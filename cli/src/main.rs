//! The `transfer` command: train, evaluate and use pipelines from the shell.

mod data;
mod speed;
mod textflix;
mod train;
mod word2vec;

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use transfer_nlp::Prediction;
use transfer_nlp::pipeline::data::label_sets::split_labels;
use transfer_nlp::pipeline::io::hf::{ModelSource, PretrainedModel, export_model};
use transfer_nlp::pipeline::runtime::device::parse_device;
use transfer_nlp::predictor::Task;
use transfer_nlp::tokenizer::AnyTokenizer;

/// A pipeline whose stages are chosen when it is built or loaded.
pub type CliPipeline = transfer_nlp::AnyPipeline;

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
    /// Accuracy, macro-F1, loss, each class's precision / recall / F1 and the confusion matrix
    /// of a saved pipeline on labelled texts (JSON); --predictions writes every text's.
    Evaluate(EvaluateArgs),
    /// Predict each text's label and every class's probability: one JSON object a line (an
    /// empty text gets an error object on its line; the others are still predicted).
    Predict(PredictArgs),
    /// Sentence embeddings from a pretrained transformer (any supported family): one JSON object a line.
    Embed(EmbedArgs),
    /// Save a trained BERT pipeline's tokenizer and encoder in Hugging Face layout.
    Export(ExportArgs),
    /// The Textflix study: IMDB learning curves of BERT, ULMFiT, NB-SVM and word-vector sums.
    Textflix(Box<textflix::TextflixArgs>),
    /// Download the assets (IMDB, GloVe, MiniLM) into the asset directory, or models from the
    /// Hugging Face Hub into its cache (--hub): checksummed, resuming partial downloads.
    Fetch(FetchArgs),
    /// Train word2vec vectors (skip-gram or CBOW) on unlabelled text: IMDB or a file.
    Word2vec(Box<word2vec::Word2vecArgs>),
    /// The nearest words of each word in a vectors file (cosine).
    Neighbours(word2vec::NeighboursArgs),
    /// A is to B as C is to what: the words nearest B - A + C (3CosAdd).
    Analogy(word2vec::AnalogyArgs),
    /// Fine-tuning and inference throughput of a pretrained model (the speed harness's side).
    Speed(Box<speed::SpeedArgs>),
}

#[derive(clap::Args)]
struct FetchArgs {
    /// The asset directory (default: $TRANSFER_ASSETS, else the user's cache directory's
    /// transfer-nlp/).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// A mirror of the asset layout (`<base-url>/data/aclImdb_v1.tar.gz`, …); without it each
    /// asset comes from where it is published.
    #[arg(long)]
    base_url: Option<String>,
    /// Only the assets whose path contains one of these (comma-separated): imdb, glove, minilm.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Instead of the assets: these models from the Hugging Face Hub (ORG/NAME[@REVISION],
    /// repeatable) into the Hugging Face cache ($HF_HUB_CACHE, $HF_HOME/hub or
    /// ~/.cache/huggingface/hub), from $HF_ENDPOINT (default https://huggingface.co), with
    /// $HF_TOKEN for gated models.
    #[arg(long, value_name = "ORG/NAME[@REVISION]")]
    hub: Vec<String>,
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
    /// A model directory in Hugging Face layout (config.json, model.safetensors, tokenizer.json)
    /// or a Hub id (ORG/NAME[@REVISION]) in the Hugging Face cache.
    #[arg(long, value_name = "DIR|ORG/NAME")]
    model: String,
    /// Download a Hub id that the Hugging Face cache lacks.
    #[arg(long)]
    download: bool,
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
    /// How many test texts (each label keeping its share, seeded); all by default.
    #[arg(long)]
    test_size: Option<usize>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also write each text's gold and predicted label and every class's probability here
    /// (JSON lines, with the text's line in its file).
    #[arg(long, value_name = "FILE")]
    predictions: Option<PathBuf>,
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
            // Each cause once: most errors already say their cause.
            let mut said = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                let text = cause.to_string();
                if !said.contains(&text) {
                    eprintln!("  caused by: {text}");
                    said.push_str(&text);
                }
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
        Command::Word2vec(args) => word2vec::word2vec(*args),
        Command::Neighbours(args) => word2vec::neighbours(args),
        Command::Analogy(args) => word2vec::analogy(args),
    }
}

fn evaluate(args: EvaluateArgs) -> CliResult {
    let device = parse_device(&args.device)?;
    let pipeline = CliPipeline::load(&args.model, &device)?;
    let task = pipeline.task();
    let regression = matches!(task, Task::Regression { .. });
    let texts = args
        .data
        .load(data::Split::Test, args.test_size, args.seed, task)?;
    let examples = args.data.examples(task, &texts, pipeline.labels())?;
    let metrics = pipeline.evaluate(&examples)?;
    if let Some(path) = &args.predictions {
        if regression {
            return Err("--predictions is for classifiers".into());
        }
        write_predictions(path, &pipeline, &texts, &args.data.label_separator)?;
    }
    println!("{}", serde_json::to_string(&metrics)?);
    Ok(())
}

/// The texts given as arguments, or else the lines of standard input.
/// One JSON line per text: where it is, the text, its gold and predicted labels and every
/// class's probability; written atomically.
fn write_predictions(
    path: &std::path::Path,
    pipeline: &CliPipeline,
    texts: &[transfer_nlp::pipeline::data::LabeledText],
    separator: &str,
) -> CliResult {
    let inputs: Vec<&str> = texts.iter().map(|t| t.text.as_str()).collect();
    let mut lines = String::new();
    for (t, prediction) in texts.iter().zip(pipeline.predict(&inputs)?) {
        let line = match prediction {
            Prediction::Class(c) => serde_json::json!({
                "line": t.line, "text": t.text, "gold": t.label, "predicted": c.label,
                "correct": t.label == c.label,
                "probabilities": by_label(pipeline.labels(), &c.probabilities),
            }),
            Prediction::Labels(l) => {
                let mut gold = split_labels(&t.label, separator);
                gold.sort_by_key(|g| pipeline.labels().iter().position(|l| l == g));
                serde_json::json!({
                    "line": t.line, "text": t.text, "gold": gold, "predicted": l.labels,
                    "correct": gold == l.labels,
                    "probabilities": by_label(pipeline.labels(), &l.probabilities),
                })
            }
            Prediction::Values { .. } => return Err("--predictions is for classifiers".into()),
        };
        lines.push_str(&format!("{line}\n"));
    }
    transfer_nlp::pipeline::write_atomic(path, lines.as_bytes())?;
    Ok(())
}

/// Each class's probability under its label.
fn by_label(labels: &[String], probabilities: &[f32]) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .zip(probabilities)
        .map(|(label, p)| (label.clone(), serde_json::json!(p)))
        .collect();
    map.into()
}

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
    if !args.hub.is_empty() {
        return fetch_hub(&args.hub, !args.quiet);
    }
    let dir = match args.dir {
        Some(dir) => dir,
        None => transfer_nlp::pipeline::io::assets::asset_dir()?,
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

/// Each model into the Hugging Face cache; one JSON line each: the snapshot directory and
/// every file with how it arrived.
fn fetch_hub(ids: &[String], progress: bool) -> CliResult {
    use transfer_nlp::hub::{HubClient, ModelId};
    let client = HubClient::from_env().with_progress(Box::new(move |len, file| {
        transfer_nlp::pipeline::runtime::progress::bytes_bar(len, progress, file)
    }));
    for id in ids {
        let snapshot = client.download(&ModelId::parse(id)?)?;
        println!("{}", serde_json::to_string(&snapshot)?);
    }
    Ok(())
}

fn export(args: ExportArgs) -> CliResult {
    let pipeline = CliPipeline::load(&args.model, &burn::prelude::Device::flex())?;
    let stages = pipeline.stages();
    let AnyTokenizer::Hf(tokenizer) = pipeline.tokenizer() else {
        return Err(format!(
            "{}: only pipelines with a Hugging Face tokenizer and a pretrained model's stages export",
            args.model.display()
        )
        .into());
    };
    export_model(tokenizer, &stages.embedder, &stages.contextual, &args.out)
        .map_err(|e| format!("{}: {e}", args.model.display()))?;
    println!("{}", serde_json::json!({ "exported": args.out }));
    Ok(())
}

fn embed(args: EmbedArgs) -> CliResult {
    let device = parse_device(&args.device)?;
    let source = ModelSource::from(&args.model).downloading(args.download);
    let model = PretrainedModel::load(source, &device)?;
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
    // An empty text is an error line of its own; the others are predicted together.
    let valid: Vec<&String> = texts.iter().filter(|t| !t.trim().is_empty()).collect();
    let mut predictions = if valid.is_empty() {
        Vec::new()
    } else {
        pipeline.predict(&valid)?
    }
    .into_iter();
    let labels = pipeline.labels();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (i, text) in texts.iter().enumerate() {
        let line = if text.trim().is_empty() {
            serde_json::json!({ "line": i + 1, "error": "empty text" })
        } else {
            match predictions.next().expect("one prediction a valid text") {
                Prediction::Class(c) => {
                    serde_json::json!({
                        "text": text, "label": c.label, "probability": c.probability,
                        "probabilities": by_label(labels, &c.probabilities),
                    })
                }
                Prediction::Labels(l) => {
                    serde_json::json!({
                        "text": text, "labels": l.labels,
                        "probabilities": by_label(labels, &l.probabilities),
                    })
                }
                Prediction::Values { values } => {
                    serde_json::json!({ "text": text, "values": values })
                }
            }
        };
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}
