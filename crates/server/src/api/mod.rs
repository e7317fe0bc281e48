//! The JSON API under `/api/v1`, one module per resource, and its OpenAPI document,
//! generated from the handlers' annotations.

pub mod cases;
pub mod extract;
pub mod knowledge;
pub mod orgs;
pub mod users;
pub mod views;

use crate::error::ApiError;
use crate::AppState;
use axum::routing::get;
use axum::Router;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Backline API", description = "Support operations for vendors with partner channels. Authenticate with `Authorization: Bearer TOKEN` (create one with `backline token create`)."),
    paths(
        orgs::list, orgs::create, orgs::read, orgs::update,
        users::list, users::create, users::me, users::read,
        cases::list, cases::create, cases::read, cases::update,
        cases::comments, cases::add_comment, cases::events,
        knowledge::list_articles, knowledge::create_article, knowledge::read_article,
        knowledge::update_article, knowledge::revisions, knowledge::revision, knowledge::search,
        knowledge::suggestions, knowledge::create_link, knowledge::list_links, knowledge::deflections,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    tags((name = "organizations"), (name = "users"), (name = "cases"), (name = "knowledge"))
)]
pub struct ApiDoc;

/// Routes relative to `/api/v1`, where the application nests them.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/openapi.json",
            get(|| async { axum::Json(ApiDoc::openapi()) }),
        )
        .route("/organizations", get(orgs::list).post(orgs::create))
        .route("/organizations/{slug}", get(orgs::read).patch(orgs::update))
        .route("/users", get(users::list).post(users::create))
        .route("/users/me", get(users::me))
        .route("/users/{id}", get(users::read))
        .route("/cases", get(cases::list).post(cases::create))
        .route("/cases/{id}", get(cases::read).patch(cases::update))
        .route(
            "/cases/{id}/comments",
            get(cases::comments).post(cases::add_comment),
        )
        .route("/cases/{id}/events", get(cases::events))
        .route("/cases/{id}/suggestions", get(knowledge::suggestions))
        .route(
            "/cases/{id}/links",
            get(knowledge::list_links).post(knowledge::create_link),
        )
        .route(
            "/articles",
            get(knowledge::list_articles).post(knowledge::create_article),
        )
        .route(
            "/articles/{id}",
            get(knowledge::read_article).patch(knowledge::update_article),
        )
        .route("/articles/{id}/revisions", get(knowledge::revisions))
        .route(
            "/articles/{id}/revisions/{revision}",
            get(knowledge::revision),
        )
        .route("/search", get(knowledge::search))
        .route("/deflections", get(knowledge::deflections))
        .fallback(|| async { ApiError::NotFound("endpoint") })
}
