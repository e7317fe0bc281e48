//! Crisis management: services and who uses them, the roster, signals, incidents and their
//! updates on a committed clock, post-mortems, message templates, and the public status page.

pub mod api;
pub mod pages;
pub mod service;
pub mod status;
pub mod views;

use crate::AppState;
use axum::routing::{get, post, put};
use axum::Router;

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route(
            "/services",
            get(api::setup::services).post(api::setup::create_service),
        )
        .route(
            "/services/{slug}/customers",
            get(api::setup::customers).put(api::setup::set_customers),
        )
        .route(
            "/roster",
            get(api::setup::roster).put(api::setup::set_roster),
        )
        .route(
            "/signals",
            get(api::signals::signal_groups).post(api::signals::signal),
        )
        .route("/signals/alertmanager", post(api::signals::alertmanager))
        .route("/signals/{id}/dismiss", post(api::signals::dismiss))
        .route(
            "/incidents",
            get(api::incidents::incidents).post(api::incidents::declare),
        )
        .route("/drills", post(api::incidents::drill))
        .route("/incidents/{id}", get(api::incidents::incident))
        .route("/incidents/{id}/updates", post(api::incidents::update))
        .route(
            "/incidents/{id}/long-resolution",
            put(api::incidents::long_resolution),
        )
        .route(
            "/incidents/{id}/notifications",
            get(api::incidents::notifications),
        )
        .route(
            "/incidents/{id}/postmortem",
            get(api::incidents::postmortem).put(api::incidents::save_postmortem),
        )
        .route(
            "/incidents/{id}/postmortem/publish",
            post(api::incidents::publish_postmortem),
        )
        .route(
            "/templates/{kind}",
            get(api::setup::get_template).put(api::setup::put_template),
        );
    Router::new()
        .nest("/api/v1", api)
        .route("/incidents", get(pages::console).post(pages::declare))
        .route("/incidents/roster", post(pages::save_roster))
        .route("/incidents/templates", get(pages::templates))
        .route("/incidents/templates/{kind}", post(pages::save_template))
        .route("/report", get(pages::report_form).post(pages::report))
        .route("/incidents/signals/{id}/dismiss", post(pages::dismiss))
        .route("/incidents/{id}", get(pages::incident_page))
        .route("/incidents/{id}/updates", post(pages::update))
        .route("/incidents/{id}/long", post(pages::long_resolution))
        .route("/incidents/{id}/postmortem", post(pages::save_postmortem))
        .route("/incidents/{id}/postmortem/publish", post(pages::publish))
        .route("/status", get(status::status_page))
        .route("/status.json", get(status::status_json))
        .route("/status.atom", get(status::status_atom))
        .route("/status/subscribe", post(status::subscribe))
        .route("/status/confirm/{token}", get(status::confirm))
        .route("/status/unsubscribe/{token}", get(status::unsubscribe))
}
