use serde::{Deserialize, Serialize};

/// How the learning rate moves over training, as a factor of each stage's rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LrSchedule {
    Constant,
    /// Linear warm-up from 0 over `warmup_fraction` of the steps, then linear decay to 0
    /// (BERT's schedule).
    WarmupLinearDecay {
        warmup_fraction: f64,
    },
    /// ULMFiT's slanted triangular rate (Howard & Ruder 2018): a short linear rise over
    /// `cut_fraction` of the steps, then a long linear fall; the lowest rate is `1/ratio`
    /// of the highest.
    SlantedTriangular {
        cut_fraction: f64,
        ratio: f64,
    },
}

impl LrSchedule {
    /// The factor at `step` (0-based) of `total` steps.
    pub fn factor(&self, step: usize, total: usize) -> f64 {
        let total = total.max(1) as f64;
        let t = step as f64;
        match *self {
            LrSchedule::Constant => 1.0,
            LrSchedule::WarmupLinearDecay { warmup_fraction } => {
                let warmup = (warmup_fraction * total).floor();
                if t < warmup {
                    (t + 1.0) / (warmup + 1.0)
                } else {
                    ((total - t) / (total - warmup).max(1.0)).max(0.0)
                }
            }
            LrSchedule::SlantedTriangular {
                cut_fraction,
                ratio,
            } => {
                let cut = (total * cut_fraction).floor().max(1.0);
                let p = if t < cut {
                    t / cut
                } else {
                    1.0 - (t - cut) / (cut * (1.0 / cut_fraction - 1.0)).max(1.0)
                };
                (1.0 + p.max(0.0) * (ratio - 1.0)) / ratio
            }
        }
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        match *self {
            LrSchedule::Constant => Ok(()),
            LrSchedule::WarmupLinearDecay { warmup_fraction }
                if (0.0..1.0).contains(&warmup_fraction) =>
            {
                Ok(())
            }
            LrSchedule::WarmupLinearDecay { warmup_fraction } => Err(format!(
                "warmup_fraction {warmup_fraction} is not in [0, 1)"
            )),
            LrSchedule::SlantedTriangular {
                cut_fraction,
                ratio,
            } if cut_fraction > 0.0 && cut_fraction < 1.0 && ratio >= 1.0 => Ok(()),
            LrSchedule::SlantedTriangular { .. } => {
                Err("slanted triangular needs cut_fraction in (0, 1) and ratio ≥ 1".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_rises_then_decays_to_zero() {
        let s = LrSchedule::WarmupLinearDecay {
            warmup_fraction: 0.1,
        };
        let f: Vec<f64> = (0..100).map(|i| s.factor(i, 100)).collect();
        assert!(f[0] < 0.1 && f[9] > f[0]);
        assert!((f[10] - 1.0).abs() < 1e-9);
        assert!(f.windows(2).skip(10).all(|w| w[1] < w[0]));
        assert!(f[99] > 0.0 && f[99] < 0.02);
    }

    #[test]
    fn slanted_triangular_matches_the_paper() {
        let s = LrSchedule::SlantedTriangular {
            cut_fraction: 0.1,
            ratio: 32.0,
        };
        assert!((s.factor(0, 1000) - 1.0 / 32.0).abs() < 1e-9);
        assert!((s.factor(100, 1000) - 1.0).abs() < 1e-9);
        assert!(s.factor(50, 1000) > s.factor(10, 1000));
        assert!(s.factor(999, 1000) < 0.04);
        assert!(
            LrSchedule::SlantedTriangular {
                cut_fraction: 0.0,
                ratio: 32.0
            }
            .validate()
            .is_err()
        );
    }
}
