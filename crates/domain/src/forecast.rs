//! Forecasting case arrivals per hour of the week, with known events.
//!
//! The model is a multiplicative seasonal decomposition with a linear weekly trend:
//!
//! `forecast(hour) = weekly_total(week) x day_share(weekday) x hour_share(hour of day)`
//!
//! - `weekly_total` is a least-squares line through the history's weekly totals (flat with
//!   fewer than three weeks, where a slope would be noise), never below zero;
//! - `day_share[d]` is the share of the history's arrivals that fell on weekday `d`, and
//!   `hour_share[h]` the share that fell in hour `h` of a day: the weekly and the daily season.
//!
//! Why not Holt-Winters with a 168-hour season: it needs one level per hour of the week, and a
//! support team's history (a few weeks, a handful of cases an hour) leaves each of those 168
//! cells with a few arrivals, so the forecast repeats last week's noise. Two profiles of 7 and
//! 24 shares are each estimated from every arrival, and the trend from the weekly totals. The
//! cost: every day is assumed to have the same hourly shape (a Saturday peak at 11:00 lands at
//! the weekday peak hour); the held-out error (MAPE) shows what that costs on real data.
//!
//! Known events (a release, a holiday, a partner's centre closing) scale the hours they cover
//! by a lift: learned from past events of the same kind as actual / baseline over their hours
//! when there are any, otherwise the lift the admin expects. Hours of past events are left out
//! of fitting the profiles (replaced by the same hour in the other weeks), so an event does not
//! bend the baseline it is measured against.
//!
//! Hours of the week are counted in UTC from Monday 00:00.

use crate::{Span, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const HOURS_PER_WEEK: usize = 168;

/// Arrivals per hour from `start` (a whole hour), oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct HourlySeries {
    pub start: Timestamp,
    pub counts: Vec<f64>,
}

impl HourlySeries {
    pub fn at(&self, index: usize) -> Timestamp {
        self.start.plus(Span::HOUR.times(index as i64))
    }
}

/// Monday 0 .. Sunday 6, and the hour of the day, in UTC.
pub fn weekday_and_hour(at: Timestamp) -> (usize, usize) {
    let hours = at.as_millis().div_euclid(Span::HOUR.as_millis());
    let days = hours.div_euclid(24);
    // 1970-01-01 was a Thursday (3 when Monday is 0).
    (
        ((days + 3).rem_euclid(7)) as usize,
        hours.rem_euclid(24) as usize,
    )
}

/// The start of the hour `at` falls in.
pub fn hour_start(at: Timestamp) -> Timestamp {
    Timestamp::from_millis(
        at.as_millis()
            .div_euclid(Span::HOUR.as_millis())
            .saturating_mul(Span::HOUR.as_millis()),
    )
}

/// A fitted model; see the module comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Where the history started, and how many whole weeks it held.
    pub start: Timestamp,
    pub weeks: usize,
    /// Weekly total at week index 0 (the history's first week) and its change per week.
    pub intercept: f64,
    pub slope: f64,
    pub day_share: [f64; 7],
    pub hour_share: [f64; 24],
}

impl Model {
    /// The baseline (no events) for the hour starting at `at`.
    pub fn predict(&self, at: Timestamp) -> f64 {
        let week = at
            .since(self.start)
            .as_millis()
            .div_euclid(Span::DAY.times(7).as_millis());
        let total = (self.intercept + self.slope * week as f64).max(0.0);
        let (day, hour) = weekday_and_hour(at);
        total * self.day_share[day] * self.hour_share[hour]
    }
}

/// Fits the model on the whole weeks of `series` (a trailing partial week is left out). `None`
/// without one whole week.
pub fn fit(series: &HourlySeries) -> Option<Model> {
    let weeks = series.counts.len() / HOURS_PER_WEEK;
    if weeks == 0 {
        return None;
    }
    let counts = &series.counts[..weeks * HOURS_PER_WEEK];
    let mut day_share = [0.0; 7];
    let mut hour_share = [0.0; 24];
    let mut totals = vec![0.0; weeks];
    for (i, count) in counts.iter().enumerate() {
        let (day, hour) = weekday_and_hour(series.at(i));
        day_share[day] += count;
        hour_share[hour] += count;
        totals[i / HOURS_PER_WEEK] += count;
    }
    let all: f64 = totals.iter().sum();
    if all > 0.0 {
        day_share.iter_mut().for_each(|s| *s /= all);
        hour_share.iter_mut().for_each(|s| *s /= all);
    }
    let (intercept, slope) = weekly_trend(&totals);
    Some(Model {
        start: series.start,
        weeks,
        intercept,
        slope,
        day_share,
        hour_share,
    })
}

/// Least-squares line through the weekly totals; flat (their mean) under three weeks.
fn weekly_trend(totals: &[f64]) -> (f64, f64) {
    let n = totals.len() as f64;
    let mean_y = totals.iter().sum::<f64>() / n;
    if totals.len() < 3 {
        return (mean_y, 0.0);
    }
    let mean_x = (n - 1.0) / 2.0;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, y) in totals.iter().enumerate() {
        let dx = x as f64 - mean_x;
        sxy += dx * (y - mean_y);
        sxx += dx * dx;
    }
    let slope = sxy / sxx;
    (mean_y - slope * mean_x, slope)
}

/// The kinds of known events; lifts are learned per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Release,
    Holiday,
    PartnerClosure,
    Other,
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [
        EventKind::Release,
        EventKind::Holiday,
        EventKind::PartnerClosure,
        EventKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Release => "release",
            EventKind::Holiday => "holiday",
            EventKind::PartnerClosure => "partner_closure",
            EventKind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            EventKind::Release => "release",
            EventKind::Holiday => "holiday",
            EventKind::PartnerClosure => "partner's centre closed",
            EventKind::Other => "other",
        }
    }
}

/// A known event: its hours `[starts, ends)` and the lift the admin expects (1.0 = none).
#[derive(Debug, Clone, PartialEq)]
pub struct KnownEvent {
    pub id: i64,
    pub kind: EventKind,
    pub starts: Timestamp,
    pub ends: Timestamp,
    pub expected_lift: f64,
}

impl KnownEvent {
    fn covers(&self, at: Timestamp) -> bool {
        at >= self.starts && at < self.ends
    }
}

/// Where a lift came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LiftSource {
    /// Measured on past events of the same kind.
    Learned,
    /// As the admin entered it: no past event of the kind in the history.
    Expected,
}

/// The lift applied for one future event.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedLift {
    pub event: i64,
    pub lift: f64,
    pub source: LiftSource,
    /// How many past events it was learned from.
    pub learned_from: usize,
}

/// A forecast: the baseline and the forecast with events, per hour from `start`.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub start: Timestamp,
    pub baseline: Vec<f64>,
    pub forecast: Vec<f64>,
    /// Which event (by id) touched each hour, if any.
    pub event: Vec<Option<i64>>,
    pub lifts: Vec<AppliedLift>,
}

/// Replaces the hours covered by events with the mean of the same hour of the week in the
/// weeks no event touched (left as is when every week had one).
fn without_events(series: &HourlySeries, events: &[KnownEvent]) -> HourlySeries {
    let covered: Vec<bool> = (0..series.counts.len())
        .map(|i| events.iter().any(|e| e.covers(series.at(i))))
        .collect();
    let mut counts = series.counts.clone();
    for i in 0..counts.len() {
        if !covered[i] {
            continue;
        }
        let same_hour: Vec<f64> = (i % HOURS_PER_WEEK..series.counts.len())
            .step_by(HOURS_PER_WEEK)
            .filter(|j| !covered[*j])
            .map(|j| series.counts[j])
            .collect();
        if !same_hour.is_empty() {
            counts[i] = same_hour.iter().sum::<f64>() / same_hour.len() as f64;
        }
    }
    HourlySeries {
        start: series.start,
        counts,
    }
}

/// Lift of one past event: its actual arrivals over the model's baseline for its hours inside
/// the history; `None` when the baseline there is zero or the event is outside the history.
pub fn measured_lift(series: &HourlySeries, model: &Model, event: &KnownEvent) -> Option<f64> {
    let (mut actual, mut baseline) = (0.0, 0.0);
    for (i, count) in series.counts.iter().enumerate() {
        let at = series.at(i);
        if event.covers(at) {
            actual += count;
            baseline += model.predict(at);
        }
    }
    (baseline > 0.0).then(|| actual / baseline)
}

/// Fits on `history` (with past events' hours set aside) and forecasts `hours` hours from
/// `start`, applying the events that cover them. `None` without a whole week of history.
pub fn forecast(
    history: &HourlySeries,
    events: &[KnownEvent],
    start: Timestamp,
    hours: usize,
) -> Option<Forecast> {
    let history_end = history.at(history.counts.len());
    let past: Vec<&KnownEvent> = events.iter().filter(|e| e.starts < history_end).collect();
    let past_owned: Vec<KnownEvent> = past.iter().map(|e| (*e).clone()).collect();
    let model = fit(&without_events(history, &past_owned))?;
    let future: Vec<&KnownEvent> = events
        .iter()
        .filter(|e| e.ends > start && e.starts < start.plus(Span::HOUR.times(hours as i64)))
        .collect();
    let lifts: Vec<AppliedLift> = future
        .iter()
        .map(|e| {
            let measured: Vec<f64> = past
                .iter()
                .filter(|p| p.kind == e.kind && p.id != e.id)
                .filter_map(|p| measured_lift(history, &model, p))
                .collect();
            if measured.is_empty() {
                AppliedLift {
                    event: e.id,
                    lift: e.expected_lift,
                    source: LiftSource::Expected,
                    learned_from: 0,
                }
            } else {
                AppliedLift {
                    event: e.id,
                    lift: measured.iter().sum::<f64>() / measured.len() as f64,
                    source: LiftSource::Learned,
                    learned_from: measured.len(),
                }
            }
        })
        .collect();
    let mut baseline = Vec::with_capacity(hours);
    let mut forecast = Vec::with_capacity(hours);
    let mut touched = Vec::with_capacity(hours);
    for i in 0..hours {
        let at = start.plus(Span::HOUR.times(i as i64));
        let base = model.predict(at);
        // Overlapping events multiply: a release on a holiday is both.
        let mut value = base;
        let mut which = None;
        for (e, lift) in future.iter().zip(&lifts) {
            if e.covers(at) {
                value *= lift.lift;
                which = Some(e.id);
            }
        }
        baseline.push(base);
        forecast.push(value);
        touched.push(which);
    }
    Some(Forecast {
        start,
        baseline,
        forecast,
        event: touched,
        lifts,
    })
}

/// Mean absolute percentage error over the hours with arrivals (an hour with none has no
/// percentage error); `None` when no hour had any. Also gives how many hours it counted.
pub fn mape(actual: &[f64], forecast: &[f64]) -> Option<(f64, usize)> {
    let errors: Vec<f64> = actual
        .iter()
        .zip(forecast)
        .filter(|(a, _)| **a > 0.0)
        .map(|(a, f)| (a - f).abs() / a)
        .collect();
    (!errors.is_empty()).then(|| {
        (
            errors.iter().sum::<f64>() / errors.len() as f64,
            errors.len(),
        )
    })
}

/// The last `holdout_weeks` whole weeks of `history`, forecast from the weeks before them.
#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    pub start: Timestamp,
    pub actual: Vec<f64>,
    pub forecast: Vec<f64>,
    pub mape: Option<f64>,
    pub hours_counted: usize,
}

/// Holds out the last `holdout_weeks` weeks, fits on the rest (at least one week) and compares.
pub fn backtest(
    history: &HourlySeries,
    events: &[KnownEvent],
    holdout_weeks: usize,
) -> Option<Backtest> {
    let weeks = history.counts.len() / HOURS_PER_WEEK;
    if holdout_weeks == 0 || weeks <= holdout_weeks {
        return None;
    }
    let fit_hours = (weeks - holdout_weeks) * HOURS_PER_WEEK;
    let train = HourlySeries {
        start: history.start,
        counts: history.counts[..fit_hours].to_vec(),
    };
    let start = history.at(fit_hours);
    let hours = holdout_weeks * HOURS_PER_WEEK;
    let predicted = forecast(&train, events, start, hours)?;
    let actual = history.counts[fit_hours..fit_hours + hours].to_vec();
    let (mape, hours_counted) = match mape(&actual, &predicted.forecast) {
        Some((m, n)) => (Some(m), n),
        None => (None, 0),
    };
    Some(Backtest {
        start,
        actual,
        forecast: predicted.forecast,
        mape,
        hours_counted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Monday 2026-01-05 00:00 UTC.
    fn monday() -> Timestamp {
        Timestamp::parse("2026-01-05T00:00:00Z").unwrap()
    }

    const DAY: [f64; 7] = [0.2, 0.2, 0.2, 0.2, 0.1, 0.05, 0.05];

    fn hour_profile() -> [f64; 24] {
        // Office hours 9-17 carry 90%, the other 16 hours share 10%.
        let mut h = [0.1 / 16.0; 24];
        h[9..17].iter_mut().for_each(|x| *x = 0.9 / 8.0);
        h
    }

    /// Weekly totals as given, spread exactly by the day and hour profiles.
    fn seasonal(totals: &[f64]) -> HourlySeries {
        let hours = hour_profile();
        let start = monday();
        let mut counts = Vec::new();
        for total in totals {
            for i in 0..HOURS_PER_WEEK {
                counts.push(total * DAY[i / 24] * hours[i % 24]);
            }
        }
        HourlySeries { start, counts }
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} is not {b}");
    }

    #[test]
    fn weekdays_and_hours_in_utc() {
        assert_eq!(weekday_and_hour(monday()), (0, 0));
        let sunday_late = Timestamp::parse("2026-01-11T23:30:00Z").unwrap();
        assert_eq!(weekday_and_hour(sunday_late), (6, 23));
        assert_eq!(
            hour_start(sunday_late),
            Timestamp::parse("2026-01-11T23:00:00Z").unwrap()
        );
    }

    #[test]
    fn a_seasonal_series_with_a_trend_is_forecast_exactly() {
        // 1000, 1100, 1200, 1300 a week: the line gives 1400 and 1500 for the next two.
        let history = seasonal(&[1000.0, 1100.0, 1200.0, 1300.0]);
        let model = fit(&history).unwrap();
        close(model.intercept, 1000.0);
        close(model.slope, 100.0);
        for (d, share) in DAY.iter().enumerate() {
            close(model.day_share[d], *share);
        }
        close(model.hour_share[10], 0.9 / 8.0);
        let start = history.at(history.counts.len());
        let f = forecast(&history, &[], start, 2 * HOURS_PER_WEEK).unwrap();
        // Tuesday 10:00 of the next week: 1400 x 0.2 x 0.1125 = 31.5.
        close(f.forecast[24 + 10], 31.5);
        // Sunday 03:00 of the week after: 1500 x 0.05 x (0.1/16) = 0.46875.
        close(f.forecast[HOURS_PER_WEEK + 6 * 24 + 3], 0.46875);
        close(f.forecast[..HOURS_PER_WEEK].iter().sum::<f64>(), 1400.0);
    }

    #[test]
    fn two_weeks_give_no_trend() {
        let model = fit(&seasonal(&[100.0, 200.0])).unwrap();
        close(model.intercept, 150.0);
        close(model.slope, 0.0);
        assert!(fit(&HourlySeries {
            start: monday(),
            counts: vec![1.0; 100]
        })
        .is_none());
    }

    #[test]
    fn mape_counts_hours_with_arrivals() {
        // |10-12|/10 = 0.2, |20-15|/20 = 0.25; the empty hour is left out.
        let (m, n) = mape(&[10.0, 20.0, 0.0], &[12.0, 15.0, 3.0]).unwrap();
        close(m, 0.225);
        assert_eq!(n, 2);
        assert!(mape(&[0.0], &[1.0]).is_none());
    }

    #[test]
    fn holding_out_the_last_weeks_of_a_clean_series_gives_no_error() {
        let history = seasonal(&[1000.0, 1100.0, 1200.0, 1300.0, 1400.0]);
        let b = backtest(&history, &[], 1).unwrap();
        close(b.mape.unwrap(), 0.0);
        assert_eq!(b.hours_counted, HOURS_PER_WEEK);
        assert_eq!(b.start, history.at(4 * HOURS_PER_WEEK));
        assert!(backtest(&history, &[], 5).is_none());
    }

    #[test]
    fn a_past_release_teaches_the_lift_of_the_next() {
        // Flat 1000 a week for four weeks; a release doubled Wednesday of week 2.
        let mut history = seasonal(&[1000.0; 4]);
        let wednesday = HOURS_PER_WEEK + 2 * 24;
        for count in &mut history.counts[wednesday..wednesday + 24] {
            *count *= 2.0;
        }
        let past = KnownEvent {
            id: 1,
            kind: EventKind::Release,
            starts: history.at(wednesday),
            ends: history.at(wednesday + 24),
            expected_lift: 1.5,
        };
        let start = history.at(history.counts.len());
        let next = KnownEvent {
            id: 2,
            kind: EventKind::Release,
            starts: start.plus(Span::DAY),
            ends: start.plus(Span::DAY.times(2)),
            expected_lift: 1.2,
        };
        let holiday = KnownEvent {
            id: 3,
            kind: EventKind::Holiday,
            starts: start.plus(Span::DAY.times(3)),
            ends: start.plus(Span::DAY.times(4)),
            expected_lift: 0.25,
        };
        let f = forecast(&history, &[past, next, holiday], start, HOURS_PER_WEEK).unwrap();
        // The release week did not raise the baseline: 1000 x 0.2 x 0.1125 = 22.5 on Tuesday 10:00.
        close(f.baseline[24 + 10], 22.5);
        close(f.forecast[24 + 10], 45.0);
        assert_eq!(f.event[24 + 10], Some(2));
        assert_eq!(f.lifts[0].source, LiftSource::Learned);
        assert_eq!(f.lifts[0].learned_from, 1);
        close(f.lifts[0].lift, 2.0);
        // No past holiday: the expected lift is used. Thursday (day 3) 10:00: 22.5 x 0.25.
        assert_eq!(f.lifts[1].source, LiftSource::Expected);
        close(f.forecast[3 * 24 + 10], 22.5 * 0.25);
        // Untouched hours are the baseline.
        close(f.forecast[10], f.baseline[10]);
        assert_eq!(f.event[10], None);
    }
}
