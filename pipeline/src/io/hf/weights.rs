//! A checkpoint's `model.safetensors` into our modules and back, under the family's names.

use std::path::Path;

use burn::module::Module;
use burn::store::{
    BurnToPyTorchAdapter, FloatCastAdapter, ModuleAdapter, ModuleSnapshot, PyTorchToBurnAdapter,
    SafetensorsStore,
};
use burn::tensor::DType;

use transfer_hub::files;

use super::family::Family;
use crate::error::{Result, TransferError};

fn remapped(mut store: SafetensorsStore, rules: &[(&str, &str)]) -> SafetensorsStore {
    for &(pattern, replacement) in rules {
        store = store.with_key_remapping(pattern, replacement);
    }
    store
}

/// Reads a model directory's weights into `model`: `model.safetensors`, or the shards that
/// `model.safetensors.index.json` names (fp32, fp16 or bf16 weights, as fp32). A missing
/// tensor or a wrong shape is an error naming the file and the tensor.
pub(super) fn load<M: Module>(model: &mut M, family: Family, dir: &Path) -> Result<()> {
    let single = dir.join(files::WEIGHTS);
    let index = dir.join(files::WEIGHTS_INDEX);
    if single.is_file() || !index.is_file() {
        crate::io::check_weights_size(model, &single)?;
        apply(model, family, &single, false)?;
        return Ok(());
    }
    let shards = files::shards(&index)?;
    let mut applied = std::collections::HashSet::new();
    let mut missing = Vec::new();
    for shard in &shards {
        let result = apply(model, family, &dir.join(shard), true)?;
        applied.extend(result.applied);
        missing = result.missing;
    }
    if let Some((tensor, _)) = missing.iter().find(|(t, _)| !applied.contains(t)) {
        return Err(TransferError::Weights {
            path: index,
            message: format!("{tensor} is in none of the shards {}", shards.join(", ")),
        });
    }
    Ok(())
}

/// Applies one safetensors file; `partial`: tensors it lacks are left for other shards.
fn apply<M: Module>(
    model: &mut M,
    family: Family,
    path: &Path,
    partial: bool,
) -> Result<burn::store::ApplyResult> {
    let names = family.names();
    let store = SafetensorsStore::from_file(path)
        .validate(true)
        .allow_partial(partial);
    let mut store = if family.stores_linear_transposed() {
        store.with_from_adapter(PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32)))
    } else {
        store.with_from_adapter(FloatCastAdapter::to(DType::F32))
    };
    for prefix in names.prefixes {
        store = store.with_key_remapping(format!(r"^{prefix}\."), "");
    }
    let mut store = remapped(store, names.to_ours);
    model
        .load_from(&mut store)
        .map_err(|e| TransferError::Weights {
            path: path.into(),
            message: e.to_string(),
        })
}

/// Writes `model` to `path` (fp32) under the family's names and layout.
pub(super) fn save<M: Module>(model: &M, family: Family, path: &Path) -> Result<()> {
    let store = SafetensorsStore::from_bytes(None).metadata("format", "pt");
    let store = if family.stores_linear_transposed() {
        store.with_to_adapter(BurnToPyTorchAdapter)
    } else {
        store
    };
    crate::io::save_through(model, remapped(store, family.names().to_hf), path)
}
