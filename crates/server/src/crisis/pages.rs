//! The incident console: signals to qualify, declaring, updating with the clock to the next
//! committed update, the roster, notifications, and the post-mortem editor.

use crate::crisis::service::{self as crisis, Declaration, UpdateInput};
use crate::error::ApiError;
use crate::layout::{error_page, html_response, page};
use crate::session::CsrfForm;
use crate::session::WebUser;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use backline_domain::crisis::{Impact, IncidentState, RosterRole};
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

fn in_minutes(minutes: &str) -> Option<String> {
    let m: i64 = minutes.trim().parse().ok()?;
    let at = time::OffsetDateTime::now_utc() + time::Duration::minutes(m);
    Some(
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    )
}

pub async fn console(State(state): State<AppState>, who: WebUser) -> Response {
    if let Err(e) = crisis::staff_only(&who.user) {
        return error_page(Some(&who), e);
    }
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
    let (signals, incidents, services, roster, customers) = match loaded.await {
        Ok(x) => x,
        Err(e) => return error_page(Some(&who), e),
    };
    html_response(
        StatusCode::OK,
        page(
            "Incidents",
            Some(&who),
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
                            label for="title" { "Title" } input #title type="text" name="title" required style="width:100%";
                            fieldset { legend { "Affected services" }
                                @for s in &services { label { input type="checkbox" name="services" value=(s.slug); " " (s.name) } }
                            }
                            label for="impact" { "Impact" }
                            select #impact name="impact" { @for i in Impact::ALL { option value=(i.as_str()) { (i) } } }
                            label for="nature" { "What customers experience" } input #nature type="text" name="nature" required style="width:100%";
                            label for="message" { "First message" } textarea #message name="message" {}
                            label for="eta" { "Likely resolution (optional)" } input #eta type="text" name="eta" placeholder="about two hours";
                            label for="next_update" { "Next update in (minutes)" } input #next_update type="number" name="next_update" value="30" min="1" required;
                            label { input #dry_run type="checkbox" name="dry_run" value="1"; " Drill: notify the roster only" }
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
    )
}

pub async fn declare(
    State(state): State<AppState>,
    who: WebUser,
    body: axum::body::Bytes,
) -> Response {
    let mut csrf = String::new();
    let mut d = Declaration::default();
    let mut next = String::new();
    let mut dry_run = false;
    for (k, v) in form_urlencoded::parse(&body) {
        let v = v.into_owned();
        match k.as_ref() {
            "csrf" => csrf = v,
            "title" => d.title = v,
            "services" => d.services.push(v),
            "impact" => d.impact = Impact::parse(&v).ok(),
            "nature" => d.nature = v,
            "message" => d.message = v,
            "eta" => d.eta = Some(v),
            "next_update" => next = v,
            "dry_run" => dry_run = true,
            _ => {}
        }
    }
    if let Err(e) = who.check_csrf(&csrf) {
        return error_page(Some(&who), e);
    }
    d.next_update_at = in_minutes(&next);
    match crisis::declare(&state, &who.user, d, dry_run).await {
        Ok(i) => Redirect::to(&format!("/incidents/{}", i.id)).into_response(),
        Err(e) => error_page(Some(&who), e),
    }
}

#[derive(Deserialize)]
pub struct DismissForm {
    csrf: String,
    reason: String,
}

pub async fn dismiss(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    Form(form): Form<DismissForm>,
) -> Response {
    if let Err(e) = who.check_csrf(&form.csrf) {
        return error_page(Some(&who), e);
    }
    match crisis::dismiss(&state, &who.user, id, &form.reason).await {
        Ok(i) => Redirect::to(&format!("/incidents/{}", i.id)).into_response(),
        Err(e) => error_page(Some(&who), e),
    }
}

#[derive(Deserialize)]
pub struct RosterForm {
    csrf: String,
    lines: String,
}

pub async fn save_roster(
    State(state): State<AppState>,
    who: WebUser,
    Form(form): Form<RosterForm>,
) -> Response {
    if let Err(e) = who
        .check_csrf(&form.csrf)
        .and_then(|()| crisis::staff_only(&who.user))
    {
        return error_page(Some(&who), e);
    }
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
        return error_page(Some(&who), ApiError::Validation(errors));
    }
    match state.store.set_roster(&entries).await {
        Ok(()) => Redirect::to("/incidents").into_response(),
        Err(e) => error_page(Some(&who), e.into()),
    }
}

pub async fn incident_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
) -> Response {
    if let Err(e) = crisis::staff_only(&who.user) {
        return error_page(Some(&who), e);
    }
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
    let (i, events, notifications, pm) = match loaded.await {
        Ok(x) => x,
        Err(e) => return error_page(Some(&who), e),
    };
    let sent = notifications.iter().filter(|n| n.sent_at.is_some()).count();
    html_response(
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
    )
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
    csrf: String,
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
    Form(form): Form<UpdateForm>,
) -> Response {
    if let Err(e) = who.check_csrf(&form.csrf) {
        return error_page(Some(&who), e);
    }
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
    match crisis::post_update(&state, &who.user, id, input).await {
        Ok(_) => Redirect::to(&format!("/incidents/{id}")).into_response(),
        Err(e) => error_page(Some(&who), e),
    }
}

#[derive(Deserialize)]
pub struct LongForm {
    csrf: String,
    long: String,
}

pub async fn long_resolution(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    Form(form): Form<LongForm>,
) -> Response {
    if let Err(e) = who
        .check_csrf(&form.csrf)
        .and_then(|()| crisis::staff_only(&who.user))
    {
        return error_page(Some(&who), e);
    }
    match state
        .store
        .set_long_resolution(id, form.long == "1", who.user.id)
        .await
    {
        Ok(()) => Redirect::to(&format!("/incidents/{id}")).into_response(),
        Err(e) => error_page(Some(&who), e.into()),
    }
}

#[derive(Deserialize)]
pub struct PostmortemForm {
    csrf: String,
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
    Form(form): Form<PostmortemForm>,
) -> Response {
    if let Err(e) = who.check_csrf(&form.csrf) {
        return error_page(Some(&who), e);
    }
    let current = match state.store.postmortem(id).await {
        Ok(Some(pm)) => pm,
        Ok(None) => return error_page(Some(&who), ApiError::NotFound("post-mortem")),
        Err(e) => return error_page(Some(&who), e.into()),
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
    match crisis::save_postmortem(&state, &who.user, pm).await {
        Ok(_) => Redirect::to(&format!("/incidents/{id}#postmortem")).into_response(),
        Err(e) => error_page(Some(&who), e),
    }
}

pub async fn publish(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(e) = who.check_csrf(&form.csrf) {
        return error_page(Some(&who), e);
    }
    match crisis::publish_postmortem(&state, &who.user, id).await {
        Ok(()) => Redirect::to(&format!("/incidents/{id}")).into_response(),
        Err(e) => error_page(Some(&who), e),
    }
}

/// Every message template, editable, with the variables each may use.
pub async fn templates(State(state): State<AppState>, who: WebUser) -> Response {
    if let Err(e) = crisis::staff_only(&who.user) {
        return error_page(Some(&who), e);
    }
    let mut all = Vec::new();
    for kind in backline_domain::crisis::TemplateKind::ALL {
        match crisis::template(&state, *kind).await {
            Ok(t) => all.push((*kind, t)),
            Err(e) => return error_page(Some(&who), e),
        }
    }
    html_response(
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
    )
}

#[derive(Deserialize)]
pub struct TemplateForm {
    csrf: String,
    subject: String,
    body: String,
}

pub async fn save_template(
    State(state): State<AppState>,
    who: WebUser,
    Path(kind): Path<String>,
    Form(form): Form<TemplateForm>,
) -> Response {
    if let Err(e) = who
        .check_csrf(&form.csrf)
        .and_then(|()| crisis::staff_only(&who.user))
    {
        return error_page(Some(&who), e);
    }
    let Ok(kind) = backline_domain::crisis::TemplateKind::parse(&kind) else {
        return error_page(Some(&who), ApiError::NotFound("template"));
    };
    let template = backline_domain::crisis::Template {
        subject: form.subject,
        body: form.body,
    };
    if let Err(errors) = backline_domain::crisis::check_template(kind, &template) {
        return error_page(Some(&who), ApiError::Validation(errors));
    }
    match state.store.set_template(kind, &template).await {
        Ok(()) => Redirect::to("/incidents/templates").into_response(),
        Err(e) => error_page(Some(&who), e.into()),
    }
}

/// Anyone signed in can report a problem; it becomes a signal for the support team.
pub async fn report_form(State(state): State<AppState>, who: WebUser) -> Response {
    let services = match state.store.services().await {
        Ok(s) => s,
        Err(e) => return error_page(Some(&who), e.into()),
    };
    html_response(
        StatusCode::OK,
        page(
            "Report a problem",
            Some(&who),
            html! {
                h1 { "Report a service problem" }
                p.num { "For something that looks like an outage (a service down or very slow). For anything else, open a case." }
                form.card #report method="post" action="/report" {
                    input type="hidden" name="csrf" value=(who.csrf);
                    label for="service" { "Service" }
                    select #service name="service" { option value="" { "I am not sure" } @for s in &services { option value=(s.slug) { (s.name) } } }
                    label for="report-title" { "What is wrong" } input #report-title type="text" name="title" required style="width:100%";
                    label for="report-detail" { "Details" } textarea #report-detail name="detail" {}
                    p { button type="submit" { "Report" } }
                }
            },
        ),
    )
}

#[derive(Deserialize)]
pub struct ReportForm {
    csrf: String,
    #[serde(default)]
    service: String,
    title: String,
    #[serde(default)]
    detail: String,
}

pub async fn report(
    State(state): State<AppState>,
    who: WebUser,
    Form(form): Form<ReportForm>,
) -> Response {
    if let Err(e) = who.check_csrf(&form.csrf) {
        return error_page(Some(&who), e);
    }
    let title = form.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return error_page(
            Some(&who),
            ApiError::validation("title", "must be 1 to 200 characters"),
        );
    }
    let service = match form.service.trim() {
        "" => None,
        slug => match state.store.service_by_slug(slug).await {
            Ok(s) => Some(s.id),
            Err(_) => {
                return error_page(
                    Some(&who),
                    ApiError::validation("service", "no such service"),
                )
            }
        },
    };
    let signal = backline_store::crisis::NewSignal {
        service,
        group_key: match service {
            Some(id) => format!("service:{id}"),
            None => format!("report:{}", title.to_lowercase()),
        },
        title: title.to_string(),
        detail: form.detail.chars().take(10_000).collect(),
        source: if who.user.role.is_staff() {
            "staff".into()
        } else {
            "report".into()
        },
        status: "firing".into(),
        reported_by: Some(who.user.id),
    };
    match crisis::record_signals(&state, vec![signal]).await {
        Ok(_) => html_response(
            StatusCode::OK,
            page(
                "Thank you",
                Some(&who),
                html! {
                    h1 { "Thank you" }
                    div.card #reported { "The support team has been alerted. Follow the " a href="/status" { "status page" } " for news." }
                },
            ),
        ),
        Err(e) => error_page(Some(&who), e),
    }
}
