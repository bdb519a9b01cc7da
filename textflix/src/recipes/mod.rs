//! The study's recipes, one a file behind [`Recipe`], and the registry that names them
//! ([`Model`]). To add one: a file here with a `static` of a type that implements [`Recipe`],
//! and a line in [`REGISTRY`].

mod bilstm;
mod cotrain;
mod fine_tuned;
mod nbsvm;
mod nbsvm_ensemble;
mod self_trained;
mod self_trained_ensemble;
mod ulmfit;
mod wvsum;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use transfer_nlp::{Example, TransferError};

use crate::context::Context;
use crate::networks::{Bert, Ulmfit};

pub use bilstm::{BilstmPipeline, WordVectorBilstm};
pub use cotrain::CoTrained;
pub use fine_tuned::FineTuned;
pub use nbsvm::Nbsvm;
pub use nbsvm_ensemble::NbsvmEnsemble;
pub use self_trained::SelfTrained;
pub use self_trained_ensemble::SelfTrainedEnsemble;
pub use ulmfit::UlmfitClassifier;
pub(crate) use ulmfit::ulmfit_scores;
pub use wvsum::Wvsum;

/// What a cell reports: its accuracy on the scored reviews and its training seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellScore {
    pub accuracy: f64,
    pub train_seconds: f64,
}

/// One way of learning from `n` labelled reviews, scored on the study's test (or held-out)
/// reviews.
///
/// ```
/// use transfer_nlp::{Example, TransferError};
/// use transfer_textflix::{CellScore, Context, Recipe};
///
/// /// Calls every review positive: the floor any recipe must beat.
/// struct AllPositive;
///
/// impl Recipe for AllPositive {
///     fn name(&self) -> &'static str {
///         "all-positive"
///     }
///
///     fn is_transfer(&self) -> bool {
///         false
///     }
///
///     fn run_cell(
///         &self,
///         ctx: &Context,
///         _sample: &[Example],
///         _seed: u64,
///     ) -> Result<CellScore, TransferError> {
///         let calls = vec![true; ctx.test.len()];
///         Ok(CellScore { accuracy: ctx.accuracy(&calls), train_seconds: 0.0 })
///     }
/// }
/// assert!(!AllPositive.uses_unlabelled());
/// ```
pub trait Recipe: Sync {
    /// The name in `run.json`, `results.json` and `--models`.
    fn name(&self) -> &'static str;
    /// Trains on a Burn pipeline (BERT or ULMFiT): runs at the transfer sizes and seeds, on the
    /// study's device. The baselines run on the CPU.
    fn is_transfer(&self) -> bool {
        true
    }
    /// Uses ULMFiT's language model (trained once per output directory).
    fn uses_language_model(&self) -> bool {
        false
    }
    /// Reads the 50,000 unlabelled reviews (a language model, a pseudo-label pool, or the
    /// reviews that weigh an ensemble's scores).
    fn uses_unlabelled(&self) -> bool {
        self.uses_language_model()
    }
    /// Trains on `sample` with `seed` and scores on `ctx.test`.
    fn run_cell(
        &self,
        ctx: &Context,
        sample: &[Example],
        seed: u64,
    ) -> Result<CellScore, TransferError>;
}

/// NB-SVM on binarised uni- and bigrams.
pub static NBSVM: Nbsvm = Nbsvm::new("nbsvm", false);
/// NB-SVM with its intercept refitted after the interpolation
/// (`NbSvmConfig::midpoint_intercept`).
pub static NBSVM_MIDPOINT: Nbsvm = Nbsvm::new("nbsvm-midpoint", true);
/// GloVe vectors summed over the text + logistic regression.
pub static WVSUM: Wvsum = Wvsum;
/// The study's word vectors, frozen, under a BiLSTM with a mean-pooled linear head.
pub static BILSTM_FROZEN: WordVectorBilstm = WordVectorBilstm::new("bilstm-frozen", true);
/// As `bilstm-frozen`, the vectors fine-tuned with the rest.
pub static BILSTM_TUNED: WordVectorBilstm = WordVectorBilstm::new("bilstm-tuned", false);
/// MiniLM fine-tuned: mean pooling + linear head, AdamW, warm-up then linear decay.
pub static BERT: FineTuned = FineTuned::new("bert", false);
/// BERT self-trained: the fine-tuned MiniLM labels unlabelled reviews, and a fresh MiniLM is
/// fine-tuned on the labelled reviews and its most confident guesses.
pub static BERT_ST: SelfTrained<Bert> = SelfTrained::new("bert-st", Bert);
/// BERT domain-adapted: masked-LM training continued on the unlabelled reviews (once per run),
/// then fine-tuned as `bert`.
pub static BERT_MLM: FineTuned = FineTuned::new("bert-mlm", true);
/// ULMFiT: an LSTM language model pretrained on the unlabelled and training reviews, then a
/// classifier with concat pooling, discriminative rates, slanted triangular schedule and gradual
/// unfreezing.
pub static ULMFIT: UlmfitClassifier = UlmfitClassifier;
/// ULMFiT self-trained, as `bert-st`, from the same language model.
pub static ULMFIT_ST: SelfTrained<Ulmfit> = SelfTrained::new("ulmfit-st", Ulmfit);
/// ULMFiT and NB-SVM trained on the same sample, their scores added, each weighed on its spread
/// over unlabelled reviews (Mesnil et al. 2015).
pub static ULMFIT_NBSVM: NbsvmEnsemble<Ulmfit> = NbsvmEnsemble::new("ulmfit-nbsvm", Ulmfit);
/// `ulmfit-nbsvm` self-trained: the ensemble labels unlabelled reviews, and a fresh ULMFiT
/// classifier and a fresh NB-SVM train on the sample and its surest guesses.
pub static ULMFIT_NBSVM_ST: SelfTrainedEnsemble<Ulmfit> =
    SelfTrainedEnsemble::new("ulmfit-nbsvm-st", Ulmfit);
/// BERT and NB-SVM trained on the same sample, their scores added as in `ulmfit-nbsvm`.
pub static BERT_NBSVM: NbsvmEnsemble<Bert> = NbsvmEnsemble::new("bert-nbsvm", Bert);
/// `bert-nbsvm` self-trained as `ulmfit-nbsvm-st`.
pub static BERT_NBSVM_ST: SelfTrainedEnsemble<Bert> =
    SelfTrainedEnsemble::new("bert-nbsvm-st", Bert);
/// `bert-nbsvm` co-trained where only NB-SVM learns again (one fine-tuning a cell: CPU-sized).
pub static BERT_NBSVM_COTRAIN: CoTrained = CoTrained;

/// Every recipe, in the order `--help` and the docs list them.
pub static REGISTRY: [&dyn Recipe; 15] = [
    &NBSVM,
    &NBSVM_MIDPOINT,
    &WVSUM,
    &BILSTM_FROZEN,
    &BILSTM_TUNED,
    &BERT,
    &BERT_ST,
    &BERT_MLM,
    &ULMFIT,
    &ULMFIT_ST,
    &ULMFIT_NBSVM,
    &ULMFIT_NBSVM_ST,
    &BERT_NBSVM,
    &BERT_NBSVM_ST,
    &BERT_NBSVM_COTRAIN,
];

/// A recipe of the study, named as in [`REGISTRY`]; serialised as its name.
///
/// ```
/// use transfer_textflix::Model;
/// let bert: Model = "bert".parse().unwrap();
/// assert_eq!(bert.name(), "bert");
/// assert!(bert.recipe().is_transfer());
/// assert!("bret".parse::<Model>().unwrap_err().to_string().contains("bert-mlm"));
/// ```
#[derive(Clone, Copy)]
pub struct Model(&'static dyn Recipe);

impl Model {
    pub const fn new(recipe: &'static dyn Recipe) -> Self {
        Self(recipe)
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    pub fn recipe(self) -> &'static dyn Recipe {
        self.0
    }

    /// Every registered recipe.
    pub fn all() -> impl Iterator<Item = Model> {
        REGISTRY.iter().map(|&recipe| Model(recipe))
    }
}

/// A name that is no recipe's.
#[derive(Debug, thiserror::Error)]
#[error("unknown model `{name}`: one of {}", Model::all().map(Model::name).collect::<Vec<_>>().join(", "))]
pub struct UnknownModel {
    pub name: String,
}

impl FromStr for Model {
    type Err = UnknownModel;

    fn from_str(name: &str) -> Result<Self, UnknownModel> {
        Model::all()
            .find(|m| m.name() == name)
            .ok_or_else(|| UnknownModel { name: name.into() })
    }
}

impl PartialEq for Model {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Model {}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Model {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Model {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::Model;

    #[test]
    fn every_recipe_has_its_own_name_and_round_trips_through_json() {
        let names: Vec<&str> = Model::all().map(Model::name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        for model in Model::all() {
            let json = serde_json::to_string(&model).unwrap();
            assert_eq!(serde_json::from_str::<Model>(&json).unwrap(), model);
        }
        assert!(serde_json::from_str::<Model>("\"ulmfit-nbsvm-sst\"").is_err());
    }

    #[test]
    fn the_baselines_alone_run_on_the_cpu_and_need_no_unlabelled_reviews() {
        let baselines: Vec<&str> = Model::all()
            .filter(|m| !m.recipe().is_transfer())
            .map(Model::name)
            .collect();
        assert_eq!(baselines, ["nbsvm", "nbsvm-midpoint", "wvsum"]);
        let unlabelled: Vec<&str> = Model::all()
            .filter(|m| m.recipe().uses_unlabelled())
            .map(Model::name)
            .collect();
        assert_eq!(
            unlabelled,
            [
                "bert-st",
                "bert-mlm",
                "ulmfit",
                "ulmfit-st",
                "ulmfit-nbsvm",
                "ulmfit-nbsvm-st",
                "bert-nbsvm",
                "bert-nbsvm-st",
                "bert-nbsvm-cotrain"
            ]
        );
    }
}
