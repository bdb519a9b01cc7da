//! Where the CLI's labelled texts come from: IMDB (tarball or directory), or a file of the
//! user's own (CSV, TSV, JSON lines, a JSON array).

use std::path::{Path, PathBuf};

use transfer_nlp::Example;
use transfer_nlp::pipeline::data::LabeledText;
use transfer_nlp::pipeline::data::files::{
    Columns, DataFormat, class_examples, label_set, read_labelled, stratified_sample,
};
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts, Sentiment, balanced_sample};

use crate::CliResult;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

#[derive(clap::Args)]
pub struct DataArgs {
    /// `imdb` (the tarball under $TRANSFER_ASSETS), a path to aclImdb_v1.tar.gz or an aclImdb
    /// directory, or a file of labelled texts: .csv, .tsv, .jsonl or .json (an array).
    #[arg(long, default_value = "imdb")]
    pub data: String,
    /// The file's format when its extension does not say: csv, tsv, jsonl or json.
    #[arg(long)]
    pub format: Option<DataFormat>,
    /// The column (or JSON field) that holds the text.
    #[arg(long, default_value = "text")]
    pub text_column: String,
    /// The column (or JSON field) that holds the label.
    #[arg(long, default_value = "label")]
    pub label_column: String,
}

impl DataArgs {
    /// Whether `--data` names IMDB rather than a file of labelled texts.
    fn is_imdb(&self) -> bool {
        let path = Path::new(&self.data);
        self.format.is_none()
            && (self.data == "imdb" || path.is_dir() || self.data.ends_with(".tar.gz"))
    }

    /// The texts of `split` (a file has no split: the whole file), `n` of them drawn with
    /// `seed`, each label keeping its share, or all. With `stars`, IMDB's labels are its
    /// reviews' star ratings instead of their sentiment.
    pub fn load(
        &self,
        split: Split,
        n: Option<usize>,
        seed: u64,
        stars: bool,
    ) -> CliResult<Vec<LabeledText>> {
        if !self.is_imdb() {
            let path = Path::new(&self.data);
            let format = match self.format {
                Some(format) => format,
                None => DataFormat::from_path(path)?,
            };
            let columns = Columns {
                text: self.text_column.clone(),
                label: self.label_column.clone(),
            };
            let texts = read_labelled(path, format, &columns)?;
            return Ok(match n {
                Some(n) => stratified_sample(&texts, n, seed, &self.data)?,
                None => texts,
            });
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
                    label: if stars {
                        r.stars.to_string()
                    } else {
                        Sentiment::LABELS[s.class()].to_string()
                    },
                    text: r.text,
                    line: 0,
                })
            })
            .collect())
    }

    /// Class names: IMDB's, or the distinct labels of the texts in sorted order.
    pub fn labels(&self, texts: &[LabeledText]) -> Vec<String> {
        if self.is_imdb() {
            return Sentiment::LABELS.iter().map(|s| s.to_string()).collect();
        }
        label_set(texts)
    }
}

/// Examples whose class is the position of their label in `labels`; `source` names the file
/// for errors.
pub fn to_examples(
    texts: &[LabeledText],
    labels: &[String],
    source: &str,
) -> CliResult<Vec<Example>> {
    Ok(class_examples(texts, labels, Path::new(source))?)
}

/// Regression examples: each label read as a number; one that is not is an error naming the
/// file and line.
pub fn to_values(texts: &[LabeledText], source: &str) -> CliResult<Vec<Example>> {
    texts
        .iter()
        .map(|t| match t.label.parse::<f32>() {
            Ok(v) if v.is_finite() => Ok(Example::values(t.text.clone(), vec![v])),
            _ => Err(transfer_nlp::TransferError::format(
                PathBuf::from(source),
                format!(
                    "line {}: label {:?} is not a number (--task regression)",
                    t.line, t.label
                ),
            )
            .into()),
        })
        .collect()
}
