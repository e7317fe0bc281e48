//! Peak-demand planning: who may read and change it, how plan inputs and known events are
//! checked, and how the history from the store becomes a forecast and a staffing plan (the
//! domain computes: `forecast` and `staffing`).

use crate::error::{ApiError, ApiResult};
use backline_domain::forecast::{
    self, hour_start, Backtest, EventKind, Forecast, HourlySeries, KnownEvent, HOURS_PER_WEEK,
};
use backline_domain::staffing::{self, Staffing, StaffingInputs};
use backline_domain::{FieldErrors, Role, Span, Timestamp};
use backline_store::{StaffingEvent, StaffingEventInput, Store, StoreError, User};
use std::collections::BTreeMap;

/// The interval plans are made for: an hour, the forecast's unit.
pub const INTERVAL_SECS: f64 = 3600.0;
/// Used when no case in the history has a staff message and no override is given.
pub const DEFAULT_AHT_SECS: f64 = 15.0 * 60.0;
const MAX_NAME: usize = 80;
const MAX_EVENT_DAYS: i64 = 31;

fn staff_only(caller: &User) -> ApiResult<()> {
    if caller.role.is_staff() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "staffing plans are for vendor staff".into(),
        ))
    }
}

fn admin_only(caller: &User) -> ApiResult<()> {
    if caller.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only admins can enter known events".into(),
        ))
    }
}

/// What a plan is asked for; every field has a default a manager can change.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRequest {
    pub service_level_percent: f64,
    pub answer_within_seconds: f64,
    /// `None`: measured from the cases.
    pub aht_seconds: Option<f64>,
    pub shrinkage_percent: f64,
    pub max_occupancy_percent: Option<f64>,
    /// What-if: share of arrivals self-service will absorb.
    pub deflection_percent: f64,
    /// What-if: share of arrivals partners will handle without the vendor.
    pub partner_share_percent: f64,
    pub weeks: u32,
    pub history_weeks: u32,
}

impl Default for PlanRequest {
    fn default() -> Self {
        PlanRequest {
            service_level_percent: 80.0,
            answer_within_seconds: 20.0 * 60.0,
            aht_seconds: None,
            shrinkage_percent: 30.0,
            max_occupancy_percent: Some(85.0),
            deflection_percent: 0.0,
            partner_share_percent: 0.0,
            weeks: 1,
            history_weeks: 8,
        }
    }
}

impl PlanRequest {
    /// Names every field out of range, in words for people.
    pub fn check(&self) -> ApiResult<()> {
        let mut errors = FieldErrors::new();
        let mut range = |field: &str, value: f64, low: f64, high: f64, words: &str| {
            if !(value.is_finite() && value >= low && value <= high) {
                errors.add(field, format!("write {words}"));
            }
        };
        range(
            "service_level_percent",
            self.service_level_percent,
            1.0,
            99.9,
            "a percentage from 1 to 99.9",
        );
        range(
            "answer_within_seconds",
            self.answer_within_seconds,
            1.0,
            86_400.0,
            "a number of seconds from 1 to 86400 (a day)",
        );
        if let Some(aht) = self.aht_seconds {
            range(
                "aht_seconds",
                aht,
                1.0,
                86_400.0,
                "a number of seconds from 1 to 86400, or leave it empty to measure it",
            );
        }
        range(
            "shrinkage_percent",
            self.shrinkage_percent,
            0.0,
            90.0,
            "a percentage from 0 to 90",
        );
        if let Some(max) = self.max_occupancy_percent {
            range(
                "max_occupancy_percent",
                max,
                10.0,
                100.0,
                "a percentage from 10 to 100, or leave it empty for no cap",
            );
        }
        range(
            "deflection_percent",
            self.deflection_percent,
            0.0,
            95.0,
            "a percentage from 0 to 95",
        );
        range(
            "partner_share_percent",
            self.partner_share_percent,
            0.0,
            95.0,
            "a percentage from 0 to 95",
        );
        range("weeks", f64::from(self.weeks), 1.0, 4.0, "1 to 4 weeks");
        range(
            "history_weeks",
            f64::from(self.history_weeks),
            2.0,
            26.0,
            "2 to 26 weeks",
        );
        errors.into_result().map_err(ApiError::from)
    }
}

/// A forecast with what it was made from.
#[derive(Debug, Clone)]
pub struct ForecastResult {
    pub history: HourlySeries,
    pub forecast: Forecast,
    /// The last week of history forecast from the weeks before it.
    pub holdout: Option<Backtest>,
    pub events: Vec<StaffingEvent>,
}

fn known(events: &[StaffingEvent]) -> Vec<KnownEvent> {
    events
        .iter()
        .map(|e| KnownEvent {
            id: e.id,
            kind: e.kind,
            starts: e.starts,
            ends: e.ends,
            expected_lift: e.lift_percent as f64 / 100.0,
        })
        .collect()
}

async fn history(store: &Store, now: Timestamp, weeks: u32) -> ApiResult<HourlySeries> {
    let end = hour_start(now);
    let start = end.minus(Span::DAY.times(7 * i64::from(weeks)));
    let mut counts = vec![0.0; weeks as usize * HOURS_PER_WEEK];
    for (hour, n) in store.arrivals_per_hour(start, end).await? {
        let i = hour.since(start).as_millis() / Span::HOUR.as_millis();
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| counts.get_mut(i)) {
            *slot = n as f64;
        }
    }
    Ok(HourlySeries { start, counts })
}

/// Arrivals forecast for `weeks` weeks from the current hour, from `history_weeks` weeks of
/// cases, with the held-out error of the last week.
pub async fn forecast(
    store: &Store,
    caller: &User,
    now: Timestamp,
    history_weeks: u32,
    weeks: u32,
) -> ApiResult<ForecastResult> {
    staff_only(caller)?;
    let request = PlanRequest {
        history_weeks,
        weeks,
        ..PlanRequest::default()
    };
    request.check()?;
    let history = history(store, now, history_weeks).await?;
    let events = store.staffing_events().await?;
    let known = known(&events);
    let forecast = forecast::forecast(
        &history,
        &known,
        hour_start(now),
        weeks as usize * HOURS_PER_WEEK,
    )
    .ok_or_else(|| ApiError::Internal("a forecast needs a whole week of history".into()))?;
    let holdout = forecast::backtest(&history, &known, 1);
    Ok(ForecastResult {
        history,
        forecast,
        holdout,
        events,
    })
}

/// The handling time a plan uses, and whether it was measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HandlingTime {
    pub seconds: f64,
    /// Measured from the cases, with how many counted; `None` when nothing could be measured.
    pub measured: Option<(f64, usize)>,
    pub overridden: bool,
}

/// One interval of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanInterval {
    pub at: Timestamp,
    /// Forecast arrivals, and what is left for the vendor's agents after the what-ifs.
    pub arrivals: f64,
    pub handled: f64,
    pub staffing: Staffing,
    /// Agents to schedule without the what-ifs, for comparison.
    pub scheduled_without_what_ifs: u32,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub request: PlanRequest,
    pub handling: HandlingTime,
    pub forecast: ForecastResult,
    pub intervals: Vec<PlanInterval>,
    /// The busiest day of the horizon (UTC): its first hour and its intervals' range.
    pub peak_day: Timestamp,
    pub peak_range: std::ops::Range<usize>,
}

pub async fn measured_handling_time(
    store: &Store,
    history: &HourlySeries,
) -> ApiResult<Option<(f64, usize)>> {
    let from = history.start;
    let to = history.at(history.counts.len());
    let mut cases: BTreeMap<i64, (Timestamp, Vec<Timestamp>)> = BTreeMap::new();
    for m in store.staff_messages(from, to).await? {
        cases
            .entry(m.case_id.0)
            .or_insert_with(|| (m.opened_at, Vec::new()))
            .1
            .push(m.at);
    }
    let cases: Vec<_> = cases.into_values().collect();
    Ok(staffing::estimated_handling_time(&cases)
        .map(|(span, n)| (span.as_millis() as f64 / 1000.0, n)))
}

/// A staffing plan per hour for the request's horizon.
pub async fn plan(
    store: &Store,
    caller: &User,
    now: Timestamp,
    request: &PlanRequest,
) -> ApiResult<Plan> {
    staff_only(caller)?;
    request.check()?;
    let forecast = forecast(store, caller, now, request.history_weeks, request.weeks).await?;
    let measured = measured_handling_time(store, &forecast.history).await?;
    let handling = HandlingTime {
        seconds: request
            .aht_seconds
            .or(measured.map(|(s, _)| s))
            .unwrap_or(DEFAULT_AHT_SECS),
        measured,
        overridden: request.aht_seconds.is_some(),
    };
    let inputs = |arrivals: f64| StaffingInputs {
        arrivals,
        interval_secs: INTERVAL_SECS,
        aht_secs: handling.seconds,
        service_level: request.service_level_percent / 100.0,
        answer_within_secs: request.answer_within_seconds,
        max_occupancy: request.max_occupancy_percent.map(|m| m / 100.0),
        shrinkage: request.shrinkage_percent / 100.0,
    };
    let keep =
        (1.0 - request.deflection_percent / 100.0) * (1.0 - request.partner_share_percent / 100.0);
    let f = &forecast.forecast;
    let intervals: Vec<PlanInterval> = f
        .forecast
        .iter()
        .enumerate()
        .map(|(i, arrivals)| PlanInterval {
            at: f.start.plus(Span::HOUR.times(i as i64)),
            arrivals: *arrivals,
            handled: arrivals * keep,
            staffing: staffing::staff(&inputs(arrivals * keep)),
            scheduled_without_what_ifs: staffing::staff(&inputs(*arrivals)).scheduled,
        })
        .collect();
    // The busiest day: the one whose busiest hour needs the most agents (the hour's arrivals
    // break ties, then the earlier day).
    let busiest = intervals
        .iter()
        .enumerate()
        .max_by(|(i, a), (j, b)| {
            a.staffing
                .scheduled
                .cmp(&b.staffing.scheduled)
                .then(a.arrivals.total_cmp(&b.arrivals))
                // Equal hours: the earlier one counts as the larger, so it is the one kept.
                .then(j.cmp(i))
        })
        .map_or(0, |(i, _)| i);
    let day_start = intervals
        .get(busiest)
        .map_or(f.start, |p| Timestamp::start_of(p.at.date()));
    let first = intervals
        .iter()
        .position(|p| p.at >= day_start)
        .unwrap_or(0);
    let last = intervals
        .iter()
        .position(|p| p.at >= day_start.plus(Span::DAY))
        .unwrap_or(intervals.len());
    Ok(Plan {
        request: request.clone(),
        handling,
        forecast,
        intervals,
        peak_day: day_start,
        peak_range: first..last,
    })
}

pub async fn events(store: &Store, caller: &User) -> ApiResult<Vec<StaffingEvent>> {
    staff_only(caller)?;
    Ok(store.staffing_events().await?)
}

/// An event as submitted: times already read, kind as typed.
#[derive(Debug, Clone, Default)]
pub struct EventSubmission {
    pub name: String,
    pub kind: String,
    pub starts: Option<Timestamp>,
    pub ends: Option<Timestamp>,
    pub lift_percent: Option<i64>,
}

/// Checks and saves a new event (`id` None) or over `id`, only while it is at version
/// `expected` when given ([`ApiError::Stale`] otherwise).
pub async fn save_event(
    store: &Store,
    caller: &User,
    id: Option<i64>,
    submission: &EventSubmission,
    errors: FieldErrors,
    expected: Option<i64>,
) -> ApiResult<StaffingEvent> {
    admin_only(caller)?;
    let mut errors = errors;
    let name = submission.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        errors.add(
            "name",
            format!("write a name of 1 to {MAX_NAME} characters"),
        );
    }
    let kind = EventKind::parse(submission.kind.trim());
    if kind.is_none() {
        errors.add("kind", "choose release, holiday, partner_closure or other");
    }
    if submission.starts.is_none() && !errors.0.contains_key("starts_at") {
        errors.add("starts_at", "write when the event starts");
    }
    if submission.ends.is_none() && !errors.0.contains_key("ends_at") {
        errors.add("ends_at", "write when the event ends");
    }
    if let (Some(starts), Some(ends)) = (submission.starts, submission.ends) {
        if ends <= starts {
            errors.add("ends_at", "the end must come after the start");
        } else if ends.since(starts) > Span::DAY.times(MAX_EVENT_DAYS) {
            errors.add(
                "ends_at",
                format!("an event lasts at most {MAX_EVENT_DAYS} days; enter longer ones in parts"),
            );
        }
    }
    let lift = submission.lift_percent.unwrap_or(100);
    if !(0..=1000).contains(&lift) {
        errors.add(
            "lift_percent",
            "write the expected arrivals in percent of usual, from 0 to 1000 (100: no change)",
        );
    }
    errors.into_result()?;
    let (Some(kind), Some(starts), Some(ends)) = (kind, submission.starts, submission.ends) else {
        return Err(ApiError::Internal("checked above".into()));
    };
    let input = StaffingEventInput {
        name: name.to_string(),
        kind,
        starts,
        ends,
        lift_percent: lift,
    };
    let id = store
        .save_staffing_event(id, &input, caller.id, expected)
        .await
        .map_err(not_found)?;
    store.staffing_event(id).await.map_err(not_found)
}

fn not_found(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::NotFound("event"),
        e => e.into(),
    }
}

/// One event (staff).
pub async fn event(store: &Store, caller: &User, id: i64) -> ApiResult<StaffingEvent> {
    staff_only(caller)?;
    store.staffing_event(id).await.map_err(not_found)
}

/// Deletes an event, only while it is at version `expected` when given.
pub async fn delete_event(
    store: &Store,
    caller: &User,
    id: i64,
    expected: Option<i64>,
) -> ApiResult<()> {
    admin_only(caller)?;
    store
        .delete_staffing_event(id, expected)
        .await
        .map_err(not_found)
}
