//! The public status page: `/status` (HTML), `/status.json`, `/status.atom`, with per-service
//! state, 90 days of history, and email subscriptions with confirmation and one-click
//! unsubscribe. No sign-in; dry runs and internal incidents never appear.

use crate::crisis::service;
use crate::error::ApiError;
use crate::layout::{html_response, page};
use crate::web::WebError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use backline_domain::crisis::{ComponentState, Impact};
use backline_domain::{Span, Timestamp};
use backline_store::crisis::{format_time, Incident, IncidentEvent, Service};
use maud::html;
use serde_json::json;

/// How far back the status page looks.
const HISTORY_DAYS: i64 = 90;

/// Midnight UTC starting the first day of the history that ends at `now`.
fn first_day(now: Timestamp) -> Timestamp {
    Timestamp::start_of(now.minus(Span::DAY.times(HISTORY_DAYS)).date())
}

struct Board {
    services: Vec<(Service, ComponentState)>,
    /// Public incidents of the last 90 days with their public messages, newest first.
    incidents: Vec<(Incident, Vec<IncidentEvent>)>,
    /// Per service: (day index 0..90 from the oldest, worst impact that day).
    history: Vec<Vec<Option<Impact>>>,
}

async fn board(state: &AppState) -> Result<Board, ApiError> {
    let now = Timestamp::now();
    let since = now.minus(Span::DAY.times(HISTORY_DAYS));
    let services = state.store.services().await?;
    let incidents: Vec<Incident> = state
        .store
        .incidents(since, false)
        .await?
        .into_iter()
        .filter(|i| i.public && !i.dry_run)
        .collect();
    let mut with_events = Vec::new();
    for i in incidents {
        let events = state
            .store
            .incident_events(i.id)
            .await?
            .into_iter()
            .filter(|e| matches!(e.kind.as_str(), "declared" | "update" | "resolved"))
            .collect();
        with_events.push((i, events));
    }
    let day0 = first_day(now);
    let mut states = Vec::new();
    let mut history = Vec::new();
    for s in &services {
        let touching: Vec<&Incident> = with_events
            .iter()
            .map(|(i, _)| i)
            .filter(|i| i.services.iter().any(|x| x.id == s.id))
            .collect();
        let open_worst = touching
            .iter()
            .filter(|i| i.resolved_at.is_none())
            .map(|i| i.impact)
            .max();
        states.push((
            s.clone(),
            open_worst.map_or(ComponentState::Operational, Impact::component_state),
        ));
        let mut days = vec![None; HISTORY_DAYS as usize + 1];
        for i in &touching {
            let end = i.resolved_at.unwrap_or(now);
            let mut day = i.declared_at.since(day0).whole_days().max(0);
            while day <= end.since(day0).whole_days().min(HISTORY_DAYS) {
                let slot = &mut days[day as usize];
                *slot = (*slot).max(Some(i.impact));
                day += 1;
            }
        }
        history.push(days);
    }
    Ok(Board {
        services: states,
        incidents: with_events,
        history,
    })
}

fn label(state: ComponentState) -> &'static str {
    match state {
        ComponentState::Operational => "Operational",
        ComponentState::DegradedPerformance => "Degraded performance",
        ComponentState::PartialOutage => "Partial outage",
        ComponentState::MajorOutage => "Major outage",
    }
}

pub async fn status_page(State(state): State<AppState>) -> Response {
    let board = match board(&state).await {
        Ok(b) => b,
        Err(e) => return WebError::from(e).into_response(),
    };
    let all_ok = board
        .services
        .iter()
        .all(|(_, s)| *s == ComponentState::Operational);
    html_response(
        StatusCode::OK,
        page(
            "Status",
            None,
            html! {
                h1 { "System status" }
                div.card #overall data-ok=(all_ok) {
                    @if all_ok { strong { "All systems operational" } } @else { strong { "Some systems are affected" } }
                }
                div.card {
                    @for ((s, st), days) in board.services.iter().zip(&board.history) {
                        div.service data-service=(s.slug) data-state=(st.as_str()) {
                            div.service-head { strong { (s.name) } @if !s.group.is_empty() { span.num { " · " (s.group) } } span class=(format!("badge comp-{}", st.as_str())) { (label(*st)) } }
                            div.days aria-label="Last 90 days" {
                                @for d in days { span class=(format!("day {}", d.map_or("ok", |i| i.as_str()))) title=(d.map_or("no incident".to_string(), |i| format!("{i} incident"))) {} }
                            }
                        }
                    }
                }
                h2 { "Incidents, last 90 days" }
                @if board.incidents.is_empty() { p.num { "None." } }
                @for (i, events) in &board.incidents {
                    div.card.incident id=(format!("incident-{}", i.id)) data-state=(i.state.as_str()) {
                        h3 { (i.title) " " span class=(format!("badge impact-{}", i.impact.as_str())) { (i.impact) } " " span.badge { (i.state) } }
                        p.num { (i.services.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")) " · since " (format_time(i.declared_at)) @if let Some(r) = i.resolved_at { " · resolved " (format_time(r)) } }
                        ul { @for e in events.iter().rev() { li { strong { (e.state.map_or(e.kind.clone(), |s| s.to_string())) } " · " (format_time(e.at)) " — " (e.message) } } }
                    }
                }
                form.card #subscribe method="post" action="/status/subscribe" {
                    h2 { "Get email about a service" }
                    label for="sub-email" { "Email" } input #sub-email type="email" name="email" required;
                    @for (s, _) in &board.services { label { input type="checkbox" name="services" value=(s.slug); " " (s.name) } }
                    p { button type="submit" { "Subscribe" } }
                    p.num { "We send a confirmation first; every message has a one-click unsubscribe link." }
                    p.num { a href="/status.json" { "JSON" } " · " a href="/status.atom" { "Atom feed" } }
                }
            },
        ),
    )
}

pub async fn status_json(State(state): State<AppState>) -> Response {
    let board = match board(&state).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let day0 = first_day(Timestamp::now());
    axum::Json(json!({
        "services": board.services.iter().zip(&board.history).map(|((s, st), days)| json!({
            "slug": s.slug, "name": s.name, "group": s.group, "state": st,
            "history": days.iter().enumerate().filter_map(|(n, d)| d.map(|impact| json!({
                "date": day0.plus(Span::DAY.times(n as i64)).date().to_string(),
                "worst_impact": impact,
            }))).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "incidents": board.incidents.iter().map(|(i, events)| json!({
            "id": i.id, "title": i.title, "impact": i.impact, "state": i.state,
            "services": i.services.iter().map(|s| &s.slug).collect::<Vec<_>>(),
            "started_at": format_time(i.declared_at), "resolved_at": i.resolved_at.map(format_time),
            "updates": events.iter().map(|e| json!({"state": e.state, "message": e.message, "at": format_time(e.at)})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    }))
    .into_response()
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub async fn status_atom(State(state): State<AppState>) -> Response {
    let board = match board(&state).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let base = &state.public_url;
    let updated = board
        .incidents
        .iter()
        .flat_map(|(_, ev)| ev.iter().map(|e| e.at))
        .max()
        .unwrap_or(Timestamp::EPOCH);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>System status</title>\n<id>{base}/status</id>\n<link href=\"{base}/status\"/>\n<updated>{}</updated>\n",
        updated.to_rfc3339()
    );
    for (i, events) in &board.incidents {
        for (n, e) in events.iter().enumerate() {
            out.push_str(&format!(
                "<entry><id>{base}/status#incident-{}-{n}</id><title>{}: {}</title><updated>{}</updated><link href=\"{base}/status#incident-{}\"/><content type=\"text\">{}</content></entry>\n",
                i.id,
                xml(&e.state.map_or(e.kind.clone(), |s| s.to_string())),
                xml(&i.title),
                e.at.to_rfc3339(),
                i.id,
                xml(&e.message)
            ));
        }
    }
    out.push_str("</feed>\n");
    (
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        out,
    )
        .into_response()
}

struct SubscribeForm {
    email: String,
    services: Vec<String>,
}

pub async fn subscribe(
    State(state): State<AppState>,
    crate::web::ClientAddress(client): crate::web::ClientAddress,
    body: axum::body::Bytes,
) -> Response {
    // Repeated checkbox fields (`services=a&services=b`) are gathered by hand.
    let mut form = SubscribeForm {
        email: String::new(),
        services: Vec::new(),
    };
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "email" => form.email = v.into_owned(),
            "services" => form.services.push(v.into_owned()),
            _ => {}
        }
    }
    match service::subscribe(&state, &form.email, &form.services, client).await {
        Ok(()) => html_response(
            StatusCode::OK,
            page(
                "Check your email",
                None,
                html! {
                    h1 { "Check your email" }
                    div.card #subscribed { "We sent a confirmation link to " (form.email.trim()) ". Nothing is sent until you confirm." }
                },
            ),
        ),
        Err(ApiError::Validation(errors)) => html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                "Subscribe",
                None,
                html! {
                    h1 { "That did not work" }
                    div.error { (errors.summary()) }
                    p { a href="/status" { "Back to the status page" } }
                },
            ),
        ),
        Err(ApiError::TooMany(message)) => html_response(
            StatusCode::TOO_MANY_REQUESTS,
            page(
                "Subscribe",
                None,
                html! {
                    h1 { "Please wait" }
                    div.error { (message) }
                    p { a href="/status" { "Back to the status page" } }
                },
            ),
        ),
        Err(e) => WebError::from(e).into_response(),
    }
}

pub async fn confirm(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.store.confirm_subscription(&token).await {
        Ok(n) if n > 0 => html_response(
            StatusCode::OK,
            page(
                "Subscribed",
                None,
                html! { h1 { "Subscribed" } div.card #confirmed { "You will get email about incidents on the services you chose." } },
            ),
        ),
        Ok(_) => html_response(
            StatusCode::NOT_FOUND,
            page(
                "Unknown link",
                None,
                html! { h1 { "This link is not valid any more" } p { a href="/status" { "Status page" } } },
            ),
        ),
        Err(e) => WebError::from(e).into_response(),
    }
}

/// One click, no sign-in, no confirmation: the link itself is the secret.
pub async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.store.unsubscribe(&token).await {
        Ok(_) => html_response(
            StatusCode::OK,
            page(
                "Unsubscribed",
                None,
                html! { h1 { "Unsubscribed" } div.card #unsubscribed { "You will get no more status email from this subscription." } },
            ),
        ),
        Err(e) => WebError::from(e).into_response(),
    }
}
