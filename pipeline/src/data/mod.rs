use serde::{Deserialize, Serialize};

use crate::error::{Result, TransferError};
use rng::SplitMix64;

pub mod files;
pub mod imdb;
pub mod label_sets;
pub mod rng;

/// What a text is labelled with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// A class index, for classification.
    Class(usize),
    /// Real values, for regression.
    Values(Vec<f32>),
    /// The indices of every label that applies (none, one or several), for multi-label
    /// classification.
    Labels(Vec<usize>),
}

/// A labelled text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub text: String,
    pub target: Target,
}

impl Example {
    pub fn class(text: impl Into<String>, class: usize) -> Self {
        Self {
            text: text.into(),
            target: Target::Class(class),
        }
    }

    pub fn values(text: impl Into<String>, values: Vec<f32>) -> Self {
        Self {
            text: text.into(),
            target: Target::Values(values),
        }
    }

    /// A text with the indices of the labels that apply to it (multi-label).
    pub fn labels(text: impl Into<String>, labels: Vec<usize>) -> Self {
        Self {
            text: text.into(),
            target: Target::Labels(labels),
        }
    }
}

/// Fails on an empty list or on a text that is empty or only whitespace, naming it.
pub fn check_texts<S: AsRef<str>>(what: &'static str, texts: &[S]) -> Result<()> {
    if texts.is_empty() {
        return Err(TransferError::EmptyDataset { what });
    }
    match texts.iter().position(|t| t.as_ref().trim().is_empty()) {
        Some(index) => Err(TransferError::EmptyText { what, index }),
        None => Ok(()),
    }
}

/// Splits off a random `fraction` of `examples` for validation, keeping each class's share
/// (stratified). Returns `(train, validation)`.
pub fn split_validation(
    examples: &[Example],
    fraction: f64,
    seed: u64,
) -> (Vec<Example>, Vec<Example>) {
    if fraction <= 0.0 || examples.len() < 2 {
        return (examples.to_vec(), Vec::new());
    }
    let mut rng = SplitMix64::new(seed ^ 0x5EED_5EED);
    let mut groups: std::collections::BTreeMap<Option<usize>, Vec<usize>> = Default::default();
    for (i, e) in examples.iter().enumerate() {
        let key = match e.target {
            Target::Class(c) => Some(c),
            Target::Values(_) | Target::Labels(_) => None,
        };
        groups.entry(key).or_default().push(i);
    }
    let mut valid = vec![false; examples.len()];
    for indices in groups.values_mut() {
        rng.shuffle(indices);
        let take = ((indices.len() as f64 * fraction).round() as usize).min(indices.len() - 1);
        for &i in &indices[..take] {
            valid[i] = true;
        }
    }
    let (mut train, mut validation) = (Vec::new(), Vec::new());
    for (e, v) in examples.iter().zip(valid) {
        if v {
            validation.push(e.clone());
        } else {
            train.push(e.clone());
        }
    }
    (train, validation)
}

/// A text with its label as written in a data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabeledText {
    pub text: String,
    pub label: String,
    /// Where it is in its file: the 1-based line (array element, Parquet row); 0 when it has
    /// none.
    #[serde(default)]
    pub line: usize,
}

/// Reads JSON lines `{"text": "…", "label": "positive"}` (the label may be a string or a
/// number; other fields are ignored). Errors name the file and line. Other formats and field
/// names: [`files::read_labelled`].
pub fn read_jsonl(path: &std::path::Path) -> Result<Vec<LabeledText>> {
    files::read_labelled(
        path,
        files::DataFormat::JsonLines,
        &files::Columns::default(),
    )
}
