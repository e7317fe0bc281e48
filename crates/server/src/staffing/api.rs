//! `/api/v1/staffing`: the arrival forecast, the staffing plan, and known events.

use super::service::{self, EventSubmission, Plan, PlanRequest};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{etag, IfMatch, Json, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use backline_domain::forecast::{EventKind, LiftSource};
use backline_domain::{FieldErrors, Timestamp};
use backline_store::StaffingEvent;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ForecastQuery {
    /// Weeks of case history to learn from (2 to 26, default 8).
    pub history_weeks: Option<u32>,
    /// Weeks to forecast from the current hour (1 to 4, default 1).
    pub weeks: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastHour {
    /// Start of the hour (UTC).
    pub at: String,
    /// Arrivals expected without known events.
    pub baseline: f64,
    /// Arrivals expected with known events.
    pub forecast: f64,
    /// The known event that touches this hour, if any.
    pub event_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActualHour {
    pub at: String,
    pub actual: f64,
    pub forecast: f64,
}

/// The last week of history forecast from the weeks before it.
#[derive(Debug, Serialize, ToSchema)]
pub struct HoldoutView {
    pub from: String,
    /// Mean absolute percentage error over the hours with arrivals (0.1 = 10%); `null` when
    /// the held-out week had none.
    pub mape: Option<f64>,
    pub hours_counted: usize,
    pub hours: Vec<ActualHour>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventLift {
    pub event_id: i64,
    pub name: String,
    pub kind: EventKind,
    /// Arrivals in the event's hours as a multiple of the baseline.
    pub lift: f64,
    pub source: LiftSource,
    /// Past events of the same kind it was learned from.
    pub learned_from: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastView {
    pub history_from: String,
    pub history_weeks: u32,
    pub hours: Vec<ForecastHour>,
    pub events: Vec<EventLift>,
    pub holdout: Option<HoldoutView>,
}

fn forecast_view(f: &service::ForecastResult, history_weeks: u32) -> ForecastView {
    let at = |start: Timestamp, i: usize| {
        start
            .plus(backline_domain::Span::HOUR.times(i as i64))
            .to_rfc3339()
    };
    let fc = &f.forecast;
    ForecastView {
        history_from: f.history.start.to_rfc3339(),
        history_weeks,
        hours: (0..fc.forecast.len())
            .map(|i| ForecastHour {
                at: at(fc.start, i),
                baseline: fc.baseline[i],
                forecast: fc.forecast[i],
                event_id: fc.event[i],
            })
            .collect(),
        events: fc
            .lifts
            .iter()
            .filter_map(|l| {
                let e = f.events.iter().find(|e| e.id == l.event)?;
                Some(EventLift {
                    event_id: e.id,
                    name: e.name.clone(),
                    kind: e.kind,
                    lift: l.lift,
                    source: l.source,
                    learned_from: l.learned_from,
                })
            })
            .collect(),
        holdout: f.holdout.as_ref().map(|b| HoldoutView {
            from: b.start.to_rfc3339(),
            mape: b.mape,
            hours_counted: b.hours_counted,
            hours: (0..b.actual.len())
                .map(|i| ActualHour {
                    at: at(b.start, i),
                    actual: b.actual[i],
                    forecast: b.forecast[i],
                })
                .collect(),
        }),
    }
}

#[utoipa::path(get, path = "/api/v1/staffing/forecast", tag = "staffing", params(ForecastQuery),
    responses((status = 200, body = ForecastView), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn forecast(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(q): Query<ForecastQuery>,
) -> ApiResult<axum::Json<ForecastView>> {
    let defaults = PlanRequest::default();
    let history_weeks = q.history_weeks.unwrap_or(defaults.history_weeks);
    let f = service::forecast(
        &state.store,
        &caller,
        state.clock.now(),
        history_weeks,
        q.weeks.unwrap_or(defaults.weeks),
    )
    .await?;
    Ok(axum::Json(forecast_view(&f, history_weeks)))
}

/// Plan inputs; each left out takes its default.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PlanQuery {
    /// Share to answer within the target time, in percent (default 80).
    pub service_level_percent: Option<f64>,
    /// The target time, in seconds (default 1200: 20 minutes).
    pub answer_within_seconds: Option<f64>,
    /// Average handling time in seconds; left out, it is measured from the cases.
    pub aht_seconds: Option<f64>,
    /// Share of paid time not available for cases, in percent (default 30).
    pub shrinkage_percent: Option<f64>,
    /// Highest planned occupancy, in percent (default 85).
    pub max_occupancy_percent: Option<f64>,
    /// What-if: share of arrivals self-service absorbs, in percent (default 0).
    pub deflection_percent: Option<f64>,
    /// What-if: share of arrivals partners handle without the vendor, in percent (default 0).
    pub partner_share_percent: Option<f64>,
    pub weeks: Option<u32>,
    pub history_weeks: Option<u32>,
}

impl From<PlanQuery> for PlanRequest {
    fn from(q: PlanQuery) -> Self {
        let d = PlanRequest::default();
        PlanRequest {
            service_level_percent: q.service_level_percent.unwrap_or(d.service_level_percent),
            answer_within_seconds: q.answer_within_seconds.unwrap_or(d.answer_within_seconds),
            aht_seconds: q.aht_seconds,
            shrinkage_percent: q.shrinkage_percent.unwrap_or(d.shrinkage_percent),
            max_occupancy_percent: q.max_occupancy_percent.or(d.max_occupancy_percent),
            deflection_percent: q.deflection_percent.unwrap_or(d.deflection_percent),
            partner_share_percent: q.partner_share_percent.unwrap_or(d.partner_share_percent),
            weeks: q.weeks.unwrap_or(d.weeks),
            history_weeks: q.history_weeks.unwrap_or(d.history_weeks),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanInputs {
    pub service_level_percent: f64,
    pub answer_within_seconds: f64,
    /// The handling time used, in seconds.
    pub aht_seconds: f64,
    /// `override` (given), `measured` (from staff messages on the history's cases) or
    /// `default` (nothing to measure).
    pub aht_source: String,
    pub aht_measured_seconds: Option<f64>,
    pub aht_measured_cases: usize,
    pub shrinkage_percent: f64,
    pub max_occupancy_percent: Option<f64>,
    pub deflection_percent: f64,
    pub partner_share_percent: f64,
    pub weeks: u32,
    pub history_weeks: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanInterval {
    /// Start of the hour (UTC).
    pub at: String,
    /// Forecast arrivals, and those left for the vendor's agents after the what-ifs.
    pub arrivals: f64,
    pub handled: f64,
    /// Offered load in erlangs.
    pub traffic: f64,
    /// Agents answering at once, and agents to schedule after shrinkage.
    pub agents: u32,
    pub scheduled: u32,
    pub scheduled_without_what_ifs: u32,
    pub service_level: f64,
    pub occupancy: f64,
    pub average_wait_seconds: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    pub inputs: PlanInputs,
    /// Held-out error of the forecast on the last week of history.
    pub mape: Option<f64>,
    /// The busiest day (UTC) and its intervals, as the page's table and CSV show them.
    pub peak_day: String,
    pub peak: Vec<PlanInterval>,
    /// Every hour of the horizon.
    pub intervals: Vec<PlanInterval>,
}

pub fn interval_view(p: &service::PlanInterval) -> PlanInterval {
    PlanInterval {
        at: p.at.to_rfc3339(),
        arrivals: p.arrivals,
        handled: p.handled,
        traffic: p.staffing.traffic,
        agents: p.staffing.agents,
        scheduled: p.staffing.scheduled,
        scheduled_without_what_ifs: p.scheduled_without_what_ifs,
        service_level: p.staffing.service_level,
        occupancy: p.staffing.occupancy,
        average_wait_seconds: p.staffing.average_wait_secs,
    }
}

fn plan_view(p: &Plan) -> PlanView {
    let r = &p.request;
    PlanView {
        inputs: PlanInputs {
            service_level_percent: r.service_level_percent,
            answer_within_seconds: r.answer_within_seconds,
            aht_seconds: p.handling.seconds,
            aht_source: match (p.handling.overridden, p.handling.measured) {
                (true, _) => "override",
                (false, Some(_)) => "measured",
                (false, None) => "default",
            }
            .into(),
            aht_measured_seconds: p.handling.measured.map(|m| m.0),
            aht_measured_cases: p.handling.measured.map_or(0, |m| m.1),
            shrinkage_percent: r.shrinkage_percent,
            max_occupancy_percent: r.max_occupancy_percent,
            deflection_percent: r.deflection_percent,
            partner_share_percent: r.partner_share_percent,
            weeks: r.weeks,
            history_weeks: r.history_weeks,
        },
        mape: p.forecast.holdout.as_ref().and_then(|b| b.mape),
        peak_day: p.peak_day.to_rfc3339(),
        peak: p.intervals[p.peak_range.clone()]
            .iter()
            .map(interval_view)
            .collect(),
        intervals: p.intervals.iter().map(interval_view).collect(),
    }
}

#[utoipa::path(get, path = "/api/v1/staffing/plan", tag = "staffing", params(PlanQuery),
    responses((status = 200, body = PlanView), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn plan(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(q): Query<PlanQuery>,
) -> ApiResult<axum::Json<PlanView>> {
    let plan = service::plan(&state.store, &caller, state.clock.now(), &q.into()).await?;
    Ok(axum::Json(plan_view(&plan)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    pub name: String,
    /// `release`, `holiday`, `partner_closure` or `other`.
    pub kind: String,
    /// RFC 3339 times; the event covers the hours from `starts_at` up to `ends_at`.
    pub starts_at: String,
    pub ends_at: String,
    /// Expected arrivals in percent of the usual (200: twice as many; default 100), used
    /// until past events of the kind teach a lift.
    pub lift_percent: Option<i64>,
}

impl EventBody {
    fn submission(&self) -> (EventSubmission, FieldErrors) {
        let mut errors = FieldErrors::new();
        let mut time = |field: &str, text: &str| match Timestamp::parse(text.trim()) {
            Ok(t) => Some(t),
            Err(_) => {
                errors.add(field, "write an RFC 3339 time such as 2026-12-24T09:00:00Z");
                None
            }
        };
        let starts = time("starts_at", &self.starts_at);
        let ends = time("ends_at", &self.ends_at);
        (
            EventSubmission {
                name: self.name.clone(),
                kind: self.kind.clone(),
                starts,
                ends,
                lift_percent: self.lift_percent,
            },
            errors,
        )
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: i64,
    pub name: String,
    pub kind: EventKind,
    pub starts_at: String,
    pub ends_at: String,
    pub lift_percent: i64,
    pub updated_at: String,
    /// Moves on with every change; also the `ETag`, for `If-Match` on a change.
    pub version: i64,
}

impl From<StaffingEvent> for EventView {
    fn from(e: StaffingEvent) -> Self {
        EventView {
            id: e.id,
            name: e.name,
            kind: e.kind,
            starts_at: e.starts.to_rfc3339(),
            ends_at: e.ends.to_rfc3339(),
            lift_percent: e.lift_percent,
            updated_at: e.updated_at.to_rfc3339(),
            version: e.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub events: Vec<EventView>,
}

#[utoipa::path(get, path = "/api/v1/staffing/events", tag = "staffing",
    responses((status = 200, body = EventList), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_events(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<EventList>> {
    let events = service::events(&state.store, &caller).await?;
    Ok(axum::Json(EventList {
        events: events.into_iter().map(EventView::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/staffing/events", tag = "staffing", request_body = EventBody,
    responses((status = 201, body = EventView), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_event(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<EventBody>,
) -> ApiResult<(StatusCode, axum::Json<EventView>)> {
    let (submission, errors) = body.submission();
    let saved = service::save_event(&state.store, &caller, None, &submission, errors, None).await?;
    Ok((StatusCode::CREATED, axum::Json(saved.into())))
}

#[utoipa::path(get, path = "/api/v1/staffing/events/{id}", tag = "staffing",
    params(("id" = i64, Path)),
    responses((status = 200, body = EventView, headers(("ETag" = String, description = "The event's version, for `If-Match` on a change"))),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn read_event(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let event = service::event(&state.store, &caller, id).await?;
    Ok((etag(event.version), axum::Json(EventView::from(event))))
}

#[utoipa::path(put, path = "/api/v1/staffing/events/{id}", tag = "staffing",
    params(("id" = i64, Path),
           ("If-Match" = Option<String>, Header, description = "The ETag the change was made against: an event changed since answers 412 `stale` and keeps what it has")),
    request_body = EventBody,
    responses((status = 200, body = EventView, headers(("ETag" = String, description = "The event's new version"))),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace_event(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    Json(body): Json<EventBody>,
) -> ApiResult<impl IntoResponse> {
    let (submission, errors) = body.submission();
    let saved = service::save_event(
        &state.store,
        &caller,
        Some(id),
        &submission,
        errors,
        expected,
    )
    .await?;
    Ok((etag(saved.version), axum::Json(EventView::from(saved))))
}

#[utoipa::path(delete, path = "/api/v1/staffing/events/{id}", tag = "staffing",
    params(("id" = i64, Path),
           ("If-Match" = Option<String>, Header, description = "The ETag the deletion was decided on: an event changed since answers 412 `stale` and stays")),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody)))]
pub async fn delete_event(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
) -> ApiResult<StatusCode> {
    service::delete_event(&state.store, &caller, id, expected).await?;
    Ok(StatusCode::NO_CONTENT)
}
