//! Each stage on real data: the tokenizers on 1,000 IMDB reviews and on all 50,000 labelled
//! ones, the token embedders, the
//! LSTM and BERT encoders (batch 32 × 128 and 256 tokens), one full fine-tuning step, one
//! AdamW step, pipeline prediction on 1,000 reviews, and the language model's softmax loss; on
//! each backend built in.
//!
//! cargo bench --bench stages [--features tch]

mod common;

use std::time::{Duration, Instant};

use rayon::prelude::*;

use burn::module::{ModuleVisitor, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use common::{devices, ids};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use transfer_nlp::contextual::{
    BertEncoder, BertEncoderConfig, ContextualEmbedder, HiddenAct, Lstm, LstmConfig,
};
use transfer_nlp::embedder::{LearnedEmbedding, LearnedEmbeddingConfig};
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts, balanced_sample};
use transfer_nlp::pipeline::io::assets::asset_dir;
use transfer_nlp::pipeline::io::hf::PretrainedEncoder;
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
    let wordpiece = PretrainedEncoder::load(&dir, &Device::flex())
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
        let bert = PretrainedEncoder::load(&dir, &device).unwrap();
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
        let bert = PretrainedEncoder::load(&dir, &device).unwrap();
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

/// Gradients of 1e-3 for every parameter of a module.
struct Ones(GradientsParams);

impl ModuleVisitor for Ones {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let g = param.val().inner().ones_like().mul_scalar(1e-3);
        self.0.register(param.id, g);
    }
}

/// One AdamW step over a BERT encoder's 96 parameter tensors, burn's AdamW against ours
/// (libtorch's fused kernel on tch): at MiniLM's sizes, and at tiny ones (hidden size 8), where
/// what is left is the cost per tensor on the host, which a GPU step pays as well.
fn optimizer(c: &mut Criterion) {
    let dir = asset_dir().unwrap().join("models/all-MiniLM-L6-v2");
    let mut group = c.benchmark_group("optimizer");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    let tiny = BertEncoderConfig {
        hidden_size: 8,
        num_hidden_layers: 6,
        num_attention_heads: 2,
        intermediate_size: 8,
        hidden_act: HiddenAct::Gelu,
        layer_norm_eps: 1e-12,
        hidden_dropout_prob: 0.1,
        relative_attention_num_buckets: None,
    };
    for (name, device) in devices() {
        let encoders = [
            (
                "minilm",
                PretrainedEncoder::load(&dir, &device).unwrap().encoder,
            ),
            ("tiny", BertEncoder::from_config(&tiny, &device).unwrap()),
        ];
        for (size, encoder) in encoders {
            let encoder = encoder.train();
            for which in ["burn", "ours"] {
                let mut optimizer: ModuleOptimizer = if which == "burn" {
                    AdamWConfig::new()
                        .with_weight_decay(0.01)
                        .with_epsilon(1e-8)
                        .init()
                } else {
                    kernels::adamw(0.01)
                };
                // Moved into each step, as in training: the fused step then works in place.
                let mut model = Some(encoder.clone());
                group.bench_function(format!("adamw_step_{size}_encoder/{which}/{name}"), |b| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let current = model.take().expect("a model");
                            let mut ones = Ones(GradientsParams::new());
                            current.visit(&mut ones);
                            let start = Instant::now();
                            model = Some(optimizer.step(1e-5, current, ones.0));
                            total += start.elapsed();
                        }
                        total
                    })
                });
            }
        }
    }
    group.finish();
}

/// Cross-entropy over a language model's vocabulary, forward and backward: one ULMFiT step's
/// logits (64 streams × 64 tokens, 15,000 words), burn's `CrossEntropyLoss` against ours.
fn softmax_loss(c: &mut Criterion) {
    let mut group = c.benchmark_group("softmax_loss");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    let (rows, vocab) = (64 * 64, 15_000);
    for (name, device) in devices() {
        let device = device.autodiff();
        device.seed(1);
        let logits = Tensor::<2>::random(
            [rows, vocab],
            burn::tensor::Distribution::Normal(0.0, 3.0),
            &device,
        )
        .require_grad();
        let (targets, _) = ids(1, rows, vocab, &device);
        let targets = targets.reshape([rows]);
        let burn_loss = CrossEntropyLossConfig::new().init(&device);
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function(format!("{rows}x{vocab}/burn/{name}"), |b| {
            b.iter(|| {
                burn_loss
                    .forward(logits.clone(), targets.clone())
                    .backward()
            })
        });
        group.bench_function(format!("{rows}x{vocab}/ours/{name}"), |b| {
            b.iter(|| kernels::cross_entropy(logits.clone(), targets.clone()).backward())
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    tokenizers,
    encoders,
    fine_tuning,
    optimizer,
    softmax_loss
);
criterion_main!(benches);
