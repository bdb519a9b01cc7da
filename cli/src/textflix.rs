//! `transfer textflix`: the study's learning curves, resumable.

use std::path::PathBuf;

use transfer_nlp::pipeline::io::assets::asset_dir;
use transfer_textflix::{Model, StudyConfig, run};

use crate::CliResult;

#[derive(clap::Args)]
pub struct TextflixArgs {
    /// Where results.json, results.csv, results.md and the plots go; rerunning with the same
    /// directory resumes, skipping finished cells.
    #[arg(long)]
    out: PathBuf,
    /// The README's main job on CPU (about 7 minutes on 2 cores): see `StudyConfig::quick`.
    #[arg(long)]
    quick: bool,
    /// cpu, tch, cuda or cuda:N (for BERT and ULMFiT; the baselines run on the CPU).
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Model families (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    models: Option<Vec<Model>>,
    /// Training sizes of the baselines.
    #[arg(long, value_delimiter = ',')]
    sizes: Option<Vec<usize>>,
    /// Seeds per size of the baselines.
    #[arg(long)]
    seeds: Option<u64>,
    /// Training sizes of the transfer models (all but nbsvm and wvsum) (default: --sizes, or
    /// 10,100,500 with --quick).
    #[arg(long, value_delimiter = ',')]
    transfer_sizes: Option<Vec<usize>>,
    /// Seeds per size of the transfer models (default: --seeds, or 1 with --quick).
    #[arg(long)]
    transfer_seeds: Option<u64>,
    /// Score on a balanced, seeded subset of the test set (default: all 25,000, or 1,000 with --quick).
    #[arg(long)]
    test_size: Option<usize>,
    /// Score on N balanced training reviews held out of every sample instead of the test set
    /// (to choose settings without looking at the test set; use its own --out).
    #[arg(long, value_name = "N")]
    held_out: Option<usize>,
    /// BERT's maximum tokens per review.
    #[arg(long)]
    max_length: Option<usize>,
    /// BERT keeps the first 128 and the last tokens of long reviews.
    #[arg(long)]
    head_tail: bool,
    /// BERT's precision: f32, or bf16 / f16 mixed precision (for CUDA).
    #[arg(long)]
    precision: Option<transfer_nlp::contextual::Precision>,
    /// Steps of masked-LM training on the unlabelled reviews before bert-mlm is fine-tuned
    /// (default: 2,000 of 32 reviews, or 200 of 16 with --quick).
    #[arg(long)]
    mlm_steps: Option<usize>,
    /// Unlabelled reviews the self-training teacher labels (the -st models; default: 10,000,
    /// or 2,000 with --quick).
    #[arg(long)]
    st_unlabelled: Option<usize>,
    /// Most confident pseudo-labels kept per class (default: 2,000, or 400 with --quick).
    #[arg(long)]
    st_per_class: Option<usize>,
    /// Rounds of self-training, each round's student the next one's teacher (default 1).
    #[arg(long)]
    st_rounds: Option<usize>,
    /// bert-nbsvm-cotrain: score with its last NB-SVM student alone (centred on unlabelled
    /// reviews), not with MiniLM and the student added.
    #[arg(long)]
    st_student_alone: bool,
    /// bert-nbsvm-cotrain: MiniLM fine-tunings (own training seeds) added into one teacher
    /// (default 1).
    #[arg(long)]
    st_teachers: Option<usize>,
    /// bert-nbsvm-cotrain: after the last round, fine-tune a fresh MiniLM on the sample and
    /// this many of the last NB-SVM's surest guesses per class, and score with it and the
    /// NB-SVM added (default 0: none).
    #[arg(long)]
    st_minilm_student: Option<usize>,
    /// bert-nbsvm-cotrain: the MiniLM teachers start from bert-mlm's domain-adapted MiniLM
    /// (trained once per run, --mlm-steps).
    #[arg(long)]
    st_adapted_teacher: bool,
    /// Epochs of the BERT students (bert-st, bert-nbsvm-st, --st-minilm-student; default 2;
    /// at least BERT's minimum steps).
    #[arg(long)]
    st_student_epochs: Option<usize>,
    /// Tokens the ULMFiT language model reads (default: all unlabelled and training reviews,
    /// or 1,500,000 with --quick).
    #[arg(long)]
    lm_tokens: Option<usize>,
    /// Epochs of ULMFiT's language model over its tokens (default 1). A cached language model
    /// with the same settings and fewer epochs is trained on for the rest.
    #[arg(long)]
    lm_epochs: Option<usize>,
    /// ULMFiT's classifier: the last N tokens of each review (default 400, or 256 with --quick).
    #[arg(long)]
    ulmfit_max_length: Option<usize>,
    /// ULMFiT's classifier: dropout between its LSTM layers (default 0.2).
    #[arg(long)]
    ulmfit_lstm_dropout: Option<f64>,
    /// ULMFiT's classifier: dropout in its head (default 0.2).
    #[arg(long)]
    ulmfit_head_dropout: Option<f64>,
    /// The ensembles (ulmfit-nbsvm, bert-nbsvm and their -st forms) centre each model's scores
    /// on unlabelled reviews, so that each calls half of them positive, before adding them.
    #[arg(long)]
    centre_scores: bool,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

pub fn textflix(args: TextflixArgs) -> CliResult {
    let assets = asset_dir()?;
    let mut config = if args.quick {
        StudyConfig::quick(&assets)
    } else {
        StudyConfig::full(&assets)
    };
    config.device = args.device;
    if let Some(models) = args.models {
        config.models = models;
    }
    if let Some(sizes) = args.sizes {
        config.transfer_sizes = args.transfer_sizes.clone().unwrap_or_else(|| sizes.clone());
        config.sizes = sizes;
    }
    if let Some(sizes) = args.transfer_sizes {
        config.transfer_sizes = sizes;
    }
    if let Some(seeds) = args.seeds {
        config.seeds = seeds;
        config.transfer_seeds = args.transfer_seeds.unwrap_or(seeds);
    }
    if let Some(seeds) = args.transfer_seeds {
        config.transfer_seeds = seeds;
    }
    if args.test_size.is_some() {
        config.test_size = args.test_size;
    }
    config.held_out = args.held_out;
    if let Some(max_length) = args.max_length {
        config.bert.max_length = max_length;
    }
    config.bert.head_tail = args.head_tail;
    if let Some(precision) = args.precision {
        config.bert.precision = precision;
    }
    if let Some(n) = args.mlm_steps {
        config.mlm.steps = n;
    }
    if let Some(n) = args.st_unlabelled {
        config.self_training.unlabelled = n;
    }
    if let Some(n) = args.st_per_class {
        config.self_training.per_class = n;
    }
    if let Some(n) = args.st_rounds {
        config.self_training.rounds = n;
    }
    config.self_training.student_alone = args.st_student_alone;
    config.self_training.adapted_teacher = args.st_adapted_teacher;
    if let Some(n) = args.st_teachers {
        config.self_training.teachers = n;
    }
    if let Some(n) = args.st_minilm_student {
        config.self_training.minilm_student_per_class = n;
    }
    if let Some(n) = args.st_student_epochs {
        config.self_training.student_epochs = n;
    }
    if args.lm_tokens.is_some() {
        config.ulmfit.lm_tokens = args.lm_tokens;
    }
    if let Some(n) = args.lm_epochs {
        config.ulmfit.lm_epochs = n;
    }
    if let Some(n) = args.ulmfit_max_length {
        config.ulmfit.max_length = n;
    }
    if let Some(p) = args.ulmfit_lstm_dropout {
        config.ulmfit.classifier_lstm_dropout = p;
    }
    if let Some(p) = args.ulmfit_head_dropout {
        config.ulmfit.classifier_head_dropout = p;
    }
    config.centre_scores = args.centre_scores;
    let cells = run(&config, &args.out, !args.quiet)?;
    println!(
        "{}",
        serde_json::json!({ "out": args.out, "cells": cells.len(), "results": args.out.join("results.md") })
    );
    Ok(())
}
