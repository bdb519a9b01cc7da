//! MPNet (`mpnet`; all-mpnet-base-v2): BERT's layers under other names, without token types,
//! positions counted from `pad_token_id + 1`, and a learned relative position bias shared by
//! the layers (`encoder.relative_attention_bias`).

use serde_json::{Value, json};
use transfer_contextual::BertEncoderConfig;
use transfer_embedder::BertEmbeddingsConfig;

use super::family::{ConfigError, Names, pad_token_id};

pub(super) const NAMES: Names = Names {
    prefixes: &["mpnet"],
    to_ours: &[
        (
            r"\.attention\.attn\.q\.",
            ".attention.self_attention.query.",
        ),
        (r"\.attention\.attn\.k\.", ".attention.self_attention.key."),
        (
            r"\.attention\.attn\.v\.",
            ".attention.self_attention.value.",
        ),
        (r"\.attention\.attn\.o\.", ".attention.output.dense."),
        (r"\.attention\.LayerNorm\.", ".attention.output.layer_norm."),
        (r"(^|\.)LayerNorm\.", "${1}layer_norm."),
    ],
    to_hf: &[
        (
            r"\.attention\.self_attention\.query\.",
            ".attention.attn.q.",
        ),
        (r"\.attention\.self_attention\.key\.", ".attention.attn.k."),
        (
            r"\.attention\.self_attention\.value\.",
            ".attention.attn.v.",
        ),
        (r"\.attention\.output\.dense\.", ".attention.attn.o."),
        (
            r"\.attention\.output\.layer_norm\.",
            ".attention.LayerNorm.",
        ),
        (r"(^|\.)layer_norm\.", "${1}LayerNorm."),
    ],
};

pub(super) fn configs(
    json: &Value,
) -> Result<(BertEmbeddingsConfig, BertEncoderConfig), ConfigError> {
    let (mut embeddings, mut encoder) = super::bert::configs(json)?;
    embeddings.type_vocab_size = 0;
    embeddings.position_offset = pad_token_id(json, 1)? + 1;
    let buckets = json
        .get("relative_attention_num_buckets")
        .map_or(Some(32), Value::as_u64)
        .ok_or("relative_attention_num_buckets: not a non-negative integer")?;
    encoder.relative_attention_num_buckets = Some(buckets as usize);
    Ok((embeddings, encoder))
}

pub(super) fn config_json(e: &BertEmbeddingsConfig, c: &BertEncoderConfig, pad: u32) -> Value {
    let mut config = super::bert::config_json(e, c, pad);
    config["architectures"] = json!(["MPNetModel"]);
    config["model_type"] = "mpnet".into();
    config["relative_attention_num_buckets"] = c.relative_attention_num_buckets.into();
    config
}
