//! What one run of the study does: [`StudyConfig`] and the settings of each family, serde
//! values (`run.json` holds the run's), every field checked by name (`deny_unknown_fields`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use transfer_nlp::TransferError;
use transfer_nlp::contextual::Precision;

use crate::recipes::{self, Model};

/// What one run of the study does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyConfig {
    pub models: Vec<Model>,
    /// Training sizes of the baselines (NB-SVM, word-vector sums).
    pub sizes: Vec<usize>,
    pub seeds: u64,
    /// Training sizes and seeds of the transfer models (BERT, ULMFiT), which cost far more.
    pub transfer_sizes: Vec<usize>,
    pub transfer_seeds: u64,
    /// The first seed of every row: its cells use seeds `first_seed .. first_seed + seeds`
    /// (`transfer_seeds` for the transfer models), so that a run can add seeds to another
    /// run's without repeating them.
    #[serde(default)]
    pub first_seed: u64,
    /// A balanced, seeded subset of the test set; all 25,000 reviews when `None`.
    pub test_size: Option<usize>,
    /// Score on this many balanced training reviews, held out of every training sample,
    /// instead of the test set: for choosing settings without looking at the test set.
    #[serde(default)]
    pub held_out: Option<usize>,
    /// A JSON file of the exact reviews to train and score on (written for the PyTorch
    /// reference by `scripts/reference_samples.py`): its `test` list replaces `test_size`'s
    /// draw, and each (n, seed) cell trains on its `train[n][seed]` list (an error naming the
    /// file, n and seed when it has none) instead of a seeded balanced draw. Relative to the
    /// working directory; not with `held_out`. See [`crate::Selection`].
    #[serde(default)]
    pub samples: Option<PathBuf>,
    /// `cpu`, `tch`, `cuda`, `cuda:N`.
    pub device: String,
    /// `aclImdb_v1.tar.gz` or an `aclImdb/` directory.
    pub data: PathBuf,
    pub vectors: PathBuf,
    pub bert: BertSettings,
    #[serde(default)]
    pub self_training: SelfTrainingSettings,
    #[serde(default)]
    pub mlm: MlmSettings,
    pub ulmfit: UlmfitSettings,
    #[serde(default)]
    pub bilstm: BilstmSettings,
    /// The ensembles (`*-nbsvm`, `*-nbsvm-st`, `*-cotrain`) centre each model's scores on
    /// unlabelled reviews before adding them ([`combine_scores`]): when self-training picks
    /// its guesses, and when a cell is scored unless `centre_ensemble` says otherwise.
    #[serde(default)]
    pub centre_scores: bool,
    /// Whether the ensemble that scores a cell centres the scores; `centre_scores` when unset
    /// ([`StudyConfig::centres_ensemble`]).
    #[serde(default)]
    pub centre_ensemble: Option<bool>,
    pub quick: bool,
}

impl StudyConfig {
    /// The full study: sizes 10 … 10,000, 3 seeds, all 25,000 test reviews, max 256 tokens.
    /// `ulmfit-nbsvm` comes after `ulmfit`, whose classifiers it reuses; then the
    /// self-trained ensembles, `bert-nbsvm-st` the best at n <= 100 (83.3 % at 100 on a GPU).
    pub fn full(assets: &Path) -> Self {
        Self {
            models: vec![
                Model::new(&recipes::NBSVM),
                Model::new(&recipes::WVSUM),
                Model::new(&recipes::BERT),
                Model::new(&recipes::ULMFIT),
                Model::new(&recipes::ULMFIT_NBSVM),
                Model::new(&recipes::ULMFIT_NBSVM_ST),
                Model::new(&recipes::BERT_NBSVM_ST),
            ],
            sizes: vec![10, 100, 500, 1000, 10000],
            seeds: 3,
            transfer_sizes: vec![10, 100, 500, 1000, 10000],
            transfer_seeds: 3,
            first_seed: 0,
            test_size: None,
            held_out: None,
            samples: None,
            device: "cpu".into(),
            data: assets.join("data/aclImdb_v1.tar.gz"),
            vectors: assets.join("vectors/glove.6B.50d.100k.txt.gz"),
            bert: BertSettings {
                model_dir: assets.join("models/all-MiniLM-L6-v2"),
                max_length: 256,
                head_tail: false,
                learning_rate: 5e-5,
                batch_size: 16,
                min_epochs: 3,
                min_steps: 150,
                precision: Precision::F32,
            },
            self_training: SelfTrainingSettings::default(),
            mlm: MlmSettings::default(),
            ulmfit: UlmfitSettings {
                vocab_size: 30_000,
                dim: 256,
                num_layers: 3,
                dropout: 0.2,
                lm_epochs: 1,
                lm_tokens: None,
                lm_learning_rate: 1e-2,
                lm_batch_size: 64,
                max_length: 400,
                learning_rate: 1e-2,
                // Gradual unfreezing takes the first three; the whole model trains in the rest.
                min_epochs: 8,
                // Binds at n = 100 (32 steps otherwise): +3.5 points on held-out training
                // reviews (docs/results/textflix/README.md, ULMFiT).
                min_steps: 100,
                // 0.4 / 0.5: worse at n = 100 and 1,000 on held-out training reviews, no
                // gain on the test set at 10,000 (README.md, ULMFiT's classifier dropout).
                classifier_lstm_dropout: 0.2,
                classifier_head_dropout: 0.2,
            },
            bilstm: BilstmSettings::default(),
            centre_scores: false,
            centre_ensemble: None,
            quick: false,
        }
    }

    /// The README's main job on 2 cores (about 8 minutes): NB-SVM and word-vector sums at
    /// every size with 3 seeds; BERT at 10, 100 and 500 with one seed, 128 tokens and at least
    /// 60 steps; all scored on 1,000 balanced test reviews. ULMFiT and the BERT variants are
    /// left out: a useful language model takes about an hour of CPU, and each variant cell
    /// several times a BERT cell (add them with `models`; the language model then reads 1.5
    /// million tokens, masked-LM adaptation takes 200 steps of 16 reviews, self-training
    /// labels 2,000 unlabelled reviews and keeps 400 per class).
    pub fn quick(assets: &Path) -> Self {
        let mut config = Self::full(assets);
        config.quick = true;
        config.models = vec![
            Model::new(&recipes::NBSVM),
            Model::new(&recipes::WVSUM),
            Model::new(&recipes::BERT),
        ];
        config.transfer_sizes = vec![10, 100, 500];
        config.transfer_seeds = 1;
        config.test_size = Some(1000);
        config.bert.max_length = 128;
        config.bert.min_steps = 60;
        config.self_training = SelfTrainingSettings {
            unlabelled: 2_000,
            per_class: 400,
            student_epochs: 1,
            ..SelfTrainingSettings::default()
        };
        config.mlm = MlmSettings {
            steps: 200,
            batch_size: 16,
            max_length: 128,
            ..MlmSettings::default()
        };
        config.ulmfit = UlmfitSettings {
            vocab_size: 15_000,
            dim: 128,
            num_layers: 2,
            lm_tokens: Some(1_500_000),
            max_length: 256,
            ..config.ulmfit
        };
        config
    }

    /// Whether the ensemble that scores a cell centres each model's scores: `centre_ensemble`,
    /// else `centre_scores`.
    ///
    /// ```
    /// # use transfer_textflix::StudyConfig;
    /// let mut config = StudyConfig::quick("assets".as_ref());
    /// config.centre_scores = true;
    /// assert!(config.centres_ensemble());
    /// config.centre_ensemble = Some(false); // guesses picked centred, the cell scored uncentred
    /// assert!(!config.centres_ensemble());
    /// ```
    pub fn centres_ensemble(&self) -> bool {
        self.centre_ensemble.unwrap_or(self.centre_scores)
    }

    /// Every (model, n, seed) cell of the run, in order.
    pub(crate) fn plan(&self) -> Vec<(Model, usize, u64)> {
        let mut cells = Vec::new();
        for &model in &self.models {
            let (sizes, seeds) = if model.recipe().is_transfer() {
                (&self.transfer_sizes, self.transfer_seeds)
            } else {
                (&self.sizes, self.seeds)
            };
            for &n in sizes {
                for seed in self.first_seed..self.first_seed + seeds {
                    cells.push((model, n, seed));
                }
            }
        }
        cells
    }
}

/// Settings of the BERT family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BertSettings {
    /// A model directory in Hugging Face layout, or a Hub id (`ORG/NAME[@REVISION]`) read from
    /// the Hugging Face cache.
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

impl BertSettings {
    /// Where the encoder is read from: the directory, or the Hub id in the cache.
    pub fn model_source(&self) -> transfer_nlp::pipeline::io::hf::ModelSource {
        self.model_dir.to_string_lossy().as_ref().into()
    }
}

/// Settings of self-training (`bert-st`, `ulmfit-st`, `ulmfit-nbsvm-st`; the family's own
/// settings apply to teacher and student).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

    /// Checked once by [`crate::run`], before any cell.
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
#[serde(deny_unknown_fields)]
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

/// Settings of the word-vector BiLSTM (`bilstm-frozen`, `bilstm-tuned`): the study's
/// `vectors` under a one-layer bidirectional LSTM, mean pooling and a linear head, trained with
/// AdamW (no weight decay), warm-up then linear decay, gradients clipped at 1.0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BilstmSettings {
    /// Hidden units in each direction.
    pub hidden: usize,
    /// The first `max_length` word-level tokens of each review.
    pub max_length: usize,
    pub learning_rate: f64,
    pub batch_size: usize,
    pub min_epochs: usize,
    pub min_steps: usize,
    /// Dropout before the head.
    pub dropout: f64,
}

impl Default for BilstmSettings {
    fn default() -> Self {
        Self {
            hidden: 64,
            max_length: 256,
            learning_rate: 3e-3,
            batch_size: 16,
            min_epochs: 8,
            min_steps: 200,
            dropout: 0.3,
        }
    }
}

/// Settings of the ULMFiT family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    pub(crate) fn language_model_settings(&self) -> serde_json::Value {
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
