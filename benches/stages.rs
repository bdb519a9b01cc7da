//! Each stage on real data: the tokenizers on 1,000 IMDB reviews and on all 50,000 labelled
//! ones, the token embedders, the
//! LSTM and BERT encoders (batch 32 × 128 and 256 tokens), one full fine-tuning step, and
//! pipeline prediction on 1,000 reviews; on each backend built in.
//!
//! cargo bench --bench stages [--features tch]

mod common;

use std::time::Duration;

use rayon::prelude::*;

use burn::prelude::*;
use common::{devices, ids};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use transfer_nlp::contextual::{Lstm, LstmConfig};
use transfer_nlp::embedder::{LearnedEmbedding, LearnedEmbeddingConfig};
use transfer_nlp::pipeline::assets::asset_dir;
use transfer_nlp::pipeline::hf::PretrainedBert;
use transfer_nlp::pipeline::imdb::{Imdb, ImdbParts, balanced_sample};
use transfer_nlp::predictor::{PooledClassifier, PooledClassifierConfig};
use transfer_nlp::tokenizer::{EncodePolicy, Tokenizer, VocabularyConfig, WordLevelTokenizer};
use transfer_nlp::*;

fn labelled_imdb() -> Imdb {
    Imdb::load(Imdb::default_path().unwrap(), ImdbParts::LABELLED).unwrap()
}

/// `n` balanced test reviews of `imdb`.
fn reviews(imdb: &Imdb, n: usize) -> Vec<Example> {
    balanced_sample(&imdb.test, n, 0)
        .unwrap()
        .iter()
        .filter_map(|r| r.example())
        .collect()
}

/// `f` of every text, on all cores.
fn par_map<T: Send>(texts: &[&str], f: impl Fn(&str) -> T + Sync) -> Vec<T> {
    texts.par_iter().map(|t| f(t)).collect()
}

fn tokenizers(c: &mut Criterion) {
    let imdb = labelled_imdb();
    let texts: Vec<String> = reviews(&imdb, 1000).into_iter().map(|e| e.text).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let dir = asset_dir().unwrap().join("models/all-MiniLM-L6-v2");
    let wordpiece = PretrainedBert::load(&dir, &Device::flex())
        .unwrap()
        .tokenizer;
    let word_level = WordLevelTokenizer::train(&refs, &VocabularyConfig::default()).unwrap();
    let policy = EncodePolicy::new(256);
    let mut group = c.benchmark_group("tokenize_1000_reviews");
    group.throughput(Throughput::Elements(1000)).sample_size(10);
    group.bench_function("wordpiece", |b| {
        b.iter(|| wordpiece.encode_batch(&refs, &policy).unwrap())
    });
    group.bench_function("wordpiece_tokenizers_pipeline", |b| {
        b.iter(|| par_map(&refs, |t| wordpiece.tokenize_with_pipeline(t)))
    });
    group.bench_function("word_level", |b| {
        b.iter(|| word_level.encode_batch(&refs, &policy).unwrap())
    });
    group.finish();

    // Whole reviews, untruncated: the "all 50,000 labelled reviews in 5 s" target.
    let all: Vec<&str> = imdb
        .train
        .iter()
        .chain(&imdb.test)
        .map(|r| r.text.as_str())
        .collect();
    let mut group = c.benchmark_group("tokenize_all_labelled_reviews");
    group
        .throughput(Throughput::Elements(all.len() as u64))
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("wordpiece", |b| {
        b.iter(|| par_map(&all, |t| wordpiece.tokenize(t)))
    });
    group.bench_function("word_level", |b| {
        b.iter(|| par_map(&all, |t| word_level.tokenize(t)))
    });
    group.finish();
}

fn encoders(c: &mut Criterion) {
    let dir = asset_dir().unwrap().join("models/all-MiniLM-L6-v2");
    let mut group = c.benchmark_group("forward_batch32");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    for (name, device) in devices() {
        let bert = PretrainedBert::load(&dir, &device).unwrap();
        let learned =
            LearnedEmbedding::from_config(&LearnedEmbeddingConfig::new(30522, 128), &device)
                .unwrap();
        let lstm = Lstm::from_config(&LstmConfig::new(128, 128).with_bidirectional(true), &device)
            .unwrap();
        for seq in [128, 256] {
            let (x, mask) = ids(32, seq, 30522, &device);
            group.throughput(Throughput::Elements(32));
            group.bench_function(
                BenchmarkId::new(format!("embed_learned/{name}"), seq),
                |b| b.iter(|| learned.forward(x.clone()).into_data()),
            );
            group.bench_function(BenchmarkId::new(format!("embed_bert/{name}"), seq), |b| {
                b.iter(|| bert.embeddings.forward(x.clone()).into_data())
            });
            let embedded = learned.forward(x.clone());
            group.bench_function(BenchmarkId::new(format!("bilstm_128/{name}"), seq), |b| {
                b.iter(|| lstm.forward(embedded.clone(), mask.clone()).into_data())
            });
            let bert_in = bert.embeddings.forward(x.clone());
            group.bench_function(
                BenchmarkId::new(format!("minilm_encoder/{name}"), seq),
                |b| {
                    b.iter(|| {
                        bert.encoder
                            .forward(bert_in.clone(), mask.clone())
                            .into_data()
                    })
                },
            );
        }
    }
    group.finish();
}

fn fine_tuning(c: &mut Criterion) {
    let dir = asset_dir().unwrap().join("models/all-MiniLM-L6-v2");
    let imdb = labelled_imdb();
    let train = reviews(&imdb, 32);
    let test = reviews(&imdb, 1000);
    let texts: Vec<&str> = test.iter().map(|e| e.text.as_str()).collect();
    let mut group = c.benchmark_group("pipeline");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    for (name, device) in devices() {
        let bert = PretrainedBert::load(&dir, &device).unwrap();
        let head =
            PooledClassifier::from_config(&PooledClassifierConfig::new(384, 2), &device).unwrap();
        let mut pipeline =
            TransferPipeline::new(bert.tokenizer, bert.embeddings, bert.encoder, head, &device)
                .unwrap()
                .with_encode_policy(EncodePolicy::new(128))
                .unwrap();
        let config = TrainConfig {
            epochs: 1,
            batch_size: 32,
            learning_rate: 1e-5,
            ..TrainConfig::default()
        };
        group.throughput(Throughput::Elements(32));
        group.bench_function(format!("minilm_train_step_32x128/{name}"), |b| {
            b.iter(|| pipeline.train(&train, &config).unwrap())
        });
        group.throughput(Throughput::Elements(1000));
        group.bench_function(format!("minilm_predict_1000_reviews_128/{name}"), |b| {
            b.iter(|| pipeline.predict(&texts).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, tokenizers, encoders, fine_tuning);
criterion_main!(benches);
