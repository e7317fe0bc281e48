//! The voice of the customer: case categories (an admin-kept tree), the categoriser that
//! suggests one for each new case (`model`), and the Insights dashboards (volume, drivers,
//! backlog, reply and resolution times, outcomes, deflection). `service` decides and
//! computes, `api` and `pages` parse, call it and render.

pub mod api;
pub mod model;
pub mod pages;
pub mod rollups;
pub mod service;

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route(
            "/categories",
            get(api::list_categories).post(api::create_category),
        )
        .route("/categories/model", get(api::model))
        .route("/categories/model/retrain", post(api::retrain))
        .route(
            "/categories/{id}",
            get(api::read_category).put(api::replace_category),
        )
        .route("/categories/{id}/retire", post(api::retire_category))
        .route("/categories/{id}/restore", post(api::restore_category))
        .route(
            "/cases/{id}/category",
            get(api::case_category).put(api::set_case_category),
        )
        .route("/analytics/volume", get(api::volume))
        .route("/analytics/drivers", get(api::drivers))
        .route("/analytics/backlog", get(api::backlog))
        .route("/analytics/times", get(api::times))
        .route("/analytics/outcomes", get(api::outcomes))
        .route("/analytics/deflection", get(api::deflection));
    Router::new()
        .nest("/api/v1", api)
        .route(
            "/categories",
            get(pages::categories_page).post(pages::save_category),
        )
        .route("/categories/retrain", post(pages::retrain))
        .route("/categories/{id}/retire", post(pages::retire_category))
        .route("/categories/{id}/restore", post(pages::restore_category))
        .route("/cases/{id}/category", post(pages::set_case_category))
        .route("/analytics", get(pages::analytics_page))
        .route("/analytics/{file}", get(pages::csv))
}
