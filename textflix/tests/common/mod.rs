//! Shared by the study's integration tests: the real assets and toy-sized settings.
#![allow(dead_code)]

use std::path::PathBuf;

use transfer_textflix::{Model, StudyConfig};

/// `$TRANSFER_ASSETS`, which cargo sets to `../shared` (see .cargo/config.toml).
pub fn assets() -> PathBuf {
    transfer_nlp::pipeline::io::assets::asset_dir()
        .expect("TRANSFER_ASSETS must point at the assets")
}

/// The registered recipe `name`.
pub fn model(name: &str) -> Model {
    name.parse().unwrap()
}

/// ULMFiT's toy-sized settings: a language model of 30,000 tokens, a classifier of 40 reviews.
pub fn toy_ulmfit_config() -> StudyConfig {
    let mut config = StudyConfig::quick(&assets());
    config.models = vec![model("ulmfit")];
    config.transfer_sizes = vec![40];
    config.transfer_seeds = 1;
    config.test_size = Some(100);
    config.ulmfit.vocab_size = 3000;
    config.ulmfit.dim = 32;
    config.ulmfit.num_layers = 1;
    config.ulmfit.lm_tokens = Some(30_000);
    config.ulmfit.max_length = 64;
    config.ulmfit.min_epochs = 1;
    config.ulmfit.min_steps = 4;
    config
}
