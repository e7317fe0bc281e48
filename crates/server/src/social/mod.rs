//! Social mentions as a support channel: `POST /api/v1/channels/social` files a `social` case
//! for its author (or comments on the author's open one), keeps the author as a contact, and
//! counts compliments instead of queueing them.

pub mod api;
pub mod service;

use crate::AppState;
use axum::routing::post;
use axum::Router;

pub fn router() -> Router<AppState> {
    let api = Router::new().route("/channels/social", post(api::receive).get(api::summary));
    Router::new().nest("/api/v1", api)
}
