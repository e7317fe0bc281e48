//! `/api/v1/cases`: cases, their comments and their audit trail.

use super::views::{CaseList, CaseView, CommentList, CommentView, EventList, EventView};
use crate::auth::Caller;
use crate::cases::lists;
use crate::cases::service::{self, CaseSubmission, CaseUpdate};
use crate::error::{ApiError, ApiResult};
use crate::extract::{etag, IfMatch, Json, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use backline_domain::views::CaseSort;
use backline_domain::{CaseId, CaseStatus, Channel, Priority, UserId};
use backline_store::User;
use serde::{Deserialize, Serialize};
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
    /// Changes made with the comment in the same step (vendor staff), e.g.
    /// `{"status": "solved"}` to reply and solve. Either both are written or neither.
    #[serde(default)]
    pub then: CaseUpdate,
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
    /// A view's key (`mine`, `active`, `unassigned`, `at-risk`, `solved`, `all`, or `v12` for
    /// saved view 12): its query and order, narrowed by anything else given here.
    pub view: Option<String>,
    /// A query in the search language: words that must appear in the subject or description,
    /// and filters such as `status:unsolved assignee:me partner:acme sla:breached tier:2`.
    pub q: Option<String>,
    /// One status or several separated by commas, e.g. `new,open`.
    pub status: Option<String>,
    pub priority: Option<String>,
    /// Slug of the case's organisation.
    pub organization: Option<String>,
    /// The flagged partner: a slug (or its beginning) or part of its name.
    pub partner: Option<String>,
    /// A user id, `me`, or `none` for unassigned cases.
    pub assignee: Option<String>,
    /// `attention` (breach soonest, then latest update), `number`, `updated`, `created`,
    /// `priority`, `status`, `due` or `subject`; `-` in front for descending. Default: the
    /// view's order, else newest first.
    pub sort: Option<String>,
    /// Page number from 1.
    pub page: Option<usize>,
    /// `next_cursor` of the previous page (newest-first order only).
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<usize>,
}

fn invalid_query(message: String) -> ApiError {
    ApiError::bad_request("invalid_query", message)
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseQuery),
    responses((status = 200, body = CaseList), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<CaseQuery>,
) -> ApiResult<axum::Json<CaseList>> {
    let store = &state.store;
    let view = match query.view.as_deref() {
        Some(key) => Some(lists::find_view(store, &caller, key).await?),
        None => None,
    };
    let text = [view.as_ref().map(|v| v.query.as_str()), query.q.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let mut list = lists::parse_list_query(&caller, &text)?;
    if let Some(statuses) = query.status.as_deref() {
        for status in statuses.split(',').filter(|s| !s.trim().is_empty()) {
            list.statuses.push(
                CaseStatus::parse(status).map_err(|e| invalid_query(format!("status: {e}")))?,
            );
        }
    }
    if let Some(priority) = query.priority.as_deref() {
        list.priorities
            .push(Priority::parse(priority).map_err(|e| invalid_query(format!("priority: {e}")))?);
    }
    list.organizations.extend(query.organization.clone());
    list.partners.extend(query.partner.clone());
    let sort = match (query.sort.as_deref(), &view) {
        (Some(text), _) => {
            CaseSort::parse(text).map_err(|e| invalid_query(format!("sort: {e}")))?
        }
        (None, Some(view)) => view.sort,
        (None, None) => CaseSort::NEWEST_FIRST,
    };
    let limit = query.limit.unwrap_or(lists::PAGE_SIZE);
    if !(1..=200).contains(&limit) {
        return Err(invalid_query(format!(
            "limit: must be 1 to 200, not {limit}"
        )));
    }
    let page = query.page.unwrap_or(1);
    if page == 0 {
        return Err(invalid_query("page: pages are numbered from 1".into()));
    }
    let mut filter = lists::filter_for(store, &caller, &list, sort).await?;
    filter.limit = limit;
    match query.assignee.as_deref().map(str::trim) {
        None => {}
        Some("me") => filter.assignee = Some(Some(caller.id)),
        Some("none") => filter.assignee = Some(None),
        Some(id) => {
            filter.assignee = Some(Some(UserId(id.parse().map_err(|_| {
                invalid_query(format!(
                    "assignee: expected a user id, `me` or `none`, not {id:?}"
                ))
            })?)))
        }
    }
    filter.before = match query.cursor.as_deref() {
        None | Some("") => None,
        Some(cursor) => match cursor.parse::<i64>() {
            Ok(id) if id > 0 && sort == CaseSort::NEWEST_FIRST => Some(CaseId(id)),
            _ => {
                return Err(invalid_query(format!(
                    "cursor: {cursor:?} is not a cursor this API returned for this order"
                )))
            }
        },
    };
    let listed = lists::run(store, &caller, filter, page).await?;
    Ok(axum::Json(CaseList {
        cases: listed
            .cases
            .iter()
            .map(|c| CaseView::for_reader(c, caller.role))
            .collect(),
        total: listed.total,
        total_more: listed.more,
        page,
        pages: listed.pages(),
        sort: sort.to_string(),
        next_cursor: listed.next_cursor.map(|id| id.0.to_string()),
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
    Ok((
        StatusCode::CREATED,
        axum::Json(CaseView::for_reader(&case, caller.role)),
    ))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = CaseView, headers(("ETag" = String, description = "The case's version, for `If-Match` on a change"))),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let case = service::visible_case(&state.store, &caller, CaseId(id)).await?;
    Ok((
        etag(case.version),
        axum::Json(CaseView::for_reader(&case, caller.role)),
    ))
}

#[utoipa::path(patch, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = i64, Path)), request_body = CaseUpdate,
    params(("If-Match" = Option<String>, Header, description = "The ETag the change was made against: a case changed since answers 412 `stale` and keeps what it has")),
    responses((status = 200, body = CaseView, headers(("ETag" = String, description = "The case's new version"))),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    Json(update): Json<CaseUpdate>,
) -> ApiResult<impl IntoResponse> {
    let case = service::update_case(&state.store, &caller, CaseId(id), update, expected).await?;
    Ok((
        etag(case.version),
        axum::Json(CaseView::for_reader(&case, caller.role)),
    ))
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
    let comment = service::reply_and_update(
        &state.store,
        &caller,
        CaseId(id),
        &body.body,
        body.public,
        &origin,
        &body.then,
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

/// A case list someone has: built in, shared by an agent, or their own.
#[derive(Debug, Serialize, ToSchema)]
pub struct ViewSummary {
    /// Pass as `view` to `GET /api/v1/cases`.
    pub key: String,
    pub name: String,
    /// The view's query in the search language.
    pub query: String,
    pub sort: String,
    pub shared: bool,
    /// Whether the caller may delete it.
    pub deletable: bool,
    /// How many cases it holds, counted up to 10,000; `count_more` says it holds more.
    pub count: i64,
    pub count_more: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ViewList {
    pub views: Vec<ViewSummary>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateView {
    pub name: String,
    /// A query in the search language, e.g. `status:unsolved partner:acme priority:urgent`.
    pub query: String,
    /// Default: `attention` for lists of unsolved cases, otherwise `-updated`.
    pub sort: Option<String>,
    /// Share with every agent (default: only for oneself).
    #[serde(default)]
    pub shared: bool,
}

async fn summary(
    state: &AppState,
    caller: &User,
    view: lists::ViewEntry,
) -> ApiResult<ViewSummary> {
    let counted = lists::count(&state.store, caller, &view).await?;
    Ok(ViewSummary {
        key: view.key,
        name: view.name,
        query: view.query,
        sort: view.sort.to_string(),
        shared: view.shared,
        deletable: view.deletable,
        count: counted.min(lists::COUNT_CAP),
        count_more: counted > lists::COUNT_CAP,
    })
}

#[utoipa::path(get, path = "/api/v1/views", tag = "cases",
    responses((status = 200, body = ViewList), (status = 401, body = crate::error::ErrorBody)))]
pub async fn views(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<ViewList>> {
    let mut views = Vec::new();
    for view in lists::views_for(&state.store, &caller).await? {
        views.push(summary(&state, &caller, view).await?);
    }
    Ok(axum::Json(ViewList { views }))
}

#[utoipa::path(post, path = "/api/v1/views", tag = "cases", request_body = CreateView,
    responses((status = 201, body = ViewSummary), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_view(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<CreateView>,
) -> ApiResult<(StatusCode, axum::Json<ViewSummary>)> {
    let view = lists::save_view(
        &state.store,
        &caller,
        &body.name,
        &body.query,
        body.sort.as_deref(),
        body.shared,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(summary(&state, &caller, view).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/views/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_view(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    lists::delete_view(&state.store, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkUpdate {
    /// Case ids, at most 200.
    pub cases: Vec<i64>,
    /// The change, as for `PATCH /api/v1/cases/{id}`.
    #[serde(default)]
    pub update: CaseUpdate,
    /// Tags added to each case's own (where `update.tags` replaces them).
    #[serde(default)]
    pub add_tags: Vec<String>,
    /// Merge every selected case into this one instead (it may be among them; it stays).
    pub merge_into: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkRefusal {
    pub case: i64,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub changed: Vec<CaseView>,
    /// Cases left as they were, each with the reason.
    pub refused: Vec<BulkRefusal>,
}

#[utoipa::path(post, path = "/api/v1/cases/bulk", tag = "cases", request_body = BulkUpdate,
    responses((status = 200, body = BulkResult), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn bulk(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<BulkUpdate>,
) -> ApiResult<axum::Json<BulkResult>> {
    let ids: Vec<CaseId> = body.cases.iter().map(|id| CaseId(*id)).collect();
    let outcome = lists::bulk_update(
        &state.store,
        &caller,
        &ids,
        &body.update,
        &body.add_tags,
        body.merge_into.map(CaseId),
    )
    .await?;
    Ok(axum::Json(BulkResult {
        changed: outcome
            .changed
            .iter()
            .map(|c| CaseView::for_reader(c, caller.role))
            .collect(),
        refused: outcome
            .refused
            .into_iter()
            .map(|(id, message)| BulkRefusal {
                case: id.0,
                message,
            })
            .collect(),
    }))
}
