//! BERT (`model_type: bert`) and the checkpoints of its architecture (MiniLM, BGE, E5, …).

use serde_json::{Value, json};
use transfer_contextual::{BertEncoderConfig, HiddenAct};
use transfer_embedder::BertEmbeddingsConfig;

use super::family::{ConfigError, Names};

/// Hugging Face names → our module paths, after the `bert.` prefix is dropped.
pub(super) const NAMES: Names = Names {
    prefixes: &["bert"],
    to_ours: &[
        (r"(^|\.)LayerNorm\.", "${1}layer_norm."),
        (r"\.attention\.self\.", ".attention.self_attention."),
    ],
    to_hf: &[
        (r"(^|\.)layer_norm\.", "${1}LayerNorm."),
        (r"\.self_attention\.", ".self."),
    ],
};

pub(super) fn configs(
    json: &Value,
) -> Result<(BertEmbeddingsConfig, BertEncoderConfig), ConfigError> {
    let embeddings = BertEmbeddingsConfig::from_hf_json(json).map_err(|e| e.to_string())?;
    let encoder = BertEncoderConfig::from_hf_json(json).map_err(|e| e.to_string())?;
    Ok((embeddings, encoder))
}

pub(super) fn hidden_act_name(act: HiddenAct) -> &'static str {
    match act {
        HiddenAct::Gelu => "gelu",
        HiddenAct::GeluApproximate => "gelu_pytorch_tanh",
        HiddenAct::Relu => "relu",
    }
}

/// `config.json` of a BERT with these stages.
pub(super) fn config_json(e: &BertEmbeddingsConfig, c: &BertEncoderConfig, pad: u32) -> Value {
    json!({
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": e.vocab_size,
        "hidden_size": c.hidden_size,
        "num_hidden_layers": c.num_hidden_layers,
        "num_attention_heads": c.num_attention_heads,
        "intermediate_size": c.intermediate_size,
        "hidden_act": hidden_act_name(c.hidden_act),
        "hidden_dropout_prob": c.hidden_dropout_prob,
        "attention_probs_dropout_prob": 0.0,
        "max_position_embeddings": e.max_position_embeddings,
        "type_vocab_size": e.type_vocab_size,
        "layer_norm_eps": c.layer_norm_eps,
        "pad_token_id": pad,
        "position_embedding_type": "absolute",
    })
}
