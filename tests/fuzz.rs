//! Property tests with 10,000 cases each on everything that parses untrusted bytes: the
//! safetensors and pipeline-config loaders, the GloVe and word2vec parsers, the tokenizers and
//! the IMDB tar reader. Every input must give a value or a typed error, never a panic, and
//! never an allocation sized by a header (each case runs in a few milliseconds).

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use burn::prelude::Device;
use common::*;
use proptest::prelude::*;
use transfer_nlp::contextual::BagOfEmbeddings;
use transfer_nlp::embedder::{LearnedEmbedding, LearnedEmbeddingConfig, VectorFormat, WordVectors};
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts};
use transfer_nlp::predictor::{PooledClassifier, PooledClassifierConfig};
use transfer_nlp::tokenizer::{
    EncodePolicy, HfTokenizer, Tokenizer, Truncation, VocabularyConfig, WordLevelTokenizer,
};
use transfer_nlp::{Predictor, TokenEmbedder, TransferPipeline};

const CASES: u32 = 10_000;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("transfer-fuzz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A tiny saved pipeline: its directory and the bytes of its files.
struct Saved {
    dir: PathBuf,
    manifest: Vec<u8>,
    weights_name: String,
    weights: Vec<u8>,
}

fn saved() -> &'static Saved {
    static SAVED: OnceLock<Saved> = OnceLock::new();
    SAVED.get_or_init(|| {
        let device = Device::flex();
        let tokenizer =
            WordLevelTokenizer::train(&["a good film", "a bad film"], &VocabularyConfig::default())
                .unwrap();
        let embedder = LearnedEmbedding::from_config(
            &LearnedEmbeddingConfig::new(tokenizer.vocab_size(), 4),
            &device,
        )
        .unwrap();
        let head =
            PooledClassifier::from_config(&PooledClassifierConfig::new(4, 2), &device).unwrap();
        let pipeline: AnyPipeline = TransferPipeline::new(
            tokenizer.into(),
            embedder.into(),
            BagOfEmbeddings::new(4).into(),
            head.into(),
            &device,
        )
        .unwrap();
        let dir = scratch("saved");
        pipeline.save(&dir).unwrap();
        let manifest = std::fs::read(dir.join("pipeline.json")).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        let weights_name = value["weights"].as_str().unwrap().to_string();
        let weights = std::fs::read(dir.join(&weights_name)).unwrap();
        Saved {
            dir,
            manifest,
            weights_name,
            weights,
        }
    })
}

/// `bytes` with some bytes overwritten, then maybe cut short.
fn mutate(bytes: &[u8], edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if !out.is_empty() {
        for &(at, value) in edits {
            let i = at % out.len();
            out[i] = value;
        }
    }
    if let Some(cut) = cut {
        out.truncate(cut % (bytes.len() + 1));
    }
    out
}

/// Byte edits, half of them in the first 256 bytes (headers).
fn edits() -> impl Strategy<Value = Vec<(usize, u8)>> {
    prop::collection::vec(
        (prop_oneof![0usize..256, any::<usize>()], any::<u8>()),
        0..6,
    )
}

/// Loads the saved pipeline with one file replaced; returns whether it loaded.
fn load_with(file: &str, bytes: &[u8], case: &Path) -> bool {
    let s = saved();
    if !case.join("pipeline.json").exists() {
        for entry in std::fs::read_dir(&s.dir).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), case.join(entry.file_name())).unwrap();
        }
    }
    std::fs::write(case.join(file), bytes).unwrap();
    let loaded = AnyPipeline::load(case, &Device::flex()).is_ok();
    let original = if file == "pipeline.json" {
        &s.manifest
    } else {
        &s.weights
    };
    std::fs::write(case.join(file), original).unwrap();
    loaded
}

fn minilm_tokenizer() -> &'static HfTokenizer {
    static T: OnceLock<HfTokenizer> = OnceLock::new();
    T.get_or_init(|| HfTokenizer::from_pretrained_dir(minilm_dir()).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn safetensors_weights_never_panic(edits in edits(), cut in prop::option::of(any::<usize>())) {
        let s = saved();
        let bytes = mutate(&s.weights, &edits, cut);
        let loaded = load_with(&s.weights_name, &bytes, &scratch("weights-case"));
        prop_assert!(loaded || bytes != s.weights);
    }

    #[test]
    fn pipeline_configs_never_panic(edits in edits(), cut in prop::option::of(any::<usize>())) {
        let s = saved();
        let bytes = mutate(&s.manifest, &edits, cut);
        let loaded = load_with("pipeline.json", &bytes, &scratch("manifest-case"));
        prop_assert!(loaded || bytes != s.manifest);
    }

    #[test]
    fn word_vector_parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), text in "[a-z0-9 .\\-\\n]{0,200}") {
        for format in [VectorFormat::GloveText, VectorFormat::Word2VecText, VectorFormat::Word2VecBinary] {
            let _ = WordVectors::read(&mut &bytes[..], format, Path::new("fuzz"));
            let _ = WordVectors::read(&mut text.as_bytes(), format, Path::new("fuzz"));
        }
    }

    #[test]
    fn tokenizers_never_panic(text in any::<String>(), max_length in 0usize..40, start in 0usize..40) {
        let policy = EncodePolicy::new(max_length).with_truncation(Truncation::KeepStartAndEnd { start });
        let t = minilm_tokenizer();
        let _ = t.encode_batch(&[text.as_str()], &policy);
        let _ = t.decode(&t.tokenize(&text).ids);
    }

    #[test]
    fn the_tar_reader_never_panics(edits in edits(), cut in prop::option::of(any::<usize>())) {
        let bytes = mutate(tiny_imdb(), &edits, cut);
        let _ = Imdb::read_tarball(&bytes[..], Path::new("fuzz.tar.gz"), ImdbParts::ALL);
    }
}

#[test]
fn the_tiny_tarball_reads() {
    let _rng = exclusive_rng();
    let imdb = Imdb::read_tarball(tiny_imdb(), Path::new("tiny.tar.gz"), ImdbParts::ALL).unwrap();
    assert_eq!(
        (imdb.train.len(), imdb.test.len(), imdb.unsup.len()),
        (4, 4, 1)
    );
    assert_eq!(imdb.train[0].movie.as_deref(), Some("tt0000001"));
}

#[test]
fn unmutated_files_load() {
    let _rng = exclusive_rng();
    let s = saved();
    assert!(load_with(
        "pipeline.json",
        &s.manifest,
        &scratch("unmutated")
    ));
    assert!(load_with(
        &s.weights_name,
        &s.weights,
        &scratch("unmutated")
    ));
}
