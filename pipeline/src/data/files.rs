//! Labelled texts from the files users have: CSV, TSV, JSON lines, a JSON array and Parquet,
//! the format chosen by extension or by name. Every error names the file and the 1-based line
//! (the array element, the Parquet row) it is about.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use super::LabeledText;
use super::rng::SplitMix64;
use crate::error::{Result, TransferError};

/// A file format of labelled texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// Comma-separated values with a header row (RFC 4180 quoting, newlines inside quotes).
    Csv,
    /// Tab-separated values with a header row.
    Tsv,
    /// One JSON object a line.
    JsonLines,
    /// One JSON array of objects.
    JsonArray,
    /// Apache Parquet (as pandas, pyarrow or Polars write it: snappy, zstd, gzip or no
    /// compression); the text column a string, the label column a string or a number.
    Parquet,
}

impl DataFormat {
    /// The names [`FromStr`] accepts.
    pub const NAMES: &'static str = "csv, tsv, jsonl, json, parquet";

    /// The format of `path` by its extension (`.csv`, `.tsv` / `.tab`, `.jsonl` / `.ndjson`,
    /// `.json`: an array when its first character is `[`, JSON lines otherwise; `.parquet`).
    ///
    /// ```
    /// use transfer_pipeline::data::files::DataFormat;
    /// assert_eq!(DataFormat::from_path("tickets.csv".as_ref()).unwrap(), DataFormat::Csv);
    /// assert!(DataFormat::from_path("tickets.xlsx".as_ref()).is_err());
    /// ```
    pub fn from_path(path: &Path) -> Result<Self> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("csv") => Ok(Self::Csv),
            Some("tsv" | "tab") => Ok(Self::Tsv),
            Some("jsonl" | "ndjson") => Ok(Self::JsonLines),
            Some("parquet") => Ok(Self::Parquet),
            Some("json") => Ok(if first_char(path)? == Some('[') {
                Self::JsonArray
            } else {
                Self::JsonLines
            }),
            _ => Err(TransferError::format(
                path,
                format!(
                    "unknown data format: name one of {} by the extension or by --format",
                    Self::NAMES
                ),
            )),
        }
    }
}

impl FromStr for DataFormat {
    type Err = String;

    fn from_str(name: &str) -> std::result::Result<Self, String> {
        match name.to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "tsv" => Ok(Self::Tsv),
            "jsonl" | "ndjson" => Ok(Self::JsonLines),
            "json" => Ok(Self::JsonArray),
            "parquet" => Ok(Self::Parquet),
            _ => Err(format!(
                "unknown data format {name:?}: one of {}",
                Self::NAMES
            )),
        }
    }
}

/// Which column (CSV, TSV, Parquet) or field (JSON) holds the text, and which the label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    pub text: String,
    pub label: String,
}

impl Default for Columns {
    fn default() -> Self {
        Self {
            text: "text".into(),
            label: "label".into(),
        }
    }
}

/// Reads the labelled texts of `path`. Labels are read as written, but numbers are one label
/// however they are written (`1`, `1.0` and `"1"` are `1`); an empty text or label is an error.
///
/// ```no_run
/// use transfer_pipeline::data::files::{Columns, DataFormat, read_labelled};
/// let path = std::path::Path::new("tickets.csv");
/// let columns = Columns { text: "message".into(), label: "team".into() };
/// let texts = read_labelled(path, DataFormat::from_path(path)?, &columns)?;
/// println!("{} texts, the first on line {}", texts.len(), texts[0].line);
/// # Ok::<(), transfer_pipeline::TransferError>(())
/// ```
pub fn read_labelled(
    path: &Path,
    format: DataFormat,
    columns: &Columns,
) -> Result<Vec<LabeledText>> {
    let texts = read_label_sets(path, format, columns)?;
    if let Some(t) = texts.iter().find(|t| t.label.is_empty()) {
        let unit = if format == DataFormat::Parquet {
            "row"
        } else {
            "line"
        };
        return Err(TransferError::format(
            path,
            format!("{unit} {}: empty label", t.line),
        ));
    }
    Ok(texts)
}

/// [`read_labelled`] for multi-label data: an empty (or null) label field is a text with no
/// labels, kept with the label `""`; split the others with
/// [`split_labels`](crate::data::label_sets::split_labels).
pub fn read_label_sets(
    path: &Path,
    format: DataFormat,
    columns: &Columns,
) -> Result<Vec<LabeledText>> {
    let texts = match format {
        DataFormat::Csv => read_delimited(path, b',', columns),
        DataFormat::Tsv => read_delimited(path, b'\t', columns),
        DataFormat::JsonLines => read_json_lines(path, columns),
        DataFormat::JsonArray => read_json_array(path, columns),
        DataFormat::Parquet => read_parquet(path, columns),
    }?;
    if texts.is_empty() {
        return Err(TransferError::format(path, "no labelled texts"));
    }
    Ok(texts)
}

/// One label for one value: numbers canonical (`1.0` → `1`), everything else trimmed.
///
/// ```
/// use transfer_pipeline::data::files::canonical_label;
/// assert_eq!(canonical_label("1.0"), "1");
/// assert_eq!(canonical_label(" billing "), "billing");
/// assert_eq!(canonical_label("2.5"), "2.5");
/// ```
pub fn canonical_label(raw: &str) -> String {
    let trimmed = raw.trim();
    match trimmed.parse::<f64>() {
        Ok(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 => format!("{}", v as i64),
        Ok(v) if v.is_finite() => format!("{v}"),
        _ => trimmed.to_string(),
    }
}

/// A text and its label, checked, at `line` of `path`.
fn labelled(path: &Path, line: usize, text: &str, label: String) -> Result<LabeledText> {
    labelled_at(path, line, "line", text, label)
}

/// A text and its label, checked, at `line` of `path`; `unit` names what `line` counts (a
/// line, a Parquet row).
fn labelled_at(
    path: &Path,
    line: usize,
    unit: &str,
    text: &str,
    label: String,
) -> Result<LabeledText> {
    let at = |message: &str| TransferError::format(path, format!("{unit} {line}: {message}"));
    if text.trim().is_empty() {
        return Err(at("empty text"));
    }
    Ok(LabeledText {
        text: text.to_string(),
        label: canonical_label(&label),
        line,
    })
}

fn read_delimited(path: &Path, delimiter: u8, columns: &Columns) -> Result<Vec<LabeledText>> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_path(path)
        .map_err(|e| csv_error(path, e))?;
    let headers = reader.headers().map_err(|e| csv_error(path, e))?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = headers.iter().collect();
                TransferError::format(
                    path,
                    format!("line 1: no column {name:?} in the header (columns: {names:?})"),
                )
            })
    };
    let (text, label) = (column(&columns.text)?, column(&columns.label)?);
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        out.push(labelled(
            path,
            line,
            &record[text],
            record[label].to_string(),
        )?);
    }
    Ok(out)
}

/// A CSV error as the file, the 1-based line and what is wrong.
fn csv_error(path: &Path, error: csv::Error) -> TransferError {
    let line = error.position().map(|p| p.line());
    match error.into_kind() {
        csv::ErrorKind::Io(e) => TransferError::io(path, e),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => TransferError::format(
            path,
            format!(
                "line {}: {len} fields where the header has {expected_len}",
                line.unwrap_or(0)
            ),
        ),
        csv::ErrorKind::Utf8 { err, .. } => TransferError::format(
            path,
            format!("line {}: not UTF-8 ({err})", line.unwrap_or(0)),
        ),
        other => TransferError::format(path, format!("{other:?}")),
    }
}

/// The text of `value`'s field `name`, or a label as its string (numbers and booleans as
/// written).
fn field(value: &serde_json::Value, name: &str) -> Option<String> {
    match value.get(name)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One JSON object as a labelled text; `at` says where it is ("line 3", "element 3").
fn from_object(
    path: &Path,
    line: usize,
    value: &serde_json::Value,
    columns: &Columns,
    at: &str,
) -> Result<LabeledText> {
    let missing = |name: &str, what: &str| {
        TransferError::format(path, format!("{at}: no {what} field {name:?}"))
    };
    let text = match value.get(&columns.text) {
        Some(serde_json::Value::String(s)) => s.clone(),
        _ => return Err(missing(&columns.text, "string")),
    };
    let label =
        field(value, &columns.label).ok_or_else(|| missing(&columns.label, "string or number"))?;
    labelled(path, line, &text, label)
        .map_err(|_| TransferError::format(path, format!("{at}: empty text")))
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| TransferError::io(path, e))?;
    String::from_utf8(bytes).map_err(|e| TransferError::format(path, format!("not UTF-8: {e}")))
}

fn read_json_lines(path: &Path, columns: &Columns) -> Result<Vec<LabeledText>> {
    let content = read_text(path)?;
    let mut out = Vec::new();
    for (i, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("line {}", i + 1);
        let value: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| TransferError::format(path, format!("{at}: {e}")))?;
        out.push(from_object(path, i + 1, &value, columns, &at)?);
    }
    Ok(out)
}

fn read_json_array(path: &Path, columns: &Columns) -> Result<Vec<LabeledText>> {
    let content = read_text(path)?;
    let values: Vec<serde_json::Value> = serde_json::from_str(&content)
        .map_err(|e| TransferError::format(path, format!("line {}: {e}", e.line())))?;
    values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let at = format!("element {} of the array", i + 1);
            from_object(path, i + 1, value, columns, &at)
        })
        .collect()
}

/// The named columns of a Parquet file, read row by row (the record API: no Arrow). Rows are
/// numbered from 1, across row groups; a null or empty text is an error naming it, a null
/// label is read as empty.
fn read_parquet(path: &Path, columns: &Columns) -> Result<Vec<LabeledText>> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::schema::types::Type;

    let file = std::fs::File::open(path).map_err(|e| TransferError::io(path, e))?;
    let reader = SerializedFileReader::new(file)
        .map_err(|e| TransferError::format(path, format!("not a Parquet file ({e})")))?;
    let schema = reader.metadata().file_metadata().schema();
    let fields = schema.get_fields();
    let find = |name: &str| {
        fields.iter().find(|f| f.name() == name).ok_or_else(|| {
            let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
            TransferError::format(path, format!("no column {name:?} (columns: {names:?})"))
        })
    };
    let mut projected = vec![find(&columns.text)?.clone()];
    if columns.label != columns.text {
        projected.push(find(&columns.label)?.clone());
    }
    let projection = Type::group_type_builder(schema.name())
        .with_fields(projected)
        .build()
        .map_err(|e| TransferError::format(path, e.to_string()))?;
    let rows = reader
        .get_row_iter(Some(projection))
        .map_err(|e| TransferError::format(path, e.to_string()))?;
    let mut out = Vec::new();
    for (i, row) in rows.enumerate() {
        let at = |message: String| TransferError::format(path, format!("row {}: {message}", i + 1));
        let row = row.map_err(|e| at(e.to_string()))?;
        let value = |name: &str| {
            row.get_column_iter()
                .find(|(column, _)| column.as_str() == name)
                .map(|(_, value)| value)
        };
        let text = match value(&columns.text) {
            Some(parquet::record::Field::Str(s)) => s.clone(),
            Some(parquet::record::Field::Bytes(b)) => match std::str::from_utf8(b.data()) {
                Ok(s) => s.to_string(),
                Err(e) => return Err(at(format!("text not UTF-8 ({e})"))),
            },
            Some(parquet::record::Field::Null) | None => return Err(at("null text".into())),
            Some(other) => {
                return Err(at(format!(
                    "column {:?} holds {other}, not a string",
                    columns.text
                )));
            }
        };
        let label = match value(&columns.label).and_then(parquet_label) {
            Some(label) => label,
            // Null: no label (an error unless the data is multi-label).
            None if matches!(
                value(&columns.label),
                Some(parquet::record::Field::Null) | None
            ) =>
            {
                String::new()
            }
            None => {
                return Err(at(format!(
                    "column {:?} holds {}, not a string or number",
                    columns.label,
                    value(&columns.label).map_or(String::new(), |v| v.to_string())
                )));
            }
        };
        out.push(labelled_at(path, i + 1, "row", &text, label)?);
    }
    Ok(out)
}

/// A Parquet value as a label: strings as written, numbers and booleans as their value.
fn parquet_label(value: &parquet::record::Field) -> Option<String> {
    use parquet::record::Field;
    Some(match value {
        Field::Str(s) => s.clone(),
        Field::Bytes(b) => std::str::from_utf8(b.data()).ok()?.to_string(),
        Field::Bool(b) => b.to_string(),
        Field::Byte(v) => v.to_string(),
        Field::Short(v) => v.to_string(),
        Field::Int(v) => v.to_string(),
        Field::Long(v) => v.to_string(),
        Field::UByte(v) => v.to_string(),
        Field::UShort(v) => v.to_string(),
        Field::UInt(v) => v.to_string(),
        Field::ULong(v) => v.to_string(),
        Field::Float16(v) => f32::from(*v).to_string(),
        Field::Float(v) => v.to_string(),
        Field::Double(v) => v.to_string(),
        _ => return None,
    })
}

fn first_char(path: &Path) -> Result<Option<char>> {
    use std::io::Read;
    let mut head = [0u8; 256];
    let file = std::fs::File::open(path).map_err(|e| TransferError::io(path, e))?;
    let n = file
        .take(head.len() as u64)
        .read(&mut head)
        .map_err(|e| TransferError::io(path, e))?;
    Ok(String::from_utf8_lossy(&head[..n])
        .trim_start()
        .chars()
        .next())
}

/// The distinct labels of `texts`, sorted: class `i` is the `i`-th (as `transfer train`
/// numbers them; a trained pipeline keeps them, [`crate::TransferPipeline::labels`]).
pub fn label_set(texts: &[LabeledText]) -> Vec<String> {
    let mut labels: Vec<String> = texts.iter().map(|t| t.label.clone()).collect();
    labels.sort();
    labels.dedup();
    labels
}

/// Examples whose class is the position of their label in `labels`; a label not there is an
/// error naming `path` and the text's line.
///
/// ```
/// use transfer_pipeline::{Example, LabeledText};
/// use transfer_pipeline::data::files::{class_examples, label_set};
/// let texts = vec![
///     LabeledText { text: "refund please".into(), label: "billing".into(), line: 2 },
///     LabeledText { text: "app crashes".into(), label: "bug".into(), line: 3 },
/// ];
/// let labels = label_set(&texts);
/// let examples = class_examples(&texts, &labels, "tickets.csv".as_ref()).unwrap();
/// assert_eq!(examples[1], Example::class("app crashes", 1));
/// assert!(class_examples(&texts, &labels[..1], "tickets.csv".as_ref()).is_err());
/// ```
pub fn class_examples(
    texts: &[LabeledText],
    labels: &[String],
    path: &Path,
) -> Result<Vec<super::Example>> {
    texts
        .iter()
        .map(|t| match labels.iter().position(|l| *l == t.label) {
            Some(class) => Ok(super::Example::class(t.text.clone(), class)),
            None => Err(TransferError::format(
                path,
                format!(
                    "line {}: label {:?} is not one of the model's labels {labels:?}",
                    t.line, t.label
                ),
            )),
        })
        .collect()
}

/// `n` of `texts` drawn with `seed`, each label keeping its share (largest remainders), in a
/// seeded order.
///
/// ```
/// use transfer_pipeline::LabeledText;
/// use transfer_pipeline::data::files::stratified_sample;
/// let texts: Vec<LabeledText> = (0..100)
///     .map(|i| LabeledText { text: format!("t{i}"), label: if i < 80 { "a" } else { "b" }.into(), line: i + 2 })
///     .collect();
/// let sample = stratified_sample(&texts, 10, 1, "texts").unwrap();
/// assert_eq!(sample.iter().filter(|t| t.label == "b").count(), 2);
/// ```
pub fn stratified_sample(
    texts: &[LabeledText],
    n: usize,
    seed: u64,
    what: &str,
) -> Result<Vec<LabeledText>> {
    if n > texts.len() {
        return Err(TransferError::NotEnoughExamples {
            what: what.to_string(),
            requested: n,
            available: texts.len(),
        });
    }
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, t) in texts.iter().enumerate() {
        groups.entry(t.label.as_str()).or_default().push(i);
    }
    let mut rng = SplitMix64::new(seed);
    let total = texts.len();
    let mut quotas: Vec<(usize, f64, &str)> = groups
        .iter()
        .map(|(label, members)| {
            let exact = n as f64 * members.len() as f64 / total as f64;
            (exact.floor() as usize, exact.fract(), *label)
        })
        .collect();
    let mut left = n - quotas.iter().map(|q| q.0).sum::<usize>();
    let mut by_remainder: Vec<usize> = (0..quotas.len()).collect();
    by_remainder.sort_by(|&a, &b| quotas[b].1.total_cmp(&quotas[a].1));
    for i in by_remainder {
        if left == 0 {
            break;
        }
        quotas[i].0 += 1;
        left -= 1;
    }
    let mut picked = Vec::with_capacity(n);
    for (quota, _, label) in quotas {
        let mut members = groups[label].clone();
        rng.shuffle(&mut members);
        picked.extend(members.into_iter().take(quota));
    }
    rng.shuffle(&mut picked);
    Ok(picked.into_iter().map(|i| texts[i].clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, content: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("transfer-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn read(name: &str, content: &str) -> Result<Vec<LabeledText>> {
        let path = file(name, content);
        read_labelled(&path, DataFormat::from_path(&path)?, &Columns::default())
    }

    #[test]
    fn csv_with_quotes_embedded_newlines_and_other_columns() {
        let texts = read(
            "a.csv",
            "id,text,label\n1,\"Great, \"\"really\"\" great\",pos\n2,\"two\nlines\",neg\n3,plain,1.0\n",
        )
        .unwrap();
        let got: Vec<(&str, &str, usize)> = texts
            .iter()
            .map(|t| (t.text.as_str(), t.label.as_str(), t.line))
            .collect();
        assert_eq!(
            got,
            [
                ("Great, \"really\" great", "pos", 2),
                ("two\nlines", "neg", 3),
                ("plain", "1", 5)
            ]
        );
    }

    #[test]
    fn tsv_json_lines_and_json_arrays_read_alike() {
        let tsv = read("a.tsv", "label\ttext\npos\tgood film\n1\tbad film\n").unwrap();
        let lines = read(
            "a.jsonl",
            "{\"text\": \"good film\", \"label\": \"pos\"}\n\n{\"text\": \"bad film\", \"label\": 1.0}\n",
        )
        .unwrap();
        let array = read(
            "a.json",
            " [{\"text\": \"good film\", \"label\": \"pos\"}, {\"text\": \"bad film\", \"label\": 1}]",
        )
        .unwrap();
        let pairs = |t: &[LabeledText]| -> Vec<(String, String)> {
            t.iter()
                .map(|t| (t.text.clone(), t.label.clone()))
                .collect()
        };
        assert_eq!(pairs(&tsv), pairs(&lines));
        assert_eq!(pairs(&tsv), pairs(&array));
        assert_eq!(lines[1].line, 3);
        assert_eq!(array[1].line, 2);
    }

    #[test]
    fn columns_are_chosen_by_name() {
        let path = file("b.csv", "message,team\nmy invoice is wrong,billing\n");
        let columns = Columns {
            text: "message".into(),
            label: "team".into(),
        };
        let texts = read_labelled(&path, DataFormat::Csv, &columns).unwrap();
        assert_eq!(
            (texts[0].text.as_str(), texts[0].label.as_str()),
            ("my invoice is wrong", "billing")
        );
    }

    /// Each bad file's error names the file and the place.
    #[test]
    fn errors_name_the_file_and_the_line() {
        let cases = [
            (
                "c1.csv",
                "words,label\nhi,pos\n",
                "line 1: no column \"text\"",
            ),
            (
                "c2.csv",
                "text,label\nfine,pos\n\"\",neg\n",
                "line 3: empty text",
            ),
            (
                "c3.csv",
                "text,label\nfine,pos\nfine,pos,extra\n",
                "line 3: 3 fields where the header has 2",
            ),
            ("c4.csv", "text,label\nfine,\n", "line 2: empty label"),
            (
                "c5.jsonl",
                "{\"text\": \"a\", \"label\": 1}\n{\"text\": 5, \"label\": 1}\n",
                "line 2: no string field \"text\"",
            ),
            (
                "c6.jsonl",
                "{\"text\": \"a\", \"label\": 1}\n{oops\n",
                "line 2:",
            ),
            (
                "c7.json",
                "[{\"text\": \"a\", \"label\": 1}, {\"text\": \"b\"}]",
                "element 2 of the array: no string or number field \"label\"",
            ),
            (
                "c8.json",
                "[{\"text\": \"a\",\n \"label\": 1},\n oops]",
                "line 3:",
            ),
            ("c9.xlsx", "whatever", "unknown data format"),
            ("c10.csv", "text,label\n", "no labelled texts"),
        ];
        for (name, content, expected) in cases {
            let err = read(name, content).unwrap_err().to_string();
            assert!(
                err.contains(name) && err.contains(expected),
                "{name}: {err}"
            );
        }
        let missing = read_labelled(
            Path::new("/no/such.csv"),
            DataFormat::Csv,
            &Columns::default(),
        );
        assert!(missing.unwrap_err().to_string().contains("/no/such.csv"));
    }

    /// Multi-label data may leave a text's labels empty; single-label data may not.
    #[test]
    fn an_empty_label_field_is_no_label_only_in_label_sets() {
        let path = file("sets.csv", "text,label\nfirst,\"a,b\"\nsecond,\n");
        let sets = read_label_sets(&path, DataFormat::Csv, &Columns::default()).unwrap();
        let labels: Vec<&str> = sets.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["a,b", ""]);
        let err = read_labelled(&path, DataFormat::Csv, &Columns::default()).unwrap_err();
        assert!(err.to_string().contains("line 3: empty label"), "{err}");
    }

    /// A committed fixture written by pandas (`testdata/make_parquet.py`).
    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/data/testdata")
            .join(name)
    }

    fn columns(text: &str, label: &str) -> Columns {
        Columns {
            text: text.into(),
            label: label.into(),
        }
    }

    /// pandas' default (snappy) and its other codecs read alike: the rows in order, numbered
    /// from 1.
    #[test]
    fn parquet_written_by_pandas_gives_its_rows() {
        for codec in ["snappy", "zstd", "gzip", "none"] {
            let path = fixture(&format!("reviews-{codec}.parquet"));
            assert_eq!(DataFormat::from_path(&path).unwrap(), DataFormat::Parquet);
            let texts = read_labelled(&path, DataFormat::Parquet, &Columns::default())
                .unwrap_or_else(|e| panic!("{codec}: {e}"));
            let got: Vec<(&str, &str, usize)> = texts
                .iter()
                .map(|t| (t.text.as_str(), t.label.as_str(), t.line))
                .collect();
            assert_eq!(
                got,
                [
                    ("A wonderful film.", "pos", 1),
                    ("Dull and long.", "neg", 2),
                    ("Loved every minute", "pos", 3),
                    ("Not again", "neg", 4)
                ],
                "{codec}"
            );
        }
        assert_eq!("Parquet".parse::<DataFormat>(), Ok(DataFormat::Parquet));
    }

    /// Integer and float label columns give canonical labels: 1.0 is `1`, as in the text
    /// formats.
    #[test]
    fn parquet_numeric_labels_are_canonical() {
        let path = fixture("reviews-snappy.parquet");
        let labels = |label: &str| -> Vec<String> {
            read_labelled(&path, DataFormat::Parquet, &columns("text", label))
                .unwrap()
                .into_iter()
                .map(|t| t.label)
                .collect()
        };
        assert_eq!(labels("stars"), ["9", "2", "10", "1"]);
        assert_eq!(labels("score"), ["1", "0", "1", "0"]);
        assert_eq!(labels("grade"), ["1", "0", "1", "0"]);
        // A number is not a text.
        let err = read_labelled(&path, DataFormat::Parquet, &columns("stars", "label"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("row 1: column \"stars\"") && err.contains("not a string"),
            "{err}"
        );
    }

    #[test]
    fn parquet_errors_name_the_file_the_row_and_the_columns() {
        let path = fixture("reviews-snappy.parquet");
        let err = read_labelled(&path, DataFormat::Parquet, &columns("message", "label"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("reviews-snappy.parquet")
                && err.contains(
                    "no column \"message\" (columns: [\"id\", \"text\", \"label\", \"stars\", \"score\", \"grade\"])"
                ),
            "{err}"
        );

        let path = fixture("null-text.parquet");
        let err = read_labelled(&path, DataFormat::Parquet, &Columns::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("null-text.parquet") && err.contains("row 3: null text"),
            "{err}"
        );

        let not_parquet = file("c11.parquet", "text,label\nfine,pos\n");
        let err = read_labelled(&not_parquet, DataFormat::Parquet, &Columns::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("c11.parquet") && err.contains("not a Parquet file"),
            "{err}"
        );
    }

    #[test]
    fn a_stratified_sample_keeps_each_labels_share_and_depends_on_the_seed() {
        let texts: Vec<LabeledText> = (0..90)
            .map(|i| LabeledText {
                text: format!("t{i}"),
                label: ["a", "b", "c"][usize::from(i >= 60) + usize::from(i >= 80)].into(),
                line: i + 2,
            })
            .collect();
        let sample = stratified_sample(&texts, 9, 1, "texts").unwrap();
        let count = |l: &str| sample.iter().filter(|t| t.label == l).count();
        assert_eq!((count("a"), count("b"), count("c")), (6, 2, 1));
        assert_eq!(sample, stratified_sample(&texts, 9, 1, "texts").unwrap());
        assert_ne!(sample, stratified_sample(&texts, 9, 2, "texts").unwrap());
        assert!(stratified_sample(&texts, 91, 1, "texts").is_err());
    }
}
