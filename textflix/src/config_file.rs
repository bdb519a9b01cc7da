//! A run's settings from a file: [`StudyConfig::full`] (or [`StudyConfig::quick`]) with the
//! fields a TOML or JSON file names laid over it, then `field.path=value` settings (the
//! command line's `--set`). A field that [`StudyConfig`] lacks is an error naming the file (or
//! the setting) and the field's whole path.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::config::StudyConfig;

/// A config file or setting that does not make a [`StudyConfig`].
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not TOML or JSON, not a table, or a field of the wrong type.
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: unknown field `{field}`")]
    UnknownField { path: PathBuf, field: String },
    #[error("--set {setting}: {message}")]
    Set { setting: String, message: String },
}

impl StudyConfig {
    /// The full study, or the quick one when `quick` or the file says `quick = true`, with the
    /// fields of `file` (TOML, or JSON when it ends in `.json`) and then `sets`
    /// (`self_training.rounds=3`, values in JSON, bare words as strings) laid over it.
    ///
    /// ```
    /// use std::path::Path;
    /// use transfer_textflix::StudyConfig;
    ///
    /// let dir = std::env::temp_dir().join(format!("study-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let file = dir.join("study.toml");
    /// std::fs::write(&file, "models = [\"bert\"]\n[bert]\nhead_tail = true\n")?;
    /// let sets = ["self_training.rounds=3".to_string()];
    /// let config = StudyConfig::load(Path::new("assets"), true, Some(&file), &sets)?;
    /// assert!(config.quick && config.bert.head_tail);
    /// assert_eq!((config.bert.max_length, config.self_training.rounds), (128, 3));
    ///
    /// std::fs::write(&file, "[bert]\nhed_tail = true\n")?;
    /// let err = StudyConfig::load(Path::new("assets"), false, Some(&file), &[]).unwrap_err();
    /// assert!(err.to_string().ends_with("study.toml: unknown field `bert.hed_tail`"));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(
        assets: &Path,
        quick: bool,
        file: Option<&Path>,
        sets: &[String],
    ) -> Result<Self, ConfigError> {
        let patch = match file {
            Some(path) => read_table(path)?,
            None => Map::new(),
        };
        let quick = quick || patch.get("quick") == Some(&Value::Bool(true));
        let base = if quick {
            Self::quick(assets)
        } else {
            Self::full(assets)
        };
        let mut value = serde_json::to_value(&base).expect("a config serialises");
        if let Some(path) = file {
            let known = |field: String| ConfigError::UnknownField {
                path: path.to_path_buf(),
                field,
            };
            lay_over(&mut value, patch, "").map_err(known)?;
            parse(&value).map_err(|message| ConfigError::Parse {
                path: path.to_path_buf(),
                message,
            })?;
        }
        for setting in sets {
            let error = |message: String| ConfigError::Set {
                setting: setting.clone(),
                message,
            };
            lay_over(&mut value, parse_setting(setting).map_err(error)?, "")
                .map_err(|field| error(format!("unknown field `{field}`")))?;
            parse(&value).map_err(error)?;
        }
        Ok(parse(&value).expect("checked above"))
    }
}

fn parse(value: &Value) -> Result<StudyConfig, String> {
    serde_json::from_value(value.clone()).map_err(|e| e.to_string())
}

/// The top-level table of a TOML or JSON file.
fn read_table(path: &Path) -> Result<Map<String, Value>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let parse_error = |message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let value = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(|e| parse_error(e.to_string()))?
    } else {
        let table: toml::Table = toml::from_str(&text).map_err(|e| parse_error(e.to_string()))?;
        serde_json::to_value(table).map_err(|e| parse_error(e.to_string()))?
    };
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(parse_error(
            "expected a table of StudyConfig's fields".into(),
        )),
    }
}

/// `a.b.c=value` as `{"a": {"b": {"c": value}}}`; the value is JSON, or else a string.
fn parse_setting(setting: &str) -> Result<Map<String, Value>, String> {
    let (path, raw) = setting.split_once('=').ok_or("expected field.path=value")?;
    let mut value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.into()));
    for key in path.rsplit('.') {
        if key.is_empty() {
            return Err(format!("`{path}` has an empty field name"));
        }
        value = Value::Object(Map::from_iter([(key.to_string(), value)]));
    }
    match value {
        Value::Object(map) => Ok(map),
        _ => unreachable!("split yields at least one key"),
    }
}

/// Replaces the fields of `base` that `patch` names, table by table; the path of the first
/// field `base` lacks is the error.
fn lay_over(base: &mut Value, patch: Map<String, Value>, prefix: &str) -> Result<(), String> {
    for (key, new) in patch {
        let path = format!("{prefix}{key}");
        let Some(old) = base.get_mut(&key) else {
            return Err(path);
        };
        match (old, new) {
            (old @ Value::Object(_), Value::Object(fields)) => {
                lay_over(old, fields, &format!("{path}."))?
            }
            (old, new) => *old = new,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{ConfigError, StudyConfig};

    fn load(sets: &[&str]) -> Result<StudyConfig, ConfigError> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        StudyConfig::load(Path::new("/assets"), false, None, &sets)
    }

    #[test]
    fn settings_replace_only_the_fields_they_name() {
        let config = load(&["bert.precision=bf16", "test_size=2000", "held_out=null"]).unwrap();
        let mut full = StudyConfig::full(Path::new("/assets"));
        full.bert.precision = "bf16".parse().unwrap();
        full.test_size = Some(2000);
        assert_eq!(config, full);
    }

    #[test]
    fn first_seed_shifts_every_rows_seeds() {
        let config = load(&[
            "models=[\"nbsvm\",\"bert\"]",
            "sizes=[10]",
            "seeds=2",
            "transfer_sizes=[100]",
            "transfer_seeds=1",
            "first_seed=1",
        ])
        .unwrap();
        let plan: Vec<_> = config
            .plan()
            .into_iter()
            .map(|(m, n, s)| (m.name().to_string(), n, s))
            .collect();
        let cell = |m: &str, n, s| (m.to_string(), n, s);
        assert_eq!(
            plan,
            [
                cell("nbsvm", 10, 1),
                cell("nbsvm", 10, 2),
                cell("bert", 100, 1)
            ]
        );
    }

    #[test]
    fn unknown_and_mistyped_fields_are_named() {
        let err = load(&["self_training.round=3"]).unwrap_err().to_string();
        assert!(err.contains("unknown field `self_training.round`"), "{err}");
        let err = load(&["seeds=three"]).unwrap_err().to_string();
        assert!(err.starts_with("--set seeds=three: invalid type"), "{err}");
        let err = load(&["models=[\"bert\",\"bret\"]"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown model `bret`"), "{err}");
        assert!(load(&["seeds"]).is_err() && load(&["bert..head_tail=true"]).is_err());
    }
}
