//! Nearest words and analogies over loaded vectors (3CosAdd, as gensim's `most_similar`).

use crate::error::{Result, Word2VecError};
use crate::format::WordVectors;
use crate::model::cosine;

impl WordVectors {
    /// The `topn` words closest by cosine to the sum of the unit vectors of `positive` minus
    /// those of `negative`, best first, the query words left out (3CosAdd). An unknown word is
    /// [`Word2VecError::UnknownWord`]; words whose score is NaN are left out.
    ///
    /// ```
    /// use transfer_word2vec::format::WordVectors;
    /// let v = WordVectors {
    ///     words: ["king", "queen", "man", "woman"].map(String::from).to_vec(),
    ///     vectors: vec![1.0, 1.0, 1.0, -1.0, 0.9, 1.1, 0.9, -0.9],
    ///     dim: 2,
    /// };
    /// // man : king :: woman : ?
    /// assert_eq!(v.most_similar(&["king", "woman"], &["man"], 1)?[0].0, "queen");
    /// # Ok::<(), transfer_word2vec::Word2VecError>(())
    /// ```
    pub fn most_similar(
        &self,
        positive: &[&str],
        negative: &[&str],
        topn: usize,
    ) -> Result<Vec<(String, f32)>> {
        let mut query = vec![0.0f32; self.dim];
        let mut used = Vec::new();
        for (words, sign) in [(positive, 1.0f32), (negative, -1.0)] {
            for word in words {
                let i = self.index_of(word)?;
                let row = self.row(i);
                let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
                query
                    .iter_mut()
                    .zip(row)
                    .for_each(|(q, x)| *q += sign * x / norm);
                used.push(i);
            }
        }
        let mut scored: Vec<(usize, f32)> = (0..self.words.len())
            .filter(|i| !used.contains(i))
            .map(|i| (i, cosine(&query, self.row(i))))
            .filter(|(_, s)| !s.is_nan())
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(scored
            .into_iter()
            .take(topn)
            .map(|(i, s)| (self.words[i].clone(), s))
            .collect())
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.vectors[i * self.dim..(i + 1) * self.dim]
    }

    /// The row of `word`, as it is or lowercased.
    fn index_of(&self, word: &str) -> Result<usize> {
        let lower = word.to_lowercase();
        (self.words.iter().position(|w| w == word))
            .or_else(|| self.words.iter().position(|w| *w == lower))
            .ok_or_else(|| Word2VecError::UnknownWord { word: word.into() })
    }
}
