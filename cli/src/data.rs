//! Where the CLI's labelled texts come from: IMDB (tarball or directory) or JSON lines.

use std::path::PathBuf;

use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts, Sentiment, balanced_sample};
use transfer_nlp::pipeline::data::rng::SplitMix64;
use transfer_nlp::pipeline::data::{LabeledText, read_jsonl};
use transfer_nlp::{Example, TransferError};

use crate::CliResult;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

#[derive(clap::Args)]
pub struct DataArgs {
    /// `imdb` (the tarball under $TRANSFER_ASSETS), a path to aclImdb_v1.tar.gz or an aclImdb
    /// directory, or a .jsonl file of {"text", "label"} lines.
    #[arg(long, default_value = "imdb")]
    pub data: String,
}

impl DataArgs {
    /// The texts of `split` (JSON lines have no split: the whole file), `n` of them drawn
    /// with `seed` (balanced for IMDB), or all.
    pub fn load(&self, split: Split, n: Option<usize>, seed: u64) -> CliResult<Vec<LabeledText>> {
        if self.data.ends_with(".jsonl") || self.data.ends_with(".json") {
            let mut texts = read_jsonl(&PathBuf::from(&self.data))?;
            if let Some(n) = n {
                if n > texts.len() {
                    return Err(TransferError::NotEnoughExamples {
                        what: self.data.clone(),
                        requested: n,
                        available: texts.len(),
                    }
                    .into());
                }
                SplitMix64::new(seed).shuffle(&mut texts);
                texts.truncate(n);
            }
            return Ok(texts);
        }
        let path = if self.data == "imdb" {
            Imdb::default_path()?
        } else {
            PathBuf::from(&self.data)
        };
        let parts = match split {
            Split::Train => ImdbParts {
                train: true,
                test: false,
                unsup: false,
            },
            Split::Test => ImdbParts {
                train: false,
                test: true,
                unsup: false,
            },
        };
        let imdb = Imdb::load(&path, parts)?;
        if !imdb.skipped.is_empty() {
            eprintln!(
                "skipped {} unreadable reviews (first: {})",
                imdb.skipped.len(),
                imdb.skipped[0].path
            );
        }
        let reviews = if split == Split::Train {
            imdb.train
        } else {
            imdb.test
        };
        let reviews = match n {
            Some(n) => balanced_sample(&reviews, n, seed)?,
            None => reviews,
        };
        Ok(reviews
            .into_iter()
            .filter_map(|r| {
                r.sentiment.map(|s| LabeledText {
                    label: Sentiment::LABELS[s.class()].to_string(),
                    text: r.text,
                })
            })
            .collect())
    }

    /// Class names: IMDB's, or the distinct labels of the texts in sorted order.
    pub fn labels(&self, texts: &[LabeledText]) -> Vec<String> {
        if !(self.data.ends_with(".jsonl") || self.data.ends_with(".json")) {
            return Sentiment::LABELS.iter().map(|s| s.to_string()).collect();
        }
        let mut labels: Vec<String> = texts.iter().map(|t| t.label.clone()).collect();
        labels.sort();
        labels.dedup();
        labels
    }
}

/// Examples whose class is the position of their label in `labels`.
pub fn to_examples(texts: &[LabeledText], labels: &[String]) -> CliResult<Vec<Example>> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| match labels.iter().position(|l| *l == t.label) {
            Some(class) => Ok(Example::class(t.text.clone(), class)),
            None => {
                Err(format!("example {i}: label {:?} is not one of {labels:?}", t.label).into())
            }
        })
        .collect()
}
