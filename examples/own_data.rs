//! Your own data: fine-tune all-MiniLM-L6-v2 on a CSV of labelled texts, score it on a held-out
//! part, save it.
//!
//! Reads the file with `read_labelled` (CSV, TSV, JSON lines, a JSON array or Parquet, by the
//! extension), numbers the classes with `label_set` / `class_examples`, holds out a stratified
//! `--test-fraction` with `split_validation`, fine-tunes MiniLM (from
//! `$TRANSFER_ASSETS/models/all-MiniLM-L6-v2`) with a mean-pooled linear head, prints the test
//! part's per-class precision / recall / F1 and confusion matrix, and saves the pipeline with
//! its labels to `--out` (what `transfer predict --model DIR` and `examples/load_and_predict.rs`
//! load). By default it reads `examples/data/reviews.csv`: 160 short IMDB reviews, `text,label`
//! (`scripts/make_sample.py` made it), 40 of them held out; about 70 s on 2 cores in the dev
//! profile (2 epochs of 8 steps, 128 tokens).
//!
//! ```sh
//! cargo run --example own_data                                     # the sample, saved to a temp dir
//! cargo run --example own_data -- --out runs/reviews
//! cargo run --release --example own_data -- tickets.csv --text-column message \
//!     --label-column team --epochs 4 --min-accuracy 0.6 --out runs/tickets
//! ```
//!
//! Exits with status 1 when the test accuracy is not above `--min-accuracy`: by default 0.65 on
//! the sample (chance is 0.5; it measured 0.800 and 0.825 with seeds 1 and 2, and CI runs it),
//! 0 on other files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;
use transfer_nlp::burn::prelude::Device;
use transfer_nlp::pipeline::data::files::{
    Columns, DataFormat, class_examples, label_set, read_labelled,
};
use transfer_nlp::pipeline::data::split_validation;
use transfer_nlp::pipeline::io::assets::asset;
use transfer_nlp::pipeline::io::hf::{ModelSource, PretrainedEncoder};
use transfer_nlp::predictor::{PooledClassifier, PooledClassifierConfig, Pooling};
use transfer_nlp::tokenizer::EncodePolicy;
use transfer_nlp::{
    AnyPipeline, ContextualEmbedder, LrSchedule, Predictor, TrainConfig, TransferError,
};

/// The committed sample: 160 short IMDB reviews.
const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/reviews.csv");

#[derive(Parser)]
struct Args {
    /// A file of labelled texts (.csv, .tsv, .jsonl, .json, .parquet); the sample by default.
    #[arg(default_value = SAMPLE)]
    data: PathBuf,
    #[arg(long, default_value = "text")]
    text_column: String,
    #[arg(long, default_value = "label")]
    label_column: String,
    /// Where to save the trained pipeline; a new temporary directory by default.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Share of the texts held out (stratified) to score the model.
    #[arg(long, default_value_t = 0.25)]
    test_fraction: f64,
    #[arg(long, default_value_t = 2)]
    epochs: usize,
    /// Tokens per text, the rest cut off.
    #[arg(long, default_value_t = 128)]
    max_length: usize,
    #[arg(long, default_value_t = 1e-4)]
    lr: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Fail (exit status 1) unless the test accuracy is above this; by default 0.65 on the
    /// sample, 0 on other files.
    #[arg(long)]
    min_accuracy: Option<f64>,
    /// The pretrained model: a directory in Hugging Face layout or a Hub id in the Hugging Face
    /// cache; by default the asset directory's models/all-MiniLM-L6-v2.
    #[arg(long, value_name = "DIR|ORG/NAME")]
    pretrained: Option<String>,
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let device = Device::flex();
    let path = args.data.as_path();

    // 1. The texts and their classes: class i is the i-th of the sorted distinct labels.
    let columns = Columns {
        text: args.text_column.clone(),
        label: args.label_column.clone(),
    };
    let texts = read_labelled(path, DataFormat::from_path(path)?, &columns)?;
    let labels = label_set(&texts);
    let examples = class_examples(&texts, &labels, path)?;
    let (train, test) = split_validation(&examples, args.test_fraction, args.seed);
    println!(
        "{}: {} texts, classes {labels:?}; training on {}, testing on {}",
        path.display(),
        texts.len(),
        train.len(),
        test.len()
    );
    if test.is_empty() {
        return Err("no texts held out: raise --test-fraction".into());
    }

    // 2. MiniLM's tokenizer, embeddings and encoder, and a new head for these classes.
    let source = match &args.pretrained {
        Some(name) => ModelSource::from(name),
        None => asset("models/all-MiniLM-L6-v2")?.into(),
    };
    let bert = PretrainedEncoder::load(source, &device)?;
    let head = PooledClassifier::from_config(
        &PooledClassifierConfig::new(bert.encoder.output_dim(), labels.len())
            .with_pooling(Pooling::Mean)
            .with_dropout(0.1),
        &device,
    )?;
    let mut pipeline = AnyPipeline::new(
        bert.tokenizer.into(),
        bert.embeddings.into(),
        bert.encoder.into(),
        head.into(),
        &device,
    )?
    .with_labels(labels.clone())?
    .with_encode_policy(EncodePolicy::new(args.max_length))?;

    // 3. Fine-tune every stage.
    let config = TrainConfig {
        epochs: args.epochs,
        batch_size: 16,
        learning_rate: args.lr,
        schedule: LrSchedule::WarmupLinearDecay {
            warmup_fraction: 0.1,
        },
        seed: args.seed,
        ..TrainConfig::default()
    };
    let started = Instant::now();
    let report = pipeline.train(&train, &config)?;
    println!(
        "trained {} epochs ({} steps) in {:.0} s; final train loss {:.3}",
        report.epochs.len(),
        report.steps,
        started.elapsed().as_secs_f64(),
        report.epochs.last().map_or(f64::NAN, |e| e.train_loss)
    );

    // 4. Scores on the held-out texts.
    let metrics = pipeline.evaluate(&test)?;
    let accuracy = metrics.accuracy.unwrap_or(0.0);
    println!(
        "test: accuracy {accuracy:.3}, macro-F1 {:.3}, loss {:.3} ({} texts)",
        metrics.macro_f1.unwrap_or(0.0),
        metrics.loss,
        metrics.examples
    );
    let width = labels.iter().map(String::len).max().unwrap_or(5).max(5);
    println!("{:width$}  precision  recall     F1  support", "class");
    for class in metrics.per_class.as_deref().unwrap_or_default() {
        println!(
            "{:width$}  {:9.3}  {:6.3}  {:5.3}  {:7}",
            class.label, class.precision, class.recall, class.f1, class.support
        );
    }
    println!("confusion (rows: actual, columns: predicted, in the order above):");
    for (label, row) in labels
        .iter()
        .zip(metrics.confusion.as_deref().unwrap_or_default())
    {
        let cells: Vec<String> = row.iter().map(|n| format!("{n:5}")).collect();
        println!("{label:width$}  {}", cells.join(""));
    }

    // 5. Save it with its labels.
    let out = match args.out {
        Some(out) => out,
        None => temp_dir()?,
    };
    pipeline.save(&out)?;
    println!("saved to {}", out.display());
    let reloaded = AnyPipeline::load(&out, &device)?;
    if reloaded.labels() != labels.as_slice() {
        return Err(format!("{}: saved labels differ", out.display()).into());
    }

    let bar = args
        .min_accuracy
        .unwrap_or(if is_sample(path) { 0.65 } else { 0.0 });
    if accuracy <= bar {
        return Err(format!("test accuracy {accuracy:.3} is not above {bar}").into());
    }
    Ok(())
}

fn is_sample(path: &Path) -> bool {
    path.canonicalize().ok() == Path::new(SAMPLE).canonicalize().ok()
}

/// A new directory under the system's temporary directory.
fn temp_dir() -> Result<PathBuf, TransferError> {
    let dir = std::env::temp_dir().join(format!("transfer-own-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| TransferError::io(&dir, e))?;
    Ok(dir)
}
