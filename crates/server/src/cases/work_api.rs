//! `/api/v1/macros`, and the case work routes: applying a macro, merging, followers and Cc,
//! presence, satisfaction ratings and scores.

use super::macros;
use super::service;
use super::views::{CaseView, CommentView};
use super::work;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{etag, IfMatch, Json, Path, Query};
use crate::views::UserRefView;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use backline_domain::macros::{MacroActions, MacroInput};
use backline_domain::satisfaction::{Rating, Score};
use backline_domain::{CaseId, Span, Timestamp};
use backline_store::{MacroRecord, Presence, RatingRecord, ScoreBy};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct MacroView {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub actions: MacroActions,
    /// Shared with the team; otherwise the caller's own.
    pub shared: bool,
    /// How often it was sent.
    pub uses: i64,
    pub updated_at: String,
    /// Moves on with every edit (not with uses); send it back as `If-Match: "N"` to change or
    /// delete only this version.
    pub version: i64,
}

impl From<&MacroRecord> for MacroView {
    fn from(m: &MacroRecord) -> Self {
        MacroView {
            id: m.id,
            title: m.title.clone(),
            body: m.body.clone(),
            actions: m.actions.clone(),
            shared: m.owner_id.is_none(),
            uses: m.uses,
            updated_at: m.updated_at.to_rfc3339(),
            version: m.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MacroList {
    pub macros: Vec<MacroView>,
}

#[utoipa::path(get, path = "/api/v1/macros", tag = "macros",
    responses((status = 200, body = MacroList), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_macros(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<MacroList>> {
    let found = macros::macros(&state.store, &caller).await?;
    Ok(axum::Json(MacroList {
        macros: found.iter().map(MacroView::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/macros", tag = "macros", request_body = MacroInput,
    responses((status = 201, body = MacroView), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_macro(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(input): Json<MacroInput>,
) -> ApiResult<(StatusCode, axum::Json<MacroView>)> {
    let saved = macros::save(&state.store, &caller, None, &input, None).await?;
    Ok((StatusCode::CREATED, axum::Json(MacroView::from(&saved))))
}

#[utoipa::path(get, path = "/api/v1/macros/{id}", tag = "macros", params(("id" = i64, Path)),
    responses((status = 200, body = MacroView, headers(("ETag" = String, description = "The macro's version, for `If-Match` on a change"))),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn read_macro(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let found = macros::usable(&state.store, &caller, id).await?;
    Ok((etag(found.version), axum::Json(MacroView::from(&found))))
}

#[utoipa::path(put, path = "/api/v1/macros/{id}", tag = "macros", params(("id" = i64, Path)),
    params(("If-Match" = Option<String>, Header, description = "The ETag the change was made against: a macro changed since answers 412 `stale` and keeps what it has")),
    request_body = MacroInput,
    responses((status = 200, body = MacroView, headers(("ETag" = String, description = "The macro's new version"))),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace_macro(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    Json(input): Json<MacroInput>,
) -> ApiResult<impl IntoResponse> {
    let saved = macros::save(&state.store, &caller, Some(id), &input, expected).await?;
    Ok((etag(saved.version), axum::Json(MacroView::from(&saved))))
}

#[utoipa::path(delete, path = "/api/v1/macros/{id}", tag = "macros", params(("id" = i64, Path)),
    params(("If-Match" = Option<String>, Header, description = "The ETag the deletion was decided on: a macro changed since answers 412 `stale` and stays")),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody)))]
pub async fn delete_macro(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
) -> ApiResult<StatusCode> {
    macros::delete(&state.store, &caller, id, expected).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A macro filled in for one case, before it is sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct MacroPreview {
    pub body: String,
    /// What sending it changes, in words.
    pub changes: Vec<String>,
    pub internal: bool,
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/macros/{macro_id}", tag = "macros",
    params(("id" = i64, Path), ("macro_id" = i64, Path)),
    responses((status = 200, body = MacroPreview), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn preview_macro(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, macro_id)): Path<(i64, i64)>,
) -> ApiResult<axum::Json<MacroPreview>> {
    let record = macros::usable(&state.store, &caller, macro_id).await?;
    let case = service::visible_case(&state.store, &caller, CaseId(id)).await?;
    let staff = state.store.list_users(None, true).await?;
    let changes = record.actions.describe(|id| {
        staff
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| format!("user {id}"), |u| u.name.clone())
    });
    let internal = record.actions.internal;
    let applied = macros::apply(record, &case, &caller);
    Ok(axum::Json(MacroPreview {
        body: applied.body,
        changes,
        internal,
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMacro {
    /// The text as edited; leave out to send the macro's text as filled in.
    pub body: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MacroSent {
    pub case: CaseView,
    /// The reply or note written; `null` for a macro that only changes fields.
    pub comment: Option<CommentView>,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/macros/{macro_id}", tag = "macros",
    params(("id" = i64, Path), ("macro_id" = i64, Path)), request_body = SendMacro,
    responses((status = 200, body = MacroSent), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn send_macro(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, macro_id)): Path<(i64, i64)>,
    Json(body): Json<SendMacro>,
) -> ApiResult<axum::Json<MacroSent>> {
    let (case, comment) = macros::send(
        &state.store,
        &caller,
        CaseId(id),
        macro_id,
        body.body.as_deref(),
    )
    .await?;
    Ok(axum::Json(MacroSent {
        case: CaseView::for_reader(&case, caller.role),
        comment: comment.as_ref().map(|c| CommentView::with_files(c, &[])),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeCase {
    /// The case that carries on; this one is closed and points to it.
    pub into: i64,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/merge", tag = "cases", params(("id" = i64, Path)),
    request_body = MergeCase,
    responses((status = 200, body = CaseView, description = "the surviving case"),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn merge(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<MergeCase>,
) -> ApiResult<axum::Json<CaseView>> {
    let survivor = work::merge(&state.store, &caller, CaseId(id), CaseId(body.into)).await?;
    Ok(axum::Json(CaseView::for_reader(&survivor, caller.role)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CasePeopleView {
    /// Staff following the case.
    pub followers: Vec<UserRefView>,
    /// Addresses copied on its mail.
    pub cc: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/people", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = CasePeopleView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn people(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<CasePeopleView>> {
    let found = work::people(&state.store, &caller, CaseId(id)).await?;
    Ok(axum::Json(CasePeopleView {
        followers: found.followers.iter().map(UserRefView::from).collect(),
        cc: found.cc,
    }))
}

#[utoipa::path(put, path = "/api/v1/cases/{id}/followers/me", tag = "cases", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn follow(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    work::follow(&state.store, &caller, CaseId(id), true).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/cases/{id}/followers/me", tag = "cases", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn unfollow(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    work::follow(&state.store, &caller, CaseId(id), false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CcAddress {
    pub email: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/cc", tag = "cases", params(("id" = i64, Path)),
    request_body = CcAddress,
    responses((status = 204), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_cc(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<CcAddress>,
) -> ApiResult<StatusCode> {
    work::set_cc(&state.store, &caller, CaseId(id), &body.email, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/cases/{id}/cc/{email}", tag = "cases",
    params(("id" = i64, Path), ("email" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn remove_cc(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, email)): Path<(i64, String)>,
) -> ApiResult<StatusCode> {
    work::set_cc(&state.store, &caller, CaseId(id), &email, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PresenceView {
    pub user: UserRefView,
    pub replying: bool,
    pub seen_at: String,
}

impl From<&Presence> for PresenceView {
    fn from(p: &Presence) -> Self {
        PresenceView {
            user: UserRefView::from(&p.user),
            replying: p.replying,
            seen_at: p.seen_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PresenceList {
    /// Other agents with the case open in the last 30 seconds.
    pub others: Vec<PresenceView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceBeat {
    /// The caller's reply box holds text.
    #[serde(default)]
    pub replying: bool,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/presence", tag = "cases", params(("id" = i64, Path)),
    request_body = PresenceBeat,
    responses((status = 200, body = PresenceList), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn presence(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(beat): Json<PresenceBeat>,
) -> ApiResult<axum::Json<PresenceList>> {
    let others = work::presence(&state.store, &caller, CaseId(id), Some(beat.replying)).await?;
    Ok(axum::Json(PresenceList {
        others: others.iter().map(PresenceView::from).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    pub case_id: i64,
    pub rating: Rating,
    pub comment: Option<String>,
    pub rated_at: String,
}

impl From<&RatingRecord> for RatingView {
    fn from(r: &RatingRecord) -> Self {
        RatingView {
            case_id: r.case_id.0,
            rating: r.rating,
            comment: r.comment.clone(),
            rated_at: r.rated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateCase {
    pub rating: Rating,
    #[serde(default)]
    pub comment: String,
}

#[utoipa::path(put, path = "/api/v1/cases/{id}/rating", tag = "satisfaction", params(("id" = i64, Path)),
    request_body = RateCase,
    responses((status = 200, body = RatingView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn rate(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<RateCase>,
) -> ApiResult<axum::Json<RatingView>> {
    let case = service::visible_case(&state.store, &caller, CaseId(id)).await?;
    let saved = work::rate(
        &state.store,
        Some(&caller),
        &case,
        body.rating,
        &body.comment,
    )
    .await?;
    Ok(axum::Json(RatingView::from(&saved)))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/rating", tag = "satisfaction", params(("id" = i64, Path)),
    responses((status = 200, body = RatingView), (status = 404, body = crate::error::ErrorBody,
               description = "no such case, or not rated")))]
pub async fn rating(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<RatingView>> {
    let case = service::visible_case(&state.store, &caller, CaseId(id)).await?;
    // The requester's word about the work: the requester and staff read it.
    if !caller.role.is_staff() && caller.id != case.requester.id {
        return Err(ApiError::NotFound("rating"));
    }
    match state.store.case_rating(case.id).await? {
        Some(r) => Ok(axum::Json(RatingView::from(&r))),
        None => Err(ApiError::NotFound("rating")),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScoresQuery {
    /// `agent`, `queue`, `partner` or `organization`.
    pub by: String,
    /// Ratings of the last this many days (default 90, at most 3650).
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreView {
    pub id: i64,
    pub name: String,
    pub good: i64,
    pub bad: i64,
    /// Share of good ratings in percent; `null` with no ratings.
    pub percent: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreList {
    pub by: String,
    pub since: String,
    pub scores: Vec<ScoreView>,
    pub total: ScoreView,
}

/// Parses the grouping of a satisfaction report.
pub fn score_by(text: &str) -> ApiResult<ScoreBy> {
    match text {
        "agent" => Ok(ScoreBy::Agent),
        "queue" => Ok(ScoreBy::Queue),
        "partner" => Ok(ScoreBy::Partner),
        "organization" => Ok(ScoreBy::Organization),
        _ => Err(ApiError::validation(
            "by",
            "choose agent, queue, partner or organization",
        )),
    }
}

/// The first moment of a report over the last `days` days.
pub fn report_since(days: Option<i64>) -> ApiResult<Timestamp> {
    let days = days.unwrap_or(90);
    if !(1..=3650).contains(&days) {
        return Err(ApiError::validation("days", "choose 1 to 3650 days"));
    }
    Ok(Timestamp::now().minus(Span::from_millis(days * 86_400_000)))
}

#[utoipa::path(get, path = "/api/v1/satisfaction", tag = "satisfaction", params(ScoresQuery),
    responses((status = 200, body = ScoreList), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn scores(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<ScoresQuery>,
) -> ApiResult<axum::Json<ScoreList>> {
    let by = score_by(&query.by)?;
    let since = report_since(query.days)?;
    let rows = work::scores(&state.store, &caller, by, since).await?;
    let view = |id, name: String, score: Score| ScoreView {
        id,
        name,
        good: score.good,
        bad: score.bad,
        percent: score.percent(),
    };
    let total = state.store.satisfaction_total(None, since).await?;
    Ok(axum::Json(ScoreList {
        by: query.by.clone(),
        since: since.to_rfc3339(),
        scores: rows
            .into_iter()
            .map(|r| view(r.id, r.name, r.score))
            .collect(),
        total: view(0, "all".into(), total),
    }))
}
