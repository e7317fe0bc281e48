//! The partner program: partners and their agreements, scorecards, alerts, fees and
//! statements; routing rules and queues (tiered and swarming); courses and certification.

pub mod api;
pub mod pages;
pub mod service;

use crate::AppState;
use axum::routing::{get, post, put};
use axum::Router;

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route("/partners", get(api::list))
        .route("/partners/{slug}", get(api::profile).patch(api::update))
        .route(
            "/partners/{slug}/agreement",
            get(api::agreement).put(api::put_agreement),
        )
        .route("/partners/{slug}/scorecard", get(api::scorecard))
        .route("/partners/{slug}/alerts", get(api::alerts))
        .route(
            "/partners/{slug}/fees",
            get(api::fees).post(api::report_fees),
        )
        .route("/partners/{slug}/statements", get(api::statements))
        .route("/partner-comparison", get(api::compare))
        .route("/directory", get(api::directory))
        .route("/routing/rules", get(api::rules).post(api::create_rule))
        .route(
            "/routing/rules/{id}",
            put(api::update_rule).delete(api::delete_rule),
        )
        .route("/routing/order", post(api::order_rules))
        .route("/routing/test", post(api::test_rules))
        .route("/queues", get(api::queues).post(api::create_queue))
        .route("/queues/{slug}/members/{user}", put(api::set_member))
        .route("/cases/{id}/escalate", post(api::escalate))
        .route("/cases/{id}/swarm", post(api::swarm))
        .route("/courses", get(api::courses).post(api::create_course))
        .route("/courses/{id}/attempts", post(api::attempt));
    Router::new()
        .nest("/api/v1", api)
        .route("/cases/{id}/escalate", post(pages::escalate_case))
        .route("/cases/{id}/swarm", post(pages::swarm_case))
        .route("/partners", get(pages::partner_list))
        .route("/partners/{slug}", get(pages::partner_page))
        .route("/partners/{slug}/fees", post(pages::report_fees))
        .route(
            "/partners/{slug}/agreement",
            get(pages::agreement_page).post(pages::save_agreement),
        )
        .route("/routing", get(pages::routing_page).post(pages::add_rule))
        .route("/routing/{id}", post(pages::change_rule))
        .route("/queues", get(pages::queues_page).post(pages::create_queue))
        .route("/queues/{slug}/members", post(pages::set_member))
        .route("/training", get(pages::training))
        .route(
            "/training/{id}",
            get(pages::test_page).post(pages::submit_test),
        )
        .route("/directory", get(pages::directory))
}
