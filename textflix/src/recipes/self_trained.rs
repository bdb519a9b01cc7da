//! `bert-st` and `ulmfit-st`: a network trained on the sample labels a seeded pool of
//! unlabelled reviews, and a fresh one trains on the sample and its most confident guesses
//! ([`pseudo_label`]), for `self_training.rounds` rounds.

use transfer_nlp::pipeline::training::self_training::{PseudoLabelConfig, pseudo_label};
use transfer_nlp::{Example, TransferError};

use super::{CellScore, Recipe};
use crate::context::Context;
use crate::networks::{Network, NetworkPipeline};
use crate::self_training::{SelfTraining, self_train};

/// A network self-trained on its own guesses.
pub struct SelfTrained<N> {
    name: &'static str,
    network: N,
}

impl<N> SelfTrained<N> {
    pub const fn new(name: &'static str, network: N) -> Self {
        Self { name, network }
    }
}

impl<N: Network> Recipe for SelfTrained<N> {
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
        let s = &ctx.config.self_training;
        let learner = PseudoLabelled {
            ctx,
            network: &self.network,
            pool: ctx.unlabelled_pool(s.unlabelled, seed),
            labelling: PseudoLabelConfig {
                per_class: s.per_class,
                min_probability: s.min_probability,
                balanced: true,
            },
            seed,
        };
        let (student, train_seconds) = self_train(&learner, sample, s.rounds)?;
        let metrics = student.evaluate(ctx.test)?;
        Ok(CellScore {
            accuracy: metrics.accuracy.unwrap_or(0.0),
            train_seconds,
        })
    }
}

/// One network, its teacher and students trained with the network's own settings.
struct PseudoLabelled<'c, 'a, N> {
    ctx: &'c Context<'a>,
    network: &'c N,
    pool: Vec<&'a str>,
    labelling: PseudoLabelConfig,
    seed: u64,
}

impl<N: Network> SelfTraining for PseudoLabelled<'_, '_, N> {
    type Model = NetworkPipeline<N>;

    fn teacher(&self, sample: &[Example]) -> Result<Self::Model, TransferError> {
        let mut model = self.network.pipeline(self.ctx)?;
        let config = self
            .network
            .teacher_training(self.ctx, sample.len(), self.seed);
        model.train(sample, &config)?;
        Ok(model)
    }

    fn guesses(&self, model: &Self::Model, _round: usize) -> Result<Vec<Example>, TransferError> {
        pseudo_label(model, &self.pool, &self.labelling)
    }

    fn student(&self, examples: &[Example]) -> Result<Self::Model, TransferError> {
        let mut model = self.network.pipeline(self.ctx)?;
        let config = self
            .network
            .student_training(self.ctx, examples.len(), self.seed);
        model.train(examples, &config)?;
        Ok(model)
    }
}
