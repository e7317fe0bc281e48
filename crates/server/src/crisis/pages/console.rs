//! The incident console: signals to qualify, declaring (a refused declaration keeps the form),
//! dismissing, the roster.

use super::*;
use crate::crisis::service::{self as crisis, Declaration};
use crate::error::ApiError;
use crate::layout::{field_error, html_response, page};
use crate::session::WebUser;
use crate::web::{CsrfForm, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use backline_domain::crisis::{Impact, IncidentState, RosterRole};
use backline_domain::SignalGroupId;
use backline_store::crisis::{format_time, RosterEntry};
use maud::html;
use serde::Deserialize;

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
                .incidents(Timestamp::now().minus(Span::DAY.times(30)), false)
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
                            (field_error(&draft.errors, &["title"]))
                            fieldset { legend { "Affected services" }
                                @for s in &services { label { input type="checkbox" name="services" value=(s.slug) checked[draft.services.contains(&s.slug)]; " " (s.name) } }
                                (field_error(&draft.errors, &["services"]))
                            }
                            label for="impact" { "Impact" }
                            select #impact name="impact" { @for i in Impact::ALL { option value=(i.as_str()) selected[draft.impact == i.as_str()] { (i) } } }
                            (field_error(&draft.errors, &["impact"]))
                            label for="nature" { "What customers experience" } input #nature type="text" name="nature" value=(draft.nature) required style="width:100%";
                            (field_error(&draft.errors, &["nature"]))
                            label for="message" { "First message" } textarea #message name="message" { (draft.message) }
                            (field_error(&draft.errors, &["message"]))
                            label for="eta" { "Likely resolution (optional)" } input #eta type="text" name="eta" value=(draft.eta) placeholder="about two hours";
                            (field_error(&draft.errors, &["eta"]))
                            label for="next_update" { "Next update in (minutes)" } input #next_update type="number" name="next_update" value=(draft.next_update) min="1" required;
                            (field_error(&draft.errors, &["next_update_at", "next_update"]))
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
                script src="/assets/clock.js" defer {}
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
    Path(id): Path<SignalGroupId>,
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
