//! The Textflix study: IMDB learning curves (accuracy against the number of labelled
//! reviews) for BERT, ULMFiT, NB-SVM and word-vector sums, with one command. Eight variants
//! use the 50,000 unlabelled reviews once more: `bert-mlm` (masked-LM domain adaptation
//! first), `bert-st` and `ulmfit-st` (self-training on the classifier's confident guesses),
//! `ulmfit-nbsvm` and `bert-nbsvm` (the network's and NB-SVM's scores added, weighed on
//! them), `ulmfit-nbsvm-st` and `bert-nbsvm-st` (those ensembles self-trained) and
//! `bert-nbsvm-cotrain` (only NB-SVM retrained on the ensemble's guesses: CPU-sized).
//!
//! [`run`] trains and scores every (model, n, seed) cell, resumes an interrupted run without
//! redoing finished cells, and writes `results.json`, `results.csv`, `results.md` and the
//! learning curves (`learning_curves.svg`, `.png`) into the output directory.
//!
//! A run is a [`StudyConfig`]: [`StudyConfig::full`] or [`StudyConfig::quick`], with a TOML or
//! JSON file's fields laid over it ([`StudyConfig::load`]). Each model family is a
//! [`Recipe`] in a file of its own under `recipes/`, named in one registry ([`Model`]); the
//! self-trained ones share one loop ([`self_training`]), the models trained once per run are
//! cached by `caches.rs`.
//!
//! ```no_run
//! use std::path::Path;
//! use transfer_textflix::{StudyConfig, run};
//!
//! let assets = transfer_nlp::pipeline::io::assets::asset_dir()?;
//! let mut config = StudyConfig::quick(&assets);
//! config.models = vec!["nbsvm".parse()?, "bert".parse()?];
//! let cells = run(&config, Path::new("runs/textflix-quick"), true)?;
//! println!("{} cells", cells.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod caches;
mod config;
mod config_file;
mod context;
mod ensemble;
mod merge;
mod networks;
mod plot;
pub mod recipes;
mod reference;
mod report;
mod results;
mod run;
mod samples;
pub mod self_training;

pub use config::{
    BertSettings, BilstmSettings, MlmSettings, SelfTrainingSettings, StudyConfig, UlmfitSettings,
};
pub use config_file::ConfigError;
pub use context::{Context, StudyData};
pub use merge::{MergeSource, MergeSpec, MergedCell, merge};
pub use networks::{Bert, Network, Ulmfit};
pub use plot::Series;
pub use recipes::{CellScore, Model, Recipe, UnknownModel};
pub use reference::{
    ReferenceCurve, RunScoring, Scoring, reference_curves, reference_series, references_for,
};
pub use report::report;
pub use results::{Cell, Summary, accuracy_table, summarise};
pub use run::run;
pub use samples::Selection;
