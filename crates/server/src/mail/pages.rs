//! The `/mail` pages for vendor staff: what came in by email and what became of it, the
//! quarantine with each message's reason, and one message's headers and text, with the two
//! ways out of quarantine (run it again, or make it a case of an organisation).

use super::intake;
use crate::auth::staff_only;
use crate::error::ApiError;
use crate::layout::{html_response, page, when};
use crate::session::WebUser;
use crate::views::human_size;
use crate::web::{CsrfForm, NoFields, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use backline_domain::mail::InboundState;
use backline_store::StoreError;
use maud::html;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mail", get(inbox))
        .route("/mail/{id}", get(message))
        .route("/mail/{id}/raw", get(raw))
        .route("/mail/{id}/retry", post(retry))
        .route("/mail/{id}/case", post(open_case))
        .route("/mail/{id}/dismiss", post(dismiss))
}

#[derive(Deserialize)]
pub struct InboxQuery {
    state: Option<String>,
}

/// Received mail, newest first; the quarantine first of all.
pub async fn inbox(
    State(state): State<AppState>,
    who: WebUser,
    Query(query): Query<InboxQuery>,
) -> PageResult {
    staff_only(&who.user).or_page(&who)?;
    let shown =
        match query.state.as_deref().filter(|s| !s.is_empty()) {
            None => Some(InboundState::Quarantined),
            Some("all") => None,
            Some(s) => Some(InboundState::parse(s).map_err(|e| {
                WebError::new(ApiError::bad_request("bad_state", e.0)).for_user(&who)
            })?),
        };
    let counts = state.store.inbound_counts().await.or_page(&who)?;
    let count = |s: InboundState| counts.iter().find(|(k, _)| *k == s).map_or(0, |(_, n)| *n);
    let messages = state.store.inbound_mails(shown, 200).await.or_page(&who)?;
    let tab = |s: Option<InboundState>, label: &str, n: Option<i64>| {
        let href = format!("/mail?state={}", s.map_or("all", InboundState::as_str));
        html! {
            @if s == shown { strong { (label) @if let Some(n) = n { " (" (n) ")" } } }
            @else { a href=(href) { (label) @if let Some(n) = n { " (" (n) ")" } } }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        page(
            "Mail",
            Some(&who),
            html! {
                h1 { "Mail" }
                p.num {
                    (tab(Some(InboundState::Quarantined), "Waiting for a person", Some(count(InboundState::Quarantined)))) " · "
                    (tab(Some(InboundState::Pending), "Being placed", Some(count(InboundState::Pending)))) " · "
                    (tab(Some(InboundState::Placed), "Placed", Some(count(InboundState::Placed)))) " · "
                    (tab(Some(InboundState::Noise), "Auto-replies and bounces", Some(count(InboundState::Noise)))) " · "
                    (tab(Some(InboundState::Duplicate), "Duplicates", Some(count(InboundState::Duplicate)))) " · "
                    (tab(None, "All", None))
                }
                @if messages.is_empty() {
                    p { @if shown == Some(InboundState::Quarantined) { "Nothing waits: every message found its place." } @else { "No messages here." } }
                } @else {
                    table.list {
                        thead { tr { th { "Received" } th { "From" } th { "Subject" } th { "Size" } th { "What became of it" } } }
                        tbody {
                            @for m in &messages {
                                tr {
                                    td.num { a href=(format!("/mail/{}", m.id)) { (when(m.received_at)) } }
                                    td { (m.sender.clone().unwrap_or_else(|| "(not read yet)".into())) }
                                    td { (m.subject.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "(no subject)".into())) }
                                    td.num { (human_size(m.size)) }
                                    td {
                                        @match (m.state, m.case_id) {
                                            (InboundState::Placed, Some(case)) => { "case " a href=(format!("/cases/{case}")) { "#" (case) } }
                                            _ => { (m.state.as_str().replace('_', " ")) @if let Some(r) = &m.reason { ": " (r) } }
                                        }
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

#[derive(Deserialize)]
pub struct MessageQuery {
    /// Set after "Run it again": the page says what came of it.
    #[serde(default)]
    ran: bool,
}

/// What the page says above the message after an action.
#[derive(Clone, Copy)]
enum Notice {
    RanAgain,
}

/// One message: what became of it, its headers and its text.
pub async fn message(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    Query(query): Query<MessageQuery>,
) -> PageResult {
    let notice = query.ran.then_some(Notice::RanAgain);
    render_message(&state, &who, id, None, notice, StatusCode::OK).await
}

async fn render_message(
    state: &AppState,
    who: &WebUser,
    id: i64,
    problem: Option<(&str, String)>,
    notice: Option<Notice>,
    status: StatusCode,
) -> PageResult {
    staff_only(&who.user).or_page(who)?;
    let m = state
        .store
        .inbound_mail(id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound("message"),
            other => other.into(),
        })
        .or_page(who)?;
    let (headers, text) = intake::read_stored(state, id).await.or_page(who)?;
    let customers: Vec<_> = if m.state == InboundState::Quarantined {
        state
            .store
            .list_orgs(Some(backline_domain::OrgKind::Customer), None, None)
            .await
            .or_page(who)?
    } else {
        Vec::new()
    };
    let (typed_org, error) = match &problem {
        Some((org, error)) => (org.to_string(), Some(error.clone())),
        None => (String::new(), None),
    };
    Ok(html_response(
        status,
        page(
            &format!("Message {id}"),
            Some(who),
            html! {
                p.num { a href="/mail" { "← mail" } }
                @if let Some(Notice::RanAgain) = notice {
                    div.card.notice role="status" {
                        @match (m.state, m.case_id) {
                            (InboundState::Placed, Some(case)) => { "Ran it again: it is now on case " a href=(format!("/cases/{case}")) { "#" (case) } "." }
                            (InboundState::Quarantined, _) => { "Ran it again: it still waits, for the reason below." }
                            (InboundState::Pending, _) => { "It is being run again; reload the page in a moment to see what came of it." }
                            (state, _) => { "Ran it again: " (state.as_str()) "." }
                        }
                    }
                }
                h1 { (m.subject.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "(no subject)".into())) }
                div.card {
                    dl.meta {
                        dt { "From" } dd { (m.sender.clone().unwrap_or_else(|| "(not read yet)".into())) }
                        dt { "Received" } dd { (when(m.received_at)) " by " (m.source) }
                        dt { "Size" } dd { (human_size(m.size)) }
                        dt { "State" } dd { (m.state) }
                        @if let Some(r) = &m.reason { dt { "Why" } dd #reason { (r) } }
                        @if let Some(case) = m.case_id { dt { "Case" } dd { a href=(format!("/cases/{case}")) { "#" (case) } } }
                    }
                    p { a href=(format!("/mail/{id}/raw")) download { "Download the original message" } }
                }
                @if m.state == InboundState::Quarantined {
                    div.card #quarantine {
                        h2 { "Deal with it" }
                        @if text.is_some() {
                            p { "Fix what the reason names (add the sender as a user, give their domain to an organisation), then run the message again. Or file it as a new case of a customer: an unknown sender becomes a user of that customer." }
                            form method="post" action=(format!("/mail/{id}/retry")) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                button type="submit" { "Run it again" }
                            }
                            form method="post" action=(format!("/mail/{id}/case")) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                label for="organization" { "File it as a new case of" }
                                @if let Some(e) = &error { div.field-error #organization-error role="alert" { (e) } }
                                select #organization name="organization" aria-invalid=[error.as_ref().map(|_| "true")] {
                                    option value="" { "Choose a customer" }
                                    @for o in &customers { option value=(o.slug) selected[o.slug == typed_org] { (o.name) } }
                                }
                                button type="submit" { "Open the case" }
                            }
                        } @else {
                            p { "This message cannot be read as mail, so it cannot become a case or a reply. Download the original to see what it holds; if someone needs an answer, open a case for them by hand." }
                        }
                        form method="post" action=(format!("/mail/{id}/dismiss")) {
                            input type="hidden" name="csrf" value=(who.csrf);
                            button.secondary type="submit" { "Set it aside" }
                            span.num { " It stays here under Auto-replies and bounces, readable, and no longer waits." }
                        }
                    }
                }
                @if text.is_some() {
                    h2 { "Headers" }
                    pre.headers { (headers) }
                } @else {
                    h2 { "The start of what arrived" }
                    pre.headers { (headers) }
                }
                h2 { "Text" }
                @match &text {
                    Some(t) => pre.mailtext { (t) },
                    None => p { "This message cannot be read as mail; download the original to see it." },
                }
            },
        ),
    ))
}

/// The original message, as a download, for staff signed in on the web.
pub async fn raw(State(state): State<AppState>, who: WebUser, Path(id): Path<i64>) -> PageResult {
    staff_only(&who.user).or_page(&who)?;
    super::api::raw_download(&state, id).await.or_page(&who)
}

pub async fn retry(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    staff_only(&who.user).or_page(&who)?;
    match state.store.requeue_inbound(id).await {
        Ok(()) => {
            state.mail.wake();
            // Placing takes a moment: wait a little for it, so the page can say what came of
            // it; if it takes longer, the page says it is still running.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
            while std::time::Instant::now() < deadline {
                match state.store.inbound_mail(id).await {
                    Ok(m) if m.state != InboundState::Pending => break,
                    _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                }
            }
            Ok(Redirect::to(&format!("/mail/{id}?ran=true")).into_response())
        }
        Err(StoreError::Conflict(message)) => {
            render_message(
                &state,
                &who,
                id,
                Some(("", message)),
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(WebError::new(e.into()).for_user(&who)),
    }
}

pub async fn dismiss(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    staff_only(&who.user).or_page(&who)?;
    match super::api::set_aside(&state, &who.user, id).await {
        Ok(()) => Ok(Redirect::to("/mail").into_response()),
        Err(e @ ApiError::Conflict { .. }) => {
            render_message(
                &state,
                &who,
                id,
                Some(("", e.to_string())),
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}

#[derive(Deserialize)]
pub struct OpenCaseForm {
    #[serde(default)]
    organization: String,
}

pub async fn open_case(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<OpenCaseForm>,
) -> PageResult {
    staff_only(&who.user).or_page(&who)?;
    if form.organization.trim().is_empty() {
        let message = "Choose the customer this message is from.".to_string();
        return render_message(
            &state,
            &who,
            id,
            Some(("", message)),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match intake::open_case_from_quarantine(&state, &who.user, id, &form.organization).await {
        Ok(case) => Ok(Redirect::to(&format!("/cases/{}", case.0)).into_response()),
        Err(e @ (ApiError::Validation(_) | ApiError::Conflict { .. })) => {
            let message = match &e {
                ApiError::Validation(errors) => {
                    errors.0.values().cloned().collect::<Vec<_>>().join(" ")
                }
                other => other.to_string(),
            };
            render_message(
                &state,
                &who,
                id,
                Some((&form.organization, message)),
                None,
                e.status(),
            )
            .await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}
