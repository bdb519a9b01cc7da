//! Multi-label data: a label field that names several labels, such as `billing, refund`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::data::{Example, LabeledText};
use crate::error::{Result, TransferError};

/// The labels of one field, split at `separator`, trimmed, empty pieces dropped.
///
/// ```
/// use transfer_pipeline::data::label_sets::split_labels;
/// assert_eq!(split_labels(" billing, refund ,", ","), ["billing", "refund"]);
/// ```
pub fn split_labels(field: &str, separator: &str) -> Vec<String> {
    field
        .split(separator)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// Every label named by `texts`, sorted: the labels of a multi-label classifier.
pub fn label_names(texts: &[LabeledText], separator: &str) -> Vec<String> {
    let names: BTreeSet<String> = texts
        .iter()
        .flat_map(|t| split_labels(&t.label, separator))
        .collect();
    names.into_iter().collect()
}

/// Multi-label examples: each text's labels as indices into `labels`. A label not in `labels`
/// is an error naming `source` and the text's line.
///
/// ```
/// use std::path::Path;
/// use transfer_pipeline::{Example, LabeledText};
/// use transfer_pipeline::data::label_sets::label_set_examples;
/// let texts = [LabeledText { text: "refund me".into(), label: "billing,refund".into(), line: 2 }];
/// let labels = ["billing".to_string(), "login".into(), "refund".into()];
/// let examples = label_set_examples(&texts, &labels, ",", Path::new("t.csv")).unwrap();
/// assert_eq!(examples, [Example::labels("refund me", vec![0, 2])]);
/// ```
pub fn label_set_examples(
    texts: &[LabeledText],
    labels: &[String],
    separator: &str,
    source: &Path,
) -> Result<Vec<Example>> {
    texts
        .iter()
        .map(|t| {
            let indices = split_labels(&t.label, separator)
                .iter()
                .map(|name| {
                    labels.iter().position(|l| l == name).ok_or_else(|| {
                        TransferError::format(
                            source,
                            format!(
                                "line {}: label {name:?} is not one of the model's {labels:?}",
                                t.line
                            ),
                        )
                    })
                })
                .collect::<Result<BTreeSet<usize>>>()?;
            Ok(Example::labels(
                t.text.clone(),
                indices.into_iter().collect(),
            ))
        })
        .collect()
}
