//! `/success`: accounts by health with the formula, an account's owner, stage, renewal and
//! runs, a playbook with its steps and suggestions, and "My tasks" with each step's script and
//! email beside it. Staff only.

use super::service::{self, AccountChange};
use crate::error::ApiError;
use crate::layout::{field_error, html_response, page, stale_notice, version_field, when};
use crate::session::WebUser;
use crate::web::{CsrfForm, OrPage, PageResult};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use backline_domain::health::HealthWeights;
use backline_domain::playbooks::{
    PlaybookContent, Situation, Stage, Step, StepOwner, Trigger, PLACEHOLDERS,
};
use backline_domain::{FieldErrors, Role};
use maud::{html, Markup};
use serde::Deserialize;

fn measure_label(name: &str) -> &str {
    match name {
        "volume_trend" => "Case volume trend",
        "severe_open" => "Severe open cases",
        "satisfaction" => "Satisfaction",
        "incidents" => "Incident exposure",
        "escalations" => "Escalations",
        other => other,
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct WeightsForm {
    #[serde(default)]
    volume_trend: String,
    #[serde(default)]
    severe_open: String,
    #[serde(default)]
    satisfaction: String,
    #[serde(default)]
    incidents: String,
    #[serde(default)]
    escalations: String,
    /// The weights' version the form was drawn from.
    #[serde(default)]
    version: Option<i64>,
}

impl WeightsForm {
    fn from(w: &HealthWeights, version: i64) -> Self {
        WeightsForm {
            version: Some(version),
            volume_trend: w.volume_trend.to_string(),
            severe_open: w.severe_open.to_string(),
            satisfaction: w.satisfaction.to_string(),
            incidents: w.incidents.to_string(),
            escalations: w.escalations.to_string(),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct OverviewQuery {
    #[serde(default)]
    q: String,
}

pub async fn overview(
    State(state): State<AppState>,
    who: WebUser,
    Query(query): Query<OverviewQuery>,
) -> PageResult {
    render_overview(&state, &who, &query.q, None, false).await
}

async fn render_overview(
    state: &AppState,
    who: &WebUser,
    query: &str,
    weights_form: Option<(&WeightsForm, &FieldErrors)>,
    stale: bool,
) -> PageResult {
    let store = &state.store;
    let accounts = service::accounts(store, &who.user, state.clock.now())
        .await
        .or_page(who)?;
    let playbooks = service::playbooks(store, &who.user, Some(query))
        .await
        .or_page(who)?;
    let (weights, version) = service::weights_with_version(store).await.or_page(who)?;
    let current = WeightsForm::from(&weights, version);
    let empty = FieldErrors::new();
    let (wform, werrors) = weights_form.unwrap_or((&current, &empty));
    let admin = who.user.role == Role::Admin;
    let body = html! {
        h1 { "Customer success" }
        p { a href="/success/tasks" { "My tasks" } }
        section.card {
            h2 { "Accounts, lowest health first" }
            p.muted { "Health is the weighted mean of the measures below, each 0 to 100; a measure with nothing to measure (no ratings yet) is left out. Weights: "
                @for (i, (name, w)) in [("volume trend", weights.volume_trend), ("severe open cases", weights.severe_open), ("satisfaction", weights.satisfaction), ("incidents", weights.incidents), ("escalations", weights.escalations)].iter().enumerate() {
                    @if i > 0 { ", " } (name) " " (w)
                } "." }
            div.table-scroll { table.list #accounts {
                thead { tr { th { "Account" } th { "Kind" } th { "Health" } th { "Owner" } th { "Stage" } th { "Renewal" } } }
                tbody { @for a in &accounts { tr {
                    td { a href=(format!("/success/accounts/{}", a.org.slug)) { (a.org.name) } }
                    td { (a.org.kind.as_str()) }
                    td.num { (format!("{:.1}", a.health.score)) }
                    td { @if let Some(o) = &a.owner { (o.name) } @else { span.muted { "nobody" } } }
                    td { (a.stage.as_str()) }
                    td { @if let Some(r) = a.renewal { (r.date().to_string()) } @else { "—" } }
                } } }
            } }
        }
        section.card {
            h2 { "Playbooks" }
            p { a href="/success/playbooks/new" { "Write a playbook" } }
            form method="get" action="/success" {
                label for="pb-q" { "Search playbooks" }
                input #pb-q type="search" name="q" value=(query);
                button type="submit" { "Search" }
            }
            @if playbooks.is_empty() { p.empty { @if query.is_empty() { "No playbook yet." } @else { "No playbook has these words." } } }
            ul { @for p in &playbooks { li {
                a.in-text href=(format!("/success/playbooks/{}", p.id)) { (p.content.name) }
                " · " (p.content.situation.label()) " · version " (p.version)
                @if let Some(t) = &p.content.trigger { " · starts on " (t.as_str()) }
            } } }
        }
        @if admin {
            section.card #weights {
                h2 { "Health weights" }
                @if stale { (stale_notice("weighting")) }
                @if !werrors.is_empty() { div.error role="alert" { "The weights were not saved. Please correct the fields marked below." } }
                form method="post" action="/success/weights" {
                    input type="hidden" name="csrf" value=(who.csrf);
                    (version_field(wform.version))
                    @for (name, value) in [("volume_trend", &wform.volume_trend), ("severe_open", &wform.severe_open), ("satisfaction", &wform.satisfaction), ("incidents", &wform.incidents), ("escalations", &wform.escalations)] {
                        label for=(format!("w-{name}")) { (measure_label(name)) " (0–100)" }
                        input id=(format!("w-{name}")) type="text" inputmode="numeric" name=(name) value=(value);
                        (field_error(werrors, &[name]))
                    }
                    (field_error(werrors, &["weights"]))
                    button type="submit" { "Save weights" }
                }
            }
        }
    };
    let status = if stale {
        StatusCode::CONFLICT
    } else if werrors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html_response(
        status,
        page("Customer success", Some(who), body),
    ))
}

pub async fn save_weights(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<WeightsForm>,
) -> PageResult {
    let mut errors = FieldErrors::new();
    let mut read = |field: &str, text: &str| match text.trim().parse::<u32>() {
        Ok(n) => n,
        Err(_) => {
            errors.add(field, "write a whole number from 0 to 100");
            0
        }
    };
    let weights = HealthWeights {
        volume_trend: read("volume_trend", &form.volume_trend),
        severe_open: read("severe_open", &form.severe_open),
        satisfaction: read("satisfaction", &form.satisfaction),
        incidents: read("incidents", &form.incidents),
        escalations: read("escalations", &form.escalations),
    };
    let result = match errors.into_result() {
        Err(errors) => Err(ApiError::Validation(errors)),
        Ok(()) => service::set_weights(&state.store, &who.user, &weights, form.version)
            .await
            .map(drop),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/success#weights").into_response()),
        Err(ApiError::Validation(errors)) => {
            render_overview(&state, &who, "", Some((&form, &errors)), false).await
        }
        Err(ApiError::Stale(_)) => {
            // Someone changed the weights after this form was drawn: nothing is overwritten;
            // the formula line shows them as they are now and the form keeps what was typed,
            // now against the current version, so saving again is a choice.
            let (_, current) = service::weights_with_version(&state.store)
                .await
                .or_page(&who)?;
            let form = WeightsForm {
                version: Some(current),
                ..form
            };
            render_overview(&state, &who, "", Some((&form, &FieldErrors::new())), true).await
        }
        Err(e) => Err(e).or_page(&who),
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct AccountForm {
    #[serde(default)]
    owner_email: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    renewal_at: String,
    /// The account's version the form was drawn from.
    #[serde(default)]
    version: Option<i64>,
}

pub async fn account_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(slug): Path<String>,
) -> PageResult {
    render_account(&state, &who, &slug, None, false).await
}

async fn render_account(
    state: &AppState,
    who: &WebUser,
    slug: &str,
    form: Option<(&AccountForm, &FieldErrors)>,
    stale: bool,
) -> PageResult {
    let store = &state.store;
    let a = service::account(store, &who.user, slug, state.clock.now())
        .await
        .or_page(who)?;
    let runs = service::runs(store, &who.user, Some(a.org.id))
        .await
        .or_page(who)?;
    let playbooks = service::playbooks(store, &who.user, None)
        .await
        .or_page(who)?;
    let staff = store.list_users(None, true).await.or_page(who)?;
    let current = AccountForm {
        owner_email: a
            .owner
            .as_ref()
            .map(|o| o.email.clone())
            .unwrap_or_default(),
        stage: a.stage.as_str().into(),
        renewal_at: a.renewal.map(|r| r.date().to_string()).unwrap_or_default(),
        version: Some(a.version),
    };
    let empty = FieldErrors::new();
    let (form, errors) = form.unwrap_or((&current, &empty));
    let body = html! {
        h1 { (a.org.name) " " span.muted { (a.org.kind.as_str()) } }
        p { a href="/success" { "All accounts" } }
        section.card {
            h2 { "Health " (format!("{:.1}", a.health.score)) }
            p.muted { "Weighted mean: Σ(weight × score) / Σ(weight) over the measures that have a score." }
            div.table-scroll { table.list #health {
                thead { tr { th { "Measure" } th { "Score" } th { "Weight" } th { "From" } } }
                tbody { @for m in &a.health.measures { tr {
                    td { (measure_label(&m.name)) }
                    td.num { @if let Some(s) = m.score { (format!("{s:.1}")) } @else { "left out" } }
                    td.num { (m.weight) }
                    td { (m.explanation) }
                } } }
            } }
        }
        section.card {
            h2 { "Owner, stage and renewal" }
            @if stale {
                (stale_notice("account"))
                p #account-now { "Now: success manager "
                    @if let Some(o) = &a.owner { (o.email) } @else { "nobody" }
                    ", stage " (a.stage.as_str()) ", renewal "
                    @if let Some(r) = a.renewal { (r.date().to_string()) } @else { "none" } "." }
            }
            @if !errors.is_empty() { div.error role="alert" { "The account was not saved. Please correct the fields marked below." } }
            form method="post" action=(format!("/success/accounts/{}", a.org.slug)) {
                input type="hidden" name="csrf" value=(who.csrf);
                (version_field(form.version))
                label for="a-owner" { "Success manager" }
                select #a-owner name="owner_email" {
                    option value="" { "nobody" }
                    @for u in &staff { option value=(u.email) selected[form.owner_email == u.email] { (u.name) " (" (u.email) ")" } }
                }
                (field_error(errors, &["owner_email"]))
                label for="a-stage" { "Stage" }
                select #a-stage name="stage" {
                    @for s in Stage::ALL { option value=(s.as_str()) selected[form.stage == s.as_str()] { (s.as_str()) } }
                }
                (field_error(errors, &["stage"]))
                label for="a-renewal" { "Renewal date" }
                input #a-renewal type="date" name="renewal_at" value=(form.renewal_at);
                (field_error(errors, &["renewal_at"]))
                button type="submit" { "Save" }
            }
        }
        section.card {
            h2 { "Playbook runs" }
            @if runs.is_empty() { p.empty { "No run yet." } }
            ul { @for r in &runs { li {
                (playbooks.iter().find(|p| p.id == r.playbook_id).map_or("a playbook", |p| p.content.name.as_str()))
                " · " (r.reason) " · started " (when(r.started_at))
                @if let Some(o) = &r.outcome { " · outcome: " (o) }
                @else {
                    form method="post" action=(format!("/success/runs/{}/finish", r.id)) {
                        input type="hidden" name="csrf" value=(who.csrf);
                        label for=(format!("outcome-{}", r.id)) { "Outcome" }
                        input id=(format!("outcome-{}", r.id)) type="text" name="outcome" required;
                        button.secondary type="submit" { "Finish the run" }
                    }
                }
            } } }
            @if !playbooks.is_empty() {
                form method="post" action=(format!("/success/accounts/{}/runs", a.org.slug)) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    label for="r-playbook" { "Run a playbook on this account" }
                    select #r-playbook name="playbook" {
                        @for p in &playbooks { option value=(p.id) { (p.content.name) } }
                    }
                    button type="submit" { "Start" }
                }
            }
        }
    };
    let status = if stale {
        StatusCode::CONFLICT
    } else if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html_response(status, page(&a.org.name, Some(who), body)))
}

pub async fn save_account(
    State(state): State<AppState>,
    who: WebUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<AccountForm>,
) -> PageResult {
    let mut errors = FieldErrors::new();
    let renewal = match form.renewal_at.trim() {
        "" => None,
        text => match crate::extract::parse_time("renewal_at", text) {
            Ok(t) => Some(t),
            Err(_) => {
                errors.add("renewal_at", "write a date such as 2027-03-31");
                None
            }
        },
    };
    let change = AccountChange {
        owner_email: form.owner_email.clone(),
        stage: form.stage.clone(),
        renewal,
    };
    match service::update_account(
        &state.store,
        &who.user,
        &slug,
        &change,
        errors,
        state.clock.now(),
        form.version,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/success/accounts/{slug}")).into_response()),
        Err(ApiError::Validation(errors)) => {
            render_account(&state, &who, &slug, Some((&form, &errors)), false).await
        }
        Err(ApiError::Stale(_)) => {
            // Someone changed the account after this form was drawn: nothing is overwritten;
            // the form keeps what was typed, now against the current version, beside the
            // account as it is now.
            let current = service::account(&state.store, &who.user, &slug, state.clock.now())
                .await
                .or_page(&who)?;
            let form = AccountForm {
                version: Some(current.version),
                ..form
            };
            render_account(
                &state,
                &who,
                &slug,
                Some((&form, &FieldErrors::new())),
                true,
            )
            .await
        }
        Err(e) => Err(e).or_page(&who),
    }
}

#[derive(Deserialize)]
pub struct RunForm {
    playbook: i64,
}

pub async fn start_run(
    State(state): State<AppState>,
    who: WebUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<RunForm>,
) -> PageResult {
    service::run_by_hand(
        &state.store,
        &who.user,
        form.playbook,
        &slug,
        state.clock.now(),
    )
    .await
    .or_page(&who)?;
    Ok(Redirect::to("/success/tasks").into_response())
}

pub async fn playbook_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
) -> PageResult {
    render_playbook(&state, &who, id, None).await
}

async fn render_playbook(
    state: &AppState,
    who: &WebUser,
    id: i64,
    typed: Option<(&str, &FieldErrors)>,
) -> PageResult {
    let store = &state.store;
    let p = service::playbook(store, &who.user, id, None)
        .await
        .or_page(who)?;
    let suggestions = service::suggestions(store, &who.user, id)
        .await
        .or_page(who)?;
    let versions = store.playbook_versions(id).await.or_page(who)?;
    let decides = p.owner == Some(who.user.id) || who.user.role == Role::Admin;
    let empty = FieldErrors::new();
    let (text, errors) = typed.unwrap_or(("", &empty));
    let body = html! {
        h1 { (p.content.name) }
        @if decides { p { a href=(format!("/success/playbooks/{id}/edit")) { "Edit this playbook" } } }
        p.muted { (p.content.situation.label()) " · version " (p.version) " of " (versions.len())
            @if let Some(t) = &p.content.trigger { " · starts by itself on " (t.as_str()) } }
        @if !p.content.summary.is_empty() { p { (p.content.summary) } }
        @for (i, s) in p.content.steps.iter().enumerate() {
            section.card {
                h2 { "Step " (i + 1) ": " (s.title) }
                p.muted { "Due " (s.day_offset) " days after the start · for the "
                    @match s.owner { backline_domain::playbooks::StepOwner::AccountOwner => "account's owner", backline_domain::playbooks::StepOwner::Runner => "person who runs it" } }
                @if !s.script.is_empty() { h3 { "Script" } p.pre { (s.script) } }
                @if !s.email_subject.is_empty() { h3 { "Sample email" } p { strong { (s.email_subject) } } p.pre { (s.email_body) } }
                @if !s.dialogue.is_empty() { h3 { "Sample dialogue" } p.pre { (s.dialogue) } }
            }
        }
        section.card #suggestions {
            h2 { "What I needed to learn" }
            @if suggestions.is_empty() { p.empty { "No suggestion yet." } }
            ul { @for s in &suggestions { li {
                (s.body) " · " (s.state)
                @if decides && s.state == "open" {
                    form.inline method="post" action=(format!("/success/playbooks/{id}/suggestions/{}", s.id)) {
                        input type="hidden" name="csrf" value=(who.csrf);
                        input type="hidden" name="accept" value="1";
                        button.secondary type="submit" { "Accept" }
                    }
                    form.inline method="post" action=(format!("/success/playbooks/{id}/suggestions/{}", s.id)) {
                        input type="hidden" name="csrf" value=(who.csrf);
                        button.secondary type="submit" { "Decline" }
                    }
                }
            } } }
            @if !errors.is_empty() { div.error role="alert" { "The suggestion was not saved." } }
            form method="post" action=(format!("/success/playbooks/{id}/suggestions")) {
                input type="hidden" name="csrf" value=(who.csrf);
                label for="s-body" { "Suggest an addition" }
                textarea #s-body name="body" rows="3" { (text) }
                (field_error(errors, &["body"]))
                button type="submit" { "Suggest" }
            }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html_response(
        status,
        page(&p.content.name, Some(who), body),
    ))
}

#[derive(Deserialize)]
pub struct SuggestForm {
    #[serde(default)]
    body: String,
}

pub async fn suggest(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<SuggestForm>,
) -> PageResult {
    match service::suggest(&state.store, &who.user, id, &form.body).await {
        Ok(_) => Ok(Redirect::to(&format!("/success/playbooks/{id}#suggestions")).into_response()),
        Err(ApiError::Validation(errors)) => {
            render_playbook(&state, &who, id, Some((&form.body, &errors))).await
        }
        Err(e) => Err(e).or_page(&who),
    }
}

#[derive(Deserialize)]
pub struct DecideForm {
    accept: Option<String>,
}

pub async fn decide(
    State(state): State<AppState>,
    who: WebUser,
    Path((id, suggestion)): Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<DecideForm>,
) -> PageResult {
    service::decide(
        &state.store,
        &who.user,
        id,
        suggestion,
        form.accept.is_some(),
    )
    .await
    .or_page(&who)?;
    Ok(Redirect::to(&format!("/success/playbooks/{id}#suggestions")).into_response())
}

pub async fn tasks_page(State(state): State<AppState>, who: WebUser) -> PageResult {
    let store = &state.store;
    let tasks = service::my_tasks(store, &who.user, state.clock.now())
        .await
        .or_page(&who)?;
    let mut people = Vec::new();
    for t in &tasks {
        people.push(
            store
                .list_users(Some(t.org.id), false)
                .await
                .or_page(&who)?,
        );
    }
    let body = html! {
        h1 { "My tasks" }
        @if tasks.is_empty() { p.empty { "No open task." } }
        @for (t, people) in tasks.iter().zip(&people) {
            section.card.task {
                h2 {
                    @if t.overdue { span.badge.overdue { "Overdue" } " " }
                    (t.task.title)
                }
                p.muted { (t.playbook_name) " · " a.in-text href=(format!("/success/accounts/{}", t.org.slug)) { (t.org.name) } " · due " (when(t.task.due_at)) }
                @if let Some(step) = &t.step {
                    @if !step.script.is_empty() { h3 { "Script" } p.pre { (step.script) } }
                    @if !step.dialogue.is_empty() { h3 { "Sample dialogue" } p.pre { (step.dialogue) } }
                }
                @if let Some((subject, body)) = &t.email {
                    h3 { "Email" }
                    p { strong { (subject) } }
                    p.pre { (body) }
                    @if let Some(to) = &t.task.email_to { p { "Sent to " (to) "." } }
                    @else if !people.is_empty() {
                        form method="post" action=(format!("/success/tasks/{}/email", t.task.id)) {
                            input type="hidden" name="csrf" value=(who.csrf);
                            label for=(format!("to-{}", t.task.id)) { "Send to" }
                            select id=(format!("to-{}", t.task.id)) name="to" {
                                @for p in people { option value=(p.email) { (p.name) " (" (p.email) ")" } }
                            }
                            button type="submit" { "Approve and send" }
                        }
                    }
                }
                form method="post" action=(format!("/success/tasks/{}/done", t.task.id)) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    label for=(format!("note-{}", t.task.id)) { "Outcome note" }
                    input id=(format!("note-{}", t.task.id)) type="text" name="note";
                    button type="submit" { "Done" }
                }
            }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        page("My tasks", Some(&who), body),
    ))
}

#[derive(Deserialize)]
pub struct DoneForm {
    #[serde(default)]
    note: String,
}

pub async fn complete_task(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DoneForm>,
) -> PageResult {
    service::complete_task(&state.store, &who.user, id, &form.note)
        .await
        .or_page(&who)?;
    Ok(Redirect::to("/success/tasks").into_response())
}

#[derive(Deserialize)]
pub struct EmailForm {
    to: String,
}

pub async fn send_email(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> PageResult {
    service::send_step_email(&state.store, &who.user, id, &form.to)
        .await
        .or_page(&who)?;
    Ok(Redirect::to("/success/tasks").into_response())
}

#[derive(Deserialize)]
pub struct FinishForm {
    #[serde(default)]
    outcome: String,
}

pub async fn finish_run(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<FinishForm>,
) -> PageResult {
    let run = service::run(&state.store, &who.user, id)
        .await
        .or_page(&who)?;
    service::finish_run(&state.store, &who.user, id, &form.outcome)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/success/accounts/{}", run.org.slug)).into_response())
}

/// Step rows the editor offers beyond the playbook's own, for adding steps.
const BLANK_STEPS: usize = 2;
const TRIGGERS: [(&str, &str); 6] = [
    ("", "by hand only"),
    ("health_below", "health below (score)"),
    ("renewal_within", "renewal within (days)"),
    ("new_partner", "partner signed within (days)"),
    ("partner_alert", "a partner alert"),
    ("incident", "an incident on its services within (days)"),
];

/// The editor's fields as typed: `name`, `situation`, `summary`, `trigger`, `trigger_value`
/// and per step `s{i}_title`, `s{i}_owner`, `s{i}_days`, `s{i}_script`, `s{i}_subject`,
/// `s{i}_body`, `s{i}_dialogue`.
type EditorForm = std::collections::HashMap<String, String>;

fn editor_form(content: &PlaybookContent) -> EditorForm {
    let mut f = EditorForm::new();
    f.insert("name".into(), content.name.clone());
    f.insert("situation".into(), content.situation.as_str().into());
    f.insert("summary".into(), content.summary.clone());
    let (kind, value) = match content.trigger {
        None => ("", String::new()),
        Some(Trigger::HealthBelow { threshold }) => ("health_below", threshold.to_string()),
        Some(Trigger::RenewalWithin { days }) => ("renewal_within", days.to_string()),
        Some(Trigger::NewPartner { days }) => ("new_partner", days.to_string()),
        Some(Trigger::PartnerAlert) => ("partner_alert", String::new()),
        Some(Trigger::Incident { days }) => ("incident", days.to_string()),
    };
    f.insert("trigger".into(), kind.into());
    f.insert("trigger_value".into(), value);
    for (i, st) in content.steps.iter().enumerate() {
        f.insert(format!("s{i}_title"), st.title.clone());
        let owner = match st.owner {
            StepOwner::AccountOwner => "account_owner",
            StepOwner::Runner => "runner",
        };
        f.insert(format!("s{i}_owner"), owner.into());
        f.insert(format!("s{i}_days"), st.day_offset.to_string());
        f.insert(format!("s{i}_script"), st.script.clone());
        f.insert(format!("s{i}_subject"), st.email_subject.clone());
        f.insert(format!("s{i}_body"), st.email_body.clone());
        f.insert(format!("s{i}_dialogue"), st.dialogue.clone());
    }
    f
}

/// Reads the editor: the content, or each field that could not be read. Step rows with no
/// title and nothing else are left out (the blank rows offered for adding steps).
fn read_editor(form: &EditorForm) -> Result<PlaybookContent, FieldErrors> {
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let mut errors = FieldErrors::new();
    let situation = Situation::parse(get("situation"));
    if situation.is_none() {
        errors.add("situation", "choose a situation");
    }
    let value = get("trigger_value").trim();
    let days = |errors: &mut FieldErrors| match value.parse::<u32>() {
        Ok(d) => d,
        Err(_) => {
            errors.add("trigger", "write the trigger's number of days");
            0
        }
    };
    let trigger = match get("trigger") {
        "" => None,
        "health_below" => Some(Trigger::HealthBelow {
            threshold: value.parse::<f64>().unwrap_or_else(|_| {
                errors.add("trigger", "write the health score that starts it");
                0.0
            }),
        }),
        "renewal_within" => Some(Trigger::RenewalWithin {
            days: days(&mut errors),
        }),
        "new_partner" => Some(Trigger::NewPartner {
            days: days(&mut errors),
        }),
        "partner_alert" => Some(Trigger::PartnerAlert),
        "incident" => Some(Trigger::Incident {
            days: days(&mut errors),
        }),
        _ => {
            errors.add("trigger", "choose a trigger from the list");
            None
        }
    };
    let mut steps = Vec::new();
    let mut i = 0;
    while form.contains_key(&format!("s{i}_title")) {
        let f = |name: &str| get(&format!("s{i}_{name}")).to_string();
        let text = [
            f("title"),
            f("script"),
            f("subject"),
            f("body"),
            f("dialogue"),
        ];
        if text.iter().all(|t| t.trim().is_empty()) {
            i += 1;
            continue;
        }
        // Errors name the step by its place among the steps kept, as the checks do.
        let at = steps.len();
        let day_offset = match f("days").trim() {
            "" => 0,
            d => d.parse::<u32>().unwrap_or_else(|_| {
                errors.add(
                    &format!("steps[{at}].day_offset"),
                    "write a whole number of days",
                );
                0
            }),
        };
        steps.push(Step {
            title: f("title"),
            owner: if f("owner") == "runner" {
                StepOwner::Runner
            } else {
                StepOwner::AccountOwner
            },
            day_offset,
            script: f("script"),
            email_subject: f("subject"),
            email_body: f("body"),
            dialogue: f("dialogue"),
        });
        i += 1;
    }
    let content = PlaybookContent {
        name: get("name").to_string(),
        situation: situation.unwrap_or(Situation::Onboarding),
        summary: get("summary").to_string(),
        trigger,
        steps,
    };
    if let Err(checked) = content.check() {
        for (field, message) in checked.0 {
            errors.add(&field, message);
        }
    }
    errors.into_result().map(|()| content)
}

fn render_editor(
    who: &WebUser,
    id: Option<i64>,
    form: &EditorForm,
    errors: &FieldErrors,
) -> Markup {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let mut rows = 0;
    while form.contains_key(&format!("s{rows}_title")) {
        rows += 1;
    }
    // Errors name steps by their place among the kept steps; rows are shown as typed, so a
    // row's errors are found by counting the non-blank rows before it (a blank row has none).
    let positions: Vec<Option<usize>> = (0..rows + BLANK_STEPS)
        .scan(0, |kept, i| {
            let blank = ["title", "script", "subject", "body", "dialogue"]
                .iter()
                .all(|n| get(&format!("s{i}_{n}")).trim().is_empty());
            Some((!blank).then(|| {
                *kept += 1;
                *kept - 1
            }))
        })
        .collect();
    let action = match id {
        Some(id) => format!("/success/playbooks/{id}/edit"),
        None => "/success/playbooks/new".into(),
    };
    html! {
        h1 { @if id.is_some() { "Edit the playbook" } @else { "Write a playbook" } }
        p.muted { "Sample emails may use " @for (i, p) in PLACEHOLDERS.iter().enumerate() { @if i > 0 { ", " } code { "{{" (p) "}}" } } ". Saving makes a new version; earlier versions stay readable." }
        @if !errors.is_empty() { div.error role="alert" { "The playbook was not saved. Please correct the fields marked below." } }
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(who.csrf);
            label for="p-name" { "Name" }
            input #p-name type="text" name="name" value=(get("name")) required;
            (field_error(errors, &["name"]))
            label for="p-situation" { "Situation" }
            select #p-situation name="situation" {
                @for s in Situation::ALL { option value=(s.as_str()) selected[get("situation") == s.as_str()] { (s.label()) } }
            }
            (field_error(errors, &["situation"]))
            label for="p-summary" { "When and why to use it" }
            textarea #p-summary name="summary" rows="2" { (get("summary")) }
            label for="p-trigger" { "Starts by itself on" }
            select #p-trigger name="trigger" {
                @for (value, label) in TRIGGERS { option value=(value) selected[get("trigger") == value] { (label) } }
            }
            label for="p-trigger-value" { "Trigger's score or days" }
            input #p-trigger-value type="text" inputmode="decimal" name="trigger_value" value=(get("trigger_value"));
            (field_error(errors, &["trigger"]))
            (field_error(errors, &["steps"]))
            @for i in 0..rows + BLANK_STEPS {
                @let f = |name: &str| get(&format!("s{i}_{name}"));
                @let err = |name: &str| match positions[i] {
                    None => html! {},
                    Some(at) => field_error(errors, &[&format!("steps[{at}].{name}")]),
                };
                fieldset {
                    legend { "Step " (i + 1) @if i >= rows { " (leave empty to add none)" } }
                    label for=(format!("s{i}-title")) { "Title" }
                    input id=(format!("s{i}-title")) type="text" name=(format!("s{i}_title")) value=(f("title"));
                    (err("title"))
                    label for=(format!("s{i}-owner")) { "For" }
                    select id=(format!("s{i}-owner")) name=(format!("s{i}_owner")) {
                        option value="account_owner" selected[f("owner") != "runner"] { "the account's owner" }
                        option value="runner" selected[f("owner") == "runner"] { "whoever runs it" }
                    }
                    label for=(format!("s{i}-days")) { "Due, days after the start" }
                    input id=(format!("s{i}-days")) type="text" inputmode="numeric" name=(format!("s{i}_days")) value=(f("days"));
                    (err("day_offset"))
                    label for=(format!("s{i}-script")) { "Script" }
                    textarea id=(format!("s{i}-script")) name=(format!("s{i}_script")) rows="2" { (f("script")) }
                    label for=(format!("s{i}-subject")) { "Sample email subject" }
                    input id=(format!("s{i}-subject")) type="text" name=(format!("s{i}_subject")) value=(f("subject"));
                    (err("email_subject"))
                    label for=(format!("s{i}-body")) { "Sample email" }
                    textarea id=(format!("s{i}-body")) name=(format!("s{i}_body")) rows="4" { (f("body")) }
                    (err("email_body"))
                    label for=(format!("s{i}-dialogue")) { "Sample dialogue" }
                    textarea id=(format!("s{i}-dialogue")) name=(format!("s{i}_dialogue")) rows="2" { (f("dialogue")) }
                }
            }
            button type="submit" { "Save playbook" }
        }
    }
}

pub async fn new_playbook_page(State(_state): State<AppState>, who: WebUser) -> PageResult {
    crate::auth::staff_only(&who.user).or_page(&who)?;
    let body = render_editor(&who, None, &EditorForm::new(), &FieldErrors::new());
    Ok(html_response(
        StatusCode::OK,
        page("Write a playbook", Some(&who), body),
    ))
}

pub async fn edit_playbook_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
) -> PageResult {
    let p = service::playbook(&state.store, &who.user, id, None)
        .await
        .or_page(&who)?;
    let body = render_editor(
        &who,
        Some(id),
        &editor_form(&p.content),
        &FieldErrors::new(),
    );
    Ok(html_response(
        StatusCode::OK,
        page("Edit the playbook", Some(&who), body),
    ))
}

async fn save_editor(
    state: &AppState,
    who: &WebUser,
    id: Option<i64>,
    form: EditorForm,
) -> PageResult {
    let result = match read_editor(&form) {
        Err(errors) => Err(ApiError::Validation(errors)),
        Ok(content) => service::save_playbook(&state.store, &who.user, id, &content).await,
    };
    match result {
        Ok(saved) => Ok(Redirect::to(&format!("/success/playbooks/{}", saved.id)).into_response()),
        Err(ApiError::Validation(errors)) => {
            let body = render_editor(who, id, &form, &errors);
            Ok(html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                page("Playbook", Some(who), body),
            ))
        }
        Err(e) => Err(e).or_page(who),
    }
}

pub async fn create_playbook(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<EditorForm>,
) -> PageResult {
    save_editor(&state, &who, None, form).await
}

pub async fn save_playbook(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<EditorForm>,
) -> PageResult {
    save_editor(&state, &who, Some(id), form).await
}
