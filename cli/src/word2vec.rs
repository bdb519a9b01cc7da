//! `transfer word2vec`, `transfer neighbours`, `transfer analogy`: word vectors trained on
//! unlabelled text, and queried.

use std::path::{Path, PathBuf};

use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts};
use transfer_nlp::pipeline::io::assets::asset;
use transfer_nlp::word2vec::format::WordVectors;
use transfer_nlp::word2vec::{
    Architecture, Corpus, TextCorpus, TokenizedTexts, Vocabulary, Word2Vec, Word2VecConfig,
};

use crate::CliResult;

#[derive(clap::Args)]
pub struct Word2vecArgs {
    /// `imdb` (the tarball's training and unlabelled reviews: 75,000), or a text file (.gz read
    /// as it streams), one sentence or document a line.
    #[arg(long)]
    corpus: String,
    /// Where to write the vectors: word2vec binary when the name ends in .bin or .bin.gz,
    /// word2vec text otherwise (GloVe readers and gensim read both).
    #[arg(long)]
    out: PathBuf,
    /// Split a text file's lines at whitespace as they are, instead of into lowercase words
    /// (`[a-z0-9']+`, `<br />` dropped).
    #[arg(long)]
    pretokenized: bool,
    #[arg(long, value_enum, default_value = "skip-gram")]
    model: ModelArg,
    #[arg(long, default_value_t = 100)]
    dim: usize,
    /// The largest window; each word's is drawn from 1 ..= window.
    #[arg(long, default_value_t = 5)]
    window: usize,
    #[arg(long, default_value_t = 5)]
    min_count: u64,
    /// Noise words per pair (0 with --hs: hierarchical softmax alone).
    #[arg(long, default_value_t = 5)]
    negative: usize,
    /// Hierarchical softmax.
    #[arg(long)]
    hs: bool,
    /// Frequent-word subsampling threshold (0: off).
    #[arg(long, default_value_t = 1e-3)]
    sample: f64,
    #[arg(long, default_value_t = 0.025)]
    alpha: f32,
    #[arg(long, default_value_t = 1e-4)]
    min_alpha: f32,
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// Training threads (default: every core); with 1 and a seed, reproducible bit for bit.
    #[arg(long)]
    threads: Option<usize>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also score the vectors: Google analogies (3CosAdd over the 30,000 most frequent words),
    /// WordSim-353 and SimLex-999 Spearman (the asset directory's word-similarity/).
    #[arg(long)]
    evaluate: bool,
    #[arg(long)]
    quiet: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ModelArg {
    SkipGram,
    Cbow,
}

#[derive(clap::Args)]
pub struct NeighboursArgs {
    /// A word2vec text or binary file (.bin), or GloVe text.
    #[arg(long)]
    vectors: PathBuf,
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// The words whose neighbours to print.
    #[arg(required = true)]
    words: Vec<String>,
}

#[derive(clap::Args)]
pub struct AnalogyArgs {
    /// A word2vec text or binary file (.bin), or GloVe text.
    #[arg(long)]
    vectors: PathBuf,
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// A B C: A is to B as C is to what (B - A + C, by 3CosAdd).
    #[arg(num_args = 3, required = true, value_names = ["A", "B", "C"])]
    words: Vec<String>,
}

pub fn word2vec(args: Word2vecArgs) -> CliResult {
    let config = Word2VecConfig {
        model: match args.model {
            ModelArg::SkipGram => Architecture::SkipGram,
            ModelArg::Cbow => Architecture::Cbow,
        },
        dim: args.dim,
        window: args.window,
        min_count: args.min_count,
        negative: args.negative,
        hs: args.hs,
        sample: args.sample,
        alpha: args.alpha,
        min_alpha: args.min_alpha,
        epochs: args.epochs,
        threads: args.threads.unwrap_or_else(rayon::current_num_threads),
        seed: args.seed,
        progress: !args.quiet,
    };
    config.validate()?;
    let started = std::time::Instant::now();
    let (model, vocab_seconds) = if args.corpus == "imdb" {
        train(&config, &imdb_texts()?)?
    } else if args.pretokenized {
        train(&config, &TextCorpus::new(&args.corpus))?
    } else {
        train(&config, &TextCorpus::new(&args.corpus).with_word_tokens())?
    };
    let binary = args
        .out
        .to_string_lossy()
        .trim_end_matches(".gz")
        .ends_with(".bin");
    if binary {
        model.save_binary(&args.out)?;
    } else {
        model.save_text(&args.out)?;
    }
    let mut summary = serde_json::json!({
        "out": args.out, "corpus": args.corpus, "vocab": model.vocabulary.len(), "dim": model.dim,
        "words_processed": model.report.words_processed, "vocab_seconds": vocab_seconds,
        "train_seconds": model.report.seconds,
        "words_per_second": model.report.words_per_second,
        "seconds_with_reading": started.elapsed().as_secs_f64(),
        "threads": config.threads,
    });
    if args.evaluate {
        scores(&model, &mut summary)?;
    }
    summary["peak_rss_mb"] = peak_rss_mb().into();
    println!("{summary}");
    Ok(())
}

/// The vocabulary, then the model; and the seconds the vocabulary took.
fn train(config: &Word2VecConfig, corpus: &(impl Corpus + ?Sized)) -> CliResult<(Word2Vec, f64)> {
    let started = std::time::Instant::now();
    let vocabulary = Vocabulary::from_corpus(corpus, config.min_count)?;
    let vocab_seconds = started.elapsed().as_secs_f64();
    Ok((Word2Vec::train(config, vocabulary, corpus)?, vocab_seconds))
}

/// IMDB's training and unlabelled reviews, tokenized into words on each pass.
fn imdb_texts() -> CliResult<TokenizedTexts<String>> {
    let parts = ImdbParts {
        train: true,
        test: false,
        unsup: true,
    };
    let imdb = Imdb::load(Imdb::default_path()?, parts)?;
    let texts = (imdb.train.into_iter().chain(imdb.unsup))
        .map(|r| r.text)
        .collect();
    Ok(TokenizedTexts::new(texts))
}

/// The analogy and word-similarity scores, added to `summary`.
fn scores(model: &Word2Vec, summary: &mut serde_json::Value) -> CliResult {
    let analogy = model.analogy_accuracy(asset("word-similarity/questions-words.txt")?, 30_000)?;
    summary["analogy_accuracy"] = analogy.accuracy().into();
    summary["analogy_questions"] = analogy.total.into();
    summary["analogy_skipped"] = analogy.skipped.into();
    for (key, file) in [
        ("wordsim353", "wordsim353.tsv"),
        ("simlex999", "simlex999.txt"),
    ] {
        let score = model.similarity_spearman(asset(&format!("word-similarity/{file}"))?)?;
        summary[format!("{key}_spearman")] = score.spearman.into();
        summary[format!("{key}_coverage")] = score.coverage().into();
    }
    Ok(())
}

/// The process's peak resident memory, from /proc (0 where there is none).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A vectors file: word2vec binary (.bin, .bin.gz), word2vec text or GloVe text.
fn load(path: &Path) -> CliResult<WordVectors> {
    let vectors = transfer_nlp::embedder::WordVectors::load(path)?;
    Ok(WordVectors {
        words: vectors.words().to_vec(),
        vectors: vectors.values().to_vec(),
        dim: vectors.dim(),
    })
}

pub fn neighbours(args: NeighboursArgs) -> CliResult {
    let vectors = load(&args.vectors)?;
    for word in &args.words {
        let nearest = vectors.most_similar(&[word], &[], args.top)?;
        println!(
            "{}",
            serde_json::json!({ "word": word, "neighbours": nearest })
        );
    }
    Ok(())
}

pub fn analogy(args: AnalogyArgs) -> CliResult {
    let vectors = load(&args.vectors)?;
    let [a, b, c] = [&args.words[0], &args.words[1], &args.words[2]];
    let answers = vectors.most_similar(&[b, c], &[a], args.top)?;
    println!(
        "{}",
        serde_json::json!({ "a": a, "b": b, "c": c, "answers": answers })
    );
    Ok(())
}
