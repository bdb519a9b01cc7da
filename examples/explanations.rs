//! How faithful is each explanation method? MiniLM fine-tuned on IMDB reviews explains test
//! reviews it never saw by gradient × input, integrated gradients and occlusion (and random
//! scores, the floor); ERASER's comprehensiveness and sufficiency at k % of the words say how
//! much the top words carry the prediction. One JSON line per (method, k).
//!
//! cargo run --release --example explanations -- [--train 500] [--test 500] [--max-length 128]
//!     [--steps 20] [--cache runs/explanations-minilm]

use std::path::PathBuf;
use std::time::Instant;

use transfer_nlp::burn::prelude::Device;
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts, Sentiment, balanced_sample};
use transfer_nlp::pipeline::explain::{
    ClassProbabilities, Explanation, Faithfulness, IntegratedGradientsConfig, Method, faithfulness,
    random_explanation,
};
use transfer_nlp::pipeline::io::assets::asset_dir;
use transfer_nlp::pipeline::io::hf::PretrainedEncoder;
use transfer_nlp::pipeline::runtime::device::parse_device;
use transfer_nlp::predictor::{PooledClassifier, PooledClassifierConfig, Pooling};
use transfer_nlp::tokenizer::EncodePolicy;
use transfer_nlp::*;

#[derive(clap::Parser)]
struct Args {
    /// Training reviews (balanced, seeded).
    #[arg(long, default_value_t = 500)]
    train: usize,
    /// Test reviews explained (balanced, seeded).
    #[arg(long, default_value_t = 500)]
    test: usize,
    #[arg(long, default_value_t = 128)]
    max_length: usize,
    #[arg(long, default_value_t = 4)]
    epochs: usize,
    /// Integrated gradients' points (Gauss-Legendre, padding baseline).
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Fractions of the words taken as the top words.
    #[arg(long, value_delimiter = ',', default_value = "0.05,0.1,0.2")]
    fractions: Vec<f64>,
    /// Keep the fine-tuned pipeline here, and read it back when it is there.
    #[arg(long)]
    cache: Option<PathBuf>,
    #[arg(long, default_value = "cpu")]
    device: String,
}

fn fine_tuned(
    args: &Args,
    train: &[Example],
    device: &Device,
) -> Result<AnyPipeline, TransferError> {
    if let Some(dir) = args
        .cache
        .as_ref()
        .filter(|d| d.join(transfer_nlp::pipeline::MANIFEST).exists())
    {
        eprintln!("reading the fine-tuned pipeline from {}", dir.display());
        return AnyPipeline::load(dir, device);
    }
    let bert = PretrainedEncoder::load(asset_dir()?.join("models/all-MiniLM-L6-v2"), device)?;
    let head = PooledClassifier::from_config(
        &PooledClassifierConfig::new(bert.encoder.output_dim(), 2)
            .with_pooling(Pooling::Mean)
            .with_dropout(0.1),
        device,
    )?;
    let mut pipeline: AnyPipeline = TransferPipeline::new(
        bert.tokenizer.into(),
        bert.embeddings.into(),
        bert.encoder.into(),
        head.into(),
        device,
    )?
    .with_labels(Sentiment::LABELS)?
    .with_encode_policy(EncodePolicy::new(args.max_length))?;
    let config = TrainConfig {
        epochs: args.epochs,
        batch_size: 16,
        learning_rate: 5e-5,
        schedule: LrSchedule::WarmupLinearDecay {
            warmup_fraction: 0.1,
        },
        weight_decay: 0.01,
        max_grad_norm: Some(1.0),
        seed: 1,
        progress: true,
        ..TrainConfig::default()
    };
    pipeline.train(train, &config)?;
    if let Some(dir) = &args.cache {
        pipeline.save(dir)?;
    }
    Ok(pipeline)
}

/// Sums of one method's measures over the reviews.
#[derive(Default)]
struct Totals {
    seconds: f64,
    /// Per fraction: comprehensiveness and sufficiency of each review.
    scores: Vec<Vec<Faithfulness>>,
}

fn mean_and_std(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let values: Vec<f64> = values.collect();
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

fn main() -> Result<(), TransferError> {
    let args = <Args as clap::Parser>::parse();
    let device = parse_device(&args.device)?;
    let imdb = Imdb::load(Imdb::default_path()?, ImdbParts::LABELLED)?;
    let sample = |reviews, n, seed| -> Result<Vec<Example>, TransferError> {
        Ok(balanced_sample(reviews, n, seed)?
            .iter()
            .filter_map(|r| r.example())
            .collect())
    };
    let train = sample(&imdb.train, args.train, 1)?;
    let test = sample(&imdb.test, args.test, 2)?;
    let pipeline = fine_tuned(&args, &train, &device)?;
    let accuracy = pipeline.evaluate(&test)?.accuracy.unwrap_or(0.0);
    eprintln!(
        "fine-tuned on {}: {:.1} % on the {} test reviews",
        train.len(),
        100.0 * accuracy,
        test.len()
    );

    let methods = [
        Some(Method::GradientTimesInput),
        Some(Method::IntegratedGradients(IntegratedGradientsConfig {
            steps: args.steps,
            ..IntegratedGradientsConfig::default()
        })),
        Some(Method::Occlusion),
        None,
    ];
    let mut totals: Vec<Totals> = methods.iter().map(|_| Totals::default()).collect();
    let bar = transfer_nlp::pipeline::runtime::progress::bar(test.len() as u64, true, "explaining");
    for (i, example) in test.iter().enumerate() {
        let text = example.text.as_str();
        let p = &pipeline.class_probabilities(&[text.to_string()])?[0];
        let class = usize::from(p[1] > p[0]);
        for (method, total) in methods.iter().zip(&mut totals) {
            let started = Instant::now();
            let explanation: Explanation = match method {
                Some(m) => pipeline.explain(&[text], class, m)?.remove(0),
                None => random_explanation(text, class, i as u64),
            };
            total.seconds += started.elapsed().as_secs_f64();
            total.scores.push(faithfulness(
                &pipeline,
                text,
                &explanation,
                &args.fractions,
            )?);
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    for (method, total) in methods.iter().zip(&totals) {
        for (f, &fraction) in args.fractions.iter().enumerate() {
            let (comprehensiveness, comprehensiveness_std) =
                mean_and_std(total.scores.iter().map(|s| s[f].comprehensiveness));
            let (sufficiency, sufficiency_std) =
                mean_and_std(total.scores.iter().map(|s| s[f].sufficiency));
            println!(
                "{}",
                serde_json::json!({
                    "method": method.as_ref().map_or("random", Method::name),
                    "k": fraction,
                    "comprehensiveness": comprehensiveness,
                    "comprehensiveness_std": comprehensiveness_std,
                    "sufficiency": sufficiency,
                    "sufficiency_std": sufficiency_std,
                    "ms_per_review": 1000.0 * total.seconds / test.len() as f64,
                    "reviews": test.len(),
                    "train_examples": train.len(),
                    "test_accuracy": accuracy,
                    "max_length": args.max_length,
                    "ig_steps": args.steps,
                })
            );
        }
    }
    Ok(())
}
