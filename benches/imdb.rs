//! Reading IMDB: all 100,000 reviews (train, test, unlabelled) streamed from
//! `aclImdb_v1.tar.gz`, with labels, star ratings and each review's movie.
//!
//! cargo bench --bench imdb

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts};

fn bench(c: &mut Criterion) {
    let path = Imdb::default_path().unwrap();
    let mut group = c.benchmark_group("imdb_read");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(40));
    group.bench_function("tarball_all_100000_reviews", |b| {
        b.iter(|| {
            let imdb = Imdb::load(&path, ImdbParts::ALL).unwrap();
            assert_eq!(
                imdb.train.len() + imdb.test.len() + imdb.unsup.len(),
                100_000
            );
            imdb
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
