//! Training checkpoints: everything needed to continue an interrupted
//! [`train`](crate::TransferPipeline::train) so that it ends with the same weights, bit for
//! bit, as an uninterrupted run on the same backend — the weights (with their parameter ids,
//! in burnpack), the optimizer state, the position in the schedule and in the epoch's data
//! order, and the best weights so far.
//!
//! A checkpoint is a directory: `state.json` names the weight files it belongs to and is
//! replaced atomically after them, so a crash at any point leaves the previous checkpoint.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TransferError};
use crate::io::{sync_dir, write_atomic};
use crate::training::EpochReport;

/// Where and how often [`train`](crate::TransferPipeline::train) checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointConfig {
    pub dir: PathBuf,
    /// Save after every this many optimizer steps (and at the end of each epoch).
    pub every_steps: usize,
}

/// The position of training, saved in `state.json`. [`save`] fills in `format` and the
/// weight file names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResumeState {
    pub format: String,
    /// The training config and data this checkpoint belongs to.
    pub fingerprint: String,
    pub model: String,
    pub optimizer: String,
    pub best_model: Option<String>,
    /// Optimizer steps done.
    pub step: usize,
    pub epoch: usize,
    /// Steps done within `epoch`.
    pub step_in_epoch: usize,
    /// The data-order generator at the start of `epoch`.
    pub epoch_rng: u64,
    pub loss_sum: f64,
    pub reports: Vec<EpochReport>,
    pub best: Option<(f64, usize)>,
    pub seconds: f64,
}

const FORMAT: &str = "transfer-train-checkpoint/1";
const STATE: &str = "state.json";

fn module_bytes<M: Module>(module: &M, path: &Path) -> Result<Vec<u8>> {
    let mut store = BurnpackStore::from_bytes(None);
    module
        .save_into(&mut store)
        .map_err(|e| TransferError::format(path, e))?;
    let bytes = store
        .get_bytes()
        .map_err(|e| TransferError::format(path, e))?;
    Ok(bytes.to_vec())
}

fn load_module<M: Module>(module: &mut M, path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| TransferError::io(path, e))?;
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes))).validate(true);
    module
        .load_from(&mut store)
        .map(|_| ())
        .map_err(|e| TransferError::Weights {
            path: path.into(),
            message: e.to_string(),
        })
}

/// Writes a checkpoint of `model` (plain, not autodiff), `optimizer` and `best`.
pub(crate) fn save<M: Module>(
    dir: &Path,
    mut state: ResumeState,
    model: &M,
    optimizer: &ModuleOptimizer,
    best: Option<&M>,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| TransferError::io(dir, e))?;
    let tag = format!("{:08}", state.step);
    state.format = FORMAT.into();
    state.model = format!("model-{tag}.bpk");
    state.optimizer = format!("optimizer-{tag}.bpk");
    let path = dir.join(&state.model);
    write_atomic(&path, &module_bytes(model, &path)?)?;
    let path = dir.join(&state.optimizer);
    let bytes = optimizer
        .into_bytes()
        .map_err(|e| TransferError::format(&path, e))?;
    write_atomic(&path, &bytes)?;
    state.best_model = match best {
        Some(best) => {
            let name = format!("best-{tag}.bpk");
            let path = dir.join(&name);
            write_atomic(&path, &module_bytes(best, &path)?)?;
            Some(name)
        }
        None => None,
    };
    let state_path = dir.join(STATE);
    let json =
        serde_json::to_vec_pretty(&state).map_err(|e| TransferError::format(&state_path, e))?;
    write_atomic(&state_path, &json)?;
    let keep = [
        Some(&state.model),
        Some(&state.optimizer),
        state.best_model.as_ref(),
    ];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".bpk") && !keep.contains(&Some(&name)) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    sync_dir(dir).map_err(|e| TransferError::io(dir, e))
}

/// The checkpoint in `dir`, if any: its state, with `model`, `optimizer` and `best` loaded
/// from it. A checkpoint of another config or dataset is an error.
pub(crate) fn load<M: Module>(
    dir: &Path,
    fingerprint: &str,
    model: &mut M,
    optimizer: ModuleOptimizer,
    best: &mut Option<M>,
) -> Result<(Option<ResumeState>, ModuleOptimizer)> {
    let state_path = dir.join(STATE);
    let bytes = match std::fs::read(&state_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((None, optimizer)),
        Err(e) => return Err(TransferError::io(&state_path, e)),
    };
    let state: ResumeState =
        serde_json::from_slice(&bytes).map_err(|e| TransferError::format(&state_path, e))?;
    if state.format != FORMAT || state.fingerprint != fingerprint {
        return Err(TransferError::format(
            &state_path,
            "this checkpoint belongs to another training config or dataset; remove it to start over",
        ));
    }
    load_module(model, &dir.join(&state.model))?;
    let path = dir.join(&state.optimizer);
    let bytes = std::fs::read(&path).map_err(|e| TransferError::io(&path, e))?;
    let optimizer = optimizer
        .from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| TransferError::format(&path, e))?;
    if let (Some(name), Some(best)) = (&state.best_model, best.as_mut()) {
        load_module(best, &dir.join(name))?;
    } else {
        *best = None;
    }
    Ok((Some(state), optimizer))
}

/// Removes a finished training's checkpoint (`state.json` first).
pub(crate) fn clear(dir: &Path) -> Result<()> {
    let state = dir.join(STATE);
    if state.exists() {
        std::fs::remove_file(&state).map_err(|e| TransferError::io(&state, e))?;
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().ends_with(".bpk") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}
