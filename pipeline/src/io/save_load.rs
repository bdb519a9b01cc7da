//! Saving and loading a whole pipeline: `pipeline.json` (every stage's config, the labels,
//! the encode policy, the frozen stages) naming a tokenizer file and a safetensors file of
//! weights.
//!
//! A save never leaves a directory that fails to load: the tokenizer and weights go to new
//! files first (fsynced), then `pipeline.json` is replaced atomically to point at them, and
//! only then are the files of the previous save removed.

use std::path::Path;

use burn::prelude::*;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use serde::{Deserialize, Serialize};
use transfer_contextual::ContextualEmbedder;
use transfer_embedder::TokenEmbedder;
use transfer_predictor::Predictor;
use transfer_tokenizer::{EncodePolicy, Tokenizer};

use crate::error::{Result, TransferError};
use crate::io::{sync_dir, write_atomic};
use crate::pipeline::TransferPipeline;
use crate::stages::{SetFrozen, Stage};

/// Written in `pipeline.json`; bumped when the layout changes.
pub const FORMAT: &str = "transfer-pipeline/1";
pub const MANIFEST: &str = "pipeline.json";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest<EC, CC, PC> {
    format: String,
    tokenizer: String,
    weights: String,
    embedder: EC,
    contextual: CC,
    predictor: PC,
    labels: Vec<String>,
    /// Multi-label: each label's probability threshold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    thresholds: Vec<f32>,
    encode_policy: EncodePolicy,
    #[serde(default)]
    frozen: Vec<Stage>,
}

fn is_save_file(name: &str) -> bool {
    (name.starts_with("model-") && name.ends_with(".safetensors"))
        || (name.starts_with("tokenizer-") && name.ends_with(".json"))
}

impl<T, E, C, P> TransferPipeline<T, E, C, P>
where
    T: Tokenizer,
    E: TokenEmbedder,
    C: ContextualEmbedder,
    P: Predictor,
{
    /// Saves the pipeline into `dir` (created if needed), atomically.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| TransferError::io(dir, e))?;
        let nonce = format!(
            "{:x}{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
            std::process::id()
        );
        let tokenizer_name = format!("tokenizer-{nonce}.json");
        let weights_name = format!("model-{nonce}.safetensors");

        let tokenizer_path = dir.join(&tokenizer_name);
        self.tokenizer.save(&tokenizer_path)?;
        std::fs::File::open(&tokenizer_path)
            .and_then(|f| f.sync_all())
            .map_err(|e| TransferError::io(&tokenizer_path, e))?;

        let weights_path = dir.join(&weights_name);
        save_weights(&self.stages, &weights_path)?;

        let manifest = Manifest {
            format: FORMAT.into(),
            tokenizer: tokenizer_name.clone(),
            weights: weights_name.clone(),
            embedder: self.stages.embedder.config(),
            contextual: self.stages.contextual.config(),
            predictor: self.stages.predictor.config(),
            labels: self.labels.clone(),
            thresholds: self.thresholds.clone(),
            encode_policy: self.policy,
            frozen: self.frozen.iter().copied().collect(),
        };
        let manifest_path = dir.join(MANIFEST);
        let json = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| TransferError::format(&manifest_path, e))?;
        write_atomic(&manifest_path, &json)?;

        // The new save is in place; the files of earlier saves can go.
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if is_save_file(&name) && name != tokenizer_name && name != weights_name {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        sync_dir(dir).map_err(|e| TransferError::io(dir, e))
    }

    /// Loads a pipeline saved by [`save`](Self::save) onto `device`. Unknown fields in
    /// `pipeline.json`, missing files and weights that do not fit the configs are errors
    /// naming the file and the field or tensor.
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let manifest_path = dir.join(MANIFEST);
        let bytes =
            std::fs::read(&manifest_path).map_err(|e| TransferError::io(&manifest_path, e))?;
        let manifest: Manifest<E::Config, C::Config, P::Config> =
            serde_json::from_slice(&bytes).map_err(|e| TransferError::format(&manifest_path, e))?;
        if manifest.format != FORMAT {
            return Err(TransferError::format(
                &manifest_path,
                format!(
                    "format is {:?}, this version reads {FORMAT:?}",
                    manifest.format
                ),
            ));
        }
        let tokenizer = T::load(&dir.join(&manifest.tokenizer))?;
        let mut pipeline = Self::new(
            tokenizer,
            E::from_config(&manifest.embedder, device)?,
            C::from_config(&manifest.contextual, device)?,
            P::from_config(&manifest.predictor, device)?,
            device,
        )?
        .with_labels(manifest.labels)?
        .with_encode_policy(manifest.encode_policy)?;
        if !manifest.thresholds.is_empty() {
            pipeline = pipeline.with_thresholds(manifest.thresholds)?;
        }
        load_weights(&mut pipeline.stages, &dir.join(&manifest.weights))?;
        for stage in manifest.frozen {
            pipeline.frozen.insert(stage);
            pipeline.stages = pipeline.stages.clone().map_stage(stage, SetFrozen(true));
        }
        Ok(pipeline)
    }
}

/// Fails, before anything is allocated, when `path` is missing or too small to hold the
/// parameters `module` declares (at 2 bytes each): a config that asks for a huge model must
/// not make the loader allocate it. `module`'s parameters must still be uninitialised.
pub fn check_weights_size<M: burn::module::Module>(module: &M, path: &Path) -> Result<()> {
    let len = std::fs::metadata(path)
        .map_err(|e| TransferError::io(path, e))?
        .len();
    let params = burn::module::Module::num_params(module) as u64;
    if params.saturating_mul(2) > len {
        return Err(TransferError::Weights {
            path: path.into(),
            message: format!(
                "the config describes {params} parameters but the file holds only {len} bytes"
            ),
        });
    }
    Ok(())
}

/// Writes every tensor of `module` to a safetensors file (named by module path), atomically.
pub fn save_weights<M: burn::module::Module>(module: &M, path: &Path) -> Result<()> {
    save_through(module, SafetensorsStore::from_bytes(None), path)
}

/// Writes `module` through `store` (its names and adapters) to `path`, atomically.
pub(crate) fn save_through<M: burn::module::Module>(
    module: &M,
    mut store: SafetensorsStore,
    path: &Path,
) -> Result<()> {
    module
        .save_into(&mut store)
        .map_err(|e| TransferError::format(path, e))?;
    let bytes = store
        .get_bytes()
        .map_err(|e| TransferError::format(path, e))?;
    write_atomic(path, &bytes)
}

/// Loads every tensor of `stages` from a safetensors file written by [`save_weights`],
/// failing on a missing tensor, a wrong shape or a corrupt file.
pub fn load_weights<M: burn::module::Module>(stages: &mut M, path: &Path) -> Result<()> {
    check_weights_size(stages, path)?;
    let mut store = SafetensorsStore::from_file(path).validate(true);
    let result = stages
        .load_from(&mut store)
        .map_err(|e| TransferError::Weights {
            path: path.into(),
            message: e.to_string(),
        })?;
    let mut problems: Vec<String> = result
        .missing
        .iter()
        .map(|(name, _)| format!("missing tensor {name}"))
        .collect();
    problems.extend(result.errors.iter().map(|e| e.to_string()));
    if problems.is_empty() {
        Ok(())
    } else {
        let shown = problems.len().min(5);
        Err(TransferError::Weights {
            path: path.into(),
            message: format!(
                "{}{}",
                problems[..shown].join("; "),
                if problems.len() > shown {
                    format!(" (and {} more)", problems.len() - shown)
                } else {
                    String::new()
                }
            ),
        })
    }
}
