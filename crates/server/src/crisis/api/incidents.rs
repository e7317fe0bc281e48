//! `/api/v1/incidents` and `/api/v1/drills`: declaring incidents, updating their audience on
//! a committed clock, and their post-mortems.

use crate::auth::Staff;
use crate::crisis::service::{self as crisis, Declaration, UpdateInput};
use crate::crisis::views::{
    ActionItem, IncidentDetail, IncidentEventView, IncidentList, IncidentView, NotificationList,
    NotificationView, PostmortemDetail, PostmortemView, TimelineEntry,
};
use crate::error::{ApiError, ApiResult, ErrorBody, StoreResult};
use crate::extract::{Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use backline_domain::FieldErrors;
use backline_domain::{IncidentId, Span, Timestamp};
use backline_store::crisis::{Incident, Postmortem};
use serde::Deserialize;
use utoipa::ToSchema;

/// Staff only: declares an incident and alerts everyone it affects.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "crisis", request_body = Declaration,
    responses((status = 201, body = IncidentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn declare(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Json(declaration): Json<Declaration>,
) -> ApiResult<(StatusCode, axum::Json<IncidentView>)> {
    let incident = crisis::declare(&state, &staff, declaration, false).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(IncidentView::from(&incident)),
    ))
}

/// Staff only: the same flow as a declaration, marked as a drill, told to the roster only.
#[utoipa::path(post, path = "/api/v1/drills", tag = "crisis", request_body = Declaration,
    responses((status = 201, body = IncidentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn drill(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Json(declaration): Json<Declaration>,
) -> ApiResult<(StatusCode, axum::Json<IncidentView>)> {
    let incident = crisis::declare(&state, &staff, declaration, true).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(IncidentView::from(&incident)),
    ))
}

/// Staff only: incidents of the last 90 days.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "crisis",
    responses((status = 200, body = IncidentList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn incidents(
    State(state): State<AppState>,
    _staff: Staff,
) -> ApiResult<axum::Json<IncidentList>> {
    let list = state
        .store
        .incidents(Timestamp::now().minus(Span::DAY.times(90)), false)
        .await?;
    Ok(axum::Json(IncidentList {
        incidents: list.iter().map(IncidentView::from).collect(),
    }))
}

async fn found(state: &AppState, id: IncidentId) -> ApiResult<Incident> {
    state.store.incident(id).await.or_not_found("incident")
}

/// Staff only: an incident with its timeline.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "crisis", params(("id" = i64, Path)),
    responses((status = 200, body = IncidentDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn incident(
    State(state): State<AppState>,
    _staff: Staff,
    Path(id): Path<IncidentId>,
) -> ApiResult<axum::Json<IncidentDetail>> {
    let incident = found(&state, id).await?;
    let events = state.store.incident_events(id).await?;
    Ok(axum::Json(IncidentDetail {
        incident: IncidentView::from(&incident),
        timeline: events.iter().map(IncidentEventView::from).collect(),
    }))
}

/// Staff only: tells the incident's audience where things stand; `resolved` sends the end
/// notice and opens the post-mortem.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/updates", tag = "crisis", params(("id" = i64, Path)), request_body = UpdateInput,
    responses((status = 201, body = IncidentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<IncidentId>,
    Json(input): Json<UpdateInput>,
) -> ApiResult<(StatusCode, axum::Json<IncidentView>)> {
    let incident = crisis::post_update(&state, &staff, id, input).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(IncidentView::from(&incident)),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LongBody {
    /// A known, longer resolution path: the hourly update rule no longer applies.
    pub long_resolution: bool,
}

#[utoipa::path(put, path = "/api/v1/incidents/{id}/long-resolution", tag = "crisis", params(("id" = i64, Path)), request_body = LongBody,
    responses((status = 200, body = IncidentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn long_resolution(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<IncidentId>,
    Json(body): Json<LongBody>,
) -> ApiResult<axum::Json<IncidentView>> {
    found(&state, id).await?;
    state
        .store
        .set_long_resolution(id, body.long_resolution, staff.id)
        .await?;
    Ok(axum::Json(IncidentView::from(&found(&state, id).await?)))
}

/// Staff only: every recipient of the incident's mail and the state of their message.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/notifications", tag = "crisis", params(("id" = i64, Path)),
    responses((status = 200, body = NotificationList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn notifications(
    State(state): State<AppState>,
    _staff: Staff,
    Path(id): Path<IncidentId>,
) -> ApiResult<axum::Json<NotificationList>> {
    found(&state, id).await?;
    let list = state.store.notifications(id).await?;
    Ok(axum::Json(NotificationList {
        notifications: list.iter().map(NotificationView::from).collect(),
    }))
}

/// Staff only: the post-mortem with the incident's timeline.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/postmortem", tag = "crisis", params(("id" = i64, Path)),
    responses((status = 200, body = PostmortemDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn postmortem(
    State(state): State<AppState>,
    _staff: Staff,
    Path(id): Path<IncidentId>,
) -> ApiResult<axum::Json<PostmortemDetail>> {
    found(&state, id).await?;
    let pm = state.store.postmortem(id).await?.ok_or(ApiError::NotFound(
        "post-mortem (it opens when the incident is resolved)",
    ))?;
    let events = state.store.incident_events(id).await?;
    Ok(axum::Json(PostmortemDetail {
        postmortem: PostmortemView::from(&pm),
        timeline: events.iter().map(TimelineEntry::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostmortemBody {
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub root_cause: String,
    /// A root-cause category; one seen within 90 days flags the post-mortem for executives.
    #[serde(default)]
    pub category: String,
    /// Each needs a title and an owner.
    #[serde(default)]
    pub action_items: Vec<ActionItem>,
    #[serde(default)]
    pub internal_report: String,
    /// What customers are sent when the post-mortem is published.
    #[serde(default)]
    pub customer_edition: String,
}

impl PostmortemBody {
    /// The action items trimmed, or an error naming each one without a title or an owner.
    fn action_items(&self) -> Result<Vec<ActionItem>, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut items = Vec::new();
        for (i, item) in self.action_items.iter().enumerate() {
            if item.title.trim().is_empty() || item.owner.trim().is_empty() {
                errors.add(
                    "action_items",
                    format!("item {} needs a title and an owner", i + 1),
                );
            }
            items.push(ActionItem {
                title: item.title.trim().into(),
                owner: item.owner.trim().into(),
                due: item.due.clone(),
            });
        }
        errors.into_result()?;
        Ok(items)
    }
}

/// Staff only: saves the post-mortem (it opens when the incident is resolved).
#[utoipa::path(put, path = "/api/v1/incidents/{id}/postmortem", tag = "crisis", params(("id" = i64, Path)), request_body = PostmortemBody,
    responses((status = 200, body = PostmortemView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn save_postmortem(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<IncidentId>,
    Json(body): Json<PostmortemBody>,
) -> ApiResult<axum::Json<PostmortemView>> {
    found(&state, id).await?;
    let action_items = serde_json::to_value(body.action_items()?)
        .map_err(|e| ApiError::Internal(format!("storing action items: {e}")))?;
    let current = state
        .store
        .postmortem(id)
        .await?
        .ok_or(ApiError::Conflict {
            code: "not_resolved",
            message: "the post-mortem opens when the incident is resolved".into(),
        })?;
    let pm = Postmortem {
        summary: body.summary,
        root_cause: body.root_cause,
        category: body.category,
        action_items,
        internal_report: body.internal_report,
        customer_edition: body.customer_edition,
        executive_review: false,
        ..current
    };
    let saved = crisis::save_postmortem(&state, &staff, pm).await?;
    Ok(axum::Json(PostmortemView::from(&saved)))
}

/// Sends the customer edition to the incident's audience (staff only, once).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/postmortem/publish", tag = "crisis", params(("id" = i64, Path)),
    responses((status = 200, body = PostmortemView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish_postmortem(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<IncidentId>,
) -> ApiResult<axum::Json<PostmortemView>> {
    // The role first (the extractor), then whether the incident exists: a partner or
    // customer learns nothing from the answer.
    found(&state, id).await?;
    crisis::publish_postmortem(&state, &caller, id).await?;
    let pm = state
        .store
        .postmortem(id)
        .await?
        .ok_or(ApiError::NotFound("post-mortem"))?;
    Ok(axum::Json(PostmortemView::from(&pm)))
}
