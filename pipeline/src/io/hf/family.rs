//! The model families that load, chosen by `config.json`'s `model_type` (the `AutoModel`
//! idea): one file each for the tensor names and the `config.json` fields. Most load as
//! `BertEmbeddings` + `BertEncoder`; ModernBERT, GPT-2 and DeBERTa-v2 have stages of their own.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use transfer_contextual::BertEncoderConfig;
use transfer_embedder::BertEmbeddingsConfig;

use super::{bert, deberta, distilbert, electra, gpt2, modernbert, mpnet, roberta};

/// What is wrong with a `config.json`, for the caller to name the file.
pub(super) type ConfigError = String;

/// How a family's tensor names map to our module paths (regex, replacement; applied in
/// order), once a leading `prefix.` (the base model's name in a checkpoint with a head) is
/// dropped.
#[derive(Debug, Clone, Copy)]
pub(super) struct Names {
    pub prefixes: &'static [&'static str],
    pub to_ours: &'static [(&'static str, &'static str)],
    pub to_hf: &'static [(&'static str, &'static str)],
}

/// A transformer family of Hugging Face transformers that loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    Bert,
    /// RoBERTa, XLM-RoBERTa, CamemBERT.
    Roberta,
    DistilBert,
    /// ELECTRA's discriminator.
    Electra,
    Mpnet,
    /// ModernBERT (its own stages).
    ModernBert,
    /// GPT-2 (its own stages; causal).
    Gpt2,
    /// DeBERTa-v2 and v3 (its own stages; disentangled attention).
    DebertaV2,
}

/// Every `model_type` that loads, and its family.
pub const MODEL_TYPES: [(&str, Family); 10] = [
    ("bert", Family::Bert),
    ("roberta", Family::Roberta),
    ("xlm-roberta", Family::Roberta),
    ("camembert", Family::Roberta),
    ("distilbert", Family::DistilBert),
    ("electra", Family::Electra),
    ("mpnet", Family::Mpnet),
    ("modernbert", Family::ModernBert),
    ("gpt2", Family::Gpt2),
    ("deberta-v2", Family::DebertaV2),
];

impl Family {
    /// The family of a `config.json`'s `model_type`.
    pub fn from_model_type(model_type: &str) -> Option<Self> {
        MODEL_TYPES
            .iter()
            .find(|(name, _)| *name == model_type)
            .map(|&(_, family)| family)
    }

    /// The `model_type` an export writes.
    pub fn model_type(self) -> &'static str {
        match self {
            Self::Bert => "bert",
            Self::Roberta => "roberta",
            Self::DistilBert => "distilbert",
            Self::Electra => "electra",
            Self::Mpnet => "mpnet",
            Self::ModernBert => "modernbert",
            Self::Gpt2 => "gpt2",
            Self::DebertaV2 => "deberta-v2",
        }
    }

    /// Whether the checkpoint loads as `BertEmbeddings` + `BertEncoder`.
    pub fn has_bert_layout(self) -> bool {
        !matches!(self, Self::ModernBert | Self::Gpt2 | Self::DebertaV2)
    }

    /// Whether its linear weights are stored `[out, in]` (PyTorch's `nn.Linear`); GPT-2's
    /// `Conv1D`s are stored `[in, out]`, as ours.
    pub(super) fn stores_linear_transposed(self) -> bool {
        self != Self::Gpt2
    }

    /// The family whose layout these stages have (what an export of them writes).
    pub fn of(embeddings: &BertEmbeddingsConfig, encoder: &BertEncoderConfig) -> Self {
        if encoder.relative_attention_num_buckets.is_some() {
            Self::Mpnet
        } else if embeddings.embedding_size.is_some() {
            Self::Electra
        } else if embeddings.type_vocab_size == 0 {
            Self::DistilBert
        } else if embeddings.position_offset > 0 {
            Self::Roberta
        } else {
            Self::Bert
        }
    }

    pub(super) fn names(self) -> Names {
        match self {
            Self::Bert => bert::NAMES,
            Self::Roberta => roberta::NAMES,
            Self::DistilBert => distilbert::NAMES,
            Self::Electra => electra::NAMES,
            Self::Mpnet => mpnet::NAMES,
            Self::ModernBert => modernbert::NAMES,
            Self::Gpt2 => gpt2::NAMES,
            Self::DebertaV2 => deberta::NAMES,
        }
    }

    /// The BERT stages' configs from a `config.json` of this family.
    pub(super) fn configs(
        self,
        json: &Value,
    ) -> Result<(BertEmbeddingsConfig, BertEncoderConfig), ConfigError> {
        match self {
            Self::Bert => bert::configs(json),
            Self::Roberta => roberta::configs(json),
            Self::DistilBert => distilbert::configs(json),
            Self::Electra => electra::configs(json),
            Self::Mpnet => mpnet::configs(json),
            Self::ModernBert | Self::Gpt2 | Self::DebertaV2 => Err(format!(
                "model_type {:?} has stages of its own: load it with PretrainedModel::load",
                self.model_type()
            )),
        }
    }

    /// A `config.json` of this family for these BERT stages ([`Family::of`] them).
    pub(super) fn config_json(
        self,
        e: &BertEmbeddingsConfig,
        c: &BertEncoderConfig,
        pad: u32,
    ) -> Value {
        match self {
            Self::Bert | Self::ModernBert | Self::Gpt2 | Self::DebertaV2 => {
                bert::config_json(e, c, pad)
            }
            Self::Roberta => roberta::config_json(e, c, pad),
            Self::DistilBert => distilbert::config_json(e, c, pad),
            Self::Electra => electra::config_json(e, c, pad),
            Self::Mpnet => mpnet::config_json(e, c, pad),
        }
    }
}

/// The supported `model_type`s, for error messages.
pub fn supported_model_types() -> String {
    MODEL_TYPES.map(|(name, _)| name).join(", ")
}

pub(super) fn usize_field(json: &Value, name: &str) -> Result<usize, ConfigError> {
    json.get(name)
        .and_then(Value::as_u64)
        .map(|v| v as usize)
        .ok_or_else(|| format!("{name}: missing from config.json or not a non-negative integer"))
}

pub(super) fn f64_or(json: &Value, name: &str, default: f64) -> Result<f64, ConfigError> {
    json.get(name)
        .map_or(Some(default), Value::as_f64)
        .ok_or_else(|| format!("{name}: not a number"))
}

/// `pad_token_id`, `default` when absent.
pub(super) fn pad_token_id(json: &Value, default: usize) -> Result<usize, ConfigError> {
    match json.get("pad_token_id") {
        None | Some(Value::Null) => Ok(default),
        Some(_) => usize_field(json, "pad_token_id"),
    }
}
