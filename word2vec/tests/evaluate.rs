//! The analogy and word-similarity scores, on the real evaluation files.

mod support;

use std::path::PathBuf;
use support::imdb::assets;
use transfer_word2vec::evaluate::{analogy_accuracy, similarity_spearman, spearman};

fn sets() -> PathBuf {
    assets().join("word-similarity")
}

fn temp(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("w2v-eval-{name}-{}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// Vectors where "capital of" is one offset: country + (1, 0, 0) = its capital, and
/// feminine is another: (0, 1, 0).
fn toy() -> (Vec<&'static str>, Vec<f32>) {
    let words = vec![
        "france", "paris", "germany", "berlin", "king", "queen", "man", "woman", "noise",
    ];
    let vectors = vec![
        0.0, 0.0, 3.0, // france
        1.0, 0.0, 3.0, // paris
        0.0, 0.3, 3.2, // germany
        1.0, 0.3, 3.2, // berlin
        2.0, 0.0, 1.0, // king
        2.0, 1.0, 1.0, // queen
        0.5, 0.0, 1.0, // man
        0.5, 1.0, 1.0, // woman
        -1.0, -1.0, -1.0,
    ];
    (words, vectors)
}

#[test]
fn analogies_are_answered_by_3cosadd_case_insensitively_within_restrict() {
    let (words, vectors) = toy();
    let questions = temp(
        "analogy.txt",
        ": capitals\nFrance Paris Germany Berlin\nfrance paris germany noise\n\
         : gender\nman woman king queen\nman king woman queen\nman woman king unicorn\n",
    );
    let score = analogy_accuracy(&words, &vectors, 3, &questions, 30_000).unwrap();
    assert_eq!((score.correct, score.total, score.skipped), (3, 4, 1));
    assert_eq!(score.accuracy(), 0.75);
    // Restricted to the first 4 words, only the first question has all its words there.
    let score = analogy_accuracy(&words, &vectors, 3, &questions, 4).unwrap();
    assert_eq!((score.correct, score.total, score.skipped), (1, 1, 4));
    std::fs::remove_file(&questions).unwrap();
}

#[test]
fn the_question_words_are_never_the_answer() {
    // Here `small` itself is the closest to bigger - big + small; `smaller` comes next.
    let words = ["big", "bigger", "small", "smaller", "other"];
    let vectors = [
        1.0, 0.0, 0.0, 1.0, 0.3, 0.0, 0.0, 0.0, 1.0, 0.3, 0.5, 1.0, -1.0, 0.0, 0.0,
    ];
    let questions = temp("exclude.txt", ": comparatives\nbig bigger small smaller\n");
    let score = analogy_accuracy(&words, &vectors, 3, &questions, 10).unwrap();
    assert_eq!((score.correct, score.total), (1, 1));
    std::fs::remove_file(&questions).unwrap();
}

#[test]
fn nan_vectors_answer_no_analogy_and_give_no_correlation() {
    let (words, mut vectors) = toy();
    vectors.iter_mut().for_each(|v| *v = f32::NAN);
    // Each answer is a different row, the first and the last that could be picked included.
    let text = ": c\nfrance paris germany berlin\nking queen man woman\nking queen man noise\n";
    let questions = temp("nan.txt", text);
    let score = analogy_accuracy(&words, &vectors, 3, &questions, 100).unwrap();
    assert_eq!((score.correct, score.total), (0, 3));
    let pairs = temp(
        "nan.tsv",
        "france\tparis\t8\nking\tqueen\t7\nman\tnoise\t1\n",
    );
    let sim = similarity_spearman(&words, &vectors, 3, &pairs).unwrap();
    assert!(sim.spearman.is_nan(), "{sim:?}");
    std::fs::remove_file(&questions).unwrap();
    std::fs::remove_file(&pairs).unwrap();
}

#[test]
fn the_google_analogy_file_parses_and_counts_every_question() {
    let (words, vectors) = toy();
    let score = analogy_accuracy(
        &words,
        &vectors,
        3,
        sets().join("questions-words.txt"),
        30_000,
    );
    let score = score.unwrap();
    assert_eq!(score.total + score.skipped, 19_544);
    // "Berlin Germany Paris France" style lines survive lowercasing.
    assert!(score.total > 0 && score.correct <= score.total, "{score:?}");
}

#[test]
fn word_similarity_files_parse_with_their_coverage() {
    for (file, pairs) in [("wordsim353.tsv", 353), ("simlex999.txt", 999)] {
        let path = sets().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut words: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .flat_map(|l| l.split('\t').take(2).map(str::to_lowercase))
            .collect();
        words.sort();
        words.dedup();
        let dim = 4;
        let vectors: Vec<f32> = (0..words.len() * dim)
            .map(|i| (i as f32 * 0.73).sin())
            .collect();
        let full = similarity_spearman(&words, &vectors, dim, &path).unwrap();
        assert_eq!(
            (full.pairs_used, full.pairs_total),
            (pairs, pairs),
            "{file}"
        );
        assert!(
            full.spearman.abs() < 0.3,
            "{file}: random vectors correlate {full:?}"
        );
        let half = similarity_spearman(&words[..words.len() / 2], &vectors, dim, &path).unwrap();
        assert!(
            half.pairs_used < pairs && half.pairs_used > 0,
            "{file}: {half:?}"
        );
        assert_eq!(half.coverage(), half.pairs_used as f64 / pairs as f64);
    }
}

#[test]
fn spearman_is_one_for_a_monotone_relation_and_handles_ties() {
    let x = [1.0, 2.0, 3.0, 4.0, 5.0];
    let y = [1.0, 8.0, 27.0, 64.0, 125.0];
    assert!((spearman(&x, &y) - 1.0).abs() < 1e-12);
    assert!((spearman(&x, &[5.0, 4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
    // Ranks [1, 2.5, 2.5, 4, 5] and [2, 1, 3.5, 3.5, 5]: ρ = 7.25 / 9.5.
    let rho = spearman(&[1.0, 2.0, 2.0, 3.0, 4.0], &[2.0, 1.0, 3.0, 3.0, 5.0]);
    assert!((rho - 7.25 / 9.5).abs() < 1e-12, "{rho}");
}
