use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::tensor::Distribution;
use serde::{Deserialize, Serialize};
use transfer_tokenizer::Tokenizer;

use crate::{EmbedderError, LearnedEmbedding};

/// The file formats of pretrained word vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VectorFormat {
    /// `word v1 … vd` per line, no header (GloVe).
    GloveText,
    /// A `count dim` header line, then `word v1 … vd` per line.
    Word2VecText,
    /// A `count dim` header line, then per word: the word, a space, `dim` little-endian f32.
    Word2VecBinary,
}

/// What to put in the rows of words the vectors do not have.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OovPolicy {
    /// Normal noise with the standard deviation of the loaded vectors (the default).
    RandomWithVectorScale,
    /// Zeros.
    Zeros,
}

/// How much of a tokenizer's vocabulary the vectors cover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Vocabulary entries, special tokens excluded.
    pub vocab_words: usize,
    /// Entries found as they are or lowercased.
    pub found: usize,
    /// Some entries not found, for a look.
    pub missing_sample: Vec<String>,
}

impl Coverage {
    pub fn fraction(&self) -> f64 {
        self.found as f64 / self.vocab_words.max(1) as f64
    }
}

/// Pretrained word vectors held in memory: words, and one `dim`-sized row each.
#[derive(Debug, Clone)]
pub struct WordVectors {
    words: Vec<String>,
    index: HashMap<String, usize>,
    values: Vec<f32>,
    dim: usize,
    source: PathBuf,
}

/// The largest vector size believed from a header (a larger one is a corrupt file).
const MAX_DIM: usize = 100_000;

impl WordVectors {
    /// Loads vectors, guessing the format: `.bin` (optionally `.gz`) is word2vec binary; a
    /// first line of two integers is word2vec text; anything else is GloVe text. Gzipped
    /// files (`.gz`) are read as they stream.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, EmbedderError> {
        let path = path.as_ref();
        let name = path.to_string_lossy();
        let stem = name.strip_suffix(".gz").unwrap_or(&name);
        let format = if stem.ends_with(".bin") {
            VectorFormat::Word2VecBinary
        } else {
            let mut first = String::new();
            open(path)?.read_line(&mut first).map_err(|e| io(path, e))?;
            let fields: Vec<&str> = first.split_whitespace().collect();
            if fields.len() == 2 && fields.iter().all(|f| f.parse::<usize>().is_ok()) {
                VectorFormat::Word2VecText
            } else {
                VectorFormat::GloveText
            }
        };
        Self::load_format(path, format)
    }

    pub fn load_format(
        path: impl AsRef<Path>,
        format: VectorFormat,
    ) -> Result<Self, EmbedderError> {
        let path = path.as_ref();
        Self::read(&mut open(path)?, format, path)
    }

    /// Parses vectors in `format` from `reader`; `path` names the source in errors.
    pub fn read(
        reader: &mut dyn BufRead,
        format: VectorFormat,
        path: &Path,
    ) -> Result<Self, EmbedderError> {
        let mut vectors = Self {
            words: Vec::new(),
            index: HashMap::new(),
            values: Vec::new(),
            dim: 0,
            source: path.into(),
        };
        match format {
            VectorFormat::GloveText => vectors.read_text(reader, 0, None)?,
            VectorFormat::Word2VecText | VectorFormat::Word2VecBinary => {
                let mut header = String::new();
                reader.read_line(&mut header).map_err(|e| io(path, e))?;
                let (count, dim) =
                    parse_header(&header).ok_or_else(|| EmbedderError::VectorLine {
                        path: path.into(),
                        line: 1,
                        message: format!(
                            "expected a header \"<count> <dim>\", found {:?}",
                            header.trim_end()
                        ),
                    })?;
                if format == VectorFormat::Word2VecText {
                    vectors.read_text(reader, 1, Some(dim))?;
                } else {
                    vectors.read_binary(reader, dim)?;
                }
                if vectors.words.len() != count {
                    return Err(EmbedderError::Format {
                        path: path.into(),
                        message: format!(
                            "the header announces {count} vectors but the file has {}",
                            vectors.words.len()
                        ),
                    });
                }
            }
        }
        if vectors.words.is_empty() {
            return Err(EmbedderError::Format {
                path: path.into(),
                message: "no vectors".into(),
            });
        }
        Ok(vectors)
    }

    fn push(
        &mut self,
        word: String,
        values: impl IntoIterator<Item = f32>,
        line: usize,
    ) -> Result<(), EmbedderError> {
        if self.index.contains_key(&word) {
            return Err(EmbedderError::VectorLine {
                path: self.source.clone(),
                line,
                message: format!("the word {word:?} appears twice"),
            });
        }
        self.index.insert(word.clone(), self.words.len());
        self.words.push(word);
        self.values.extend(values);
        Ok(())
    }

    /// Text lines `word v1 … vd` (the word may itself hold spaces: the last `dim` fields are
    /// the values). `dim` is the header's, or the first line's.
    fn read_text(
        &mut self,
        reader: &mut dyn BufRead,
        lines_before: usize,
        dim: Option<usize>,
    ) -> Result<(), EmbedderError> {
        let mut dim = dim;
        let mut line = String::new();
        let mut number = lines_before;
        loop {
            line.clear();
            let read = reader
                .read_line(&mut line)
                .map_err(|e| io(&self.source, e))?;
            if read == 0 {
                break;
            }
            number += 1;
            let trimmed = line.trim_end_matches(['\n', '\r']);
            if trimmed.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = trimmed.split(' ').filter(|f| !f.is_empty()).collect();
            let width = *dim.get_or_insert(fields.len().saturating_sub(1));
            let bad = |message: String| EmbedderError::VectorLine {
                path: self.source.clone(),
                line: number,
                message,
            };
            if width == 0 || fields.len() < width + 1 {
                return Err(bad(format!(
                    "{} values where every vector has {width}",
                    fields.len().saturating_sub(1)
                )));
            }
            let split = fields.len() - width;
            let mut values = Vec::with_capacity(width);
            for field in &fields[split..] {
                let v: f32 = field.parse().map_err(|_| {
                    bad(format!(
                        "{field:?} is not a number ({width} values expected)"
                    ))
                })?;
                values.push(v);
            }
            // Extra fields are part of the word only if they are not numbers.
            if split > 1 && fields[1].parse::<f32>().is_ok() {
                return Err(bad(format!(
                    "{} values where every vector has {width}",
                    fields.len() - 1
                )));
            }
            self.dim = width;
            self.push(fields[..split].join(" "), values, number)?;
        }
        Ok(())
    }

    fn read_binary(&mut self, reader: &mut dyn BufRead, dim: usize) -> Result<(), EmbedderError> {
        self.dim = dim;
        let mut raw = vec![0u8; dim * 4];
        let mut word = Vec::new();
        loop {
            word.clear();
            reader
                .read_until(b' ', &mut word)
                .map_err(|e| io(&self.source, e))?;
            let w = String::from_utf8_lossy(&word).trim().to_string();
            if w.is_empty() {
                break;
            }
            let entry = self.words.len() + 1;
            reader
                .read_exact(&mut raw)
                .map_err(|e| EmbedderError::VectorLine {
                    path: self.source.clone(),
                    line: entry + 1,
                    message: format!("vector {entry} ({w:?}) is cut short: {e}"),
                })?;
            let values = raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            self.push(w, values, entry + 1)?;
        }
        Ok(())
    }

    /// Vectors from memory: row `i` of `values` (row-major, `words.len() × dim`) is
    /// `words[i]`'s; `source` names them in errors. A size that does not match, a `dim` of 0 or
    /// a word given twice is an error.
    ///
    /// ```
    /// use transfer_embedder::WordVectors;
    /// let v = WordVectors::from_rows(vec!["good".into(), "bad".into()], vec![1.0, 0.0, 0.0, 1.0], 2, "memory")?;
    /// assert_eq!(v.get("bad"), Some(&[0.0, 1.0][..]));
    /// # Ok::<(), transfer_embedder::EmbedderError>(())
    /// ```
    pub fn from_rows(
        words: Vec<String>,
        values: Vec<f32>,
        dim: usize,
        source: impl Into<PathBuf>,
    ) -> Result<Self, EmbedderError> {
        if dim == 0 || values.len() != words.len() * dim {
            return Err(EmbedderError::InvalidConfig {
                field: "values",
                message: format!(
                    "{} values for {} words of dimension {dim}",
                    values.len(),
                    words.len()
                ),
            });
        }
        let mut vectors = Self {
            words: Vec::with_capacity(words.len()),
            index: HashMap::with_capacity(words.len()),
            values: Vec::with_capacity(values.len()),
            dim,
            source: source.into(),
        };
        for (i, (word, row)) in words.into_iter().zip(values.chunks(dim)).enumerate() {
            vectors.push(word, row.iter().copied(), i + 1)?;
        }
        Ok(vectors)
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The words, in the file's order.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Every vector, row-major: row `i` is `words()[i]`'s.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    pub fn get(&self, word: &str) -> Option<&[f32]> {
        self.index
            .get(word)
            .map(|&i| &self.values[i * self.dim..(i + 1) * self.dim])
    }

    /// A trainable (or freezable) table aligned to `tokenizer`'s ids: row `id` holds the
    /// vector of token `id` (looked up as it is, then lowercased), the padding row is zero,
    /// and the other rows follow `oov`. Random rows draw from `device`'s generator (seed it
    /// for reproducible tables).
    pub fn embedding_for<T: Tokenizer>(
        &self,
        tokenizer: &T,
        oov: OovPolicy,
        device: &Device,
    ) -> Result<(LearnedEmbedding, Coverage), EmbedderError> {
        let rows = tokenizer.vocab_size();
        let special = tokenizer.special_tokens();
        let std = match oov {
            OovPolicy::Zeros => 0.0,
            OovPolicy::RandomWithVectorScale => self.std(),
        };
        let mut table: Vec<f32> = if std > 0.0 {
            Tensor::<2>::random([rows, self.dim], Distribution::Normal(0.0, std), device)
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .map_err(|e| EmbedderError::Format {
                    path: self.source.clone(),
                    message: format!("{e:?}"),
                })?
        } else {
            vec![0.0; rows * self.dim]
        };
        let mut coverage = Coverage {
            vocab_words: 0,
            found: 0,
            missing_sample: Vec::new(),
        };
        for id in 0..rows as u32 {
            let row = &mut table[id as usize * self.dim..(id as usize + 1) * self.dim];
            if id == special.pad {
                row.fill(0.0);
                continue;
            }
            if special.contains(id) {
                continue;
            }
            let Some(token) = tokenizer.id_to_token(id) else {
                continue;
            };
            coverage.vocab_words += 1;
            match self.get(&token).or_else(|| self.get(&token.to_lowercase())) {
                Some(v) => {
                    row.copy_from_slice(v);
                    coverage.found += 1;
                }
                None if coverage.missing_sample.len() < 20 => coverage.missing_sample.push(token),
                None => {}
            }
        }
        Ok((
            LearnedEmbedding::from_weights(table, rows, self.dim, device)?,
            coverage,
        ))
    }

    /// Standard deviation of all values.
    fn std(&self) -> f64 {
        let n = self.values.len().max(1) as f64;
        let mean = self.values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        (self
            .values
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n)
            .sqrt()
    }
}

fn parse_header(line: &str) -> Option<(usize, usize)> {
    let mut fields = line.split_whitespace();
    let count = fields.next()?.parse().ok()?;
    let dim: usize = fields.next()?.parse().ok()?;
    (fields.next().is_none() && dim > 0 && dim <= MAX_DIM).then_some((count, dim))
}

fn io(path: &Path, source: std::io::Error) -> EmbedderError {
    EmbedderError::Io {
        path: path.into(),
        source,
    }
}

fn open(path: &Path) -> Result<Box<dyn BufRead>, EmbedderError> {
    let file = std::fs::File::open(path).map_err(|e| io(path, e))?;
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(file),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 20, file))
    })
}

/// The vectors a word2vec run learned (its input vectors), ready for
/// [`WordVectors::embedding_for`].
impl From<transfer_word2vec::Word2Vec> for WordVectors {
    fn from(model: transfer_word2vec::Word2Vec) -> Self {
        let words = model.vocabulary.words().to_vec();
        Self::from_rows(words, model.vectors, model.dim, "word2vec")
            .expect("a trained vocabulary has distinct words and one row each")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn the_three_formats_load_the_same_vectors() {
        let glove = write("v.txt", b"the 0.5 -1\nmovie 2 3.25\n");
        let w2v = write("v.vec", b"2 2\nthe 0.5 -1\nmovie 2 3.25\n");
        let mut bin = b"2 2\n".to_vec();
        for (w, v) in [("the", [0.5f32, -1.0]), ("movie", [2.0, 3.25])] {
            bin.extend(w.as_bytes());
            bin.push(b' ');
            for x in v {
                bin.extend(x.to_le_bytes());
            }
            bin.push(b'\n');
        }
        let bin = write("v.bin", &bin);
        for path in [glove, w2v, bin] {
            let v = WordVectors::load(&path).unwrap();
            assert_eq!((v.len(), v.dim()), (2, 2), "{path:?}");
            assert_eq!(v.get("movie"), Some(&[2.0, 3.25][..]));
            assert_eq!(v.get("the"), Some(&[0.5, -1.0][..]));
        }
    }

    #[test]
    fn bad_lines_name_the_file_and_line() {
        for (name, content, line) in [
            ("short.txt", "a 1 2 3\nb 1 2\n", 2),
            ("long.txt", "a 1 2\nb 1 2 3\n", 2),
            ("nan.txt", "a 1 2\nb 1 x\n", 2),
            ("dup.txt", "a 1 2\na 1 2\n", 2),
            ("header.vec", "2 3\na 1 2 3\nb 1 2\n", 3),
        ] {
            let path = write(name, content.as_bytes());
            match WordVectors::load(&path) {
                Err(EmbedderError::VectorLine {
                    path: p, line: l, ..
                }) => {
                    assert_eq!((p, l), (path.clone(), line), "{name}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        let cut = write("cut.bin", b"1 4\nword \x00\x00\x80");
        assert!(matches!(
            WordVectors::load(&cut),
            Err(EmbedderError::VectorLine { .. })
        ));
        // A header may not make the reader allocate gigabytes.
        let huge = write("huge.bin", b"1 4000000000\nword \x00");
        assert!(WordVectors::load(&huge).is_err());
    }
}
