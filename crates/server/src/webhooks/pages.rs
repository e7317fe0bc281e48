//! `/webhooks`: admins subscribe addresses to events, see each subscription's state and
//! deliveries, send a test, switch it on or off, rotate its secret and delete it. The signing
//! secret appears once, on the page that answers the subscription or the rotation. Everyone
//! else is refused by the service (a 403 page) and has no link to it.

use super::service;
use crate::error::ApiError;
use crate::layout::{field_error, html_response, page, when};
use crate::session::WebUser;
use crate::web::{CsrfForm, NoFields, OrPage, PageResult};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use backline_domain::webhooks::WebhookEvent;
use backline_domain::FieldErrors;
use backline_store::webhooks::{WebhookDelivery, WebhookSubscription};
use maud::{html, Markup};

/// The subscription form as typed, so a refused one comes back as it was.
#[derive(Default)]
struct SubscribeForm {
    url: String,
    events: Vec<String>,
}

impl SubscribeForm {
    /// Reads the posted pairs: the checkboxes send `events` once per ticked event.
    fn read(pairs: &[(String, String)]) -> SubscribeForm {
        let mut form = SubscribeForm::default();
        for (name, value) in pairs {
            match name.as_str() {
                "url" => form.url = value.clone(),
                "events" => form.events.push(value.clone()),
                _ => {}
            }
        }
        form
    }
}

pub async fn list_page(State(state): State<AppState>, who: WebUser) -> PageResult {
    render_list(&state, &who, None, StatusCode::OK).await
}

/// A subscription's state in words.
fn state_words(s: &WebhookSubscription) -> String {
    match (s.active, s.failing_since, s.disabled_at) {
        (true, None, _) => "Active".to_string(),
        (true, Some(since), _) => format!("Active, failing since {}", when(since)),
        (false, _, at) => format!(
            "Switched off{}: {}",
            at.map(|t| format!(" {}", when(t))).unwrap_or_default(),
            s.disabled_reason.as_deref().unwrap_or("no reason recorded")
        ),
    }
}

async fn render_list(
    state: &AppState,
    who: &WebUser,
    form: Option<(&SubscribeForm, &FieldErrors)>,
    status: StatusCode,
) -> PageResult {
    let all = service::list(state, &who.user).await.or_page(who)?;
    let empty = FieldErrors::new();
    let blank = SubscribeForm::default();
    let (form, errors) = form.unwrap_or((&blank, &empty));
    let body = html! {
        h1 { "Webhooks" }
        p.muted { "Each subscribed address receives a signed POST for every event it listens to. A delivery that fails is tried again with growing waits; an address with no success for three days is switched off and its owner mailed." }
        section.card {
            h2 { "Subscriptions" }
            @if all.is_empty() { p.empty { "No subscription yet." } }
            @else {
                div.table-scroll { table.list #webhooks {
                    thead { tr { th { "Address" } th { "Events" } th { "State" } th { span.visually-hidden { "Details" } } } }
                    tbody {
                        @for s in &all {
                            tr data-webhook=(s.id) {
                                td { code { (s.url) } }
                                td { (s.events.join(", ")) }
                                td.state { (state_words(s)) }
                                td { a href=(format!("/webhooks/{}", s.id)) aria-label=(format!("Deliveries and settings of {}", s.url)) { "Deliveries" } }
                            }
                        }
                    }
                } }
            }
        }
        section.card #subscribe {
            h2 { "Subscribe an address" }
            @if !errors.is_empty() { div.error role="alert" { "The subscription was not saved. Please correct the fields marked below." } }
            form method="post" action="/webhooks" {
                input type="hidden" name="csrf" value=(who.csrf);
                label for="w-url" { "Address (https://...)" }
                input #w-url type="url" name="url" value=(form.url) maxlength="1000" required;
                (field_error(errors, &["url"]))
                fieldset {
                    legend { "Events" }
                    @for e in WebhookEvent::ALL {
                        label.inline {
                            input type="checkbox" name="events" value=(e.as_str()) checked[form.events.iter().any(|x| x == e.as_str())];
                            " " (e.label()) " " code { (e.as_str()) }
                        }
                        br;
                    }
                    (field_error(errors, &["events"]))
                }
                button type="submit" { "Subscribe" }
            }
        }
    };
    Ok(html_response(status, page("Webhooks", Some(who), body)))
}

pub async fn subscribe(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let form = SubscribeForm::read(&pairs);
    match service::subscribe(&state, &who.user, &form.url, &form.events).await {
        Ok(s) => {
            let secret = s.secret.clone();
            render_one(&state, &who, s.id, Some(&secret), StatusCode::CREATED).await
        }
        Err(ApiError::Validation(errors)) => {
            render_list(
                &state,
                &who,
                Some((&form, &errors)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e).or_page(&who),
    }
}

pub async fn one_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
) -> PageResult {
    render_one(&state, &who, id, None, StatusCode::OK).await
}

fn delivery_row(d: &WebhookDelivery) -> Markup {
    html! {
        tr data-delivery=(d.id) data-status=(d.status) {
            td { code { (d.event) } }
            td { (match d.status.as_str() {
                "delivered" => "Delivered",
                "failed" => "Failed (switched off)",
                _ => "Waiting",
            }) }
            td.num { (d.attempts) }
            td.num { @if let Some(code) = d.response_code { (code) } @else { "—" } }
            td { (d.last_error.as_deref().unwrap_or("—")) }
            td { @if d.status == "pending" { (when(d.next_attempt_at)) } @else { "—" } }
            td { (when(d.created_at)) }
        }
    }
}

/// One subscription: its state, its actions, its newest deliveries; with `secret` when the
/// page answers a subscription or a rotation (the one time it is shown).
async fn render_one(
    state: &AppState,
    who: &WebUser,
    id: i64,
    secret: Option<&str>,
    status: StatusCode,
) -> PageResult {
    let (s, deliveries) = service::deliveries(state, &who.user, id)
        .await
        .or_page(who)?;
    let action = |what: &str| format!("/webhooks/{}/{what}", s.id);
    let body = html! {
        p { a href="/webhooks" { "← All webhooks" } }
        h1 { "Webhook " code { (s.url) } }
        @if let Some(secret) = secret {
            section.card.notice #secret role="status" {
                h2 { "Signing secret" }
                p { strong { "Copy it now: it is not shown again." } " Your receiver checks each delivery's signature with it." }
                label for="secret-value" { "Secret" }
                input #secret-value type="text" readonly size="60" value=(secret) spellcheck="false" autocomplete="off";
            }
        }
        section.card {
            p #state { strong { "State: " } (state_words(&s)) }
            p { strong { "Events: " } (s.events.join(", ")) }
            p { strong { "Subscribed: " } (when(s.created_at)) }
            div.actions {
                @if s.active {
                    form.inline method="post" action=(action("ping")) {
                        input type="hidden" name="csrf" value=(who.csrf);
                        button type="submit" { "Send a test ping" }
                    }
                    form.inline method="post" action=(action("disable")) {
                        input type="hidden" name="csrf" value=(who.csrf);
                        button.secondary type="submit" { "Switch off" }
                    }
                } @else {
                    form.inline method="post" action=(action("enable")) {
                        input type="hidden" name="csrf" value=(who.csrf);
                        button type="submit" { "Switch on again" }
                    }
                }
                form.inline method="post" action=(action("secret"))
                    data-confirm="Make a new secret? Deliveries from now on are signed with it, so the receiver must be given it." {
                    input type="hidden" name="csrf" value=(who.csrf);
                    button.secondary type="submit" { "Rotate the secret" }
                }
                form.inline method="post" action=(action("delete"))
                    data-confirm="Delete this webhook and its deliveries?" {
                    input type="hidden" name="csrf" value=(who.csrf);
                    button.secondary type="submit" { "Delete" }
                }
            }
        }
        section.card {
            h2 { "Deliveries, newest first" }
            @if deliveries.is_empty() { p.empty { "No delivery yet." } }
            @else {
                // On a phone the table scrolls sideways by itself; with nothing to focus inside,
                // it takes the focus so that keyboard users can scroll it.
                div.table-scroll { table.list #deliveries tabindex="0" aria-label="Deliveries" {
                    thead { tr { th { "Event" } th { "Status" } th { "Attempts" } th { "Last answer" } th { "Error" } th { "Next try" } th { "Queued" } } }
                    tbody { @for d in &deliveries { (delivery_row(d)) } }
                } }
            }
        }
    };
    Ok(html_response(status, page("Webhook", Some(who), body)))
}

pub async fn ping(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    service::ping(&state, &who.user, id).await.or_page(&who)?;
    Ok(Redirect::to(&format!("/webhooks/{id}")).into_response())
}

async fn switch(state: &AppState, who: &WebUser, id: i64, on: bool) -> PageResult {
    let change = service::Change {
        active: Some(on),
        ..service::Change::default()
    };
    service::change(state, &who.user, id, change)
        .await
        .or_page(who)?;
    Ok(Redirect::to(&format!("/webhooks/{id}")).into_response())
}

pub async fn enable(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    switch(&state, &who, id, true).await
}

pub async fn disable(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    switch(&state, &who, id, false).await
}

pub async fn rotate_secret(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let s = service::rotate_secret(&state, &who.user, id)
        .await
        .or_page(&who)?;
    render_one(&state, &who, id, Some(&s.secret), StatusCode::OK).await
}

pub async fn delete(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    service::delete(&state, &who.user, id).await.or_page(&who)?;
    Ok(Redirect::to("/webhooks").into_response())
}
