//! The incident console: signals to qualify, declaring, updating with the clock to the next
//! committed update, the roster, notifications, and the post-mortem editor.

use crate::crisis::service::{self as crisis, Declaration, UpdateInput};
use crate::error::ApiError;
use crate::layout::{field_error, html_response, page};
use crate::session::WebUser;
use crate::web::{CsrfForm, NoFields, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use backline_domain::crisis::{Impact, IncidentState, RosterRole};
use backline_domain::FieldErrors;
use backline_store::crisis::{format_time, Postmortem, RosterEntry};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;

/// Counts down to each `.clock[data-due]` every second (no framework; the page works without).
const CLOCK_SCRIPT: &str = r#"
(function () {
  function tick() {
    for (const el of document.querySelectorAll('.clock[data-due]')) {
      const left = Math.round((Number(el.dataset.due) - Date.now()) / 1000);
      const abs = Math.abs(left), m = Math.floor(abs / 60), s = abs % 60;
      el.textContent = (left < 0 ? 'overdue by ' : 'in ') + m + ' min ' + String(s).padStart(2, '0') + ' s';
      el.classList.toggle('late', left < 0);
    }
  }
  tick();
  setInterval(tick, 1000);
})();
"#;

fn clock(due: Option<i64>) -> Markup {
    match due {
        Some(ms) => html! { span.clock data-due=(ms) { (format_time(ms)) } },
        None => html! { span.num { "no update committed" } },
    }
}

/// The moment `minutes` from now, as RFC 3339; `None` for anything but a whole number of
/// minutes within a year either way (larger numbers would overflow the clock arithmetic).
fn in_minutes(minutes: &str) -> Option<String> {
    const YEAR_IN_MINUTES: i64 = 366 * 24 * 60;
    let m: i64 = minutes.trim().parse().ok()?;
    if !(-YEAR_IN_MINUTES..=YEAR_IN_MINUTES).contains(&m) {
        return None;
    }
    let at = time::OffsetDateTime::now_utc() + time::Duration::minutes(m);
    Some(
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    )
}

/// The declaration form as typed, with what is wrong with it; kept when a declaration is
/// refused so nothing typed is lost.
pub struct DeclarationDraft {
    title: String,
    services: Vec<String>,
    impact: String,
    nature: String,
    message: String,
    eta: String,
    next_update: String,
    dry_run: bool,
    errors: backline_domain::FieldErrors,
}

impl Default for DeclarationDraft {
    fn default() -> Self {
        DeclarationDraft {
            title: String::new(),
            services: Vec::new(),
            impact: Impact::Minor.as_str().into(),
            nature: String::new(),
            message: String::new(),
            eta: String::new(),
            next_update: "30".into(),
            dry_run: false,
            errors: backline_domain::FieldErrors::new(),
        }
    }
}

impl DeclarationDraft {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut draft = DeclarationDraft {
            impact: String::new(),
            next_update: String::new(),
            ..Default::default()
        };
        for (key, value) in pairs {
            match key.as_str() {
                "title" => draft.title = value,
                "services" => draft.services.push(value),
                "impact" => draft.impact = value,
                "nature" => draft.nature = value,
                "message" => draft.message = value,
                "eta" => draft.eta = value,
                "next_update" => draft.next_update = value,
                "dry_run" => draft.dry_run = true,
                _ => {}
            }
        }
        draft
    }

    fn error(&self, fields: &[&str]) -> Option<Markup> {
        Some(field_error(&self.errors, fields))
    }
}

pub async fn console(State(state): State<AppState>, who: WebUser) -> PageResult {
    render_console(&state, &who, &DeclarationDraft::default(), StatusCode::OK).await
}

async fn render_console(
    state: &AppState,
    who: &WebUser,
    draft: &DeclarationDraft,
    status: StatusCode,
) -> PageResult {
    crisis::staff_only(&who.user).or_page(who)?;
    let loaded = async {
        Ok::<_, ApiError>((
            state.store.signal_groups(true).await?,
            state
                .store
                .incidents(backline_store::now_millis() - 30 * 86_400_000, false)
                .await?,
            state.store.services().await?,
            state.store.roster().await?,
            state.store.customers_by_service().await?,
        ))
    };
    let (signals, incidents, services, roster, customers) = loaded.await.or_page(who)?;
    Ok(html_response(
        status,
        page(
            "Incidents",
            Some(who),
            html! {
                h1 { "Incident console" }
                div.case-layout {
                    div {
                        div.card #signals {
                            h2 { "Signals to qualify" }
                            @if signals.is_empty() { p.num { "No open signals." } }
                            @for g in &signals {
                                div.signal data-group=(g.id) {
                                    strong { (g.title) } " · " (g.service.as_ref().map_or("unknown service".to_string(), |s| s.name.clone()))
                                    span.num { " · " (g.signals) " alert(s), " (g.firing) " firing, last " (format_time(g.last_at)) }
                                    form.inline method="post" action=(format!("/incidents/signals/{}/dismiss", g.id)) {
                                        input type="hidden" name="csrf" value=(who.csrf);
                                        input type="text" name="reason" placeholder="Why no formal incident" required;
                                        button type="submit" { "Dismiss to post-mortem" }
                                    }
                                }
                            }
                        }
                        div.card #open-incidents {
                            h2 { "Incidents, last 30 days" }
                            @if incidents.is_empty() { p.num { "None." } }
                            ul {
                                @for i in &incidents {
                                    li data-incident=(i.id) {
                                        a href=(format!("/incidents/{}", i.id)) { (i.title) } " "
                                        span class=(format!("badge impact-{}", i.impact.as_str())) { (i.impact) } " " span.badge { (i.state) }
                                        @if i.dry_run { " " span.badge { "drill" } }
                                        @if !i.public { " " span.badge { "internal" } }
                                        @if i.state != IncidentState::Resolved { " · next update " (clock(i.next_update_at)) }
                                        @if i.overdue { " " span.badge.late { "overdue" } }
                                        @if i.hourly_breach { " " span.badge.late { "over an hour without update" } }
                                    }
                                }
                            }
                        }
                        form.card #declare method="post" action="/incidents" {
                            input type="hidden" name="csrf" value=(who.csrf);
                            h2 { "Declare an incident" }
                            @if !draft.errors.is_empty() { div.error role="alert" { "Nothing was declared and nobody was alerted. Correct the fields marked below and declare again." } }
                            label for="title" { "Title" } input #title type="text" name="title" value=(draft.title) required style="width:100%";
                            (draft.error(&["title"]).unwrap_or_default())
                            fieldset { legend { "Affected services" }
                                @for s in &services { label { input type="checkbox" name="services" value=(s.slug) checked[draft.services.contains(&s.slug)]; " " (s.name) } }
                                (draft.error(&["services"]).unwrap_or_default())
                            }
                            label for="impact" { "Impact" }
                            select #impact name="impact" { @for i in Impact::ALL { option value=(i.as_str()) selected[draft.impact == i.as_str()] { (i) } } }
                            (draft.error(&["impact"]).unwrap_or_default())
                            label for="nature" { "What customers experience" } input #nature type="text" name="nature" value=(draft.nature) required style="width:100%";
                            (draft.error(&["nature"]).unwrap_or_default())
                            label for="message" { "First message" } textarea #message name="message" { (draft.message) }
                            (draft.error(&["message"]).unwrap_or_default())
                            label for="eta" { "Likely resolution (optional)" } input #eta type="text" name="eta" value=(draft.eta) placeholder="about two hours";
                            (draft.error(&["eta"]).unwrap_or_default())
                            label for="next_update" { "Next update in (minutes)" } input #next_update type="number" name="next_update" value=(draft.next_update) min="1" required;
                            (draft.error(&["next_update_at", "next_update"]).unwrap_or_default())
                            label { input #dry_run type="checkbox" name="dry_run" value="1" checked[draft.dry_run]; " Drill: notify the roster only" }
                            p { button type="submit" { "Declare and alert affected customers" } }
                        }
                    }
                    aside {
                        div.card #service-customers {
                            h2 { "Who uses what" }
                            ul {
                                @for s in &services {
                                    @let names: Vec<&str> = customers.iter().filter(|(id, _)| *id == s.id).map(|(_, o)| o.name.as_str()).collect();
                                    li data-service-customers=(s.slug) {
                                        strong { (s.name) } ": "
                                        @if names.is_empty() { span.num { "no customers" } } @else { (names.join(", ")) }
                                    }
                                }
                            }
                        }
                        div.card #roster {
                            h2 { "Roster" }
                            ul { @for r in &roster { li { strong { (r.role.as_str().replace('_', " ")) } ": " (r.name) " <" (r.email) ">" @if !r.phone.is_empty() { " · " (r.phone) } } } }
                            form method="post" action="/incidents/roster" {
                                input type="hidden" name="csrf" value=(who.csrf);
                                label for="roster-lines" { "One per line: role, name, email, phone" }
                                textarea #roster-lines name="lines" { @for r in &roster { (r.role.as_str()) ", " (r.name) ", " (r.email) ", " (r.phone) "\n" } }
                                p.num { "Roles: " (RosterRole::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")) }
                                p { button type="submit" { "Save roster" } }
                            }
                        }
                        p { a href="/status" { "Public status page" } " · " a href="/incidents/templates" { "Message templates" } " · " a href="/report" { "Report a problem" } }
                    }
                }
                script { (PreEscaped(CLOCK_SCRIPT)) }
            },
        ),
    ))
}

/// Declares from the console; a refused declaration shows the console again with the form as
/// typed and each problem next to its field.
pub async fn declare(
    State(state): State<AppState>,
    who: WebUser,
    // `services` repeats, so the form is read as pairs.
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let mut draft = DeclarationDraft::from_pairs(pairs);
    let declaration = Declaration {
        title: draft.title.clone(),
        services: draft.services.clone(),
        impact: Impact::parse(&draft.impact).ok(),
        nature: draft.nature.clone(),
        message: draft.message.clone(),
        eta: Some(draft.eta.clone()),
        next_update_at: in_minutes(&draft.next_update),
        signal_group: None,
    };
    match crisis::declare(&state, &who.user, declaration, draft.dry_run).await {
        Ok(i) => Ok(Redirect::to(&format!("/incidents/{}", i.id)).into_response()),
        Err(ApiError::Validation(errors)) => {
            draft.errors = errors;
            render_console(&state, &who, &draft, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}

#[derive(Deserialize)]
pub struct DismissForm {
    reason: String,
}

pub async fn dismiss(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DismissForm>,
) -> PageResult {
    let i = crisis::dismiss(&state, &who.user, id, &form.reason)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/incidents/{}", i.id)).into_response())
}

#[derive(Deserialize)]
pub struct RosterForm {
    lines: String,
}

pub async fn save_roster(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<RosterForm>,
) -> PageResult {
    crisis::staff_only(&who.user).or_page(&who)?;
    let mut entries = Vec::new();
    let mut errors = backline_domain::FieldErrors::new();
    for (n, line) in form
        .lines
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let parts: Vec<&str> = line.split(',').map(str::trim).collect();
        let role = parts.first().and_then(|r| RosterRole::parse(r).ok());
        let email = parts
            .get(2)
            .and_then(|e| backline_domain::Email::parse(e).ok());
        match (role, parts.get(1), email) {
            (Some(role), Some(name), Some(email)) if !name.is_empty() => {
                entries.push(RosterEntry {
                    role,
                    name: (*name).into(),
                    email: email.as_str().into(),
                    phone: parts.get(3).copied().unwrap_or("").into(),
                })
            }
            _ => errors.add(
                "lines",
                format!("line {} should read: role, name, email, phone", n + 1),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(WebError::new(ApiError::Validation(errors)).for_user(&who));
    }
    state.store.set_roster(&entries).await.or_page(&who)?;
    Ok(Redirect::to("/incidents").into_response())
}

pub async fn incident_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
) -> PageResult {
    crisis::staff_only(&who.user).or_page(&who)?;
    let loaded = async {
        let incident = state.store.incident(id).await.map_err(|e| match e {
            backline_store::StoreError::NotFound => ApiError::NotFound("incident"),
            other => other.into(),
        })?;
        Ok::<_, ApiError>((
            incident,
            state.store.incident_events(id).await?,
            state.store.notifications(id).await?,
            state.store.postmortem(id).await?,
        ))
    };
    let (i, events, notifications, pm) = loaded.await.or_page(&who)?;
    let sent = notifications.iter().filter(|n| n.sent_at.is_some()).count();
    Ok(html_response(
        StatusCode::OK,
        page(
            &i.title,
            Some(&who),
            html! {
                p.num { a href="/incidents" { "← console" } }
                h1 { (i.title) " " span class=(format!("badge impact-{}", i.impact.as_str())) { (i.impact) } " " span.badge #incident-state { (i.state) } @if i.dry_run { " " span.badge { "drill" } } }
                div.case-layout {
                    div {
                        @if i.state != IncidentState::Resolved {
                            form.card #update method="post" action=(format!("/incidents/{}/updates", i.id)) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                h2 { "Send an update · next one due " (clock(i.next_update_at)) }
                                label for="state" { "State" }
                                select #state name="state" { @for s in IncidentState::ALL { option value=(s.as_str()) selected[*s == i.state] { (s) } } }
                                label for="update-message" { "Message" } textarea #update-message name="message" required {}
                                label for="update-next" { "Next update in (minutes; not needed when resolving)" } input #update-next type="number" name="next_update" value="30" min="1";
                                label for="update-eta" { "Likely resolution" } input #update-eta type="text" name="eta" value=(i.eta);
                                p { button type="submit" { "Send update" } }
                            }
                            form.card method="post" action=(format!("/incidents/{}/long", i.id)) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                input type="hidden" name="long" value=(if i.long_resolution { "0" } else { "1" });
                                p { @if i.long_resolution { "Marked as a known long resolution path: the hourly rule is off. " button type="submit" { "Unmark" } } @else { button type="submit" { "Known long resolution path (no hourly updates)" } } }
                            }
                        }
                        div.card #timeline {
                            h2 { "Timeline" }
                            ol { @for e in &events { li { strong { (e.kind) } @if let Some(s) = e.state { " (" (s) ")" } " · " (format_time(e.at)) @if let Some(a) = &e.actor { " · " (a) } @if !e.message.is_empty() { div.description { (e.message) } } } } }
                        }
                        @if let Some(pm) = &pm { (postmortem_editor(&who, i.id, pm)) }
                    }
                    aside {
                        div.card {
                            dl.meta {
                                dt { "Services" } dd { (i.services.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")) }
                                dt { "Nature" } dd { (i.nature) }
                                dt { "Likely resolution" } dd { (if i.eta.is_empty() { "not known" } else { &i.eta }) }
                                dt { "Declared" } dd { (format_time(i.declared_at)) }
                                @if let Some(r) = i.resolved_at { dt { "Resolved" } dd { (format_time(r)) } }
                            }
                        }
                        div.card #notifications {
                            h2 { "Notifications" }
                            p { (notifications.len()) " written, " (sent) " sent" }
                            ul.num { @for n in notifications.iter().take(50) { li { (n.kind) " → " (n.recipient) " · " (if n.sent_at.is_some() { "sent" } else if n.failed_at.is_some() { "failed" } else { "pending" }) } } }
                        }
                    }
                }
                script { (PreEscaped(CLOCK_SCRIPT)) }
            },
        ),
    ))
}

fn postmortem_editor(who: &WebUser, id: i64, pm: &Postmortem) -> Markup {
    let items = pm.action_items.as_array().cloned().unwrap_or_default();
    html! {
        form.card #postmortem method="post" action=(format!("/incidents/{id}/postmortem")) {
            input type="hidden" name="csrf" value=(who.csrf);
            h2 { "Post-mortem · due " (format_time(pm.due_at)) @if pm.executive_review { " " span.badge.late #exec-review { "repeated cause: executive review" } } @if pm.published_at.is_some() { " " span.badge { "published" } } }
            label for="pm-summary" { "Summary" } textarea #pm-summary name="summary" { (pm.summary) }
            label for="pm-root" { "Root cause" } textarea #pm-root name="root_cause" { (pm.root_cause) }
            label for="pm-category" { "Root-cause category" } input #pm-category type="text" name="category" value=(pm.category) placeholder="capacity, deploy, network...";
            label for="pm-actions" { "Action items (one per line: title, owner, due date)" }
            textarea #pm-actions name="action_items" { @for a in &items { (a["title"].as_str().unwrap_or("")) ", " (a["owner"].as_str().unwrap_or("")) ", " (a["due"].as_str().unwrap_or("")) "\n" } }
            label for="pm-internal" { "Internal report" } textarea #pm-internal name="internal_report" { (pm.internal_report) }
            label for="pm-customer" { "Customer edition" } textarea #pm-customer name="customer_edition" { (pm.customer_edition) }
            p { button type="submit" { "Save post-mortem" } }
        }
        @if pm.published_at.is_none() {
            form.card method="post" action=(format!("/incidents/{id}/postmortem/publish")) {
                input type="hidden" name="csrf" value=(who.csrf);
                p { button type="submit" { "Publish the customer edition to affected customers" } }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct UpdateForm {
    state: String,
    message: String,
    #[serde(default)]
    next_update: String,
    #[serde(default)]
    eta: String,
}

pub async fn update(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<UpdateForm>,
) -> PageResult {
    let new_state = IncidentState::parse(&form.state).ok();
    let next = if new_state == Some(IncidentState::Resolved) {
        None
    } else {
        in_minutes(&form.next_update)
    };
    let input = UpdateInput {
        state: new_state,
        message: form.message,
        next_update_at: next,
        eta: Some(form.eta).filter(|e| !e.trim().is_empty()),
    };
    crisis::post_update(&state, &who.user, id, input)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct LongForm {
    long: String,
}

pub async fn long_resolution(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<LongForm>,
) -> PageResult {
    crisis::staff_only(&who.user).or_page(&who)?;
    state
        .store
        .set_long_resolution(id, form.long == "1", who.user.id)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct PostmortemForm {
    #[serde(default)]
    summary: String,
    #[serde(default)]
    root_cause: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    action_items: String,
    #[serde(default)]
    internal_report: String,
    #[serde(default)]
    customer_edition: String,
}

pub async fn save_postmortem(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<PostmortemForm>,
) -> PageResult {
    let current = match state.store.postmortem(id).await {
        Ok(Some(pm)) => pm,
        Ok(None) => return Err(WebError::new(ApiError::NotFound("post-mortem")).for_user(&who)),
        Err(e) => return Err(WebError::new(e.into()).for_user(&who)),
    };
    let items: Vec<serde_json::Value> = form
        .action_items
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let p: Vec<&str> = l.split(',').map(str::trim).collect();
            serde_json::json!({"title": p.first().copied().unwrap_or(""), "owner": p.get(1).copied().unwrap_or(""), "due": p.get(2).copied().filter(|d| !d.is_empty())})
        })
        .collect();
    let pm = Postmortem {
        summary: form.summary,
        root_cause: form.root_cause,
        category: form.category,
        action_items: serde_json::Value::Array(items),
        internal_report: form.internal_report,
        customer_edition: form.customer_edition,
        ..current
    };
    crisis::save_postmortem(&state, &who.user, pm)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/incidents/{id}#postmortem")).into_response())
}

pub async fn publish(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    _: CsrfForm<NoFields>,
) -> PageResult {
    crisis::publish_postmortem(&state, &who.user, id)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}

/// Every message template, editable, with the variables each may use.
pub async fn templates(State(state): State<AppState>, who: WebUser) -> PageResult {
    crisis::staff_only(&who.user).or_page(&who)?;
    let mut all = Vec::new();
    for kind in backline_domain::crisis::TemplateKind::ALL {
        match crisis::template(&state, *kind).await {
            Ok(t) => all.push((*kind, t)),
            Err(e) => return Err(WebError::new(e).for_user(&who)),
        }
    }
    Ok(html_response(
        StatusCode::OK,
        page(
            "Templates",
            Some(&who),
            html! {
                p.num { a href="/incidents" { "← console" } }
                h1 { "Message templates" }
                @for (kind, t) in &all {
                    form.card.template method="post" action=(format!("/incidents/templates/{}", kind.as_str())) data-template=(kind.as_str()) {
                        input type="hidden" name="csrf" value=(who.csrf);
                        h2 { (kind) }
                        p.num { "Variables: " (backline_domain::crisis::template_variables(*kind).iter().map(|v| format!("{{{{{v}}}}}")).collect::<Vec<_>>().join(" ")) }
                        label { "Subject" } input type="text" name="subject" value=(t.subject) style="width:100%";
                        label { "Body" } textarea name="body" { (t.body) }
                        p { button type="submit" { "Save" } }
                    }
                }
            },
        ),
    ))
}

#[derive(Deserialize)]
pub struct TemplateForm {
    subject: String,
    body: String,
}

pub async fn save_template(
    State(state): State<AppState>,
    who: WebUser,
    Path(kind): Path<String>,
    CsrfForm(form): CsrfForm<TemplateForm>,
) -> PageResult {
    crisis::staff_only(&who.user).or_page(&who)?;
    let Ok(kind) = backline_domain::crisis::TemplateKind::parse(&kind) else {
        return Err(WebError::new(ApiError::NotFound("template")).for_user(&who));
    };
    let template = backline_domain::crisis::Template {
        subject: form.subject,
        body: form.body,
    };
    if let Err(errors) = backline_domain::crisis::check_template(kind, &template) {
        return Err(WebError::new(ApiError::Validation(errors)).for_user(&who));
    }
    state
        .store
        .set_template(kind, &template)
        .await
        .or_page(&who)?;
    Ok(Redirect::to("/incidents/templates").into_response())
}

/// Anyone signed in can report a problem; it becomes a signal for the support team.
pub async fn report_form(State(state): State<AppState>, who: WebUser) -> PageResult {
    render_report_form(
        &state,
        &who,
        &ReportForm::default(),
        &FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

async fn render_report_form(
    state: &AppState,
    who: &WebUser,
    form: &ReportForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> PageResult {
    let services = state.store.services().await.or_page(who)?;
    Ok(html_response(
        status,
        page(
            "Report a problem",
            Some(who),
            html! {
                h1 { "Report a service problem" }
                p.num { "For something that looks like an outage (a service down or very slow). For anything else, open a case." }
                @if !errors.is_empty() { div.error role="alert" { "Nothing was reported yet. Correct the fields marked below and send it again." } }
                form.card #report method="post" action="/report" {
                    input type="hidden" name="csrf" value=(who.csrf);
                    label for="service" { "Service" }
                    select #service name="service" { option value="" { "I am not sure" } @for s in &services { option value=(s.slug) selected[s.slug == form.service] { (s.name) } } }
                    (field_error(errors, &["service"]))
                    label for="report-title" { "What is wrong" } input #report-title type="text" name="title" value=(form.title) required style="width:100%";
                    (field_error(errors, &["title"]))
                    label for="report-detail" { "Details" } textarea #report-detail name="detail" { (form.detail) }
                    p { button type="submit" { "Report" } }
                }
            },
        ),
    ))
}

#[derive(Deserialize, Default)]
pub struct ReportForm {
    #[serde(default)]
    service: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    detail: String,
}

/// Anyone signed in can report a problem; it becomes a signal for the support team. A refused
/// report comes back as typed.
pub async fn report(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<ReportForm>,
) -> PageResult {
    let report = crisis::ProblemReport {
        service: Some(form.service.clone()),
        title: form.title.clone(),
        detail: form.detail.clone(),
        status: backline_domain::crisis::SignalStatus::Firing,
    };
    match crisis::report_problem(&state, &who.user, report, crisis::ReportedThrough::Page).await {
        Ok(_) => Ok(html_response(
            StatusCode::OK,
            page(
                "Thank you",
                Some(&who),
                html! {
                    h1 { "Thank you" }
                    div.card #reported { "The support team has been alerted. Follow the " a href="/status" { "status page" } " for news." }
                },
            ),
        )),
        Err(ApiError::Validation(errors)) => {
            render_report_form(
                &state,
                &who,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}
