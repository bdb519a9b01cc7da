//! Hugging Face reference outputs: all-MiniLM-L6-v2's (`$TRANSFER_ASSETS/golden`) and
//! all-mpnet-base-v2's (`tests/data/all-mpnet-base-v2-golden`, `scripts/golden/make_mpnet_golden.py`).

use burn::prelude::*;
use safetensors::SafeTensors;
use transfer_nlp::pipeline::io::hf::PretrainedEncoder;
use transfer_nlp::tokenizer::{EncodePolicy, Tokenizer};
use transfer_nlp::{ContextualEmbedder, TokenEmbedder};

pub struct Golden {
    pub texts: Vec<String>,
    bytes: Vec<u8>,
}

impl Golden {
    /// all-MiniLM-L6-v2's.
    pub fn load() -> Self {
        Self::load_dir(&super::assets().join("golden/all-MiniLM-L6-v2"))
    }

    pub fn load_dir(dir: &std::path::Path) -> Self {
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("reference.json")).unwrap()).unwrap();
        let texts = meta["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["text"].as_str().unwrap().to_string())
            .collect();
        Self {
            texts,
            bytes: std::fs::read(dir.join("reference.safetensors")).unwrap(),
        }
    }

    /// `texts` and the tensors of a safetensors file.
    pub fn from_parts(texts: Vec<String>, safetensors: &std::path::Path) -> Self {
        Self {
            texts,
            bytes: std::fs::read(safetensors).unwrap(),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        SafeTensors::deserialize(&self.bytes)
            .unwrap()
            .tensor(name)
            .is_ok()
    }

    fn tensor(&self, name: &str) -> (Vec<usize>, Vec<u8>) {
        let st = SafeTensors::deserialize(&self.bytes).unwrap();
        let t = st.tensor(name).unwrap();
        (t.shape().to_vec(), t.data().to_vec())
    }

    pub fn i64s(&self, name: &str) -> (Vec<usize>, Vec<i64>) {
        let (shape, data) = self.tensor(name);
        (
            shape,
            data.chunks(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        )
    }

    pub fn f32s(&self, name: &str) -> (Vec<usize>, Vec<f32>) {
        let (shape, data) = self.tensor(name);
        (
            shape,
            data.chunks(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        )
    }
}

/// Hidden states of `texts` at max length `max_length`: ids `[batch, seq]`, mask, and
/// states `[batch, seq, hidden]` as f32.
pub fn hidden_states(
    model: &PretrainedEncoder,
    texts: &[&str],
    max_length: usize,
    device: &Device,
) -> (Vec<u32>, Vec<bool>, usize, Vec<f32>) {
    stage_states(
        (&model.tokenizer, &model.embeddings, &model.encoder),
        texts,
        max_length,
        device,
    )
}

/// [`hidden_states`] of any tokenizer, token embedder and contextual embedder.
pub fn stage_states<T: Tokenizer, E: TokenEmbedder, C: ContextualEmbedder>(
    (tokenizer, embeddings, encoder): (&T, &E, &C),
    texts: &[&str],
    max_length: usize,
    device: &Device,
) -> (Vec<u32>, Vec<bool>, usize, Vec<f32>) {
    let batch = tokenizer
        .encode_batch(texts, &EncodePolicy::new(max_length))
        .unwrap();
    let ids: Vec<i64> = batch.ids.iter().map(|&i| i64::from(i)).collect();
    let shape = [batch.batch_size, batch.seq_len];
    let ids_t = Tensor::<2, Int>::from_data(TensorData::new(ids, shape), device);
    let mask_t =
        Tensor::<2, Bool>::from_data(TensorData::new(batch.attention_mask.clone(), shape), device);
    let states = encoder.forward(embeddings.forward(ids_t), mask_t);
    let states = states
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap();
    (batch.ids, batch.attention_mask, batch.seq_len, states)
}

/// Checks all-MiniLM-L6-v2 against its reference (see [`check_model`]).
pub fn check_against_reference(device: &Device) -> f32 {
    check_model(&super::minilm_dir(), &Golden::load(), device)
}

/// Checks token ids and `last_hidden_state` of the model in `model_dir` against `golden`: the
/// padded batch at max length 128 and each text alone at 512 (the last rows only where the
/// reference keeps only those). Returns the largest absolute difference.
pub fn check_model(model_dir: &std::path::Path, golden: &Golden, device: &Device) -> f32 {
    let model = PretrainedEncoder::load(model_dir, device).unwrap();
    let hidden = model.hidden_size();
    let texts: Vec<&str> = golden.texts.iter().map(String::as_str).collect();

    let (ids, mask, seq, states) = hidden_states(&model, &texts, 128, device);
    let (ref_shape, ref_ids) = golden.i64s("batch.input_ids");
    let (_, ref_mask) = golden.i64s("batch.attention_mask");
    let (_, ref_states) = golden.f32s("batch.last_hidden_state");
    assert_eq!(ref_shape, vec![texts.len(), seq], "padded length");
    let mut worst = 0.0f32;
    for row in 0..texts.len() {
        for pos in 0..seq {
            let i = row * seq + pos;
            assert_eq!(
                i64::from(ids[i]),
                ref_ids[i],
                "batch id of text {row} at {pos}"
            );
            assert_eq!(
                mask[i],
                ref_mask[i] == 1,
                "batch mask of text {row} at {pos}"
            );
            if mask[i] {
                for d in 0..hidden {
                    worst = nan_max(
                        worst,
                        (states[i * hidden + d] - ref_states[i * hidden + d]).abs(),
                    );
                }
            }
        }
    }

    for (case, text) in texts.iter().enumerate() {
        let (ids, _, seq, states) = hidden_states(&model, &[text], 512, device);
        let (_, ref_ids) = golden.i64s(&format!("case{case}.input_ids"));
        let whole = format!("case{case}.last_hidden_state");
        let (_, ref_states) = if golden.has(&whole) {
            golden.f32s(&whole)
        } else {
            golden.f32s(&format!("{whole}_tail"))
        };
        let ids: Vec<i64> = ids.iter().map(|&i| i64::from(i)).collect();
        assert_eq!(ids, ref_ids, "ids of case {case}");
        assert_eq!(states.len(), seq * hidden);
        let tail = &states[states.len() - ref_states.len()..];
        worst = nan_max(worst, max_abs_diff(tail, &ref_states));
    }
    assert!(
        worst < 1e-4,
        "largest difference from transformers: {worst}"
    );
    worst
}

/// The largest `|a[i] − b[i]|`: NaN when any element of either is NaN (`f32::max` would skip
/// it), so that a NaN fails every `worst < tolerance`; panics when the lengths differ.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "compared slices differ in length");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, nan_max)
}

/// `a.max(b)`, but NaN when either is NaN.
pub fn nan_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.max(b)
    }
}
