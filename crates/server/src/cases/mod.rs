//! Cases: filing, reading, changing and commenting, through the API and the pages.
//! `service` decides; `api` and `pages` parse, call it and render.

pub mod api;
pub mod attachments;
pub mod lists;
pub mod macros;
pub mod page_cache;
pub mod pages;
pub mod service;
pub mod views;
pub mod work;
pub mod work_api;
pub mod work_pages;

use crate::AppState;
use axum::routing::{delete, get, post, put};
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
        .route("/views/{id}", axum::routing::delete(api::delete_view))
        .route(
            "/macros",
            get(work_api::list_macros).post(work_api::create_macro),
        )
        .route(
            "/macros/{id}",
            get(work_api::read_macro)
                .put(work_api::replace_macro)
                .delete(work_api::delete_macro),
        )
        .route(
            "/cases/{id}/macros/{macro_id}",
            get(work_api::preview_macro).post(work_api::send_macro),
        )
        .route("/cases/{id}/merge", post(work_api::merge))
        .route("/cases/{id}/people", get(work_api::people))
        .route(
            "/cases/{id}/followers/me",
            put(work_api::follow).delete(work_api::unfollow),
        )
        .route("/cases/{id}/cc", post(work_api::add_cc))
        .route("/cases/{id}/cc/{email}", delete(work_api::remove_cc))
        .route("/cases/{id}/presence", post(work_api::presence))
        .route(
            "/cases/{id}/rating",
            get(work_api::rating).put(work_api::rate),
        )
        .route("/satisfaction", get(work_api::scores));
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
        .route("/cases/{id}/follow", post(work_pages::follow))
        .route("/cases/{id}/cc", post(work_pages::cc))
        .route("/cases/{id}/merge", post(work_pages::merge))
        .route("/cases/{id}/presence", post(work_pages::presence))
        .route("/cases/{id}/rating", post(work_pages::rate_on_page))
        .route(
            "/rate/{token}",
            get(work_pages::rate_by_link).post(work_pages::rate_by_link_post),
        )
        .route("/satisfaction", get(work_pages::satisfaction_page))
        .route(
            "/macros",
            get(work_pages::macros_page).post(work_pages::create_macro),
        )
        .route("/macros/{id}", post(work_pages::update_macro))
        .route("/macros/{id}/delete", post(work_pages::delete_macro))
        .route("/attachments/{id}", get(attachments::download_page))
}
