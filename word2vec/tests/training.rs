//! Training on real reviews at small size: reproducibility, and a quality check that fails
//! on vectors that did not learn (or hold NaN).

mod support;

use std::sync::OnceLock;
use support::imdb;
use transfer_word2vec::{Architecture, Vocabulary, Word2Vec, Word2VecConfig};

/// The first 2,000 reviews of train/pos and of train/neg, tokenized.
fn reviews() -> &'static [Vec<String>] {
    static REVIEWS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    REVIEWS.get_or_init(|| imdb::reviews(&["train/pos", "train/neg"], 2_000))
}

fn train(config: &Word2VecConfig, docs: &[Vec<String>]) -> Word2Vec {
    let vocabulary = Vocabulary::build(docs, config.min_count).unwrap();
    Word2Vec::train(config, vocabulary, docs).unwrap()
}

fn small(seed: u64, model: Architecture, hs: bool) -> Word2VecConfig {
    Word2VecConfig {
        model,
        hs,
        negative: if hs { 0 } else { 5 },
        dim: 24,
        epochs: 2,
        threads: 1,
        seed,
        ..Default::default()
    }
}

fn bits(model: &Word2Vec) -> Vec<u32> {
    model.vectors.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn one_thread_and_a_seed_reproduce_bit_for_bit() {
    let docs = &reviews()[..400];
    for (model, hs) in [(Architecture::SkipGram, false), (Architecture::Cbow, true)] {
        let first = train(&small(7, model, hs), docs);
        let again = train(&small(7, model, hs), docs);
        let other = train(&small(8, model, hs), docs);
        assert!(first.vectors.iter().all(|v| v.is_finite()));
        assert!(
            bits(&first) == bits(&again),
            "{model:?}: same seed, different vectors"
        );
        assert!(
            bits(&first) != bits(&other),
            "{model:?}: another seed, same vectors"
        );
        let moved = (first.vectors.iter().zip(&other.vectors))
            .filter(|(a, b)| a != b)
            .count();
        assert!(
            moved > first.vectors.len() / 2,
            "{model:?}: only {moved} values differ"
        );
    }
}

/// What the quality tests demand: finite vectors, `good` much closer to `great` than to
/// `table`, and three near-synonyms among `great`'s 10 nearest neighbours.
fn learned_similar_words(model: &Word2Vec) -> Result<(), String> {
    let finite = model.vectors.iter().all(|v| v.is_finite());
    let sim = |a: &str, b: &str| model.similarity(a, b).unwrap_or(f32::NAN);
    let (good_great, good_table) = (sim("good", "great"), sim("good", "table"));
    let near: Vec<&str> = (model.most_similar("great", 10).into_iter())
        .map(|(w, _)| w)
        .collect();
    let synonyms = [
        "good",
        "excellent",
        "wonderful",
        "fantastic",
        "terrific",
        "amazing",
        "superb",
        "brilliant",
        "awesome",
        "outstanding",
        "fine",
        "nice",
    ];
    let synonyms_near = near.iter().filter(|w| synonyms.contains(w)).count();
    let summary = format!(
        "finite {finite}, sim(good, great) {good_great}, sim(good, table) {good_table}, \
         neighbours of great {near:?}"
    );
    eprintln!("{summary}");
    if finite && good_great > good_table + 0.25 && synonyms_near >= 3 {
        Ok(())
    } else {
        Err(summary)
    }
}

fn quality_config(model: Architecture, hs: bool) -> Word2VecConfig {
    Word2VecConfig {
        model,
        hs,
        negative: if hs { 0 } else { 5 },
        alpha: if model == Architecture::Cbow {
            0.05
        } else {
            0.025
        },
        dim: 50,
        epochs: 5,
        threads: 2,
        ..Default::default()
    }
}

#[test]
fn skip_gram_with_negative_sampling_learns_similar_words() {
    let model = train(&quality_config(Architecture::SkipGram, false), reviews());
    learned_similar_words(&model).unwrap();
    let mut broken = model.clone();
    broken.vectors[broken.vocabulary.index("great").unwrap() * broken.dim] = f32::NAN;
    assert!(
        learned_similar_words(&broken).is_err(),
        "a NaN passed the check"
    );
}

#[test]
fn cbow_with_hierarchical_softmax_learns_similar_words() {
    let model = train(&quality_config(Architecture::Cbow, true), reviews());
    learned_similar_words(&model).unwrap();
}

#[test]
fn untrained_vectors_fail_the_quality_check() {
    let config = Word2VecConfig {
        alpha: 1e-9,
        min_alpha: 0.0,
        epochs: 1,
        threads: 1,
        ..quality_config(Architecture::SkipGram, false)
    };
    assert!(learned_similar_words(&train(&config, reviews())).is_err());
}

#[test]
fn progress_reports_reach_every_word_and_the_report_counts_tokens() {
    let docs = &reviews()[..200];
    let config = small(1, Architecture::SkipGram, false);
    let vocabulary = Vocabulary::build(docs, config.min_count).unwrap();
    let total = vocabulary.total_words() * config.epochs as u64;
    let tokens: u64 = docs.iter().map(|d| d.len() as u64).sum();
    let mut seen = Vec::new();
    let model =
        Word2Vec::train_with_progress(&config, vocabulary, docs, &mut |p| seen.push(*p)).unwrap();
    let last = seen.last().unwrap();
    assert_eq!((last.words_done, last.words_total), (total, total));
    assert_eq!(last.tokens_done, tokens * config.epochs as u64);
    assert!(
        seen.windows(2).all(|w| w[0].alpha >= w[1].alpha),
        "alpha must fall"
    );
    assert!(
        (last.alpha - config.min_alpha).abs() < 1e-6,
        "{}",
        last.alpha
    );
    assert_eq!(model.report.words_processed, tokens * config.epochs as u64);
    assert!(model.report.words_per_second > 0.0);
}
