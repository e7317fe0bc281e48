//! Customer success: accounts with an owner, stage, renewal and a health score; playbooks by
//! situation, versioned, with suggestions; runs by hand or by trigger that create tasks; a
//! step's email sent through the outbox when its owner approves it; each person's tasks.
//! `service` decides; `api` and `pages` parse, call it and render.

pub mod api;
pub mod pages;
pub mod service;

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route("/success/accounts", get(api::accounts))
        .route(
            "/success/accounts/{slug}",
            get(api::account).put(api::update_account),
        )
        .route(
            "/success/health-weights",
            get(api::weights).put(api::set_weights),
        )
        .route(
            "/success/playbooks",
            get(api::playbooks).post(api::create_playbook),
        )
        .route(
            "/success/playbooks/{id}",
            get(api::playbook).put(api::save_playbook),
        )
        .route(
            "/success/playbooks/{id}/versions/{version}",
            get(api::playbook_version),
        )
        .route(
            "/success/playbooks/{id}/suggestions",
            get(api::suggestions).post(api::suggest),
        )
        .route(
            "/success/playbooks/{id}/suggestions/{suggestion}/decision",
            post(api::decide),
        )
        .route("/success/playbooks/{id}/runs", post(api::start_run))
        .route("/success/runs", get(api::runs))
        .route("/success/runs/{id}", get(api::run))
        .route("/success/runs/{id}/finish", post(api::finish_run))
        .route("/success/triggers/check", post(api::check_triggers))
        .route("/success/tasks/mine", get(api::my_tasks))
        .route("/success/tasks/{id}/complete", post(api::complete_task))
        .route("/success/tasks/{id}/email", post(api::send_email));
    Router::new()
        .nest("/api/v1", api)
        .route("/success", get(pages::overview))
        .route("/success/weights", post(pages::save_weights))
        .route(
            "/success/accounts/{slug}",
            get(pages::account_page).post(pages::save_account),
        )
        .route("/success/accounts/{slug}/runs", post(pages::start_run))
        .route(
            "/success/playbooks/new",
            get(pages::new_playbook_page).post(pages::create_playbook),
        )
        .route("/success/playbooks/{id}", get(pages::playbook_page))
        .route(
            "/success/playbooks/{id}/edit",
            get(pages::edit_playbook_page).post(pages::save_playbook),
        )
        .route("/success/playbooks/{id}/suggestions", post(pages::suggest))
        .route(
            "/success/playbooks/{id}/suggestions/{suggestion}",
            post(pages::decide),
        )
        .route("/success/runs/{id}/finish", post(pages::finish_run))
        .route("/success/tasks", get(pages::tasks_page))
        .route("/success/tasks/{id}/done", post(pages::complete_task))
        .route("/success/tasks/{id}/email", post(pages::send_email))
}
