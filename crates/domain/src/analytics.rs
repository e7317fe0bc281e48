//! The arithmetic of the analytics dashboards: time buckets, quantiles (median, p90),
//! shares, growth and trend, backlog age bands and the ranking of top drivers. Pure
//! functions; the store counts, these turn counts and durations into figures.

use crate::{OrgId, Span, Timestamp};

/// What a dashboard groups cases by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    Category,
    Product,
    Partner,
    Channel,
    Organization,
    Tier,
    Queue,
}

/// Which cases a dashboard counts, besides its period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseFilter {
    /// The categories (a category and everything under it, as the service expands it).
    pub categories: Vec<i64>,
    pub product: Option<String>,
    pub partner: Option<OrgId>,
    pub organization: Option<OrgId>,
    pub channel: Option<String>,
    pub tier: Option<i64>,
    pub queue: Option<i64>,
}

/// What the times dashboard groups the cases of a period by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimesGroup {
    Tier,
    Queue,
    Partner,
    /// `tiered` or `swarm`, from the case's queue.
    SupportModel,
}

/// The width of one point on a chart over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Day,
    /// Monday 00:00 UTC to the next Monday.
    Week,
}

impl Bucket {
    pub fn parse(text: &str) -> Result<Bucket, crate::ParseError> {
        match text {
            "day" => Ok(Bucket::Day),
            "week" => Ok(Bucket::Week),
            other => Err(crate::ParseError(format!(
                "choose day or week, not {other:?}"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
        }
    }

    pub fn span(self) -> Span {
        match self {
            Bucket::Day => Span::DAY,
            Bucket::Week => Span::DAY.times(7),
        }
    }

    /// Where the buckets are counted from: 1970-01-05 was a Monday, so weeks start on
    /// Mondays; days start at midnight UTC either way.
    pub fn origin(self) -> i64 {
        match self {
            Bucket::Day => 0,
            Bucket::Week => 4 * Span::DAY.as_millis(),
        }
    }

    /// The start of the bucket holding `at`.
    pub fn start(self, at: Timestamp) -> Timestamp {
        let width = self.span().as_millis();
        let from_origin = at.as_millis() - self.origin();
        Timestamp::from_millis(from_origin.div_euclid(width) * width + self.origin())
    }

    /// The starts of every bucket that overlaps `[from, to)`, oldest first.
    pub fn starts(self, from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
        let mut out = Vec::new();
        let mut at = self.start(from);
        while at < to {
            out.push(at);
            at = at.plus(self.span());
        }
        out
    }

    /// The bucket a period of this length is best drawn in: days up to about three months,
    /// weeks beyond (a chart of hundreds of bars says nothing more).
    pub fn for_period(from: Timestamp, to: Timestamp) -> Bucket {
        if to.since(from) <= Span::DAY.times(92) {
            Bucket::Day
        } else {
            Bucket::Week
        }
    }
}

/// The `q`-quantile (0 to 1) of sorted values by linear interpolation between closest ranks
/// (the common "type 7" definition: the median of 1, 2, 3, 4 is 2.5). `None` when empty.
pub fn quantile(sorted: &[i64], q: f64) -> Option<f64> {
    let (first, last) = (sorted.first()?, sorted.last()?);
    if sorted.len() == 1 {
        return Some(*first as f64);
    }
    let q = q.clamp(0.0, 1.0);
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    if below == above {
        return Some(sorted[below] as f64);
    }
    let fraction = position - below as f64;
    let value = sorted[below] as f64 + (sorted[above] - sorted[below]) as f64 * fraction;
    debug_assert!(value >= *first as f64 && value <= *last as f64);
    Some(value)
}

/// The 0-based ranks the `percent`-th percentile of `n` sorted values reads under the type-7
/// definition of [`quantile`], and how far between them it lies (in hundredths). Integer
/// arithmetic, so a database can pick the same ranks: `below = percent * (n - 1) / 100`,
/// `above` rounds up. `None` when there are no values.
pub fn quantile_ranks(n: u64, percent: u64) -> Option<(u64, u64, u64)> {
    let position = percent.min(100) * n.checked_sub(1)?;
    Some((position / 100, position.div_ceil(100), position % 100))
}

/// The percentile from the values at the ranks [`quantile_ranks`] named.
pub fn quantile_between(below: i64, above: i64, hundredths: u64) -> f64 {
    below as f64 + (above - below) as f64 * hundredths as f64 / 100.0
}

/// Median and p90 of `count` durations from the values at the ranks [`quantile_ranks`]
/// names for 50 and 90 (rank to value), as a database that sorted them hands them over.
/// A missing rank leaves that figure out rather than guess it.
pub fn durations_from_ranks(count: u64, values: &std::collections::HashMap<u64, i64>) -> Durations {
    let at = |percent| {
        let (below, above, hundredths) = quantile_ranks(count, percent)?;
        Some(
            quantile_between(*values.get(&below)?, *values.get(&above)?, hundredths).round() as i64,
        )
    };
    Durations {
        count: count as usize,
        median_ms: at(50),
        p90_ms: at(90),
    }
}

/// Median and p90 of unsorted durations, the same figures [`durations_from_ranks`] gives for
/// the ranks a database picks after sorting them: only those ranks are selected
/// (`select_nth_unstable`, linear), not the whole slice sorted. The slice is reordered.
pub fn durations_by_rank(values: &mut [i64]) -> Durations {
    let count = values.len() as u64;
    let mut ranks: Vec<u64> = [50, 90]
        .iter()
        .filter_map(|percent| quantile_ranks(count, *percent))
        .flat_map(|(below, above, _)| [below, above])
        .collect();
    ranks.sort_unstable();
    ranks.dedup();
    let mut picked = std::collections::HashMap::new();
    // Each selection leaves everything after the chosen rank to its right, so the next
    // (larger) rank is looked for there only.
    let mut done = 0usize;
    for rank in ranks {
        let rank = rank as usize;
        let rest = &mut values[done..];
        let (_, value, _) = rest.select_nth_unstable(rank - done);
        picked.insert(rank as u64, *value);
        done = rank + 1;
    }
    durations_from_ranks(count, &picked)
}

/// What an audit-trail event means for the times dashboard: a hand-off (an escalation, a
/// queue move, a reassignment; a first assignment is not one) or a reopening (a status
/// change away from solved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryMark {
    Handoff,
    Reopening,
}

/// `from` is the event's former value as text (`None` when it had none).
pub fn history_mark(kind: &str, from: Option<&str>) -> Option<HistoryMark> {
    match kind {
        "escalated" | "queue_changed" => Some(HistoryMark::Handoff),
        "assignee_changed" if from.is_some() => Some(HistoryMark::Handoff),
        "status_changed" if from == Some("solved") => Some(HistoryMark::Reopening),
        _ => None,
    }
}

/// Median and 90th percentile of durations, in milliseconds (rounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Durations {
    pub count: usize,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

pub fn durations(mut values: Vec<i64>) -> Durations {
    values.sort_unstable();
    Durations {
        count: values.len(),
        median_ms: quantile(&values, 0.5).map(|v| v.round() as i64),
        p90_ms: quantile(&values, 0.9).map(|v| v.round() as i64),
    }
}

/// `part / whole` in basis points (1 = 0.01%), rounded; `None` when `whole` is 0.
pub fn share_bp(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| ((part as f64 / whole as f64) * 10_000.0).round() as i64)
}

/// Growth from one period to the next in basis points (+5000 = half as many again);
/// `None` when the earlier period had none (any growth from zero is unbounded).
pub fn growth_bp(previous: i64, current: i64) -> Option<i64> {
    share_bp(current - previous, previous)
}

/// The least-squares slope of equally spaced counts: how many more per bucket, on average,
/// each bucket than the one before. 0 for fewer than two points.
pub fn trend(counts: &[i64]) -> f64 {
    let n = counts.len();
    if n < 2 {
        return 0.0;
    }
    let mean_x = (n - 1) as f64 / 2.0;
    let mean_y = counts.iter().sum::<i64>() as f64 / n as f64;
    let (mut covariance, mut variance) = (0.0, 0.0);
    for (x, y) in counts.iter().enumerate() {
        let dx = x as f64 - mean_x;
        covariance += dx * (*y as f64 - mean_y);
        variance += dx * dx;
    }
    covariance / variance
}

/// Backlog age bands: upper bounds in days, the last open-ended.
pub const AGE_BANDS: [(&str, i64); 5] = [
    ("under 1 day", 1),
    ("1 to 3 days", 3),
    ("3 to 7 days", 7),
    ("7 to 30 days", 30),
    ("over 30 days", i64::MAX),
];

/// The band of a case open for `age`.
pub fn age_band(age: Span) -> usize {
    let days = age.as_millis() as f64 / Span::DAY.as_millis() as f64;
    AGE_BANDS
        .iter()
        .position(|(_, upper)| days < *upper as f64)
        .unwrap_or(AGE_BANDS.len() - 1)
}

/// One category's counts for the drivers ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct DriverCounts<K> {
    pub key: K,
    /// Cases in the period asked about.
    pub current: i64,
    /// Cases in the period of the same length just before it.
    pub previous: i64,
    /// Cases per bucket across the current period, oldest first.
    pub series: Vec<i64>,
}

/// A category ranked as a driver of volume.
#[derive(Debug, Clone, PartialEq)]
pub struct Driver<K> {
    pub key: K,
    pub current: i64,
    pub previous: i64,
    /// `current - previous`.
    pub change: i64,
    pub growth_bp: Option<i64>,
    /// Share of all cases in the current period.
    pub share_bp: i64,
    /// Slope of the per-bucket counts in the current period (cases per bucket).
    pub trend: f64,
}

/// Ranks categories by how much they grew (most added cases first; then the larger, then
/// the faster trend), so a category that doubled from 2 to 4 does not outrank one that went
/// from 100 to 150. Categories with no case in either period are left out.
pub fn rank_drivers<K: Clone>(counts: &[DriverCounts<K>], total_current: i64) -> Vec<Driver<K>> {
    let mut drivers: Vec<Driver<K>> = counts
        .iter()
        .filter(|c| c.current > 0 || c.previous > 0)
        .map(|c| Driver {
            key: c.key.clone(),
            current: c.current,
            previous: c.previous,
            change: c.current - c.previous,
            growth_bp: growth_bp(c.previous, c.current),
            share_bp: share_bp(c.current, total_current).unwrap_or(0),
            trend: trend(&c.series),
        })
        .collect();
    drivers.sort_by(|a, b| {
        b.change
            .cmp(&a.change)
            .then(b.current.cmp(&a.current))
            .then(b.trend.total_cmp(&a.trend))
    });
    drivers
}

#[cfg(test)]
mod tests {
    #[test]
    fn quantile_ranks_pick_what_sorting_everything_would() {
        // 1..=11: the median is rank 5 exactly, p90 rank 9 exactly.
        assert_eq!(quantile_ranks(11, 50), Some((5, 5, 0)));
        assert_eq!(quantile_ranks(11, 90), Some((9, 9, 0)));
        // Four values: the median lies halfway between ranks 1 and 2; p90 at 2.7.
        assert_eq!(quantile_ranks(4, 50), Some((1, 2, 50)));
        assert_eq!(quantile_ranks(4, 90), Some((2, 3, 70)));
        assert_eq!(quantile_ranks(1, 90), Some((0, 0, 0)));
        assert_eq!(quantile_ranks(0, 50), None);
        for n in 1..60u64 {
            let values: Vec<i64> = (0..n as i64).map(|v| v * v * 37 % 1009).collect();
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let picked: std::collections::HashMap<u64, i64> = sorted
                .iter()
                .enumerate()
                .map(|(i, v)| (i as u64, *v))
                .collect();
            assert_eq!(
                durations_from_ranks(n, &picked),
                durations(values),
                "n = {n}"
            );
        }
    }

    #[test]
    fn selecting_the_ranks_gives_what_sorting_gives() {
        for n in 0..200i64 {
            // Repeats, negatives and a spread of magnitudes.
            let values: Vec<i64> = (0..n)
                .map(|v| (v * v * 7919 + 13) % 1_000_003 - 400_000)
                .collect();
            let mut shuffled = values.clone();
            shuffled.reverse();
            shuffled.rotate_left((n / 3) as usize);
            assert_eq!(
                durations_by_rank(&mut shuffled),
                durations(values.clone()),
                "n = {n}"
            );
            let mut same = vec![42; n as usize];
            assert_eq!(
                durations_by_rank(&mut same),
                durations(vec![42; n as usize])
            );
        }
    }

    #[test]
    fn a_missing_rank_leaves_the_figure_out() {
        let only_median: std::collections::HashMap<u64, i64> = [(1, 10), (2, 20)].into();
        let d = durations_from_ranks(4, &only_median);
        assert_eq!((d.count, d.median_ms, d.p90_ms), (4, Some(15), None));
    }

    #[test]
    fn hand_offs_and_reopenings_are_read_from_the_trail() {
        assert_eq!(history_mark("escalated", None), Some(HistoryMark::Handoff));
        assert_eq!(
            history_mark("queue_changed", Some("1")),
            Some(HistoryMark::Handoff)
        );
        assert_eq!(history_mark("assignee_changed", None), None);
        assert_eq!(
            history_mark("assignee_changed", Some("3")),
            Some(HistoryMark::Handoff)
        );
        assert_eq!(
            history_mark("status_changed", Some("solved")),
            Some(HistoryMark::Reopening)
        );
        assert_eq!(history_mark("status_changed", Some("open")), None);
        assert_eq!(history_mark("created", None), None);
    }

    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn quantiles_interpolate_between_ranks() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[7], 0.9), Some(7.0));
        assert_eq!(quantile(&[1, 2, 3, 4], 0.5), Some(2.5));
        // position 0.9 * 3 = 2.7: 3 + 0.7 * (4 - 3)
        assert!((quantile(&[1, 2, 3, 4], 0.9).unwrap() - 3.7).abs() < 1e-9);
        // ten values 10..=100: position 8.1 -> 90 + 0.1 * 10 = 91
        let tens: Vec<i64> = (1..=10).map(|v| v * 10).collect();
        assert!((quantile(&tens, 0.9).unwrap() - 91.0).abs() < 1e-9);
        assert_eq!(quantile(&tens, 0.5), Some(55.0));
    }

    #[test]
    fn durations_sort_first() {
        let d = durations(vec![40, 10, 30, 20]);
        assert_eq!(d.count, 4);
        assert_eq!(d.median_ms, Some(25));
        assert_eq!(d.p90_ms, Some(37)); // 30 + 0.7 * 10
        assert_eq!(durations(vec![]).median_ms, None);
    }

    #[test]
    fn shares_and_growth_in_basis_points() {
        assert_eq!(share_bp(1, 3), Some(3333));
        assert_eq!(share_bp(0, 0), None);
        assert_eq!(growth_bp(100, 150), Some(5000));
        assert_eq!(growth_bp(4, 2), Some(-5000));
        assert_eq!(growth_bp(0, 5), None);
    }

    #[test]
    fn trend_is_the_least_squares_slope() {
        assert_eq!(trend(&[5]), 0.0);
        assert!((trend(&[1, 2, 3]) - 1.0).abs() < 1e-9);
        // mean x 1.5, mean y 4; covariance 6, variance 5
        assert!((trend(&[2, 4, 4, 6]) - 1.2).abs() < 1e-9);
        assert!((trend(&[6, 4, 4, 2]) + 1.2).abs() < 1e-9);
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-12-02 is a Wednesday; its week starts Monday 2026-11-30.
        let wednesday = Timestamp::parse("2026-12-02T15:30:00Z").unwrap();
        assert_eq!(
            Bucket::Week.start(wednesday),
            Timestamp::parse("2026-11-30T00:00:00Z").unwrap()
        );
        assert_eq!(
            Bucket::Day.start(wednesday),
            Timestamp::parse("2026-12-02T00:00:00Z").unwrap()
        );
        let from = Timestamp::parse("2026-11-29T12:00:00Z").unwrap();
        let to = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        assert_eq!(Bucket::Day.starts(from, to).len(), 2);
        assert_eq!(Bucket::Week.starts(from, to).len(), 2);
        assert_eq!(
            Bucket::Day.start(Timestamp::from_millis(-1)).as_millis(),
            -DAY
        );
    }

    #[test]
    fn backlog_age_bands() {
        assert_eq!(age_band(Span::HOUR), 0);
        assert_eq!(age_band(Span::DAY), 1);
        assert_eq!(age_band(Span::DAY.times(6)), 2);
        assert_eq!(age_band(Span::DAY.times(7)), 3);
        assert_eq!(age_band(Span::DAY.times(400)), 4);
    }

    #[test]
    fn drivers_rank_by_added_cases() {
        let counts = vec![
            DriverCounts {
                key: "a",
                current: 4,
                previous: 2,
                series: vec![1, 1, 2],
            },
            DriverCounts {
                key: "b",
                current: 150,
                previous: 100,
                series: vec![40, 50, 60],
            },
            DriverCounts {
                key: "c",
                current: 46,
                previous: 60,
                series: vec![20, 16, 10],
            },
            DriverCounts {
                key: "d",
                current: 0,
                previous: 0,
                series: vec![0, 0, 0],
            },
        ];
        let ranked = rank_drivers(&counts, 200);
        let keys: Vec<_> = ranked.iter().map(|d| d.key).collect();
        assert_eq!(keys, ["b", "a", "c"]);
        assert_eq!(ranked[0].change, 50);
        assert_eq!(ranked[0].growth_bp, Some(5000));
        assert_eq!(ranked[0].share_bp, 7500);
        assert!((ranked[0].trend - 10.0).abs() < 1e-9);
        assert_eq!(ranked[1].growth_bp, Some(10000));
        assert_eq!(ranked[1].share_bp, 200);
        assert_eq!(ranked[2].change, -14);
    }
}
