//! Word2vec skip-gram on the IMDB training + unlabelled reviews (75,000), with the settings
//! of the gensim reference (`shared/reference/word2vec_gensim.py`: dim 100, window 5,
//! min_count 5, negative 5, sample 1e-3, 5 epochs, 2 threads), then the Google analogies
//! (30,000 most frequent words), WordSim-353 and SimLex-999; prints one JSON line.
//!
//! `cargo run --release -p transfer-word2vec --example imdb [THREADS [EPOCHS]]`

#[path = "../tests/support/imdb.rs"]
mod imdb;

use std::io::{BufWriter, Write};
use std::time::Instant;
use transfer_word2vec::{TextCorpus, Vocabulary, Word2Vec, Word2VecConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let threads = std::env::args().nth(1).map_or(Ok(2), |t| t.parse())?;
    let epochs = std::env::args().nth(2).map_or(Ok(5), |t| t.parse())?;
    let clock = Instant::now();
    // As the reference does: tokenize the reviews once into a corpus file, one a line.
    let corpus_path = std::env::temp_dir().join(format!("imdb-w2v-{}.txt", std::process::id()));
    let (reviews, tokens) = write_corpus(&corpus_path)?;
    let read_seconds = clock.elapsed().as_secs_f64();
    let corpus = TextCorpus::new(&corpus_path);
    let config = Word2VecConfig {
        threads,
        epochs,
        progress: true,
        ..Default::default()
    };
    let clock = Instant::now();
    let vocabulary = Vocabulary::from_corpus(&corpus, config.min_count)?;
    let vocab_seconds = clock.elapsed().as_secs_f64();
    let model = Word2Vec::train(&config, vocabulary, &corpus)?;
    std::fs::remove_file(&corpus_path)?;
    let sets = imdb::assets().join("word-similarity");
    let analogy = model.analogy_accuracy(sets.join("questions-words.txt"), 30_000)?;
    let wordsim = model.similarity_spearman(sets.join("wordsim353.tsv"))?;
    let simlex = model.similarity_spearman(sets.join("simlex999.txt"))?;
    let neighbours: serde_json::Map<String, serde_json::Value> =
        ["house", "great", "terrible", "actor"]
            .iter()
            .map(|w| {
                let near: Vec<&str> = model
                    .most_similar(w, 5)
                    .into_iter()
                    .map(|(n, _)| n)
                    .collect();
                (w.to_string(), serde_json::json!(near))
            })
            .collect();
    let report = model.report;
    let line = serde_json::json!({
        "what": "transfer-word2vec skip-gram, IMDB train+unsup",
        "reviews": reviews,
        "tokens": tokens,
        "vocab": model.vocabulary.len(),
        "threads": threads,
        "params": format!("dim 100, window 5, min_count 5, negative 5, sample 1e-3, {epochs} epochs"),
        "read_seconds": round(read_seconds, 1),
        "vocab_seconds": round(vocab_seconds, 1),
        "train_seconds": round(report.seconds, 1),
        "words_per_second": report.words_per_second.round(),
        "words_per_second_with_vocab": (report.words_processed as f64 / (report.seconds + vocab_seconds)).round(),
        "analogy_accuracy": round(analogy.accuracy(), 4),
        "analogy_correct": analogy.correct,
        "analogy_considered": analogy.total,
        "analogy_skipped": analogy.skipped,
        "wordsim353_spearman": round(wordsim.spearman, 4),
        "wordsim353_coverage": format!("{}/{}", wordsim.pairs_used, wordsim.pairs_total),
        "simlex999_spearman": round(simlex.spearman, 4),
        "simlex999_coverage": format!("{}/{}", simlex.pairs_used, simlex.pairs_total),
        "neighbours": neighbours,
    });
    println!("{line}");
    Ok(())
}

/// Streams train/pos, train/neg and train/unsup from the tarball into a corpus file;
/// returns the reviews and tokens written.
fn write_corpus(path: &std::path::Path) -> std::io::Result<(usize, u64)> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    let (mut reviews, mut tokens, mut result) = (0, 0, Ok(()));
    let dirs = ["train/pos", "train/neg", "train/unsup"];
    imdb::for_each_review(&dirs, usize::MAX, |text| {
        let words = imdb::tokenize(text);
        reviews += 1;
        tokens += words.len() as u64;
        if result.is_ok() {
            result = writeln!(out, "{}", words.join(" "));
        }
    });
    result?;
    out.flush()?;
    Ok((reviews, tokens))
}

fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}
