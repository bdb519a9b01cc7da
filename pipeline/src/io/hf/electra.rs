//! ELECTRA's discriminator (`electra`): BERT's layers on narrower embeddings projected to the
//! hidden size (`embeddings_project`) when `embedding_size` differs from it.

use serde_json::{Value, json};
use transfer_contextual::BertEncoderConfig;
use transfer_embedder::BertEmbeddingsConfig;

use super::family::{ConfigError, Names};

pub(super) const NAMES: Names = Names {
    prefixes: &["electra"],
    to_ours: &[
        (r"^embeddings_project\.", "embeddings.projection."),
        (r"(^|\.)LayerNorm\.", "${1}layer_norm."),
        (r"\.attention\.self\.", ".attention.self_attention."),
    ],
    to_hf: &[
        (r"^embeddings\.projection\.", "embeddings_project."),
        (r"(^|\.)layer_norm\.", "${1}LayerNorm."),
        (r"\.self_attention\.", ".self."),
    ],
};

pub(super) fn configs(
    json: &Value,
) -> Result<(BertEmbeddingsConfig, BertEncoderConfig), ConfigError> {
    let (mut embeddings, encoder) = super::bert::configs(json)?;
    let size = json
        .get("embedding_size")
        .and_then(Value::as_u64)
        .ok_or("embedding_size: missing from config.json or not a non-negative integer")?;
    if size as usize != embeddings.hidden_size {
        embeddings.embedding_size = Some(size as usize);
    }
    Ok((embeddings, encoder))
}

pub(super) fn config_json(e: &BertEmbeddingsConfig, c: &BertEncoderConfig, pad: u32) -> Value {
    let mut config = super::bert::config_json(e, c, pad);
    config["architectures"] = json!(["ElectraModel"]);
    config["model_type"] = "electra".into();
    config["embedding_size"] = e.table_width().into();
    config
}
