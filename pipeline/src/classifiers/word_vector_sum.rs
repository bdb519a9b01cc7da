use ndarray::Array2;
use rayon::prelude::*;
use transfer_embedder::WordVectors;

use super::logistic::LogisticRegression;
use super::tokens::baseline_tokens;
use crate::error::{Result, TransferError};

/// The word-vector baseline: a text is the sum of the vectors of its tokens (those the
/// vectors know), divided by 100, classified by logistic regression.
#[derive(Debug, Clone)]
pub struct WordVectorSum {
    model: LogisticRegression,
}

impl WordVectorSum {
    /// Summed vectors of each text, `[texts, dim]`, scaled by 1/100.
    pub fn features<S: AsRef<str> + Sync>(vectors: &WordVectors, texts: &[S]) -> Array2<f64> {
        let dim = vectors.dim();
        let rows: Vec<Vec<f64>> = texts
            .par_iter()
            .map(|t| {
                let mut sum = vec![0.0f32; dim];
                for token in baseline_tokens(t.as_ref()) {
                    if let Some(v) = vectors.get(&token) {
                        sum.iter_mut().zip(v).for_each(|(s, x)| *s += x);
                    }
                }
                sum.into_iter().map(|s| f64::from(s) / 100.0).collect()
            })
            .collect();
        Array2::from_shape_vec((texts.len(), dim), rows.concat()).expect("rows of dim values")
    }

    /// Fits the logistic regression (regularisation `c`) on precomputed [`features`].
    pub fn fit(features: &Array2<f64>, positive: &[bool], c: f64) -> Result<Self> {
        if features.nrows() == 0 || features.nrows() != positive.len() {
            return Err(TransferError::InvalidConfig {
                field: "labels",
                message: format!("{} labels for {} texts", positive.len(), features.nrows()),
            });
        }
        Ok(Self {
            model: LogisticRegression::fit(features.view(), positive, c),
        })
    }

    pub fn predict(&self, features: &Array2<f64>) -> Vec<bool> {
        self.model
            .decision(features.view())
            .iter()
            .map(|&d| d > 0.0)
            .collect()
    }
}
