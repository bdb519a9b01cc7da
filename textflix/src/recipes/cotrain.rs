//! `bert-nbsvm-cotrain`: `bert-nbsvm` co-trained where only NB-SVM learns again. MiniLM
//! fine-tuned on the sample (or `teachers` fine-tunings, their log-odds added) scores a seeded
//! pool of unlabelled reviews once and stays as it is; each round, its scores and NB-SVM's,
//! added, pick the `per_class` surest guesses of each class, and a fresh NB-SVM trains on the
//! sample and those. One fine-tuning and one pass over the pool a cell, so it fits a CPU.
//!
//! Scored with MiniLM and the last NB-SVM added; with that NB-SVM alone, centred on the pool
//! (`student_alone`); or with a fresh MiniLM trained on that NB-SVM's surest guesses and the
//! NB-SVM added (`minilm_student_per_class`). The teachers start from the adapted MiniLM with
//! `adapted_teacher`.

use std::time::Instant;

use transfer_nlp::pipeline::classifiers::NbSvm;
use transfer_nlp::pipeline::classifiers::ensemble::combine_scores;
use transfer_nlp::pipeline::training::self_training::most_confident_by_score;
use transfer_nlp::{Example, TransferError};

use super::{CellScore, Recipe};
use crate::context::{Context, guesses, nbsvm, texts};
use crate::ensemble::{
    ENSEMBLE_SCALE_REVIEWS, EnsembleCell, add_into, centred_accuracy, ensemble_accuracy,
    positive_scores, scale_and_test_scores,
};
use crate::networks::{BertPipeline, log_odds};
use crate::self_training::{SelfTraining, self_train};

/// MiniLM teaches, NB-SVM learns.
pub struct CoTrained;

const NAME: &str = "bert-nbsvm-cotrain";

impl Recipe for CoTrained {
    fn name(&self) -> &'static str {
        NAME
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
        // The scale reviews are the pool's first ENSEMBLE_SCALE_REVIEWS (one shuffle).
        let scored = ctx.unlabelled_pool(s.unlabelled.max(ENSEMBLE_SCALE_REVIEWS), seed);
        let teacher = teach(ctx, sample, seed, &scored)?;
        let (pooled, scaled) = (
            s.unlabelled.min(scored.len()),
            ENSEMBLE_SCALE_REVIEWS.min(scored.len()),
        );
        let learner = CoTraining {
            ctx,
            pool: &scored[..pooled],
            network_pool: &teacher.pool_scores[..pooled],
            scale: &scored[..scaled],
            network_scale: &teacher.pool_scores[..scaled],
            network_test: teacher.test_scores.as_deref(),
            n: sample.len(),
            seed,
        };
        let (linear, rounds_seconds) = self_train(&learner, sample, s.rounds)?;
        let mut train_seconds = teacher.seconds + rounds_seconds;
        let cell = EnsembleCell {
            recipe: NAME,
            network: "bert",
            n: sample.len(),
            seed,
        };
        let network_scale = learner.network_scale.to_vec();
        let accuracy = if s.minilm_student_per_class > 0 {
            let started = Instant::now();
            let student = minilm_student(ctx, sample, seed, learner.pool, &linear)?;
            train_seconds += started.elapsed().as_secs_f64();
            let scores = scale_and_test_scores(ctx, &student, seed)?;
            drop(student);
            ensemble_accuracy(ctx, cell, scores, &linear)
        } else {
            match teacher.test_scores {
                None => learner.alone(&linear),
                Some(test) => ensemble_accuracy(ctx, cell, [test, network_scale], &linear),
            }
        };
        Ok(CellScore {
            accuracy,
            train_seconds,
        })
    }
}

/// The MiniLM teachers' added log-odds.
struct Teacher {
    /// On the scored pool.
    pool_scores: Vec<f64>,
    /// On the test set, when the teacher is scored there.
    test_scores: Option<Vec<f64>>,
    /// Fine-tuning and scoring the pool.
    seconds: f64,
}

/// Fine-tunes the `teachers` MiniLMs on `sample` and adds their log-odds on `scored` (and on
/// the test set unless the cell is scored without the teacher).
fn teach(
    ctx: &Context,
    sample: &[Example],
    seed: u64,
    scored: &[&str],
) -> Result<Teacher, TransferError> {
    let s = &ctx.config.self_training;
    let test = texts(ctx.test);
    let reads_test = !s.student_alone && s.minilm_student_per_class == 0;
    let mut teacher = Teacher {
        pool_scores: vec![0.0; scored.len()],
        test_scores: reads_test.then(|| vec![0.0; test.len()]),
        seconds: 0.0,
    };
    for index in 0..s.teachers {
        // Teacher 0 trains with the cell's seed, as `bert` does.
        let teacher_seed = seed + ((index as u64) << 32);
        let (bert, trained) = ctx.trained_bert(sample, teacher_seed, s.adapted_teacher)?;
        let started = Instant::now();
        add_into(&mut teacher.pool_scores, &log_odds(&bert, scored)?);
        teacher.seconds += trained + started.elapsed().as_secs_f64();
        if let Some(test_scores) = teacher.test_scores.as_mut() {
            add_into(test_scores, &log_odds(&bert, &test)?);
        }
    }
    Ok(teacher)
}

/// A fresh MiniLM (the `bert` recipe for `student_epochs` epochs) fine-tuned on the sample and
/// the last NB-SVM's `minilm_student_per_class` surest guesses per class (its decisions centred
/// on the pool).
fn minilm_student(
    ctx: &Context,
    sample: &[Example],
    seed: u64,
    pool: &[&str],
    linear: &NbSvm,
) -> Result<BertPipeline, TransferError> {
    let s = &ctx.config.self_training;
    let decisions = [linear.decisions(pool)];
    let centred = combine_scores(&decisions, &decisions, true);
    let mut examples = sample.to_vec();
    examples.extend(guesses(
        pool,
        most_confident_by_score(&centred, s.minilm_student_per_class),
    ));
    let mut student = ctx.bert_pipeline(false)?;
    let config = ctx.bert_training(examples.len(), s.student_epochs, seed);
    student.train(&examples, &config)?;
    eprintln!(
        "{NAME} n = {} seed {seed}: MiniLM student on {} of the last NB-SVM's guesses",
        sample.len(),
        examples.len() - sample.len(),
    );
    Ok(student)
}

/// NB-SVM as the learner, the teachers' scores fixed.
struct CoTraining<'c> {
    ctx: &'c Context<'c>,
    pool: &'c [&'c str],
    network_pool: &'c [f64],
    scale: &'c [&'c str],
    network_scale: &'c [f64],
    network_test: Option<&'c [f64]>,
    n: usize,
    seed: u64,
}

impl CoTraining<'_> {
    /// The test accuracy of `linear` alone, its threshold at its median over the scale reviews.
    fn alone(&self, linear: &NbSvm) -> f64 {
        let test = linear.decisions(&texts(self.ctx.test));
        centred_accuracy(&test, &linear.decisions(self.scale), self.ctx.test)
    }
}

impl SelfTraining for CoTraining<'_> {
    type Model = NbSvm;

    fn teacher(&self, sample: &[Example]) -> Result<NbSvm, TransferError> {
        nbsvm(sample, self.seed, false)
    }

    fn guesses(&self, linear: &NbSvm, _round: usize) -> Result<Vec<Example>, TransferError> {
        let scores = [self.network_pool.to_vec(), linear.decisions(self.pool)];
        let combined = combine_scores(&scores, &scores, self.ctx.config.centre_scores);
        let per_class = self.ctx.config.self_training.per_class;
        Ok(guesses(
            self.pool,
            most_confident_by_score(&combined, per_class),
        ))
    }

    fn student(&self, examples: &[Example]) -> Result<NbSvm, TransferError> {
        nbsvm(examples, self.seed, false)
    }

    /// Logs the student alone (centred) and, when the teacher reads the test set, together.
    fn after_round(
        &self,
        linear: &NbSvm,
        round: usize,
        guesses: usize,
    ) -> Result<(), TransferError> {
        let test = self.ctx.test;
        let (linear_test, linear_scale) =
            (linear.decisions(&texts(test)), linear.decisions(self.scale));
        let alone = centred_accuracy(&linear_test, &linear_scale, test);
        let together = self.network_test.map(|network_test| {
            let added = combine_scores(
                &[network_test.to_vec(), linear_test],
                &[self.network_scale.to_vec(), linear_scale],
                self.ctx.config.centres_ensemble(),
            );
            format!(
                ", together {:.4}",
                self.ctx.accuracy(&positive_scores(&added))
            )
        });
        eprintln!(
            "{NAME} n = {} seed {} round {round}: NB-SVM on {guesses} guesses, alone centred \
             {alone:.4}{}",
            self.n,
            self.seed,
            together.unwrap_or_default()
        );
        Ok(())
    }
}
