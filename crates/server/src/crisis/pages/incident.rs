//! One incident: its timeline and notifications, updates on the clock, the post-mortem editor.

use super::*;
use crate::crisis::service::{self as crisis, UpdateInput};
use crate::error::{ApiError, StoreResult};
use crate::layout::{html_response, page};
use crate::session::WebUser;
use crate::web::{CsrfForm, NoFields, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use backline_domain::crisis::IncidentState;
use backline_domain::IncidentId;
use backline_store::crisis::{format_time, Postmortem};
use maud::{html, Markup};
use serde::Deserialize;

pub async fn incident_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<IncidentId>,
) -> PageResult {
    crisis::staff_only(&who.user).or_page(&who)?;
    let loaded = async {
        let incident = state.store.incident(id).await.or_not_found("incident")?;
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
                script src="/assets/clock.js" defer {}
            },
        ),
    ))
}

fn postmortem_editor(who: &WebUser, id: IncidentId, pm: &Postmortem) -> Markup {
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
    Path(id): Path<IncidentId>,
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
    Path(id): Path<IncidentId>,
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
    Path(id): Path<IncidentId>,
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
    Path(id): Path<IncidentId>,
    _: CsrfForm<NoFields>,
) -> PageResult {
    crisis::publish_postmortem(&state, &who.user, id)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}
