//! `backline bench known-issues`: how well the known-issue matcher finds a report's known
//! duplicate, on any project in the GitBugs CSV format, from a Jira tracker or a Bugzilla one
//! (see `read_reports` and `read_pairs` for the differences).
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
    /// 0 when the report has no readable `Created` (the matcher then leaves recency out).
    pub created_at_ms: i64,
    pub versions: Vec<String>,
}

/// A reports file as read, with what could not be read in it.
pub struct Reports {
    pub reports: Vec<Report>,
    /// Optional columns the file does not have (`Affects Version/s` in Bugzilla projects).
    pub missing_columns: Vec<&'static str>,
    /// Reports whose `Created` is empty or in no known form: record number (1 is the first
    /// after the header), issue id and the text.
    pub undated: Vec<(usize, i64, String)>,
}

/// Reads a GitBugs reports file, from a Jira tracker (Hadoop, Spark...: `Created` like
/// `30/Sep/21 17:20`, with `Affects Version/s`) or a Bugzilla tracker (Firefox, SeaMonkey...:
/// `Created` like `2020-01-02 17:14:21+00:00`, no versions). Columns in any order; `Summary`
/// and `Issue id` are required, `Created`, `Description` and `Affects Version/s` optional.
pub fn read_reports(path: &Path) -> anyhow::Result<Reports> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    read_reports_from(file).with_context(|| format!("reading {}", path.display()))
}

fn read_reports_from(input: impl std::io::Read) -> anyhow::Result<Reports> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader.headers()?.clone();
    let find = |name: &str| headers.iter().position(|h| h.trim() == name);
    let required = |name: &str| find(name).with_context(|| format!("no column {name:?}"));
    let (summary, id) = (required("Summary")?, required("Issue id")?);
    let mut missing_columns = Vec::new();
    let mut optional = |name: &'static str| {
        let found = find(name);
        if found.is_none() {
            missing_columns.push(name);
        }
        found
    };
    let (created, versions, description) = (
        optional("Created"),
        optional("Affects Version/s"),
        optional("Description"),
    );
    let mut reports = Vec::new();
    let mut undated = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("record {}", line + 1))?;
        let field = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .unwrap_or_default()
                .to_string()
        };
        let Ok(report_id) = field(Some(id)).trim().parse::<i64>() else {
            continue;
        };
        let created_text = field(created);
        let created_at_ms = match parse_created(&created_text) {
            Some(ms) => ms,
            None => {
                // Without the column every report is undated; that is said once, below.
                if created.is_some() {
                    undated.push((line + 1, report_id, created_text));
                }
                0
            }
        };
        reports.push(Report {
            id: report_id,
            summary: field(Some(summary)),
            description: field(description),
            created_at_ms,
            versions: field(versions)
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect(),
        });
    }
    if reports.is_empty() {
        bail!("no reports");
    }
    Ok(Reports {
        reports,
        missing_columns,
        undated,
    })
}

/// `Created` in either GitBugs form, as Unix milliseconds (UTC).
fn parse_created(text: &str) -> Option<i64> {
    let text = text.trim();
    parse_jira_date(text).or_else(|| parse_iso_date(text))
}

/// Jira's `30/Sep/21 17:20` (UTC; two-digit years are 20xx).
fn parse_jira_date(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.split(['/', ' ', ':']).collect();
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

/// Bugzilla's `2020-01-02 17:14:21+00:00`, and the ISO 8601 variants around it: `T` for the
/// space, fractions of a second, `Z`, `+hhmm` or no offset (taken as UTC).
fn parse_iso_date(text: &str) -> Option<i64> {
    let (date, rest) = text.split_once([' ', 'T'])?;
    let mut ymd = date.split('-');
    let (year, month, day) = (ymd.next()?, ymd.next()?, ymd.next()?);
    if ymd.next().is_some() || year.len() != 4 {
        return None;
    }
    let date = time::Date::from_calendar_date(
        year.parse().ok()?,
        time::Month::try_from(month.parse::<u8>().ok()?).ok()?,
        day.parse().ok()?,
    )
    .ok()?;
    let rest = rest.trim();
    // The clock ends where the offset starts.
    let (clock, offset) = match rest.find(['+', '-', 'Z', 'z']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let mut hms = clock.trim().split(':');
    let (hour, minute) = (hms.next()?.parse().ok()?, hms.next()?.parse().ok()?);
    let (second, millis) = match hms.next() {
        Some(s) => match s.split_once('.') {
            Some((whole, fraction)) => {
                let digits: String = fraction.chars().take(3).collect();
                let scale = 10_u32.pow(3 - digits.len() as u32);
                (whole.parse().ok()?, digits.parse::<u32>().ok()? * scale)
            }
            None => (s.parse().ok()?, 0),
        },
        None => (0, 0),
    };
    if hms.next().is_some() {
        return None;
    }
    let offset_seconds = match offset.trim() {
        "" | "Z" | "z" => 0,
        signed => {
            let (sign, digits) = signed.split_at(1);
            let digits = digits.replace(':', "");
            if digits.len() != 4 {
                return None;
            }
            let hours: i64 = digits[..2].parse().ok()?;
            let minutes: i64 = digits[2..].parse().ok()?;
            let seconds = hours * 3600 + minutes * 60;
            if sign == "-" {
                -seconds
            } else {
                seconds
            }
        }
    };
    let at = date.with_hms(hour, minute, second).ok()?.assume_utc();
    Some(at.unix_timestamp() * 1000 + i64::from(millis) - offset_seconds * 1000)
}

/// Reads duplicate pairs. Jira projects give one pair a row (`Issue id,Duplicate id`);
/// Bugzilla projects give a report and its whole duplicate group on one row
/// (`1616551,"1284028, 1648584, 1692784"`), which becomes one pair per member of the group,
/// each with the row's report. A first row that starts with no id is a header; anything else
/// that is not an id is an error, not a pair silently lost.
pub fn read_pairs(path: &Path) -> anyhow::Result<Vec<(i64, i64)>> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    read_pairs_from(file).with_context(|| format!("reading {}", path.display()))
}

fn read_pairs_from(input: impl std::io::Read) -> anyhow::Result<Vec<(i64, i64)>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut pairs = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("record {}", line + 1))?;
        let first = record.get(0).unwrap_or_default().trim();
        let a = match first.parse::<i64>() {
            Ok(a) => a,
            Err(_) if line == 0 => continue,
            Err(_) => bail!("record {}: {first:?} is not an issue id", line + 1),
        };
        for field in record.iter().skip(1) {
            let members = field
                .split([',', ';', ' ', '\t', '\n', '\r'])
                .map(|m| m.trim_matches(['[', ']', '"', '\'']))
                .filter(|m| !m.is_empty());
            for member in members {
                let b = member.parse::<i64>().with_context(|| {
                    format!("record {}: {member:?} is not an issue id", line + 1)
                })?;
                pairs.push((a, b));
            }
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
        among: backline_search::Among::ArticlesAndCases,
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
    let Reports {
        reports,
        missing_columns,
        undated,
    } = read_reports(reports_path)?;
    for column in &missing_columns {
        eprintln!(
            "{} has no {column:?} column{}",
            reports_path.display(),
            match *column {
                "Created" => ": recency is left out",
                "Affects Version/s" => ": shared versions are left out",
                _ => "",
            }
        );
    }
    if !undated.is_empty() {
        let examples: Vec<String> = undated
            .iter()
            .take(3)
            .map(|(record, id, text)| format!("record {record} (issue {id}): {text:?}"))
            .collect();
        eprintln!(
            "{} of {} reports have no readable Created date, so no recency: {}{}",
            undated.len(),
            reports.len(),
            examples.join(", "),
            if undated.len() > 3 { ", ..." } else { "" }
        );
    }
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
    fn gitbugs_dates_parse_in_both_forms() {
        assert_eq!(parse_created("30/Sep/21 17:20"), Some(1_633_022_400_000));
        // 2020-01-02T17:14:21Z
        assert_eq!(
            parse_created("2020-01-02 17:14:21+00:00"),
            Some(1_577_985_261_000)
        );
        assert_eq!(
            parse_created("2020-01-02T17:14:21Z"),
            Some(1_577_985_261_000)
        );
        assert_eq!(
            parse_created("2020-01-02 19:14:21.250+02:00"),
            Some(1_577_985_261_250)
        );
        assert_eq!(
            parse_created("2020-01-02 12:14:21-0500"),
            Some(1_577_985_261_000)
        );
        assert_eq!(parse_created("2020-01-02 17:14"), Some(1_577_985_240_000));
        for bad in [
            "garbage",
            "",
            "2020-13-02 17:14:21+00:00",
            "2020-01-02",
            "31/Feb/21 10:00",
        ] {
            assert_eq!(parse_created(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn jira_reports_keep_versions_and_dates() {
        let csv = "Summary,Issue id,Status,Priority,Resolution,Created,Resolved,Affects Version/s,Description\n\
                   Disk full on namenode,101,Resolved,Major,Fixed,30/Sep/21 17:20,01/Oct/21 09:00,\"2.9.2, 3.3.1\",\"The namenode\nstops\"\n\
                   Not a report,abc,Open,Minor,,30/Sep/21 17:20,,,\n";
        let read = read_reports_from(csv.as_bytes()).unwrap();
        assert!(read.missing_columns.is_empty());
        assert!(read.undated.is_empty());
        assert_eq!(read.reports.len(), 1);
        let r = &read.reports[0];
        assert_eq!((r.id, r.summary.as_str()), (101, "Disk full on namenode"));
        assert_eq!(r.description, "The namenode\nstops");
        assert_eq!(r.versions, vec!["2.9.2", "3.3.1"]);
        assert_eq!(r.created_at_ms, 1_633_022_400_000);
    }

    #[test]
    fn bugzilla_reports_need_no_versions_and_report_bad_dates() {
        let csv = "Summary,Issue id,Status,Priority,Resolution,Created,Resolved,Description\n\
                   Tab strip flickers,1606681,RESOLVED,--,FIXED,2020-01-02 17:14:21+00:00,2020-11-01 20:04:54+00:00,\"Port the fix\"\n\
                   Editor loses backgrounds,1606979,UNCONFIRMED,--,,yesterday,,Pages lose their background\n\
                   No date at all,1607002,NEW,P5,,,,\n";
        let read = read_reports_from(csv.as_bytes()).unwrap();
        assert_eq!(read.missing_columns, vec!["Affects Version/s"]);
        assert_eq!(read.reports.len(), 3);
        assert_eq!(read.reports[0].created_at_ms, 1_577_985_261_000);
        assert!(read.reports[0].versions.is_empty());
        assert_eq!(
            read.undated,
            vec![
                (2, 1606979, "yesterday".to_string()),
                (3, 1607002, String::new())
            ]
        );
    }

    #[test]
    fn only_summary_and_id_are_required() {
        let read = read_reports_from("Issue id,Summary\n7,Crash on start\n".as_bytes()).unwrap();
        assert_eq!(
            read.missing_columns,
            vec!["Created", "Affects Version/s", "Description"]
        );
        // Without the column, dates are missing as a whole (said once), not per report.
        assert!(read.undated.is_empty());
        assert_eq!(read.reports[0].created_at_ms, 0);
        let error = read_reports_from("Issue id,Title\n7,Crash\n".as_bytes())
            .err()
            .unwrap();
        assert!(error.to_string().contains("\"Summary\""), "{error}");
    }

    #[test]
    fn pairs_one_a_row_and_groups_on_one_row() {
        // Hadoop's own file has one group row among its pairs; it once cost two pairs.
        let jira = "Issue id,Duplicate id\n13478269,13478452\n13438913,\"13547000, 13396667\"\n";
        assert_eq!(
            read_pairs_from(jira.as_bytes()).unwrap(),
            vec![
                (13478269, 13478452),
                (13438913, 13547000),
                (13438913, 13396667)
            ]
        );
        let bugzilla = "Issue id,Duplicates\n\
                        1616551,\"1284028, 1648584, 1692784\"\n\
                        1600000,1600001\n\
                        1700000,\n";
        assert_eq!(
            read_pairs_from(bugzilla.as_bytes()).unwrap(),
            vec![
                (1616551, 1284028),
                (1616551, 1648584),
                (1616551, 1692784),
                (1600000, 1600001)
            ]
        );
        // No header is fine too; what is not an id after the first row is an error.
        assert_eq!(read_pairs_from("5,6\n".as_bytes()).unwrap(), vec![(5, 6)]);
        for (bad, word) in [("1,\"2, x\"\n", "x"), ("1,2\n\"3, 4\",5\n", "3, 4")] {
            let error = read_pairs_from(bad.as_bytes()).err().unwrap();
            assert!(
                format!("{error:#}").contains(&format!("{word:?} is not an issue id")),
                "{error:#}"
            );
        }
    }
}
