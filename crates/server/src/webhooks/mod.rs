//! Outbound webhooks: admins subscribe an address to case events, incident news, partner
//! alerts and community questions; each delivery is signed (HMAC-SHA256 of timestamp and
//! body, `domain::webhooks`), tried again with backoff, listed with its status and answer,
//! and a subscription failing for days is switched off and its owner mailed. `service`
//! decides and runs the job; `api` and `pages` (the admins' `/webhooks`) parse and render.

pub mod api;
pub mod pages;
pub mod service;

use crate::AppState;
use axum::routing::{get, patch, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route("/webhooks", get(api::list).post(api::create))
        .route("/webhooks/{id}", patch(api::update).delete(api::delete))
        .route("/webhooks/{id}/deliveries", get(api::deliveries))
        .route("/webhooks/{id}/ping", post(api::ping))
        .route("/webhooks/{id}/secret", post(api::rotate_secret));
    Router::new()
        .nest("/api/v1", api)
        .route("/webhooks", get(pages::list_page).post(pages::subscribe))
        .route("/webhooks/{id}", get(pages::one_page))
        .route("/webhooks/{id}/ping", post(pages::ping))
        .route("/webhooks/{id}/enable", post(pages::enable))
        .route("/webhooks/{id}/disable", post(pages::disable))
        .route("/webhooks/{id}/secret", post(pages::rotate_secret))
        .route("/webhooks/{id}/delete", post(pages::delete))
}
