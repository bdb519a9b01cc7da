//! The Large Movie Review Dataset (Maas et al., 2011), read from `aclImdb_v1.tar.gz` (streamed,
//! nothing extracted) or from an extracted `aclImdb/` directory.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::Example;
use crate::data::rng::SplitMix64;
use crate::error::{Result, TransferError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    Train,
    Test,
    /// The 50,000 unlabelled reviews (`train/unsup`).
    Unsup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sentiment {
    Negative = 0,
    Positive = 1,
}

impl Sentiment {
    /// The class index used for training: negative 0, positive 1.
    pub fn class(self) -> usize {
        self as usize
    }

    pub const LABELS: [&'static str; 2] = ["negative", "positive"];
}

/// One review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub split: Split,
    /// The `<id>` of `<id>_<stars>.txt`, unique within its folder.
    pub id: u32,
    /// `None` for unlabelled reviews.
    pub sentiment: Option<Sentiment>,
    /// 1–10 (never 5 or 6 in labelled reviews); 0 for unlabelled ones, as in the file names.
    pub stars: u8,
    /// The IMDB title id (`tt0453418`), from `urls_*.txt`.
    pub movie: Option<String>,
    pub text: String,
}

impl Review {
    /// A classification example (negative 0, positive 1); `None` when unlabelled.
    pub fn example(&self) -> Option<Example> {
        self.sentiment
            .map(|s| Example::class(self.text.clone(), s.class()))
    }
}

/// A review file that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedReview {
    pub path: String,
    pub reason: String,
}

/// All of IMDB: 25,000 training, 25,000 test and 50,000 unlabelled reviews.
#[derive(Debug, Clone, Default)]
pub struct Imdb {
    pub train: Vec<Review>,
    pub test: Vec<Review>,
    pub unsup: Vec<Review>,
    /// Reviews left out (for example invalid UTF-8); the rest loaded normally.
    pub skipped: Vec<SkippedReview>,
}

/// Which parts of the dataset to keep in memory (everything is read either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImdbParts {
    pub train: bool,
    pub test: bool,
    pub unsup: bool,
}

impl ImdbParts {
    pub const ALL: Self = Self {
        train: true,
        test: true,
        unsup: true,
    };
    pub const LABELLED: Self = Self {
        train: true,
        test: true,
        unsup: false,
    };

    fn wants(&self, split: Split) -> bool {
        match split {
            Split::Train => self.train,
            Split::Test => self.test,
            Split::Unsup => self.unsup,
        }
    }
}

/// What a path inside `aclImdb/` holds.
enum Entry {
    Review {
        split: Split,
        sentiment: Option<Sentiment>,
        id: u32,
        stars: u8,
    },
    Urls {
        split: Split,
        folder: &'static str,
    },
    Other,
}

fn folder_of(split_dir: &str, folder: &str) -> Option<(Split, Option<Sentiment>, &'static str)> {
    Some(match (split_dir, folder) {
        ("train", "pos") => (Split::Train, Some(Sentiment::Positive), "pos"),
        ("train", "neg") => (Split::Train, Some(Sentiment::Negative), "neg"),
        ("train", "unsup") => (Split::Unsup, None, "unsup"),
        ("test", "pos") => (Split::Test, Some(Sentiment::Positive), "pos"),
        ("test", "neg") => (Split::Test, Some(Sentiment::Negative), "neg"),
        _ => return None,
    })
}

/// Classifies `path` relative to the `aclImdb/` root (`train/pos/10_9.txt`).
fn classify(path: &str) -> std::result::Result<Entry, String> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [split_dir, folder, file] => {
            let Some((split, sentiment, _)) = folder_of(split_dir, folder) else {
                return Ok(Entry::Other);
            };
            let Some(stem) = file.strip_suffix(".txt") else {
                return Ok(Entry::Other);
            };
            let parsed = stem
                .split_once('_')
                .and_then(|(id, stars)| Some((id.parse().ok()?, stars.parse().ok()?)));
            match parsed {
                Some((id, stars)) => Ok(Entry::Review {
                    split,
                    sentiment,
                    id,
                    stars,
                }),
                None => Err(format!("review file name {file:?} is not <id>_<stars>.txt")),
            }
        }
        [split_dir, file] => {
            let folder = file
                .strip_prefix("urls_")
                .and_then(|f| f.strip_suffix(".txt"));
            match folder.and_then(|f| folder_of(split_dir, f)) {
                Some((split, _, folder)) => Ok(Entry::Urls { split, folder }),
                None => Ok(Entry::Other),
            }
        }
        _ => Ok(Entry::Other),
    }
}

/// The title id in `http://www.imdb.com/title/tt0453418/usercomments`.
fn movie_id(url: &str) -> Option<String> {
    let rest = &url[url.find("/title/")? + 7..];
    let id = rest.split('/').next()?;
    (!id.is_empty()).then(|| id.to_string())
}

#[derive(Default)]
struct Reader {
    imdb: Imdb,
    urls: HashMap<(Split, &'static str), Vec<Option<String>>>,
}

impl Reader {
    fn add(
        &mut self,
        parts: ImdbParts,
        path: &str,
        bytes: Vec<u8>,
    ) -> std::result::Result<(), String> {
        match classify(path)? {
            Entry::Review {
                split,
                sentiment,
                id,
                stars,
            } => {
                if !parts.wants(split) {
                    return Ok(());
                }
                let text = match String::from_utf8(bytes) {
                    Ok(text) => text,
                    Err(e) => {
                        self.imdb.skipped.push(SkippedReview {
                            path: path.to_string(),
                            reason: format!("invalid UTF-8: {e}"),
                        });
                        return Ok(());
                    }
                };
                let review = Review {
                    split,
                    id,
                    sentiment,
                    stars,
                    movie: None,
                    text,
                };
                match split {
                    Split::Train => self.imdb.train.push(review),
                    Split::Test => self.imdb.test.push(review),
                    Split::Unsup => self.imdb.unsup.push(review),
                }
            }
            Entry::Urls { split, folder } => {
                let text = String::from_utf8_lossy(&bytes);
                self.urls
                    .insert((split, folder), text.lines().map(movie_id).collect());
            }
            Entry::Other => {}
        }
        Ok(())
    }

    fn finish(mut self, source: &Path, parts: ImdbParts) -> Result<Imdb> {
        for (split, reviews) in [
            (Split::Train, &mut self.imdb.train),
            (Split::Test, &mut self.imdb.test),
            (Split::Unsup, &mut self.imdb.unsup),
        ] {
            if !parts.wants(split) {
                continue;
            }
            let folders: &[(&str, Option<Sentiment>)] = match split {
                Split::Unsup => &[("unsup", None)],
                _ => &[
                    ("neg", Some(Sentiment::Negative)),
                    ("pos", Some(Sentiment::Positive)),
                ],
            };
            for (folder, sentiment) in folders {
                if !reviews.iter().any(|r| r.sentiment == *sentiment) {
                    let dir = if split == Split::Test {
                        "test"
                    } else {
                        "train"
                    };
                    return Err(TransferError::format(
                        source,
                        format!(
                            "no reviews in aclImdb/{dir}/{folder}/: the folder is missing or empty"
                        ),
                    ));
                }
            }
            reviews.sort_unstable_by_key(|r| (r.sentiment, r.id));
            for r in reviews.iter_mut() {
                let folder = match r.sentiment {
                    Some(Sentiment::Positive) => "pos",
                    Some(Sentiment::Negative) => "neg",
                    None => "unsup",
                };
                r.movie = self
                    .urls
                    .get(&(split, folder))
                    .and_then(|u| u.get(r.id as usize).cloned().flatten());
            }
        }
        Ok(self.imdb)
    }
}

impl Imdb {
    /// Reads `aclImdb_v1.tar.gz` (streamed), or an `aclImdb/` directory (or the directory
    /// holding it). Reviews with invalid UTF-8 are skipped and listed in [`Imdb::skipped`];
    /// a truncated archive or a missing label folder is an error naming the path.
    pub fn load(path: impl AsRef<Path>, parts: ImdbParts) -> Result<Self> {
        let path = path.as_ref();
        if path.is_dir() {
            let root = if path.join("aclImdb").is_dir() {
                path.join("aclImdb")
            } else {
                path.to_path_buf()
            };
            Self::load_dir(&root, parts)
        } else {
            Self::load_tarball(path, parts)
        }
    }

    fn load_tarball(path: &Path, parts: ImdbParts) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| TransferError::io(path, e))?;
        Self::read_tarball(
            std::io::BufReader::with_capacity(1 << 20, file),
            path,
            parts,
        )
    }

    /// Reads a gzipped tar stream laid out like `aclImdb_v1.tar.gz`; `path` names it in errors.
    pub fn read_tarball(reader: impl Read, path: &Path, parts: ImdbParts) -> Result<Self> {
        let gz = flate2::read::GzDecoder::new(reader);
        let mut archive = tar::Archive::new(gz);
        let mut reader = Reader::default();
        let mut last = String::from("(start)");
        let corrupt = |last: &str, e: std::io::Error| {
            TransferError::format(
                path,
                format!("truncated or corrupt archive after {last}: {e}"),
            )
        };
        for entry in archive.entries().map_err(|e| corrupt(&last, e))? {
            let mut entry = entry.map_err(|e| corrupt(&last, e))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = entry.path().map_err(|e| corrupt(&last, e))?;
            let name = name.to_string_lossy().into_owned();
            let Some(inner) = name.strip_prefix("aclImdb/").map(str::to_string) else {
                continue;
            };
            let mut bytes = Vec::with_capacity(entry.size().min(1 << 24) as usize);
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| corrupt(&name, e))?;
            reader
                .add(parts, &inner, bytes)
                .map_err(|m| TransferError::format(path, format!("{name}: {m}")))?;
            last = name;
        }
        reader.finish(path, parts)
    }

    fn load_dir(root: &Path, parts: ImdbParts) -> Result<Self> {
        let mut reader = Reader::default();
        for split_dir in ["train", "test"] {
            let dir = root.join(split_dir);
            let listing = std::fs::read_dir(&dir).map_err(|e| TransferError::io(&dir, e))?;
            for item in listing {
                let item = item.map_err(|e| TransferError::io(&dir, e))?;
                let file_name = item.file_name().to_string_lossy().into_owned();
                let path = item.path();
                if path.is_dir() {
                    let Ok(files) = std::fs::read_dir(&path) else {
                        continue;
                    };
                    for file in files {
                        let file = file.map_err(|e| TransferError::io(&path, e))?;
                        let rel = format!(
                            "{split_dir}/{file_name}/{}",
                            file.file_name().to_string_lossy()
                        );
                        if matches!(classify(&rel), Ok(Entry::Review { split, .. }) if parts.wants(split))
                        {
                            let bytes = std::fs::read(file.path())
                                .map_err(|e| TransferError::io(file.path(), e))?;
                            reader
                                .add(parts, &rel, bytes)
                                .map_err(|m| TransferError::format(file.path(), m))?;
                        }
                    }
                } else if file_name.starts_with("urls_") {
                    let bytes = std::fs::read(&path).map_err(|e| TransferError::io(&path, e))?;
                    let rel = format!("{split_dir}/{file_name}");
                    reader
                        .add(parts, &rel, bytes)
                        .map_err(|m| TransferError::format(&path, m))?;
                }
            }
        }
        reader.finish(root, parts)
    }

    /// The tarball under the asset directory (`data/aclImdb_v1.tar.gz`); a missing one is an
    /// error naming the command that fetches it.
    pub fn default_path() -> Result<PathBuf> {
        crate::io::assets::asset("data/aclImdb_v1.tar.gz")
    }
}

/// `n` reviews, half positive and half negative (the extra one positive when `n` is odd),
/// drawn without replacement with `seed`, in random order.
pub fn balanced_sample(reviews: &[Review], n: usize, seed: u64) -> Result<Vec<Review>> {
    let mut rng = SplitMix64::new(seed);
    let mut out = Vec::with_capacity(n);
    for (sentiment, want) in [
        (Sentiment::Negative, n / 2),
        (Sentiment::Positive, n - n / 2),
    ] {
        let mut pool: Vec<&Review> = reviews
            .iter()
            .filter(|r| r.sentiment == Some(sentiment))
            .collect();
        if want > pool.len() {
            return Err(TransferError::NotEnoughExamples {
                what: format!("{sentiment:?} reviews"),
                requested: want,
                available: pool.len(),
            });
        }
        for i in 0..want {
            let j = i + rng.below(pool.len() - i);
            pool.swap(i, j);
        }
        out.extend(pool[..want].iter().map(|r| (*r).clone()));
    }
    rng.shuffle(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_and_urls_parse() {
        assert!(matches!(
            classify("train/pos/10_9.txt"),
            Ok(Entry::Review {
                split: Split::Train,
                sentiment: Some(Sentiment::Positive),
                id: 10,
                stars: 9
            })
        ));
        assert!(matches!(
            classify("train/unsup/7_0.txt"),
            Ok(Entry::Review {
                split: Split::Unsup,
                sentiment: None,
                id: 7,
                stars: 0
            })
        ));
        assert!(matches!(
            classify("test/urls_neg.txt"),
            Ok(Entry::Urls {
                split: Split::Test,
                folder: "neg"
            })
        ));
        assert!(matches!(classify("imdb.vocab"), Ok(Entry::Other)));
        assert!(classify("test/neg/x.txt").is_err());
        assert_eq!(
            movie_id("http://www.imdb.com/title/tt0453418/usercomments").as_deref(),
            Some("tt0453418")
        );
    }
}
