//! Turns a prediction's signals into a confidence: the probability that the best category is
//! the right answer, from a logistic model fitted on held-out predictions (right answers as
//! positives; wrong categories and out-of-scope texts as negatives). Squares and a product of
//! the main signals let it bend: a high score with no close training text is less sure than
//! either alone suggests.

use super::HeldOut;

/// What a prediction rests on.
#[derive(Debug, Clone)]
pub(super) struct Signals {
    /// SVM decision value of the best category.
    pub(super) top: f64,
    /// How far the best category is ahead of the second.
    pub(super) margin: f64,
    /// Cosine similarity (word features) of the nearest in-scope training text.
    pub(super) nearest: f64,
    /// ... of the nearest training text of the best category.
    pub(super) nearest_in_class: f64,
    /// ... of the nearest out-of-scope training text (0 when training had none).
    pub(super) nearest_out_of_scope: f64,
    /// How far the best category's SVM score is ahead of the out-of-scope SVM's.
    pub(super) ahead_of_out_of_scope: f64,
    /// Share of the text's words seen in training.
    pub(super) known_share: f64,
}

impl Signals {
    fn features(&self) -> [f64; FEATURES] {
        [
            self.top,
            self.margin,
            self.nearest,
            self.nearest_in_class,
            self.nearest_out_of_scope,
            self.known_share,
            self.ahead_of_out_of_scope,
            self.top * self.top,
            self.nearest_in_class * self.nearest_in_class,
            self.top * self.nearest_in_class,
            self.margin * self.margin,
        ]
    }
}

const FEATURES: usize = 11;
/// Ridge penalty (on standardised features): keeps the fit finite when held-out outcomes
/// are all alike or a signal separates them perfectly.
const RIDGE: f64 = 1.0;

#[derive(Debug, Clone)]
pub(super) struct Calibration {
    mean: [f64; FEATURES],
    /// 1 / standard deviation, 0 for a signal that never varied (it then has no say).
    inverse_spread: [f64; FEATURES],
    coefficients: [f64; FEATURES],
    intercept: f64,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Calibration {
    pub(super) fn fit(judged: &[HeldOut]) -> Calibration {
        // Real out-of-scope rows are better evidence of what out of scope looks like than
        // the stand-ins (texts of left-out categories), but few: together they weigh as much
        // as all the stand-ins.
        let real = judged.iter().filter(|h| !h.in_scope && !h.stand_in).count();
        let stand_ins = judged.iter().filter(|h| h.stand_in).count();
        let real_weight = if real > 0 {
            (stand_ins as f64 / real as f64).max(1.0)
        } else {
            1.0
        };
        let data: Vec<([f64; FEATURES], f64, f64)> = judged
            .iter()
            .filter_map(|h| {
                let signals = h.signals.as_ref()?;
                let weight = if !h.in_scope && !h.stand_in {
                    real_weight
                } else {
                    1.0
                };
                Some((
                    signals.features(),
                    if h.correct { 1.0 } else { 0.0 },
                    weight,
                ))
            })
            .collect();
        let n = data.len().max(1) as f64;
        let mut mean = [0.0; FEATURES];
        for (x, _, _) in &data {
            for j in 0..FEATURES {
                mean[j] += x[j] / n;
            }
        }
        let mut inverse_spread = [0.0; FEATURES];
        for j in 0..FEATURES {
            let variance = data
                .iter()
                .map(|(x, _, _)| (x[j] - mean[j]).powi(2))
                .sum::<f64>()
                / n;
            if variance > 1e-12 {
                inverse_spread[j] = 1.0 / variance.sqrt();
            }
        }
        let standardised: Vec<([f64; FEATURES], f64, f64)> = data
            .iter()
            .map(|(x, y, w)| {
                let mut z = [0.0; FEATURES];
                for j in 0..FEATURES {
                    z[j] = (x[j] - mean[j]) * inverse_spread[j];
                }
                (z, *y, *w)
            })
            .collect();

        // Newton's method on the penalised log-likelihood; parameter 0 is the intercept.
        const P: usize = FEATURES + 1;
        let mut beta = [0.0f64; P];
        for _ in 0..50 {
            let mut gradient = [0.0f64; P];
            let mut hessian = [[0.0f64; P]; P];
            for (z, y, w) in &standardised {
                let mut x = [1.0f64; P];
                x[1..].copy_from_slice(z);
                let p = sigmoid((0..P).map(|j| beta[j] * x[j]).sum());
                let weight = w * (p * (1.0 - p)).max(1e-9);
                for a in 0..P {
                    gradient[a] += w * (y - p) * x[a];
                    for b in 0..P {
                        hessian[a][b] += weight * x[a] * x[b];
                    }
                }
            }
            for a in 0..P {
                gradient[a] -= RIDGE * beta[a];
                hessian[a][a] += RIDGE;
            }
            let step = solve(hessian, gradient);
            let mut largest = 0.0f64;
            for a in 0..P {
                beta[a] += step[a];
                largest = largest.max(step[a].abs());
            }
            if largest < 1e-8 {
                break;
            }
        }
        let mut coefficients = [0.0; FEATURES];
        coefficients.copy_from_slice(&beta[1..]);
        Calibration {
            mean,
            inverse_spread,
            coefficients,
            intercept: beta[0],
        }
    }

    pub(super) fn confidence(&self, signals: &Signals) -> f64 {
        let x = signals.features();
        let z: f64 = (0..FEATURES)
            .map(|j| self.coefficients[j] * (x[j] - self.mean[j]) * self.inverse_spread[j])
            .sum();
        sigmoid(self.intercept + z)
    }
}

/// Solves `a x = b` for a small symmetric positive definite `a` (Gaussian elimination with
/// partial pivoting; the ridge keeps `a` well away from singular).
fn solve<const P: usize>(mut a: [[f64; P]; P], mut b: [f64; P]) -> [f64; P] {
    for col in 0..P {
        let pivot = (col..P)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        b.swap(col, pivot);
        let d = a[col][col];
        if d.abs() < 1e-300 {
            continue;
        }
        for row in col + 1..P {
            let f = a[row][col] / d;
            if f != 0.0 {
                let pivot_row = a[col];
                for (target, source) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                    *target -= f * source;
                }
                b[row] -= f * b[col];
            }
        }
    }
    let mut x = [0.0; P];
    for row in (0..P).rev() {
        let mut s = b[row];
        for k in row + 1..P {
            s -= a[row][k] * x[k];
        }
        x[row] = if a[row][row].abs() < 1e-300 {
            0.0
        } else {
            s / a[row][row]
        };
    }
    x
}
