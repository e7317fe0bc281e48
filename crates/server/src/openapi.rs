//! The OpenAPI document of `/api/v1`, generated from the handlers' annotations in each
//! feature's `api` module, and the API's answer for paths it does not have.

use crate::error::ApiError;
use crate::{accounts, cases, crisis, knowledge, partners, AppState};
use axum::routing::{any, get};
use axum::Router;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Backline API", description = "Support operations for vendors with partner channels. Authenticate with `Authorization: Bearer TOKEN` (create one with `backline token create`)."),
    paths(
        accounts::orgs::list, accounts::orgs::create, accounts::orgs::read, accounts::orgs::update,
        accounts::users::list, accounts::users::create, accounts::users::me, accounts::users::read,
        cases::api::list, cases::api::create, cases::api::read, cases::api::update,
        cases::api::comments, cases::api::add_comment, cases::api::events,
        knowledge::api::list_articles, knowledge::api::create_article, knowledge::api::read_article,
        knowledge::api::update_article, knowledge::api::revisions, knowledge::api::revision, knowledge::api::search,
        knowledge::api::suggestions, knowledge::api::create_link, knowledge::api::list_links, knowledge::api::deflections,
        partners::api::list, partners::api::directory, partners::api::profile, partners::api::update, partners::api::agreement,
        partners::api::put_agreement, partners::api::scorecard, partners::api::alerts, partners::api::compare, partners::api::fees,
        partners::api::report_fees, partners::api::statements, partners::api::rules, partners::api::create_rule,
        partners::api::update_rule, partners::api::delete_rule, partners::api::order_rules, partners::api::test_rules,
        partners::api::queues, partners::api::create_queue, partners::api::set_member, partners::api::escalate,
        partners::api::swarm, partners::api::courses, partners::api::create_course, partners::api::attempt,
        crisis::api::services, crisis::api::create_service, crisis::api::set_customers, crisis::api::customers, crisis::api::roster, crisis::api::set_roster,
        crisis::api::alertmanager, crisis::api::signal, crisis::api::signal_groups, crisis::api::dismiss, crisis::api::declare,
        crisis::api::drill, crisis::api::incidents, crisis::api::incident, crisis::api::update, crisis::api::long_resolution,
        crisis::api::notifications, crisis::api::postmortem, crisis::api::save_postmortem, crisis::api::publish_postmortem,
        crisis::api::get_template, crisis::api::put_template,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    tags((name = "organizations"), (name = "users"), (name = "cases"), (name = "knowledge"), (name = "partners"), (name = "routing"), (name = "training"), (name = "crisis"))
)]
pub struct ApiDoc;

/// The document itself, and a JSON 404 for any other path under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(|| async { axum::Json(ApiDoc::openapi()) }),
        )
        .route(
            "/api/v1/{*rest}",
            any(|| async { ApiError::NotFound("endpoint") }),
        )
}
