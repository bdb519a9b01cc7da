//! Which reviews a run trains and scores on: seeded balanced draws, or the lists of a samples
//! file ([`StudyConfig::samples`]), the exact reviews another script used, so that a comparison
//! with it is on the same sample and seeds. `scripts/reference_samples.py` writes that file for
//! the PyTorch reference (`pytorch_encoder_cpu.py`):
//!
//! ```json
//! {"test": ["test/pos/4894_8.txt", …], "train": {"100": {"0": ["train/pos/4430_8.txt", …]}}}
//! ```
//!
//! A review id is its path inside the tarball's `aclImdb/` tree: split, label folder and
//! `<id>_<stars>.txt`. Other fields of the file (its source, the command that wrote it) are
//! kept for the reader and not read here.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use transfer_nlp::TransferError;
use transfer_nlp::pipeline::data::imdb::{Review, Sentiment, Split, balanced_sample};

use crate::config::StudyConfig;

/// How a run picks its reviews: [`Selection::test`] what its cells are scored on,
/// [`Selection::train`] each (n, seed) cell's training sample.
#[derive(Debug, Clone)]
pub struct Selection {
    samples: Option<Samples>,
    test_size: Option<usize>,
}

/// The lists of a samples file, each id parsed.
#[derive(Debug, Clone)]
struct Samples {
    path: PathBuf,
    test: Vec<ReviewId>,
    train: BTreeMap<usize, BTreeMap<u64, Vec<ReviewId>>>,
}

/// What the file holds.
#[derive(Deserialize)]
struct SamplesFile {
    test: Vec<String>,
    train: BTreeMap<usize, BTreeMap<u64, Vec<String>>>,
}

/// `test/pos/10000_7.txt`: what the IMDB reader keeps of a review's path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ReviewId {
    path: String,
    split: Split,
    sentiment: Sentiment,
    id: u32,
    stars: u8,
}

impl ReviewId {
    fn parse(path: &str) -> Option<Self> {
        let mut parts = path.split('/');
        let split = match parts.next()? {
            "train" => Split::Train,
            "test" => Split::Test,
            _ => return None,
        };
        let sentiment = match parts.next()? {
            "pos" => Sentiment::Positive,
            "neg" => Sentiment::Negative,
            _ => return None,
        };
        let (id, stars) = parts.next()?.strip_suffix(".txt")?.split_once('_')?;
        let id = Self {
            path: path.to_string(),
            split,
            sentiment,
            id: id.parse().ok()?,
            stars: stars.parse().ok()?,
        };
        parts.next().is_none().then_some(id)
    }
}

impl Selection {
    /// The run's selection: reads [`StudyConfig::samples`] when set, which replaces the
    /// `test_size` draw (a `test_size` that the file's test list does not have is an error)
    /// and cannot go with `held_out`.
    pub fn new(config: &StudyConfig) -> Result<Self, TransferError> {
        let Some(path) = &config.samples else {
            return Ok(Self {
                samples: None,
                test_size: config.test_size,
            });
        };
        if config.held_out.is_some() {
            return Err(TransferError::InvalidConfig {
                field: "held_out",
                message: format!(
                    "scores on held-out training reviews, but samples = {} names the test \
                     reviews: drop one",
                    path.display()
                ),
            });
        }
        let samples = Samples::read(path)?;
        if let Some(n) = config.test_size.filter(|&n| n != samples.test.len()) {
            return Err(TransferError::InvalidConfig {
                field: "test_size",
                message: format!(
                    "{n}, but the test list of samples = {} has {} reviews: make them agree or \
                     drop test_size",
                    path.display(),
                    samples.test.len()
                ),
            });
        }
        Ok(Self {
            samples: Some(samples),
            test_size: None,
        })
    }

    /// What the cells are scored on, from the test reviews: the samples file's test list, or
    /// `test_size` balanced reviews (seed 0), or all of them.
    pub fn test(&self, test: &[Review]) -> Result<Vec<Review>, TransferError> {
        match (&self.samples, self.test_size) {
            (Some(samples), _) => samples.find(&samples.test, test, "test"),
            (None, Some(n)) => balanced_sample(test, n, 0),
            (None, None) => Ok(test.to_vec()),
        }
    }

    /// The training sample of the (n, seed) cell, from the training reviews: the samples
    /// file's list for n and seed (an error naming the file, n and seed when it has none), or
    /// `n` balanced reviews drawn with `seed`.
    pub fn train(
        &self,
        train: &[Review],
        n: usize,
        seed: u64,
    ) -> Result<Vec<Review>, TransferError> {
        let Some(samples) = &self.samples else {
            return balanced_sample(train, n, seed);
        };
        let ids = samples
            .train
            .get(&n)
            .and_then(|seeds| seeds.get(&seed))
            .ok_or_else(|| {
                TransferError::format(
                    &samples.path,
                    format!("no training sample for n = {n}, seed = {seed}"),
                )
            })?;
        if ids.len() != n {
            return Err(TransferError::format(
                &samples.path,
                format!(
                    "the training sample for n = {n}, seed = {seed} has {} reviews",
                    ids.len()
                ),
            ));
        }
        samples.find(ids, train, "training")
    }

    /// The samples file the run reads its reviews from, if any.
    pub fn samples_file(&self) -> Option<&Path> {
        self.samples.as_ref().map(|s| s.path.as_path())
    }
}

impl Samples {
    fn read(path: &Path) -> Result<Self, TransferError> {
        let bytes = std::fs::read(path).map_err(|e| TransferError::io(path, e))?;
        let file: SamplesFile =
            serde_json::from_slice(&bytes).map_err(|e| TransferError::format(path, e))?;
        let parse = |ids: Vec<String>| {
            ids.into_iter()
                .map(|id| {
                    ReviewId::parse(&id).ok_or_else(|| {
                        TransferError::format(
                            path,
                            format!("{id:?} is not a review id such as \"test/pos/10000_7.txt\""),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let test = parse(file.test)?;
        let mut train = BTreeMap::new();
        for (n, seeds) in file.train {
            let mut by_seed = BTreeMap::new();
            for (seed, ids) in seeds {
                by_seed.insert(seed, parse(ids)?);
            }
            train.insert(n, by_seed);
        }
        Ok(Self {
            path: path.to_path_buf(),
            test,
            train,
        })
    }

    /// The reviews of `ids`, in their order, from `reviews` (the `what` reviews read); an id
    /// not among them, or with other stars, is an error naming it.
    fn find(
        &self,
        ids: &[ReviewId],
        reviews: &[Review],
        what: &str,
    ) -> Result<Vec<Review>, TransferError> {
        let by_key: HashMap<_, &Review> = reviews
            .iter()
            .filter_map(|r| Some(((r.split, r.sentiment?, r.id), r)))
            .collect();
        ids.iter()
            .map(|id| match by_key.get(&(id.split, id.sentiment, id.id)) {
                Some(r) if r.stars == id.stars => Ok((*r).clone()),
                found => Err(TransferError::format(
                    &self.path,
                    match found {
                        Some(r) => format!("{}: the review read has {} stars", id.path, r.stars),
                        None => format!("{}: not among the {what} reviews read", id.path),
                    },
                )),
            })
            .collect()
    }
}
