//! The same ULMFiT settings give the same language model and the same cells: burn draws fresh
//! parameters from one generator per process, so this test is alone in its binary (the
//! library's counterpart is `tests/reproducible.rs`).

mod common;

use common::*;
use transfer_textflix::run;

#[test]
fn two_runs_of_the_same_ulmfit_settings_give_the_same_model_and_accuracies() {
    let mut config = toy_ulmfit_config();
    config.transfer_seeds = 2;
    config.ulmfit.lm_tokens = Some(20_000);

    let runs: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|name| {
            let out = std::env::temp_dir().join(format!(
                "transfer-reproducible-{name}-{}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&out);
            let cells = run(&config, &out, false).unwrap();
            let weights = tensors(&out.join("ulmfit-lm/model.safetensors"));
            std::fs::remove_dir_all(&out).unwrap();
            let accuracies: Vec<(u64, f64)> = cells.iter().map(|c| (c.seed, c.accuracy)).collect();
            (weights, accuracies)
        })
        .collect();
    assert_eq!(runs[0].0.len(), 5);
    for ((name, a), (_, b)) in runs[0].0.iter().zip(&runs[1].0) {
        assert!(a == b, "the language models differ in {name}");
    }
    assert_eq!(runs[0].1.len(), 2);
    assert_eq!(runs[0].1, runs[1].1);
}

/// Every tensor of a safetensors file by name, as raw bytes (the header's order and metadata
/// may differ between two saves of the same weights).
fn tensors(path: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    file.tensors()
        .into_iter()
        .map(|(name, view)| (name, view.data().to_vec()))
        .collect()
}
