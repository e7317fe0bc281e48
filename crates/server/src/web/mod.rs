//! Server-rendered pages for agents, partner technicians and customers. Same rules as the
//! API (they call the same case operations); sessions are cookies holding a random token whose
//! hash is stored, and every form carries the session's CSRF token.

mod knowledge;
mod pages;
mod partners;
mod session;

pub use session::SESSION_COOKIE;

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

const STYLESHEET: &str = include_str!("app.css");
const SUGGEST_SCRIPT: &str = include_str!("suggest.js");

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
        .route("/cases/{id}/links", post(knowledge::link_case))
        .route("/cases/{id}/escalate", post(partners::escalate_case))
        .route("/cases/{id}/swarm", post(partners::swarm_case))
        .route("/cases/new/suggestions", get(knowledge::live_suggestions))
        .route("/assets/suggest.js", get(suggest_script))
        .route("/search", get(knowledge::search_page))
        .route(
            "/articles",
            get(knowledge::article_list).post(knowledge::create_article),
        )
        .route("/articles/new", get(knowledge::new_article_form))
        .route("/partners", get(partners::partner_list))
        .route("/partners/{slug}", get(partners::partner_page))
        .route("/partners/{slug}/fees", post(partners::report_fees))
        .route(
            "/partners/{slug}/agreement",
            get(partners::agreement_page).post(partners::save_agreement),
        )
        .route(
            "/routing",
            get(partners::routing_page).post(partners::add_rule),
        )
        .route("/routing/{id}", post(partners::change_rule))
        .route("/training", get(partners::training))
        .route(
            "/training/{id}",
            get(partners::test_page).post(partners::submit_test),
        )
        .route("/directory", get(partners::directory))
        .route("/articles/{id}", get(knowledge::article_page))
        .route(
            "/articles/{id}/edit",
            get(knowledge::edit_article_form).post(knowledge::update_article),
        )
        .route(
            "/articles/{id}/revisions/{revision}",
            get(knowledge::revision_page),
        )
}

async fn suggest_script() -> impl axum::response::IntoResponse {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SUGGEST_SCRIPT,
    )
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
