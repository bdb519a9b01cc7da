//! `transfer speed`: fine-tuning and inference throughput of a pretrained model of any
//! supported family with a pooling linear head, on full-length inputs, measured the way the
//! PyTorch reference (`reference/pytorch_minilm*.py`, `scripts/pytorch_encoder_speed.py`)
//! measures itself. `scripts/speed_harness.py` runs both.

use std::time::Instant;

use burn::prelude::*;

use transfer_nlp::contextual::{AnyContextual, ContextualEmbedder, Precision};
use transfer_nlp::embedder::AnyEmbedder;
use transfer_nlp::pipeline::io::hf::PretrainedModel;
use transfer_nlp::pipeline::runtime::device::parse_device;
use transfer_nlp::predictor::{PooledClassifier, PooledClassifierConfig};
use transfer_nlp::tokenizer::{EncodePolicy, HfTokenizer, Tokenizer};
use transfer_nlp::{Batch, Example, Predictor, TrainConfig, TransferPipeline};

use crate::CliResult;

#[derive(clap::Args)]
pub struct SpeedArgs {
    /// A pretrained model of any supported family: a directory in Hugging Face layout or a Hub
    /// id in the Hugging Face cache.
    #[arg(long, value_name = "DIR|ORG/NAME")]
    model: String,
    /// cpu, tch, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// f32, or bf16 / f16 mixed precision (BERT-layout families).
    #[arg(long, default_value = "f32")]
    precision: Precision,
    /// Tokens per text (every text is exactly this long: no padding).
    #[arg(long, default_value_t = 256)]
    seq: usize,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Timed training steps, after `warmup` untimed ones.
    #[arg(long, default_value_t = 30)]
    train_steps: usize,
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    #[arg(long, default_value_t = 256)]
    infer_batch_size: usize,
    /// Timed inference batches, after one untimed.
    #[arg(long, default_value_t = 10)]
    infer_batches: usize,
}

/// Texts of whole vocabulary words, drawn like the reference's random ids (1000..20000),
/// long enough to fill `seq` tokens.
fn full_length_texts(
    tokenizer: &impl Tokenizer,
    count: usize,
    seq: usize,
) -> CliResult<Vec<String>> {
    let words: Vec<String> = (1000..20000u32)
        .map(|id| tokenizer.decode(&[id]))
        .filter(|w| !w.is_empty() && w.chars().all(char::is_alphabetic))
        .collect();
    if words.is_empty() {
        return Err("the tokenizer has no whole-word entries among ids 1000..20000".into());
    }
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    Ok((0..count)
        .map(|_| {
            (0..seq)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    words[(state % words.len() as u64) as usize].as_str()
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect())
}

/// A pretrained model under a pooled linear head.
type BertPipeline = TransferPipeline<HfTokenizer, AnyEmbedder, AnyContextual, PooledClassifier>;

pub fn speed(args: SpeedArgs) -> CliResult {
    check(&args)?;
    let device = parse_device(&args.device)?;
    let (mut pipeline, texts) = build(&args, &device)?;
    let train_seconds = time_training(&mut pipeline, &texts, &args)?;
    let infer_seconds = time_model(&pipeline, &texts, &args, &device)?;

    // The whole pipeline, texts in: tokenization, length-sorted batches, the model.
    let infer: Vec<&str> = texts
        .iter()
        .cycle()
        .take(args.infer_batch_size * args.infer_batches)
        .map(String::as_str)
        .collect();
    let started = Instant::now();
    let outputs = pipeline.outputs(&infer)?;
    let pipeline_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    pipeline
        .tokenizer()
        .encode_batch(&infer, pipeline.encode_policy())?;
    let tokenize_seconds = started.elapsed().as_secs_f64();

    let result = serde_json::json!({
        "device": args.device,
        "precision": args.precision,
        "batch": args.batch_size,
        "seq": args.seq,
        "train_steps": args.train_steps,
        "train_examples_per_s": (args.train_steps * args.batch_size) as f64 / train_seconds,
        "infer_batch": args.infer_batch_size,
        "infer_examples_per_s": (args.infer_batch_size * args.infer_batches) as f64 / infer_seconds,
        "pipeline_infer_examples_per_s": outputs.len() as f64 / pipeline_seconds,
        "tokenize_examples_per_s": infer.len() as f64 / tokenize_seconds,
        "threads": rayon::current_num_threads(),
    });
    println!("{result}");
    Ok(())
}

/// Refuses sizes of 0.
fn check(args: &SpeedArgs) -> CliResult {
    for (field, value) in [
        ("--seq", args.seq),
        ("--batch-size", args.batch_size),
        ("--train-steps", args.train_steps),
        ("--infer-batch-size", args.infer_batch_size),
        ("--infer-batches", args.infer_batches),
    ] {
        if value == 0 {
            return Err(format!("{field} must be at least 1").into());
        }
    }
    Ok(())
}

/// The model under a fresh head, and texts that fill `seq` tokens for every timed step.
fn build(args: &SpeedArgs, device: &Device) -> CliResult<(BertPipeline, Vec<String>)> {
    let bert = PretrainedModel::load(&args.model, device)?;
    let head = PooledClassifier::from_config(
        &PooledClassifierConfig::new(bert.encoder.output_dim(), 2)
            .with_pooling(bert.pooling())
            .with_dropout(0.1),
        device,
    )?;
    let texts = full_length_texts(
        &bert.tokenizer,
        (args.warmup + args.train_steps) * args.batch_size,
        args.seq,
    )?;
    let pipeline = TransferPipeline::new(
        bert.tokenizer,
        bert.embeddings,
        with_precision(bert.encoder, args.precision)?,
        head,
        device,
    )?
    .with_encode_policy(EncodePolicy::new(args.seq))?
    .with_inference_batch_size(args.infer_batch_size);
    let first: Vec<&str> = texts.iter().take(4).map(String::as_str).collect();
    let encoded = pipeline
        .tokenizer()
        .encode_batch(&first, pipeline.encode_policy())?;
    if encoded.lengths().iter().any(|&n| n != args.seq) {
        return Err(format!("the texts did not fill {} tokens", args.seq).into());
    }
    Ok((pipeline, texts))
}

/// The encoder in `precision`: f32 for every family, mixed precision for the BERT layout.
fn with_precision(encoder: AnyContextual, precision: Precision) -> CliResult<AnyContextual> {
    match (encoder, precision) {
        (AnyContextual::Bert(bert), precision) => Ok(bert.with_precision(precision).into()),
        (encoder, Precision::F32) => Ok(encoder),
        (_, precision) => Err(format!(
            "--precision {precision:?}: mixed precision is for BERT-layout families only"
        )
        .into()),
    }
}

/// Seconds of `train_steps` training steps, after `warmup` untimed ones.
fn time_training(
    pipeline: &mut BertPipeline,
    texts: &[String],
    args: &SpeedArgs,
) -> CliResult<f64> {
    let examples: Vec<Example> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| Example::class(t.clone(), i % 2))
        .collect();
    let config = |steps: usize| TrainConfig {
        epochs: 1,
        batch_size: args.batch_size,
        learning_rate: 1e-5,
        validation_fraction: 0.0,
        max_grad_norm: None,
        progress: false,
        seed: steps as u64,
        ..TrainConfig::default()
    };
    let (warm, timed) = examples.split_at(args.warmup * args.batch_size);
    if !warm.is_empty() {
        pipeline.train(warm, &config(args.warmup))?;
    }
    let started = Instant::now();
    pipeline.train(timed, &config(args.train_steps))?;
    Ok(started.elapsed().as_secs_f64())
}

/// The model alone, as the reference times itself: one batch of ids already on the device,
/// run `infer_batches` times (after one untimed), queued back to back and read at the end.
fn time_model(
    pipeline: &BertPipeline,
    texts: &[String],
    args: &SpeedArgs,
    device: &Device,
) -> CliResult<f64> {
    let batch: Vec<&str> = texts
        .iter()
        .cycle()
        .take(args.infer_batch_size)
        .map(String::as_str)
        .collect();
    let encoded = pipeline
        .tokenizer()
        .encode_batch(&batch, pipeline.encode_policy())?;
    let rows: Vec<&[u32]> = encoded.ids.chunks(encoded.seq_len).collect();
    let batch = Batch::new(&rows, pipeline.tokenizer().special_tokens().pad, device);
    let stages = pipeline.stages();
    let run = |times: usize| {
        let outputs: Vec<Tensor<2>> = (0..times)
            .map(|_| stages.forward_batch(batch.clone()))
            .collect();
        outputs.into_iter().map(Tensor::into_data).count()
    };
    run(1);
    let started = Instant::now();
    run(args.infer_batches);
    Ok(started.elapsed().as_secs_f64())
}
