//! `ulmfit-nbsvm` and `bert-nbsvm`: a network and NB-SVM trained on the same sample, their
//! scores added after scaling each by its spread over unlabelled reviews (the ensemble of a
//! language model and NB-SVM of Mesnil et al. 2015). `ulmfit-nbsvm` reuses the `ulmfit` cell's
//! classifier when there is one.

use std::time::Instant;

use transfer_nlp::{Example, TransferError};

use super::{CellScore, Recipe};
use crate::context::{Context, nbsvm};
use crate::ensemble::{EnsembleCell, ensemble_accuracy};
use crate::networks::Network;

/// A network and NB-SVM, added.
pub struct NbsvmEnsemble<N> {
    name: &'static str,
    network: N,
}

impl<N> NbsvmEnsemble<N> {
    pub const fn new(name: &'static str, network: N) -> Self {
        Self { name, network }
    }
}

impl<N: Network> Recipe for NbsvmEnsemble<N> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn uses_language_model(&self) -> bool {
        self.network.uses_language_model()
    }

    fn uses_unlabelled(&self) -> bool {
        true
    }

    fn run_cell(
        &self,
        ctx: &Context,
        sample: &[Example],
        seed: u64,
    ) -> Result<CellScore, TransferError> {
        let (scores, network_seconds) = self.network.sample_scores(ctx, sample, seed)?;
        let started = Instant::now();
        let linear = nbsvm(sample, seed, false)?;
        let train_seconds = network_seconds + started.elapsed().as_secs_f64();
        let cell = EnsembleCell {
            recipe: self.name,
            network: self.network.name(),
            n: sample.len(),
            seed,
        };
        Ok(CellScore {
            accuracy: ensemble_accuracy(ctx, cell, scores, &linear),
            train_seconds,
        })
    }
}
