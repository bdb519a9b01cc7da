//! The word2vec file formats. Text: a `WORDS DIM` header line, then one `word v1 … vDIM`
//! line per word. Binary: the same header line, then per word its UTF-8 bytes, a space,
//! DIM little-endian f32s and a newline. A path ending with `.gz` is gzip-compressed.
//! Writes are atomic: a temporary file in the same directory, synced, then renamed.

use crate::error::{Result, Word2VecError};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Words and their vectors as read from a file: row `i` of `vectors` is `words[i]`'s.
#[derive(Clone, Debug, PartialEq)]
pub struct WordVectors {
    pub words: Vec<String>,
    pub vectors: Vec<f32>,
    pub dim: usize,
}

/// Writes `words` and `vectors` (row-major, `words.len() × dim`) in the text format. Each
/// value is printed in the shortest form that reads back to the same `f32`.
///
/// ```
/// use transfer_word2vec::format::{load_text, save_text};
/// let path = std::env::temp_dir().join(format!("w2v-doc-{}.txt", std::process::id()));
/// save_text(&path, &["a", "b"], &[1.0, 0.5, -0.25, 3.0], 2)?;
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "2 2\na 1 0.5\nb -0.25 3\n");
/// assert_eq!(load_text(&path)?.vectors, [1.0, 0.5, -0.25, 3.0]);
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), transfer_word2vec::Word2VecError>(())
/// ```
pub fn save_text(
    path: impl AsRef<Path>,
    words: &[impl AsRef<str>],
    vectors: &[f32],
    dim: usize,
) -> Result<()> {
    write_vectors(path.as_ref(), words, vectors, dim, |out, word, row| {
        out.write_all(word.as_bytes())?;
        for v in row {
            write!(out, " {v}")?;
        }
        out.write_all(b"\n")
    })
}

/// Writes `words` and `vectors` (row-major, `words.len() × dim`) in the binary format.
///
/// ```
/// use transfer_word2vec::format::{load_binary, save_binary};
/// let path = std::env::temp_dir().join(format!("w2v-doc-{}.bin.gz", std::process::id()));
/// save_binary(&path, &["a"], &[0.1, -2.0], 2)?;
/// assert_eq!(load_binary(&path)?.vectors, [0.1, -2.0]);
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), transfer_word2vec::Word2VecError>(())
/// ```
pub fn save_binary(
    path: impl AsRef<Path>,
    words: &[impl AsRef<str>],
    vectors: &[f32],
    dim: usize,
) -> Result<()> {
    let mut bytes = Vec::with_capacity(4 * dim + 1);
    write_vectors(path.as_ref(), words, vectors, dim, |out, word, row| {
        out.write_all(word.as_bytes())?;
        out.write_all(b" ")?;
        bytes.clear();
        bytes.extend(row.iter().flat_map(|v| v.to_le_bytes()));
        bytes.push(b'\n');
        out.write_all(&bytes)
    })
}

/// Writes the header, then each word with `write_row`, atomically. A word the formats
/// cannot hold (empty, or with whitespace) fails the write midway, leaving any old file.
fn write_vectors(
    path: &Path,
    words: &[impl AsRef<str>],
    vectors: &[f32],
    dim: usize,
    mut write_row: impl FnMut(&mut dyn Write, &str, &[f32]) -> io::Result<()>,
) -> Result<()> {
    check_shape(path, words.len(), vectors.len(), dim)?;
    let mut bad_word = None;
    let written = write_atomically(path, |out| {
        writeln!(out, "{} {dim}", words.len())?;
        for (i, (word, row)) in words.iter().zip(vectors.chunks_exact(dim)).enumerate() {
            let word = word.as_ref();
            if word.is_empty() || word.contains(char::is_whitespace) {
                let message = format!("word {word:?} is empty or holds whitespace");
                bad_word = Some(Word2VecError::format(path, i + 2, message));
                return Err(io::ErrorKind::InvalidData.into());
            }
            write_row(out, word, row)?;
        }
        Ok(())
    });
    match bad_word {
        Some(err) => Err(err),
        None => written,
    }
}

/// `vectors` must hold `words × dim` values.
fn check_shape(path: &Path, words: usize, values: usize, dim: usize) -> Result<()> {
    if dim == 0 || values != words * dim {
        let message = format!("{values} values do not make {words} vectors of dim {dim}");
        return Err(Word2VecError::format(path, 1, message));
    }
    Ok(())
}

/// Writes through `write` into a temporary file next to `path` (gzipped for `.gz`), syncs
/// it and renames it over `path`; on failure the temporary file is removed.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let name = name.ok_or_else(|| Word2VecError::io(path, io::ErrorKind::InvalidInput.into()))?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = path.with_file_name(format!(".{name}.tmp-{}-{n}", std::process::id()));
    let written = write_file(&temp, is_gz(path), write).and_then(|()| fs::rename(&temp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(Word2VecError::io(path, e));
    }
    Ok(())
}

fn write_file(
    path: &Path,
    gz: bool,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    if gz {
        let mut encoder = GzEncoder::new(out, Compression::default());
        write(&mut encoder)?;
        out = encoder.finish()?;
    } else {
        write(&mut out)?;
    }
    out.into_inner()
        .map_err(io::IntoInnerError::into_error)?
        .sync_all()
}

fn is_gz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

fn open(path: &Path) -> Result<Box<dyn BufRead>> {
    let file = File::open(path).map_err(|e| Word2VecError::io(path, e))?;
    Ok(if is_gz(path) {
        Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, file))
    })
}

/// Reads the header line: `(words, dim)`.
fn read_header(path: &Path, reader: &mut dyn BufRead) -> Result<(usize, usize)> {
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| Word2VecError::io(path, e))?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    match fields[..] {
        [n, dim] => match (n.parse(), dim.parse()) {
            (Ok(n), Ok(dim)) if dim > 0 => Ok((n, dim)),
            _ => Err(bad_header(path, &line)),
        },
        _ => Err(bad_header(path, &line)),
    }
}

fn bad_header(path: &Path, line: &str) -> Word2VecError {
    let message = format!("expected a header `WORDS DIM`, found {:?}", line.trim_end());
    Word2VecError::format(path, 1, message)
}

/// Reads a file in the text format (gzipped if `path` ends with `.gz`).
pub fn load_text(path: impl AsRef<Path>) -> Result<WordVectors> {
    let path = path.as_ref();
    let mut reader = open(path)?;
    let (n, dim) = read_header(path, &mut reader)?;
    let (mut words, mut vectors) = (Vec::with_capacity(n), Vec::with_capacity(n * dim));
    let mut line = String::new();
    for number in 2.. {
        line.clear();
        let read = reader.read_line(&mut line);
        if read.map_err(|e| Word2VecError::io(path, e))? == 0 {
            break;
        }
        let mut fields = line.split_whitespace();
        let Some(word) = fields.next() else { continue };
        if words.len() == n {
            let message = format!("more than the {n} words the header announces");
            return Err(Word2VecError::format(path, number, message));
        }
        words.push(word.to_owned());
        let before = vectors.len();
        for field in fields {
            let value = field.parse::<f32>().map_err(|_| {
                Word2VecError::format(path, number, format!("{field:?} is not a number"))
            })?;
            vectors.push(value);
        }
        if vectors.len() - before != dim {
            let message = format!(
                "{} values for {word:?}, expected {dim}",
                vectors.len() - before
            );
            return Err(Word2VecError::format(path, number, message));
        }
    }
    finish(path, words, vectors, n, dim)
}

fn finish(
    path: &Path,
    words: Vec<String>,
    vectors: Vec<f32>,
    n: usize,
    dim: usize,
) -> Result<WordVectors> {
    if words.len() != n {
        let message = format!("the file ends after {} of {n} words", words.len());
        return Err(Word2VecError::format(path, words.len() + 2, message));
    }
    Ok(WordVectors {
        words,
        vectors,
        dim,
    })
}

/// Reads a file in the binary format (gzipped if `path` ends with `.gz`). A format error's
/// `line` is the record: the header is 1, the first word 2.
pub fn load_binary(path: impl AsRef<Path>) -> Result<WordVectors> {
    let path = path.as_ref();
    let mut reader = open(path)?;
    let (n, dim) = read_header(path, &mut reader)?;
    let (mut words, mut vectors) = (Vec::with_capacity(n), vec![0.0f32; n * dim]);
    let mut bytes = vec![0u8; 4 * dim];
    for (i, row) in vectors.chunks_exact_mut(dim).enumerate() {
        let Some(word) = read_word(path, &mut reader, i + 2)? else {
            return finish(path, words, Vec::new(), n, dim);
        };
        words.push(word);
        reader.read_exact(&mut bytes).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => {
                Word2VecError::format(path, i + 2, "the file ends inside a vector")
            }
            _ => Word2VecError::io(path, e),
        })?;
        for (v, b) in row.iter_mut().zip(bytes.chunks_exact(4)) {
            *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
    }
    finish(path, words, vectors, n, dim)
}

/// The next word: bytes up to a space, newlines before it skipped; `None` at the end.
fn read_word(path: &Path, reader: &mut dyn BufRead, record: usize) -> Result<Option<String>> {
    let mut bytes = Vec::new();
    loop {
        bytes.clear();
        let read = reader.read_until(b' ', &mut bytes);
        if read.map_err(|e| Word2VecError::io(path, e))? == 0 {
            return Ok(None);
        }
        let start = bytes
            .iter()
            .position(|&b| b != b'\n')
            .unwrap_or(bytes.len());
        if bytes.last() != Some(&b' ') {
            if start == bytes.len() {
                return Ok(None);
            }
            return Err(Word2VecError::format(
                path,
                record,
                "the file ends inside a word",
            ));
        }
        let word = &bytes[start..bytes.len() - 1];
        if !word.is_empty() {
            return String::from_utf8(word.to_vec())
                .map(Some)
                .map_err(|_| Word2VecError::format(path, record, "the word is not valid UTF-8"));
        }
    }
}
