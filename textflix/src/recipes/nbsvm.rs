//! `nbsvm` and `nbsvm-midpoint`: NB-SVM (Wang & Manning 2012) on binarised uni- and bigrams.

use std::time::Instant;

use transfer_nlp::{Example, TransferError};

use super::{CellScore, Recipe};
use crate::context::{Context, nbsvm, texts};

/// NB-SVM fitted on the sample; `midpoint` refits its intercept after the interpolation.
pub struct Nbsvm {
    name: &'static str,
    midpoint: bool,
}

impl Nbsvm {
    pub const fn new(name: &'static str, midpoint: bool) -> Self {
        Self { name, midpoint }
    }
}

impl Recipe for Nbsvm {
    fn name(&self) -> &'static str {
        self.name
    }

    fn is_transfer(&self) -> bool {
        false
    }

    fn run_cell(
        &self,
        ctx: &Context,
        sample: &[Example],
        seed: u64,
    ) -> Result<CellScore, TransferError> {
        let started = Instant::now();
        let fitted = nbsvm(sample, seed, self.midpoint)?;
        let train_seconds = started.elapsed().as_secs_f64();
        Ok(CellScore {
            accuracy: ctx.accuracy(&fitted.predict(&texts(ctx.test))),
            train_seconds,
        })
    }
}
