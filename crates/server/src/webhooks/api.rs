//! `/api/v1/webhooks`: subscriptions and their deliveries, for admins.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{Json, Path};
use crate::webhooks::service;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use backline_store::webhooks::{WebhookDelivery, WebhookSubscription};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where deliveries are POSTed.
    pub url: String,
    /// `case.created`, `case.updated`, `case.solved`, `comment.added`, `incident.declared`,
    /// `incident.updated`, `incident.resolved`, `partner.alert`, `community.question_asked`.
    pub events: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    /// Since when no delivery has succeeded, while failing.
    pub failing_since: Option<String>,
    pub disabled_at: Option<String>,
    /// Why it is switched off, in words.
    pub disabled_reason: Option<String>,
    pub created_at: String,
    /// The signing secret: only in the answers that create the subscription or rotate it.
    pub secret: Option<String>,
}

fn view(s: &WebhookSubscription, with_secret: bool) -> WebhookView {
    WebhookView {
        id: s.id,
        url: s.url.clone(),
        events: s.events.clone(),
        active: s.active,
        failing_since: s.failing_since.map(|t| t.to_rfc3339()),
        disabled_at: s.disabled_at.map(|t| t.to_rfc3339()),
        disabled_reason: s.disabled_reason.clone(),
        created_at: s.created_at.to_rfc3339(),
        secret: with_secret.then(|| s.secret.clone()),
    }
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses((status = 201, body = WebhookView), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<NewWebhook>,
) -> ApiResult<(StatusCode, axum::Json<WebhookView>)> {
    let s = service::subscribe(&state, &caller, &body.url, &body.events).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&s, true))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = WebhookList), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<WebhookList>> {
    let all = service::list(&state, &caller).await?;
    Ok(axum::Json(WebhookList {
        webhooks: all.iter().map(|s| view(s, false)).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    /// The event's name, or `ping` for a test sent by an admin.
    pub event: String,
    /// `pending`, `delivered`, or `failed` (the subscription was switched off).
    pub status: String,
    pub attempts: i64,
    /// The receiver's last HTTP status; `null` when it could not be reached.
    pub response_code: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at: String,
    pub last_attempt_at: Option<String>,
    pub created_at: String,
}

impl From<&WebhookDelivery> for DeliveryView {
    fn from(d: &WebhookDelivery) -> Self {
        DeliveryView {
            id: d.id,
            event: d.event.clone(),
            status: d.status.clone(),
            attempts: d.attempts,
            response_code: d.response_code,
            last_error: d.last_error.clone(),
            next_attempt_at: d.next_attempt_at.to_rfc3339(),
            last_attempt_at: d.last_attempt_at.map(|t| t.to_rfc3339()),
            created_at: d.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub webhook: WebhookView,
    /// The newest 100, newest first.
    pub deliveries: Vec<DeliveryView>,
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 200, body = DeliveryList), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<DeliveryList>> {
    let (s, deliveries) = service::deliveries(&state, &caller, id).await?;
    Ok(axum::Json(DeliveryList {
        webhook: view(&s, false),
        deliveries: deliveries.iter().map(DeliveryView::from).collect(),
    }))
}

/// A change to a subscription; fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// `true` switches it on again (clearing its failing state); `false` switches it off.
    pub active: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path)),
    request_body = WebhookChange,
    responses((status = 200, body = WebhookView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<WebhookChange>,
) -> ApiResult<axum::Json<WebhookView>> {
    let change = service::Change {
        url: body.url,
        events: body.events,
        active: body.active,
    };
    let s = service::change(&state, &caller, id, change).await?;
    Ok(axum::Json(view(&s, false)))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    service::delete(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/ping", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 202, body = DeliveryView, description = "The test delivery, queued"),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody, description = "The webhook is switched off")))]
pub async fn ping(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, axum::Json<DeliveryView>)> {
    let delivery = service::ping(&state, &caller, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(DeliveryView::from(&delivery)),
    ))
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/secret", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 200, body = WebhookView, description = "With the new secret, shown this once"),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<WebhookView>> {
    let s = service::rotate_secret(&state, &caller, id).await?;
    Ok(axum::Json(view(&s, true)))
}
