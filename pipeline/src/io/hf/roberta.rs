//! RoBERTa (`roberta`), XLM-RoBERTa (`xlm-roberta`) and CamemBERT (`camembert`): BERT's
//! layers, with positions counted from `pad_token_id + 1`.

use serde_json::Value;
use transfer_contextual::BertEncoderConfig;
use transfer_embedder::BertEmbeddingsConfig;

use super::family::{ConfigError, Names, pad_token_id};

pub(super) const NAMES: Names = Names {
    prefixes: &["roberta"],
    ..super::bert::NAMES
};

pub(super) fn configs(
    json: &Value,
) -> Result<(BertEmbeddingsConfig, BertEncoderConfig), ConfigError> {
    let (mut embeddings, encoder) = super::bert::configs(json)?;
    embeddings.position_offset = pad_token_id(json, 1)? + 1;
    Ok((embeddings, encoder))
}

pub(super) fn config_json(e: &BertEmbeddingsConfig, c: &BertEncoderConfig, pad: u32) -> Value {
    let mut json = super::bert::config_json(e, c, pad);
    json["architectures"] = serde_json::json!(["RobertaModel"]);
    json["model_type"] = "roberta".into();
    json
}
