use ndarray::{Array1, Array2, ArrayView2, Axis};

/// L2-regularised logistic regression (scikit-learn's objective: `C` times the summed log
/// loss plus half the squared weights, the intercept unpenalised), fitted exactly by Newton's
/// method.
#[derive(Debug, Clone)]
pub struct LogisticRegression {
    pub weights: Array1<f64>,
    pub intercept: f64,
    pub iterations: usize,
}

impl LogisticRegression {
    /// Fits rows `x` (examples × features) to `positive`.
    pub fn fit(x: ArrayView2<f64>, positive: &[bool], c: f64) -> Self {
        let (n, d) = x.dim();
        // Design matrix with the intercept column last.
        let mut design = Array2::<f64>::ones((n, d + 1));
        design.slice_mut(ndarray::s![.., ..d]).assign(&x);
        let t = Array1::from_iter(positive.iter().map(|&p| if p { 1.0 } else { 0.0 }));
        let mut theta = Array1::<f64>::zeros(d + 1);
        let mut iterations = 0;
        for _ in 0..100 {
            iterations += 1;
            let p = design.dot(&theta).mapv(|z| 1.0 / (1.0 + (-z).exp()));
            let mut gradient = design.t().dot(&(&p - &t)) * c;
            let s = &p * &(1.0 - &p) * c;
            let weighted = &design * &s.view().insert_axis(Axis(1));
            let mut hessian = design.t().dot(&weighted);
            for k in 0..d {
                gradient[k] += theta[k];
                hessian[[k, k]] += 1.0;
            }
            let step = solve(hessian, gradient);
            let size = step.iter().map(|v| v * v).sum::<f64>().sqrt();
            theta -= &step;
            if size < 1e-10 * (1.0 + theta.iter().map(|v| v * v).sum::<f64>().sqrt()) {
                break;
            }
        }
        Self {
            weights: theta.slice(ndarray::s![..d]).to_owned(),
            intercept: theta[d],
            iterations,
        }
    }

    /// The decision value of each row (positive means positive).
    pub fn decision(&self, x: ArrayView2<f64>) -> Array1<f64> {
        x.dot(&self.weights) + self.intercept
    }
}

/// Solves `a · x = b` for a symmetric positive definite `a` (Cholesky), falling back to a
/// small ridge if it is only semidefinite.
fn solve(mut a: Array2<f64>, b: Array1<f64>) -> Array1<f64> {
    let n = b.len();
    for attempt in 0..3 {
        if attempt > 0 {
            for k in 0..n {
                a[[k, k]] += 1e-8 * 10f64.powi(attempt * 3);
            }
        }
        let mut l = Array2::<f64>::zeros((n, n));
        let mut ok = true;
        'outer: for i in 0..n {
            for j in 0..=i {
                let sum: f64 = (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum();
                if i == j {
                    let v = a[[i, i]] - sum;
                    if v <= 0.0 {
                        ok = false;
                        break 'outer;
                    }
                    l[[i, i]] = v.sqrt();
                } else {
                    l[[i, j]] = (a[[i, j]] - sum) / l[[j, j]];
                }
            }
        }
        if !ok {
            continue;
        }
        let mut y = Array1::<f64>::zeros(n);
        for i in 0..n {
            y[i] = (b[i] - (0..i).map(|k| l[[i, k]] * y[k]).sum::<f64>()) / l[[i, i]];
        }
        let mut x = Array1::<f64>::zeros(n);
        for i in (0..n).rev() {
            x[i] = (y[i] - (i + 1..n).map(|k| l[[k, i]] * x[k]).sum::<f64>()) / l[[i, i]];
        }
        return x;
    }
    Array1::zeros(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_and_regularises() {
        let x = ndarray::array![[0.0], [1.0], [2.0], [3.0]];
        let y = [false, false, true, true];
        let strong = LogisticRegression::fit(x.view(), &y, 100.0);
        let weak = LogisticRegression::fit(x.view(), &y, 0.01);
        assert!(strong.weights[0] > weak.weights[0] && weak.weights[0] > 0.0);
        let d = strong.decision(x.view());
        assert!(d[0] < 0.0 && d[1] < 0.0 && d[2] > 0.0 && d[3] > 0.0);
        // The optimum: the gradient of the objective vanishes (intercept term).
        let p: f64 = d.iter().map(|z| 1.0 / (1.0 + (-z).exp())).sum();
        assert!((p - 2.0).abs() < 1e-6);
    }
}
