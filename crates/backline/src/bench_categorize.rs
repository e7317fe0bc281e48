//! `backline bench categorize`: how well auto-categorisation suggests a category, on any
//! data of labelled texts (CSV with a header row and columns `text` and `label`, in any
//! order; the label `oos` means no category applies).
//!
//! The categoriser is trained on the training file alone (it chooses its own confidence
//! threshold from it), then every test row is predicted one at a time on this thread, each
//! timed. With `--validation`, a second categoriser whose threshold is also judged on that
//! file is measured the same way, after the first, so the figures without it are always
//! printed too.

use anyhow::{bail, Context};
use backline_search::{Categorizer, TrainOptions};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

const OUT_OF_SCOPE: &str = "oos";

/// Reads `(text, label)` rows.
pub fn read_examples(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    read_examples_from(file).with_context(|| format!("reading {}", path.display()))
}

fn read_examples_from(input: impl std::io::Read) -> anyhow::Result<Vec<(String, String)>> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader.headers()?.clone();
    let find = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .with_context(|| format!("no column {name:?}"))
    };
    let (text, label) = (find("text")?, find("label")?);
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record?;
        let field = |at: usize| record.get(at).unwrap_or("").trim().to_string();
        let row = (field(text), field(label));
        if row.1.is_empty() {
            bail!("record {} has no label", i + 1);
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Quality and latency of one categoriser on the test rows.
struct Figures {
    in_scope_accuracy: f64,
    out_of_scope_recall: f64,
    macro_f1: f64,
    latencies_ms: Vec<f64>,
    /// In-scope accuracy had the best category always been given (no threshold).
    accuracy_without_threshold: f64,
    /// For a few `oos` recall levels, the in-scope accuracy at the lowest threshold that
    /// reaches it on the test rows: how well the confidence separates the two, whatever
    /// threshold training chose. For reference only; the threshold is never chosen this way.
    curve: Vec<(f64, f64)>,
}

fn measure(categorizer: &Categorizer, test: &[(String, String)]) -> Figures {
    let mut latencies_ms = Vec::with_capacity(test.len());
    let mut pairs = Vec::with_capacity(test.len());
    // (confidence, is out of scope, best category is right) of every test row.
    let mut judged = Vec::with_capacity(test.len());
    for (text, label) in test {
        let started = Instant::now();
        let prediction = categorizer.predict(text);
        latencies_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let best_is_right = prediction.ranked.first().is_some_and(|(l, _)| l == label);
        judged.push((prediction.confidence, label == OUT_OF_SCOPE, best_is_right));
        let predicted = prediction.label.unwrap_or_else(|| OUT_OF_SCOPE.to_string());
        pairs.push((label.as_str(), predicted));
    }
    latencies_ms.sort_by(f64::total_cmp);
    let in_scope: Vec<_> = pairs.iter().filter(|(l, _)| *l != OUT_OF_SCOPE).collect();
    let out_of_scope: Vec<_> = pairs.iter().filter(|(l, _)| *l == OUT_OF_SCOPE).collect();
    let share = |hits: usize, of: usize| {
        if of == 0 {
            0.0
        } else {
            hits as f64 / of as f64
        }
    };
    Figures {
        in_scope_accuracy: share(
            in_scope.iter().filter(|(l, p)| *l == p.as_str()).count(),
            in_scope.len(),
        ),
        out_of_scope_recall: share(
            out_of_scope
                .iter()
                .filter(|(_, p)| p == OUT_OF_SCOPE)
                .count(),
            out_of_scope.len(),
        ),
        macro_f1: macro_f1(&pairs),
        latencies_ms,
        accuracy_without_threshold: share(
            judged
                .iter()
                .filter(|(_, oos, right)| !oos && *right)
                .count(),
            in_scope.len(),
        ),
        curve: operating_curve(&judged, &[0.25, 0.5, 0.75]),
    }
}

/// See `Figures::curve`.
fn operating_curve(judged: &[(f64, bool, bool)], recalls: &[f64]) -> Vec<(f64, f64)> {
    let out_of_scope = judged.iter().filter(|j| j.1).count();
    let in_scope = judged.len() - out_of_scope;
    if out_of_scope == 0 || in_scope == 0 {
        return Vec::new();
    }
    let mut sorted = judged.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut right_kept = judged.iter().filter(|j| !j.1 && j.2).count();
    let mut rejected_out_of_scope = 0;
    let mut curve = Vec::new();
    let mut wanted = recalls.iter().copied().peekable();
    // Raise the threshold past one row at a time, lowest confidence first.
    for (_, is_out_of_scope, right) in sorted {
        if is_out_of_scope {
            rejected_out_of_scope += 1;
        } else if right {
            right_kept -= 1;
        }
        while let Some(&recall) = wanted.peek() {
            if rejected_out_of_scope as f64 / out_of_scope as f64 >= recall {
                curve.push((recall, right_kept as f64 / in_scope as f64));
                wanted.next();
            } else {
                break;
            }
        }
    }
    curve
}

/// Mean F1 over every label that is true or predicted somewhere (out of scope included as
/// one more class), so a label never predicted counts as 0 rather than being skipped.
fn macro_f1(pairs: &[(&str, String)]) -> f64 {
    #[derive(Default)]
    struct Counts {
        true_positive: usize,
        false_positive: usize,
        false_negative: usize,
    }
    let labels: BTreeSet<&str> = pairs.iter().flat_map(|(l, p)| [*l, p.as_str()]).collect();
    let mut counts: BTreeMap<&str, Counts> =
        labels.iter().map(|l| (*l, Counts::default())).collect();
    for (label, predicted) in pairs {
        if *label == predicted.as_str() {
            counts.entry(label).or_default().true_positive += 1;
        } else {
            counts.entry(label).or_default().false_negative += 1;
            counts.entry(predicted.as_str()).or_default().false_positive += 1;
        }
    }
    if counts.is_empty() {
        return 0.0;
    }
    let total: f64 = counts
        .values()
        .map(|c| {
            let denominator = 2 * c.true_positive + c.false_positive + c.false_negative;
            if denominator == 0 {
                0.0
            } else {
                2.0 * c.true_positive as f64 / denominator as f64
            }
        })
        .sum();
    total / counts.len() as f64
}

fn report(
    name: &str,
    categorizer: &Categorizer,
    trained: usize,
    training: Duration,
    test: &[(String, String)],
) -> serde_json::Value {
    let figures = measure(categorizer, test);
    let pct = |p: f64| crate::stats::percentile(&figures.latencies_ms, p);
    let in_scope = test.iter().filter(|(_, l)| l != OUT_OF_SCOPE).count();
    println!(
        "{name}: trained on {trained} rows ({} categories) in {:.1} s; confidence threshold {:.3}",
        categorizer.labels().len(),
        training.as_secs_f64(),
        categorizer.threshold()
    );
    println!(
        "{name}: tested {} rows ({in_scope} in scope, {} out of scope)",
        test.len(),
        test.len() - in_scope
    );
    println!(
        "{name}: in-scope accuracy {:.2}%   oos recall {:.2}%   macro-F1 {:.4}",
        figures.in_scope_accuracy * 100.0,
        figures.out_of_scope_recall * 100.0,
        figures.macro_f1
    );
    println!(
        "{name}: without a threshold (best category always given) in-scope accuracy {:.2}%",
        figures.accuracy_without_threshold * 100.0
    );
    for (recall, accuracy) in &figures.curve {
        println!(
            "{name}: for reference, a threshold chosen on the test rows for {:.0}% oos recall would give {:.2}% in-scope accuracy",
            recall * 100.0,
            accuracy * 100.0
        );
    }
    println!(
        "{name}: latency per case p50 {:.3} ms   p99 {:.3} ms   max {:.3} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    json!({
        "bench": "categorize", "threshold_from": name, "trained": trained, "tested": test.len(),
        "categories": categorizer.labels().len(), "threshold": categorizer.threshold(),
        "training_s": training.as_secs_f64(),
        "in_scope_accuracy": figures.in_scope_accuracy, "oos_recall": figures.out_of_scope_recall,
        "macro_f1": figures.macro_f1, "latency_p50_ms": pct(0.5), "latency_p99_ms": pct(0.99),
        "in_scope_accuracy_without_threshold": figures.accuracy_without_threshold,
    })
}

pub fn run(train: &Path, test: &Path, validation: Option<&Path>) -> anyhow::Result<()> {
    let train_rows = read_examples(train)?;
    let test_rows = read_examples(test)?;
    let options = TrainOptions {
        out_of_scope_label: OUT_OF_SCOPE.into(),
        ..TrainOptions::default()
    };
    let started = Instant::now();
    let categorizer = Categorizer::train(&train_rows, &options)?;
    let training = started.elapsed();
    let mut summaries = vec![report(
        "train only",
        &categorizer,
        train_rows.len(),
        training,
        &test_rows,
    )];
    drop(categorizer);
    if let Some(validation) = validation {
        let validation_rows = read_examples(validation)?;
        let started = Instant::now();
        let categorizer =
            Categorizer::train_with_validation(&train_rows, &validation_rows, &options)?;
        let training = started.elapsed();
        summaries.push(report(
            "train + validation threshold",
            &categorizer,
            train_rows.len(),
            training,
            &test_rows,
        ));
    }
    for summary in summaries {
        println!("{summary}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quoted_rows_in_any_column_order() {
        let csv = "label,text\ntranslate,\"how do i say, 'hello' in french\"\noos,what is the moon made of\n";
        let rows = read_examples_from(csv.as_bytes()).unwrap();
        assert_eq!(
            rows,
            [
                (
                    "how do i say, 'hello' in french".to_string(),
                    "translate".to_string()
                ),
                ("what is the moon made of".to_string(), "oos".to_string()),
            ]
        );
        assert!(read_examples_from("text\nhello\n".as_bytes()).is_err());
    }

    #[test]
    fn operating_curve_raises_the_threshold_until_each_recall() {
        // (confidence, out of scope, best category right)
        let judged = [
            (0.1, true, false),
            (0.2, false, true),
            (0.3, true, false),
            (0.8, false, true),
            (0.9, false, false),
        ];
        // 50%: only the 0.1 row goes; 100%: up to 0.3, taking one right answer with it.
        assert_eq!(
            operating_curve(&judged, &[0.5, 1.0]),
            [(0.5, 2.0 / 3.0), (1.0, 1.0 / 3.0)]
        );
    }

    #[test]
    fn macro_f1_counts_out_of_scope_as_a_class() {
        let pairs = [
            ("a", "a".to_string()),
            ("a", "oos".to_string()),
            ("oos", "oos".to_string()),
            ("b", "a".to_string()),
        ];
        // a: tp 1, fp 1, fn 1 -> 0.5; oos: tp 1, fp 1 -> 2/3; b: fn 1 -> 0.
        let expected = (0.5 + 2.0 / 3.0 + 0.0) / 3.0;
        assert!((macro_f1(&pairs) - expected).abs() < 1e-12);
    }
}
