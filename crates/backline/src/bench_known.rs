//! `backline bench known-issues`: how well the known-issue matcher finds a report's known
//! duplicate, on any project in the GitBugs CSV format.
//!
//! Every report is loaded as a solved case; each report of a duplicate pair is then used as a
//! new case, and the rank of its partner among the suggestions is recorded. The ranking is the
//! product's own (`SearchIndex::suggest`).

use anyhow::{bail, Context};
use backline_domain::query::DocType;
use backline_search::{IndexDoc, MatchInput, MatchWeights, SearchIndex, Visibility};
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

pub struct Report {
    pub id: i64,
    pub summary: String,
    pub description: String,
    pub created_at_ms: i64,
    pub versions: Vec<String>,
}

/// Reads a GitBugs reports file: columns `Summary`, `Issue id`, `Created` (`30/Sep/21 17:20`),
/// `Affects Version/s` and `Description`, in any order.
pub fn read_reports(path: &Path) -> anyhow::Result<Vec<Report>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .with_context(|| format!("{} has no column {name:?}", path.display()))
    };
    let (summary, id, created, versions, description) = (
        column("Summary")?,
        column("Issue id")?,
        column("Created")?,
        column("Affects Version/s")?,
        column("Description")?,
    );
    let mut reports = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{} record {}", path.display(), line + 1))?;
        let field = |i: usize| record.get(i).unwrap_or_default().to_string();
        let Ok(report_id) = field(id).trim().parse::<i64>() else {
            continue;
        };
        reports.push(Report {
            id: report_id,
            summary: field(summary),
            description: field(description),
            created_at_ms: parse_created(&field(created)).unwrap_or(0),
            versions: field(versions)
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect(),
        });
    }
    if reports.is_empty() {
        bail!("{} holds no reports", path.display());
    }
    Ok(reports)
}

/// `30/Sep/21 17:20` -> Unix milliseconds (UTC).
fn parse_created(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.trim().split(['/', ' ', ':']).collect();
    let [day, month, year, hour, minute] = parts.as_slice() else {
        return None;
    };
    let month = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|m| month.to_lowercase().starts_with(m))?;
    let year: i32 = year.parse().ok()?;
    let year = if year < 100 { 2000 + year } else { year };
    let date = time::Date::from_calendar_date(
        year,
        time::Month::try_from(month as u8 + 1).ok()?,
        day.parse().ok()?,
    )
    .ok()?;
    let at = date
        .with_hms(hour.parse().ok()?, minute.parse().ok()?, 0)
        .ok()?
        .assume_utc();
    Some(at.unix_timestamp() * 1000)
}

pub fn read_pairs(path: &Path) -> anyhow::Result<Vec<(i64, i64)>> {
    let mut reader = csv::ReaderBuilder::new()
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let mut pairs = Vec::new();
    for record in reader.records() {
        let record = record?;
        let (Some(a), Some(b)) = (record.get(0), record.get(1)) else {
            continue;
        };
        if let (Ok(a), Ok(b)) = (a.trim().parse(), b.trim().parse()) {
            pairs.push((a, b));
        }
    }
    Ok(pairs)
}

pub fn report_doc(r: &Report) -> IndexDoc {
    IndexDoc {
        kind: Some(DocType::Case),
        id: r.id,
        title: r.summary.clone(),
        body: r.description.clone(),
        created_at_ms: r.created_at_ms,
        public: true,
        solved: true,
        status: Some("solved".into()),
        versions: r.versions.clone(),
        ..Default::default()
    }
}

fn input_of(r: &Report) -> MatchInput {
    MatchInput {
        title: r.summary.clone(),
        body: r.description.clone(),
        created_at_ms: r.created_at_ms,
        versions: r.versions.clone(),
        exclude: Some((DocType::Case, r.id)),
        articles_only: false,
    }
}

struct Scores {
    queries: usize,
    ranks: Vec<Option<usize>>,
    times_ms: Vec<f64>,
}

impl Scores {
    fn json(&self, weights: &str) -> serde_json::Value {
        let n = self.queries.max(1) as f64;
        let within = |k: usize| {
            self.ranks
                .iter()
                .filter(|r| r.is_some_and(|r| r <= k))
                .count() as f64
                / n
        };
        let mrr = self
            .ranks
            .iter()
            .map(|r| r.map_or(0.0, |r| 1.0 / r as f64))
            .sum::<f64>()
            / n;
        let mut times = self.times_ms.clone();
        times.sort_by(f64::total_cmp);
        let pct = |p: f64| crate::stats::percentile(&times, p);
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        json!({
            "queries": self.queries, "weights": weights,
            "recall_at_1": round(within(1)), "recall_at_5": round(within(5)), "recall_at_10": round(within(10)),
            "mrr": round(mrr), "median_ms": round(pct(0.5)), "p99_ms": round(pct(0.99)),
        })
    }
}

fn evaluate(
    index: &SearchIndex,
    queries: &[(&Report, i64)],
    weights: &MatchWeights,
) -> anyhow::Result<Scores> {
    let visibility = Visibility::everything();
    let mut ranks = Vec::with_capacity(queries.len());
    let mut times_ms = Vec::with_capacity(queries.len());
    for (report, target) in queries {
        let started = Instant::now();
        let suggestions = index.suggest(&input_of(report), &visibility, weights, 100)?;
        times_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        ranks.push(
            suggestions
                .iter()
                .position(|s| s.id == *target)
                .map(|p| p + 1),
        );
    }
    Ok(Scores {
        queries: queries.len(),
        ranks,
        times_ms,
    })
}

pub fn run(
    reports_path: &Path,
    pairs_path: &Path,
    learn_folds: usize,
    weights: MatchWeights,
) -> anyhow::Result<()> {
    let reports = read_reports(reports_path)?;
    let pairs = read_pairs(pairs_path)?;
    let by_id: HashMap<i64, &Report> = reports.iter().map(|r| (r.id, r)).collect();
    let started = Instant::now();
    let index = SearchIndex::in_memory()?;
    index.upsert(&reports.iter().map(report_doc).collect::<Vec<_>>())?;
    index.commit(0)?;
    eprintln!(
        "indexed {} reports in {:.2} s",
        reports.len(),
        started.elapsed().as_secs_f64()
    );
    // Each report of a pair is a query whose answer is the other.
    let mut queries: Vec<(&Report, i64)> = Vec::new();
    for (a, b) in &pairs {
        if let (Some(ra), Some(rb)) = (by_id.get(a), by_id.get(b)) {
            queries.push((ra, rb.id));
            queries.push((rb, ra.id));
        }
    }
    if queries.is_empty() {
        bail!("no pair has both reports in {}", reports_path.display());
    }
    // Warm the index caches so the first queries do not skew the timings.
    for (report, _) in queries.iter().take(10) {
        index.suggest(&input_of(report), &Visibility::everything(), &weights, 10)?;
    }
    println!("{}", evaluate(&index, &queries, &weights)?.json("default"));

    if learn_folds >= 2 {
        // Learned weights are judged only on pairs they were not learned from.
        let mut combined = Scores {
            queries: 0,
            ranks: Vec::new(),
            times_ms: Vec::new(),
        };
        let pair_queries: Vec<&[(&Report, i64)]> = queries.chunks(2).collect();
        for fold in 0..learn_folds {
            let (mut train, mut test) = (Vec::new(), Vec::new());
            for (i, pair) in pair_queries.iter().enumerate() {
                if i % learn_folds == fold {
                    test.extend_from_slice(pair)
                } else {
                    train.extend_from_slice(pair)
                }
            }
            let examples: Vec<(MatchInput, (DocType, i64))> = train
                .iter()
                .map(|(r, t)| (input_of(r), (DocType::Case, *t)))
                .collect();
            let (learned, train_mrr) =
                index.learn(&examples, &Visibility::everything(), weights)?;
            let scores = evaluate(&index, &test, &learned)?;
            eprintln!("fold {fold}: learned on {} queries (mrr {train_mrr:.3}), tested on {}: {learned:?}", train.len(), test.len());
            combined.queries += scores.queries;
            combined.ranks.extend(scores.ranks);
            combined.times_ms.extend(scores.times_ms);
        }
        println!(
            "{}",
            combined.json(&format!("learned, {learn_folds}-fold cross-validated"))
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitbugs_dates_parse() {
        assert_eq!(parse_created("30/Sep/21 17:20"), Some(1_633_022_400_000));
        assert_eq!(parse_created("garbage"), None);
    }
}
