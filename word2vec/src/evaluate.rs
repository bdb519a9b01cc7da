//! Intrinsic evaluation: the Google analogies (3CosAdd) and word-similarity sets
//! (Spearman's rank correlation), as gensim's `evaluate_word_analogies` and
//! `evaluate_word_pairs` score them. Words are matched case-insensitively (lowercased).

use crate::error::{Result, Word2VecError};
use crate::kernel::{dot, has_fma};
use crate::model::cosine;
use serde::Serialize;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// How many analogy questions were answered right, out of those considered; `skipped`
/// counts the questions with a word outside the vocabulary considered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AnalogyScore {
    pub correct: usize,
    pub total: usize,
    pub skipped: usize,
}

impl AnalogyScore {
    /// `correct / total` (NaN when no question was considered).
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.total as f64
    }
}

/// Spearman's ρ between the vectors' cosine similarities and the human scores, over the
/// `pairs_used` pairs of `pairs_total` whose words both have vectors.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SimilarityScore {
    pub spearman: f64,
    pub pairs_used: usize,
    pub pairs_total: usize,
}

impl SimilarityScore {
    /// `pairs_used / pairs_total`.
    pub fn coverage(&self) -> f64 {
        self.pairs_used as f64 / self.pairs_total as f64
    }
}

/// Scores the analogies of a `questions-words.txt` file (`: section` lines, then `a b c d`
/// lines: a is to b as c is to d). The answer is the word, among the `restrict` first
/// (most frequent) of `words`, other than a, b and c, whose unit vector is closest to
/// `unit(b) + unit(c) − unit(a)` (3CosAdd); questions with a word outside those `restrict`
/// are skipped. `vectors` is row-major, `words.len() × dim`.
///
/// ```
/// use transfer_word2vec::evaluate::analogy_accuracy;
/// let path = std::env::temp_dir().join(format!("w2v-analogy-{}.txt", std::process::id()));
/// std::fs::write(&path, ": toy\nman king woman queen\nman king woman zebra\n").unwrap();
/// let words = ["man", "king", "woman", "queen", "apple"];
/// let vectors = [1.0, 0.0, 1.0, 1.0, 0.9, -0.1, 0.9, 0.9, -1.0, 0.2];
/// let score = analogy_accuracy(&words, &vectors, 2, &path, 30_000)?;
/// assert_eq!((score.correct, score.total, score.skipped), (1, 1, 1));
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), transfer_word2vec::Word2VecError>(())
/// ```
pub fn analogy_accuracy(
    words: &[impl AsRef<str>],
    vectors: &[f32],
    dim: usize,
    questions: impl AsRef<Path>,
    restrict: usize,
) -> Result<AnalogyScore> {
    let restrict = restrict.min(words.len());
    let lookup = lowercase_index(&words[..restrict]);
    let (questions, skipped) = read_questions(questions.as_ref(), &lookup)?;
    let unit = unit_rows(&vectors[..restrict * dim], dim);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = questions.len().div_ceil(threads).max(1);
    let correct = std::thread::scope(|scope| {
        let parts: Vec<_> = (questions.chunks(chunk))
            .map(|part| scope.spawn(|| count_correct(part, &unit, dim)))
            .collect();
        parts.into_iter().map(|p| p.join().expect("no panic")).sum()
    });
    Ok(AnalogyScore {
        correct,
        total: questions.len(),
        skipped,
    })
}

/// A question as word indices: a is to b as c is to d.
type Question = [usize; 4];

fn read_questions(path: &Path, lookup: &HashMap<String, usize>) -> Result<(Vec<Question>, usize)> {
    let (mut questions, mut skipped) = (Vec::new(), 0);
    for_each_line(path, |number, line| {
        let line = line.trim();
        if line.is_empty() || line.starts_with(':') {
            return Ok(());
        }
        let fields: Vec<String> = line.split_whitespace().map(str::to_lowercase).collect();
        if fields.len() != 4 {
            let message = format!("expected 4 words, found {}", fields.len());
            return Err(Word2VecError::format(path, number, message));
        }
        match fields
            .iter()
            .map(|w| lookup.get(w).copied())
            .collect::<Option<Vec<_>>>()
        {
            Some(q) => questions.push([q[0], q[1], q[2], q[3]]),
            None => skipped += 1,
        }
        Ok(())
    })?;
    Ok((questions, skipped))
}

/// How many of `questions` the unit vectors answer right.
fn count_correct(questions: &[Question], unit: &[f32], dim: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    if has_fma() {
        // SAFETY: the CPU has AVX2 and FMA.
        return unsafe { count_correct_fma(questions, unit, dim) };
    }
    count_correct_with::<false>(questions, unit, dim)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn count_correct_fma(questions: &[Question], unit: &[f32], dim: usize) -> usize {
    count_correct_with::<true>(questions, unit, dim)
}

/// Scores questions 32 at a time against blocks of 256 rows, so that a block is read from
/// memory once per 32 questions.
#[inline(always)]
fn count_correct_with<const FMA: bool>(questions: &[Question], unit: &[f32], dim: usize) -> usize {
    let row = |i: usize| &unit[i * dim..(i + 1) * dim];
    let mut correct = 0;
    for group in questions.chunks(32) {
        let queries: Vec<Vec<f32>> = (group.iter())
            .map(|&[a, b, c, _]| {
                (0..dim)
                    .map(|k| row(b)[k] + row(c)[k] - row(a)[k])
                    .collect()
            })
            .collect();
        let mut best = vec![(f32::NEG_INFINITY, usize::MAX); group.len()];
        let rows = unit.len() / dim;
        for start in (0..rows).step_by(256) {
            for ((query, question), best) in queries.iter().zip(group).zip(&mut best) {
                for r in start..(start + 256).min(rows) {
                    let s = dot::<FMA>(query, row(r));
                    if s > best.0 && !question[..3].contains(&r) {
                        *best = (s, r);
                    }
                }
            }
        }
        correct += (best.iter().zip(group))
            .filter(|((_, r), q)| *r == q[3])
            .count();
    }
    correct
}

/// The rows scaled to length 1 (a zero row stays zero).
fn unit_rows(vectors: &[f32], dim: usize) -> Vec<f32> {
    let mut unit = vectors.to_vec();
    for row in unit.chunks_exact_mut(dim) {
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|v| *v /= norm);
        }
    }
    unit
}

/// Lowercased word → its first (most frequent) index.
fn lowercase_index(words: &[impl AsRef<str>]) -> HashMap<String, usize> {
    let mut lookup = HashMap::with_capacity(words.len());
    for (i, word) in words.iter().enumerate() {
        lookup.entry(word.as_ref().to_lowercase()).or_insert(i);
    }
    lookup
}

fn for_each_line(path: &Path, mut f: impl FnMut(usize, &str) -> Result<()>) -> Result<()> {
    let file = File::open(path).map_err(|e| Word2VecError::io(path, e))?;
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Word2VecError::io(path, e))?;
        f(i + 1, &line)?;
    }
    Ok(())
}

/// Scores a word-similarity file: lines `word1 <TAB> word2 <TAB> score` (more columns are
/// ignored; `#` lines are comments), as WordSim-353's and SimLex-999's files in gensim's
/// layout. Spearman's ρ uses average ranks for ties; it is NaN when fewer than two pairs
/// are covered or a similarity is NaN.
///
/// ```
/// use transfer_word2vec::evaluate::similarity_spearman;
/// let path = std::env::temp_dir().join(format!("w2v-pairs-{}.tsv", std::process::id()));
/// std::fs::write(&path, "# w1\tw2\tscore\nA\tb\t9\na\tc\t1\nb\tc\t5\na\tzebra\t3\n").unwrap();
/// let vectors = [1.0, 0.0, 1.0, 0.1, -1.0, 1.0];
/// let score = similarity_spearman(&["a", "b", "c"], &vectors, 2, &path)?;
/// assert_eq!((score.pairs_used, score.pairs_total), (3, 4));
/// assert!((score.spearman - 1.0).abs() < 1e-12);
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), transfer_word2vec::Word2VecError>(())
/// ```
pub fn similarity_spearman(
    words: &[impl AsRef<str>],
    vectors: &[f32],
    dim: usize,
    pairs: impl AsRef<Path>,
) -> Result<SimilarityScore> {
    let path = pairs.as_ref();
    let lookup = lowercase_index(words);
    let row = |i: usize| &vectors[i * dim..(i + 1) * dim];
    let (mut model, mut human, mut total) = (Vec::new(), Vec::new(), 0);
    for_each_line(path, |number, line| {
        if line.trim().is_empty() || line.starts_with('#') {
            return Ok(());
        }
        let fields: Vec<&str> = if line.contains('\t') {
            line.split('\t').map(str::trim).collect()
        } else {
            line.split_whitespace().collect()
        };
        let score = fields
            .get(2)
            .and_then(|s| s.parse::<f64>().ok())
            .ok_or_else(|| Word2VecError::format(path, number, "expected `word1 word2 score`"))?;
        total += 1;
        let (a, b) = (&fields[0].to_lowercase(), &fields[1].to_lowercase());
        if let (Some(&a), Some(&b)) = (lookup.get(a), lookup.get(b)) {
            model.push(f64::from(cosine(row(a), row(b))));
            human.push(score);
        }
        Ok(())
    })?;
    Ok(SimilarityScore {
        spearman: spearman(&model, &human),
        pairs_used: model.len(),
        pairs_total: total,
    })
}

/// Spearman's rank correlation: Pearson's on average ranks.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    if x.len() < 2 || x.iter().chain(y).any(|v| v.is_nan()) {
        return f64::NAN;
    }
    pearson(&ranks(x), &ranks(y))
}

/// 1-based ranks, ties sharing the mean of the ranks they span.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let mean = (start + end + 1) as f64 / 2.0;
        order[start..end].iter().for_each(|&i| ranks[i] = mean);
        start = end;
    }
    ranks
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_get_average_ranks() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), [3.5, 1.0, 3.5, 2.0]);
        // scipy.stats.spearmanr([1, 2, 2, 3], [1, 3, 2, 4]) = 0.9486832980505138
        let rho = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]);
        assert!((rho - 0.948_683_298_050_513_8).abs() < 1e-12, "{rho}");
        assert!(spearman(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, 3.0]).is_nan());
    }
}
