use crate::error::Result;
use crate::evaluate::{AnalogyScore, SimilarityScore, analogy_accuracy, similarity_spearman};
use crate::format::{save_binary, save_text};
use crate::train::TrainReport;
use crate::vocab::Vocabulary;
use std::path::Path;

/// Trained word vectors: row `i` of `vectors` (row-major, `vocabulary.len() × dim`) is the
/// input vector of `vocabulary.word(i)`.
///
/// ```
/// use transfer_word2vec::{Word2Vec, Word2VecConfig};
/// let corpus = vec![vec!["the", "cat", "sat"], vec!["the", "dog", "sat"]];
/// let config = Word2VecConfig { dim: 10, min_count: 1, threads: 1, ..Default::default() };
/// let model = Word2Vec::fit(&config, &corpus)?;
/// assert_eq!(model.vector("cat").unwrap().len(), 10);
/// assert!(model.similarity("cat", "dog").unwrap().abs() <= 1.0);
/// assert_eq!(model.most_similar("cat", 2).len(), 2);
/// # Ok::<(), transfer_word2vec::Word2VecError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Word2Vec {
    pub vocabulary: Vocabulary,
    pub vectors: Vec<f32>,
    pub dim: usize,
    pub report: TrainReport,
}

impl Word2Vec {
    /// The vector of `word`, if it is in the vocabulary.
    pub fn vector(&self, word: &str) -> Option<&[f32]> {
        let i = self.vocabulary.index(word)?;
        Some(self.row(i))
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.vectors[i * self.dim..(i + 1) * self.dim]
    }

    /// The cosine similarity of two words' vectors (NaN if either is all zeros).
    pub fn similarity(&self, a: &str, b: &str) -> Option<f32> {
        Some(cosine(self.vector(a)?, self.vector(b)?))
    }

    /// The `topn` words closest to `word` by cosine, best first, without `word` itself;
    /// empty if `word` is unknown. Words whose similarity is NaN are left out.
    pub fn most_similar(&self, word: &str, topn: usize) -> Vec<(&str, f32)> {
        let Some(query) = self.vocabulary.index(word) else {
            return Vec::new();
        };
        let mut scored: Vec<(usize, f32)> = (0..self.vocabulary.len())
            .filter(|&i| i != query)
            .map(|i| (i, cosine(self.row(query), self.row(i))))
            .filter(|(_, s)| !s.is_nan())
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        (scored.into_iter().take(topn))
            .map(|(i, s)| (self.vocabulary.word(i), s))
            .collect()
    }

    /// Writes the vectors in the word2vec text format (gzipped if `path` ends with `.gz`).
    pub fn save_text(&self, path: impl AsRef<Path>) -> Result<()> {
        save_text(path, self.vocabulary.words(), &self.vectors, self.dim)
    }

    /// Writes the vectors in the word2vec binary format (gzipped if `path` ends with `.gz`).
    pub fn save_binary(&self, path: impl AsRef<Path>) -> Result<()> {
        save_binary(path, self.vocabulary.words(), &self.vectors, self.dim)
    }

    /// [`analogy_accuracy`] on these vectors.
    pub fn analogy_accuracy(
        &self,
        questions: impl AsRef<Path>,
        restrict: usize,
    ) -> Result<AnalogyScore> {
        let words = self.vocabulary.words();
        analogy_accuracy(words, &self.vectors, self.dim, questions, restrict)
    }

    /// [`similarity_spearman`] on these vectors.
    pub fn similarity_spearman(&self, pairs: impl AsRef<Path>) -> Result<SimilarityScore> {
        similarity_spearman(self.vocabulary.words(), &self.vectors, self.dim, pairs)
    }
}

/// The cosine of the angle between `a` and `b`; NaN when either is zero or holds a NaN.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot = |x: &[f32], y: &[f32]| -> f64 {
        x.iter()
            .zip(y)
            .map(|(&p, &q)| f64::from(p) * f64::from(q))
            .sum()
    };
    (dot(a, b) / (dot(a, a).sqrt() * dot(b, b).sqrt())) as f32
}
