//! Small statistics shared by the benchmarks.

/// The `p` quantile (0 to 1) of `sorted` by nearest rank; 0 for no values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}
