//! Which of a Hub repository's files a model needs, and whether a directory holds them.

use std::path::Path;

use crate::error::{HubError, Result};

/// The weights, in one file.
pub const WEIGHTS: &str = "model.safetensors";
/// The weights split into shards: `weight_map` names each tensor's shard.
pub const WEIGHTS_INDEX: &str = "model.safetensors.index.json";

const CONFIG_AND_TOKENIZER: &[&str] = &[
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "spiece.model",
    "sentencepiece.bpe.model",
];

const SENTENCE_TRANSFORMERS: &[&str] = &[
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
];

/// Whether a repository file is one a model is read from, apart from the weights: its
/// config, tokenizer files, and sentence-transformers' module files (`modules.json`,
/// `1_Pooling/config.json`, …). Other weights formats, ONNX exports, READMEs are left.
///
/// ```
/// use transfer_hub::files::wanted;
/// assert!(wanted("tokenizer.json") && wanted("1_Pooling/config.json"));
/// assert!(!wanted("pytorch_model.bin") && !wanted("onnx/model.onnx") && !wanted("README.md"));
/// ```
pub fn wanted(path: &str) -> bool {
    if CONFIG_AND_TOKENIZER.contains(&path) || SENTENCE_TRANSFORMERS.contains(&path) {
        return true;
    }
    // sentence-transformers' numbered modules: 1_Pooling/config.json, 2_Dense/model.safetensors.
    match path.split_once('/') {
        Some((module, file)) => {
            let numbered = module
                .split_once('_')
                .is_some_and(|(n, name)| n.parse::<u32>().is_ok() && !name.is_empty());
            numbered && !file.contains('/') && (file.ends_with(".json") || file == WEIGHTS)
        }
        None => false,
    }
}

/// The shards `model.safetensors.index.json` names, each once, in order.
pub fn shards(index: &Path) -> Result<Vec<String>> {
    let format = |message: String| HubError::Format {
        path: index.display().to_string(),
        message,
    };
    let bytes = std::fs::read(index).map_err(|e| HubError::io(index, e))?;
    let json: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format(e.to_string()))?;
    let map = json
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| format("no `weight_map` object".into()))?;
    let mut shards: Vec<String> = Vec::new();
    for (tensor, shard) in map {
        let shard = shard
            .as_str()
            .filter(|s| !s.contains("..") && !s.starts_with('/') && s.ends_with(".safetensors"))
            .ok_or_else(|| {
                format(format!(
                    "weight_map[{tensor:?}] is not a .safetensors file name"
                ))
            })?;
        if !shards.iter().any(|s| s == shard) {
            shards.push(shard.to_string());
        }
    }
    shards.sort();
    Ok(shards)
}

/// What a model directory lacks of what a model needs: `config.json`, a tokenizer
/// (`tokenizer.json` or `vocab.txt`) and the weights (`model.safetensors`, or the index and
/// every shard it names). Empty when it is complete.
pub fn missing(dir: &Path) -> Result<Vec<String>> {
    let mut missing = Vec::new();
    if !dir.join("config.json").is_file() {
        missing.push("config.json".to_string());
    }
    if !dir.join("tokenizer.json").is_file() && !dir.join("vocab.txt").is_file() {
        missing.push("tokenizer.json (or vocab.txt)".into());
    }
    if !dir.join(WEIGHTS).is_file() {
        let index = dir.join(WEIGHTS_INDEX);
        if index.is_file() {
            let absent = shards(&index)?
                .into_iter()
                .filter(|s| !dir.join(s).is_file());
            missing.extend(absent);
        } else {
            missing.push(format!("{WEIGHTS} (or {WEIGHTS_INDEX})"));
        }
    }
    Ok(missing)
}
