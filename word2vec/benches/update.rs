//! The inner skip-gram negative-sampling update for one (centre, context) pair at dim 100:
//! six dot products and twelve axpys over rows of a 50,000-word output matrix.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use transfer_word2vec::skip_gram_negative_update;

fn update(c: &mut Criterion) {
    let (dim, words) = (100, 50_000);
    let mut input: Vec<f32> = (0..dim).map(|i| (i as f32 * 0.37).sin() * 0.005).collect();
    let mut outputs: Vec<f32> = (0..words * dim)
        .map(|i| (i as f32 * 0.011).cos() * 0.01)
        .collect();
    let mut grad = vec![0.0f32; dim];
    // The centre word and five noise words spread over the matrix, as sampling draws them.
    let targets = [17u32, 40_011, 2_903, 12, 31_337, 7_777];
    c.bench_function("skip_gram_negative_update dim 100, 5 negatives", |b| {
        b.iter(|| {
            skip_gram_negative_update(
                black_box(&mut input),
                black_box(&mut outputs),
                black_box(&targets),
                black_box(0.001),
                &mut grad,
            )
        })
    });
}

criterion_group!(benches, update);
criterion_main!(benches);
