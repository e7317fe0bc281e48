//! Organisations, people and signing in: the directory of who is who, and the sign-in and
//! sign-out pages.

pub mod orgs;
pub mod pages;
pub mod users;
pub mod views;

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route("/organizations", get(orgs::list).post(orgs::create))
        .route("/organizations/{slug}", get(orgs::read).patch(orgs::update))
        .route("/users", get(users::list).post(users::create))
        .route("/users/me", get(users::me))
        .route("/users/{id}", get(users::read))
        .route(
            "/users/{id}/settings-permission",
            axum::routing::put(users::settings_permission),
        );
    Router::new()
        .nest("/api/v1", api)
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/team", get(pages::team))
        .route("/team/{id}/settings", post(pages::team_settings))
}
