//! The model behind the app: one thread owns the pipeline and answers requests in batches,
//! so that many clients share each forward pass.

use std::sync::mpsc::{Receiver, Sender, channel};

use serde::Serialize;
use transfer_nlp::TransferPipeline;
use transfer_nlp::contextual::AnyContextual;
use transfer_nlp::embedder::AnyEmbedder;
use transfer_nlp::pipeline::explain::Method;
use transfer_nlp::predictor::AnyPredictor;
use transfer_nlp::tokenizer::AnyTokenizer;

pub type AppPipeline = TransferPipeline<AnyTokenizer, AnyEmbedder, AnyContextual, AnyPredictor>;

/// A word and how much it pushed the prediction towards positive.
#[derive(Debug, Clone, Serialize)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub score: f32,
}

/// What the model says about one review.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub sentiment: String,
    /// Probability of `sentiment`.
    pub probability: f32,
    pub positive_probability: f32,
    pub predicted_stars: f32,
    pub words: Vec<Word>,
    /// How the words were scored, e.g. `integrated-gradients (20 steps)`.
    pub method: String,
}

/// Maps the probability of "positive" to IMDB's 1–10 stars: a least-squares line fitted on
/// the corpus reviews, whose real stars are known.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StarScale {
    pub intercept: f32,
    pub slope: f32,
}

impl StarScale {
    /// Least squares of IMDB's stars on the positive probability, the positive (≥ 7 stars)
    /// and negative (≤ 4) reviews weighted to count equally: a corpus of well-loved films
    /// would otherwise flatten the scale.
    pub fn fit(rated: &[(f32, u8)]) -> Self {
        let positives = rated.iter().filter(|r| r.1 >= 7).count().max(1) as f32;
        let negatives = rated.iter().filter(|r| r.1 < 7).count().max(1) as f32;
        let weight = |stars: u8| {
            if stars >= 7 {
                1.0 / positives
            } else {
                1.0 / negatives
            }
        };
        let w: f32 = rated.iter().map(|r| weight(r.1)).sum();
        let mean = |f: &dyn Fn(&(f32, u8)) -> f32| {
            rated.iter().map(|r| weight(r.1) * f(r)).sum::<f32>() / w
        };
        let (mx, my) = (mean(&|r| r.0), mean(&|r| f32::from(r.1)));
        let sxx = mean(&|r| (r.0 - mx).powi(2));
        let sxy = mean(&|r| (r.0 - mx) * (f32::from(r.1) - my));
        if rated.len() < 2 || sxx < 1e-9 || sxy <= 0.0 {
            return Self {
                intercept: 1.0,
                slope: 9.0,
            };
        }
        let slope = sxy / sxx;
        Self {
            intercept: my - slope * mx,
            slope,
        }
    }

    pub fn stars(&self, positive_probability: f32) -> f32 {
        (self.intercept + self.slope * positive_probability).clamp(1.0, 10.0)
    }
}

struct Job {
    text: String,
    reply: Sender<Result<Analysis, String>>,
}

/// A handle to the model thread.
#[derive(Clone)]
pub struct Model {
    jobs: Sender<Job>,
}

/// The index of the "positive" class (by label, else class 1).
pub fn positive_class(pipeline: &AppPipeline) -> usize {
    pipeline
        .labels()
        .iter()
        .position(|l| l.eq_ignore_ascii_case("positive") || l.eq_ignore_ascii_case("pos"))
        .unwrap_or(1)
}

/// The probability of "positive" for each text, without explanations.
pub fn positive_probabilities(
    pipeline: &AppPipeline,
    texts: &[String],
) -> Result<Vec<f32>, String> {
    let positive = positive_class(pipeline);
    Ok(pipeline
        .predict(texts)
        .map_err(|e| e.to_string())?
        .iter()
        .map(|p| p.as_class().map_or(0.0, |c| c.probabilities[positive]))
        .collect())
}

/// Predictions and word scores (towards "positive", by `method`) for a batch of texts.
pub fn analyse(
    pipeline: &AppPipeline,
    texts: &[String],
    stars: StarScale,
    method: &Method,
) -> Result<Vec<Analysis>, String> {
    let positive = positive_class(pipeline);
    // The probabilities come from the explained forward pass.
    let explanations = pipeline
        .explain(texts, positive, method)
        .map_err(|e| e.to_string())?;
    Ok(explanations
        .into_iter()
        .zip(texts)
        .map(|(explanation, text)| {
            let probabilities = &explanation.probabilities;
            let predicted = (0..probabilities.len())
                .max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]))
                .unwrap_or(positive);
            let positive_probability = probabilities.get(positive).copied().unwrap_or(0.0);
            Analysis {
                sentiment: pipeline
                    .labels()
                    .get(predicted)
                    .cloned()
                    .unwrap_or_default(),
                probability: probabilities.get(predicted).copied().unwrap_or(0.0),
                positive_probability,
                predicted_stars: stars.stars(positive_probability),
                words: explanation
                    .words
                    .into_iter()
                    .map(|w| Word {
                        start: w.start,
                        end: w.end,
                        text: text[w.start..w.end].to_string(),
                        score: w.score,
                    })
                    .collect(),
                method: method.to_string(),
            }
        })
        .collect())
}

impl Model {
    /// Starts the model thread; it batches up to `batch_size` waiting requests.
    pub fn start(
        pipeline: AppPipeline,
        stars: StarScale,
        batch_size: usize,
        method: Method,
    ) -> Self {
        let (jobs, queue) = channel::<Job>();
        std::thread::spawn(move || serve(pipeline, stars, batch_size, method, queue));
        Self { jobs }
    }

    pub fn analyse(&self, text: String) -> Result<Analysis, String> {
        let (reply, answer) = channel();
        self.jobs
            .send(Job { text, reply })
            .map_err(|_| "the model thread stopped".to_string())?;
        answer
            .recv()
            .map_err(|_| "the model thread stopped".to_string())?
    }
}

fn serve(
    pipeline: AppPipeline,
    stars: StarScale,
    batch_size: usize,
    method: Method,
    queue: Receiver<Job>,
) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < batch_size {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let texts: Vec<String> = batch.iter().map(|j| j.text.clone()).collect();
        match analyse(&pipeline, &texts, stars, &method) {
            Ok(results) => {
                for (job, result) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(message) => {
                for job in batch {
                    let _ = job.reply.send(Err(message.clone()));
                }
            }
        }
    }
}
