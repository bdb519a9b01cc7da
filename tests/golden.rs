//! all-MiniLM-L6-v2 loaded from Hugging Face layout gives transformers' token ids and hidden
//! states (within 1e-4) on the default CPU backend.

mod common;

use burn::prelude::Device;

#[test]
fn minilm_matches_transformers_on_flex() {
    let worst = common::golden::check_against_reference(&Device::flex());
    eprintln!("largest |difference| from transformers on flex: {worst:e}");
}
