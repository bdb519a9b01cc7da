//! Word2vec from scratch, fast on a few CPU cores: skip-gram and CBOW, negative sampling
//! and hierarchical softmax, frequent-word subsampling, a dynamic window, a learning rate
//! falling linearly over all epochs, and lock-free ("Hogwild!") training on several
//! threads; the word2vec text and binary formats; the Google analogies and word-similarity
//! sets to evaluate the vectors. No dependency on a tensor library.
//!
//! The vocabulary is built as its own step ([`Vocabulary::build`], or
//! [`Vocabulary::from_corpus`]), then [`Word2Vec::train`] streams a [`Corpus`] once per
//! epoch: sentences in memory, or a [`TextCorpus`] file of one sentence a line.
//!
//! ```
//! use transfer_word2vec::{Architecture, Vocabulary, Word2Vec, Word2VecConfig};
//! let corpus: Vec<Vec<&str>> = (0..200)
//!     .map(|i| if i % 2 == 0 { vec!["the", "cat", "sat", "down"] } else { vec!["a", "dog", "sat", "up"] })
//!     .collect();
//! let vocabulary = Vocabulary::build(&corpus, 1)?;
//! let config = Word2VecConfig {
//!     model: Architecture::SkipGram,
//!     dim: 16,
//!     threads: 1, // with a seed, reproducible bit for bit
//!     ..Default::default()
//! };
//! let model = Word2Vec::train(&config, vocabulary, &corpus)?;
//! assert_eq!(model.vectors.len(), 7 * 16);
//! assert_eq!(model.report.words_processed, 5 * 800); // corpus tokens × epochs
//! let path = std::env::temp_dir().join(format!("w2v-lib-{}.bin", std::process::id()));
//! model.save_binary(&path)?;
//! assert_eq!(transfer_word2vec::format::load_binary(&path)?.vectors, model.vectors);
//! # std::fs::remove_file(&path).unwrap();
//! # Ok::<(), transfer_word2vec::Word2VecError>(())
//! ```

mod corpus;
mod error;
pub mod evaluate;
mod feed;
pub mod format;
mod hash;
mod huffman;
mod kernel;
mod model;
mod progress;
mod query;
mod rng;
mod sampling;
mod shared;
mod tokens;
mod train;
mod vocab;
mod worker;

pub use corpus::{Corpus, Sentence, TextCorpus};
pub use error::{Result, Word2VecError};
pub use huffman::Huffman;
pub use model::{Word2Vec, cosine};
pub use progress::Progress;
pub use tokens::{TokenizedTexts, words};
pub use train::{Architecture, TrainReport, Word2VecConfig};
pub use vocab::Vocabulary;
pub use worker::skip_gram_negative_update;
