//! What every page shares: the frame with its navigation, HTML responses, the error page,
//! dates, the partner and status badges, and the stylesheet and script they load.

use crate::error::ApiError;
use crate::session::WebUser;
use crate::AppState;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use backline_domain::sla::SlaState;
use backline_domain::{CaseStatus, FieldErrors, Priority, Role, Span, Timestamp};
use backline_store::{PartnerRef, User};
use maud::{html, Markup, DOCTYPE};

const STYLESHEET: &str = include_str!("assets/app.css");
const SUGGEST_SCRIPT: &str = include_str!("assets/suggest.js");
const ATTACH_SCRIPT: &str = include_str!("assets/attach.js");
const PRESENCE_SCRIPT: &str = include_str!("assets/presence.js");
const KEYS_SCRIPT: &str = include_str!("assets/keys.js");
const FAVICON: &str = include_str!("assets/favicon.svg");
const ZONE_SCRIPT: &str = include_str!("assets/zone.js");
const CLOCK_SCRIPT: &str = include_str!("assets/clock.js");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assets/app.css", get(stylesheet))
        .route("/assets/suggest.js", get(|| script(SUGGEST_SCRIPT)))
        .route("/assets/attach.js", get(|| script(ATTACH_SCRIPT)))
        .route("/assets/presence.js", get(|| script(PRESENCE_SCRIPT)))
        .route("/assets/keys.js", get(|| script(KEYS_SCRIPT)))
        .route("/assets/zone.js", get(|| script(ZONE_SCRIPT)))
        .route("/assets/clock.js", get(|| script(CLOCK_SCRIPT)))
        .route("/assets/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
}

async fn script(text: &'static str) -> impl axum::response::IntoResponse {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        text,
    )
}

async fn favicon() -> impl axum::response::IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
}

async fn stylesheet() -> impl axum::response::IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

pub fn page(title: &str, who: Option<&WebUser>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Backline" }
                link rel="stylesheet" href="/assets/app.css";
                link rel="icon" href="/assets/favicon.svg" type="image/svg+xml";
                script src="/assets/zone.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/cases" { "Backline" }
                    @if let Some(who) = who {
                        nav {
                            a href="/cases" { "Cases" }
                            a href="/cases/new" { "New case" }
                            @if who.user.role.is_staff() { a href="/articles" { "Knowledge" } } @else { a href="/articles" { "Help centre" } }
                            a href="/search" { "Search" }
                            @if who.user.role.is_staff() {
                                a href="/partners" { "Partners" }
                                a href="/routing" { "Routing" }
                                a href="/sla" { "Service levels" }
                                a href="/staffing" { "Staffing" }
                                a href="/success" { "Success" }
                                a href="/analytics" { "Insights" }
                                a href="/macros" { "Macros" }
                                a href="/satisfaction" { "Satisfaction" }
                                a href="/incidents" { "Incidents" }
                                a href="/mail" { "Mail" }
                                @if who.user.role == Role::Admin { a href="/team" { "Team" } a href="/webhooks" { "Webhooks" } }
                            }
                            @if who.user.role == Role::Partner {
                                @if let Some(org) = &who.user.org { a href=(format!("/partners/{}", org.slug)) { "Our program" } }
                                a href="/training" { "Training" }
                            }
                            @if !who.user.role.is_staff() { a href="/report" { "Report an outage" } a href="/status" { "Status" } }
                        }
                        span.who {
                            (who.user.name) " · " (role_label(&who.user))
                            form method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(who.csrf);
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (content) }
                @if who.is_some() {
                    footer.bottom {
                        button type="button" data-open-shortcuts hidden { "Keyboard shortcuts (?)" }
                    }
                    dialog #shortcuts aria-labelledby="shortcuts-title" {
                        h2 #shortcuts-title { "Keyboard shortcuts" }
                        dl.shortcuts {
                            dt { kbd { "j" } " / " kbd { "k" } } dd { "Next / previous case in a list" }
                            dt { kbd { "o" } } dd { "Open the chosen case" }
                            dt { kbd { "x" } } dd { "Select the chosen case for a bulk change" }
                            dt { kbd { "r" } } dd { "Write a reply" }
                            dt { kbd { "Ctrl" } " + " kbd { "Enter" } } dd { "Send the reply" }
                            dt { kbd { "/" } } dd { "Search" }
                            dt { kbd { "n" } } dd { "New case" }
                            dt { kbd { "?" } } dd { "This list" }
                        }
                        form method="dialog" { button type="submit" { "Close" } }
                    }
                    script src="/assets/keys.js" defer {}
                }
            }
        }
    }
}

fn role_label(user: &User) -> String {
    match (&user.role, &user.org) {
        (Role::Admin, _) => "admin".into(),
        (Role::Agent, _) => match user.tier {
            Some(tier) => format!("agent, tier {}", tier.level()),
            None => "agent".into(),
        },
        (_, Some(org)) => org.name.clone(),
        (role, None) => role.to_string(),
    }
}

pub fn html_response(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// An API error shown as a page rather than JSON.
pub fn error_page(who: Option<&WebUser>, error: ApiError) -> Response {
    let status = error.status();
    let message = match &error {
        ApiError::Internal(_) => {
            "Something went wrong on our side; it has been logged.".to_string()
        }
        other => other.to_string(),
    };
    html_response(
        status,
        page(
            "Error",
            who,
            html! {
                h1 { "That did not work" }
                div.error { (message) }
                p { a href="/cases" { "Back to cases" } }
            },
        ),
    )
}

/// A time for people, in UTC to the minute: `2026-11-23 15:30`.
pub fn when(at: Timestamp) -> String {
    let zone = VIEWER_ZONE
        .try_with(|zone| zone.clone())
        .unwrap_or_else(|_| "UTC".to_string());
    at.in_zone(&zone)
}

tokio::task_local! {
    /// The time zone of whoever the page is for, read from the `tz` cookie that `zone.js`
    /// sets from the browser's own setting; UTC until the browser has said.
    static VIEWER_ZONE: String;
}

/// A cookie value as `encodeURIComponent` wrote it, decoded (zone names are ASCII).
fn percent_decoded(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(char::from(u8::from_str_radix(hex, 16).ok()?));
            i += 3;
        } else {
            out.push(char::from(bytes[i]));
            i += 1;
        }
    }
    Some(out)
}

/// Runs the request with the viewer's time zone known to [`when`], so every time on a page
/// reads in the viewer's zone, named, without each handler passing it along.
pub async fn with_viewer_zone(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let zone = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix("tz="))
        .filter_map(percent_decoded)
        .find(|z| Timestamp::known_zone(z))
        .unwrap_or_else(|| "UTC".to_string());
    VIEWER_ZONE.scope(zone, next.run(request)).await
}

/// The inline partner flag: name, kinds and technical level, on every row and case page.
pub fn partner_badge(partner: Option<&PartnerRef>) -> Markup {
    match partner {
        None => html! { span.badge title="Served directly by the vendor" { "direct" } },
        Some(p) => {
            let kinds = p
                .kinds
                .as_slice()
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let level = p
                .technical_level
                .map(|l| format!(" · {l}"))
                .unwrap_or_default();
            html! {
                span.badge.partner-badge data-partner=(p.slug) data-certified=(p.certified()) title=(format!("Partner: {}", p.name)) {
                    (p.name) " " span.kinds { "(" (kinds) (level) ")" }
                    @if p.certified() { " " span.certified title="Certified partner" { "✓ certified" } }
                }
            }
        }
    }
}

pub fn status_badge(status: CaseStatus) -> Markup {
    html! { span class=(format!("badge status-{status}")) { (status.as_str().replace('_', " ")) } }
}

pub fn priority_badge(priority: Priority) -> Markup {
    html! { span class=(format!("badge prio-{priority}")) { (priority) } }
}

/// A field's problem as a sentence beside the field ("say what customers experience" ->
/// "Say what customers experience."), or nothing; several messages join into one line.
pub fn field_error(errors: &FieldErrors, fields: &[&str]) -> Markup {
    let messages: Vec<String> = fields
        .iter()
        .filter_map(|f| errors.0.get(*f))
        .map(|m| sentence(m))
        .collect();
    if messages.is_empty() {
        return html! {};
    }
    html! { div.field-error role="alert" { (messages.join(" ")) } }
}

/// The hidden field an edit form carries: the version of what it edits as the form was drawn,
/// so a save over a newer version comes back instead of overwriting it.
pub fn version_field(version: Option<i64>) -> Markup {
    html! { @if let Some(v) = version { input type="hidden" name="version" value=(v); } }
}

/// The notice over an edit form refused because what it edits changed after the form was
/// drawn (409): nothing was saved, the form keeps what was typed and now carries the current
/// version, so saving again is a deliberate choice over the values shown beside it.
pub fn stale_notice(what: &str) -> Markup {
    html! {
        div.error role="alert" {
            "This " (what) " changed while you were editing — review the current values below \
             and save again. Nothing was saved; what you typed is kept in the form."
        }
    }
}

/// Upper-cases the first letter and ends with a full stop.
pub fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// A length of time in words people read at a glance: "2 h 10 m", "3 d 4 h", "45 m".
pub fn span_words(span: Span) -> String {
    let minutes = span.as_millis().unsigned_abs() / 60_000;
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{mins} m"),
        (0, _) => format!("{hours} h {mins} m"),
        _ => format!("{days} d {hours} h"),
    }
}

/// A case's service-level standing for lists: "due in 2 h 10 m", "overdue by 35 m", or the
/// state of finished clocks, with the due moment on hover.
pub fn sla_badge(state: Option<SlaState>, due: Option<Timestamp>, now: Timestamp) -> Markup {
    let Some(state) = state else {
        return html! { span.muted title="No service-level policy applies" { "—" } };
    };
    let title = due.map(|d| format!("Due {}", when(d)));
    match (state, due) {
        (_, Some(due)) if due <= now => html! {
            span class="badge sla-breached" title=[title] { "overdue by " (span_words(now.since(due))) }
        },
        (SlaState::Breached, Some(due)) => html! {
            span class="badge sla-breached" title=[title] { "breached · next due in " (span_words(due.since(now))) }
        },
        (_, Some(due)) => html! {
            span class=(format!("badge sla-{state}")) title=[title] { "due in " (span_words(due.since(now))) }
        },
        (SlaState::Breached, None) => html! { span class="badge sla-breached" { "breached" } },
        (SlaState::Achieved, None) => html! { span class="badge sla-achieved" { "met" } },
        (_, None) => {
            html! { span.badge title="The clock is paused while the case waits on the customer" { "paused" } }
        }
    }
}
