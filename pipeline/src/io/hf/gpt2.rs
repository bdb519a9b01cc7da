//! GPT-2 (`gpt2`): its own stages, `Gpt2Embeddings` + `Gpt2Decoder`. Its `Conv1D` weights are
//! stored `[in, out]` as ours, so only the LayerNorms' names change.

use serde_json::{Value, json};
use transfer_contextual::{Gpt2DecoderConfig, HiddenAct};
use transfer_embedder::Gpt2EmbeddingsConfig;

use super::bert::hidden_act_name;
use super::family::{ConfigError, Names, f64_or, usize_field};

pub(super) const NAMES: Names = Names {
    prefixes: &["transformer"],
    to_ours: &[
        (r"^(wte|wpe)\.", "embeddings.${1}."),
        (r"^(h|ln_f)\.", "encoder.${1}."),
        (r"(ln_1|ln_2|ln_f)\.weight$", "${1}.gamma"),
        (r"(ln_1|ln_2|ln_f)\.bias$", "${1}.beta"),
    ],
    to_hf: &[
        (r"^(embeddings|encoder)\.", ""),
        (r"(ln_1|ln_2|ln_f)\.gamma$", "${1}.weight"),
        (r"(ln_1|ln_2|ln_f)\.beta$", "${1}.bias"),
    ],
};

pub(super) fn configs(
    json: &Value,
) -> Result<(Gpt2EmbeddingsConfig, Gpt2DecoderConfig), ConfigError> {
    let n_embd = usize_field(json, "n_embd")?;
    let act = json
        .get("activation_function")
        .and_then(Value::as_str)
        .unwrap_or("gelu_new");
    let n_inner = match json.get("n_inner") {
        None | Some(Value::Null) => 4 * n_embd,
        Some(_) => usize_field(json, "n_inner")?,
    };
    let embeddings = Gpt2EmbeddingsConfig {
        vocab_size: usize_field(json, "vocab_size")?,
        n_embd,
        n_positions: usize_field(json, "n_positions")?,
        embd_pdrop: f64_or(json, "embd_pdrop", 0.1)?,
    };
    let decoder = Gpt2DecoderConfig {
        n_embd,
        n_layer: usize_field(json, "n_layer")?,
        n_head: usize_field(json, "n_head")?,
        n_inner,
        activation_function: HiddenAct::parse(act).map_err(|e| e.to_string())?,
        layer_norm_epsilon: f64_or(json, "layer_norm_epsilon", 1e-5)?,
        resid_pdrop: f64_or(json, "resid_pdrop", 0.1)?,
    };
    Ok((embeddings, decoder))
}

pub(super) fn config_json(e: &Gpt2EmbeddingsConfig, c: &Gpt2DecoderConfig) -> Value {
    json!({
        "architectures": ["GPT2Model"],
        "model_type": "gpt2",
        "vocab_size": e.vocab_size,
        "n_embd": c.n_embd,
        "n_layer": c.n_layer,
        "n_head": c.n_head,
        "n_inner": c.n_inner,
        "n_positions": e.n_positions,
        "activation_function": match c.activation_function {
            HiddenAct::GeluApproximate => "gelu_new",
            other => hidden_act_name(other),
        },
        "layer_norm_epsilon": c.layer_norm_epsilon,
        "embd_pdrop": e.embd_pdrop,
        "resid_pdrop": c.resid_pdrop,
        "attn_pdrop": 0.0,
    })
}
