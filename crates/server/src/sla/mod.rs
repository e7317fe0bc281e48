//! Service-level agreements: policies chosen by conditions, business calendars, and each
//! case's clocks (first reply, next reply, resolution) kept current by a background sweep.
//! `service` decides and evaluates; `api` and `pages` parse, call it and render.

pub mod api;
pub mod pages;
pub mod service;

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route(
            "/sla/calendars",
            get(api::list_calendars).post(api::create_calendar),
        )
        .route(
            "/sla/calendars/{id}",
            get(api::read_calendar)
                .put(api::replace_calendar)
                .delete(api::delete_calendar),
        )
        .route(
            "/sla/policies",
            get(api::list_policies).post(api::create_policy),
        )
        .route(
            "/sla/policies/{id}",
            get(api::read_policy)
                .put(api::replace_policy)
                .delete(api::delete_policy),
        )
        .route("/sla/policies/{id}/move", post(api::move_policy))
        .route("/cases/{id}/sla", get(api::case_clocks));
    Router::new()
        .nest("/api/v1", api)
        .route("/sla", get(pages::sla_page))
        .route("/sla/policies", post(pages::save_policy))
        .route("/sla/policies/{id}/move", post(pages::move_policy))
        .route("/sla/policies/{id}/delete", post(pages::delete_policy))
        .route("/sla/calendars", post(pages::save_calendar))
        .route("/sla/calendars/{id}/delete", post(pages::delete_calendar))
}
