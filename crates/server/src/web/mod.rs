//! Server-rendered pages for agents, partner technicians and customers. Same rules as the
//! API (they call the same case operations); sessions are cookies holding a random token whose
//! hash is stored, and every form carries the session's CSRF token.

mod incidents;
mod knowledge;
mod pages;
mod partners;
mod session;
mod status;

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
        .route(
            "/queues",
            get(partners::queues_page).post(partners::create_queue),
        )
        .route("/queues/{slug}/members", post(partners::set_member))
        .route("/training", get(partners::training))
        .route(
            "/training/{id}",
            get(partners::test_page).post(partners::submit_test),
        )
        .route("/directory", get(partners::directory))
        .route(
            "/incidents",
            get(incidents::console).post(incidents::declare),
        )
        .route("/incidents/roster", post(incidents::save_roster))
        .route("/incidents/templates", get(incidents::templates))
        .route(
            "/incidents/templates/{kind}",
            post(incidents::save_template),
        )
        .route(
            "/report",
            get(incidents::report_form).post(incidents::report),
        )
        .route("/incidents/signals/{id}/dismiss", post(incidents::dismiss))
        .route("/incidents/{id}", get(incidents::incident_page))
        .route("/incidents/{id}/updates", post(incidents::update))
        .route("/incidents/{id}/long", post(incidents::long_resolution))
        .route(
            "/incidents/{id}/postmortem",
            post(incidents::save_postmortem),
        )
        .route(
            "/incidents/{id}/postmortem/publish",
            post(incidents::publish),
        )
        .route("/status", get(status::status_page))
        .route("/status.json", get(status::status_json))
        .route("/status.atom", get(status::status_atom))
        .route("/status/subscribe", post(status::subscribe))
        .route("/status/confirm/{token}", get(status::confirm))
        .route("/status/unsubscribe/{token}", get(status::unsubscribe))
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
