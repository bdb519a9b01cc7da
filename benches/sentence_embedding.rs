//! MiniLM sentence embedding (batch 32 × 128 tokens, all real, mean pooling + L2 norm) and
//! model + tokenizer loading, on each backend built in.
//!
//! cargo bench --bench sentence_embedding [--features tch]

mod common;

use std::time::Duration;

use common::{devices, ids};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use transfer_nlp::pipeline::io::assets::asset_dir;
use transfer_nlp::pipeline::io::hf::PretrainedEncoder;
use transfer_nlp::predictor::{Pooling, pool};
use transfer_nlp::{ContextualEmbedder, TokenEmbedder};

fn bench(c: &mut Criterion) {
    let dir = asset_dir()
        .expect("TRANSFER_ASSETS")
        .join("models/all-MiniLM-L6-v2");
    let mut group = c.benchmark_group("minilm");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for (name, device) in devices() {
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("load/{name}"), |b| {
            b.iter(|| PretrainedEncoder::load(&dir, &device).unwrap())
        });
        let model = PretrainedEncoder::load(&dir, &device).unwrap();
        let (ids, mask) = ids(32, 128, 20_000, &device);
        group.throughput(Throughput::Elements(32));
        group.bench_function(format!("embed_32x128/{name}"), |b| {
            b.iter(|| {
                let states = model
                    .encoder
                    .forward(model.embeddings.forward(ids.clone()), mask.clone());
                let pooled = pool(states, mask.clone(), Pooling::Mean);
                let norm = pooled.clone().square().sum_dim(1).sqrt();
                (pooled / norm).into_data()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
