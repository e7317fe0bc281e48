//! Cases: filing, reading, changing and commenting, through the API and the pages.
//! `service` decides; `api` and `pages` parse, call it and render.

pub mod api;
pub mod attachments;
pub mod lists;
pub mod pages;
pub mod service;
pub mod views;

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

/// The body limit of the two routes files come by: a few files at the default size limit
/// (each file's own size is checked as it is read). Every other route keeps axum's 2 MB.
fn uploads() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(
        4 * crate::mail::DEFAULT_MAX_ATTACHMENT_BYTES + 1024 * 1024,
    )
}

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route("/cases", get(api::list).post(api::create))
        .route("/cases/bulk", post(api::bulk))
        .route("/cases/{id}", get(api::read).patch(api::update))
        .route(
            "/cases/{id}/comments",
            get(api::comments).post(api::add_comment),
        )
        .route("/cases/{id}/events", get(api::events))
        .route(
            "/cases/{id}/attachments",
            get(attachments::list)
                .post(attachments::upload)
                .layer(uploads()),
        )
        .route("/attachments/{id}", get(attachments::download))
        .route("/views", get(api::views).post(api::create_view))
        .route("/views/{id}", axum::routing::delete(api::delete_view));
    Router::new()
        .nest("/api/v1", api)
        .route("/cases", get(pages::case_list).post(pages::create_case))
        .route("/cases/new", get(pages::new_case_form))
        .route("/cases/bulk", post(pages::bulk_update))
        .route("/cases/views", post(pages::save_view))
        .route("/cases/views/{id}/delete", post(pages::delete_view))
        .route("/cases/{id}", get(pages::case_page))
        .route(
            "/cases/{id}/comments",
            post(pages::add_comment).layer(uploads()),
        )
        .route("/cases/{id}/update", post(pages::update_case))
        .route("/attachments/{id}", get(attachments::download_page))
}
