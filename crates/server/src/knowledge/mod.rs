//! Knowledge: articles and their revisions, search, known-issue suggestions, links between
//! cases and their answers, and deflection figures.

pub mod api;
pub mod pages;
pub mod service;
pub mod suggester;

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route("/cases/{id}/suggestions", get(api::suggestions))
        .route(
            "/cases/{id}/links",
            get(api::list_links).post(api::create_link),
        )
        .route(
            "/articles",
            get(api::list_articles).post(api::create_article),
        )
        .route(
            "/articles/{id}",
            get(api::read_article).patch(api::update_article),
        )
        .route("/articles/{id}/revisions", get(api::revisions))
        .route("/articles/{id}/revisions/{revision}", get(api::revision))
        .route("/search", get(api::search))
        .route("/deflections", get(api::deflections));
    Router::new()
        .nest("/api/v1", api)
        .route("/cases/{id}/links", post(pages::link_case))
        .route("/cases/new/suggestions", get(pages::live_suggestions))
        .route("/search", get(pages::search_page))
        .route(
            "/articles",
            get(pages::article_list).post(pages::create_article),
        )
        .route("/articles/new", get(pages::new_article_form))
        .route("/articles/{id}", get(pages::article_page))
        .route(
            "/articles/{id}/edit",
            get(pages::edit_article_form).post(pages::update_article),
        )
        .route(
            "/articles/{id}/revisions/{revision}",
            get(pages::revision_page),
        )
}
