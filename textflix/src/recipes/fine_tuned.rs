//! `bert` and `bert-mlm`: MiniLM (pretrained, or domain-adapted by masked-LM training on the
//! unlabelled reviews) fine-tuned on the sample.

use transfer_nlp::{Example, TransferError};

use super::{CellScore, Recipe};
use crate::context::Context;

/// MiniLM fine-tuned as the reference does; from the adapted MiniLM when `adapted`.
pub struct FineTuned {
    name: &'static str,
    adapted: bool,
}

impl FineTuned {
    pub const fn new(name: &'static str, adapted: bool) -> Self {
        Self { name, adapted }
    }
}

impl Recipe for FineTuned {
    fn name(&self) -> &'static str {
        self.name
    }

    fn uses_unlabelled(&self) -> bool {
        self.adapted
    }

    fn run_cell(
        &self,
        ctx: &Context,
        sample: &[Example],
        seed: u64,
    ) -> Result<CellScore, TransferError> {
        let (bert, train_seconds) = ctx.trained_bert(sample, seed, self.adapted)?;
        let metrics = bert.evaluate(ctx.test)?;
        Ok(CellScore {
            accuracy: metrics.accuracy.unwrap_or(0.0),
            train_seconds,
        })
    }
}
