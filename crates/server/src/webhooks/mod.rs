//! Outbound webhooks: admins subscribe an address to case events; each delivery is signed
//! (HMAC-SHA256 of timestamp and body, `domain::webhooks`), tried again with backoff, listed
//! with its status and answer, and a subscription failing for days is switched off and its
//! owner mailed.

pub mod api;
pub mod service;

use crate::AppState;
use axum::routing::get;
use axum::Router;

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route("/webhooks", get(api::list).post(api::create))
        .route("/webhooks/{id}/deliveries", get(api::deliveries));
    Router::new().nest("/api/v1", api)
}
