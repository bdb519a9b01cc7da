use crate::corpus::Corpus;
use crate::error::{Result, Word2VecError};
use crate::hash::BuildWordHasher;
use std::collections::HashMap;

/// The words kept for training, most frequent first (ties by word, so the order is
/// deterministic), with their counts. Only counts are kept while the corpus streams by.
///
/// ```
/// use transfer_word2vec::Vocabulary;
/// let vocab = Vocabulary::build([["a", "b", "a"], ["c", "a", "b"]], 2)?;
/// assert_eq!(vocab.words(), ["a", "b"]);
/// assert_eq!((vocab.count(0), vocab.index("b"), vocab.index("c")), (3, Some(1), None));
/// assert_eq!((vocab.total_words(), vocab.corpus_words()), (5, 6));
/// # Ok::<(), transfer_word2vec::Word2VecError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Vocabulary {
    words: Vec<String>,
    counts: Vec<u64>,
    index: HashMap<String, u32, BuildWordHasher>,
    corpus_words: u64,
    min_count: u64,
}

/// Counts words as sentences stream by.
#[derive(Default)]
struct Counter {
    counts: HashMap<String, u64, BuildWordHasher>,
    tokens: u64,
}

impl Counter {
    fn add(&mut self, token: &str) {
        self.tokens += 1;
        match self.counts.get_mut(token) {
            Some(count) => *count += 1,
            None => {
                self.counts.insert(token.to_owned(), 1);
            }
        }
    }
}

impl Vocabulary {
    /// Counts the tokens of `sentences` and keeps the words seen `min_count` times or more.
    /// Errors: [`Word2VecError::EmptyCorpus`] without tokens,
    /// [`Word2VecError::EmptyVocabulary`] when `min_count` removes every word.
    pub fn build<S, W>(sentences: impl IntoIterator<Item = S>, min_count: u64) -> Result<Self>
    where
        S: IntoIterator<Item = W>,
        W: AsRef<str>,
    {
        let mut counter = Counter::default();
        for sentence in sentences {
            for token in sentence {
                counter.add(token.as_ref());
            }
        }
        Self::from_counter(counter, min_count)
    }

    /// [`Vocabulary::build`] over one pass of a [`Corpus`] (a file is read once).
    pub fn from_corpus<C: Corpus + ?Sized>(corpus: &C, min_count: u64) -> Result<Self> {
        let mut counter = Counter::default();
        corpus.for_each_sentence(&mut |tokens| tokens.iter().for_each(|t| counter.add(t)))?;
        Self::from_counter(counter, min_count)
    }

    fn from_counter(counter: Counter, min_count: u64) -> Result<Self> {
        if counter.tokens == 0 {
            return Err(Word2VecError::EmptyCorpus);
        }
        let distinct = counter.counts.len();
        let mut kept: Vec<(String, u64)> = (counter.counts.into_iter())
            .filter(|&(_, count)| count >= min_count)
            .collect();
        if kept.is_empty() {
            return Err(Word2VecError::EmptyVocabulary {
                min_count,
                distinct,
            });
        }
        kept.sort_unstable_by(|(wa, ca), (wb, cb)| cb.cmp(ca).then_with(|| wa.cmp(wb)));
        let (words, counts): (Vec<String>, Vec<u64>) = kept.into_iter().unzip();
        let index = (words.iter().enumerate())
            .map(|(i, w)| (w.clone(), i as u32))
            .collect();
        Ok(Self {
            words,
            counts,
            index,
            corpus_words: counter.tokens,
            min_count,
        })
    }

    /// How many words were kept.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Never true: building fails rather than keep no word.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The kept words, most frequent first.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The word at index `i` (panics past [`Vocabulary::len`]).
    pub fn word(&self, i: usize) -> &str {
        &self.words[i]
    }

    /// The index of `word`, if it was kept.
    pub fn index(&self, word: &str) -> Option<usize> {
        self.index.get(word).map(|&i| i as usize)
    }

    /// How often word `i` occurred (panics past [`Vocabulary::len`]).
    pub fn count(&self, i: usize) -> u64 {
        self.counts[i]
    }

    /// Every kept word's count, in index order.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The tokens of kept words: the sum of [`Vocabulary::counts`].
    pub fn total_words(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Every token the corpus held, kept or not.
    pub fn corpus_words(&self) -> u64 {
        self.corpus_words
    }

    /// The `min_count` the vocabulary was built with.
    pub fn min_count(&self) -> u64 {
        self.min_count
    }

    pub(crate) fn id(&self, word: &str) -> Option<u32> {
        self.index.get(word).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_sort_by_word_and_errors_are_typed() {
        let vocab = Vocabulary::build([vec!["b", "a", "c", "c"]], 1).unwrap();
        assert_eq!(vocab.words(), ["c", "a", "b"]);
        let empty: [Vec<&str>; 2] = [vec![], vec![]];
        assert!(matches!(
            Vocabulary::build(empty, 1),
            Err(Word2VecError::EmptyCorpus)
        ));
        assert!(matches!(
            Vocabulary::build([["x", "y", "x"]], 3),
            Err(Word2VecError::EmptyVocabulary {
                min_count: 3,
                distinct: 2
            })
        ));
    }
}
