//! The partner program: partners and their agreements, scorecards, alerts, fees and
//! statements; routing rules and queues (tiered and swarming); courses and certification.

pub mod api;
pub mod pages;
pub mod service;
pub mod views;

use crate::AppState;
use axum::routing::{get, post, put};
use axum::Router;

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route("/partners", get(api::program::list))
        .route(
            "/partners/{slug}",
            get(api::program::profile).patch(api::program::update),
        )
        .route(
            "/partners/{slug}/agreement",
            get(api::program::agreement).put(api::program::put_agreement),
        )
        .route("/partners/{slug}/scorecard", get(api::program::scorecard))
        .route("/partners/{slug}/alerts", get(api::program::alerts))
        .route(
            "/partners/{slug}/fees",
            get(api::program::fees).post(api::program::report_fees),
        )
        .route("/partners/{slug}/statements", get(api::program::statements))
        .route("/partner-comparison", get(api::program::compare))
        .route("/directory", get(api::program::directory))
        .route(
            "/routing/rules",
            get(api::routing::rules).post(api::routing::create_rule),
        )
        .route(
            "/routing/rules/{id}",
            get(api::routing::rule)
                .put(api::routing::update_rule)
                .delete(api::routing::delete_rule),
        )
        .route("/routing/order", post(api::routing::order_rules))
        .route("/routing/test", post(api::routing::test_rules))
        .route(
            "/queues",
            get(api::routing::queues).post(api::routing::create_queue),
        )
        .route("/queues/{slug}", get(api::routing::queue))
        .route(
            "/queues/{slug}/members/{user}",
            put(api::routing::set_member),
        )
        .route("/cases/{id}/escalate", post(api::routing::escalate))
        .route("/cases/{id}/swarm", post(api::routing::swarm))
        .route(
            "/courses",
            get(api::training::courses).post(api::training::create_course),
        )
        .route("/courses/{id}/attempts", post(api::training::attempt));
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
