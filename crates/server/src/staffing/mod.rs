//! Peak-demand planning: case arrivals forecast per hour of the week (with known events),
//! agents per hour by Erlang C for a target service level, and the what-ifs. `service`
//! decides; `api` and `pages` parse, call it and render.

pub mod api;
pub mod pages;
pub mod service;

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route("/staffing/forecast", get(api::forecast))
        .route("/staffing/plan", get(api::plan))
        .route(
            "/staffing/events",
            get(api::list_events).post(api::create_event),
        )
        .route(
            "/staffing/events/{id}",
            get(api::read_event)
                .put(api::replace_event)
                .delete(api::delete_event),
        );
    Router::new()
        .nest("/api/v1", api)
        .route("/staffing", get(pages::staffing_page))
        .route("/staffing/plan.csv", get(pages::plan_csv))
        .route("/staffing/events", post(pages::save_event))
        .route("/staffing/events/{id}/delete", post(pages::delete_event))
}
