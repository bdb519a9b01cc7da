//! DeBERTa-v2 and v3 (`deberta-v2`): their own stages, `DebertaV2Embeddings` +
//! `DebertaV2Encoder`, under BERT's tensor names (`LayerNorm`, `attention.self`).

use serde_json::{Value, json};
use transfer_contextual::{DebertaV2EncoderConfig, HiddenAct};
use transfer_embedder::DebertaV2EmbeddingsConfig;

use super::bert::{self, hidden_act_name};
use super::family::{ConfigError, Names, f64_or, usize_field};

/// BERT's renames (`LayerNorm`, `attention.self`) under the `deberta.` prefix.
pub(super) const NAMES: Names = Names {
    prefixes: &["deberta"],
    to_ours: bert::NAMES.to_ours,
    to_hf: bert::NAMES.to_hf,
};

fn bool_or(json: &Value, name: &str, default: bool) -> Result<bool, ConfigError> {
    json.get(name)
        .map_or(Some(default), Value::as_bool)
        .ok_or_else(|| format!("{name}: not true or false"))
}

/// An integer field that may be -1 or absent (then `None`).
fn positive_or_none(json: &Value, name: &str) -> Result<Option<usize>, ConfigError> {
    match json.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(|v| usize::try_from(v).ok().filter(|&v| v > 0))
            .ok_or_else(|| format!("{name}: not an integer")),
    }
}

/// `pos_att_type`: a list (`["p2c", "c2p"]`) or the older `"p2c|c2p"` string.
fn position_scores(json: &Value) -> Result<(bool, bool), ConfigError> {
    let kinds: Vec<String> = match json.get("pos_att_type") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.split('|').map(|k| k.trim().to_lowercase()).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|k| k.as_str().map(str::to_lowercase))
            .collect::<Option<_>>()
            .ok_or("pos_att_type: not a list of strings")?,
        Some(other) => return Err(format!("pos_att_type: {other} is not a list")),
    };
    if let Some(k) = kinds.iter().find(|k| !matches!(k.as_str(), "c2p" | "p2c")) {
        return Err(format!("pos_att_type: {k:?} is not c2p or p2c"));
    }
    Ok((
        kinds.iter().any(|k| k == "c2p"),
        kinds.iter().any(|k| k == "p2c"),
    ))
}

pub(super) fn configs(
    json: &Value,
) -> Result<(DebertaV2EmbeddingsConfig, DebertaV2EncoderConfig), ConfigError> {
    if !bool_or(json, "relative_attention", false)? {
        return Err(
            "relative_attention: false is not supported (DeBERTa without relative \
                    positions; every released DeBERTa-v2/v3 has them)"
                .into(),
        );
    }
    if positive_or_none(json, "conv_kernel_size")?.is_some() {
        return Err(
            "conv_kernel_size: the convolution layer of DeBERTa-v2-xlarge/xxlarge is \
                    not supported (DeBERTa-v3 has none)"
                .into(),
        );
    }
    let hidden_size = usize_field(json, "hidden_size")?;
    let positions = usize_field(json, "max_position_embeddings")?;
    let max_relative = positive_or_none(json, "max_relative_positions")?.unwrap_or(positions);
    let buckets = positive_or_none(json, "position_buckets")?;
    let (c2p, p2c) = position_scores(json)?;
    let norm_rel_ebd = json
        .get("norm_rel_ebd")
        .and_then(Value::as_str)
        .is_some_and(|s| s.split('|').any(|k| k.trim() == "layer_norm"));
    let act = json
        .get("hidden_act")
        .and_then(Value::as_str)
        .unwrap_or("gelu");
    let eps = f64_or(json, "layer_norm_eps", 1e-7)?;
    let dropout = f64_or(json, "hidden_dropout_prob", 0.1)?;
    let embeddings = DebertaV2EmbeddingsConfig {
        vocab_size: usize_field(json, "vocab_size")?,
        hidden_size,
        embedding_size: positive_or_none(json, "embedding_size")?.filter(|&e| e != hidden_size),
        max_position_embeddings: positions,
        position_biased_input: bool_or(json, "position_biased_input", true)?,
        type_vocab_size: usize_field(json, "type_vocab_size").unwrap_or(0),
        layer_norm_eps: eps,
        hidden_dropout_prob: dropout,
    };
    let encoder = DebertaV2EncoderConfig {
        hidden_size,
        num_hidden_layers: usize_field(json, "num_hidden_layers")?,
        num_attention_heads: usize_field(json, "num_attention_heads")?,
        intermediate_size: usize_field(json, "intermediate_size")?,
        hidden_act: HiddenAct::parse(act).map_err(|e| e.to_string())?,
        layer_norm_eps: eps,
        hidden_dropout_prob: dropout,
        position_buckets: buckets,
        max_relative_positions: max_relative,
        c2p,
        p2c,
        share_att_key: bool_or(json, "share_att_key", false)?,
        norm_rel_ebd,
    };
    Ok((embeddings, encoder))
}

pub(super) fn config_json(
    e: &DebertaV2EmbeddingsConfig,
    c: &DebertaV2EncoderConfig,
    pad: u32,
) -> Value {
    let kinds: Vec<&str> = [(c.p2c, "p2c"), (c.c2p, "c2p")]
        .into_iter()
        .filter_map(|(on, k)| on.then_some(k))
        .collect();
    json!({
        "architectures": ["DebertaV2Model"],
        "model_type": "deberta-v2",
        "vocab_size": e.vocab_size,
        "hidden_size": c.hidden_size,
        "embedding_size": e.embedding_size.unwrap_or(c.hidden_size),
        "num_hidden_layers": c.num_hidden_layers,
        "num_attention_heads": c.num_attention_heads,
        "intermediate_size": c.intermediate_size,
        "hidden_act": hidden_act_name(c.hidden_act),
        "hidden_dropout_prob": c.hidden_dropout_prob,
        "attention_probs_dropout_prob": 0.0,
        "max_position_embeddings": e.max_position_embeddings,
        "position_biased_input": e.position_biased_input,
        "type_vocab_size": e.type_vocab_size,
        "layer_norm_eps": c.layer_norm_eps,
        "relative_attention": true,
        "position_buckets": c.position_buckets.map_or(-1, |b| b as i64),
        "max_relative_positions": c.max_relative_positions,
        "pos_att_type": kinds,
        "share_att_key": c.share_att_key,
        "norm_rel_ebd": if c.norm_rel_ebd { "layer_norm" } else { "none" },
        "pad_token_id": pad,
    })
}
