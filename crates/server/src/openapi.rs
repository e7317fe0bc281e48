//! The OpenAPI document of `/api/v1`, generated from the handlers' annotations in each
//! feature's `api` module, and the API's answer for paths it does not have.

use crate::crisis::api::{incidents, setup, signals};
use crate::error::ApiError;
use crate::partners::api::{program, routing, training};
use crate::{
    accounts, analytics, cases, community, help, knowledge, mail, sla, social, staffing, success,
    webhooks, AppState,
};
use axum::routing::{any, get};
use axum::Router;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Backline API", description = "Support operations for vendors with partner channels. Authenticate with `Authorization: Bearer TOKEN` (create one with `backline token create`)."),
    paths(
        accounts::orgs::list, accounts::orgs::create, accounts::orgs::read, accounts::orgs::update,
        accounts::users::list, accounts::users::create, accounts::users::me, accounts::users::read, accounts::users::settings_permission,
        cases::api::list, cases::api::create, cases::api::read, cases::api::update,
        cases::api::comments, cases::api::add_comment, cases::api::events, cases::api::bulk,
        cases::api::views, cases::api::create_view, cases::api::delete_view,
        cases::work_api::list_macros, cases::work_api::create_macro, cases::work_api::read_macro, cases::work_api::replace_macro,
        cases::work_api::delete_macro, cases::work_api::preview_macro, cases::work_api::send_macro,
        cases::work_api::merge, cases::work_api::people, cases::work_api::follow,
        cases::work_api::unfollow, cases::work_api::add_cc, cases::work_api::remove_cc,
        cases::work_api::presence, cases::work_api::rate, cases::work_api::rating,
        cases::work_api::scores,
        sla::api::list_calendars, sla::api::create_calendar, sla::api::read_calendar, sla::api::replace_calendar, sla::api::delete_calendar,
        sla::api::list_policies, sla::api::create_policy, sla::api::read_policy, sla::api::replace_policy, sla::api::delete_policy,
        sla::api::move_policy, sla::api::case_clocks,
        staffing::api::forecast, staffing::api::plan, staffing::api::list_events,
        staffing::api::create_event, staffing::api::read_event, staffing::api::replace_event,
        staffing::api::delete_event,
        success::api::accounts, success::api::account, success::api::update_account,
        success::api::weights, success::api::set_weights, success::api::playbooks,
        success::api::create_playbook, success::api::playbook, success::api::playbook_version,
        success::api::save_playbook, success::api::suggestions, success::api::suggest,
        success::api::decide, success::api::start_run, success::api::runs, success::api::run,
        success::api::finish_run, success::api::check_triggers, success::api::my_tasks,
        success::api::complete_task, success::api::send_email,
        analytics::api::list_categories, analytics::api::create_category, analytics::api::read_category,
        analytics::api::replace_category,
        analytics::api::retire_category, analytics::api::restore_category, analytics::api::model,
        analytics::api::retrain, analytics::api::case_category, analytics::api::set_case_category,
        analytics::api::volume, analytics::api::drivers, analytics::api::backlog, analytics::api::times,
        analytics::api::outcomes, analytics::api::deflection,
        cases::attachments::upload, cases::attachments::list, cases::attachments::download,
        mail::api::list, mail::api::read, mail::api::raw, mail::api::retry, mail::api::open_case, mail::api::dismiss,
        mail::api::settings, mail::api::put_settings, mail::api::domains, mail::api::put_domains,
        mail::api::follow, mail::api::unfollow, mail::api::my_notifications, mail::api::put_my_notifications,
        knowledge::api::list_articles, knowledge::api::create_article, knowledge::api::read_article,
        knowledge::api::update_article, knowledge::api::revisions, knowledge::api::revision, knowledge::api::search,
        knowledge::api::suggestions, knowledge::api::create_link, knowledge::api::list_links, knowledge::api::deflections,
        program::list, program::directory, program::profile, program::update, program::agreement,
        program::put_agreement, program::scorecard, program::alerts, program::compare, program::fees,
        program::report_fees, program::statements,
        routing::rules, routing::create_rule, routing::rule, routing::update_rule, routing::delete_rule, routing::order_rules,
        routing::test_rules, routing::queues, routing::queue, routing::create_queue, routing::set_member, routing::escalate,
        routing::swarm,
        training::courses, training::create_course, training::attempt,
        setup::services, setup::create_service, setup::set_customers, setup::customers, setup::roster, setup::set_roster,
        setup::get_template, setup::put_template,
        signals::alertmanager, signals::signal, signals::signal_groups, signals::dismiss,
        incidents::declare, incidents::drill, incidents::incidents, incidents::incident, incidents::update,
        incidents::long_resolution, incidents::notifications, incidents::postmortem, incidents::save_postmortem,
        incidents::publish_postmortem,
        help::api::list_categories, help::api::create_category, help::api::create_section,
        help::api::place_article, help::api::helpfulness, help::api::set_brand,
        community::api::list_spaces, community::api::create_space, community::api::list_questions,
        community::api::ask, community::api::likely, community::api::read_question,
        community::api::answer, community::api::comment, community::api::vote, community::api::accept,
        community::api::follow, community::api::moderate, community::api::lock, community::api::merge,
        community::api::promote, community::api::to_case, community::api::held,
        social::api::receive, social::api::summary,
        webhooks::api::create, webhooks::api::list, webhooks::api::deliveries,
        webhooks::api::update, webhooks::api::delete, webhooks::api::ping, webhooks::api::rotate_secret,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    tags((name = "organizations"), (name = "users"), (name = "cases"), (name = "knowledge"), (name = "partners"), (name = "routing"), (name = "training"), (name = "crisis"), (name = "mail"), (name = "sla"), (name = "staffing"), (name = "success"), (name = "macros"), (name = "satisfaction"), (name = "analytics"), (name = "help"), (name = "community"), (name = "channels"), (name = "webhooks"))
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
