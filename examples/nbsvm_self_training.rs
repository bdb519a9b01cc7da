//! NB-SVM taught by NB-SVM: a teacher trained on more labels labels unlabelled IMDB reviews,
//! and a student trained on a few labels and the teacher's guesses is scored on the test set,
//! with its own threshold and with the threshold at its median on unlabelled reviews
//! ("centred"). NB-SVM's interpolated weights keep the SVM's intercept, so its own threshold
//! can call far more than half the reviews positive; centring fixes that with unlabelled
//! reviews, and `NbSvmConfig::midpoint_intercept` with the training reviews alone.
//!
//! cargo run --release --example nbsvm_self_training -- [--n 100] [--teacher-n 1000] [--seed 0]

use transfer_nlp::pipeline::classifiers::{NbSvm, NbSvmConfig};
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts, Review, Sentiment, balanced_sample};
use transfer_nlp::pipeline::data::rng::SplitMix64;
use transfer_nlp::pipeline::training::self_training::most_confident_by_score;
use transfer_nlp::*;

#[derive(clap::Parser)]
struct Args {
    /// The student's labelled reviews.
    #[arg(long, default_value_t = 100)]
    n: usize,
    /// The teacher's labelled reviews (another sample).
    #[arg(long, default_value_t = 1000)]
    teacher_n: usize,
    /// Unlabelled reviews the teacher labels.
    #[arg(long, default_value_t = 25_000)]
    pool: usize,
    /// The teacher's surest guesses kept per class.
    #[arg(long, default_value_t = 5_000)]
    per_class: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn texts(reviews: &[Review]) -> Vec<&str> {
    reviews.iter().map(|r| r.text.as_str()).collect()
}

fn positive(reviews: &[Review]) -> Vec<bool> {
    reviews
        .iter()
        .map(|r| r.sentiment == Some(Sentiment::Positive))
        .collect()
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// Test accuracy with NB-SVM's own threshold and centred on `reference`, and the share called
/// positive with its own.
fn scores(model: &NbSvm, test: &[&str], truth: &[bool], reference: &[&str]) -> [f64; 3] {
    let decisions = model.decisions(test);
    let centre = median(&model.decisions(reference));
    let accuracy = |threshold: f64| {
        let right = decisions
            .iter()
            .zip(truth)
            .filter(|&(d, &y)| (*d > threshold) == y)
            .count();
        right as f64 / truth.len() as f64
    };
    let called = decisions.iter().filter(|&&d| d > 0.0).count() as f64 / truth.len() as f64;
    [accuracy(0.0), accuracy(centre), called]
}

fn main() -> Result<(), TransferError> {
    let args: Args = clap::Parser::parse();
    let imdb = Imdb::load(Imdb::default_path()?, ImdbParts::ALL)?;
    let (test, truth) = (texts(&imdb.test), positive(&imdb.test));
    let mut order: Vec<usize> = (0..imdb.unsup.len()).collect();
    SplitMix64::new(args.seed).shuffle(&mut order);
    let unlabelled: Vec<&str> = order.iter().map(|&i| imdb.unsup[i].text.as_str()).collect();
    let pool_size = args.pool.min(unlabelled.len().saturating_sub(2_000));
    // Guesses come from `pool`; `reference` (2,000 other unlabelled reviews) sets thresholds.
    let (pool, reference) = unlabelled.split_at(pool_size);
    let reference = &reference[..2_000.min(reference.len())];
    let config = NbSvmConfig {
        seed: args.seed,
        ..NbSvmConfig::default()
    };
    let report = |what: &str, model: &NbSvm| {
        let [own, centred, called] = scores(model, &test, &truth, reference);
        println!(
            "{what:<34} accuracy {:.2} % (called positive {:.3}), centred {:.2} %",
            100.0 * own,
            called,
            100.0 * centred
        );
    };

    let sample = balanced_sample(&imdb.train, args.n, args.seed)?;
    let (sample_texts, sample_labels) = (texts(&sample), positive(&sample));
    report(
        &format!("nbsvm, n = {}", args.n),
        &NbSvm::fit(&sample_texts, &sample_labels, &config)?,
    );
    let midpoint = NbSvmConfig {
        midpoint_intercept: true,
        ..config.clone()
    };
    report(
        &format!("nbsvm, n = {}, midpoint intercept", args.n),
        &NbSvm::fit(&sample_texts, &sample_labels, &midpoint)?,
    );
    let teacher_sample = balanced_sample(&imdb.train, args.teacher_n, args.seed + 100)?;
    let teacher = NbSvm::fit(&texts(&teacher_sample), &positive(&teacher_sample), &config)?;
    report(&format!("teacher, n = {}", args.teacher_n), &teacher);

    let centre = median(&teacher.decisions(reference));
    let guesses: Vec<f64> = teacher
        .decisions(pool)
        .into_iter()
        .map(|d| d - centre)
        .collect();
    let (mut x, mut y) = (sample_texts, sample_labels);
    for (i, class) in most_confident_by_score(&guesses, args.per_class) {
        x.push(pool[i]);
        y.push(class == 1);
    }
    report(
        &format!("student, n = {} + {} guesses", args.n, x.len() - args.n),
        &NbSvm::fit(&x, &y, &config)?,
    );
    Ok(())
}
