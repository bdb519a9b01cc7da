//! Where the CLI's labelled texts come from: IMDB (tarball or directory), or a file of the
//! user's own (CSV, TSV, JSON lines, a JSON array, Parquet).

use std::path::{Path, PathBuf};

use transfer_nlp::Example;
use transfer_nlp::pipeline::data::LabeledText;
use transfer_nlp::pipeline::data::files::{
    Columns, DataFormat, class_examples, label_set, read_label_sets, read_labelled,
    stratified_sample,
};
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts, Sentiment, balanced_sample};
use transfer_nlp::pipeline::data::label_sets::{label_names, label_set_examples};
use transfer_nlp::predictor::Task;

use crate::CliResult;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

#[derive(clap::Args)]
pub struct DataArgs {
    /// `imdb` (the tarball in the asset directory: $TRANSFER_ASSETS, else the one `transfer
    /// fetch` fills), a path to aclImdb_v1.tar.gz or an aclImdb
    /// directory, or a file of labelled texts: .csv, .tsv, .jsonl, .json (an array) or .parquet.
    #[arg(long, default_value = "imdb")]
    pub data: String,
    /// The file's format when its extension does not say: csv, tsv, jsonl, json or parquet.
    #[arg(long)]
    pub format: Option<DataFormat>,
    /// The column (or JSON field) that holds the text (a string column in Parquet).
    #[arg(long, default_value = "text")]
    pub text_column: String,
    /// The column (or JSON field) that holds the label (a string or number column in Parquet).
    #[arg(long, default_value = "label")]
    pub label_column: String,
    /// --task multi-label: what separates a text's labels in its label field.
    #[arg(long, default_value = ",")]
    pub label_separator: String,
}

impl DataArgs {
    /// Whether `--data` names IMDB rather than a file of labelled texts.
    fn is_imdb(&self) -> bool {
        let path = Path::new(&self.data);
        self.format.is_none()
            && (self.data == "imdb" || path.is_dir() || self.data.ends_with(".tar.gz"))
    }

    /// The texts of `split` (a file has no split: the whole file), `n` of them drawn with
    /// `seed`, each label keeping its share, or all. For regression IMDB's labels are its
    /// reviews' star ratings instead of their sentiment; for multi-label an empty label field
    /// is a text without labels.
    pub fn load(
        &self,
        split: Split,
        n: Option<usize>,
        seed: u64,
        task: Task,
    ) -> CliResult<Vec<LabeledText>> {
        let stars = matches!(task, Task::Regression { .. });
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
            let texts = match task {
                Task::MultiLabel { .. } => read_label_sets(path, format, &columns)?,
                _ => read_labelled(path, format, &columns)?,
            };
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

    /// Class names: IMDB's, or the distinct labels of the texts in sorted order (each label
    /// of each text for multi-label).
    pub fn labels(&self, texts: &[LabeledText], multi_label: bool) -> Vec<String> {
        if self.is_imdb() {
            return Sentiment::LABELS.iter().map(|s| s.to_string()).collect();
        }
        if multi_label {
            return label_names(texts, &self.label_separator);
        }
        label_set(texts)
    }

    /// The examples of `texts` for a pipeline of `task` whose classes or labels are `labels`.
    pub fn examples(
        &self,
        task: Task,
        texts: &[LabeledText],
        labels: &[String],
    ) -> CliResult<Vec<Example>> {
        let source = Path::new(&self.data);
        Ok(match task {
            Task::Regression { .. } => to_values(texts, &self.data)?,
            Task::MultiLabel { .. } => {
                label_set_examples(texts, labels, &self.label_separator, source)?
            }
            Task::Classification { .. } => class_examples(texts, labels, source)?,
        })
    }
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
