//! Backline's server: the JSON API, the web pages, health and metrics, over one `Store`.
//!
//! One folder per feature (`accounts`, `cases`, `knowledge`, `help`, `partners`, `crisis`), each with
//! its `service` (the rules: the only place that decides), `api` (JSON handlers and their
//! typed bodies), `pages` (server-rendered pages) and its `router()`. The shared edges sit
//! beside them: `auth`, `session`, `extract`, `error`, `web` (the page handlers' edge),
//! `layout`, `views`, `openapi`.
//! Background work: `indexer`, `mail`, the incident clock and partner alert mail.
//! `application::Application::build` opens the index, starts every background job and binds
//! the listener, once for the binary and for tests alike; `app` builds the router.

pub mod accounts;
pub mod analytics;
pub mod application;
pub mod auth;
pub mod cases;
mod catch_panic;
pub mod clock;
pub mod community;
pub mod crisis;
pub mod error;
pub mod extract;
pub mod help;
pub mod indexer;
pub mod knowledge;
pub mod layout;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod partners;
mod security;
pub mod session;
pub mod sla;
pub mod smtp_client;
pub mod smtp_sink;
pub mod social;
pub mod staffing;
pub mod success;
mod token_cache;
pub mod trace;
pub mod views;
pub mod web;
pub mod webhooks;

pub use session::SESSION_COOKIE;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use backline_store::Store;
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// Shared by every request: the store and in-process caches and counters.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub metrics: Arc<metrics::Metrics>,
    tokens: Arc<token_cache::TokenCache>,
    /// Web sessions seen in the last seconds: a page costs no session lookup.
    pub(crate) sessions: Arc<token_cache::SessionCache>,
    /// Where people reach this installation, for links in email (`--public-url`).
    pub public_url: String,
    /// Business days after resolution within which a post-mortem is due.
    pub postmortem_business_days: u32,
    /// Routing rules and partner agreements, cached for case creation.
    pub partners: Arc<partners::service::PartnerCache>,
    /// Add `Secure` to cookies; off only for plain-HTTP development and tests.
    pub secure_cookies: bool,
    /// This node's search index and matcher weights, kept current by `indexer`.
    search: indexer::SearchState,
    /// Who we are in mail, and intake's limits.
    pub mail: Arc<mail::MailContext>,
    /// "Now" for time-based limits; tests move it forward instead of sleeping.
    pub clock: clock::Clock,
    /// This node's case categoriser, fitted and kept by `analytics::model`.
    pub categorizer: analytics::model::ModelCell,
    /// Staff case pages' data, checked against the database's counters on every view.
    pub case_pages: Arc<cases::page_cache::CasePageCache>,
}

impl AppState {
    /// Sets the base URL used in links sent by email (no trailing slash).
    pub fn with_public_url(mut self, url: &str) -> Self {
        self.public_url = url.trim_end_matches('/').to_string();
        self
    }

    pub fn new(store: Store, secure_cookies: bool, search: indexer::SearchState) -> Self {
        AppState {
            store,
            search,
            metrics: Arc::default(),
            tokens: Arc::default(),
            sessions: Arc::default(),
            partners: Arc::default(),
            public_url: "http://127.0.0.1:8080".into(),
            postmortem_business_days: crisis::service::POSTMORTEM_BUSINESS_DAYS,
            secure_cookies,
            mail: Arc::new(mail::MailContext::ephemeral()),
            clock: clock::Clock::default(),
            categorizer: analytics::model::ModelCell::default(),
            case_pages: Arc::default(),
        }
    }

    pub fn with_mail(mut self, mail: mail::MailContext) -> Self {
        self.mail = Arc::new(mail);
        self
    }
}

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .merge(accounts::router())
        .merge(cases::router())
        .merge(knowledge::router())
        .merge(help::router())
        .merge(community::router())
        .merge(social::router())
        .merge(webhooks::router())
        .merge(partners::router())
        .merge(crisis::router())
        .merge(mail::router())
        .merge(sla::router())
        .merge(staffing::router())
        .merge(success::router())
        .merge(analytics::router())
        .merge(layout::router())
        .merge(openapi::router())
        .layer(axum::middleware::from_fn(layout::with_viewer_zone))
        .layer(axum::middleware::from_fn(security::refuse_nul_text))
        .layer(axum::middleware::from_fn(catch_panic::catch_panic))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::security_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        // Outermost, so everything below (metrics included) runs inside the request's span.
        .layer(axum::middleware::from_fn(trace::request_span))
        .with_state(state)
}

/// What `/healthz` says.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `unavailable` (the database does not answer).
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// This node's search index: `indexing` while it catches up after start, then `ready`.
    pub search: indexer::IndexProgress,
}

/// 200 when the database answers, 503 otherwise, so a load balancer can take a node out. A
/// node whose index is still catching up stays in (search falls back to the database), but
/// says so, for whoever needs complete search results (tests, deploy scripts).
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let (code, status) = match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    };
    (
        code,
        axum::Json(Health {
            status: status.into(),
            database: state.store.backend().as_str().into(),
            search: state.search().progress(),
        }),
    )
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    let cases = state
        .store
        .count_cases()
        .await
        .map_or(f64::NAN, |n| n as f64);
    let pending = state
        .search
        .pending
        .load(std::sync::atomic::Ordering::Relaxed) as f64;
    let outbox = state
        .store
        .outbox_pending()
        .await
        .map_or(f64::NAN, |n| n as f64);
    let body = state.metrics.render(&[
        ("backline_cases", "Cases stored.", cases),
        (
            "backline_outbox_pending",
            "Emails written but not yet accepted by the SMTP server.",
            outbox,
        ),
        (
            "backline_search_pending_changes",
            "Changes heard but not yet searchable on this node.",
            pending,
        ),
        (
            "backline_search_ready",
            "1 once this node's search index has caught up with the database after start.",
            if state.search.is_ready() { 1.0 } else { 0.0 },
        ),
    ]);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
