//! A checkpoint's `model.safetensors` into our modules and back, under the family's names.

use std::path::Path;

use burn::module::Module;
use burn::store::{
    BurnToPyTorchAdapter, FloatCastAdapter, ModuleAdapter, ModuleSnapshot, PyTorchToBurnAdapter,
    SafetensorsStore,
};
use burn::tensor::DType;

use super::family::Family;
use crate::error::{Result, TransferError};

fn remapped(mut store: SafetensorsStore, rules: &[(&str, &str)]) -> SafetensorsStore {
    for &(pattern, replacement) in rules {
        store = store.with_key_remapping(pattern, replacement);
    }
    store
}

/// Reads `path` into `model` (fp32, fp16 or bf16 weights, as fp32); a missing tensor or a wrong
/// shape is an error naming the file and the tensor.
pub(super) fn load<M: Module>(model: &mut M, family: Family, path: &Path) -> Result<()> {
    crate::io::check_weights_size(model, path)?;
    let names = family.names();
    let store = SafetensorsStore::from_file(path).validate(true);
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
        })?;
    Ok(())
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
