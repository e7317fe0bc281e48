//! The JSON API under `/api/v1`, one module per resource, and its OpenAPI document,
//! generated from the handlers' annotations.

pub mod cases;
pub mod crisis;
pub mod extract;
pub mod knowledge;
pub mod orgs;
pub mod partners;
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
        partners::list, partners::directory, partners::profile, partners::update, partners::agreement,
        partners::put_agreement, partners::scorecard, partners::alerts, partners::compare, partners::fees,
        partners::report_fees, partners::statements, partners::rules, partners::create_rule,
        partners::update_rule, partners::delete_rule, partners::order_rules, partners::test_rules,
        partners::queues, partners::create_queue, partners::set_member, partners::escalate,
        partners::swarm, partners::courses, partners::create_course, partners::attempt,
        crisis::services, crisis::create_service, crisis::set_customers, crisis::roster, crisis::set_roster,
        crisis::alertmanager, crisis::signal, crisis::signal_groups, crisis::dismiss, crisis::declare,
        crisis::drill, crisis::incidents, crisis::incident, crisis::update, crisis::long_resolution,
        crisis::notifications, crisis::postmortem, crisis::save_postmortem, crisis::publish_postmortem,
        crisis::get_template, crisis::put_template,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    tags((name = "organizations"), (name = "users"), (name = "cases"), (name = "knowledge"), (name = "partners"), (name = "routing"), (name = "training"), (name = "crisis"))
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
        .route("/partners", get(partners::list))
        .route(
            "/partners/{slug}",
            get(partners::profile).patch(partners::update),
        )
        .route(
            "/partners/{slug}/agreement",
            get(partners::agreement).put(partners::put_agreement),
        )
        .route("/partners/{slug}/scorecard", get(partners::scorecard))
        .route("/partners/{slug}/alerts", get(partners::alerts))
        .route(
            "/partners/{slug}/fees",
            get(partners::fees).post(partners::report_fees),
        )
        .route("/partners/{slug}/statements", get(partners::statements))
        .route("/partner-comparison", get(partners::compare))
        .route("/directory", get(partners::directory))
        .route(
            "/routing/rules",
            get(partners::rules).post(partners::create_rule),
        )
        .route(
            "/routing/rules/{id}",
            axum::routing::put(partners::update_rule).delete(partners::delete_rule),
        )
        .route("/routing/order", axum::routing::post(partners::order_rules))
        .route("/routing/test", axum::routing::post(partners::test_rules))
        .route(
            "/queues",
            get(partners::queues).post(partners::create_queue),
        )
        .route(
            "/queues/{slug}/members/{user}",
            axum::routing::put(partners::set_member),
        )
        .route(
            "/cases/{id}/escalate",
            axum::routing::post(partners::escalate),
        )
        .route("/cases/{id}/swarm", axum::routing::post(partners::swarm))
        .route(
            "/courses",
            get(partners::courses).post(partners::create_course),
        )
        .route(
            "/courses/{id}/attempts",
            axum::routing::post(partners::attempt),
        )
        .route("/deflections", get(knowledge::deflections))
        .route(
            "/services",
            get(crisis::services).post(crisis::create_service),
        )
        .route(
            "/services/{slug}/customers",
            axum::routing::put(crisis::set_customers),
        )
        .route("/roster", get(crisis::roster).put(crisis::set_roster))
        .route("/signals", get(crisis::signal_groups).post(crisis::signal))
        .route(
            "/signals/alertmanager",
            axum::routing::post(crisis::alertmanager),
        )
        .route(
            "/signals/{id}/dismiss",
            axum::routing::post(crisis::dismiss),
        )
        .route("/incidents", get(crisis::incidents).post(crisis::declare))
        .route("/drills", axum::routing::post(crisis::drill))
        .route("/incidents/{id}", get(crisis::incident))
        .route(
            "/incidents/{id}/updates",
            axum::routing::post(crisis::update),
        )
        .route(
            "/incidents/{id}/long-resolution",
            axum::routing::put(crisis::long_resolution),
        )
        .route("/incidents/{id}/notifications", get(crisis::notifications))
        .route(
            "/incidents/{id}/postmortem",
            get(crisis::postmortem).put(crisis::save_postmortem),
        )
        .route(
            "/incidents/{id}/postmortem/publish",
            axum::routing::post(crisis::publish_postmortem),
        )
        .route(
            "/templates/{kind}",
            get(crisis::get_template).put(crisis::put_template),
        )
        .fallback(|| async { ApiError::NotFound("endpoint") })
}
