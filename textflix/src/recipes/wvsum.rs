//! `wvsum`: GloVe vectors summed over the text, then logistic regression.

use std::time::Instant;

use transfer_nlp::pipeline::classifiers::WordVectorSum;
use transfer_nlp::{Example, TransferError};

use super::{CellScore, Recipe};
use crate::context::{Context, positive, texts};

/// Word-vector sums with logistic regression (C = 1).
pub struct Wvsum;

impl Recipe for Wvsum {
    fn name(&self) -> &'static str {
        "wvsum"
    }

    fn is_transfer(&self) -> bool {
        false
    }

    fn run_cell(
        &self,
        ctx: &Context,
        sample: &[Example],
        _seed: u64,
    ) -> Result<CellScore, TransferError> {
        let (vectors, test_features) = ctx.vectors()?;
        let started = Instant::now();
        let features = WordVectorSum::features(vectors, &texts(sample));
        let fitted = WordVectorSum::fit(&features, &positive(sample), 1.0)?;
        let train_seconds = started.elapsed().as_secs_f64();
        Ok(CellScore {
            accuracy: ctx.accuracy(&fitted.predict(test_features)),
            train_seconds,
        })
    }
}
