//! `ulmfit`: a classifier on the run's LSTM language model (concat pooling, discriminative
//! rates, slanted triangular schedule, gradual unfreezing). Each cell's scores are kept in
//! `out/scores/`, where `ulmfit-nbsvm` finds them.

use serde::{Deserialize, Serialize};
use transfer_nlp::pipeline::write_atomic;
use transfer_nlp::{Example, TransferError};

use super::{CellScore, Recipe};
use crate::config::UlmfitSettings;
use crate::context::Context;
use crate::ensemble::{positive_scores, scale_and_test_scores};

/// ULMFiT's classifier, trained on the sample.
pub struct UlmfitClassifier;

impl Recipe for UlmfitClassifier {
    fn name(&self) -> &'static str {
        "ulmfit"
    }

    fn uses_language_model(&self) -> bool {
        true
    }

    fn run_cell(
        &self,
        ctx: &Context,
        sample: &[Example],
        seed: u64,
    ) -> Result<CellScore, TransferError> {
        let scores = ulmfit_scores(ctx, sample, seed)?;
        Ok(CellScore {
            accuracy: ctx.accuracy(&positive_scores(&scores.test)),
            train_seconds: scores.train_seconds,
        })
    }
}

/// A ULMFiT classifier's log-odds of the positive class on the test set and on
/// [`ENSEMBLE_SCALE_REVIEWS`] unlabelled reviews, kept per cell.
#[derive(Debug, Serialize, Deserialize)]
pub struct UlmfitScores {
    settings: UlmfitSettings,
    pub train_seconds: f64,
    pub test: Vec<f64>,
    pub unlabelled: Vec<f64>,
}

/// The scores of the ULMFiT classifier trained on `sample` with `seed`: read from
/// `out/scores/` when that cell's classifier was already trained with the same settings
/// on the same test set, else trained and saved there.
pub fn ulmfit_scores(
    ctx: &Context,
    sample: &[Example],
    seed: u64,
) -> Result<UlmfitScores, TransferError> {
    let dir = ctx.out.join("scores");
    let path = dir.join(format!("ulmfit-n{}-seed{seed}.json", sample.len()));
    if let Ok(bytes) = std::fs::read(&path) {
        let saved: UlmfitScores =
            serde_json::from_slice(&bytes).map_err(|e| TransferError::format(&path, e))?;
        if saved.settings == ctx.config.ulmfit && saved.test.len() == ctx.test.len() {
            return Ok(saved);
        }
    }
    let mut pipeline = ctx.ulmfit_pipeline()?;
    let report = pipeline.train(sample, &ctx.ulmfit_training(sample.len(), seed))?;
    let [test, unlabelled] = scale_and_test_scores(ctx, &pipeline, seed)?;
    let scores = UlmfitScores {
        settings: ctx.config.ulmfit.clone(),
        train_seconds: report.seconds,
        test,
        unlabelled,
    };
    std::fs::create_dir_all(&dir).map_err(|e| TransferError::io(&dir, e))?;
    write_atomic(&path, &serde_json::to_vec(&scores).expect("scores"))?;
    Ok(scores)
}
