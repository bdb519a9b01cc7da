//! DistilBERT (`distilbert`): BERT's layers under other names, without token types.

use serde_json::{Value, json};
use transfer_contextual::{BertEncoderConfig, HiddenAct};
use transfer_embedder::BertEmbeddingsConfig;

use super::family::{ConfigError, Names, f64_or, usize_field};

pub(super) const NAMES: Names = Names {
    prefixes: &["distilbert"],
    to_ours: &[
        (r"^transformer\.layer\.", "encoder.layer."),
        (r"\.attention\.q_lin\.", ".attention.self_attention.query."),
        (r"\.attention\.k_lin\.", ".attention.self_attention.key."),
        (r"\.attention\.v_lin\.", ".attention.self_attention.value."),
        (r"\.attention\.out_lin\.", ".attention.output.dense."),
        (r"\.sa_layer_norm\.", ".attention.output.layer_norm."),
        (r"\.ffn\.lin1\.", ".intermediate.dense."),
        (r"\.ffn\.lin2\.", ".output.dense."),
        (r"\.output_layer_norm\.", ".output.layer_norm."),
        (r"^embeddings\.LayerNorm\.", "embeddings.layer_norm."),
    ],
    to_hf: &[
        (r"^encoder\.layer\.", "transformer.layer."),
        (r"\.attention\.self_attention\.query\.", ".attention.q_lin."),
        (r"\.attention\.self_attention\.key\.", ".attention.k_lin."),
        (r"\.attention\.self_attention\.value\.", ".attention.v_lin."),
        (r"\.attention\.output\.dense\.", ".attention.out_lin."),
        (r"\.attention\.output\.layer_norm\.", ".sa_layer_norm."),
        (r"\.intermediate\.dense\.", ".ffn.lin1."),
        (r"\.output\.dense\.", ".ffn.lin2."),
        (r"\.output\.layer_norm\.", ".output_layer_norm."),
        (r"^embeddings\.layer_norm\.", "embeddings.LayerNorm."),
    ],
};

/// DistilBERT's LayerNorm epsilon (not in its config).
const LAYER_NORM_EPS: f64 = 1e-12;

pub(super) fn configs(
    json: &Value,
) -> Result<(BertEmbeddingsConfig, BertEncoderConfig), ConfigError> {
    let hidden_size = usize_field(json, "dim")?;
    let dropout = f64_or(json, "dropout", 0.1)?;
    let act = json
        .get("activation")
        .and_then(Value::as_str)
        .unwrap_or("gelu");
    let embeddings = BertEmbeddingsConfig {
        vocab_size: usize_field(json, "vocab_size")?,
        hidden_size,
        max_position_embeddings: usize_field(json, "max_position_embeddings")?,
        type_vocab_size: 0,
        layer_norm_eps: LAYER_NORM_EPS,
        hidden_dropout_prob: dropout,
        position_offset: 0,
        embedding_size: None,
    };
    let encoder = BertEncoderConfig::from_hf_json(&json!({
        "hidden_size": hidden_size,
        "num_hidden_layers": usize_field(json, "n_layers")?,
        "num_attention_heads": usize_field(json, "n_heads")?,
        "intermediate_size": usize_field(json, "hidden_dim")?,
        "hidden_act": act,
        "layer_norm_eps": LAYER_NORM_EPS,
        "hidden_dropout_prob": dropout,
    }))
    .map_err(|e| e.to_string())?;
    Ok((embeddings, encoder))
}

pub(super) fn config_json(e: &BertEmbeddingsConfig, c: &BertEncoderConfig, pad: u32) -> Value {
    json!({
        "architectures": ["DistilBertModel"],
        "model_type": "distilbert",
        "vocab_size": e.vocab_size,
        "dim": c.hidden_size,
        "n_layers": c.num_hidden_layers,
        "n_heads": c.num_attention_heads,
        "hidden_dim": c.intermediate_size,
        "activation": match c.hidden_act {
            HiddenAct::Relu => "relu",
            _ => "gelu",
        },
        "dropout": c.hidden_dropout_prob,
        "attention_dropout": 0.0,
        "max_position_embeddings": e.max_position_embeddings,
        "sinusoidal_pos_embds": false,
        "pad_token_id": pad,
    })
}
