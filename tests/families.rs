//! Every supported encoder family, proven against Hugging Face transformers: tiny randomly
//! initialised checkpoints made by transformers (`tests/data/families`,
//! `scripts/golden/make_family_checkpoints.py`) load by their `model_type`, tokenize to
//! transformers' ids and give its `last_hidden_state` within 1e-4; one training step's loss and
//! every gradient match for RoBERTa and MPNet; each exports back and reloads unchanged; and the
//! real all-mpnet-base-v2 matches transformers and sentence-transformers. On flex, and on
//! libtorch with `--features tch`.
#![cfg_attr(feature = "tch", allow(deprecated))] // burn marks its tch backend deprecated

mod common;

use std::path::{Path, PathBuf};

use burn::module::{ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use common::golden::{self, Golden, max_abs_diff, nan_max};
use safetensors::SafeTensors;
use transfer_nlp::pipeline::io::hf::{Family, PretrainedEncoder, PretrainedModel, export_model};
use transfer_nlp::predictor::{Pooling, pool};
use transfer_nlp::{ContextualEmbedder, TokenEmbedder};

/// The tiny checkpoints that load, and the family each is read as.
const FAMILIES: [(&str, Family); 8] = [
    ("bert", Family::Bert),
    ("roberta", Family::Roberta),
    ("xlm-roberta", Family::Roberta),
    ("distilbert", Family::DistilBert),
    ("electra", Family::Electra),
    ("mpnet", Family::Mpnet),
    ("modernbert", Family::ModernBert),
    ("gpt2", Family::Gpt2),
];

fn family_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/families")
        .join(name)
}

/// A family's `reference.json` texts and `reference.safetensors`.
fn reference(name: &str) -> Golden {
    let dir = family_dir(name);
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("reference.json")).unwrap()).unwrap();
    let texts = meta["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    Golden::from_parts(texts, &dir.join("reference.safetensors"))
}

/// The largest difference from transformers' `last_hidden_state` over the real tokens, after
/// checking that our tokenizer gives transformers' ids and mask.
fn hidden_state_difference(name: &str, model: &PretrainedModel, device: &Device) -> f32 {
    let golden = reference(name);
    let texts: Vec<&str> = golden.texts.iter().map(String::as_str).collect();
    let stages = (&model.tokenizer, &model.embeddings, &model.encoder);
    let (ids, mask, seq, states) = golden::stage_states(stages, &texts, 64, device);
    let (shape, ref_ids) = golden.i64s("input_ids");
    let (_, ref_mask) = golden.i64s("attention_mask");
    let (_, ref_states) = golden.f32s("last_hidden_state");
    assert_eq!(shape, vec![texts.len(), seq], "{name}: padded shape");
    let ids: Vec<i64> = ids.iter().map(|&i| i64::from(i)).collect();
    let ref_mask: Vec<bool> = ref_mask.iter().map(|&m| m == 1).collect();
    assert_eq!(mask, ref_mask, "{name}: attention mask");
    for (i, (&ours, &theirs)) in ids.iter().zip(&ref_ids).enumerate() {
        // transformers pads with the pad id too; compare the real tokens and the pad id.
        assert_eq!(ours, theirs, "{name}: id at flat position {i}");
    }
    let hidden = model.hidden_size();
    let mut worst = 0.0f32;
    for (i, _) in mask.iter().enumerate().filter(|(_, real)| **real) {
        let row = i * hidden..(i + 1) * hidden;
        worst = nan_max(worst, max_abs_diff(&states[row.clone()], &ref_states[row]));
    }
    worst
}

fn check_every_family(device: &Device) {
    let device = device.clone();
    for (name, family) in FAMILIES {
        let model = PretrainedModel::load(family_dir(name), &device)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(model.family, family, "{name}");
        let worst = hidden_state_difference(name, &model, &device);
        eprintln!("{name}: largest |difference| from transformers {worst:e}");
        assert!(worst < 1e-4, "{name}: {worst}");
    }
}

#[test]
fn every_family_matches_transformers() {
    let _rng = common::exclusive_rng();
    check_every_family(&Device::flex());
}

#[cfg(feature = "tch")]
#[test]
fn every_family_matches_transformers_on_libtorch() {
    let _rng = common::exclusive_rng();
    check_every_family(&Device::libtorch());
}

#[test]
fn an_unsupported_model_type_is_named_with_the_supported_ones() {
    let dir = common::ScratchDir::new("families");
    for file in ["config.json", "model.safetensors", "tokenizer.json"] {
        std::fs::copy(family_dir("bert").join(file), dir.path().join(file)).unwrap();
    }
    let config = dir.path().join("config.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    json["model_type"] = "t5".into();
    std::fs::write(&config, serde_json::to_vec(&json).unwrap()).unwrap();
    let error = PretrainedEncoder::load(dir.path(), &Device::flex())
        .unwrap_err()
        .to_string();
    for expected in [
        "config.json",
        "\"t5\"",
        "roberta",
        "distilbert",
        "modernbert",
        "gpt2",
    ] {
        assert!(error.contains(expected), "{expected:?} not in {error}");
    }
    // ModernBERT's and GPT-2's stages are not BERT's: the BERT-stage loader says where to go.
    let error = PretrainedEncoder::load(family_dir("gpt2"), &Device::flex())
        .unwrap_err()
        .to_string();
    assert!(error.contains("PretrainedModel::load"), "{error}");
}

/// A family's tensors named as in its checkpoint, from a model whose weights are `grads`.
struct GradsAsWeights(GradientsParams);

impl ModuleMapper for GradsAsWeights {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let grad = self
            .0
            .remove::<D>(param.id)
            .unwrap_or_else(|| param.val().inner().zeros_like());
        Param::from_tensor(grad)
    }
}

/// Reads every tensor of a safetensors file as f32, by name.
fn f32_tensors(path: &Path) -> Vec<(String, Vec<f32>)> {
    let bytes = std::fs::read(path).unwrap();
    let tensors = SafeTensors::deserialize(&bytes).unwrap();
    let mut out: Vec<(String, Vec<f32>)> = tensors
        .tensors()
        .into_iter()
        .filter(|(_, t)| t.dtype() == safetensors::Dtype::F32)
        .map(|(name, t)| {
            let values = t
                .data()
                .chunks(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            (name, values)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// One training step as transformers took it (`train_step.safetensors`): cross-entropy of a
/// fixed head on mean-pooled states. Same loss, and every parameter's gradient (exported under
/// the family's names) within 1e-4 of the largest.
fn check_train_step(name: &str, device: &Device) {
    let device = device.clone().autodiff();
    let model = PretrainedModel::load(family_dir(name), &device).unwrap();
    let golden = reference(name);
    let step = Golden::from_parts(vec![], &family_dir(name).join("train_step.safetensors"));
    let (shape, ids) = golden.i64s("input_ids");
    let (_, mask) = golden.i64s("attention_mask");
    let [batch, seq] = [shape[0], shape[1]];
    let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [batch, seq]), &device);
    let mask = Tensor::<2, Bool>::from_data(
        TensorData::new(mask.iter().map(|&m| m == 1).collect(), [batch, seq]),
        &device,
    );
    let (head_shape, head) = step.f32s("head_weight");
    let head = Tensor::<2>::from_data(TensorData::new(head, [head_shape[0], 2]), &device);
    let (_, labels) = step.i64s("labels");
    let labels = Tensor::<1, Int>::from_data(TensorData::new(labels, [batch]), &device);

    let states = model
        .encoder
        .forward(model.embeddings.forward(ids), mask.clone());
    let logits = pool(states, mask, Pooling::Mean).matmul(head);
    let loss = transfer_nlp::kernels::cross_entropy(logits, labels).mean();
    let ours = loss.clone().into_scalar::<f32>();
    let (_, theirs) = step.f32s("loss");
    assert!(
        (ours - theirs[0]).abs() < 1e-5,
        "{name}: loss {ours} vs {}",
        theirs[0]
    );

    let mut grads = loss.backward();
    let as_weights = |module_grads| GradsAsWeights(module_grads);
    let embeddings = model
        .embeddings
        .clone()
        .map(&mut as_weights(GradientsParams::from_module(
            &mut grads,
            &model.embeddings,
        )));
    let encoder = model
        .encoder
        .clone()
        .map(&mut as_weights(GradientsParams::from_module(
            &mut grads,
            &model.encoder,
        )));
    let out = common::ScratchDir::new("families");
    export_model(&model.tokenizer, &embeddings, &encoder, out.path()).unwrap();
    let exported = f32_tensors(&out.path().join("model.safetensors"));
    let expected: Vec<(String, Vec<f32>)> =
        f32_tensors(&family_dir(name).join("train_step.safetensors"))
            .into_iter()
            .filter_map(|(n, v)| Some((n.strip_prefix("grad.")?.to_string(), v)))
            .filter(|(n, _)| !n.starts_with("pooler."))
            .collect();
    let names = |t: &[(String, Vec<f32>)]| t.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&exported), names(&expected), "{name}: gradient names");
    for ((tensor, ours), (_, theirs)) in exported.iter().zip(&expected) {
        let scale = theirs.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let worst = max_abs_diff(ours, theirs);
        assert!(
            worst <= 1e-4 * scale + 1e-7,
            "{name}: gradient of {tensor}: off by {worst} (largest {scale})"
        );
    }
    eprintln!("{name}: loss {ours}, {} gradients match", expected.len());
}

#[test]
fn roberta_and_mpnet_train_as_transformers_does() {
    let _rng = common::exclusive_rng();
    check_train_step("roberta", &Device::flex());
    check_train_step("mpnet", &Device::flex());
}

#[cfg(feature = "tch")]
#[test]
fn roberta_and_mpnet_train_as_transformers_does_on_libtorch() {
    let _rng = common::exclusive_rng();
    check_train_step("roberta", &Device::libtorch());
    check_train_step("mpnet", &Device::libtorch());
}

#[test]
fn every_family_exports_in_its_own_layout_and_reloads_unchanged() {
    let _rng = common::exclusive_rng();
    let device = Device::flex();
    for (name, family) in FAMILIES {
        let model = PretrainedModel::load(family_dir(name), &device).unwrap();
        let out = common::ScratchDir::new("families");
        export_model(
            &model.tokenizer,
            &model.embeddings,
            &model.encoder,
            out.path(),
        )
        .unwrap();
        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.path().join("config.json")).unwrap())
                .unwrap();
        assert_eq!(config["model_type"], family.model_type(), "{name}");
        let reloaded = PretrainedModel::load(out.path(), &device).unwrap();
        assert_eq!(reloaded.family, family, "{name}");
        // The export's own tensor names are the checkpoint's (less the unused pooler).
        let original: Vec<String> = f32_tensors(&family_dir(name).join("model.safetensors"))
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| !n.starts_with("pooler."))
            .collect();
        let exported: Vec<String> = f32_tensors(&out.path().join("model.safetensors"))
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(exported, original, "{name}: tensor names");
        let worst = hidden_state_difference(name, &reloaded, &device);
        assert!(worst < 1e-4, "{name}: export drifted by {worst}");
    }
}

fn check_all_mpnet_base_v2(device: &Device) {
    let golden = Golden::load_dir(&common::mpnet_golden_dir());
    let device = device.clone();
    let worst = golden::check_model(&common::mpnet_dir(), &golden, &device);
    eprintln!("all-mpnet-base-v2: largest |difference| from transformers {worst:e}");

    let model = PretrainedEncoder::load(common::mpnet_dir(), &device).unwrap();
    assert_eq!(model.family, Family::Mpnet);
    let ours = model.sentence_embeddings(&golden.texts, 128, 3).unwrap();
    let (shape, reference) = golden.f32s("batch.sentence_embedding");
    assert_eq!(shape, vec![golden.texts.len(), 768]);
    let ours: Vec<f32> = ours.concat();
    let worst = max_abs_diff(&ours, &reference);
    assert!(worst < 1e-4, "sentence embeddings off by {worst}");
}

#[test]
fn all_mpnet_base_v2_matches_transformers_and_sentence_transformers() {
    let _rng = common::exclusive_rng();
    check_all_mpnet_base_v2(&Device::flex());
}

#[cfg(feature = "tch")]
#[test]
fn all_mpnet_base_v2_matches_transformers_on_libtorch() {
    let _rng = common::exclusive_rng();
    check_all_mpnet_base_v2(&Device::libtorch());
}
