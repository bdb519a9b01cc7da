//! The study's model families, each trained on n labelled reviews and scored on the test set.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use burn::prelude::*;
use clap::ValueEnum;
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use transfer_nlp::contextual::{BertEncoder, Lstm};
use transfer_nlp::embedder::{BertEmbeddings, LearnedEmbedding, TokenEmbedder, WordVectors};
use transfer_nlp::pipeline::classifiers::{NbSvm, NbSvmConfig, WordVectorSum};
use transfer_nlp::pipeline::io::hf::PretrainedBert;
use transfer_nlp::pipeline::pretraining::language_model::{
    LanguageModelConfig, LanguageModelReport, LanguageModelTraining, LstmLanguageModel,
    train_language_model,
};
use transfer_nlp::pipeline::pretraining::masked_lm::{
    MaskedLanguageModel, MaskedLmTraining, train_masked_lm,
};
use transfer_nlp::pipeline::training::self_training::{
    PseudoLabelConfig, most_confident_by_score, pseudo_label,
};
use transfer_nlp::pipeline::{
    Example, LrSchedule, Target, TrainConfig, TransferError, TransferPipeline, load_weights,
    save_weights, write_atomic,
};
use transfer_nlp::predictor::{PooledClassifier, PooledClassifierConfig, Pooling};
use transfer_nlp::tokenizer::{
    EncodePolicy, HfTokenizer, Tokenizer, Truncation, VocabularyConfig, WordLevelTokenizer,
};

use transfer_nlp::contextual::Precision;
use transfer_nlp::{ContextualEmbedder, Predictor};

/// A family of the study.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
#[value(rename_all = "kebab-case")]
pub enum Model {
    /// NB-SVM on binarised uni- and bigrams.
    Nbsvm,
    /// NB-SVM with its intercept refitted after the interpolation
    /// (`NbSvmConfig::midpoint_intercept`).
    NbsvmMidpoint,
    /// GloVe vectors summed over the text + logistic regression.
    Wvsum,
    /// MiniLM fine-tuned: mean pooling + linear head, AdamW, warm-up then linear decay.
    Bert,
    /// BERT self-trained: the fine-tuned MiniLM labels unlabelled reviews, and a fresh
    /// MiniLM is fine-tuned on the labelled reviews and its most confident guesses.
    #[serde(rename = "bert-st")]
    #[value(name = "bert-st")]
    BertSelfTraining,
    /// BERT domain-adapted: masked-LM training continued on the unlabelled reviews (once per
    /// run), then fine-tuned as `bert`.
    #[serde(rename = "bert-mlm")]
    #[value(name = "bert-mlm")]
    BertMlm,
    /// ULMFiT: an LSTM language model pretrained on the unlabelled and training reviews, then
    /// a classifier with concat pooling, discriminative rates, slanted triangular schedule
    /// and gradual unfreezing.
    Ulmfit,
    /// ULMFiT self-trained, as `bert-st`: the ULMFiT classifier labels unlabelled reviews, and
    /// a fresh one from the same language model trains on the sample and its confident guesses.
    #[serde(rename = "ulmfit-st")]
    #[value(name = "ulmfit-st")]
    UlmfitSelfTraining,
    /// ULMFiT and NB-SVM trained on the same sample, their scores added (ULMFiT's log-odds and
    /// NB-SVM's margin, each divided by its spread over unlabelled reviews, so weighing them
    /// needs no labels): the ensemble of a language model and NB-SVM of Mesnil et al. (2015).
    #[serde(rename = "ulmfit-nbsvm")]
    #[value(name = "ulmfit-nbsvm")]
    UlmfitNbsvm,
    /// `ulmfit-nbsvm` self-trained: the ensemble labels unlabelled reviews, and a fresh ULMFiT
    /// classifier and a fresh NB-SVM train on the sample and its most confident guesses, their
    /// scores then added as in `ulmfit-nbsvm`. The two models differ in kind (a recurrent
    /// network on word order, a linear model on bigrams), so each learns from guesses the other
    /// was sure of.
    #[serde(rename = "ulmfit-nbsvm-st")]
    #[value(name = "ulmfit-nbsvm-st")]
    UlmfitNbsvmSelfTraining,
    /// BERT and NB-SVM trained on the same sample, their scores added as in `ulmfit-nbsvm`.
    #[serde(rename = "bert-nbsvm")]
    #[value(name = "bert-nbsvm")]
    BertNbsvm,
    /// `bert-nbsvm` self-trained as `ulmfit-nbsvm-st`: the ensemble labels unlabelled reviews,
    /// and a fresh MiniLM and a fresh NB-SVM train on the sample and its surest guesses.
    #[serde(rename = "bert-nbsvm-st")]
    #[value(name = "bert-nbsvm-st")]
    BertNbsvmSelfTraining,
    /// `bert-nbsvm` co-trained where only NB-SVM learns again: the MiniLM fine-tuned on the
    /// sample scores the unlabelled pool once; each round, its scores and NB-SVM's, added,
    /// pick the surest guesses, and a fresh NB-SVM trains on the sample and those. One
    /// fine-tuning and one pass over the pool a cell, so it fits a CPU.
    #[serde(rename = "bert-nbsvm-cotrain")]
    #[value(name = "bert-nbsvm-cotrain")]
    BertNbsvmCoTraining,
}

impl Model {
    pub fn name(self) -> &'static str {
        match self {
            Model::Nbsvm => "nbsvm",
            Model::NbsvmMidpoint => "nbsvm-midpoint",
            Model::Wvsum => "wvsum",
            Model::Bert => "bert",
            Model::BertSelfTraining => "bert-st",
            Model::BertMlm => "bert-mlm",
            Model::Ulmfit => "ulmfit",
            Model::UlmfitSelfTraining => "ulmfit-st",
            Model::UlmfitNbsvm => "ulmfit-nbsvm",
            Model::UlmfitNbsvmSelfTraining => "ulmfit-nbsvm-st",
            Model::BertNbsvm => "bert-nbsvm",
            Model::BertNbsvmSelfTraining => "bert-nbsvm-st",
            Model::BertNbsvmCoTraining => "bert-nbsvm-cotrain",
        }
    }

    /// Trains on a Burn pipeline (BERT or ULMFiT), so runs at the transfer sizes.
    pub fn is_transfer(self) -> bool {
        !matches!(self, Model::Nbsvm | Model::NbsvmMidpoint | Model::Wvsum)
    }

    /// Uses ULMFiT's language model (trained once per output directory).
    pub fn uses_language_model(self) -> bool {
        matches!(
            self,
            Model::Ulmfit
                | Model::UlmfitSelfTraining
                | Model::UlmfitNbsvm
                | Model::UlmfitNbsvmSelfTraining
        )
    }

    /// Reads the 50,000 unlabelled reviews (a language model, a pseudo-label pool, or the
    /// reviews that weigh an ensemble's scores).
    pub fn uses_unlabelled(self) -> bool {
        self.uses_language_model()
            || matches!(
                self,
                Model::BertSelfTraining
                    | Model::BertMlm
                    | Model::BertNbsvm
                    | Model::BertNbsvmSelfTraining
                    | Model::BertNbsvmCoTraining
            )
    }
}

/// Settings of the BERT family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BertSettings {
    /// A model directory in Hugging Face layout.
    pub model_dir: PathBuf,
    pub max_length: usize,
    /// Keep the first 128 tokens and the rest from the end (Sun et al. 2019).
    pub head_tail: bool,
    pub learning_rate: f64,
    pub batch_size: usize,
    pub min_epochs: usize,
    pub min_steps: usize,
    /// Mixed precision of the encoder (bf16 on CUDA as the reference's autocast).
    #[serde(default)]
    pub precision: Precision,
}

/// Settings of self-training (`bert-st`, `ulmfit-st`, `ulmfit-nbsvm-st`; the family's own
/// settings apply to teacher and student).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfTrainingSettings {
    /// Unlabelled reviews the teacher labels (a seeded sample of the 50,000).
    pub unlabelled: usize,
    /// Most confident guesses kept per class.
    pub per_class: usize,
    /// The least probability of a kept guess (`ulmfit-nbsvm-st`'s summed scores have none: it
    /// keeps the `per_class` surest of each class).
    pub min_probability: f32,
    /// Epochs of the BERT student (and at least the BERT settings' `min_steps`); ULMFiT's
    /// student trains as its teacher.
    pub student_epochs: usize,
    /// Rounds: each round's student is the next round's teacher (a fresh pool is not drawn).
    #[serde(default = "SelfTrainingSettings::one")]
    pub rounds: usize,
    /// `bert-nbsvm-cotrain`: score the test set with the last NB-SVM student alone, its
    /// threshold at its median over unlabelled reviews, instead of MiniLM and the student
    /// added; MiniLM then never reads the test set.
    #[serde(default)]
    pub student_alone: bool,
    /// `bert-nbsvm-cotrain`: MiniLM fine-tunings on the sample (each with its own training
    /// seed) whose log-odds are added into one teacher.
    #[serde(default = "SelfTrainingSettings::one")]
    pub teachers: usize,
    /// `bert-nbsvm-cotrain`: when above 0, after the last round a fresh MiniLM (the `bert`
    /// recipe for `student_epochs` epochs) is fine-tuned on the sample and this many of the
    /// last NB-SVM's surest guesses per class (its decisions centred on the pool); the cell is
    /// scored with that MiniLM and the NB-SVM added, and the teacher never reads the test set.
    #[serde(default)]
    pub minilm_student_per_class: usize,
    /// `bert-nbsvm-cotrain`: the MiniLM teachers start from the domain-adapted MiniLM of
    /// `bert-mlm` (masked-LM training on the unlabelled reviews, cached in `out/bert-mlm/`).
    #[serde(default)]
    pub adapted_teacher: bool,
}

impl SelfTrainingSettings {
    /// `rounds` and `teachers` of runs written before they were settings.
    fn one() -> usize {
        1
    }

    /// Checked once by [`super::run`], before any cell.
    pub(crate) fn check(&self) -> Result<(), TransferError> {
        if self.rounds == 0 {
            return Err(TransferError::InvalidConfig {
                field: "self_training.rounds",
                message: "self-training needs at least one round".into(),
            });
        }
        if self.teachers == 0 {
            return Err(TransferError::InvalidConfig {
                field: "self_training.teachers",
                message: "co-training needs at least one MiniLM teacher".into(),
            });
        }
        if self.student_alone && self.minilm_student_per_class > 0 {
            return Err(TransferError::InvalidConfig {
                field: "self_training.minilm_student_per_class",
                message: "a MiniLM student is scored with the NB-SVM student, not alone: \
                          drop student_alone"
                    .into(),
            });
        }
        Ok(())
    }
}

impl Default for SelfTrainingSettings {
    fn default() -> Self {
        Self {
            unlabelled: 10_000,
            per_class: 2_000,
            min_probability: 0.5,
            student_epochs: 2,
            rounds: 1,
            student_alone: false,
            teachers: 1,
            minilm_student_per_class: 0,
            adapted_teacher: false,
        }
    }
}

/// Settings of BERT's masked-LM domain adaptation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlmSettings {
    pub steps: usize,
    pub batch_size: usize,
    pub max_length: usize,
    pub learning_rate: f64,
}

impl Default for MlmSettings {
    fn default() -> Self {
        Self {
            steps: 2_000,
            batch_size: 32,
            max_length: 256,
            learning_rate: 1e-4,
        }
    }
}

/// Settings of the ULMFiT family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UlmfitSettings {
    pub vocab_size: usize,
    pub dim: usize,
    pub num_layers: usize,
    pub dropout: f64,
    pub lm_epochs: usize,
    /// Tokens of unlabelled and training text the language model reads (all if `None`).
    pub lm_tokens: Option<usize>,
    pub lm_learning_rate: f64,
    /// Parallel token streams per language-model step.
    pub lm_batch_size: usize,
    pub max_length: usize,
    pub learning_rate: f64,
    pub min_epochs: usize,
    pub min_steps: usize,
    /// The classifier's dropout between its LSTM layers.
    #[serde(default = "UlmfitSettings::default_classifier_dropout")]
    pub classifier_lstm_dropout: f64,
    /// The classifier head's dropout (on the pooled states and its hidden layer).
    #[serde(default = "UlmfitSettings::default_classifier_dropout")]
    pub classifier_head_dropout: f64,
}

impl UlmfitSettings {
    /// Also what runs written before the classifier dropouts were settings used.
    fn default_classifier_dropout() -> f64 {
        0.2
    }

    /// The settings that shape the language model (saved beside it in `ulmfit-lm/`).
    fn language_model_settings(&self) -> serde_json::Value {
        serde_json::json!({
            "vocab_size": self.vocab_size,
            "dim": self.dim,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
            "lm_epochs": self.lm_epochs,
            "lm_tokens": self.lm_tokens,
            "lm_learning_rate": self.lm_learning_rate,
            "lm_batch_size": self.lm_batch_size,
        })
    }
}

/// Fails if the model cached beside `path` was trained with other settings than `settings`:
/// reusing it would mix two studies in one table.
fn check_cached_settings(
    path: &std::path::Path,
    settings: &serde_json::Value,
) -> Result<(), TransferError> {
    epochs_to_continue(path, settings, None).map(|_| ())
}

/// As [`check_cached_settings`], except that when the saved settings differ from `settings`
/// only in fewer of the epochs named `epochs` (a number), returns how many more to train.
fn epochs_to_continue(
    path: &std::path::Path,
    settings: &serde_json::Value,
    epochs: Option<&str>,
) -> Result<usize, TransferError> {
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(0);
    };
    let saved: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| TransferError::format(path, e))?;
    if &saved == settings {
        return Ok(0);
    }
    if let Some(key) = epochs {
        let count = |v: &serde_json::Value| v[key].as_u64().unwrap_or(0) as usize;
        let (had, wanted) = (count(&saved), count(settings));
        let mut same = saved.clone();
        same[key] = settings[key].clone();
        if &same == settings && had < wanted {
            return Ok(wanted - had);
        }
    }
    Err(TransferError::format(
        path,
        format!(
            "the model here was trained with {saved}, this run asks for {settings}: use \
             another output directory"
        ),
    ))
}

/// Writes a model trained once per run into `dir`: `settings.json` (what
/// [`check_cached_settings`] compares), `model.safetensors` and `report.json`.
fn save_cached<M: Module, R: Serialize>(
    dir: &std::path::Path,
    settings: &serde_json::Value,
    model: &M,
    report: &R,
) -> Result<(), TransferError> {
    std::fs::create_dir_all(dir).map_err(|e| TransferError::io(dir, e))?;
    write_atomic(
        &dir.join("settings.json"),
        &serde_json::to_vec_pretty(settings).expect("settings"),
    )?;
    save_weights(model, &dir.join("model.safetensors"))?;
    write_atomic(
        &dir.join("report.json"),
        &serde_json::to_vec_pretty(report).expect("report"),
    )
}

/// Everything the families share within one run: the data and what is trained once.
pub struct Context<'a> {
    pub train: &'a [Example],
    pub test: &'a [Example],
    /// Unlabelled reviews (for the language model).
    pub unlabelled: &'a [String],
    pub device: Device,
    pub out: PathBuf,
    pub bert: BertSettings,
    pub self_training: SelfTrainingSettings,
    pub mlm: MlmSettings,
    pub ulmfit: UlmfitSettings,
    pub vectors_path: PathBuf,
    /// Ensembles centre each model's scores on the unlabelled reviews ([`combine_scores`]).
    pub centre_scores: bool,
    pub progress: bool,
    vectors: OnceLock<(WordVectors, Array2<f64>)>,
    language_model: OnceLock<(WordLevelTokenizer, LstmLanguageModel)>,
    adapted_bert: OnceLock<MaskedLanguageModel>,
}

fn texts(examples: &[Example]) -> Vec<&str> {
    examples.iter().map(|e| e.text.as_str()).collect()
}

fn positive(examples: &[Example]) -> Vec<bool> {
    examples
        .iter()
        .map(|e| e.target == Target::Class(1))
        .collect()
}

/// NB-SVM with the study's settings, fitted on `sample`.
fn nbsvm(sample: &[Example], seed: u64) -> Result<NbSvm, TransferError> {
    nbsvm_with(sample, seed, false)
}

/// [`nbsvm`], with its intercept refitted when `midpoint_intercept`.
fn nbsvm_with(
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

fn accuracy(predicted: &[bool], examples: &[Example]) -> f64 {
    let actual = positive(examples);
    predicted
        .iter()
        .zip(&actual)
        .filter(|(p, a)| p == a)
        .count() as f64
        / actual.len().max(1) as f64
}

impl<'a> Context<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        train: &'a [Example],
        test: &'a [Example],
        unlabelled: &'a [String],
        device: Device,
        out: PathBuf,
        bert: BertSettings,
        self_training: SelfTrainingSettings,
        mlm: MlmSettings,
        ulmfit: UlmfitSettings,
        vectors_path: PathBuf,
        centre_scores: bool,
        progress: bool,
    ) -> Self {
        Self {
            train,
            test,
            unlabelled,
            device,
            out,
            bert,
            self_training,
            mlm,
            ulmfit,
            vectors_path,
            centre_scores,
            progress,
            vectors: OnceLock::new(),
            language_model: OnceLock::new(),
            adapted_bert: OnceLock::new(),
        }
    }

    /// Trains `model` on `sample` and returns its test accuracy and training seconds.
    pub fn run(
        &self,
        model: Model,
        sample: &[Example],
        seed: u64,
    ) -> Result<(f64, f64), TransferError> {
        match model {
            Model::Nbsvm | Model::NbsvmMidpoint => {
                let started = Instant::now();
                let fitted = nbsvm_with(sample, seed, model == Model::NbsvmMidpoint)?;
                let seconds = started.elapsed().as_secs_f64();
                Ok((
                    accuracy(&fitted.predict(&texts(self.test)), self.test),
                    seconds,
                ))
            }
            Model::Wvsum => {
                let (vectors, test_features) = self.vectors()?;
                let started = Instant::now();
                let features = WordVectorSum::features(vectors, &texts(sample));
                let fitted = WordVectorSum::fit(&features, &positive(sample), 1.0)?;
                let seconds = started.elapsed().as_secs_f64();
                Ok((accuracy(&fitted.predict(test_features), self.test), seconds))
            }
            Model::Bert => self.bert(sample, seed),
            Model::BertSelfTraining => self.self_train(
                sample,
                seed,
                || self.bert_pipeline(false),
                |n| self.bert_training(n, self.bert.min_epochs, seed),
                |n| self.bert_training(n, self.self_training.student_epochs, seed),
            ),
            Model::BertMlm => self.bert_adapted(sample, seed),
            Model::Ulmfit => self.ulmfit(sample, seed),
            Model::UlmfitSelfTraining => self.self_train(
                sample,
                seed,
                || self.ulmfit_pipeline(),
                |n| self.ulmfit_training(n, seed),
                |n| self.ulmfit_training(n, seed),
            ),
            Model::UlmfitNbsvm => self.ulmfit_nbsvm(sample, seed),
            Model::UlmfitNbsvmSelfTraining => self.nbsvm_ensemble_self_train(
                model,
                sample,
                seed,
                || self.ulmfit_pipeline(),
                |n| self.ulmfit_training(n, seed),
                |n| self.ulmfit_training(n, seed),
            ),
            Model::BertNbsvm => self.bert_nbsvm(sample, seed),
            Model::BertNbsvmSelfTraining => self.nbsvm_ensemble_self_train(
                model,
                sample,
                seed,
                || self.bert_pipeline(false),
                |n| self.bert_training(n, self.bert.min_epochs, seed),
                |n| self.bert_training(n, self.self_training.student_epochs, seed),
            ),
            Model::BertNbsvmCoTraining => self.bert_nbsvm_cotrain(sample, seed),
        }
    }

    /// `n` unlabelled reviews, a seeded sample.
    fn unlabelled_pool(&self, n: usize, seed: u64) -> Vec<&str> {
        let mut order: Vec<usize> = (0..self.unlabelled.len()).collect();
        transfer_nlp::pipeline::data::rng::SplitMix64::new(seed).shuffle(&mut order);
        order
            .into_iter()
            .take(n)
            .map(|i| self.unlabelled[i].as_str())
            .collect()
    }

    fn vectors(&self) -> Result<&(WordVectors, Array2<f64>), TransferError> {
        if self.vectors.get().is_none() {
            let vectors = WordVectors::load(&self.vectors_path)?;
            let features = WordVectorSum::features(&vectors, &texts(self.test));
            let _ = self.vectors.set((vectors, features));
        }
        Ok(self.vectors.get().expect("set above"))
    }

    /// The pretrained (or domain-adapted) MiniLM with a fresh mean-pooled linear head.
    fn bert_pipeline(&self, adapted: bool) -> Result<BertPipeline, TransferError> {
        let s = &self.bert;
        let mut bert = PretrainedBert::load(&s.model_dir, &self.device)?;
        if adapted {
            let mlm = self.adapted_bert()?;
            bert.embeddings = mlm.embeddings.clone();
            bert.encoder = mlm.encoder.clone();
        }
        let head = PooledClassifier::from_config(
            &PooledClassifierConfig::new(bert.encoder.output_dim(), 2)
                .with_pooling(Pooling::Mean)
                .with_dropout(0.1),
            &self.device,
        )?;
        let truncation = if s.head_tail {
            Truncation::KeepStartAndEnd {
                start: 128.min(s.max_length / 2),
            }
        } else {
            Truncation::KeepStart
        };
        Ok(TransferPipeline::new(
            bert.tokenizer,
            bert.embeddings,
            bert.encoder.with_precision(s.precision),
            head,
            &self.device,
        )?
        .with_encode_policy(EncodePolicy::new(s.max_length).with_truncation(truncation))?
        .with_inference_batch_size(64))
    }

    /// The reference's fine-tuning recipe for `examples` training examples.
    fn bert_training(&self, examples: usize, epochs: usize, seed: u64) -> TrainConfig {
        let s = &self.bert;
        TrainConfig {
            epochs,
            min_steps: s.min_steps,
            batch_size: s.batch_size.min(examples),
            learning_rate: s.learning_rate,
            schedule: LrSchedule::WarmupLinearDecay {
                warmup_fraction: 0.1,
            },
            weight_decay: 0.01,
            max_grad_norm: Some(1.0),
            seed,
            progress: self.progress,
            ..TrainConfig::default()
        }
    }

    /// MiniLM (pretrained, or `adapted`) fine-tuned on `sample` as `bert`, and its training
    /// seconds.
    fn trained_bert(
        &self,
        sample: &[Example],
        seed: u64,
        adapted: bool,
    ) -> Result<(BertPipeline, f64), TransferError> {
        let mut bert = self.bert_pipeline(adapted)?;
        let config = self.bert_training(sample.len(), self.bert.min_epochs, seed);
        let report = bert.train(sample, &config)?;
        Ok((bert, report.seconds))
    }

    fn bert(&self, sample: &[Example], seed: u64) -> Result<(f64, f64), TransferError> {
        self.bert_fine_tuned(sample, seed, false)
    }

    fn bert_adapted(&self, sample: &[Example], seed: u64) -> Result<(f64, f64), TransferError> {
        self.bert_fine_tuned(sample, seed, true)
    }

    fn bert_fine_tuned(
        &self,
        sample: &[Example],
        seed: u64,
        adapted: bool,
    ) -> Result<(f64, f64), TransferError> {
        let (bert, seconds) = self.trained_bert(sample, seed, adapted)?;
        let metrics = bert.evaluate(self.test)?;
        Ok((metrics.accuracy.unwrap_or(0.0), seconds))
    }

    /// Self-training for any family: a pipeline trained on the sample (the teacher) labels a
    /// seeded pool of unlabelled reviews, and a fresh pipeline (the student) trains on the
    /// sample and the teacher's most confident guesses. `teacher` and `student` give the
    /// training settings for a number of examples.
    fn self_train<T, E, C, P>(
        &self,
        sample: &[Example],
        seed: u64,
        pipeline: impl Fn() -> Result<TransferPipeline<T, E, C, P>, TransferError>,
        teacher: impl Fn(usize) -> TrainConfig,
        student: impl Fn(usize) -> TrainConfig,
    ) -> Result<(f64, f64), TransferError>
    where
        T: Tokenizer,
        E: TokenEmbedder,
        C: ContextualEmbedder,
        P: Predictor,
    {
        let s = &self.self_training;
        let started = Instant::now();
        let mut model = pipeline()?;
        model.train(sample, &teacher(sample.len()))?;
        let pool = self.unlabelled_pool(s.unlabelled, seed);
        let config = PseudoLabelConfig {
            per_class: s.per_class,
            min_probability: s.min_probability,
            balanced: true,
        };
        for _ in 0..s.rounds {
            let mut examples = sample.to_vec();
            examples.extend(pseudo_label(&model, &pool, &config)?);
            drop(model);
            model = pipeline()?;
            model.train(&examples, &student(examples.len()))?;
        }
        let seconds = started.elapsed().as_secs_f64();
        let metrics = model.evaluate(self.test)?;
        Ok((metrics.accuracy.unwrap_or(0.0), seconds))
    }

    /// MiniLM after masked-LM training on the unlabelled reviews, trained once per run and
    /// cached in `out/bert-mlm/`.
    fn adapted_bert(&self) -> Result<&MaskedLanguageModel, TransferError> {
        if let Some(model) = self.adapted_bert.get() {
            return Ok(model);
        }
        let s = &self.mlm;
        let dir = self.out.join("bert-mlm");
        let (settings_path, weights_path) =
            (dir.join("settings.json"), dir.join("model.safetensors"));
        let settings = serde_json::json!({
            "model_dir": self.bert.model_dir,
            "steps": s.steps,
            "batch_size": s.batch_size,
            "max_length": s.max_length,
            "learning_rate": s.learning_rate,
        });
        let bert = PretrainedBert::load(&self.bert.model_dir, &self.device)?;
        let mut model = MaskedLanguageModel::new(bert.embeddings, bert.encoder, 0, &self.device);
        if weights_path.is_file() {
            check_cached_settings(&settings_path, &settings)?;
            load_weights(&mut model, &weights_path)?;
            eprintln!("bert-mlm: reusing the adapted model in {}", dir.display());
        } else {
            let training = MaskedLmTraining {
                steps: s.steps,
                batch_size: s.batch_size,
                max_length: s.max_length,
                learning_rate: s.learning_rate,
                progress: self.progress,
                ..MaskedLmTraining::default()
            };
            let (trained, report) = train_masked_lm(
                model,
                &bert.tokenizer,
                self.unlabelled,
                &training,
                &self.device,
            )?;
            eprintln!(
                "bert-mlm: {} steps of {} reviews, {:.0}s, masked-token loss {:.2} -> {:.2}",
                report.steps, s.batch_size, report.seconds, report.first_loss, report.last_loss
            );
            save_cached(&dir, &settings, &trained, &report)?;
            model = trained;
        }
        let _ = self.adapted_bert.set(model);
        Ok(self.adapted_bert.get().expect("set above"))
    }

    /// The language model, trained once per run and cached in `out/ulmfit-lm/`.
    fn language_model(&self) -> Result<&(WordLevelTokenizer, LstmLanguageModel), TransferError> {
        if let Some(lm) = self.language_model.get() {
            return Ok(lm);
        }
        let s = &self.ulmfit;
        let dir = self.out.join("ulmfit-lm");
        let (tokenizer_path, weights_path) =
            (dir.join("tokenizer.json"), dir.join("model.safetensors"));
        let config = |vocab_size| LanguageModelConfig {
            vocab_size,
            dim: s.dim,
            num_layers: s.num_layers,
            dropout: s.dropout,
        };
        let settings_path = dir.join("settings.json");
        let settings = s.language_model_settings();
        let lm = if weights_path.is_file() && tokenizer_path.is_file() {
            let more_epochs = epochs_to_continue(&settings_path, &settings, Some("lm_epochs"))?;
            let tokenizer = WordLevelTokenizer::load(&tokenizer_path)?;
            let mut model = LstmLanguageModel::new(&config(tokenizer.vocab_size()), &self.device)?;
            load_weights(&mut model, &weights_path)?;
            if more_epochs == 0 {
                eprintln!("ulmfit: reusing the language model in {}", dir.display());
            } else {
                model = self.continue_language_model(model, &tokenizer, &dir, more_epochs)?;
            }
            (tokenizer, model)
        } else {
            let vocab = VocabularyConfig {
                min_count: 3,
                max_size: s.vocab_size,
                lowercase: true,
            };
            let corpus = self.language_model_corpus();
            let tokenizer = WordLevelTokenizer::train(&corpus, &vocab)?;
            let model = LstmLanguageModel::new(&config(tokenizer.vocab_size()), &self.device)?;
            let training = LanguageModelTraining {
                epochs: s.lm_epochs,
                learning_rate: s.lm_learning_rate,
                batch_size: s.lm_batch_size,
                max_tokens: s.lm_tokens,
                progress: self.progress,
                ..LanguageModelTraining::default()
            };
            let (model, report) =
                train_language_model(model, &tokenizer, &corpus, &training, &self.device)?;
            eprintln!(
                "ulmfit: language model on {} tokens, {} steps, {:.0}s, training perplexity {:.0}",
                report.tokens,
                report.steps,
                report.seconds,
                report.perplexity()
            );
            // The tokenizer first: a model is reused only when both files are there.
            std::fs::create_dir_all(&dir).map_err(|e| TransferError::io(dir.clone(), e))?;
            tokenizer.save(&tokenizer_path)?;
            save_cached(&dir, &settings, &model, &report)?;
            (tokenizer, model)
        };
        let _ = self.language_model.set(lm);
        Ok(self.language_model.get().expect("set above"))
    }

    /// The unlabelled reviews and the training reviews without their labels, mixed (seeded) so
    /// that a token budget samples both.
    fn language_model_corpus(&self) -> Vec<&'a str> {
        let mut corpus: Vec<&str> = self.unlabelled.iter().map(String::as_str).collect();
        corpus.extend(texts(self.train));
        let mut order: Vec<usize> = (0..corpus.len()).collect();
        transfer_nlp::pipeline::data::rng::SplitMix64::new(7).shuffle(&mut order);
        order.into_iter().map(|i| corpus[i]).collect()
    }

    /// Trains the language model cached in `dir` for `more_epochs` further epochs over the same
    /// tokens (a fresh schedule, the softmax bias as trained) and saves it with the settings
    /// and report of the whole training. Refused when `results.json` already holds `ulmfit` or
    /// `ulmfit-st` cells: they were made with the shorter-trained model.
    fn continue_language_model(
        &self,
        model: LstmLanguageModel,
        tokenizer: &WordLevelTokenizer,
        dir: &std::path::Path,
        more_epochs: usize,
    ) -> Result<LstmLanguageModel, TransferError> {
        let results = self.out.join("results.json");
        if super::results::read(&results)?.iter().any(|c| {
            Model::value_variants()
                .iter()
                .any(|m| m.uses_language_model() && m.name() == c.model)
        }) {
            return Err(TransferError::format(
                &results,
                format!(
                    "has ULMFiT cells made with the language model in {} before {more_epochs} \
                     more epochs: continue it in another output directory (copy ulmfit-lm/ there)",
                    dir.display()
                ),
            ));
        }
        let s = &self.ulmfit;
        let report_path = dir.join("report.json");
        let before: LanguageModelReport = serde_json::from_slice(
            &std::fs::read(&report_path).map_err(|e| TransferError::io(&report_path, e))?,
        )
        .map_err(|e| TransferError::format(&report_path, e))?;
        eprintln!(
            "ulmfit: training the language model in {} for {more_epochs} more epochs",
            dir.display()
        );
        let training = LanguageModelTraining {
            epochs: more_epochs,
            learning_rate: s.lm_learning_rate,
            batch_size: s.lm_batch_size,
            max_tokens: s.lm_tokens,
            unigram_bias: false,
            progress: self.progress,
            ..LanguageModelTraining::default()
        };
        let corpus = self.language_model_corpus();
        let (model, after) =
            train_language_model(model, tokenizer, &corpus, &training, &self.device)?;
        let report = LanguageModelReport {
            tokens: after.tokens,
            steps: before.steps + after.steps,
            epoch_losses: [before.epoch_losses, after.epoch_losses].concat(),
            seconds: before.seconds + after.seconds,
        };
        eprintln!(
            "ulmfit: language model now {} epochs, {} steps, training perplexity {:.0}",
            report.epoch_losses.len(),
            report.steps,
            report.perplexity()
        );
        save_cached(dir, &s.language_model_settings(), &model, &report)?;
        Ok(model)
    }

    /// A classifier on the language model's embedder and LSTM: concat pooling, a 50-unit
    /// hidden layer, the last `max_length` tokens of each review.
    fn ulmfit_pipeline(&self) -> Result<UlmfitPipeline, TransferError> {
        let s = &self.ulmfit;
        let (tokenizer, lm) = self.language_model()?;
        let head = PooledClassifier::from_config(
            &PooledClassifierConfig::new(lm.lstm.output_dim(), 2)
                .with_pooling(Pooling::Concat)
                .with_hidden_dim(Some(50))
                .with_dropout(s.classifier_head_dropout),
            &self.device,
        )?;
        TransferPipeline::new(
            tokenizer.clone(),
            lm.embedder.clone(),
            lm.lstm.clone().with_dropout(s.classifier_lstm_dropout)?,
            head,
            &self.device,
        )?
        .with_encode_policy(EncodePolicy::new(s.max_length).with_truncation(Truncation::KeepEnd))
    }

    /// ULMFiT's classifier recipe for `examples` training examples.
    fn ulmfit_training(&self, examples: usize, seed: u64) -> TrainConfig {
        let s = &self.ulmfit;
        TrainConfig {
            epochs: s.min_epochs,
            min_steps: s.min_steps,
            batch_size: 32.min(examples),
            learning_rate: s.learning_rate,
            schedule: LrSchedule::SlantedTriangular {
                cut_fraction: 0.1,
                ratio: 32.0,
            },
            weight_decay: 0.01,
            max_grad_norm: Some(1.0),
            gradual_unfreezing: true,
            seed,
            progress: self.progress,
            ..TrainConfig::default()
        }
        .with_discriminative_rates(2.6)
    }

    fn ulmfit(&self, sample: &[Example], seed: u64) -> Result<(f64, f64), TransferError> {
        let scores = self.ulmfit_scores(sample, seed)?;
        Ok((
            accuracy(&positive_scores(&scores.test), self.test),
            scores.train_seconds,
        ))
    }

    /// The scores of the ULMFiT classifier trained on `sample` with `seed`: read from
    /// `out/scores/` when that cell's classifier was already trained with the same settings
    /// on the same test set, else trained and saved there.
    fn ulmfit_scores(&self, sample: &[Example], seed: u64) -> Result<UlmfitScores, TransferError> {
        let dir = self.out.join("scores");
        let path = dir.join(format!("ulmfit-n{}-seed{seed}.json", sample.len()));
        if let Ok(bytes) = std::fs::read(&path) {
            let saved: UlmfitScores =
                serde_json::from_slice(&bytes).map_err(|e| TransferError::format(&path, e))?;
            if saved.settings == self.ulmfit && saved.test.len() == self.test.len() {
                return Ok(saved);
            }
        }
        let mut pipeline = self.ulmfit_pipeline()?;
        let report = pipeline.train(sample, &self.ulmfit_training(sample.len(), seed))?;
        let [test, unlabelled] = self.scale_and_test_scores(&pipeline, seed)?;
        let scores = UlmfitScores {
            settings: self.ulmfit.clone(),
            train_seconds: report.seconds,
            test,
            unlabelled,
        };
        std::fs::create_dir_all(&dir).map_err(|e| TransferError::io(&dir, e))?;
        write_atomic(&path, &serde_json::to_vec(&scores).expect("scores"))?;
        Ok(scores)
    }

    /// `ulmfit-nbsvm`: ULMFiT (the `ulmfit` cell's classifier when there is one) and NB-SVM
    /// trained on `sample`, their test scores added after scaling each by its spread over
    /// unlabelled reviews ([`combine_scores`]).
    fn ulmfit_nbsvm(&self, sample: &[Example], seed: u64) -> Result<(f64, f64), TransferError> {
        let ulmfit = self.ulmfit_scores(sample, seed)?;
        let started = Instant::now();
        let nbsvm = nbsvm(sample, seed)?;
        let seconds = ulmfit.train_seconds + started.elapsed().as_secs_f64();
        let accuracy = self.ensemble_accuracy(
            Model::UlmfitNbsvm,
            sample.len(),
            seed,
            [ulmfit.test, ulmfit.unlabelled],
            &nbsvm,
        );
        Ok((accuracy, seconds))
    }

    /// `bert-nbsvm`: MiniLM fine-tuned as `bert` and NB-SVM, both on `sample`, their scores
    /// added as in `ulmfit-nbsvm`.
    fn bert_nbsvm(&self, sample: &[Example], seed: u64) -> Result<(f64, f64), TransferError> {
        let (bert, trained) = self.trained_bert(sample, seed, false)?;
        let started = Instant::now();
        let linear = nbsvm(sample, seed)?;
        let seconds = trained + started.elapsed().as_secs_f64();
        let scores = self.scale_and_test_scores(&bert, seed)?;
        drop(bert);
        let accuracy =
            self.ensemble_accuracy(Model::BertNbsvm, sample.len(), seed, scores, &linear);
        Ok((accuracy, seconds))
    }

    /// `bert-nbsvm-cotrain`: MiniLM fine-tuned on `sample` (or `teachers` fine-tunings, their
    /// log-odds added) scores a seeded pool of unlabelled reviews once and stays as it is;
    /// NB-SVM is refitted each round on the sample and the `per_class` surest guesses of each
    /// class by both models' added scores. Logs the test accuracy after each round; scores
    /// with MiniLM and the last NB-SVM added, with that NB-SVM alone (`student_alone`), or
    /// with a fresh MiniLM trained on that NB-SVM's surest guesses and the NB-SVM added
    /// (`minilm_student_per_class`). The teachers start from the adapted MiniLM with
    /// `adapted_teacher`.
    fn bert_nbsvm_cotrain(
        &self,
        sample: &[Example],
        seed: u64,
    ) -> Result<(f64, f64), TransferError> {
        let s = &self.self_training;
        // The scale reviews are the pool's first ENSEMBLE_SCALE_REVIEWS (one shuffle).
        let scored = self.unlabelled_pool(s.unlabelled.max(ENSEMBLE_SCALE_REVIEWS), seed);
        let test = texts(self.test);
        let mut network_scored = vec![0.0; scored.len()];
        let teacher_reads_test = !s.student_alone && s.minilm_student_per_class == 0;
        let mut network_test = teacher_reads_test.then(|| vec![0.0; test.len()]);
        let mut seconds = 0.0;
        for teacher in 0..s.teachers {
            // Teacher 0 trains with the cell's seed, as `bert` does.
            let (bert, trained) =
                self.trained_bert(sample, seed + ((teacher as u64) << 32), s.adapted_teacher)?;
            let started = Instant::now();
            add_into(&mut network_scored, &log_odds(&bert, &scored)?);
            seconds += trained + started.elapsed().as_secs_f64();
            if let Some(network_test) = network_test.as_mut() {
                add_into(network_test, &log_odds(&bert, &test)?);
            }
        }
        let started = Instant::now();
        let (pooled, scaled) = (
            s.unlabelled.min(scored.len()),
            ENSEMBLE_SCALE_REVIEWS.min(scored.len()),
        );
        let (pool, network_pool) = (&scored[..pooled], &network_scored[..pooled]);
        let mut linear = nbsvm(sample, seed)?;
        seconds += started.elapsed().as_secs_f64();
        let (scale, network_scale) = (&scored[..scaled], network_scored[..scaled].to_vec());
        let mut alone = 0.0;
        for round in 1..=s.rounds {
            let fitted = Instant::now();
            let guesses = [network_pool.to_vec(), linear.decisions(pool)];
            let combined = combine_scores(&guesses, &guesses, self.centre_scores);
            let mut examples = sample.to_vec();
            examples.extend(
                most_confident_by_score(&combined, s.per_class)
                    .into_iter()
                    .map(|(i, class)| Example::class(pool[i], class)),
            );
            linear = nbsvm(&examples, seed)?;
            seconds += fitted.elapsed().as_secs_f64();
            let (linear_test, linear_scale) = (linear.decisions(&test), linear.decisions(scale));
            alone = centred_accuracy(&linear_test, &linear_scale, self.test);
            let together = network_test.as_ref().map(|network_test| {
                let added = combine_scores(
                    &[network_test.clone(), linear_test],
                    &[network_scale.clone(), linear_scale],
                    self.centre_scores,
                );
                format!(
                    ", together {:.4}",
                    accuracy(&positive_scores(&added), self.test)
                )
            });
            eprintln!(
                "{} n = {} seed {seed} round {round}: NB-SVM on {} guesses, alone centred {:.4}{}",
                Model::BertNbsvmCoTraining.name(),
                sample.len(),
                examples.len() - sample.len(),
                alone,
                together.unwrap_or_default()
            );
        }
        if s.minilm_student_per_class > 0 {
            let started = Instant::now();
            let decisions = [linear.decisions(pool)];
            let centred = combine_scores(&decisions, &decisions, true);
            let mut examples = sample.to_vec();
            examples.extend(
                most_confident_by_score(&centred, s.minilm_student_per_class)
                    .into_iter()
                    .map(|(i, class)| Example::class(pool[i], class)),
            );
            let mut student = self.bert_pipeline(false)?;
            let config = self.bert_training(examples.len(), s.student_epochs, seed);
            student.train(&examples, &config)?;
            seconds += started.elapsed().as_secs_f64();
            eprintln!(
                "{} n = {} seed {seed}: MiniLM student on {} of the last NB-SVM's guesses",
                Model::BertNbsvmCoTraining.name(),
                sample.len(),
                examples.len() - sample.len(),
            );
            let scores = self.scale_and_test_scores(&student, seed)?;
            drop(student);
            let accuracy = self.ensemble_accuracy(
                Model::BertNbsvmCoTraining,
                sample.len(),
                seed,
                scores,
                &linear,
            );
            return Ok((accuracy, seconds));
        }
        let accuracy = match network_test {
            None => alone,
            Some(network_test) => self.ensemble_accuracy(
                Model::BertNbsvmCoTraining,
                sample.len(),
                seed,
                [network_test, network_scale],
                &linear,
            ),
        };
        Ok((accuracy, seconds))
    }

    /// A pipeline's log-odds on the test set and on the [`ENSEMBLE_SCALE_REVIEWS`] unlabelled
    /// reviews that weigh it in an ensemble.
    fn scale_and_test_scores<T, E, C, P>(
        &self,
        pipeline: &TransferPipeline<T, E, C, P>,
        seed: u64,
    ) -> Result<[Vec<f64>; 2], TransferError>
    where
        T: Tokenizer,
        E: TokenEmbedder,
        C: ContextualEmbedder,
        P: Predictor,
    {
        Ok([
            log_odds(pipeline, &texts(self.test))?,
            log_odds(
                pipeline,
                &self.unlabelled_pool(ENSEMBLE_SCALE_REVIEWS, seed),
            )?,
        ])
    }

    /// `ulmfit-nbsvm-st` and `bert-nbsvm-st`: a network (built by `pipeline`, trained with
    /// `teacher`'s settings) and NB-SVM, both trained on the sample, label a seeded pool of
    /// unlabelled reviews with their added scores; a fresh network (trained with `student`'s
    /// settings) and a fresh NB-SVM train on the sample and the ensemble's `per_class` surest
    /// guesses of each class, and their scores are added as the teacher's were.
    fn nbsvm_ensemble_self_train<T, E, C, P>(
        &self,
        model: Model,
        sample: &[Example],
        seed: u64,
        pipeline: impl Fn() -> Result<TransferPipeline<T, E, C, P>, TransferError>,
        teacher: impl Fn(usize) -> TrainConfig,
        student: impl Fn(usize) -> TrainConfig,
    ) -> Result<(f64, f64), TransferError>
    where
        T: Tokenizer,
        E: TokenEmbedder,
        C: ContextualEmbedder,
        P: Predictor,
    {
        let s = &self.self_training;
        let started = Instant::now();
        let pool = self.unlabelled_pool(s.unlabelled, seed);
        let train = |examples: &[Example], config: TrainConfig| -> Result<_, TransferError> {
            let mut network = pipeline()?;
            network.train(examples, &config)?;
            Ok((network, nbsvm(examples, seed)?))
        };
        let (mut network, mut linear) = train(sample, teacher(sample.len()))?;
        for round in 1..=s.rounds {
            let guesses = [log_odds(&network, &pool)?, linear.decisions(&pool)];
            drop(network);
            let combined = combine_scores(&guesses, &guesses, self.centre_scores);
            let called_positive = combined.iter().filter(|&&c| c > 0.0).count();
            let mut examples = sample.to_vec();
            examples.extend(
                most_confident_by_score(&combined, s.per_class)
                    .into_iter()
                    .map(|(i, class)| Example::class(pool[i], class)),
            );
            eprintln!(
                "{} n = {} seed {seed} round {round}: {} of {} unlabelled reviews \
                 pseudo-labelled ({called_positive} called positive)",
                model.name(),
                sample.len(),
                examples.len() - sample.len(),
                pool.len()
            );
            (network, linear) = train(&examples, student(examples.len()))?;
        }
        let seconds = started.elapsed().as_secs_f64();
        let scores = self.scale_and_test_scores(&network, seed)?;
        drop(network);
        let accuracy = self.ensemble_accuracy(model, sample.len(), seed, scores, &linear);
        Ok((accuracy, seconds))
    }

    /// The test accuracy of a network's and NB-SVM's scores added ([`combine_scores`], each
    /// weighed on [`ENSEMBLE_SCALE_REVIEWS`] unlabelled reviews); `network` holds the
    /// network's log-odds on the test set and on those reviews. Logs each model's own
    /// accuracy, the share of test reviews each calls positive, and the ensemble's accuracy
    /// with the other centring ([`Context::centre_scores`]).
    fn ensemble_accuracy(
        &self,
        model: Model,
        n: usize,
        seed: u64,
        [network_test, network_unlabelled]: [Vec<f64>; 2],
        nbsvm: &NbSvm,
    ) -> f64 {
        let unlabelled = self.unlabelled_pool(ENSEMBLE_SCALE_REVIEWS, seed);
        let reference = [network_unlabelled, nbsvm.decisions(&unlabelled)];
        let test = [network_test, nbsvm.decisions(&texts(self.test))];
        let combined = combine_scores(&test, &reference, self.centre_scores);
        let other = combine_scores(&test, &reference, !self.centre_scores);
        // Each model's accuracy and share called positive (far from half on the balanced test
        // set: a shifted threshold).
        let [of_network, of_nbsvm, of_both, of_other] = [&test[0], &test[1], &combined, &other]
            .map(|scores| {
                let calls = positive_scores(scores);
                let positive = calls.iter().filter(|&&p| p).count() as f64;
                (
                    accuracy(&calls, self.test),
                    positive / calls.len().max(1) as f64,
                )
            });
        // Each alone with its threshold at its median on the unlabelled reviews: NB-SVM's
        // interpolated weights keep the SVM's intercept, so its own threshold can be far off.
        let [network_centred, nbsvm_centred] =
            [0, 1].map(|i| centred_accuracy(&test[i], &reference[i], self.test));
        let network = if model.uses_language_model() {
            "ulmfit"
        } else {
            "bert"
        };
        eprintln!(
            "{} n = {n} seed {seed}: {network} alone {:.4}, nbsvm alone {:.4}, together {:.4} \
             (called positive: {:.3} / {:.3} / {:.3}); {} {:.4} ({:.3} positive); each alone \
             centred: {network} {network_centred:.4}, nbsvm {nbsvm_centred:.4}",
            model.name(),
            of_network.0,
            of_nbsvm.0,
            of_both.0,
            of_network.1,
            of_nbsvm.1,
            of_both.1,
            if self.centre_scores {
                "uncentred"
            } else {
                "centred"
            },
            of_other.0,
            of_other.1,
        );
        of_both.0
    }
}

/// MiniLM under a mean-pooled linear head.
type BertPipeline = TransferPipeline<HfTokenizer, BertEmbeddings, BertEncoder, PooledClassifier>;

/// ULMFiT's classifier: the language model's embedder and LSTM under a pooled head.
type UlmfitPipeline =
    TransferPipeline<WordLevelTokenizer, LearnedEmbedding, Lstm, PooledClassifier>;

/// The log-odds of the positive class for each text.
fn log_odds<T, E, C, P>(
    pipeline: &TransferPipeline<T, E, C, P>,
    texts: &[&str],
) -> Result<Vec<f64>, TransferError>
where
    T: Tokenizer,
    E: TokenEmbedder,
    C: ContextualEmbedder,
    P: Predictor,
{
    Ok(pipeline
        .outputs(texts)?
        .iter()
        .map(|logits| f64::from(logits[1] - logits[0]))
        .collect())
}

/// A ULMFiT classifier's log-odds of the positive class on the test set and on
/// [`ENSEMBLE_SCALE_REVIEWS`] unlabelled reviews, kept per cell.
#[derive(Debug, Serialize, Deserialize)]
struct UlmfitScores {
    settings: UlmfitSettings,
    train_seconds: f64,
    test: Vec<f64>,
    unlabelled: Vec<f64>,
}

fn positive_scores(scores: &[f64]) -> Vec<bool> {
    scores.iter().map(|&s| s > 0.0).collect()
}

/// Adds `scores` into `sum`, element by element.
fn add_into(sum: &mut [f64], scores: &[f64]) {
    for (total, score) in sum.iter_mut().zip(scores) {
        *total += score;
    }
}

/// The accuracy of one model's `scores` on `examples` with its threshold at its median over
/// `reference` (its scores on unlabelled texts).
fn centred_accuracy(scores: &[f64], reference: &[f64], examples: &[Example]) -> f64 {
    let centred = combine_scores(&[scores.to_vec()], &[reference.to_vec()], true);
    accuracy(&positive_scores(&centred), examples)
}

/// Unlabelled reviews whose scores set each model's scale in `ulmfit-nbsvm`.
const ENSEMBLE_SCALE_REVIEWS: usize = 2_000;

/// Adds the models' scores (positive = positive class), each divided by its standard
/// deviation over `reference` (the same models' scores on unlabelled texts): models on
/// different scales then weigh alike, and no labelled data is spent on weighing them. With
/// `centre`, each model's median over `reference` is first subtracted, so that each calls half
/// of the reference texts positive: the balanced prior of the labelled sample, whatever
/// threshold a model learned (self-trained students drift towards one class).
pub fn combine_scores<const M: usize>(
    scores: &[Vec<f64>; M],
    reference: &[Vec<f64>; M],
    centre: bool,
) -> Vec<f64> {
    let scales = reference.each_ref().map(|r| {
        let centre = if centre { median(r) } else { 0.0 };
        let scale = super::results::mean_and_std(r).1.max(f64::MIN_POSITIVE);
        (centre, scale)
    });
    let n = scores.iter().map(Vec::len).min().unwrap_or(0);
    (0..n)
        .map(|i| {
            scores
                .iter()
                .zip(&scales)
                .map(|(s, (centre, scale))| (s[i] - centre) / scale)
                .sum()
        })
        .collect()
}

/// The median of `values` (0 when empty).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::combine_scores;

    #[test]
    fn combined_scores_weigh_each_model_by_its_spread_on_the_reference_texts() {
        // The first model's scores spread three times as wide: its 3 counts as the second's 1.
        let scores = [vec![3.0, -3.0, 6.0], vec![-2.0, 1.0, -1.0]];
        let reference = [vec![3.0, -3.0], vec![1.0, -1.0]];
        assert_eq!(
            combine_scores(&scores, &reference, false),
            vec![-1.0, 0.0, 1.0]
        );
        // Rescaling one model (scores and reference alike) changes nothing.
        let scaled = [
            scores[0].iter().map(|s| s * 100.0).collect(),
            scores[1].clone(),
        ];
        let scaled_reference = [vec![300.0, -300.0], reference[1].clone()];
        assert_eq!(
            combine_scores(&scaled, &scaled_reference, false),
            vec![-1.0, 0.0, 1.0]
        );
    }

    #[test]
    fn centred_scores_call_half_of_the_reference_texts_positive() {
        // Both models call every reference text positive; centred, each splits them in half.
        let reference = [vec![1.0, 2.0, 3.0, 4.0], vec![10.0, 20.0, 30.0, 40.0]];
        let combined = combine_scores(&reference, &reference, true);
        assert_eq!(combined.iter().filter(|&&c| c > 0.0).count(), 2);
        assert!(combined[0] < 0.0 && combined[3] > 0.0);
        // A median of an even count lies between the middle two; so does the threshold.
        let scores = [vec![2.5], vec![25.0]];
        assert_eq!(combine_scores(&scores, &reference, true), vec![0.0]);
        assert_eq!(super::median(&[3.0, 1.0, 2.0]), 2.0);
    }
}
