//! NB-SVM on all of IMDB: tokenization, features, fit on 25,000 reviews and prediction of
//! 25,000, as the scikit-learn reference does it (`scripts/sklearn_nbsvm_time.py`).
//!
//! cargo bench --bench nbsvm

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use transfer_nlp::pipeline::classifiers::{NbSvm, NbSvmConfig};
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts};

fn bench(c: &mut Criterion) {
    let imdb = Imdb::load(Imdb::default_path().unwrap(), ImdbParts::LABELLED).unwrap();
    let train: Vec<&str> = imdb.train.iter().map(|r| r.text.as_str()).collect();
    let labels: Vec<bool> = imdb
        .train
        .iter()
        .map(|r| r.sentiment.map(|s| s.class()) == Some(1))
        .collect();
    let test: Vec<&str> = imdb.test.iter().map(|r| r.text.as_str()).collect();
    let mut group = c.benchmark_group("nbsvm_full_imdb");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(60));
    group.bench_function("fit_25000_predict_25000", |b| {
        b.iter(|| {
            let model = NbSvm::fit(&train, &labels, &NbSvmConfig::default()).unwrap();
            model.predict(&test)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
