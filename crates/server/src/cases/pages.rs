//! The case list, the new-case form and the case page, with their form handlers.

use crate::cases::lists;
use crate::cases::page_cache::{CasePageData, PageKey};
use crate::cases::service::{self, CaseSubmission, CaseUpdate};
use crate::cases::work_pages::presence_words;
use crate::error::ApiError;
use crate::layout::{
    html_response, page, partner_badge, priority_badge, sla_badge, span_words, status_badge, when,
};
use crate::session::{urlencode, WebUser};
use crate::web::{CsrfForm, CsrfMultipart, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use backline_domain::satisfaction::Rating;
use backline_domain::views::{CaseSort, SortKey};
use backline_domain::{
    CaseId, CaseStatus, Channel, FieldErrors, Priority, Role, Tier, Timestamp, UserId,
};
use backline_store::{CaseRecord, Org, User};
use maud::{html, Markup};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    view: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    page: Option<usize>,
    /// A message from the last bulk action, carried over its redirect.
    done: Option<String>,
}

pub async fn case_list(
    State(state): State<AppState>,
    who: WebUser,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let store = &state.store;
    let staff = who.user.role.is_staff();
    let views = lists::views_for(store, &who.user).await.or_page(&who)?;
    let default_view = if staff { "mine" } else { "active" };
    let key = query
        .view
        .clone()
        .unwrap_or_else(|| default_view.to_string());
    let view = views
        .iter()
        .find(|v| v.key == key)
        .ok_or_else(|| WebError::new(ApiError::NotFound("view")).for_user(&who))?
        .clone();
    let extra = query.q.clone().unwrap_or_default();
    let text = format!("{} {}", view.query, extra);
    let sort = match query.sort.as_deref().map(CaseSort::parse) {
        Some(Ok(sort)) => sort,
        _ => view.sort,
    };
    let mut counts = Vec::with_capacity(views.len());
    for v in &views {
        counts.push(lists::count(store, &who.user, v).await.ok());
    }
    let (listed, problem) = match lists::parse_list_query(&who.user, &text) {
        Ok(list) => {
            let page = query.page.unwrap_or(1).max(1);
            let filter = lists::filter_for(store, &who.user, &list, sort)
                .await
                .or_page(&who)?;
            let listed = lists::run(store, &who.user, filter, page)
                .await
                .or_page(&who)?;
            (Some(listed), None)
        }
        Err(ApiError::Validation(errors)) => {
            let messages: Vec<String> = errors.0.values().cloned().collect();
            (None, Some(messages.join("; ")))
        }
        Err(e) => return Err(e).or_page(&who),
    };
    let heading = if staff { "Cases" } else { "Your cases" };
    let now = Timestamp::now();
    let people = if staff {
        store.list_users(None, true).await.or_page(&who)?
    } else {
        Vec::new()
    };
    let link = |sort: CaseSort, page: usize| {
        let mut url = format!("/cases?view={}&sort={sort}", urlencode(&view.key));
        if !extra.trim().is_empty() {
            url.push_str(&format!("&q={}", urlencode(&extra)));
        }
        if page > 1 {
            url.push_str(&format!("&page={page}"));
        }
        url
    };
    let header = |label: &str, key: SortKey| {
        let current = sort.key == key;
        let arrow = match (current, sort.descending) {
            (false, _) => "",
            (true, true) => " ↓",
            (true, false) => " ↑",
        };
        let aria = match (current, sort.descending) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        };
        html! { th aria-sort=(aria) { a href=(link(sort.toggled(key), 1)) { (label) (arrow) } } }
    };
    Ok(html_response(
        StatusCode::OK,
        page(
            heading,
            Some(&who),
            html! {
                h1 { (heading) }
                div.list-layout {
                nav.views aria-label="Views" {
                    ul {
                        @for (v, n) in views.iter().zip(&counts) {
                            li {
                                a.current[v.key == view.key] href=(format!("/cases?view={}", urlencode(&v.key)))
                                    aria-current=[(v.key == view.key).then_some("page")] {
                                    span.name { (v.name) }
                                    @if let Some(n) = n { " " span.count { (count_text(*n)) } }
                                }
                                @if v.shared && v.key.starts_with('v') { " " span.muted title="Shared with every agent" { "shared" } }
                            }
                        }
                    }
                }
                div.list-main {
                @if let Some(done) = &query.done { div.notice role="status" { (done) } }
                form.filters method="get" action="/cases" {
                    input type="hidden" name="view" value=(view.key);
                    input type="hidden" name="sort" value=(sort.to_string());
                    label for="list-q" { "Narrow “" (view.name) "”" }
                    input #list-q type="search" name="q" value=(extra)
                        placeholder=(if staff { "words, or status:open priority:high partner:acme sla:warning tier:2" } else { "words, or status:open priority:high" })
                        aria-invalid=[problem.as_ref().map(|_| "true")] aria-describedby="list-q-help";
                    button type="submit" { "Filter" }
                    @if !view.query.is_empty() { div #list-q-help .muted { "This view shows: " code { (view.query) } } }
                    @else { div #list-q-help .muted { "Type words to find, or filters such as status:pending." } }
                    @if let Some(problem) = &problem { div.field-error role="alert" { (crate::layout::sentence(problem)) } }
                }
                @if let Some(listed) = &listed {
                    p.muted.count-line {
                        @if listed.more { "More than " (count_text(listed.total)) " cases" } @else if listed.total == 1 { "1 case" } @else { (count_text(listed.total)) " cases" }
                        @if listed.pages() > 1 { " · page " (listed.page) " of " (listed.pages()) }
                        " · sorted by " (sort_words(sort))
                    }
                    @if listed.cases.is_empty() {
                        div.card.empty { "No cases here." }
                    } @else {
                        form #bulk method="post" action="/cases/bulk" {
                        @if staff {
                            input type="hidden" name="csrf" value=(who.csrf);
                            input type="hidden" name="back" value=(link(sort, listed.page));
                        }
                        div.table-scroll {
                        table.cases {
                            thead { tr {
                                @if staff { th { span.visually-hidden { "Select" } } }
                                (header("#", SortKey::Number))
                                (header("Subject", SortKey::Subject))
                                th { "Organisation" } th { "Partner" }
                                (header("Status", SortKey::Status))
                                (header("Priority", SortKey::Priority))
                                @if staff { (header("Due", SortKey::Due)) th { "Tier" } th { "Assignee" } }
                                (header("Updated", SortKey::Updated))
                            } }
                            tbody {
                                @for case in &listed.cases { (case_row(case, staff, now)) }
                            }
                        }
                        }
                        @if staff { (bulk_actions(&people, &who)) }
                        }
                        (pager(listed, |page| link(sort, page)))
                    }
                }
                @if staff {
                    details.card.save-view {
                        summary { "Save this list as a view" }
                        form method="post" action="/cases/views" {
                            input type="hidden" name="csrf" value=(who.csrf);
                            input type="hidden" name="query" value=(text.trim());
                            input type="hidden" name="sort" value=(sort.to_string());
                            label for="view-name" { "Name" }
                            input #view-name type="text" name="name" maxlength="80" required;
                            label.inline { input type="checkbox" name="shared" value="1"; " Share with every agent" }
                            button type="submit" { "Save view" }
                        }
                        @if view.deletable {
                            form method="post" action=(format!("/cases/views/{}/delete", view.key.trim_start_matches('v'))) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                button.secondary type="submit" { "Delete the view “" (view.name) "”" }
                            }
                        }
                    }
                }
                }
                }
            },
        ),
    ))
}

fn sort_words(sort: CaseSort) -> String {
    let key = match sort.key {
        SortKey::Attention => return "what needs attention first".into(),
        SortKey::Number => "number",
        SortKey::Updated => "last update",
        SortKey::Created => "creation",
        SortKey::Priority => "priority",
        SortKey::Status => "status",
        SortKey::Due => "due time",
        SortKey::Subject => "subject",
    };
    let direction = match (sort.key, sort.descending) {
        (SortKey::Subject, false) => "A to Z",
        (SortKey::Subject, true) => "Z to A",
        (SortKey::Due, false) | (SortKey::Updated | SortKey::Created, false) => "earliest first",
        (SortKey::Due | SortKey::Updated | SortKey::Created, true) => "latest first",
        (_, true) => "highest first",
        (_, false) => "lowest first",
    };
    format!("{key}, {direction}")
}

/// Page numbers around the current one, with the first and last, and newer/older links.
fn pager(listed: &lists::ListPage, link: impl Fn(usize) -> String) -> Markup {
    let pages = listed.pages();
    let current = listed.page;
    let shown: Vec<usize> = (1..=pages)
        .filter(|p| *p == 1 || *p == pages || p.abs_diff(current) <= 2)
        .collect();
    html! {
        @if pages > 1 {
            nav.pager aria-label="Pages" {
                @if current > 1 { a rel="prev" href=(link(current - 1)) { "← Previous" } " " }
                @for (i, p) in shown.iter().enumerate() {
                    @if i > 0 && shown[i - 1] + 1 < *p { span.muted { "…" } " " }
                    @if *p == current { span.current aria-current="page" { (p) } " " }
                    @else { a href=(link(*p)) aria-label=(format!("Page {p}")) { (p) } " " }
                }
                @if current < pages { a rel="next" href=(link(current + 1)) { "Next →" } }
            }
        }
    }
}

/// The bulk action bar under a staff list: one change applied to every ticked case.
fn bulk_actions(staff: &[User], who: &WebUser) -> Markup {
    html! {
        fieldset.bulk {
            legend { "With the selected cases" }
            label for="bulk-action" { "Do" }
            select #bulk-action name="action" {
                option value="assign_me" { "Assign to me" }
                option value="assign" { "Assign to…" }
                option value="unassign" { "Unassign" }
                option value="status" { "Set status…" }
                option value="priority" { "Set priority…" }
                option value="tag" { "Add tags…" }
                option value="merge" { "Merge into case…" }
            }
            label for="bulk-assignee" { "Assignee" }
            select #bulk-assignee name="assignee" {
                @for person in staff { option value=(person.id.0) selected[person.id == who.user.id] { (person.name) } }
            }
            label for="bulk-status" { "Status" }
            select #bulk-status name="status" {
                @for s in CaseStatus::ALL { option value=(s.as_str()) { (s.as_str().replace('_', " ")) } }
            }
            label for="bulk-priority" { "Priority" }
            select #bulk-priority name="priority" {
                @for p in Priority::ALL { option value=(p.as_str()) { (p) } }
            }
            label for="bulk-tags" { "Tags" }
            input #bulk-tags type="text" name="tags" placeholder="vip, disk-full";
            label for="bulk-merge" { "Case number" }
            input #bulk-merge type="number" name="merge_into" min="1" inputmode="numeric";
            button type="submit" { "Apply to selected" }
        }
    }
}

#[derive(Deserialize)]
pub struct BulkForm {
    action: String,
    back: Option<String>,
    assignee: Option<i64>,
    status: Option<String>,
    priority: Option<String>,
    tags: Option<String>,
    #[serde(default)]
    merge_into: String,
    /// Ticked rows arrive as `case_12=on&case_15=on` (one name per row, as the form
    /// decoder reads each name once).
    #[serde(flatten)]
    rows: std::collections::HashMap<String, String>,
}

pub async fn bulk_update(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<BulkForm>,
) -> PageResult {
    let mut update = CaseUpdate::default();
    let mut add_tags = Vec::new();
    let mut merge_into = None;
    match form.action.as_str() {
        "merge" => match form
            .merge_into
            .trim()
            .trim_start_matches('#')
            .parse::<i64>()
        {
            Ok(id) => merge_into = Some(CaseId(id)),
            Err(_) => {
                return Ok(Redirect::to(&with_done(
                    form.back.as_deref(),
                    "Type the number of the case to merge into.",
                ))
                .into_response())
            }
        },
        "assign_me" => update.assignee = Some(Some(who.user.id)),
        "assign" => update.assignee = Some(form.assignee.map(UserId)),
        "unassign" => update.assignee = Some(None),
        "status" => {
            update.status = Some(
                CaseStatus::parse(form.status.as_deref().unwrap_or_default())
                    .map_err(|e| WebError::from(ApiError::validation("status", e.0)))?,
            )
        }
        "priority" => {
            update.priority = Some(
                Priority::parse(form.priority.as_deref().unwrap_or_default())
                    .map_err(|e| WebError::from(ApiError::validation("priority", e.0)))?,
            )
        }
        "tag" => {
            add_tags = form
                .tags
                .unwrap_or_default()
                .split([',', ' '])
                .filter(|t| !t.trim().is_empty())
                .map(str::to_string)
                .collect();
            if add_tags.is_empty() {
                return Err(ApiError::validation("tags", "write the tags to add")).or_page(&who);
            }
        }
        other => {
            return Err(ApiError::validation(
                "action",
                format!("{other:?} is not an action this list offers"),
            ))
            .or_page(&who)
        }
    }
    let mut ids: Vec<CaseId> = form
        .rows
        .keys()
        .filter_map(|k| k.strip_prefix("case_")?.parse().ok().map(CaseId))
        .collect();
    ids.sort();
    let outcome = match lists::bulk_update(
        &state.store,
        &who.user,
        &ids,
        &update,
        &add_tags,
        merge_into,
    )
    .await
    {
        Err(ApiError::Validation(errors)) => {
            return Ok(Redirect::to(&with_done(
                form.back.as_deref(),
                &crate::layout::sentence(&errors.summary()),
            ))
            .into_response())
        }
        other => other.or_page(&who)?,
    };
    let mut message = match outcome.changed.len() {
        1 => "Changed 1 case.".to_string(),
        n => format!("Changed {n} cases."),
    };
    for (id, why) in &outcome.refused {
        message.push_str(&format!(
            " #{} left as it was: {}.",
            id.0,
            why.trim_end_matches('.')
        ));
    }
    Ok(Redirect::to(&with_done(form.back.as_deref(), &message)).into_response())
}

/// Back to the list the form came from (only a path on this site), with a message.
fn with_done(back: Option<&str>, message: &str) -> String {
    let back = back
        .and_then(crate::web::same_site_path)
        .filter(|b| b.starts_with("/cases"))
        .unwrap_or("/cases");
    let join = if back.contains('?') { '&' } else { '?' };
    format!("{back}{join}done={}", urlencode(message))
}

#[derive(Deserialize)]
pub struct SaveViewForm {
    name: String,
    query: String,
    sort: Option<String>,
    shared: Option<String>,
}

pub async fn save_view(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<SaveViewForm>,
) -> PageResult {
    let saved = lists::save_view(
        &state.store,
        &who.user,
        &form.name,
        &form.query,
        form.sort.as_deref(),
        form.shared.is_some(),
    )
    .await;
    match saved {
        Ok(view) => Ok(Redirect::to(&format!("/cases?view={}", view.key)).into_response()),
        Err(ApiError::Validation(errors)) => Ok(Redirect::to(&with_done(
            None,
            &format!(
                "The view was not saved: {}",
                crate::layout::sentence(&errors.summary())
            ),
        ))
        .into_response()),
        Err(e) => Err(e).or_page(&who),
    }
}

pub async fn delete_view(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<crate::web::NoFields>,
) -> PageResult {
    lists::delete_view(&state.store, &who.user, id)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&with_done(None, "The view was deleted.")).into_response())
}

fn case_row(case: &CaseRecord, staff: bool, now: Timestamp) -> Markup {
    html! {
        tr data-case=(case.id.0) {
            @if staff {
                td { input type="checkbox" name=(format!("case_{}", case.id.0)) value="on" aria-label=(format!("Select case {}", case.id.0)); }
            }
            td.num { a href=(format!("/cases/{}", case.id.0)) { "#" (case.id.0) } }
            td.subject { a href=(format!("/cases/{}", case.id.0)) { (case.subject) } }
            td.org { (case.organization.name) }
            td.partner { (partner_badge(case.partner.as_ref())) }
            td { (status_badge(case.status)) }
            td { (priority_badge(case.priority)) }
            @if staff {
                td { (sla_badge(case.sla_state, case.sla_due_at, now)) }
                td { "L" (case.tier.level()) }
                td { @if let Some(a) = &case.assignee { (a.name) } @else { span.num { "—" } } }
            }
            td.num { (when(case.updated_at)) }
        }
    }
}

/// Organisations a person may file for: staff any, a partner itself and the customers it serves.
async fn fileable_orgs(state: &AppState, user: &User) -> Result<Vec<Org>, ApiError> {
    Ok(match (user.role, &user.org) {
        (Role::Admin | Role::Agent, _) => state.store.list_orgs(None, None, None).await?,
        (Role::Partner, Some(org)) => state.store.list_orgs(None, Some(org.id), None).await?,
        _ => Vec::new(),
    })
}

#[derive(Deserialize, Default)]
pub struct NewCaseForm {
    /// Identifies this form for deflection counting (see `knowledge::live_suggestions`).
    draft: Option<String>,
    subject: String,
    #[serde(default)]
    description: String,
    priority: Option<String>,
    product: Option<String>,
    on_behalf_of: Option<String>,
    reproduced_on_vanilla: Option<String>,
    /// Checklist answers arrive as `step_0`, `step_1`...
    #[serde(flatten)]
    steps: std::collections::HashMap<String, String>,
}

/// What a partner's agreement asks of a new case, for the form.
#[derive(Default)]
pub struct Gate {
    checklist: Vec<String>,
    vanilla: bool,
}

async fn gate_for(state: &AppState, user: &User) -> Result<Gate, ApiError> {
    match (user.role, &user.org) {
        (Role::Partner, Some(org)) => {
            let terms = state.partners.agreement(&state.store, org.id).await?;
            Ok(Gate {
                checklist: terms.troubleshooting_checklist.clone(),
                vanilla: terms.vanilla_reproduction_required,
            })
        }
        _ => Ok(Gate::default()),
    }
}

fn new_case_page(
    who: &WebUser,
    orgs: &[Org],
    gate: &Gate,
    form: &NewCaseForm,
    errors: &FieldErrors,
) -> Markup {
    let field_error = |name: &str| errors.0.get(name).map(|m| crate::layout::sentence(m));
    page(
        "New case",
        Some(who),
        html! {
            h1 { "New case" }
            @if !errors.is_empty() { div.error role="alert" { "Please correct the fields marked below." } }
            div.case-layout {
            form.card #new-case method="post" action="/cases" {
                input type="hidden" name="csrf" value=(who.csrf);
                input #draft type="hidden" name="draft" value=(form.draft.clone().unwrap_or_else(crate::knowledge::pages::new_draft_token));
                @if !orgs.is_empty() {
                    label for="on_behalf_of" { "For" }
                    select #on_behalf_of name="on_behalf_of" {
                        @for org in orgs {
                            option value=(org.slug) selected[form.on_behalf_of.as_deref() == Some(org.slug.as_str())] {
                                (org.name) " (" (org.kind) ")"
                            }
                        }
                    }
                    @if let Some(e) = field_error("on_behalf_of") { div.field-error { (e) } }
                }
                label for="subject" { "Subject" }
                input #subject type="text" name="subject" value=(form.subject) required maxlength="200" style="width:100%" aria-invalid=[field_error("subject").map(|_| "true")];
                @if let Some(e) = field_error("subject") { div.field-error { (e) } }
                label for="description" { "What happened?" }
                textarea #description name="description" { (form.description) }
                @if let Some(e) = field_error("description") { div.field-error { (e) } }
                label for="product" { "Product" }
                input #product type="text" name="product" value=(form.product.clone().unwrap_or_default());
                label for="priority" { "Priority" }
                select #priority name="priority" {
                    @for p in Priority::ALL {
                        option value=(p.as_str()) selected[form.priority.as_deref().unwrap_or("normal") == p.as_str()] { (p) }
                    }
                }
                @if let Some(e) = field_error("priority") { div.field-error { (e) } }
                @if !gate.checklist.is_empty() || gate.vanilla {
                    fieldset #escalation-checklist {
                        legend { "Before escalating (your agreement)" }
                        @for (i, step) in gate.checklist.iter().enumerate() {
                            @let name = format!("step_{i}");
                            label for=(name) { (step) }
                            input id=(name) type="text" name=(name) value=(form.steps.get(&name).cloned().unwrap_or_default()) style="width:100%";
                        }
                        @if gate.vanilla {
                            label { input #reproduced_on_vanilla type="checkbox" name="reproduced_on_vanilla" value="1" checked[form.reproduced_on_vanilla.is_some()]; " Reproduced on a vanilla installation" }
                        }
                        @if let Some(e) = field_error("escalation") { div.field-error { (e) } }
                    }
                }
                p { button type="submit" { "Submit case" } }
            }
            aside.card #live-suggestions aria-live="polite" hidden {
                h2 { "These articles may answer it" }
                ol {}
            }
            }
            script src="/assets/suggest.js" defer {}
        },
    )
}

pub async fn new_case_form(State(state): State<AppState>, who: WebUser) -> PageResult {
    let gate = gate_for(&state, &who.user).await.or_page(&who)?;
    let orgs = fileable_orgs(&state, &who.user).await.or_page(&who)?;
    Ok(html_response(
        StatusCode::OK,
        new_case_page(
            &who,
            &orgs,
            &gate,
            &NewCaseForm::default(),
            &FieldErrors::new(),
        ),
    ))
}

pub async fn create_case(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<NewCaseForm>,
) -> PageResult {
    let gate = gate_for(&state, &who.user).await.or_page(&who)?;
    let priority = match form.priority.as_deref().map(Priority::parse).transpose() {
        Ok(p) => p,
        Err(e) => {
            let mut errors = FieldErrors::new();
            errors.add("priority", e.0);
            let orgs = fileable_orgs(&state, &who.user).await.or_page(&who)?;
            return Ok(html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                new_case_page(&who, &orgs, &gate, &form, &errors),
            ));
        }
    };
    // A customer files for its own organisation; the select is not shown to them.
    let on_behalf_of = if who.user.role == Role::Customer {
        None
    } else {
        form.on_behalf_of.clone()
    };
    let checklist = gate
        .checklist
        .iter()
        .enumerate()
        .filter_map(|(i, step)| {
            form.steps
                .get(&format!("step_{i}"))
                .map(|answer| (step.clone(), answer.clone()))
        })
        .collect();
    let submission = CaseSubmission {
        escalation: backline_domain::partner::EscalationStatement {
            checklist,
            reproduced_on_vanilla: Some(form.reproduced_on_vanilla.is_some()),
        },
        subject: form.subject.clone(),
        description: form.description.clone(),
        priority,
        product: form.product.clone(),
        on_behalf_of,
        tags: Vec::new(),
        channel: Some(Channel::Web),
    };
    match service::create_case(&state, &who.user, submission).await {
        Ok(case) => {
            if let Some(draft) = form
                .draft
                .as_deref()
                .filter(|d| crate::knowledge::pages::valid_draft(d))
            {
                if let Err(e) = state.store.draft_filed(draft, who.user.id, case.id).await {
                    tracing::warn!(error = %e, "recording a filed draft failed");
                }
            }
            Ok(Redirect::to(&format!("/cases/{}", case.id.0)).into_response())
        }
        Err(e @ (ApiError::Validation(_) | ApiError::EscalationIncomplete(_))) => {
            let errors = match e {
                ApiError::Validation(errors) => errors,
                other => {
                    let mut errors = FieldErrors::new();
                    errors.add("escalation", other.to_string());
                    errors
                }
            };
            let orgs = fileable_orgs(&state, &who.user).await.or_page(&who)?;
            Ok(html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                new_case_page(&who, &orgs, &gate, &form, &errors),
            ))
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}

pub async fn case_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
) -> PageResult {
    render_case_page(
        &state,
        &who,
        CaseId(id),
        &ReplyDraft::default(),
        StatusCode::OK,
    )
    .await
}

/// A reply being written: kept when the reply is refused, so nothing typed is lost.
#[derive(Default)]
struct ReplyDraft {
    body: String,
    internal: bool,
    error: Option<String>,
    /// Files came with the refused reply; a browser cannot be handed them back.
    had_files: bool,
    /// What was wrong with the files, shown by the file box.
    file_error: Option<String>,
    /// A macro applied to the draft: its changes are made when the reply is sent.
    applied_macro: Option<AppliedMacro>,
    /// Something to say above the form (an article inserted, a macro applied).
    notice: Option<String>,
    /// A change of fields refused because the case moved on while it was being made: what
    /// the person chose, shown again in the form over the case as it is now.
    update: Option<UpdateForm>,
}

/// The values the case fields form is drawn with.
struct FieldChoices {
    status: String,
    priority: String,
    tier: i64,
    assignee: String,
    tags: String,
}

struct AppliedMacro {
    id: i64,
    title: String,
    changes: Vec<String>,
}

/// A staff page's data: from this node's cache when the case's counters have not moved since
/// it was read (one query: the counters and who else is there), read afresh otherwise. The
/// agents list and the viewer's macros are kept beside it under their own counters.
async fn staff_page_data(
    state: &AppState,
    who: &WebUser,
    id: CaseId,
) -> Result<PageParts, WebError> {
    let since = Timestamp::now().minus(super::work::PRESENCE_FRESH);
    let page_state = match state.store.case_page_state(id, since, who.user.id).await {
        Ok(s) => s,
        Err(e) => return Err(WebError::new(ApiError::from(e)).for_user(who)),
    };
    let key = PageKey {
        case_revision: page_state.case_revision,
        directory_revision: page_state.directory_revision,
        knowledge_generation: page_state.knowledge_generation,
        weights: state.search().weights(),
    };
    let cache = &state.case_pages;
    let data = match cache.page(id, &key) {
        Some(data) => data,
        None => {
            let (data, settled) = load_page_data(state, who, id).await?;
            let data = Arc::new(data);
            // Suggestions worked out on the spot (the index still catching up, or no list
            // kept yet) may change without any row moving: such a page is not kept.
            if settled {
                cache.keep(id, key, data.clone());
            }
            data
        }
    };
    let agents = match cache.agents(page_state.directory_revision) {
        Some(list) => list,
        None => {
            let list = Arc::new(state.store.list_users(None, true).await.or_page(who)?);
            cache.keep_agents(page_state.directory_revision, list.clone());
            list
        }
    };
    let macros = match cache.macros(who.user.id, page_state.macros_revision) {
        Some(list) => list,
        None => {
            let list = Arc::new(
                super::macros::macros(&state.store, &who.user)
                    .await
                    .or_page(who)?,
            );
            cache.keep_macros(who.user.id, page_state.macros_revision, list.clone());
            list
        }
    };
    Ok((data, agents, macros, page_state.present))
}

/// The case page's data, the agents to assign to, the viewer's macros and who else is there.
type PageParts = (
    Arc<CasePageData>,
    Arc<Vec<User>>,
    Arc<Vec<backline_store::MacroRecord>>,
    Vec<backline_store::Presence>,
);

/// Reads what the case page shows `who` of case `id`, and whether its suggestions are the
/// case's kept list (see `staff_page_data`).
async fn load_page_data(
    state: &AppState,
    who: &WebUser,
    id: CaseId,
) -> Result<(CasePageData, bool), WebError> {
    let staff = who.user.role.is_staff();
    let case = service::visible_case(&state.store, &who.user, id)
        .await
        .or_page(who)?;
    let comments = state
        .store
        .comments(case.id, staff)
        .await
        .map_err(ApiError::from)
        .or_page(who)?;
    let files = state
        .store
        .case_attachments(case.id, staff)
        .await
        .or_page(who)?;
    let links = crate::knowledge::service::links_of(state, &who.user, &case)
        .await
        .or_page(who)?;
    // Suggestions come from the search index; if it fails the page still shows the case.
    let (suggestions, settled) =
        crate::knowledge::service::suggestions_with_origin(state, &who.user, case.id, 5)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "suggestions failed");
                (Vec::new(), false)
            });
    let queue = match &case.queue {
        Some(slug) => state.store.queue_by_slug(slug).await.ok(),
        None => None,
    };
    // The clocks, the history, the people and the category are agent tools: customers and
    // partners see none of them.
    let (clocks, events, people, category) = if staff {
        (
            state.store.case_clocks(case.id).await.or_page(who)?,
            state.store.case_events(case.id).await.or_page(who)?,
            Some(
                super::work::people_of(&state.store, &who.user, &case)
                    .await
                    .or_page(who)?,
            ),
            Some(
                crate::analytics::service::case_category_and_tree(&state.store, &who.user, case.id)
                    .await
                    .or_page(who)?,
            ),
        )
    } else {
        (Vec::new(), Vec::new(), None, None)
    };
    // The requester's rating: they may give or change it; staff read it.
    let rating = if staff || who.user.id == case.requester.id {
        state.store.case_rating(case.id).await.or_page(who)?
    } else {
        None
    };
    // Staff: the community question the case was made from, if any.
    let from_question = crate::community::service::question_of_case(state, &who.user, case.id)
        .await
        .or_page(who)?;
    Ok((
        CasePageData {
            case,
            comments,
            files,
            links,
            suggestions,
            queue,
            clocks,
            events,
            people,
            rating,
            category,
            from_question,
        },
        settled,
    ))
}

async fn render_case_page(
    state: &AppState,
    who: &WebUser,
    id: CaseId,
    reply: &ReplyDraft,
    status: StatusCode,
) -> PageResult {
    let staff = who.user.role.is_staff();
    let (data, agents, macros, present) = if staff {
        staff_page_data(state, who, id).await?
    } else {
        let (data, _) = load_page_data(state, who, id).await?;
        (Arc::new(data), Arc::default(), Arc::default(), Vec::new())
    };
    let CasePageData {
        case,
        comments,
        files,
        links,
        suggestions,
        queue,
        clocks,
        events,
        people,
        rating,
        category,
        from_question,
    } = &*data;
    let swarm_queue =
        queue.as_ref().map(|q| q.model) == Some(backline_domain::routing::SupportModel::Swarm);
    // What the fields form shows: the case, or what the person chose in a refused update.
    let kept = reply.update.as_ref();
    let chosen = FieldChoices {
        status: kept
            .and_then(|f| f.status.clone())
            .unwrap_or_else(|| case.status.as_str().to_string()),
        priority: kept
            .and_then(|f| f.priority.clone())
            .unwrap_or_else(|| case.priority.as_str().to_string()),
        tier: kept
            .and_then(|f| f.tier)
            .unwrap_or_else(|| case.tier.level()),
        assignee: kept.and_then(|f| f.assignee.clone()).unwrap_or_else(|| {
            case.assignee
                .as_ref()
                .map(|a| a.id.0.to_string())
                .unwrap_or_default()
        }),
        tags: kept
            .and_then(|f| f.tags.clone())
            .unwrap_or_else(|| case.tags.join(", ")),
    };
    let following = people
        .as_ref()
        .is_some_and(|p| p.followers.iter().any(|f| f.id == who.user.id));
    let is_requester = who.user.id == case.requester.id;
    let category_card = category
        .as_ref()
        .map(|(view, nodes)| crate::analytics::pages::category_card(who, case.id, view, nodes));
    let now = Timestamp::now();
    let closed = case.status == CaseStatus::Closed;
    Ok(html_response(
        status,
        page(
            &format!("#{} {}", case.id.0, case.subject),
            Some(who),
            html! {
                h1 { span.num { "#" (case.id.0) } " " (case.subject) " " (status_badge(case.status)) " " (partner_badge(case.partner.as_ref())) }
                @if let Some(into) = case.merged_into {
                    p.card.notice role="status" { "This case was merged into " a href=(format!("/cases/{into}")) { "case #" (into) } "; the conversation goes on there." }
                }
                @if staff {
                    p #presence.presence role="status" aria-live="polite" data-case=(case.id.0) {
                        (presence_words(&present))
                    }
                    script src="/assets/presence.js" defer {}
                }
                @if let Some(notice) = &reply.notice { p.card.notice role="status" { (notice) } }
                div.case-layout {
                    div {
                        div.card {
                            div.by.num {
                                (case.requester.name) " · " (when(case.created_at)) " · " (channel_label(case.channel))
                                @if let (true, Some(mail)) = (staff, case.mail_id) { " · " a href=(format!("/mail/{mail}")) { "email headers" } }
                            }
                            @if let Some((question, title)) = from_question {
                                p #from-question { "From community question: " a href=(format!("/community/questions/{question}")) { (title) } }
                            }
                            div.description { (case.description) }
                            (file_list(files, None))
                        }
                        @if let Some(e) = &case.escalation {
                            @if !e.checklist.is_empty() || e.reproduced_on_vanilla.is_some() {
                                div.card #escalation {
                                    h2 { "Escalation statement" }
                                    dl.checklist {
                                        @for (step, answer) in &e.checklist { dt { (step) } dd { (answer) } }
                                        @if let Some(v) = e.reproduced_on_vanilla { dt { "Reproduced on vanilla" } dd { (if v { "yes" } else { "no" }) } }
                                    }
                                }
                            }
                        }
                        @if staff && !events.is_empty() {
                            details.card.history #history {
                                summary { "History (" (events.len()) ")" }
                                ol {
                                    @for e in events {
                                        li {
                                            span.num { (when(e.created_at)) } " "
                                            (e.actor.as_ref().map_or("Backline", |a| a.name.as_str())) ": "
                                            (event_words(&e.kind, &e.data, &agents))
                                        }
                                    }
                                }
                            }
                        }
                        h2 { "Conversation" }
                        @if comments.is_empty() { p.num { "No replies yet." } }
                        @for c in comments {
                            div.comment.internal[!c.public] id=(format!("comment-{}", c.id.0)) {
                                div.by {
                                    strong { (c.author.name) } " · " (when(c.created_at)) " · " (channel_label(c.channel))
                                    @if c.author_role == backline_domain::Role::Partner { " · " span.badge.partner { "partner" } }
                                    @if !c.public { " · " span.badge { "internal note" } }
                                    @if let (true, Some(mail)) = (staff, c.mail_id) { " · " a href=(format!("/mail/{mail}")) { "email headers" } }
                                }
                                div.body { (c.body) }
                                (file_list(files, Some(c.id)))
                            }
                        }
                        @if closed {
                            p.num { "This case is closed." }
                        } @else {
                            form.card #reply method="post" enctype="multipart/form-data" action=(format!("/cases/{}/comments", case.id.0)) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                label for="body" { "Reply" }
                                @if let Some(error) = &reply.error {
                                    div.field-error #body-error role="alert" { (error) }
                                    textarea #body name="body" required aria-invalid="true" aria-describedby="body-error" aria-keyshortcuts="Control+Enter" { (reply.body) }
                                } @else {
                                    textarea #body name="body" required aria-keyshortcuts="Control+Enter" { (reply.body) }
                                }
                                @if let Some(m) = &reply.applied_macro {
                                    input type="hidden" name="applied_macro" value=(m.id);
                                    p.macro-note #macro-note {
                                        "Macro " strong { (m.title) } " applied"
                                        @if !m.changes.is_empty() { ": sending also makes these changes — " (m.changes.join("; ")) "." } @else { "." }
                                    }
                                }
                                @if staff && (!macros.is_empty() || !links.is_empty()) {
                                    div.reply-tools {
                                        @if !macros.is_empty() {
                                            label for="macro" { "Macro" }
                                            select #macro name="macro" {
                                                @for m in macros.iter() {
                                                    option value=(m.id) { (m.title) @if m.owner_id.is_some() { " (mine)" } }
                                                }
                                            }
                                            button type="submit" name="do" value="macro" formnovalidate { "Apply macro" }
                                        }
                                        @let articles: Vec<_> = links.iter().filter_map(|l| match l.target { backline_store::LinkTarget::Article(a) => Some((a, &l.title)), _ => None }).collect();
                                        @if !articles.is_empty() {
                                            label for="article" { "Article" }
                                            select #article name="article" {
                                                @for (id, title) in &articles { option value=(id.0) { (title) } }
                                            }
                                            button type="submit" name="do" value="article" formnovalidate { "Insert article" }
                                        }
                                    }
                                }
                                div.drop #drop {
                                    label for="files" { "Attach files" }
                                    input #files type="file" name="files" multiple;
                                    p.num #drop-hint { "Drop files here or choose them; each may be at most " (crate::views::human_size(state.mail.max_attachment_bytes as i64)) "." }
                                    ul.num #chosen {}
                                }
                                @if let Some(e) = &reply.file_error {
                                    p.field-error #files-error role="alert" { (e) }
                                }
                                @if reply.had_files {
                                    p.field-error role="alert" { "Your files were not kept: attach them again." }
                                }
                                @if staff {
                                    label { input type="checkbox" name="internal" value="1" checked[reply.internal]; " Internal note (vendor staff only)" }
                                }
                                p.actions {
                                    button type="submit" name="do" value="send" title="Ctrl+Enter" { "Send" }
                                    @if staff && case.status.is_active() {
                                        " " button type="submit" name="do" value="solve" { "Send and solve" }
                                    }
                                }
                                script src="/assets/attach.js" defer data-limit=(state.mail.max_attachment_bytes) {}
                            }
                        }
                        @if !staff && is_requester && !case.status.is_active() && case.merged_into.is_none() {
                            form.card #rating method="post" action=(format!("/cases/{}/rating", case.id.0)) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                fieldset {
                                    legend { "How did we do?" }
                                    @let current = rating.as_ref().map(|r| r.rating);
                                    label { input type="radio" name="rating" value="good" required checked[current == Some(Rating::Good)]; " Good, I got what I needed" }
                                    label { input type="radio" name="rating" value="bad" checked[current == Some(Rating::Bad)]; " Bad, I did not" }
                                }
                                label for="rating-comment" { "Anything to add? (optional)" }
                                textarea #rating-comment name="comment" rows="3" { (rating.as_ref().and_then(|r| r.comment.clone()).unwrap_or_default()) }
                                p { button type="submit" { @if rating.is_some() { "Change my rating" } @else { "Send my rating" } } }
                            }
                        }
                    }
                    aside {
                        (crate::knowledge::pages::case_knowledge_panel(who, case, links, suggestions))
                        div.card {
                            dl.meta {
                                dt { "Organisation" } dd { (case.organization.name) }
                                dt { "Partner" } dd { (partner_badge(case.partner.as_ref())) }
                                dt { "Requester" } dd { (case.requester.name) " <" (case.requester.email) ">" }
                                dt { "Priority" } dd { (priority_badge(case.priority)) }
                                @if staff { dt { "Tier" } dd { "L" (case.tier.level()) } }
                                @if staff { dt { "Queue" } dd { (case.queue.clone().unwrap_or_else(|| "—".into())) @if let Some(rule) = case.routed_by_rule { span.num { " (rule " (rule) ")" } } } }
                                dt { "Assignee" } dd { @if let Some(a) = &case.assignee { (a.name) } @else { "—" } }
                                dt { "Product" } dd { (case.product.clone().unwrap_or_else(|| "—".into())) }
                                dt { "Channel" } dd { (case.channel) }
                                @if !case.tags.is_empty() { dt { "Tags" } dd { (case.tags.join(", ")) } }
                                dt { "Updated" } dd { (when(case.updated_at)) }
                            }
                        }
                        @if staff && !clocks.is_empty() {
                            div.card #sla {
                                h3 { "Service levels" }
                                ul.clocks {
                                    @for c in clocks {
                                        li {
                                            strong { (capitalised(crate::sla::service::metric_words(c.metric))) } " "
                                            (sla_badge(Some(c.state), c.due, now))
                                            div.muted {
                                                "target " (span_words(c.target)) " · counted " (span_words(c.elapsed))
                                                @if c.paused { " · paused while pending" }
                                                @if let Some(at) = c.fulfilled { " · done " (when(at)) }
                                                @if let Some(at) = c.breached_at { " · missed " (when(at)) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        @if let Some(card) = &category_card { (card) }
                        @if let Some(r) = rating.as_ref().filter(|_| staff) {
                            div.card #satisfaction {
                                h3 { "Satisfaction" }
                                p { span class=(format!("badge rating-{}", r.rating.as_str())) { (r.rating.as_str()) } " · " (when(r.rated_at)) }
                                @if let Some(c) = &r.comment { blockquote { (c) } }
                            }
                        }
                        @if let Some(people) = people {
                            div.card #people {
                                h3 { "Followers and Cc" }
                                @if people.followers.is_empty() { p.muted { "No colleague follows this case." } }
                                @else { p { "Following: " (people.followers.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")) } }
                                form method="post" action=(format!("/cases/{}/follow", case.id.0)) {
                                    input type="hidden" name="csrf" value=(who.csrf);
                                    @if following {
                                        input type="hidden" name="on" value="false";
                                        button type="submit" { "Stop following case #" (case.id.0) }
                                    } @else {
                                        input type="hidden" name="on" value="true";
                                        button type="submit" { "Follow case #" (case.id.0) }
                                    }
                                }
                                @if !people.cc.is_empty() {
                                    ul.cc {
                                        @for email in &people.cc {
                                            li {
                                                (email) " "
                                                form.inline method="post" action=(format!("/cases/{}/cc", case.id.0)) {
                                                    input type="hidden" name="csrf" value=(who.csrf);
                                                    input type="hidden" name="email" value=(email);
                                                    input type="hidden" name="on" value="false";
                                                    button.link type="submit" aria-label=(format!("Stop copying {email}")) { "remove" }
                                                }
                                            }
                                        }
                                    }
                                }
                                @if !closed {
                                    form method="post" action=(format!("/cases/{}/cc", case.id.0)) {
                                        input type="hidden" name="csrf" value=(who.csrf);
                                        input type="hidden" name="on" value="true";
                                        label for="cc-email" { "Copy someone on replies" }
                                        input #cc-email type="email" name="email" required autocomplete="email";
                                        button type="submit" { "Add Cc" }
                                    }
                                }
                            }
                        }
                        @if staff && !closed {
                            form.card #merge method="post" action=(format!("/cases/{}/merge", case.id.0)) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                h3 { "Merge" }
                                label for="merge-into" { "Merge case #" (case.id.0) " into case number" }
                                input #merge-into type="number" name="into" min="1" required inputmode="numeric";
                                p.muted { "Its replies, files, links and followers move there, and this case closes." }
                                button type="submit" { "Merge case #" (case.id.0) }
                            }
                        }
                        @if staff && !closed {
                            form.card #update method="post" action=(format!("/cases/{}/update", case.id.0)) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                input type="hidden" name="version" value=(case.version);
                                label for="status" { "Status" }
                                select #status name="status" {
                                    @for s in CaseStatus::ALL { option value=(s.as_str()) selected[s.as_str() == chosen.status] { (s.as_str().replace('_', " ")) } }
                                }
                                label for="priority" { "Priority" }
                                select #priority name="priority" {
                                    @for p in Priority::ALL { option value=(p.as_str()) selected[p.as_str() == chosen.priority] { (p) } }
                                }
                                label for="tier" { "Tier" }
                                select #tier name="tier" {
                                    @for t in 1..=3 { option value=(t) selected[t == chosen.tier] { "L" (t) } }
                                }
                                label for="assignee" { "Assignee" }
                                select #assignee name="assignee" {
                                    option value="" { "— unassigned —" }
                                    @for a in agents.iter() {
                                        option value=(a.id.0) selected[a.id.0.to_string() == chosen.assignee] { (a.name) }
                                    }
                                }
                                label for="tags" { "Tags" }
                                input #tags type="text" name="tags" value=(chosen.tags) aria-describedby="tags-hint";
                                p.muted #tags-hint { "Separate tags with commas or spaces." }
                                p { button type="submit" { "Update case #" (case.id.0) } }
                            }
                            @if swarm_queue {
                                form.card #swarm method="post" action=(format!("/cases/{}/swarm", case.id.0)) {
                                    input type="hidden" name="csrf" value=(who.csrf);
                                    h3 { "Ask the swarm" }
                                    p.num { "Queue " (case.queue.clone().unwrap_or_default()) ": colleagues with the skill help; you keep the case." }
                                    label for="skill" { "Skill" } input #skill type="text" name="skill" required;
                                    label for="swarm-message" { "Message" } input #swarm-message type="text" name="message" style="width:100%";
                                    p { button type="submit" { "Ask for help on case #" (case.id.0) } }
                                }
                            } @else if case.tier.level() < 3 {
                                form.card #escalate method="post" action=(format!("/cases/{}/escalate", case.id.0)) {
                                    input type="hidden" name="csrf" value=(who.csrf);
                                    h3 { "Escalate to L" (case.tier.level() + 1) }
                                    label for="reason" { "Reason" } input #reason type="text" name="reason" required style="width:100%";
                                    p { button type="submit" { "Escalate case #" (case.id.0) } }
                                }
                            }
                        } @else if !staff && !closed {
                            form.card method="post" action=(format!("/cases/{}/update", case.id.0)) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                @if case.status == CaseStatus::Solved {
                                    input type="hidden" name="status" value="open";
                                    button type="submit" { "Reopen case #" (case.id.0) }
                                } @else {
                                    input type="hidden" name="status" value="solved";
                                    button type="submit" { "Mark case #" (case.id.0) " as solved" }
                                }
                            }
                        }
                    }
                }
            },
        ),
    ))
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// One event of the audit trail in words, with the reason when one was given.
fn event_words(kind: &str, data: &serde_json::Value, staff: &[User]) -> String {
    let text = |key: &str| data.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let value = |key: &str| match data.get(key) {
        None | Some(serde_json::Value::Null) => "nothing".to_string(),
        Some(serde_json::Value::String(s)) => s.replace('_', " "),
        Some(v) => v.to_string(),
    };
    let person = |key: &str| match data.get(key).and_then(|v| v.as_i64()) {
        None => "nobody".to_string(),
        Some(id) => staff
            .iter()
            .find(|u| u.id.0 == id)
            .map_or_else(|| format!("user {id}"), |u| u.name.clone()),
    };
    let reason = text("reason")
        .or_else(|| text("message"))
        .map(|r| format!(" — {r}"))
        .unwrap_or_default();
    let metric = text("metric")
        .map(|m| m.replace('_', " "))
        .unwrap_or_else(|| "a target".into());
    let at = |key: &str, word: &str| {
        text(key)
            .and_then(|t| Timestamp::parse(&t).ok())
            .map(|t| format!(" ({word} {})", when(t)))
            .unwrap_or_default()
    };
    match kind {
        "created" => "opened the case".into(),
        "status_changed" => format!("status {} → {}", value("from"), value("to")),
        "priority_changed" => format!("priority {} → {}", value("from"), value("to")),
        "tier_changed" => format!("tier L{} → L{}", value("from"), value("to")),
        "assignee_changed" => format!("assignee {} → {}", person("from"), person("to")),
        "tags_changed" => format!("tags {} → {}", value("from"), value("to")),
        "queue_changed" => "moved to another queue".into(),
        "routed" => format!(
            "routed by rule {}{}",
            text("rule").unwrap_or_default(),
            text("queue")
                .map(|q| format!(" to queue {q}"))
                .unwrap_or_default()
        ),
        "escalated" => format!(
            "escalated{}{reason}",
            text("to_queue")
                .map(|q| format!(" to {q}"))
                .unwrap_or_default()
        ),
        "comment_added" if data.get("public").and_then(|v| v.as_bool()) == Some(false) => {
            "wrote an internal note".into()
        }
        "comment_added" => "replied".into(),
        "classified" => format!("classified as {}", value("classification")),
        "merged" => format!("merged case #{} into this one", value("from")),
        "merged_into" => format!("merged this case into #{}", value("into")),
        // The sweep notes a clock when it looks; the moment it ran out or was met is in the data.
        "sla_warning" => format!("{metric} target due soon{}", at("due_at", "due")),
        "sla_breached" => format!("{metric} target missed{}", at("breached_at", "at")),
        "sla_achieved" => format!("{metric} target met{}", at("fulfilled_at", "at")),
        other => format!("{}{reason}", other.replace('_', " ")),
    }
}

/// What the reply form's button asked for.
enum ReplyAction {
    Send,
    /// Send, and mark the case solved in the same step.
    Solve,
    /// Fill the chosen macro into the draft.
    ApplyMacro(Option<i64>),
    /// Add the chosen article to the draft.
    InsertArticle(Option<i64>),
}

impl ReplyAction {
    fn from_fields(fields: &std::collections::HashMap<String, String>) -> ReplyAction {
        let number = |key: &str| fields.get(key).and_then(|v| v.trim().parse::<i64>().ok());
        match fields.get("do").map(String::as_str) {
            Some("solve") => ReplyAction::Solve,
            Some("macro") => ReplyAction::ApplyMacro(number("macro")),
            Some("article") => ReplyAction::InsertArticle(number("article")),
            _ => ReplyAction::Send,
        }
    }
}

pub async fn add_comment(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    form: CsrfMultipart,
) -> PageResult {
    let body = form.fields.get("body").cloned().unwrap_or_default();
    let public = !form.fields.contains_key("internal");
    let had_files = !form.files.is_empty();
    let action = ReplyAction::from_fields(&form.fields);
    let applied = match form
        .fields
        .get("applied_macro")
        .and_then(|v| v.trim().parse::<i64>().ok())
    {
        Some(m) => Some(
            super::macros::usable(&state.store, &who.user, m)
                .await
                .or_page(&who)?,
        ),
        None => None,
    };
    let case = service::visible_case(&state.store, &who.user, CaseId(id))
        .await
        .or_page(&who)?;
    let describe = |record: &backline_store::MacroRecord, staff: &[User]| AppliedMacro {
        id: record.id,
        title: record.title.clone(),
        changes: record.actions.describe(|id| {
            staff
                .iter()
                .find(|u| u.id == id)
                .map_or_else(|| format!("user {id}"), |u| u.name.clone())
        }),
    };
    let staff = if who.user.role.is_staff() {
        state.store.list_users(None, true).await.or_page(&who)?
    } else {
        Vec::new()
    };
    let mut draft = ReplyDraft {
        body: body.clone(),
        internal: !public,
        had_files,
        applied_macro: applied.as_ref().map(|m| describe(m, &staff)),
        ..Default::default()
    };
    // Building the draft (a macro, an article) shows the page again with the text in the box;
    // nothing is sent until the agent says so.
    match action {
        ReplyAction::ApplyMacro(chosen) => {
            let Some(chosen) = chosen else {
                draft.error = Some("Choose a macro to apply.".into());
                return render_case_page(
                    &state,
                    &who,
                    CaseId(id),
                    &draft,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            };
            let record = super::macros::usable(&state.store, &who.user, chosen)
                .await
                .or_page(&who)?;
            if record.body.trim().is_empty() {
                // Nothing to write: the macro's changes are made at once.
                super::macros::send(&state.store, &who.user, CaseId(id), chosen, None)
                    .await
                    .or_page(&who)?;
                return Ok(Redirect::to(&format!("/cases/{id}")).into_response());
            }
            let done = super::macros::apply(record.clone(), &case, &who.user);
            draft.body = join_text(&body, &done.body);
            draft.internal = record.actions.internal || draft.internal;
            draft.notice = Some(format!(
                "Macro \"{}\" filled in below: read it over, then send.",
                record.title
            ));
            draft.applied_macro = Some(describe(&record, &staff));
            return render_case_page(&state, &who, CaseId(id), &draft, StatusCode::OK).await;
        }
        ReplyAction::InsertArticle(chosen) => {
            let inserted = match chosen {
                None => Err("Choose an article to insert.".to_string()),
                Some(article) => article_text(&state, &who.user, &case, article, public).await,
            };
            match inserted {
                Ok(text) => {
                    draft.body = join_text(&body, &text);
                    draft.notice = Some("Article inserted below: read it over, then send.".into());
                    return render_case_page(&state, &who, CaseId(id), &draft, StatusCode::OK)
                        .await;
                }
                Err(message) => {
                    draft.error = Some(message);
                    return render_case_page(
                        &state,
                        &who,
                        CaseId(id),
                        &draft,
                        StatusCode::UNPROCESSABLE_ENTITY,
                    )
                    .await;
                }
            }
        }
        ReplyAction::Send | ReplyAction::Solve => {}
    }
    for file in &form.files {
        if let Err(ApiError::Validation(errors)) =
            super::attachments::check_size(&state, &file.file_name, file.bytes.len())
        {
            draft.file_error = Some(errors.0.values().cloned().collect::<Vec<_>>().join(" "));
            return render_case_page(
                &state,
                &who,
                CaseId(id),
                &draft,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    }
    // Content first (by hash, harmless if the reply is then refused), rows with the reply.
    let mut files = Vec::new();
    for file in &form.files {
        files.push(
            super::attachments::store_file(
                &state.store,
                &file.file_name,
                &file.content_type,
                &file.bytes,
            )
            .await
            .or_page(&who)?,
        );
    }
    let origin = backline_store::CommentOrigin {
        channel: Some(backline_domain::Channel::Web),
        files,
        ..Default::default()
    };
    let mut update = match &applied {
        Some(record) => super::macros::apply(record.clone(), &case, &who.user).update,
        None => CaseUpdate::default(),
    };
    if matches!(action, ReplyAction::Solve) {
        update.status = Some(CaseStatus::Solved);
    }
    match service::reply_and_update(
        &state.store,
        &who.user,
        CaseId(id),
        &body,
        public,
        &origin,
        &update,
    )
    .await
    {
        Ok(comment) => {
            if let Some(record) = &applied {
                state.store.count_macro_use(record.id).await.or_page(&who)?;
            }
            Ok(Redirect::to(&format!("/cases/{id}#comment-{}", comment.id.0)).into_response())
        }
        // A blank or oversized reply, or a change the rules refuse: the case page again,
        // with the text as typed.
        Err(ApiError::Validation(errors)) => {
            draft.error = Some(
                errors
                    .0
                    .values()
                    .map(|m| crate::layout::sentence(m))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            render_case_page(
                &state,
                &who,
                CaseId(id),
                &draft,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}

/// The draft with `added` after what was already typed.
fn join_text(typed: &str, added: &str) -> String {
    if typed.trim().is_empty() {
        added.to_string()
    } else {
        format!("{}\n\n{added}", typed.trim_end())
    }
}

/// An article as text for a reply: its title, resolution and address. A public reply only
/// takes an article its readers may open (validated, and public unless a partner asked).
async fn article_text(
    state: &AppState,
    caller: &User,
    case: &CaseRecord,
    article: i64,
    public: bool,
) -> Result<String, String> {
    let found = crate::knowledge::service::readable_article(
        state,
        caller,
        backline_domain::ArticleId(article),
    )
    .await
    .map_err(|_| format!("There is no article {article}."))?;
    if public {
        let requester = state
            .store
            .user(case.requester.id)
            .await
            .map_err(|e| e.to_string())?;
        let reader = if requester.role.is_staff() {
            Role::Customer
        } else {
            requester.role
        };
        if !backline_domain::knowledge::can_read_article(reader, found.state, found.audience) {
            return Err(format!(
                "\"{}\" is not published for {}; link it, or insert it into an internal note.",
                found.content.title, case.requester.name
            ));
        }
    }
    let c = &found.content;
    Ok(format!(
        "{}\n\n{}\n\n{}/articles/{}",
        c.title, c.resolution, state.public_url, found.id.0
    ))
}

/// How a case or comment came, in words.
fn channel_label(channel: backline_domain::Channel) -> &'static str {
    use backline_domain::Channel;
    match channel {
        Channel::Web => "on the web",
        Channel::Api => "through the API",
        Channel::Email => "by email",
        Channel::Community => "from the community",
        Channel::Monitoring => "from monitoring",
        Channel::Social => "from social media",
    }
}

/// The files of one comment (or, for `None`, those that came with the case itself).
fn file_list(
    files: &[backline_store::mail::AttachmentRecord],
    comment: Option<backline_domain::CommentId>,
) -> Markup {
    let mine: Vec<_> = files
        .iter()
        .filter(|f| f.comment_id == comment && !f.pending)
        .collect();
    html! {
        @if !mine.is_empty() {
            ul.files {
                @for f in mine {
                    li {
                        a href=(format!("/attachments/{}", f.id)) download=(f.file_name) { (f.file_name) }
                        span.num { " " (crate::views::human_size(f.size)) }
                        @if f.content_type.starts_with("image/") && f.content_type != "image/svg+xml" {
                            br;
                            img.preview src=(format!("/attachments/{}?inline=true", f.id)) alt=(f.file_name) loading="lazy";
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize, Default)]
pub struct UpdateForm {
    /// The case's version the form was drawn from: a case changed since is not overwritten.
    version: Option<i64>,
    status: Option<String>,
    priority: Option<String>,
    tier: Option<i64>,
    assignee: Option<String>,
    /// Comma- or space-separated; absent leaves the tags as they are.
    tags: Option<String>,
}

pub async fn update_case(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<UpdateForm>,
) -> PageResult {
    let parsed = (|| -> Result<CaseUpdate, ApiError> {
        let mut errors = FieldErrors::new();
        let status = form
            .status
            .as_deref()
            .and_then(|s| errors.check("status", CaseStatus::parse(s)));
        let priority = form
            .priority
            .as_deref()
            .and_then(|p| errors.check("priority", Priority::parse(p)));
        let tier = form.tier.and_then(|t| errors.check("tier", Tier::new(t)));
        let assignee = match form.assignee.as_deref() {
            None => None,
            Some("") => Some(None),
            Some(id) => match id.parse::<i64>() {
                Ok(id) => Some(Some(UserId(id))),
                Err(_) => {
                    errors.add("assignee", "not a user id");
                    None
                }
            },
        };
        errors.into_result()?;
        Ok(CaseUpdate {
            status,
            priority,
            tier,
            assignee,
            tags: form.tags.as_deref().map(backline_domain::macros::tag_words),
            ..Default::default()
        })
    })();
    let update = parsed.or_page(&who)?;
    match service::update_case(&state.store, &who.user, CaseId(id), update, form.version).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(ApiError::Stale(_)) => {
            // Someone changed the case after this form was drawn: nothing is overwritten; the
            // page shows the case as it is now, with this person's choices kept in the form.
            let draft = ReplyDraft {
                notice: Some(format!(
                    "Case #{id} changed while you were editing it, so your update was not \
                     saved. The case below is as it is now (see its history for what changed); \
                     your choices are kept in the form: check them and update again."
                )),
                update: Some(form),
                ..Default::default()
            };
            render_case_page(&state, &who, CaseId(id), &draft, StatusCode::CONFLICT).await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}

/// A count as people read it: thousands grouped (`12,345`), and past the counting cap
/// `10,000+`.
fn count_text(n: i64) -> String {
    if n > lists::COUNT_CAP {
        return format!("{}+", count_text(lists::COUNT_CAP));
    }
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod count_tests {
    #[test]
    fn counts_read_with_thousands_grouped_and_a_cap() {
        assert_eq!(super::count_text(0), "0");
        assert_eq!(super::count_text(999), "999");
        assert_eq!(super::count_text(1_000), "1,000");
        assert_eq!(super::count_text(10_000), "10,000");
        assert_eq!(super::count_text(10_001), "10,000+");
    }
}
