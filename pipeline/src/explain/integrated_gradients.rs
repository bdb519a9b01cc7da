//! Integrated gradients (Sundararajan et al. 2017) on the token embeddings: the class
//! probability's gradient integrated along the straight path from a baseline to the input,
//! times the input minus the baseline, summed over each token's vector.

use burn::prelude::*;
use burn::tensor::activation::softmax;
use serde::{Deserialize, Serialize};
use transfer_contextual::ContextualEmbedder;
use transfer_embedder::TokenEmbedder;
use transfer_predictor::Predictor;
use transfer_tokenizer::Tokenizer;

use super::gradient_input::token_scores;
use super::{Explanation, merge_into_words};
use crate::error::{Result, TransferError};
use crate::pipeline::{Batch, TransferPipeline, rows_of};

/// Where the path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Baseline {
    /// The embeddings of the text with every token but the special ones replaced by padding
    /// (positions kept): Captum's usual baseline for BERT.
    Padding,
    /// All-zero embeddings.
    Zeros,
}

/// How the path integral is approximated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Quadrature {
    /// Gauss–Legendre nodes and weights on [0, 1] (Captum's default, `gausslegendre`).
    GaussLegendre,
    /// The trapezoid rule on `steps` evenly spaced points (Captum's `riemann_trapezoid`).
    Trapezoid,
}

/// Settings of [`Method::IntegratedGradients`](super::Method::IntegratedGradients).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntegratedGradientsConfig {
    /// Points on the path (Captum's `n_steps`).
    pub steps: usize,
    pub baseline: Baseline,
    pub quadrature: Quadrature,
    /// Points per forward and backward pass (Captum's `internal_batch_size`).
    pub batch_size: usize,
}

impl Default for IntegratedGradientsConfig {
    fn default() -> Self {
        Self {
            steps: 20,
            baseline: Baseline::Padding,
            quadrature: Quadrature::GaussLegendre,
            batch_size: 20,
        }
    }
}

impl Quadrature {
    /// The points on [0, 1] and their weights, ascending.
    ///
    /// ```
    /// use transfer_pipeline::explain::Quadrature;
    /// let (points, weights) = Quadrature::GaussLegendre.nodes(3);
    /// // Exact for polynomials of degree 5: the integral of x^5 on [0, 1] is 1/6.
    /// let integral: f64 = points.iter().zip(&weights).map(|(x, w)| w * x.powi(5)).sum();
    /// assert!((integral - 1.0 / 6.0).abs() < 1e-12);
    /// assert_eq!(Quadrature::Trapezoid.nodes(3), (vec![0.0, 0.5, 1.0], vec![0.25, 0.5, 0.25]));
    /// ```
    pub fn nodes(self, steps: usize) -> (Vec<f64>, Vec<f64>) {
        match self {
            Quadrature::GaussLegendre => gauss_legendre(steps),
            Quadrature::Trapezoid => {
                let last = steps.saturating_sub(1).max(1) as f64;
                let points = (0..steps).map(|i| i as f64 / last).collect();
                let weights = (0..steps)
                    .map(|i| if i == 0 || i + 1 == steps { 0.5 } else { 1.0 } / last)
                    .collect();
                (points, weights)
            }
        }
    }
}

/// Gauss–Legendre nodes on [0, 1] by Newton's method on the Legendre polynomial.
fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut points = Vec::with_capacity(n);
    let mut weights = Vec::with_capacity(n);
    for i in (1..=n).rev() {
        let mut x = (std::f64::consts::PI * (i as f64 - 0.25) / (n as f64 + 0.5)).cos();
        let mut derivative = 1.0;
        for _ in 0..100 {
            let (p, previous) = legendre(n, x);
            derivative = n as f64 * (x * p - previous) / (x * x - 1.0);
            let step = p / derivative;
            x -= step;
            if step.abs() < 1e-15 {
                let (p, previous) = legendre(n, x);
                derivative = n as f64 * (x * p - previous) / (x * x - 1.0);
                break;
            }
        }
        points.push(0.5 * x + 0.5);
        weights.push(1.0 / ((1.0 - x * x) * derivative * derivative));
    }
    (points, weights)
}

/// P_n(x) and P_{n-1}(x).
fn legendre(n: usize, x: f64) -> (f64, f64) {
    let (mut previous, mut p) = (1.0, x);
    if n == 0 {
        return (1.0, 0.0);
    }
    for k in 2..=n {
        let next = ((2 * k - 1) as f64 * x * p - (k - 1) as f64 * previous) / k as f64;
        previous = p;
        p = next;
    }
    (p, previous)
}

impl IntegratedGradientsConfig {
    fn check(&self) -> Result<()> {
        let minimum = match self.quadrature {
            Quadrature::GaussLegendre => 1,
            Quadrature::Trapezoid => 2,
        };
        if self.steps < minimum || self.batch_size == 0 {
            return Err(TransferError::InvalidConfig {
                field: "integrated_gradients",
                message: format!(
                    "steps {} (at least {minimum} for {:?}) and batch_size {} (at least 1)",
                    self.steps, self.quadrature, self.batch_size
                ),
            });
        }
        Ok(())
    }
}

impl<T, E, C, P> TransferPipeline<T, E, C, P>
where
    T: Tokenizer,
    E: TokenEmbedder,
    C: ContextualEmbedder,
    P: Predictor,
{
    /// Integrated gradients of `text` towards `class`, `config.batch_size` path points a pass.
    pub(super) fn integrated_gradients(
        &self,
        text: &str,
        class: usize,
        config: &IntegratedGradientsConfig,
    ) -> Result<Explanation> {
        config.check()?;
        let encoding = self.tokenizer.encode(text, &self.policy)?.0;
        let special = self.tokenizer.special_tokens();
        let (model, device) = self.frozen_autodiff();
        let rows =
            |ids: &[u32], copies: usize| Batch::new(&vec![ids; copies], special.pad, &device);
        let input = model.embedder.forward(rows(&encoding.ids, 1).ids).detach();
        let baseline = match config.baseline {
            Baseline::Padding => {
                // Special tokens the tokenizer added (no text under them) stay.
                let ids: Vec<u32> = encoding
                    .ids
                    .iter()
                    .zip(&encoding.offsets)
                    .map(|(&id, (s, e))| {
                        if special.contains(id) && s == e {
                            id
                        } else {
                            special.pad
                        }
                    })
                    .collect();
                model.embedder.forward(rows(&ids, 1).ids).detach()
            }
            Baseline::Zeros => input.zeros_like(),
        };
        let difference = input.clone() - baseline.clone();
        let probability = |embedded: Tensor<3>| {
            let batch = embedded.dims()[0];
            let mask = rows(&encoding.ids, batch).mask;
            let states = model
                .contextual
                .forward_known_padding(embedded, mask.clone(), false);
            softmax(model.predictor.forward(states, mask), 1)
        };
        let (points, weights) = config.quadrature.nodes(config.steps);
        let mut integral: Option<Tensor<3>> = None;
        for chunk in (0..points.len())
            .collect::<Vec<_>>()
            .chunks(config.batch_size)
        {
            let path: Vec<Tensor<3>> = chunk
                .iter()
                .map(|&i| baseline.clone() + difference.clone().mul_scalar(points[i]))
                .collect();
            let path = Tensor::cat(path, 0).require_grad();
            let weights: Vec<f32> = chunk.iter().map(|&i| weights[i] as f32).collect();
            let weights = Tensor::<1>::from_data(TensorData::new(weights, [chunk.len()]), &device);
            let chosen = probability(path.clone())
                .slice([0..chunk.len(), class..class + 1])
                .reshape([chunk.len()]);
            let gradients = (chosen * weights).sum().backward();
            let gradient = path
                .grad(&gradients)
                .ok_or_else(|| TransferError::InvalidConfig {
                    field: "embedder",
                    message: "no gradient reached the token embeddings".into(),
                })?
                .sum_dim(0);
            integral = Some(match integral {
                Some(sum) => sum + gradient,
                None => gradient,
            });
        }
        let integral = integral.expect("at least one point");
        let scores: Vec<f32> = (difference.inner() * integral)
            .sum_dim(2)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap_or_default();
        let ends = rows_of(probability(Tensor::cat(vec![input, baseline], 0)).inner());
        let tokens = token_scores(&encoding, &scores, special);
        let total: f32 = scores.iter().sum();
        Ok(Explanation {
            class,
            delta: Some(total - (ends[0][class] - ends[1][class])),
            probabilities: ends[0].clone(),
            words: merge_into_words(text, &tokens),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_matches_numpys_leggauss() {
        // numpy.polynomial.legendre.leggauss(4), mapped to [0, 1] as Captum does.
        let (points, weights) = gauss_legendre(4);
        let expected_points = [
            0.0694318442029737,
            0.3300094782075719,
            0.6699905217924281,
            0.9305681557970262,
        ];
        let expected_weights = [
            0.17392742256872692,
            0.3260725774312731,
            0.3260725774312731,
            0.17392742256872692,
        ];
        for (a, b) in points
            .iter()
            .zip(expected_points)
            .chain(weights.iter().zip(expected_weights))
        {
            assert!((a - b).abs() < 1e-14, "{points:?} {weights:?}");
        }
        assert_eq!(gauss_legendre(1), (vec![0.5], vec![1.0]));
    }
}
