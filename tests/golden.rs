//! all-MiniLM-L6-v2 loaded from Hugging Face layout gives transformers' token ids and hidden
//! states (within 1e-4) on the default CPU backend.

mod common;

use burn::prelude::Device;

#[test]
fn minilm_matches_transformers_on_flex() {
    let _rng = common::exclusive_rng();
    let worst = common::golden::check_against_reference(&Device::flex());
    eprintln!("largest |difference| from transformers on flex: {worst:e}");
}

#[test]
fn sentence_embeddings_match_sentence_transformers() {
    let _rng = common::exclusive_rng();
    let golden = common::golden::Golden::load();
    let model = transfer_nlp::pipeline::io::hf::PretrainedEncoder::load(
        common::minilm_dir(),
        &Device::flex(),
    )
    .unwrap();
    let ours = model.sentence_embeddings(&golden.texts, 128, 3).unwrap();
    let (shape, reference) = golden.f32s("batch.sentence_embedding");
    assert_eq!(shape, vec![golden.texts.len(), 384]);
    for (row, embedding) in ours.iter().enumerate() {
        let norm: f32 = embedding.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        for (d, x) in embedding.iter().enumerate() {
            assert!(
                (x - reference[row * 384 + d]).abs() < 1e-5,
                "text {row}, dim {d}"
            );
        }
    }
}

/// A NaN anywhere fails the golden comparison, wherever it falls among larger differences.
#[test]
fn a_nan_fails_every_tolerance() {
    let _rng = common::exclusive_rng();
    use common::golden::max_abs_diff;
    assert_eq!(max_abs_diff(&[1.0, 2.0], &[1.0, 2.5]), 0.5);
    for a in [
        [f32::NAN, 2.0, 3.0],
        [1.0, f32::NAN, 9.0],
        [5.0, 2.0, f32::NAN],
    ] {
        let worst = max_abs_diff(&a, &[1.0, 2.0, 3.0]);
        // Neither below a tolerance nor above a threshold: every comparison fails.
        assert_eq!(worst.partial_cmp(&1e-4), None, "{a:?}: {worst}");
    }
}
