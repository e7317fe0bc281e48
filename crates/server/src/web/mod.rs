//! Server-rendered pages for agents, partner technicians and customers. Same rules as the
//! API (they call the same case operations); sessions are cookies holding a random token whose
//! hash is stored, and every form carries the session's CSRF token.

mod pages;
mod session;

pub use session::SESSION_COOKIE;

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

const STYLESHEET: &str = include_str!("app.css");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/assets/app.css", get(stylesheet))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/cases", get(pages::case_list).post(pages::create_case))
        .route("/cases/new", get(pages::new_case_form))
        .route("/cases/{id}", get(pages::case_page))
        .route("/cases/{id}/comments", post(pages::add_comment))
        .route("/cases/{id}/update", post(pages::update_case))
}

async fn stylesheet() -> impl axum::response::IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}
