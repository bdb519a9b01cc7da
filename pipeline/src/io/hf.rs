//! Checkpoints in Hugging Face layout: a BERT-architecture model directory (`config.json`,
//! `model.safetensors`, `tokenizer.json` or `vocab.txt`) loads as three stages, and a
//! fine-tuned tokenizer and encoder export back with the original tensor names, loadable by
//! transformers' `AutoModel`.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;
use burn::store::{
    BurnToPyTorchAdapter, FloatCastAdapter, ModuleAdapter, ModuleSnapshot, PyTorchToBurnAdapter,
    SafetensorsStore,
};
use burn::tensor::DType;
use transfer_contextual::{BertEncoder, BertEncoderConfig, ContextualEmbedder, HiddenAct};
use transfer_embedder::{BertEmbeddings, BertEmbeddingsConfig, TokenEmbedder};
use transfer_tokenizer::{HfTokenizer, Tokenizer};

use crate::error::{Result, TransferError};
use crate::io::write_atomic;
use crate::pipeline::{Batch, rows_of, uploaded_batches};
use crate::runtime::overlap::read_inference_outputs;

/// BERT's embeddings and encoder under Hugging Face's top-level names.
#[derive(Module, Debug)]
struct HfBert {
    embeddings: BertEmbeddings,
    encoder: BertEncoder,
}

/// A pretrained BERT-architecture model: its tokenizer, token embedder and contextual
/// embedder, ready to compose into a [`TransferPipeline`](crate::TransferPipeline).
#[derive(Debug)]
pub struct PretrainedBert {
    pub tokenizer: HfTokenizer,
    pub embeddings: BertEmbeddings,
    pub encoder: BertEncoder,
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let bytes = std::fs::read(path).map_err(|e| TransferError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| TransferError::format(path, e))
}

/// Hugging Face names → our module paths.
fn hf_to_burn_names(store: SafetensorsStore) -> SafetensorsStore {
    store
        .with_key_remapping(r"(^|\.)LayerNorm\.", "${1}layer_norm.")
        .with_key_remapping(r"\.attention\.self\.", ".attention.self_attention.")
        .with_key_remapping(r"^bert\.", "")
}

impl PretrainedBert {
    /// Loads a model directory in Hugging Face layout. fp32, fp16 and bf16 weights load (as
    /// fp32). A config that does not match the weights (a missing tensor, a wrong shape), a
    /// corrupt weights file, or the tokenizer of another model (more ids than the embedding
    /// table) is an error naming the file and the tensor.
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let config_path = dir.join("config.json");
        let json = read_json(&config_path)?;
        if let Some(kind) = json.get("model_type").and_then(|v| v.as_str())
            && kind != "bert"
        {
            return Err(TransferError::format(
                &config_path,
                format!("model_type {kind:?}: only BERT-architecture models (\"bert\") load"),
            ));
        }
        let in_config = |e: String| TransferError::format(&config_path, e);
        let embeddings_config =
            BertEmbeddingsConfig::from_hf_json(&json).map_err(|e| in_config(e.to_string()))?;
        let encoder_config =
            BertEncoderConfig::from_hf_json(&json).map_err(|e| in_config(e.to_string()))?;

        let tokenizer = HfTokenizer::from_pretrained_dir(dir)?;
        if tokenizer.vocab_size() > embeddings_config.vocab_size {
            return Err(TransferError::StageMismatch(format!(
                "{}: the tokenizer has {} ids but {} says vocab_size {}: a tokenizer of another model?",
                tokenizer.source().display(),
                tokenizer.vocab_size(),
                config_path.display(),
                embeddings_config.vocab_size
            )));
        }

        let mut model = HfBert {
            embeddings: BertEmbeddings::from_config(&embeddings_config, device)?,
            encoder: BertEncoder::from_config(&encoder_config, device)?,
        };
        let weights = dir.join("model.safetensors");
        load_hf_weights(&mut model, &weights)?;
        Ok(Self {
            tokenizer,
            embeddings: model.embeddings,
            encoder: model.encoder,
        })
    }
}

fn load_hf_weights(model: &mut HfBert, path: &Path) -> Result<()> {
    crate::io::check_weights_size(model, path)?;
    let store = SafetensorsStore::from_file(path)
        .with_from_adapter(PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32)))
        .validate(true);
    let mut store = hf_to_burn_names(store);
    model
        .load_from(&mut store)
        .map_err(|e| TransferError::Weights {
            path: path.into(),
            message: e.to_string(),
        })?;
    Ok(())
}

/// Writes `tokenizer.json`, `config.json` and `model.safetensors` (Hugging Face tensor names,
/// `[out, in]` linear weights, fp32) into `dir`, so that transformers'
/// `AutoModel.from_pretrained(dir)` computes the same hidden states.
pub fn export_bert(
    tokenizer: &HfTokenizer,
    embeddings: &BertEmbeddings,
    encoder: &BertEncoder,
    dir: impl AsRef<Path>,
) -> Result<PathBuf> {
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir).map_err(|e| TransferError::io(dir, e))?;
    let e = embeddings.config();
    let c = encoder.config();
    let config = serde_json::json!({
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": e.vocab_size,
        "hidden_size": c.hidden_size,
        "num_hidden_layers": c.num_hidden_layers,
        "num_attention_heads": c.num_attention_heads,
        "intermediate_size": c.intermediate_size,
        "hidden_act": match c.hidden_act {
            HiddenAct::Gelu => "gelu",
            HiddenAct::GeluApproximate => "gelu_pytorch_tanh",
            HiddenAct::Relu => "relu",
        },
        "hidden_dropout_prob": c.hidden_dropout_prob,
        "attention_probs_dropout_prob": 0.0,
        "max_position_embeddings": e.max_position_embeddings,
        "type_vocab_size": e.type_vocab_size,
        "layer_norm_eps": c.layer_norm_eps,
        "pad_token_id": tokenizer.special_tokens().pad,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "exported_by": concat!("transfer-nlp ", env!("CARGO_PKG_VERSION")),
    });
    let config_path = dir.join("config.json");
    write_atomic(
        &config_path,
        &serde_json::to_vec_pretty(&config).map_err(|e| TransferError::format(&config_path, e))?,
    )?;
    tokenizer.save(&dir.join("tokenizer.json"))?;

    let model = HfBert {
        embeddings: embeddings.clone(),
        encoder: encoder.clone(),
    };
    let weights = dir.join("model.safetensors");
    let mut store = SafetensorsStore::from_bytes(None)
        .with_to_adapter(BurnToPyTorchAdapter)
        .with_key_remapping(r"(^|\.)layer_norm\.", "${1}LayerNorm.")
        .with_key_remapping(r"\.self_attention\.", ".self.")
        .metadata("format", "pt");
    model
        .save_into(&mut store)
        .map_err(|e| TransferError::format(&weights, e))?;
    let bytes = store
        .get_bytes()
        .map_err(|e| TransferError::format(&weights, e))?;
    write_atomic(&weights, &bytes)?;
    Ok(dir.to_path_buf())
}

impl PretrainedBert {
    /// Sentence embeddings as sentence-transformers computes them for this family: hidden
    /// states mean-pooled over the attention mask, then L2-normalised. Texts are cut at
    /// `max_length` tokens and run in batches of `batch_size` of similar lengths.
    pub fn sentence_embeddings<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        max_length: usize,
        batch_size: usize,
    ) -> Result<Vec<Vec<f32>>> {
        let limit = self.embeddings.max_sequence_length().unwrap_or(usize::MAX);
        if max_length > limit {
            return Err(TransferError::InvalidConfig {
                field: "max_length",
                message: format!("{max_length} is longer than the model's {limit} positions"),
            });
        }
        let policy = transfer_tokenizer::EncodePolicy::new(max_length);
        let encoded: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| {
                self.tokenizer
                    .encode(t.as_ref(), &policy)
                    .map(|(e, _)| e.ids)
            })
            .collect::<std::result::Result<_, _>>()?;
        let device = self
            .embeddings
            .devices()
            .into_iter()
            .next()
            .unwrap_or_default();
        let pad = self.tokenizer.special_tokens().pad;
        let mut out = vec![Vec::new(); texts.len()];
        let queued = uploaded_batches(&encoded, batch_size, pad, &device, |_| ()).map(
            |(batch, tensors, ())| {
                let Batch { ids, mask, padded } = tensors;
                let embedded = self.embeddings.forward(ids);
                let states = self
                    .encoder
                    .forward_known_padding(embedded, mask.clone(), padded);
                let pooled =
                    transfer_predictor::pool(states, mask, transfer_predictor::Pooling::Mean);
                let norms = pooled.clone().square().sum_dim(1).sqrt().clamp_min(1e-12);
                (batch, pooled / norms)
            },
        );
        read_inference_outputs(queued, |(batch, unit)| {
            for (&i, row) in batch.iter().zip(rows_of(unit)) {
                out[i] = row;
            }
        });
        Ok(out)
    }
}
