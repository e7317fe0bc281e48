//! A multi-class linear SVM in the Crammer–Singer form: one weight vector per category,
//! fitted jointly so that each training text's own category outscores every other by a
//! margin. Trained by the sequential dual method (Keerthi et al., 2008): each step solves
//! exactly for one training row's dual variables across all categories, so there is no
//! learning rate to tune and a few tens of passes settle it. A constant feature gives each
//! category a bias.
//!
//! Why joint rather than one-vs-rest: with a hundred or more categories, one-vs-rest fits
//! each category against a crowd of negatives and its scores are not on one scale across
//! categories; the joint fit compares a text's category with its closest rivals only, which
//! is the decision that is asked of it (about half a point of accuracy on intent data).

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
const BIAS_FEATURE: f32 = 1.0;
/// Settled once no row's dual variables are off their optimum by more than this (the gap
/// between its most and least violated categories).
const TOLERANCE: f64 = 0.1;
/// A row whose gap is below this is left alone in a pass.
const ROW_TOLERANCE: f64 = 1e-3;

impl LinearModel {
    /// Fits every category at once; `targets[i]` is row `i`'s category (below `classes`).
    pub(super) fn train(
        vectors: &[Vector],
        targets: &[usize],
        classes: usize,
        dimensions: usize,
        options: &TrainOptions,
    ) -> LinearModel {
        let mut model = LinearModel {
            classes,
            weights: vec![0.0; dimensions * classes],
            bias: vec![0.0; classes],
        };
        if classes < 2 {
            // One category has no rival to be told from: every score stays 0.
            return model;
        }
        let cost = options.cost;
        let n = vectors.len();
        let norms: Vec<f64> = vectors
            .iter()
            .map(|v| {
                v.entries
                    .iter()
                    .map(|&(_, x)| f64::from(x) * f64::from(x))
                    .sum::<f64>()
                    + f64::from(BIAS_FEATURE * BIAS_FEATURE)
            })
            .collect();
        // alpha[i * classes + m]: row i's dual variable for category m; at most `cost` for
        // its own category, at most 0 for the others, summing to 0.
        let mut alpha = vec![0.0f64; n * classes];
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = Rng::new(options.seed ^ 0xc5a3);
        let mut b = vec![0.0f64; classes];
        let mut d = vec![0.0f64; classes];
        let mut sorted = vec![0.0f64; classes];
        let mut delta = vec![0.0f32; classes];
        for _ in 0..options.epochs.max(1) {
            rng.shuffle(&mut order);
            let mut largest = 0.0f64;
            for &i in &order {
                let own = targets[i];
                let a = norms[i];
                let x = &vectors[i].entries;
                model.scores_into(x, &mut b);
                let dual = &mut alpha[i * classes..(i + 1) * classes];
                let bound = |m: usize| if m == own { cost } else { 0.0 };
                // Gradient of category m: its score plus the margin it must be beaten by.
                let gradient = |m: usize, score: f64| score + if m == own { 0.0 } else { 1.0 };
                let mut most = f64::NEG_INFINITY;
                let mut least = f64::INFINITY;
                for (m, &score) in b.iter().enumerate() {
                    let g = gradient(m, score);
                    most = most.max(g);
                    if dual[m] < bound(m) {
                        least = least.min(g);
                    }
                }
                let gap = most - least;
                largest = largest.max(gap);
                if gap < ROW_TOLERANCE {
                    continue;
                }
                // The sub-problem: minimise sum(a/2 alpha_m^2 + b_m alpha_m) under the bounds
                // and sum(alpha) = 0; alpha_m = min(bound_m, (beta - b_m) / a) for the beta
                // found by walking the sorted d_m = b_m + a bound_m.
                for m in 0..classes {
                    b[m] = gradient(m, b[m]) - a * dual[m];
                    d[m] = b[m] + a * bound(m);
                }
                sorted.copy_from_slice(&d);
                sorted.sort_unstable_by(|p, q| q.total_cmp(p));
                let mut beta = sorted[0] - a * cost;
                let mut r = 1;
                while r < classes && beta / (r as f64) < sorted[r] {
                    beta += sorted[r];
                    r += 1;
                }
                beta /= r as f64;
                let mut moved = false;
                for m in 0..classes {
                    let new = bound(m).min((beta - b[m]) / a);
                    delta[m] = (new - dual[m]) as f32;
                    moved |= delta[m] != 0.0;
                    dual[m] = new;
                }
                if moved {
                    model.add(x, &delta);
                }
            }
            if largest < TOLERANCE {
                break;
            }
        }
        model
    }

    /// Adds `delta` times the row to every category's weights.
    fn add(&mut self, entries: &[(u32, f32)], delta: &[f32]) {
        for &(column, value) in entries {
            let start = column as usize * self.classes;
            let row = &mut self.weights[start..start + self.classes];
            for (weight, &d) in row.iter_mut().zip(delta) {
                *weight += value * d;
            }
        }
        for (bias, &d) in self.bias.iter_mut().zip(delta) {
            *bias += BIAS_FEATURE * d;
        }
    }

    fn scores_into(&self, entries: &[(u32, f32)], out: &mut [f64]) {
        let mut scores: Vec<f32> = self.bias.clone();
        for &(column, value) in entries {
            let start = column as usize * self.classes;
            let row = &self.weights[start..start + self.classes];
            for (score, &weight) in scores.iter_mut().zip(row) {
                *score += value * weight;
            }
        }
        for (o, s) in out.iter_mut().zip(scores) {
            *o = f64::from(s);
        }
    }

    /// Decision value of every category for a vector's entries.
    pub(super) fn scores(&self, entries: &[(u32, f32)]) -> Vec<f64> {
        let mut out = vec![0.0; self.classes];
        self.scores_into(entries, &mut out);
        out
    }
}
