//! Every supported encoder family, proven against Hugging Face transformers: tiny randomly
//! initialised checkpoints made by transformers (`tests/data/families`,
//! `scripts/golden/make_family_checkpoints.py`) load by their `model_type`, tokenize to
//! transformers' ids and give its `last_hidden_state` within 1e-4; one training step's loss and
//! every gradient match for RoBERTa, MPNet, DeBERTa-v2 and ModernBERT; GPT-2's language model gives transformers'
//! `GPT2LMHeadModel` scores, loss, gradients and greedy text; each exports back and reloads unchanged; and the
//! real all-mpnet-base-v2 matches transformers and sentence-transformers. On flex, and on
//! libtorch with `--features tch`.
#![cfg_attr(feature = "tch", allow(deprecated))] // burn marks its tch backend deprecated

mod common;

use std::path::{Path, PathBuf};

use burn::module::{ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Gradients;
use common::golden::{self, Golden, max_abs_diff, nan_max};
use safetensors::SafeTensors;
use transfer_nlp::contextual::AnyContextual;
use transfer_nlp::embedder::AnyEmbedder;
use transfer_nlp::pipeline::io::hf::{Family, PretrainedEncoder, PretrainedModel, export_model};
use transfer_nlp::pipeline::pretraining::causal_lm::{
    CausalLanguageModel, CausalLmTraining, Decoding, train_causal_lm,
};
use transfer_nlp::predictor::{Pooling, pool};
use transfer_nlp::tokenizer::HfTokenizer;
use transfer_nlp::{ContextualEmbedder, TokenEmbedder, Tokenizer};

/// The tiny checkpoints that load, and the family each is read as.
const FAMILIES: [(&str, Family); 9] = [
    ("bert", Family::Bert),
    ("roberta", Family::Roberta),
    ("xlm-roberta", Family::Roberta),
    ("distilbert", Family::DistilBert),
    ("electra", Family::Electra),
    ("mpnet", Family::Mpnet),
    ("modernbert", Family::ModernBert),
    ("gpt2", Family::Gpt2),
    ("deberta-v2", Family::DebertaV2),
];

/// The checkpoints with one training step recorded (`train_step.safetensors`).
const TRAIN_STEP: [&str; 4] = ["roberta", "mpnet", "deberta-v2", "modernbert"];

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

/// Every parameter's gradient in `grads`, exported under the family's names, against the
/// `grad.*` tensors of `file` (the pooler's left out): the same names, each within 1e-4 of
/// its largest value. Returns how many matched.
fn check_gradients(
    name: &str,
    tokenizer: &HfTokenizer,
    embeddings: &AnyEmbedder,
    encoder: &AnyContextual,
    grads: &mut Gradients,
    file: &Path,
) -> usize {
    let as_weights = |module_grads| GradsAsWeights(module_grads);
    let embeddings = embeddings
        .clone()
        .map(&mut as_weights(GradientsParams::from_module(
            grads, embeddings,
        )));
    let encoder = encoder
        .clone()
        .map(&mut as_weights(GradientsParams::from_module(
            grads, encoder,
        )));
    let out = common::ScratchDir::new("families");
    export_model(tokenizer, &embeddings, &encoder, out.path()).unwrap();
    let exported = f32_tensors(&out.path().join("model.safetensors"));
    let expected: Vec<(String, Vec<f32>)> = f32_tensors(file)
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
    expected.len()
}

/// One training step as transformers took it (`train_step.safetensors`): cross-entropy of a
/// fixed head on mean-pooled states. Same loss, and every parameter's gradient (exported under
/// the family's names) within 1e-4 of the largest.
fn check_train_step(name: &str, device: &Device) {
    let device = device.clone().autodiff();
    let model = PretrainedModel::load(family_dir(name), &device).unwrap();
    let golden = reference(name);
    let step = Golden::from_parts(vec![], &family_dir(name).join("train_step.safetensors"));
    let (ids, mask) = golden_batch(&golden, &device);
    let batch = ids.dims()[0];
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
    let file = family_dir(name).join("train_step.safetensors");
    let checked = check_gradients(
        name,
        &model.tokenizer,
        &model.embeddings,
        &model.encoder,
        &mut grads,
        &file,
    );
    eprintln!("{name}: loss {ours}, {checked} gradients match");
}

#[test]
fn roberta_mpnet_deberta_and_modernbert_train_as_transformers_does() {
    let _rng = common::exclusive_rng();
    for name in TRAIN_STEP {
        check_train_step(name, &Device::flex());
    }
}

#[cfg(feature = "tch")]
#[test]
fn roberta_mpnet_deberta_and_modernbert_train_as_transformers_does_on_libtorch() {
    let _rng = common::exclusive_rng();
    for name in TRAIN_STEP {
        check_train_step(name, &Device::libtorch());
    }
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

/// The reference batch's token rows (each text's real tokens) and their largest length.
fn reference_rows(golden: &Golden) -> (Vec<Vec<u32>>, usize) {
    let (shape, ids) = golden.i64s("input_ids");
    let (_, mask) = golden.i64s("attention_mask");
    let seq = shape[1];
    let rows = (0..shape[0])
        .map(|r| {
            (0..seq)
                .filter(|&j| mask[r * seq + j] == 1)
                .map(|j| ids[r * seq + j] as u32)
                .collect()
        })
        .collect();
    (rows, seq)
}

/// log-softmax of `scores` at `target`, in f64.
fn log_probability(scores: &[f32], target: usize) -> f32 {
    let top = scores.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
    let sum: f64 = scores.iter().map(|&x| f64::from(x - top).exp()).sum();
    (f64::from(scores[target] - top) - sum.ln()) as f32
}

/// GPT-2 with its tied head against transformers' `GPT2LMHeadModel`
/// (`lm_reference.safetensors`, `scripts/golden/make_gpt2_lm_reference.py`): the scores at
/// each text's last token, every next token's log-probability, the loss, every gradient and
/// twelve greedily generated tokens.
fn check_gpt2_language_model(device: &Device) {
    let device = device.clone().autodiff();
    let model = PretrainedModel::load(family_dir("gpt2"), &device).unwrap();
    let tokenizer = model.tokenizer.clone();
    let lm = CausalLanguageModel::try_from(model).unwrap();
    let golden = reference("gpt2");
    let theirs = Golden::from_parts(vec![], &family_dir("gpt2").join("lm_reference.safetensors"));
    let (rows, seq) = reference_rows(&golden);
    let pad = tokenizer.special_tokens().pad;
    let refs: Vec<&[u32]> = rows.iter().map(Vec::as_slice).collect();

    let (ids, mask) = golden_batch(&golden, &device);
    let scores = lm.forward(ids, mask);
    let vocab = scores.dims()[2];
    let scores: Vec<f32> = scores.into_data().convert::<f32>().try_to_vec().unwrap();
    let at = |r: usize, j: usize| &scores[(r * seq + j) * vocab..(r * seq + j + 1) * vocab];
    let last: Vec<f32> = rows
        .iter()
        .enumerate()
        .flat_map(|(r, row)| at(r, row.len() - 1).to_vec())
        .collect();
    let worst = max_abs_diff(&last, &theirs.f32s("logits_last").1);
    assert!(worst < 1e-4, "scores at the last tokens off by {worst}");
    let (_, logprobs) = theirs.f32s("token_logprobs");
    let mut worst = 0.0f32;
    for (r, row) in rows.iter().enumerate() {
        for j in 0..row.len() - 1 {
            let ours = log_probability(at(r, j), row[j + 1] as usize);
            worst = nan_max(worst, (ours - logprobs[r * (seq - 1) + j]).abs());
        }
    }
    assert!(worst < 1e-4, "next-token log-probabilities off by {worst}");

    let loss = lm.loss(&refs, pad).unwrap();
    let ours = loss.clone().into_scalar::<f32>();
    let expected = theirs.f32s("loss").1[0];
    assert!((ours - expected).abs() < 1e-5, "loss {ours} vs {expected}");
    let texts: Vec<&str> = golden.texts.iter().map(String::as_str).collect();
    let evaluated = lm.evaluate(&tokenizer, &texts, 64).unwrap();
    assert!(
        (evaluated - f64::from(expected)).abs() < 1e-5,
        "evaluate {evaluated} vs {expected}"
    );

    let mut grads = loss.backward();
    let file = family_dir("gpt2").join("lm_reference.safetensors");
    let embeddings = AnyEmbedder::Gpt2(lm.embeddings.clone());
    let decoder = AnyContextual::Gpt2(lm.decoder.clone());
    let checked = check_gradients("gpt2", &tokenizer, &embeddings, &decoder, &mut grads, &file);

    let prompt: Vec<u32> = theirs
        .i64s("prompt_ids")
        .1
        .iter()
        .map(|&i| i as u32)
        .collect();
    let generated = lm
        .generate_ids(&prompt, 12, &Decoding::Greedy, None)
        .unwrap();
    let expected: Vec<u32> = theirs
        .i64s("generated_ids")
        .1
        .iter()
        .map(|&i| i as u32)
        .collect();
    assert_eq!(generated, expected, "greedy generation");
    eprintln!("gpt2 LM: loss {ours}, {checked} gradients and 12 generated tokens match");
}

/// The reference batch's padded ids and mask on `device`.
fn golden_batch(golden: &Golden, device: &Device) -> (Tensor<2, Int>, Tensor<2, Bool>) {
    let (shape, ids) = golden.i64s("input_ids");
    let (_, mask) = golden.i64s("attention_mask");
    let [batch, seq] = [shape[0], shape[1]];
    (
        Tensor::from_data(TensorData::new(ids, [batch, seq]), device),
        Tensor::from_data(
            TensorData::new(mask.iter().map(|&m| m == 1).collect(), [batch, seq]),
            device,
        ),
    )
}

#[test]
fn gpt2_language_model_matches_transformers() {
    let _rng = common::exclusive_rng();
    check_gpt2_language_model(&Device::flex());
}

#[cfg(feature = "tch")]
#[test]
fn gpt2_language_model_matches_transformers_on_libtorch() {
    let _rng = common::exclusive_rng();
    check_gpt2_language_model(&Device::libtorch());
}

#[test]
fn gpt2_language_model_trains_on_reviews_samples_and_refuses_other_families() {
    let _rng = common::exclusive_rng();
    let device = Device::flex();
    let model = PretrainedModel::load(family_dir("gpt2"), &device).unwrap();
    let tokenizer = model.tokenizer.clone();
    let lm = CausalLanguageModel::try_from(model).unwrap();
    let reviews: Vec<String> = common::examples(false, 32, 3)
        .into_iter()
        .map(|e| e.text)
        .collect();
    let before = lm.evaluate(&tokenizer, &reviews, 64).unwrap();
    let config = CausalLmTraining {
        steps: 40,
        batch_size: 8,
        max_length: 64,
        learning_rate: 3e-3,
        ..CausalLmTraining::default()
    };
    let (lm, report) = train_causal_lm(lm, &tokenizer, &reviews, &config, &device).unwrap();
    let after = lm.evaluate(&tokenizer, &reviews, 64).unwrap();
    assert!(
        after < before - 0.5,
        "loss on the reviews {before} -> {after}"
    );
    assert!(report.last_loss < report.first_loss, "{report:?}");

    let sample = |seed| Decoding::Sample {
        temperature: 1.0,
        top_k: Some(50),
        seed,
    };
    let one = lm
        .generate(&tokenizer, "This movie", 10, &sample(7))
        .unwrap();
    assert_eq!(
        one,
        lm.generate(&tokenizer, "This movie", 10, &sample(7))
            .unwrap()
    );
    let greedy = lm
        .generate(&tokenizer, "This movie", 10, &Decoding::Greedy)
        .unwrap();
    let top_one = Decoding::Sample {
        temperature: 0.5,
        top_k: Some(1),
        seed: 1,
    };
    assert_eq!(
        greedy,
        lm.generate(&tokenizer, "This movie", 10, &top_one).unwrap()
    );
    let bad = Decoding::Sample {
        temperature: 0.0,
        top_k: None,
        seed: 1,
    };
    assert!(lm.generate(&tokenizer, "This movie", 10, &bad).is_err());
    assert!(lm.generate_ids(&[], 10, &Decoding::Greedy, None).is_err());

    let bert = PretrainedModel::load(family_dir("bert"), &device).unwrap();
    let error = CausalLanguageModel::try_from(bert).unwrap_err().to_string();
    assert!(error.contains("bert") && error.contains("gpt2"), "{error}");
}

/// DeBERTa-v2's stages (their own, not BERT's) in a pipeline: fine-tuned, saved and loaded
/// back with the same predictions, and explained.
#[test]
fn a_deberta_pipeline_fine_tunes_saves_reloads_and_explains() {
    use transfer_nlp::pipeline::explain::{ClassProbabilities, Method};
    use transfer_nlp::predictor::{PooledClassifier, PooledClassifierConfig};
    use transfer_nlp::{AnyPipeline, Predictor, TrainConfig, TransferPipeline};

    let _rng = common::exclusive_rng();
    let device = Device::flex();
    let model = PretrainedModel::load(family_dir("deberta-v2"), &device).unwrap();
    assert_eq!(model.family, Family::DebertaV2);
    let head = PooledClassifier::from_config(
        &PooledClassifierConfig::new(model.hidden_size(), 2).with_pooling(model.pooling()),
        &device,
    )
    .unwrap();
    let mut pipeline: AnyPipeline = TransferPipeline::new(
        model.tokenizer.into(),
        model.embeddings,
        model.encoder,
        head.into(),
        &device,
    )
    .unwrap();
    let train = common::examples(false, 16, 5);
    let config = TrainConfig {
        epochs: 1,
        batch_size: 8,
        learning_rate: 1e-3,
        ..TrainConfig::default()
    };
    let texts: Vec<String> = train.iter().take(3).map(|e| e.text.clone()).collect();
    let untrained = pipeline.class_probabilities(&texts).unwrap();
    pipeline.train(&train, &config).unwrap();
    let out = common::ScratchDir::new("deberta-pipeline");
    pipeline.save(out.path()).unwrap();
    let reloaded = AnyPipeline::load(out.path(), &device).unwrap();
    let (ours, theirs) = (
        pipeline.class_probabilities(&texts).unwrap(),
        reloaded.class_probabilities(&texts).unwrap(),
    );
    assert_ne!(ours, untrained, "training changed nothing");
    assert_eq!(ours, theirs, "predictions changed by saving and loading");
    let explained = reloaded
        .explain(&[texts[0].as_str()], 1, &Method::GradientTimesInput)
        .unwrap();
    assert!(explained[0].words.iter().all(|w| w.score.is_finite()));
}
