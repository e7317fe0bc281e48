//! One-vs-rest linear SVMs, L2-regularised with squared hinge loss, trained by dual
//! coordinate descent: each step solves exactly for one training row's dual variable, so
//! there is no learning rate to tune and a few passes settle it. A constant feature gives
//! each category a bias. Categories are independent, so they are fitted on several threads;
//! each has its own seeded row order, so the result does not depend on the thread count.

use super::features::Vector;
use super::{Rng, TrainOptions};

pub(super) struct LinearModel {
    classes: usize,
    /// Column-major by feature: the `classes` weights of feature `f` start at `f * classes`,
    /// so scoring a sparse text reads one contiguous run per feature.
    weights: Vec<f32>,
    bias: Vec<f32>,
}

/// Value of the constant feature that carries the bias.
const BIAS_FEATURE: f64 = 1.0;
/// Stop a category once no dual variable would move by more than this.
const TOLERANCE: f64 = 0.05;

struct Rows<'a> {
    vectors: &'a [Vector],
    /// Squared length of each row plus the bias feature.
    norms: Vec<f64>,
}

fn fit_one(
    rows: &Rows<'_>,
    targets: &[Option<usize>],
    class: usize,
    dimensions: usize,
    options: &TrainOptions,
) -> (Vec<f32>, f32) {
    let n = rows.vectors.len();
    let diagonal = 0.5 / options.cost;
    let mut w = vec![0.0f64; dimensions];
    let mut bias = 0.0f64;
    let mut alpha = vec![0.0f64; n];
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Rng::new(options.seed ^ (class as u64).wrapping_mul(0x9e37_79b9));
    for _ in 0..options.epochs.max(1) {
        rng.shuffle(&mut order);
        let mut largest_step = 0.0f64;
        for &i in &order {
            let y = if targets[i] == Some(class) { 1.0 } else { -1.0 };
            let x = &rows.vectors[i].entries;
            let mut margin = bias * BIAS_FEATURE;
            for &(c, v) in x {
                margin += w[c as usize] * f64::from(v);
            }
            let gradient = y * margin - 1.0 + diagonal * alpha[i];
            let projected = if alpha[i] == 0.0 {
                gradient.min(0.0)
            } else {
                gradient
            };
            if projected.abs() < 1e-12 {
                continue;
            }
            let old = alpha[i];
            alpha[i] = (old - gradient / (rows.norms[i] + diagonal)).max(0.0);
            let step = (alpha[i] - old) * y;
            if step != 0.0 {
                for &(c, v) in x {
                    w[c as usize] += step * f64::from(v);
                }
                bias += step * BIAS_FEATURE;
            }
            largest_step = largest_step.max(projected.abs());
        }
        if largest_step < TOLERANCE {
            break;
        }
    }
    (w.into_iter().map(|v| v as f32).collect(), bias as f32)
}

impl LinearModel {
    pub(super) fn train(
        vectors: &[Vector],
        targets: &[Option<usize>],
        classes: usize,
        dimensions: usize,
        options: &TrainOptions,
    ) -> LinearModel {
        let rows = Rows {
            vectors,
            norms: vectors
                .iter()
                .map(|v| {
                    v.entries
                        .iter()
                        .map(|&(_, x)| f64::from(x) * f64::from(x))
                        .sum::<f64>()
                        + BIAS_FEATURE * BIAS_FEATURE
                })
                .collect(),
        };
        let threads = options.threads.clamp(1, classes.max(1));
        let mut fitted: Vec<Option<(Vec<f32>, f32)>> = (0..classes).map(|_| None).collect();
        std::thread::scope(|scope| {
            let rows = &rows;
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    scope.spawn(move || {
                        (t..classes)
                            .step_by(threads)
                            .map(|class| {
                                (class, fit_one(rows, targets, class, dimensions, options))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for handle in handles {
                for (class, result) in handle.join().expect("training thread panicked") {
                    fitted[class] = Some(result);
                }
            }
        });
        let mut weights = vec![0.0f32; dimensions * classes];
        let mut bias = vec![0.0f32; classes];
        for (class, result) in fitted.into_iter().enumerate() {
            let (w, b) = result.expect("every class is fitted");
            for (feature, value) in w.into_iter().enumerate() {
                weights[feature * classes + class] = value;
            }
            bias[class] = b;
        }
        LinearModel {
            classes,
            weights,
            bias,
        }
    }

    /// Decision value of every category for a vector's entries.
    pub(super) fn scores(&self, entries: &[(u32, f32)]) -> Vec<f64> {
        let mut scores: Vec<f32> = self.bias.clone();
        for &(column, value) in entries {
            let start = column as usize * self.classes;
            let row = &self.weights[start..start + self.classes];
            for (score, &weight) in scores.iter_mut().zip(row) {
                *score += value * weight;
            }
        }
        scores.into_iter().map(f64::from).collect()
    }
}
