//! The one self-training loop of the study: a teacher trained on the labelled sample labels
//! unlabelled reviews, a fresh student trains on the sample and the teacher's surest guesses,
//! and each round's student is the next round's teacher. What a model is, how it guesses and
//! how a student trains are the [`SelfTraining`] learner's; `bert-st`, `ulmfit-st`, the
//! self-trained ensembles and `bert-nbsvm-cotrain` are learners.

use std::time::Instant;

use transfer_nlp::{Example, TransferError};

/// One self-trained family: its models, its guesses and its students.
pub trait SelfTraining {
    type Model;

    /// The first teacher, trained on the labelled `sample`.
    fn teacher(&self, sample: &[Example]) -> Result<Self::Model, TransferError>;
    /// The unlabelled reviews `model` labels in `round` (from 1), with their labels.
    fn guesses(&self, model: &Self::Model, round: usize) -> Result<Vec<Example>, TransferError>;
    /// A fresh model trained on the sample and the guesses.
    fn student(&self, examples: &[Example]) -> Result<Self::Model, TransferError>;
    /// After `round`'s student trained on `guesses` guesses (logs; not counted as training).
    fn after_round(
        &self,
        _student: &Self::Model,
        _round: usize,
        _guesses: usize,
    ) -> Result<(), TransferError> {
        Ok(())
    }
}

/// `rounds` rounds of self-training from `sample`: the last student and the seconds spent
/// training and labelling (the teacher included, [`SelfTraining::after_round`] not). A
/// teacher is dropped before its student trains, so only one lives at a time.
///
/// ```
/// use transfer_nlp::{Example, TransferError};
/// use transfer_textflix::self_training::{SelfTraining, self_train};
///
/// /// A "model" that is the texts it trained on; it guesses that "more" is positive.
/// struct Memory;
///
/// impl SelfTraining for Memory {
///     type Model = Vec<String>;
///
///     fn teacher(&self, sample: &[Example]) -> Result<Vec<String>, TransferError> {
///         self.student(sample)
///     }
///
///     fn guesses(&self, _: &Vec<String>, _round: usize) -> Result<Vec<Example>, TransferError> {
///         Ok(vec![Example::class("more", 1)])
///     }
///
///     fn student(&self, examples: &[Example]) -> Result<Vec<String>, TransferError> {
///         Ok(examples.iter().map(|e| e.text.clone()).collect())
///     }
/// }
///
/// let (student, _seconds) = self_train(&Memory, &[Example::class("labelled", 0)], 2)?;
/// assert_eq!(student, ["labelled", "more"]);
/// # Ok::<(), TransferError>(())
/// ```
pub fn self_train<L: SelfTraining>(
    learner: &L,
    sample: &[Example],
    rounds: usize,
) -> Result<(L::Model, f64), TransferError> {
    let started = Instant::now();
    let mut model = learner.teacher(sample)?;
    let mut seconds = started.elapsed().as_secs_f64();
    for round in 1..=rounds {
        let started = Instant::now();
        let guesses = learner.guesses(&model, round)?;
        drop(model);
        let mut examples = sample.to_vec();
        examples.extend(guesses);
        model = learner.student(&examples)?;
        seconds += started.elapsed().as_secs_f64();
        learner.after_round(&model, round, examples.len() - sample.len())?;
    }
    Ok((model, seconds))
}

#[cfg(test)]
mod tests {
    use transfer_nlp::{Example, TransferError};

    use super::{SelfTraining, self_train};

    /// A model that is the number of examples it trained on; it guesses one review a round.
    struct Counting;

    impl SelfTraining for Counting {
        type Model = usize;

        fn teacher(&self, sample: &[Example]) -> Result<usize, TransferError> {
            Ok(sample.len())
        }

        fn guesses(&self, model: &usize, round: usize) -> Result<Vec<Example>, TransferError> {
            Ok(vec![
                Example::class(format!("{model} in round {round}"), 1);
                round
            ])
        }

        fn student(&self, examples: &[Example]) -> Result<usize, TransferError> {
            Ok(examples.len())
        }
    }

    #[test]
    fn each_student_trains_on_the_sample_and_only_its_own_rounds_guesses() {
        let sample = vec![Example::class("labelled", 0); 3];
        assert_eq!(self_train(&Counting, &sample, 0).unwrap().0, 3);
        assert_eq!(self_train(&Counting, &sample, 1).unwrap().0, 4);
        // Round 2 adds 2 guesses to the 3 labelled reviews, not to round 1's 4 examples.
        assert_eq!(self_train(&Counting, &sample, 2).unwrap().0, 5);
    }
}
