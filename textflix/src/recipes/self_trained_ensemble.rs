//! `ulmfit-nbsvm-st` and `bert-nbsvm-st`: a network and NB-SVM, both trained on the sample,
//! label a seeded pool of unlabelled reviews with their added scores; a fresh network and a
//! fresh NB-SVM train on the sample and the ensemble's `per_class` surest guesses of each class,
//! and their scores are added as the teacher's were. The two differ in kind (a network on word
//! order, a linear model on bigrams), so each learns from guesses the other was sure of.

use transfer_nlp::pipeline::classifiers::NbSvm;
use transfer_nlp::pipeline::classifiers::ensemble::combine_scores;
use transfer_nlp::pipeline::training::self_training::most_confident_by_score;
use transfer_nlp::{Example, TrainConfig, TransferError};

use super::{CellScore, Recipe};
use crate::context::{Context, guesses, nbsvm};
use crate::ensemble::{EnsembleCell, ensemble_accuracy, scale_and_test_scores};
use crate::networks::{Network, NetworkPipeline, log_odds};
use crate::self_training::{SelfTraining, self_train};

/// A network and NB-SVM self-trained together.
pub struct SelfTrainedEnsemble<N> {
    name: &'static str,
    network: N,
}

impl<N> SelfTrainedEnsemble<N> {
    pub const fn new(name: &'static str, network: N) -> Self {
        Self { name, network }
    }
}

impl<N: Network> Recipe for SelfTrainedEnsemble<N> {
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
        let learner = Ensemble {
            ctx,
            recipe: self,
            pool: ctx.unlabelled_pool(s.unlabelled, seed),
            n: sample.len(),
            seed,
        };
        let ((network, linear), train_seconds) = self_train(&learner, sample, s.rounds)?;
        let scores = scale_and_test_scores(ctx, &network, seed)?;
        drop(network);
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

/// The ensemble as a self-training learner.
struct Ensemble<'c, 'a, N> {
    ctx: &'c Context<'a>,
    recipe: &'c SelfTrainedEnsemble<N>,
    pool: Vec<&'a str>,
    /// Labelled reviews in the sample.
    n: usize,
    seed: u64,
}

impl<N: Network> Ensemble<'_, '_, N> {
    fn train(
        &self,
        examples: &[Example],
        config: TrainConfig,
    ) -> Result<(NetworkPipeline<N>, NbSvm), TransferError> {
        let mut network = self.recipe.network.pipeline(self.ctx)?;
        network.train(examples, &config)?;
        Ok((network, nbsvm(examples, self.seed, false)?))
    }
}

impl<N: Network> SelfTraining for Ensemble<'_, '_, N> {
    type Model = (NetworkPipeline<N>, NbSvm);

    fn teacher(&self, sample: &[Example]) -> Result<Self::Model, TransferError> {
        let network = &self.recipe.network;
        self.train(
            sample,
            network.teacher_training(self.ctx, sample.len(), self.seed),
        )
    }

    fn guesses(
        &self,
        (network, linear): &Self::Model,
        round: usize,
    ) -> Result<Vec<Example>, TransferError> {
        let scores = [log_odds(network, &self.pool)?, linear.decisions(&self.pool)];
        let combined = combine_scores(&scores, &scores, self.ctx.config.centre_scores);
        let called_positive = combined.iter().filter(|&&c| c > 0.0).count();
        let per_class = self.ctx.config.self_training.per_class;
        let picked = guesses(&self.pool, most_confident_by_score(&combined, per_class));
        eprintln!(
            "{} n = {} seed {} round {round}: {} of {} unlabelled reviews pseudo-labelled \
             ({called_positive} called positive)",
            self.recipe.name,
            self.n,
            self.seed,
            picked.len(),
            self.pool.len()
        );
        Ok(picked)
    }

    fn student(&self, examples: &[Example]) -> Result<Self::Model, TransferError> {
        let network = &self.recipe.network;
        self.train(
            examples,
            network.student_training(self.ctx, examples.len(), self.seed),
        )
    }
}
