//! `/api/v1/sla`: service-level policies and business calendars, and a case's clocks.

use super::service::{self, PolicySubmission};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{etag, IfMatch, Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use backline_domain::partner::Party;
use backline_domain::sla::{CalendarSpec, Metric, SlaState};
use backline_domain::{CaseId, Priority, Span, Timestamp};
use backline_store::{CaseClock, SlaCalendar, SlaPolicy, Store};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarBody {
    pub name: String,
    /// IANA time zone, working hours per weekday (several intervals a day allowed) and
    /// holidays as local dates.
    pub spec: CalendarSpec,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarView {
    pub id: i64,
    pub name: String,
    pub spec: CalendarSpec,
    pub updated_at: String,
    /// Moves on with every change; send it back as `If-Match: "N"` to change or delete only
    /// this version.
    pub version: i64,
}

impl From<SlaCalendar> for CalendarView {
    fn from(c: SlaCalendar) -> Self {
        CalendarView {
            id: c.id,
            name: c.name,
            spec: c.spec,
            updated_at: c.updated_at.to_rfc3339(),
            version: c.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarList {
    pub calendars: Vec<CalendarView>,
}

/// What a policy applies to; an empty list means any.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyConditionsBody {
    /// Organisation slugs.
    #[serde(default)]
    pub organizations: Vec<String>,
    /// Partner slugs.
    #[serde(default)]
    pub partners: Vec<String>,
    /// Who owns the customer under the partner's agreement: `partner` or `vendor`. Cases
    /// without a partner match neither.
    pub customer_owner: Option<Party>,
    #[serde(default)]
    pub priorities: Vec<Priority>,
    #[serde(default)]
    pub products: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    pub name: String,
    #[serde(default)]
    pub conditions: PolicyConditionsBody,
    /// The business calendar the targets count in; `null`: around the clock.
    pub calendar_id: Option<i64>,
    /// Targets in business minutes; at least one.
    pub first_reply_minutes: Option<i64>,
    pub next_reply_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
    /// How long before a target its assignee and queue are warned (default 60).
    pub warn_minutes: Option<i64>,
}

impl From<PolicyBody> for PolicySubmission {
    fn from(b: PolicyBody) -> Self {
        PolicySubmission {
            name: b.name,
            organizations: b.conditions.organizations,
            partners: b.conditions.partners,
            customer_owner: b.conditions.customer_owner,
            priorities: b.conditions.priorities,
            products: b.conditions.products,
            calendar_id: b.calendar_id,
            first_reply_minutes: b.first_reply_minutes,
            next_reply_minutes: b.next_reply_minutes,
            resolution_minutes: b.resolution_minutes,
            warn_minutes: b.warn_minutes,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    pub id: i64,
    /// Policies are tried in this order; the first that matches a case sets its targets.
    pub position: i64,
    pub name: String,
    pub conditions: PolicyConditionsBody,
    pub calendar_id: Option<i64>,
    pub first_reply_minutes: Option<i64>,
    pub next_reply_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
    pub warn_minutes: i64,
    pub updated_at: String,
    /// Moves on with every change to the policy (not with moves in the order); send it back
    /// as `If-Match: "N"` to change or delete only this version.
    pub version: i64,
}

fn minutes(span: Span) -> i64 {
    span.as_millis() / Span::MINUTE.as_millis()
}

pub async fn policy_view(store: &Store, p: SlaPolicy) -> ApiResult<PolicyView> {
    let c = &p.input.conditions;
    Ok(PolicyView {
        id: p.id,
        position: p.position,
        conditions: PolicyConditionsBody {
            organizations: service::slugs(store, &c.organizations).await?,
            partners: service::slugs(store, &c.partners).await?,
            customer_owner: c.customer_owner,
            priorities: c.priorities.clone(),
            products: c.products.clone(),
        },
        name: p.input.name,
        calendar_id: p.input.calendar_id,
        first_reply_minutes: p.input.first_reply.map(minutes),
        next_reply_minutes: p.input.next_reply.map(minutes),
        resolution_minutes: p.input.resolution.map(minutes),
        warn_minutes: minutes(p.input.warn_before),
        updated_at: p.updated_at.to_rfc3339(),
        version: p.version,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyList {
    pub policies: Vec<PolicyView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// `true` moves the policy one place earlier in the order, `false` one place later.
    pub up: bool,
}

/// One of a case's service-level clocks.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockView {
    pub metric: Metric,
    pub state: SlaState,
    pub started_at: String,
    /// The target and the business time counted so far, in minutes.
    pub target_minutes: i64,
    pub elapsed_minutes: i64,
    /// When the target is reached while the clock runs; `null` while paused or finished.
    pub due_at: Option<String>,
    pub paused: bool,
    pub fulfilled_at: Option<String>,
    pub breached_at: Option<String>,
}

impl From<&CaseClock> for ClockView {
    fn from(c: &CaseClock) -> Self {
        ClockView {
            metric: c.metric,
            state: c.state,
            started_at: c.started.to_rfc3339(),
            target_minutes: minutes(c.target),
            elapsed_minutes: minutes(c.elapsed),
            due_at: c.due.map(Timestamp::to_rfc3339),
            paused: c.paused,
            fulfilled_at: c.fulfilled.map(Timestamp::to_rfc3339),
            breached_at: c.breached_at.map(Timestamp::to_rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockList {
    pub clocks: Vec<ClockView>,
}

#[utoipa::path(get, path = "/api/v1/sla/calendars", tag = "sla",
    responses((status = 200, body = CalendarList), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_calendars(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<CalendarList>> {
    let calendars = service::calendars(&state.store, &caller).await?;
    Ok(axum::Json(CalendarList {
        calendars: calendars.into_iter().map(CalendarView::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/sla/calendars", tag = "sla", request_body = CalendarBody,
    responses((status = 201, body = CalendarView), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_calendar(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<CalendarBody>,
) -> ApiResult<(StatusCode, axum::Json<CalendarView>)> {
    let saved =
        service::save_calendar(&state.store, &caller, None, &body.name, &body.spec, None).await?;
    Ok((StatusCode::CREATED, axum::Json(saved.into())))
}

#[utoipa::path(get, path = "/api/v1/sla/calendars/{id}", tag = "sla", params(("id" = i64, Path)),
    responses((status = 200, body = CalendarView, headers(("ETag" = String, description = "The calendar's version, for `If-Match` on a change"))),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn read_calendar(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let calendar = service::calendar(&state.store, &caller, id).await?;
    Ok((
        etag(calendar.version),
        axum::Json(CalendarView::from(calendar)),
    ))
}

#[utoipa::path(put, path = "/api/v1/sla/calendars/{id}", tag = "sla", params(("id" = i64, Path)),
    params(("If-Match" = Option<String>, Header, description = "The ETag the change was made against: a calendar changed since answers 412 `stale` and keeps what it has")),
    request_body = CalendarBody,
    responses((status = 200, body = CalendarView, headers(("ETag" = String, description = "The calendar's new version"))),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace_calendar(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    Json(body): Json<CalendarBody>,
) -> ApiResult<impl IntoResponse> {
    let saved = service::save_calendar(
        &state.store,
        &caller,
        Some(id),
        &body.name,
        &body.spec,
        expected,
    )
    .await?;
    Ok((etag(saved.version), axum::Json(CalendarView::from(saved))))
}

#[utoipa::path(delete, path = "/api/v1/sla/calendars/{id}", tag = "sla", params(("id" = i64, Path)),
    params(("If-Match" = Option<String>, Header, description = "The ETag the deletion was decided on: a calendar changed since answers 412 `stale` and stays")),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 412, body = crate::error::ErrorBody)))]
pub async fn delete_calendar(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
) -> ApiResult<StatusCode> {
    service::delete_calendar(&state.store, &caller, id, expected).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/sla/policies", tag = "sla",
    responses((status = 200, body = PolicyList), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_policies(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<PolicyList>> {
    let mut policies = Vec::new();
    for p in service::policies(&state.store, &caller).await? {
        policies.push(policy_view(&state.store, p).await?);
    }
    Ok(axum::Json(PolicyList { policies }))
}

#[utoipa::path(post, path = "/api/v1/sla/policies", tag = "sla", request_body = PolicyBody,
    responses((status = 201, body = PolicyView), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_policy(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<PolicyBody>,
) -> ApiResult<(StatusCode, axum::Json<PolicyView>)> {
    let saved = service::save_policy(&state.store, &caller, None, &body.into(), None).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(policy_view(&state.store, saved).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/sla/policies/{id}", tag = "sla", params(("id" = i64, Path)),
    responses((status = 200, body = PolicyView, headers(("ETag" = String, description = "The policy's version, for `If-Match` on a change"))),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn read_policy(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let policy = service::read_policy(&state.store, &caller, id).await?;
    let version = policy.version;
    Ok((
        etag(version),
        axum::Json(policy_view(&state.store, policy).await?),
    ))
}

#[utoipa::path(put, path = "/api/v1/sla/policies/{id}", tag = "sla", params(("id" = i64, Path)),
    params(("If-Match" = Option<String>, Header, description = "The ETag the change was made against: a policy changed since answers 412 `stale` and keeps what it has")),
    request_body = PolicyBody,
    responses((status = 200, body = PolicyView, headers(("ETag" = String, description = "The policy's new version"))),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace_policy(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    Json(body): Json<PolicyBody>,
) -> ApiResult<impl IntoResponse> {
    let saved =
        service::save_policy(&state.store, &caller, Some(id), &body.into(), expected).await?;
    let version = saved.version;
    Ok((
        etag(version),
        axum::Json(policy_view(&state.store, saved).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/sla/policies/{id}", tag = "sla", params(("id" = i64, Path)),
    params(("If-Match" = Option<String>, Header, description = "The ETag the deletion was decided on: a policy changed since answers 412 `stale` and stays")),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody)))]
pub async fn delete_policy(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
) -> ApiResult<StatusCode> {
    service::delete_policy(&state.store, &caller, id, expected).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/sla/policies/{id}/move", tag = "sla", params(("id" = i64, Path)),
    request_body = MoveBody,
    responses((status = 200, body = PolicyList), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn move_policy(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<MoveBody>,
) -> ApiResult<axum::Json<PolicyList>> {
    service::move_policy(&state.store, &caller, id, body.up).await?;
    list_policies(State(state), Caller(caller)).await
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/sla", tag = "sla", params(("id" = i64, Path)),
    responses((status = 200, body = ClockList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn case_clocks(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<ClockList>> {
    let clocks = service::case_clocks(&state.store, &caller, CaseId(id)).await?;
    Ok(axum::Json(ClockList {
        clocks: clocks.iter().map(ClockView::from).collect(),
    }))
}
