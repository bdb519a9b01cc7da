//! Checkpoints in Hugging Face layout: a model directory (`config.json`, `model.safetensors`,
//! `tokenizer.json` or `vocab.txt`) of any supported family (see [`MODEL_TYPES`]) loads as
//! three stages, and a fine-tuned tokenizer and encoder export back in their family's layout
//! and names, loadable by transformers' `AutoModel`.
//!
//! ```no_run
//! use burn::prelude::*;
//! use transfer_pipeline::io::hf::PretrainedEncoder;
//!
//! // BERT, RoBERTa, XLM-RoBERTa, DistilBERT, ELECTRA or MPNet: chosen by `model_type`.
//! let model = PretrainedEncoder::load("models/all-mpnet-base-v2", &Device::flex())?;
//! println!("{:?}: {} hidden units", model.family, model.hidden_size());
//! # Ok::<(), transfer_pipeline::TransferError>(())
//! ```

mod bert;
mod deberta;
mod distilbert;
mod electra;
mod family;
mod gpt2;
mod model;
mod modernbert;
mod mpnet;
mod roberta;
mod sentence;
mod weights;

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;
use transfer_contextual::{BertEncoder, ContextualEmbedder};
use transfer_embedder::{BertEmbeddings, TokenEmbedder};
pub use transfer_hub::ModelSource;
use transfer_predictor::Pooling;
use transfer_tokenizer::{HfTokenizer, Tokenizer};

pub use family::{Family, MODEL_TYPES, supported_model_types};
pub use model::{PretrainedModel, export_model};

use crate::error::{Result, TransferError};
use crate::io::write_atomic;

/// The embeddings and encoder under Hugging Face's top-level names.
#[derive(Module, Debug)]
struct HfEncoder {
    embeddings: BertEmbeddings,
    encoder: BertEncoder,
}

/// A pretrained transformer encoder: its tokenizer, token embedder and contextual embedder,
/// ready to compose into a [`TransferPipeline`](crate::TransferPipeline).
#[derive(Debug)]
pub struct PretrainedEncoder {
    pub tokenizer: HfTokenizer,
    pub embeddings: BertEmbeddings,
    pub encoder: BertEncoder,
    /// The family the checkpoint was read as.
    pub family: Family,
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let bytes = std::fs::read(path).map_err(|e| TransferError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| TransferError::format(path, e))
}

/// A tokenizer with more ids than the embedding table is another model's.
fn check_vocabulary(tokenizer: &HfTokenizer, vocab_size: usize, config_path: &Path) -> Result<()> {
    if tokenizer.vocab_size() > vocab_size {
        return Err(TransferError::StageMismatch(format!(
            "{}: the tokenizer has {} ids but {} says vocab_size {vocab_size}: a tokenizer of another model?",
            tokenizer.source().display(),
            tokenizer.vocab_size(),
            config_path.display(),
        )));
    }
    Ok(())
}

/// A model directory's `config.json`: its path, its fields and the family it names.
fn read_config(dir: &Path) -> Result<(PathBuf, serde_json::Value, Family)> {
    let path = dir.join("config.json");
    let json = read_json(&path)?;
    let family = family_of(&json, &path)?;
    Ok((path, json, family))
}

/// The family a `config.json` names (BERT when it names none).
fn family_of(json: &serde_json::Value, path: &Path) -> Result<Family> {
    let Some(kind) = json.get("model_type") else {
        return Ok(Family::Bert);
    };
    kind.as_str()
        .and_then(Family::from_model_type)
        .ok_or_else(|| {
            TransferError::format(
                path,
                format!(
                    "model_type {kind}: not a supported family (supported: {})",
                    supported_model_types()
                ),
            )
        })
}

impl PretrainedEncoder {
    /// Loads a model directory in Hugging Face layout, of any family in [`MODEL_TYPES`].
    /// fp32, fp16 and bf16 weights load (as fp32); a base model's tensors or those of a model
    /// with a head (`roberta.encoder…`) are read. An unsupported `model_type`, a config that
    /// does not match the weights (a missing tensor, a wrong shape), a corrupt weights file,
    /// or the tokenizer of another model (more ids than the embedding table) is an error
    /// naming the file and the field or tensor.
    ///
    /// `model` is a directory or a Hub id (`"sentence-transformers/all-MiniLM-L6-v2"`, see
    /// [`ModelSource`]): an id is read from the user's Hugging Face cache without the network,
    /// downloaded first only with [`ModelSource::downloading`].
    pub fn load(model: impl Into<ModelSource>, device: &Device) -> Result<Self> {
        let dir = &model.into().resolve()?;
        let (config_path, json, family) = read_config(dir)?;
        let (embeddings_config, encoder_config) = family
            .configs(&json)
            .map_err(|e| TransferError::format(&config_path, e))?;

        let tokenizer = HfTokenizer::from_pretrained_dir(dir)?;
        check_vocabulary(&tokenizer, embeddings_config.vocab_size, &config_path)?;

        let mut model = HfEncoder {
            embeddings: BertEmbeddings::from_config(&embeddings_config, device)?,
            encoder: BertEncoder::from_config(&encoder_config, device)?,
        };
        weights::load(&mut model, family, dir)?;
        Ok(Self {
            tokenizer,
            embeddings: model.embeddings,
            encoder: model.encoder,
            family,
        })
    }

    /// The encoder's output size.
    pub fn hidden_size(&self) -> usize {
        self.encoder.output_dim()
    }
}

/// Writes `tokenizer.json`, `tokenizer_config.json`, `config.json` and `model.safetensors` (the family's tensor names,
/// `[out, in]` linear weights, fp32) into `dir`, in the layout of the stages' family
/// ([`Family::of`]), so that transformers' `AutoModel.from_pretrained(dir)` computes the same
/// hidden states.
pub fn export_encoder(
    tokenizer: &HfTokenizer,
    embeddings: &BertEmbeddings,
    encoder: &BertEncoder,
    dir: impl AsRef<Path>,
) -> Result<PathBuf> {
    let e = embeddings.config();
    let c = encoder.config();
    let family = Family::of(&e, &c);
    let pad = tokenizer.special_tokens().pad;
    if e.position_offset > 0 && e.position_offset != pad as usize + 1 {
        return Err(TransferError::StageMismatch(format!(
            "positions start at {} but the tokenizer's pad id is {pad}: {} counts positions \
             from pad_token_id + 1",
            e.position_offset,
            family.model_type()
        )));
    }
    let model = HfEncoder {
        embeddings: embeddings.clone(),
        encoder: encoder.clone(),
    };
    let config = family.config_json(&e, &c, pad);
    let limit = embeddings.max_sequence_length();
    write_export(tokenizer, &model, family, config, limit, dir.as_ref())
}

/// Writes `config.json` (with `torch_dtype` and who exported it), `tokenizer.json`,
/// `tokenizer_config.json` and `model.safetensors` into `dir`.
fn write_export<M: Module>(
    tokenizer: &HfTokenizer,
    model: &M,
    family: Family,
    mut config: serde_json::Value,
    max_length: Option<usize>,
    dir: &Path,
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| TransferError::io(dir, e))?;
    config["torch_dtype"] = "float32".into();
    config["exported_by"] = concat!("transfer-nlp ", env!("CARGO_PKG_VERSION")).into();
    let config_path = dir.join("config.json");
    write_atomic(
        &config_path,
        &serde_json::to_vec_pretty(&config).map_err(|e| TransferError::format(&config_path, e))?,
    )?;
    tokenizer.save(&dir.join("tokenizer.json"))?;
    write_tokenizer_config(tokenizer, max_length, dir)?;
    weights::save(model, family, &dir.join("model.safetensors"))?;
    Ok(dir.to_path_buf())
}

/// `tokenizer_config.json` naming the fast tokenizer and its special tokens, so that
/// transformers' `AutoTokenizer` reads `tokenizer.json` as it is rather than building the
/// family's default tokenizer class from it (an XLM-R Unigram vocabulary exported under
/// `model_type: roberta` would otherwise be read as byte-level BPE).
fn write_tokenizer_config(
    tokenizer: &HfTokenizer,
    max_length: Option<usize>,
    dir: &Path,
) -> Result<()> {
    let s = tokenizer.special_tokens();
    let name = |id: Option<u32>| id.and_then(|id| tokenizer.id_to_token(id));
    let mut config = serde_json::json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "pad_token": name(Some(s.pad)),
    });
    for (key, id) in [
        ("unk_token", s.unk),
        ("cls_token", s.cls),
        ("sep_token", s.sep),
        ("mask_token", s.mask),
    ] {
        if let Some(token) = name(id) {
            config[key] = token.into();
        }
    }
    if let Some(limit) = max_length {
        config["model_max_length"] = limit.into();
    }
    let path = dir.join("tokenizer_config.json");
    let bytes = serde_json::to_vec_pretty(&config).map_err(|e| TransferError::format(&path, e))?;
    write_atomic(&path, &bytes)
}

impl PretrainedEncoder {
    /// Sentence embeddings as sentence-transformers computes them for these families: hidden
    /// states mean-pooled over the attention mask, then L2-normalised. Texts are cut at
    /// `max_length` tokens and run in batches of `batch_size` of similar lengths.
    pub fn sentence_embeddings<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        max_length: usize,
        batch_size: usize,
    ) -> Result<Vec<Vec<f32>>> {
        let stages = (&self.tokenizer, &self.embeddings, &self.encoder);
        sentence::embeddings(stages, Pooling::Mean, texts, max_length, batch_size)
    }
}
