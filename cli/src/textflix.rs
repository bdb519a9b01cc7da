//! `transfer textflix`: the study's learning curves, resumable. The settings are
//! `StudyConfig`'s, from `--config` (TOML or JSON) and `--set`, with a few overrides.

use std::path::{Path, PathBuf};

use transfer_nlp::pipeline::io::assets::asset_dir;
use transfer_textflix::{MergeSpec, Model, StudyConfig, merge, report, run};

use crate::CliResult;

/// Textflix configs name only what they change from the full study (or the quick one); see
/// textflix/configs/ and `StudyConfig`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct TextflixArgs {
    #[command(subcommand)]
    action: Option<Action>,
    /// Where results.json, .csv, .md and the plots go; rerun to resume.
    #[arg(long, required = true)]
    out: Option<PathBuf>,
    /// A TOML or JSON file of StudyConfig's fields (e.g. textflix/configs/*.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// One StudyConfig field, e.g. bert.head_tail=true (repeatable; after --config).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    sets: Vec<String>,
    /// Start from the quick study (about 8 minutes on 2 cores).
    #[arg(long)]
    quick: bool,
    /// cpu, tch, cuda or cuda:N (for BERT and ULMFiT; the baselines run on the CPU).
    #[arg(long)]
    device: Option<String>,
    /// Models, comma-separated (nbsvm, wvsum, bert, bert-st, ulmfit, …).
    #[arg(long, value_delimiter = ',')]
    models: Option<Vec<Model>>,
    /// Training sizes of every model (and of the transfer models unless given).
    #[arg(long, value_delimiter = ',')]
    sizes: Option<Vec<usize>>,
    /// Seeds per size (and of the transfer models unless given).
    #[arg(long)]
    seeds: Option<u64>,
    /// Training sizes of the transfer models (all but nbsvm and wvsum).
    #[arg(long, value_delimiter = ',')]
    transfer_sizes: Option<Vec<usize>>,
    /// Seeds per size of the transfer models.
    #[arg(long)]
    transfer_seeds: Option<u64>,
    /// Score on a balanced subset of the test set of this size.
    #[arg(long)]
    test_size: Option<usize>,
    /// Score on N balanced training reviews held out of every sample (use its own --out).
    #[arg(long, value_name = "N")]
    held_out: Option<usize>,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

/// What to do with finished runs instead of running one.
#[derive(clap::Subcommand)]
enum Action {
    /// Rewrite the tables and the figure of finished runs from their results.json and run.json.
    Report {
        /// Run directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
    /// One table from several runs, each row keeping its provenance (e.g.
    /// textflix/merges/full.toml).
    Merge {
        /// The merge spec (TOML): title, then [[source]] dir (relative to the working
        /// directory), models, sizes, label, commit, machine, note.
        #[arg(long)]
        spec: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn textflix(args: TextflixArgs) -> CliResult {
    let reference = asset_dir()?.join("reference");
    match &args.action {
        Some(Action::Report { dirs }) => {
            for dir in dirs {
                report(dir, &reference)?;
                println!(
                    "{}",
                    serde_json::json!({ "report": dir.join("results.md") })
                );
            }
        }
        Some(Action::Merge { spec, out }) => {
            let cells = merge(&MergeSpec::read(spec)?, Path::new("."), out, &reference)?;
            println!(
                "{}",
                serde_json::json!({ "out": out, "cells": cells.len(), "results": out.join("results.md") })
            );
        }
        None => {
            let out = args.out.as_deref().expect("clap requires --out");
            let config = study_config(&args)?;
            let cells = run(&config, out, !args.quiet)?;
            println!(
                "{}",
                serde_json::json!({ "out": out, "cells": cells.len(), "results": out.join("results.md") })
            );
        }
    }
    Ok(())
}

/// The config file and settings, then the overrides.
fn study_config(args: &TextflixArgs) -> CliResult<StudyConfig> {
    let mut config = StudyConfig::load(
        &asset_dir()?,
        args.quick,
        args.config.as_deref(),
        &args.sets,
    )?;
    if let Some(device) = &args.device {
        config.device = device.clone();
    }
    if let Some(models) = &args.models {
        config.models = models.clone();
    }
    if let Some(sizes) = &args.sizes {
        config.sizes = sizes.clone();
        config.transfer_sizes = sizes.clone();
    }
    if let Some(seeds) = args.seeds {
        config.seeds = seeds;
        config.transfer_seeds = seeds;
    }
    if let Some(sizes) = &args.transfer_sizes {
        config.transfer_sizes = sizes.clone();
    }
    if let Some(seeds) = args.transfer_seeds {
        config.transfer_seeds = seeds;
    }
    if args.test_size.is_some() {
        config.test_size = args.test_size;
    }
    if args.held_out.is_some() {
        config.held_out = args.held_out;
    }
    Ok(config)
}
