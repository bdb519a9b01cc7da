//! Pretrained stages from real files: MiniLM in Hugging Face layout (fp32, fp16, bf16) and
//! GloVe vectors aligned to an IMDB vocabulary; bad checkpoints are typed errors.

mod common;

use std::path::{Path, PathBuf};

use burn::prelude::Device;
use common::*;
use safetensors::SafeTensors;
use safetensors::tensor::{Dtype, TensorView};
use transfer_nlp::TransferError;
use transfer_nlp::embedder::{OovPolicy, WordVectors};
use transfer_nlp::pipeline::io::hf::PretrainedEncoder;
use transfer_nlp::tokenizer::{Tokenizer, VocabularyConfig, WordLevelTokenizer};

/// A copy of the MiniLM directory where `edit` may replace files; the rest are links.
fn model_copy(name: &str, edit: impl FnOnce(&Path)) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("minilm-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(minilm_dir()).unwrap() {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    edit(&dir);
    dir
}

fn replace(dir: &Path, file: &str, bytes: &[u8]) {
    std::fs::remove_file(dir.join(file)).unwrap();
    std::fs::write(dir.join(file), bytes).unwrap();
}

/// A tensor to write: dtype, shape, little-endian bytes.
type Raw = (Dtype, Vec<usize>, Vec<u8>);

/// The MiniLM weights rewritten by `f`, which maps (name, dtype, shape, data) to a tensor to
/// keep (possibly changed) or `None` to drop.
fn rewrite_weights(f: impl Fn(&str, Dtype, &[usize], &[u8]) -> Option<Raw>) -> Vec<u8> {
    let bytes = std::fs::read(minilm_dir().join("model.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let kept: Vec<(String, Raw)> = st
        .tensors()
        .into_iter()
        .filter_map(|(name, t)| f(&name, t.dtype(), t.shape(), t.data()).map(|k| (name, k)))
        .collect();
    let views: Vec<(String, TensorView)> = kept
        .iter()
        .map(|(n, (d, s, b))| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    safetensors::serialize(views, None).unwrap()
}

fn half_precision(dtype: Dtype) -> Vec<u8> {
    rewrite_weights(|_, d, shape, data| {
        if d != Dtype::F32 {
            return Some((d, shape.to_vec(), data.to_vec()));
        }
        let out = data
            .chunks(4)
            .flat_map(|c| {
                let x = f32::from_le_bytes(c.try_into().unwrap());
                match dtype {
                    Dtype::F16 => half::f16::from_f32(x).to_le_bytes(),
                    _ => half::bf16::from_f32(x).to_le_bytes(),
                }
            })
            .collect();
        Some((dtype, shape.to_vec(), out))
    })
}

#[test]
fn fp16_and_bf16_checkpoints_load_as_fp32() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let text = ["A charming, funny and moving film."];
    let reference = PretrainedEncoder::load(minilm_dir(), &device).unwrap();
    let (_, _, _, expected) = golden::hidden_states(&reference, &text, 64, &device);
    for (dtype, tolerance) in [(Dtype::F16, 0.02), (Dtype::BF16, 0.15)] {
        let dir = model_copy(&format!("{dtype:?}"), |d| {
            replace(d, "model.safetensors", &half_precision(dtype))
        });
        let model = PretrainedEncoder::load(&dir, &device).unwrap();
        let (_, _, _, states) = golden::hidden_states(&model, &text, 64, &device);
        let worst = golden::max_abs_diff(&states, &expected);
        assert!(worst < tolerance, "{dtype:?}: {worst}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn bad_checkpoints_are_typed_errors_naming_file_and_tensor() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let full = std::fs::read(minilm_dir().join("model.safetensors")).unwrap();
    let load = |dir: &Path| PretrainedEncoder::load(dir, &device).unwrap_err();

    let truncated = model_copy("truncated", |d| {
        replace(d, "model.safetensors", &full[..full.len() / 2])
    });
    let err = load(&truncated);
    assert!(matches!(err, TransferError::Weights { .. }), "{err:?}");
    assert!(err.to_string().contains("model.safetensors"), "{err}");

    let garbage = model_copy("garbage", |d| {
        replace(
            d,
            "model.safetensors",
            b"\xff\xff\xff\xff\xff\xff\xff\x7fnot a header",
        )
    });
    assert!(load(&garbage).to_string().contains("model.safetensors"));

    let empty = model_copy("empty", |d| replace(d, "model.safetensors", b""));
    assert!(load(&empty).to_string().contains("model.safetensors"));

    let missing_name = "encoder.layer.3.output.dense.weight";
    let missing = model_copy("missing", |d| {
        replace(
            d,
            "model.safetensors",
            &rewrite_weights(|n, dt, s, b| {
                (n != missing_name).then(|| (dt, s.to_vec(), b.to_vec()))
            }),
        )
    });
    let err = load(&missing).to_string();
    assert!(err.contains("layer.3.output.dense.weight"), "{err}");

    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(minilm_dir().join("config.json")).unwrap()).unwrap();
    let mut wider = config.clone();
    wider["intermediate_size"] = 1024.into();
    let shape = model_copy("shape", |d| {
        replace(d, "config.json", &serde_json::to_vec(&wider).unwrap())
    });
    let err = load(&shape).to_string();
    assert!(
        err.contains("model.safetensors") && err.contains("intermediate.dense"),
        "{err}"
    );

    let mut small = config.clone();
    small["vocab_size"] = 1000.into();
    let other_tokenizer = model_copy("tokenizer", |d| {
        replace(d, "config.json", &serde_json::to_vec(&small).unwrap())
    });
    let err = load(&other_tokenizer);
    assert!(matches!(err, TransferError::StageMismatch(_)), "{err:?}");
    assert!(err.to_string().contains("tokenizer.json"), "{err}");

    let no_tokenizer = model_copy("no-tokenizer", |d| {
        std::fs::remove_file(d.join("tokenizer.json")).unwrap();
        std::fs::remove_file(d.join("vocab.txt")).unwrap();
    });
    assert!(load(&no_tokenizer).to_string().contains("tokenizer.json"));

    let mut unknown_act = config;
    unknown_act["hidden_act"] = "swish".into();
    let act = model_copy("act", |d| {
        replace(d, "config.json", &serde_json::to_vec(&unknown_act).unwrap())
    });
    let err = load(&act).to_string();
    assert!(
        err.contains("config.json") && err.contains("hidden_act"),
        "{err}"
    );

    for dir in [
        truncated,
        garbage,
        empty,
        missing,
        shape,
        other_tokenizer,
        no_tokenizer,
        act,
    ] {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn vocab_txt_alone_gives_the_same_ids_as_tokenizer_json() {
    let _rng = exclusive_rng();
    let from_json = PretrainedEncoder::load(minilm_dir(), &Device::flex())
        .unwrap()
        .tokenizer;
    let only_vocab = model_copy("vocab-only", |d| {
        std::fs::remove_file(d.join("tokenizer.json")).unwrap()
    });
    let from_vocab =
        transfer_nlp::tokenizer::HfTokenizer::from_pretrained_dir(&only_vocab).unwrap();
    assert!(from_vocab.is_bert_wordpiece());
    for text in golden::Golden::load().texts {
        assert_eq!(
            from_vocab.tokenize(&text).ids,
            from_json.tokenize(&text).ids,
            "{text}"
        );
    }
    std::fs::remove_dir_all(only_vocab).unwrap();
}

#[test]
fn bert_fast_path_matches_tokenizers_on_imdb_reviews() {
    let _rng = exclusive_rng();
    let tokenizer = PretrainedEncoder::load(minilm_dir(), &Device::flex())
        .unwrap()
        .tokenizer;
    assert!(tokenizer.is_bert_wordpiece());
    let reviews = imdb().train.iter().chain(&imdb().test).step_by(10);
    let mut non_ascii = 0;
    for review in reviews {
        let text = review.text.as_str();
        non_ascii += usize::from(!text.is_ascii());
        assert_eq!(
            tokenizer.tokenize(text),
            tokenizer.tokenize_with_pipeline(text),
            "{text}"
        );
    }
    // The fallback for pieces outside printable ASCII was exercised on real text.
    assert!(non_ascii > 100, "{non_ascii} reviews with non-ASCII text");
}

#[test]
fn glove_covers_most_of_an_imdb_vocabulary() {
    let _rng = exclusive_rng();
    let vectors = WordVectors::load(assets().join("vectors/glove.6B.50d.100k.txt.gz")).unwrap();
    assert_eq!((vectors.len(), vectors.dim()), (100_000, 50));
    let train = examples(false, 2000, 1);
    let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
    let tokenizer = WordLevelTokenizer::train(
        &texts,
        &VocabularyConfig {
            min_count: 2,
            max_size: 20_000,
            lowercase: true,
        },
    )
    .unwrap();
    let device = Device::flex();
    device.seed(1);
    let (embedding, coverage) = vectors
        .embedding_for(&tokenizer, OovPolicy::RandomWithVectorScale, &device)
        .unwrap();
    eprintln!(
        "GloVe 6B-50d (100k words) covers {} of {} IMDB vocabulary words ({:.1}%); missing e.g. {:?}",
        coverage.found,
        coverage.vocab_words,
        100.0 * coverage.fraction(),
        &coverage.missing_sample[..5.min(coverage.missing_sample.len())]
    );
    assert!(coverage.fraction() > 0.9, "{coverage:?}");
    // Rows hold the vectors of their tokens; padding is zero.
    let table = params(&embedding);
    let id = tokenizer.token_to_id("movie").unwrap() as usize;
    assert_eq!(
        &table[id * 50..(id + 1) * 50],
        vectors.get("movie").unwrap()
    );
    assert!(table[..50].iter().all(|&x| x == 0.0));
}

#[test]
fn bf16_mixed_precision_stays_close_to_fp32() {
    let _rng = exclusive_rng();
    use transfer_nlp::contextual::Precision;
    let texts = [
        "A wonderful, moving film.",
        "Two hours I will never get back: wooden acting, a plot full of holes and a score that never stops.",
    ];
    let fp32 = PretrainedEncoder::load(minilm_dir(), &Device::flex()).unwrap();
    let mut bf16 = PretrainedEncoder::load(minilm_dir(), &Device::flex()).unwrap();
    bf16.encoder = bf16.encoder.with_precision(Precision::Bf16);
    // A padded batch (masked attention) and each text alone (unmasked).
    for batch in [&texts[..], &texts[..1], &texts[1..]] {
        let a = fp32.sentence_embeddings(batch, 64, 8).unwrap();
        let b = bf16.sentence_embeddings(batch, 64, 8).unwrap();
        for (x, y) in a.iter().zip(&b) {
            let cosine: f32 = x.iter().zip(y).map(|(p, q)| p * q).sum();
            let max_diff = golden::max_abs_diff(x, y);
            assert!(cosine > 0.995, "cosine {cosine}");
            assert!(max_diff > 0.0, "bf16 changed nothing: is the cast applied?");
        }
    }
    // And the two review embeddings stay apart as they are in fp32.
    let a = fp32.sentence_embeddings(&texts, 64, 8).unwrap();
    let b = bf16.sentence_embeddings(&texts, 64, 8).unwrap();
    let sim = |e: &Vec<Vec<f32>>| e[0].iter().zip(&e[1]).map(|(p, q)| p * q).sum::<f32>();
    assert!(
        (sim(&a) - sim(&b)).abs() < 0.02,
        "{} vs {}",
        sim(&a),
        sim(&b)
    );
}
