//! What every recipe of one run shares: the data, the settings, the device, the output
//! directory and the models trained once per run ([`crate::caches`]).

use std::path::PathBuf;
use std::sync::OnceLock;

use burn::prelude::Device;
use ndarray::Array2;
use transfer_nlp::embedder::WordVectors;
use transfer_nlp::pipeline::classifiers::{NbSvm, NbSvmConfig, WordVectorSum};
use transfer_nlp::pipeline::data::rng::SplitMix64;
use transfer_nlp::pipeline::pretraining::language_model::LstmLanguageModel;
use transfer_nlp::pipeline::pretraining::masked_lm::MaskedLanguageModel;
use transfer_nlp::tokenizer::WordLevelTokenizer;
use transfer_nlp::{Example, Target, TransferError};

use crate::config::StudyConfig;

/// The reviews of one run.
pub struct StudyData<'a> {
    /// The training reviews every sample is drawn from.
    pub train: &'a [Example],
    /// What cells are scored on: test reviews, or held-out training reviews.
    pub test: &'a [Example],
    /// The unlabelled reviews (language model, pseudo-label pools, ensemble weights).
    pub unlabelled: &'a [String],
}

/// Everything the recipes share within one run: the data and what is trained once.
pub struct Context<'a> {
    pub config: &'a StudyConfig,
    pub train: &'a [Example],
    pub test: &'a [Example],
    pub unlabelled: &'a [String],
    pub device: Device,
    /// The output directory, where the models trained once per run are cached.
    pub out: PathBuf,
    pub progress: bool,
    pub(crate) vectors: OnceLock<(WordVectors, Array2<f64>)>,
    pub(crate) language_model: OnceLock<(WordLevelTokenizer, LstmLanguageModel)>,
    pub(crate) adapted_bert: OnceLock<MaskedLanguageModel>,
}

impl<'a> Context<'a> {
    pub fn new(
        config: &'a StudyConfig,
        data: StudyData<'a>,
        device: Device,
        out: PathBuf,
        progress: bool,
    ) -> Self {
        Self {
            config,
            train: data.train,
            test: data.test,
            unlabelled: data.unlabelled,
            device,
            out,
            progress,
            vectors: OnceLock::new(),
            language_model: OnceLock::new(),
            adapted_bert: OnceLock::new(),
        }
    }

    /// `n` unlabelled reviews, a seeded sample.
    pub fn unlabelled_pool(&self, n: usize, seed: u64) -> Vec<&'a str> {
        let mut order: Vec<usize> = (0..self.unlabelled.len()).collect();
        SplitMix64::new(seed).shuffle(&mut order);
        order
            .into_iter()
            .take(n)
            .map(|i| self.unlabelled[i].as_str())
            .collect()
    }

    /// The word vectors and their sums over the test reviews, read once per run.
    pub fn vectors(&self) -> Result<&(WordVectors, Array2<f64>), TransferError> {
        if self.vectors.get().is_none() {
            let vectors = WordVectors::load(&self.config.vectors)?;
            let features = WordVectorSum::features(&vectors, &texts(self.test));
            let _ = self.vectors.set((vectors, features));
        }
        Ok(self.vectors.get().expect("set above"))
    }

    /// The share of `predicted` (positive or not) that matches the scored reviews.
    pub fn accuracy(&self, predicted: &[bool]) -> f64 {
        accuracy(predicted, self.test)
    }
}

pub fn texts(examples: &[Example]) -> Vec<&str> {
    examples.iter().map(|e| e.text.as_str()).collect()
}

/// Whether each example is labelled positive.
pub fn positive(examples: &[Example]) -> Vec<bool> {
    examples
        .iter()
        .map(|e| e.target == Target::Class(1))
        .collect()
}

pub fn accuracy(predicted: &[bool], examples: &[Example]) -> f64 {
    let actual = positive(examples);
    predicted
        .iter()
        .zip(&actual)
        .filter(|(p, a)| p == a)
        .count() as f64
        / actual.len().max(1) as f64
}

/// NB-SVM with the study's settings (the intercept refitted when `midpoint_intercept`),
/// fitted on `sample`.
pub fn nbsvm(
    sample: &[Example],
    seed: u64,
    midpoint_intercept: bool,
) -> Result<NbSvm, TransferError> {
    let config = NbSvmConfig {
        seed,
        midpoint_intercept,
        ..NbSvmConfig::default()
    };
    NbSvm::fit(&texts(sample), &positive(sample), &config)
}

/// The texts of `pool` labelled `class` by [`most_confident_by_score`]'s picks.
///
/// [`most_confident_by_score`]: transfer_nlp::pipeline::training::self_training::most_confident_by_score
pub fn guesses(pool: &[&str], picks: Vec<(usize, usize)>) -> Vec<Example> {
    picks
        .into_iter()
        .map(|(i, class)| Example::class(pool[i], class))
        .collect()
}
