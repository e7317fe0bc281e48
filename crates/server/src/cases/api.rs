//! `/api/v1/cases`: cases, their comments and their audit trail.

use super::views::{CaseList, CaseView, CommentList, CommentView, EventList, EventView};
use crate::auth::Caller;
use crate::cases::service::{self, CaseSubmission, CaseUpdate};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use backline_domain::{CaseId, CaseStatus, Channel, Priority, UserId};
use backline_store::CaseFilter;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCase {
    pub subject: String,
    #[serde(default)]
    pub description: String,
    pub priority: Option<Priority>,
    pub product: Option<String>,
    /// Slug of the end customer a partner files for (vendor staff: any organisation).
    pub on_behalf_of: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Partners: an answer for every step of the agreement's troubleshooting checklist,
    /// keyed by the step's text.
    #[serde(default)]
    pub checklist: std::collections::BTreeMap<String, String>,
    /// Partners whose agreement requires it: the problem reproduces on a vanilla product.
    pub reproduced_on_vanilla: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateComment {
    pub body: String,
    /// `false` writes an internal note (vendor staff only). Defaults to a public reply.
    #[serde(default = "default_public")]
    pub public: bool,
    /// Ids of files uploaded to this case beforehand (`POST /api/v1/cases/{id}/attachments`).
    #[serde(default)]
    pub attachments: Vec<i64>,
}

/// The API's body as the case service takes it, the one place the two meet.
impl From<CreateCase> for CaseSubmission {
    fn from(body: CreateCase) -> Self {
        CaseSubmission {
            escalation: backline_domain::partner::EscalationStatement {
                checklist: body.checklist,
                reproduced_on_vanilla: body.reproduced_on_vanilla,
            },
            subject: body.subject,
            description: body.description,
            priority: body.priority,
            product: body.product,
            on_behalf_of: body.on_behalf_of,
            tags: body.tags,
            channel: Some(Channel::Api),
        }
    }
}

fn default_public() -> bool {
    true
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    /// One status or several separated by commas, e.g. `new,open`.
    pub status: Option<String>,
    pub priority: Option<String>,
    /// Slug of the case's organisation.
    pub organization: Option<String>,
    /// Slug of the flagged partner.
    pub partner: Option<String>,
    /// A user id, `me`, or `none` for unassigned cases.
    pub assignee: Option<String>,
    /// Words that must all appear in the subject or description.
    pub q: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<usize>,
}

fn invalid_query(message: String) -> ApiError {
    ApiError::bad_request("invalid_query", message)
}

impl CaseQuery {
    fn into_filter(self, me: UserId) -> ApiResult<CaseFilter> {
        let statuses = match self.status.as_deref() {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| CaseStatus::parse(s).map_err(|e| invalid_query(format!("status: {e}"))))
                .collect::<ApiResult<Vec<_>>>()?,
        };
        let priority = self
            .priority
            .as_deref()
            .map(|p| Priority::parse(p).map_err(|e| invalid_query(format!("priority: {e}"))))
            .transpose()?;
        let assignee = match self.assignee.as_deref().map(str::trim) {
            None => None,
            Some("me") => Some(Some(me)),
            Some("none") => Some(None),
            Some(id) => Some(Some(UserId(id.parse().map_err(|_| {
                invalid_query(format!(
                    "assignee: expected a user id, `me` or `none`, not {id:?}"
                ))
            })?))),
        };
        let before = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(cursor) => match cursor.parse::<i64>() {
                Ok(id) if id > 0 => Some(CaseId(id)),
                _ => {
                    return Err(invalid_query(format!(
                        "cursor: {cursor:?} is not a cursor this API returned"
                    )))
                }
            },
        };
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(invalid_query(format!(
                "limit: must be 1 to 200, not {limit}"
            )));
        }
        Ok(CaseFilter {
            statuses,
            priority,
            organization_slug: self.organization,
            partner_slug: self.partner,
            assignee,
            text: self.q.filter(|q| !q.trim().is_empty()),
            before,
            limit,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseQuery),
    responses((status = 200, body = CaseList), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<CaseQuery>,
) -> ApiResult<axum::Json<CaseList>> {
    let filter = query.into_filter(caller.id)?;
    let (cases, next) = service::list_cases(&state.store, &caller, &filter).await?;
    Ok(axum::Json(CaseList {
        cases: cases.iter().map(CaseView::from).collect(),
        next_cursor: next.map(|id| id.0.to_string()),
    }))
}

#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = CreateCase,
    responses((status = 201, body = CaseView), (status = 400, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<CreateCase>,
) -> ApiResult<(StatusCode, axum::Json<CaseView>)> {
    let case = service::create_case(&state, &caller, CaseSubmission::from(body)).await?;
    Ok((StatusCode::CREATED, axum::Json(CaseView::from(&case))))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<CaseView>> {
    let case = service::visible_case(&state.store, &caller, CaseId(id)).await?;
    Ok(axum::Json(CaseView::from(&case)))
}

#[utoipa::path(patch, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = i64, Path)), request_body = CaseUpdate,
    responses((status = 200, body = CaseView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(update): Json<CaseUpdate>,
) -> ApiResult<axum::Json<CaseView>> {
    let case = service::update_case(&state.store, &caller, CaseId(id), update).await?;
    Ok(axum::Json(CaseView::from(&case)))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/comments", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = CommentList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn comments(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<CommentList>> {
    let comments = service::comments(&state.store, &caller, CaseId(id)).await?;
    let files = state
        .store
        .case_attachments(CaseId(id), caller.role.is_staff())
        .await?;
    Ok(axum::Json(CommentList {
        comments: comments
            .iter()
            .map(|c| CommentView::with_files(c, &files))
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/comments", tag = "cases", params(("id" = i64, Path)), request_body = CreateComment,
    responses((status = 201, body = CommentView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn add_comment(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<CreateComment>,
) -> ApiResult<(StatusCode, axum::Json<CommentView>)> {
    let origin = backline_store::CommentOrigin {
        channel: Some(backline_domain::Channel::Api),
        uploads: body.attachments,
        ..Default::default()
    };
    let comment = service::add_comment(
        &state.store,
        &caller,
        CaseId(id),
        &body.body,
        body.public,
        &origin,
    )
    .await?;
    let files = state
        .store
        .case_attachments(CaseId(id), caller.role.is_staff())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CommentView::with_files(&comment, &files)),
    ))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/events", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = EventList), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<EventList>> {
    service::visible_case(&state.store, &caller, CaseId(id)).await?;
    // The trail names internal notes and staff moves; it is the vendor's own record.
    if !caller.role.is_staff() {
        return Err(ApiError::Forbidden(
            "the audit trail is for vendor staff".into(),
        ));
    }
    let events = state.store.case_events(CaseId(id)).await?;
    Ok(axum::Json(EventList {
        events: events.iter().map(EventView::from).collect(),
    }))
}
