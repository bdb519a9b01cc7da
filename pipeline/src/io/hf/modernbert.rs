//! ModernBERT (`modernbert`): its own stages, `ModernBertEmbeddings` + `ModernBertEncoder`.
//! Reads both `config.json` forms: transformers 5's `layer_types` and `rope_parameters`, and
//! the released checkpoints' `global_attn_every_n_layers`, `global_rope_theta` and
//! `local_rope_theta`.

use serde_json::{Value, json};
use transfer_contextual::{AttentionSpan, HiddenAct, ModernBertEncoderConfig};
use transfer_embedder::ModernBertEmbeddingsConfig;

use super::bert::hidden_act_name;
use super::family::{ConfigError, Names, f64_or, usize_field};

pub(super) const NAMES: Names = Names {
    prefixes: &["model"],
    to_ours: &[
        (r"^layers\.", "encoder.layers."),
        (r"^final_norm\.", "encoder.final_norm."),
        (r"\.Wqkv\.", ".wqkv."),
        (r"\.Wo\.", ".wo."),
        (r"\.Wi\.", ".wi."),
    ],
    to_hf: &[
        (r"^encoder\.", ""),
        (r"\.wqkv\.", ".Wqkv."),
        (r"\.wo\.", ".Wo."),
        (r"\.wi\.", ".Wi."),
    ],
};

fn bool_or(json: &Value, name: &str, default: bool) -> Result<bool, ConfigError> {
    json.get(name)
        .map_or(Some(default), Value::as_bool)
        .ok_or_else(|| format!("{name}: not true or false"))
}

fn layer_types(json: &Value, layers: usize) -> Result<Vec<AttentionSpan>, ConfigError> {
    let Some(types) = json.get("layer_types").and_then(Value::as_array) else {
        let every = usize_field(json, "global_attn_every_n_layers")
            .unwrap_or(3)
            .max(1);
        return Ok((0..layers)
            .map(|i| {
                if i % every == 0 {
                    AttentionSpan::Global
                } else {
                    AttentionSpan::Local
                }
            })
            .collect());
    };
    let spans = types
        .iter()
        .map(|t| match t.as_str() {
            Some("full_attention") => Ok(AttentionSpan::Global),
            Some("sliding_attention") => Ok(AttentionSpan::Local),
            _ => Err(format!(
                "layer_types: {t} is not full_attention or sliding_attention"
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if spans.len() != layers {
        return Err(format!(
            "layer_types: {} entries for {layers} layers",
            spans.len()
        ));
    }
    Ok(spans)
}

/// A layer kind's rotary base: `rope_parameters.<kind>.rope_theta`, else the older field.
fn rope_theta(json: &Value, kind: &str, old: &str, default: f64) -> Result<f64, ConfigError> {
    match json.pointer(&format!("/rope_parameters/{kind}/rope_theta")) {
        Some(v) => v
            .as_f64()
            .ok_or_else(|| format!("rope_parameters.{kind}.rope_theta: not a number")),
        None => f64_or(json, old, default),
    }
}

pub(super) fn configs(
    json: &Value,
) -> Result<(ModernBertEmbeddingsConfig, ModernBertEncoderConfig), ConfigError> {
    let hidden_size = usize_field(json, "hidden_size")?;
    let norm_eps = f64_or(json, "norm_eps", 1e-5)?;
    let norm_bias = bool_or(json, "norm_bias", false)?;
    let act = json
        .get("hidden_activation")
        .and_then(Value::as_str)
        .unwrap_or("gelu");
    let embeddings = ModernBertEmbeddingsConfig {
        vocab_size: usize_field(json, "vocab_size")?,
        hidden_size,
        norm_eps,
        norm_bias,
        embedding_dropout: f64_or(json, "embedding_dropout", 0.0)?,
    };
    let encoder = ModernBertEncoderConfig {
        hidden_size,
        num_attention_heads: usize_field(json, "num_attention_heads")?,
        intermediate_size: usize_field(json, "intermediate_size")?,
        hidden_activation: HiddenAct::parse(act).map_err(|e| e.to_string())?,
        norm_eps,
        norm_bias,
        attention_bias: bool_or(json, "attention_bias", false)?,
        mlp_bias: bool_or(json, "mlp_bias", false)?,
        layer_types: layer_types(json, usize_field(json, "num_hidden_layers")?)?,
        global_rope_theta: rope_theta(json, "full_attention", "global_rope_theta", 160_000.0)?,
        local_rope_theta: rope_theta(json, "sliding_attention", "local_rope_theta", 10_000.0)?,
        local_attention: usize_field(json, "local_attention").unwrap_or(128),
        attention_dropout: f64_or(json, "attention_dropout", 0.0)?,
        mlp_dropout: f64_or(json, "mlp_dropout", 0.0)?,
    };
    Ok((embeddings, encoder))
}

pub(super) fn config_json(
    e: &ModernBertEmbeddingsConfig,
    c: &ModernBertEncoderConfig,
    pad: u32,
) -> Value {
    let kind = |span: &AttentionSpan| match span {
        AttentionSpan::Global => "full_attention",
        AttentionSpan::Local => "sliding_attention",
    };
    json!({
        "architectures": ["ModernBertModel"],
        "model_type": "modernbert",
        "vocab_size": e.vocab_size,
        "hidden_size": c.hidden_size,
        "num_hidden_layers": c.layer_types.len(),
        "num_attention_heads": c.num_attention_heads,
        "intermediate_size": c.intermediate_size,
        "hidden_activation": hidden_act_name(c.hidden_activation),
        "norm_eps": c.norm_eps,
        "norm_bias": c.norm_bias,
        "attention_bias": c.attention_bias,
        "mlp_bias": c.mlp_bias,
        "layer_types": c.layer_types.iter().map(kind).collect::<Vec<_>>(),
        "rope_parameters": {
            "full_attention": {"rope_type": "default", "rope_theta": c.global_rope_theta},
            "sliding_attention": {"rope_type": "default", "rope_theta": c.local_rope_theta},
        },
        "local_attention": c.local_attention,
        "embedding_dropout": e.embedding_dropout,
        "attention_dropout": c.attention_dropout,
        "mlp_dropout": c.mlp_dropout,
        "pad_token_id": pad,
    })
}
