//! `/api/v1/success`: accounts and their health, health weights, playbooks, suggestions,
//! runs, triggers and tasks.

use super::service::{self, AccountChange, AccountSummary, RunDetail, TaskDetail};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{etag, IfMatch, Json, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use backline_domain::health::{Health, HealthWeights};
use backline_domain::playbooks::{PlaybookContent, Stage, Step};
use backline_domain::{FieldErrors, Timestamp};
use backline_store::{Playbook, Run, Suggestion};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub slug: String,
    pub name: String,
    /// `customer` or `partner`.
    pub kind: String,
    /// Email of the success manager, if any.
    pub owner_email: Option<String>,
    pub stage: Stage,
    pub renewal_at: Option<String>,
    pub health: Health,
    /// Moves on with every save of owner, stage or renewal (0 before the first); also the
    /// `ETag` of the account, for `If-Match` on a change.
    pub version: i64,
}

impl From<&AccountSummary> for AccountView {
    fn from(a: &AccountSummary) -> Self {
        AccountView {
            slug: a.org.slug.clone(),
            name: a.org.name.clone(),
            kind: a.org.kind.as_str().into(),
            owner_email: a.owner.as_ref().map(|u| u.email.clone()),
            stage: a.stage,
            renewal_at: a.renewal.map(Timestamp::to_rfc3339),
            health: a.health.clone(),
            version: a.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    /// Lowest health first.
    pub accounts: Vec<AccountView>,
    pub weights: HealthWeights,
}

#[utoipa::path(get, path = "/api/v1/success/accounts", tag = "success",
    responses((status = 200, body = AccountList), (status = 403, body = crate::error::ErrorBody)))]
pub async fn accounts(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<AccountList>> {
    let accounts = service::accounts(&state.store, &caller, state.clock.now()).await?;
    Ok(axum::Json(AccountList {
        accounts: accounts.iter().map(AccountView::from).collect(),
        weights: service::weights(&state.store).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/success/accounts/{slug}", tag = "success",
    params(("slug" = String, Path)),
    responses((status = 200, body = AccountView, headers(("ETag" = String, description = "The account's version (\"0\" before its first save), for `If-Match` on a change"))),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn account(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let a = service::account(&state.store, &caller, &slug, state.clock.now()).await?;
    Ok((etag(a.version), axum::Json(AccountView::from(&a))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountBody {
    /// A staff user's email; `null` or empty: no owner.
    pub owner_email: Option<String>,
    /// `onboarding`, `adoption`, `mature`, `renewal`, `at_risk` or `churned`.
    pub stage: String,
    /// RFC 3339 time or `YYYY-MM-DD`; `null`: none.
    pub renewal_at: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/success/accounts/{slug}", tag = "success",
    params(("slug" = String, Path),
           ("If-Match" = Option<String>, Header, description = "The ETag the change was made against: an account changed since answers 412 `stale` and keeps what it has")),
    request_body = AccountBody,
    responses((status = 200, body = AccountView, headers(("ETag" = String, description = "The account's new version"))),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_account(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
    IfMatch(expected): IfMatch,
    Json(body): Json<AccountBody>,
) -> ApiResult<impl IntoResponse> {
    let mut errors = FieldErrors::new();
    let renewal = match body.renewal_at.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => match crate::extract::parse_time("renewal_at", text) {
            Ok(t) => Some(t),
            Err(_) => {
                errors.add("renewal_at", "write a date such as 2027-03-31");
                None
            }
        },
    };
    let change = AccountChange {
        owner_email: body.owner_email.unwrap_or_default(),
        stage: body.stage,
        renewal,
    };
    let a = service::update_account(
        &state.store,
        &caller,
        &slug,
        &change,
        errors,
        state.clock.now(),
        expected,
    )
    .await?;
    Ok((etag(a.version), axum::Json(AccountView::from(&a))))
}

/// The health weights with their version.
#[derive(Debug, Serialize, ToSchema)]
pub struct WeightsView {
    pub volume_trend: u32,
    pub severe_open: u32,
    pub satisfaction: u32,
    pub incidents: u32,
    pub escalations: u32,
    /// Moves on with every change (0 while the defaults apply); also the `ETag`, for
    /// `If-Match` on a change.
    pub version: i64,
}

impl WeightsView {
    fn new((w, version): (HealthWeights, i64)) -> Self {
        WeightsView {
            volume_trend: w.volume_trend,
            severe_open: w.severe_open,
            satisfaction: w.satisfaction,
            incidents: w.incidents,
            escalations: w.escalations,
            version,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/success/health-weights", tag = "success",
    responses((status = 200, body = WeightsView, headers(("ETag" = String, description = "The weights' version (\"0\" on the defaults), for `If-Match` on a change"))),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn weights(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<impl IntoResponse> {
    let read = service::read_weights(&state.store, &caller).await?;
    Ok((etag(read.1), axum::Json(WeightsView::new(read))))
}

#[utoipa::path(put, path = "/api/v1/success/health-weights", tag = "success",
    params(("If-Match" = Option<String>, Header, description = "The ETag the change was made against: weights changed since answer 412 `stale` and keep what they have")),
    request_body = HealthWeights,
    responses((status = 200, body = WeightsView, headers(("ETag" = String, description = "The weights' new version"))),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 412, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_weights(
    State(state): State<AppState>,
    Caller(caller): Caller,
    IfMatch(expected): IfMatch,
    Json(body): Json<HealthWeights>,
) -> ApiResult<impl IntoResponse> {
    let saved = service::set_weights(&state.store, &caller, &body, expected).await?;
    Ok((etag(saved.1), axum::Json(WeightsView::new(saved))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaybookView {
    pub id: i64,
    pub version: i64,
    pub owner_id: Option<i64>,
    pub content: PlaybookContent,
    pub updated_at: String,
}

impl From<Playbook> for PlaybookView {
    fn from(p: Playbook) -> Self {
        PlaybookView {
            id: p.id,
            version: p.version,
            owner_id: p.owner.map(|u| u.0),
            content: p.content,
            updated_at: p.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaybookList {
    pub playbooks: Vec<PlaybookView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PlaybookQuery {
    /// Words that must all appear in the playbook (name, situation, summary, steps).
    pub q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/success/playbooks", tag = "success", params(PlaybookQuery),
    responses((status = 200, body = PlaybookList), (status = 403, body = crate::error::ErrorBody)))]
pub async fn playbooks(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<PlaybookQuery>,
) -> ApiResult<axum::Json<PlaybookList>> {
    let list = service::playbooks(&state.store, &caller, query.q.as_deref()).await?;
    Ok(axum::Json(PlaybookList {
        playbooks: list.into_iter().map(PlaybookView::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/success/playbooks", tag = "success",
    request_body = PlaybookContent,
    responses((status = 201, body = PlaybookView), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_playbook(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<PlaybookContent>,
) -> ApiResult<(StatusCode, axum::Json<PlaybookView>)> {
    let saved = service::save_playbook(&state.store, &caller, None, &body).await?;
    Ok((StatusCode::CREATED, axum::Json(saved.into())))
}

#[utoipa::path(get, path = "/api/v1/success/playbooks/{id}", tag = "success",
    params(("id" = i64, Path)),
    responses((status = 200, body = PlaybookView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn playbook(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<PlaybookView>> {
    Ok(axum::Json(
        service::playbook(&state.store, &caller, id, None)
            .await?
            .into(),
    ))
}

#[utoipa::path(get, path = "/api/v1/success/playbooks/{id}/versions/{version}", tag = "success",
    params(("id" = i64, Path), ("version" = i64, Path)),
    responses((status = 200, body = PlaybookView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn playbook_version(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, version)): Path<(i64, i64)>,
) -> ApiResult<axum::Json<PlaybookView>> {
    Ok(axum::Json(
        service::playbook(&state.store, &caller, id, Some(version))
            .await?
            .into(),
    ))
}

#[utoipa::path(put, path = "/api/v1/success/playbooks/{id}", tag = "success",
    params(("id" = i64, Path)), request_body = PlaybookContent,
    responses((status = 200, body = PlaybookView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn save_playbook(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<PlaybookContent>,
) -> ApiResult<axum::Json<PlaybookView>> {
    Ok(axum::Json(
        service::save_playbook(&state.store, &caller, Some(id), &body)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestionBody {
    /// What the suggester needed to learn and the playbook did not say.
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionView {
    pub id: i64,
    pub author_id: i64,
    pub body: String,
    /// `open`, `accepted` or `declined`.
    pub state: String,
    pub created_at: String,
}

impl From<Suggestion> for SuggestionView {
    fn from(s: Suggestion) -> Self {
        SuggestionView {
            id: s.id,
            author_id: s.author_id.0,
            body: s.body,
            state: s.state,
            created_at: s.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionList {
    pub suggestions: Vec<SuggestionView>,
}

#[utoipa::path(get, path = "/api/v1/success/playbooks/{id}/suggestions", tag = "success",
    params(("id" = i64, Path)),
    responses((status = 200, body = SuggestionList), (status = 403, body = crate::error::ErrorBody)))]
pub async fn suggestions(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<SuggestionList>> {
    let list = service::suggestions(&state.store, &caller, id).await?;
    Ok(axum::Json(SuggestionList {
        suggestions: list.into_iter().map(SuggestionView::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/success/playbooks/{id}/suggestions", tag = "success",
    params(("id" = i64, Path)), request_body = SuggestionBody,
    responses((status = 201, body = SuggestionList), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn suggest(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<SuggestionBody>,
) -> ApiResult<(StatusCode, axum::Json<SuggestionList>)> {
    service::suggest(&state.store, &caller, id, &body.body).await?;
    let list = service::suggestions(&state.store, &caller, id).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(SuggestionList {
            suggestions: list.into_iter().map(SuggestionView::from).collect(),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub accept: bool,
}

#[utoipa::path(post, path = "/api/v1/success/playbooks/{id}/suggestions/{suggestion}/decision",
    tag = "success", params(("id" = i64, Path), ("suggestion" = i64, Path)), request_body = DecisionBody,
    responses((status = 204), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, suggestion)): Path<(i64, i64)>,
    Json(body): Json<DecisionBody>,
) -> ApiResult<StatusCode> {
    service::decide(&state.store, &caller, id, suggestion, body.accept).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    /// The account's organisation slug.
    pub account: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    pub id: i64,
    pub run_id: i64,
    pub step: i64,
    pub title: String,
    pub owner_id: i64,
    pub due_at: String,
    pub overdue: bool,
    pub done_at: Option<String>,
    pub note: Option<String>,
    /// Who the step's email went to, once its owner approved it.
    pub email_to: Option<String>,
    pub email_sent_at: Option<String>,
    pub account: String,
    pub playbook: String,
    /// The step beside the task: script, sample email, sample dialogue.
    pub details: Option<Step>,
    /// The sample email filled for the account.
    pub email_subject: Option<String>,
    pub email_body: Option<String>,
}

pub fn task_view(t: &TaskDetail) -> TaskView {
    TaskView {
        id: t.task.id,
        run_id: t.task.run_id,
        step: t.task.step,
        title: t.task.title.clone(),
        owner_id: t.task.owner_id.0,
        due_at: t.task.due_at.to_rfc3339(),
        overdue: t.overdue,
        done_at: t.task.done_at.map(Timestamp::to_rfc3339),
        note: t.task.note.clone(),
        email_to: t.task.email_to.clone(),
        email_sent_at: t.task.email_sent_at.map(Timestamp::to_rfc3339),
        account: t.org.slug.clone(),
        playbook: t.playbook_name.clone(),
        details: t.step.clone(),
        email_subject: t.email.as_ref().map(|e| e.0.clone()),
        email_body: t.email.as_ref().map(|e| e.1.clone()),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    pub id: i64,
    pub playbook_id: i64,
    pub playbook: String,
    pub version: i64,
    pub account: String,
    pub started_by: Option<i64>,
    /// `manual` or the trigger's kind (`health_below`, `renewal_within`, `new_partner`,
    /// `partner_alert`, `incident`).
    pub trigger: String,
    pub reason: String,
    pub outcome: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub tasks: Vec<RunTask>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunTask {
    pub id: i64,
    pub title: String,
    pub owner_id: i64,
    pub due_at: String,
    pub done_at: Option<String>,
    pub email_sent_at: Option<String>,
}

fn run_view(d: &RunDetail) -> RunView {
    let r: &Run = &d.run;
    RunView {
        id: r.id,
        playbook_id: r.playbook_id,
        playbook: d.playbook.content.name.clone(),
        version: r.version,
        account: d.org.slug.clone(),
        started_by: r.started_by.map(|u| u.0),
        trigger: r.trigger_kind.clone(),
        reason: r.reason.clone(),
        outcome: r.outcome.clone(),
        started_at: r.started_at.to_rfc3339(),
        finished_at: r.finished_at.map(Timestamp::to_rfc3339),
        tasks: d
            .tasks
            .iter()
            .map(|t| RunTask {
                id: t.id,
                title: t.title.clone(),
                owner_id: t.owner_id.0,
                due_at: t.due_at.to_rfc3339(),
                done_at: t.done_at.map(Timestamp::to_rfc3339),
                email_sent_at: t.email_sent_at.map(Timestamp::to_rfc3339),
            })
            .collect(),
    }
}

#[utoipa::path(post, path = "/api/v1/success/playbooks/{id}/runs", tag = "success",
    params(("id" = i64, Path)), request_body = RunBody,
    responses((status = 201, body = RunView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn start_run(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<RunBody>,
) -> ApiResult<(StatusCode, axum::Json<RunView>)> {
    let run =
        service::run_by_hand(&state.store, &caller, id, &body.account, state.clock.now()).await?;
    let detail = service::run(&state.store, &caller, run.id).await?;
    Ok((StatusCode::CREATED, axum::Json(run_view(&detail))))
}

#[utoipa::path(get, path = "/api/v1/success/runs/{id}", tag = "success",
    params(("id" = i64, Path)),
    responses((status = 200, body = RunView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<RunView>> {
    Ok(axum::Json(run_view(
        &service::run(&state.store, &caller, id).await?,
    )))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    pub runs: Vec<RunView>,
}

#[utoipa::path(get, path = "/api/v1/success/runs", tag = "success",
    responses((status = 200, body = RunList), (status = 403, body = crate::error::ErrorBody)))]
pub async fn runs(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<RunList>> {
    let mut out = Vec::new();
    for r in service::runs(&state.store, &caller, None).await? {
        out.push(run_view(&service::run(&state.store, &caller, r.id).await?));
    }
    Ok(axum::Json(RunList { runs: out }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeBody {
    pub outcome: String,
}

#[utoipa::path(post, path = "/api/v1/success/runs/{id}/finish", tag = "success",
    params(("id" = i64, Path)), request_body = OutcomeBody,
    responses((status = 200, body = RunView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn finish_run(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<OutcomeBody>,
) -> ApiResult<axum::Json<RunView>> {
    service::finish_run(&state.store, &caller, id, &body.outcome).await?;
    Ok(axum::Json(run_view(
        &service::run(&state.store, &caller, id).await?,
    )))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TriggerReport {
    /// Runs the check started.
    pub started: Vec<i64>,
}

#[utoipa::path(post, path = "/api/v1/success/triggers/check", tag = "success",
    responses((status = 200, body = TriggerReport), (status = 403, body = crate::error::ErrorBody)))]
pub async fn check_triggers(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<TriggerReport>> {
    let started = service::check_triggers_now(&state, &caller).await?;
    Ok(axum::Json(TriggerReport { started }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskList {
    pub tasks: Vec<TaskView>,
}

#[utoipa::path(get, path = "/api/v1/success/tasks/mine", tag = "success",
    responses((status = 200, body = TaskList), (status = 403, body = crate::error::ErrorBody)))]
pub async fn my_tasks(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<TaskList>> {
    let tasks = service::my_tasks(&state.store, &caller, state.clock.now()).await?;
    Ok(axum::Json(TaskList {
        tasks: tasks.iter().map(task_view).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    #[serde(default)]
    pub note: String,
}

#[utoipa::path(post, path = "/api/v1/success/tasks/{id}/complete", tag = "success",
    params(("id" = i64, Path)), request_body = CompleteBody,
    responses((status = 200, body = TaskView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn complete_task(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<CompleteBody>,
) -> ApiResult<axum::Json<TaskView>> {
    service::complete_task(&state.store, &caller, id, &body.note).await?;
    let t = service::task(&state.store, &caller, id, state.clock.now()).await?;
    Ok(axum::Json(task_view(&t)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailBody {
    /// Email of a person of the account's organisation.
    pub to: String,
}

#[utoipa::path(post, path = "/api/v1/success/tasks/{id}/email", tag = "success",
    params(("id" = i64, Path)), request_body = EmailBody,
    responses((status = 200, body = TaskView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn send_email(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<EmailBody>,
) -> ApiResult<axum::Json<TaskView>> {
    service::send_step_email(&state.store, &caller, id, &body.to).await?;
    let t = service::task(&state.store, &caller, id, state.clock.now()).await?;
    Ok(axum::Json(task_view(&t)))
}
