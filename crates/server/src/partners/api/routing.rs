//! `/api/v1/routing`, `/api/v1/queues` and the case escalation endpoints: routing rules,
//! queues and their members, tiered escalation and swarming.

use crate::auth::{Caller, SettingsEditor, Staff};
use crate::cases::views::CaseView;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{etag, IfMatch, Json, Path};
use crate::partners::service::{self as partners, RuleBody};
use crate::partners::views::{
    QueueList, QueueView, QueueWithMembers, RouteTestResult, RuleList, RuleView, SwarmView,
};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use backline_domain::routing::{first_match, RoutingFacts, RuleDefinition, SupportModel};
use backline_domain::{CaseId, RuleId, UserId};
use serde::Deserialize;
use utoipa::ToSchema;

async fn rule_list(state: &AppState) -> ApiResult<RuleList> {
    let rules = state.store.routing_rules().await?;
    Ok(RuleList {
        rules: rules.iter().map(RuleView::from).collect(),
    })
}

/// Staff only: the rules in the order they are tried.
#[utoipa::path(get, path = "/api/v1/routing/rules", tag = "routing",
    responses((status = 200, body = RuleList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn rules(
    State(state): State<AppState>,
    _staff: Staff,
) -> ApiResult<axum::Json<RuleList>> {
    Ok(axum::Json(rule_list(&state).await?))
}

/// Settings (admins, and agents allowed to): adds a rule at the end of the order.
#[utoipa::path(post, path = "/api/v1/routing/rules", tag = "routing", request_body = RuleBody,
    responses((status = 201, body = RuleView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_rule(
    State(state): State<AppState>,
    SettingsEditor(staff): SettingsEditor,
    Json(body): Json<RuleBody>,
) -> ApiResult<(StatusCode, axum::Json<RuleView>)> {
    let definition = RuleDefinition::try_from(body)?;
    let rule = partners::save_rule(&state, &staff, None, &definition, None).await?;
    Ok((StatusCode::CREATED, axum::Json(RuleView::from(&rule))))
}

/// Staff only: one rule, with its version as the `ETag`.
#[utoipa::path(get, path = "/api/v1/routing/rules/{id}", tag = "routing", params(("id" = i64, Path)),
    responses((status = 200, body = RuleView, headers(("ETag" = String, description = "The rule's version, for `If-Match` on a change"))),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rule(
    State(state): State<AppState>,
    _staff: Staff,
    Path(id): Path<RuleId>,
) -> ApiResult<impl IntoResponse> {
    let rule = partners::rule(&state, id).await?;
    Ok((etag(rule.version), axum::Json(RuleView::from(&rule))))
}

/// Settings (admins, and agents allowed to): replaces a rule, keeping its place in the order.
#[utoipa::path(put, path = "/api/v1/routing/rules/{id}", tag = "routing", params(("id" = i64, Path)), request_body = RuleBody,
    params(("If-Match" = Option<String>, Header, description = "The ETag the change was made against: a rule changed since answers 412 `stale` and keeps what it has")),
    responses((status = 200, body = RuleView, headers(("ETag" = String, description = "The rule's new version"))),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn update_rule(
    State(state): State<AppState>,
    SettingsEditor(staff): SettingsEditor,
    Path(id): Path<RuleId>,
    IfMatch(expected): IfMatch,
    Json(body): Json<RuleBody>,
) -> ApiResult<impl IntoResponse> {
    let definition = RuleDefinition::try_from(body)?;
    let rule = partners::save_rule(&state, &staff, Some(id), &definition, expected).await?;
    Ok((etag(rule.version), axum::Json(RuleView::from(&rule))))
}

/// Settings (admins, and agents allowed to): deletes a rule that never routed a case (one that did must be disabled).
#[utoipa::path(delete, path = "/api/v1/routing/rules/{id}", tag = "routing", params(("id" = i64, Path)),
    params(("If-Match" = Option<String>, Header, description = "The ETag the deletion was decided on: a rule changed since answers 412 `stale` and stays")),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    SettingsEditor(staff): SettingsEditor,
    Path(id): Path<RuleId>,
    IfMatch(expected): IfMatch,
) -> ApiResult<StatusCode> {
    partners::delete_rule(&state, &staff, id, expected).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderBody {
    /// Every rule's id, exactly once, in the new order.
    pub ids: Vec<i64>,
}

/// Settings (admins, and agents allowed to): puts the rules in a new order.
#[utoipa::path(post, path = "/api/v1/routing/order", tag = "routing", request_body = OrderBody,
    responses((status = 200, body = RuleList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn order_rules(
    State(state): State<AppState>,
    _editor: SettingsEditor,
    Json(body): Json<OrderBody>,
) -> ApiResult<axum::Json<RuleList>> {
    let ids: Vec<RuleId> = body.ids.iter().copied().map(RuleId).collect();
    let existing: std::collections::BTreeSet<RuleId> = state
        .store
        .routing_rules()
        .await?
        .iter()
        .map(|r| r.id)
        .collect();
    let given: std::collections::BTreeSet<RuleId> = ids.iter().copied().collect();
    if given != existing || given.len() != ids.len() {
        return Err(ApiError::validation(
            "ids",
            "list every rule id exactly once",
        ));
    }
    state.store.reorder_rules(&ids).await?;
    state.partners.forget();
    Ok(axum::Json(rule_list(&state).await?))
}

/// Staff only: which rule would route a case like this one, without filing anything.
#[utoipa::path(post, path = "/api/v1/routing/test", tag = "routing", request_body = RoutingFacts,
    responses((status = 200, body = RouteTestResult), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn test_rules(
    State(state): State<AppState>,
    _staff: Staff,
    Json(facts): Json<RoutingFacts>,
) -> ApiResult<axum::Json<RouteTestResult>> {
    let rules = state.store.routing_rules().await?;
    let pairs: Vec<(RuleId, RuleDefinition)> =
        rules.iter().map(|r| (r.id, r.definition.clone())).collect();
    Ok(axum::Json(match first_match(&pairs, &facts) {
        Some((id, rule)) => RouteTestResult {
            matched: true,
            rule_id: Some(id.0),
            rule: Some(rule.name.clone()),
            actions: Some(rule.actions.clone()),
        },
        None => RouteTestResult {
            matched: false,
            rule_id: None,
            rule: None,
            actions: None,
        },
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueBody {
    pub slug: String,
    pub name: String,
    pub model: SupportModel,
    /// Tiered queues only: the tier the queue serves; escalating a case to it moves it here.
    #[serde(default)]
    pub tier: Option<backline_domain::Tier>,
}

/// Staff only: the queues with their members and how busy each is.
#[utoipa::path(get, path = "/api/v1/queues", tag = "routing",
    responses((status = 200, body = QueueList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn queues(
    State(state): State<AppState>,
    _staff: Staff,
) -> ApiResult<axum::Json<QueueList>> {
    let mut queues = Vec::new();
    for q in state.store.queues().await? {
        let members = state.store.queue_members(q.id).await?;
        queues.push(QueueWithMembers::from((&q, members.as_slice())));
    }
    Ok(axum::Json(QueueList { queues }))
}

#[utoipa::path(post, path = "/api/v1/queues", tag = "routing", request_body = QueueBody,
    responses((status = 201, body = QueueView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_queue(
    State(state): State<AppState>,
    SettingsEditor(staff): SettingsEditor,
    Json(body): Json<QueueBody>,
) -> ApiResult<(StatusCode, axum::Json<QueueView>)> {
    let queue = partners::create_queue(
        &state, &staff, &body.slug, &body.name, body.model, body.tier,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(QueueView::from(&queue))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    /// Replaces the member's skills (trimmed, lower-cased).
    #[serde(default)]
    pub skills: Vec<String>,
}

/// Staff only: one queue with its members, with its version as the `ETag`.
#[utoipa::path(get, path = "/api/v1/queues/{slug}", tag = "routing", params(("slug" = String, Path)),
    responses((status = 200, body = QueueWithMembers, headers(("ETag" = String, description = "The queue's version, for `If-Match` on a change to its members"))),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn queue(
    State(state): State<AppState>,
    _staff: Staff,
    Path(slug): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let (queue, members) = partners::queue_with_members(&state, &slug).await?;
    Ok((
        etag(queue.version),
        axum::Json(QueueWithMembers::from((&queue, members.as_slice()))),
    ))
}

/// Settings (admins, and agents allowed to): adds a staff member to a queue, or replaces their skills.
#[utoipa::path(put, path = "/api/v1/queues/{slug}/members/{user}", tag = "routing",
    params(("slug" = String, Path), ("user" = i64, Path),
           ("If-Match" = Option<String>, Header, description = "The queue's ETag the change was made against: members changed since answer 412 `stale` and stay as they are")),
    request_body = MemberBody,
    responses((status = 204, headers(("ETag" = String, description = "The queue's new version"))),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn set_member(
    State(state): State<AppState>,
    SettingsEditor(staff): SettingsEditor,
    Path((slug, user)): Path<(String, i64)>,
    IfMatch(expected): IfMatch,
    Json(body): Json<MemberBody>,
) -> ApiResult<impl IntoResponse> {
    let version = partners::set_queue_member(
        &state,
        &staff,
        &slug,
        UserId(user),
        body.skills.iter().map(String::as_str),
        expected,
    )
    .await?;
    Ok((etag(version), StatusCode::NO_CONTENT))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateBody {
    /// Why the case needs the next tier.
    pub reason: String,
}

/// Tiered support: move the case up one tier, with a reason, recorded as an event.
#[utoipa::path(post, path = "/api/v1/cases/{id}/escalate", tag = "routing", params(("id" = i64, Path)), request_body = EscalateBody,
    responses((status = 200, body = CaseView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn escalate(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<EscalateBody>,
) -> ApiResult<axum::Json<CaseView>> {
    // The service answers 404 for a case the caller cannot see before checking the role.
    let updated =
        crate::cases::service::escalate(&state, &caller, CaseId(id), &body.reason).await?;
    Ok(axum::Json(CaseView::for_reader(&updated, caller.role)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwarmBody {
    /// The skill to ask for; the queue's members who have it are asked.
    pub skill: String,
    pub message: String,
}

/// Swarming: the owner asks the queue's members with a skill for help; ownership stays.
#[utoipa::path(post, path = "/api/v1/cases/{id}/swarm", tag = "routing", params(("id" = i64, Path)), request_body = SwarmBody,
    responses((status = 200, body = SwarmView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn swarm(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<SwarmBody>,
) -> ApiResult<axum::Json<SwarmView>> {
    let (case, helpers) =
        crate::cases::service::swarm(&state, &caller, CaseId(id), &body.skill, &body.message)
            .await?;
    Ok(axum::Json(SwarmView::from((&case, helpers.as_slice()))))
}
