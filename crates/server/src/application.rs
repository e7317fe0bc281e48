//! The one way a server is put together, for the binary (`backline serve`) and for tests: open
//! this node's search index, start every background job, bind the listener, then serve.
//!
//! Background jobs, all started in `Application::build` and stopped when the `Application`
//! (or the future running it) is dropped:
//! - the indexer, which keeps this node's search index in step with the database (`indexer`);
//! - the mail sender, which sends the outbox (`mail::sending`; without an SMTP target there is
//!   none and mail waits in the outbox);
//! - mail intake, which places received mail (`mail::intake`), the SMTP listener when asked
//!   for (`mail::smtp`), and the IMAP poller (`mail::imap`);
//! - the case notifier, which turns case events into mail (`mail::notifier`);
//! - the incident clock (`crisis::service::start_cadence`);
//! - partner alert mail to relationship managers (`partners::service::start_alert_mail`);
//! - playbook triggers that start customer-success runs (`success::service::start_triggers`);
//! - the Insights dashboards' daily rollups, rebuilt when their cases change
//!   (`analytics::rollups::start`).
//!
//! SQLite's WAL checkpointer is not here: it belongs to the store, which every command opens
//! (`demo`, `reindex`, `learn` write too), so `Store::open` starts it and closing the store
//! ends it.

use crate::mail::smtp::SmtpPolicy;
use crate::mail::{MailContext, SmtpTarget};
use crate::AppState;
use anyhow::Context;
use axum::Router;
use backline_store::Store;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Everything a server needs to know; `Config::new` gives production defaults.
#[derive(Clone)]
pub struct Config {
    pub store: Store,
    /// Where to listen; port 0 picks a free one (`Application::address` says which).
    pub listen: SocketAddr,
    /// This node's search index folder; `None` keeps the index in memory (tests).
    pub index_dir: Option<PathBuf>,
    /// Where outgoing email goes; `None` leaves it in the outbox.
    pub smtp: Option<SmtpTarget>,
    /// The sender of outgoing email, and the address replies come back to.
    pub mail_from: String,
    /// Where the SMTP listener takes mail in; `None`: no listener.
    pub smtp_listen: Option<SocketAddr>,
    /// The domains the SMTP listener takes mail for (default: the domain of `mail_from`).
    pub smtp_domains: Vec<String>,
    /// The largest file attached to a comment, in bytes.
    pub max_attachment_bytes: usize,
    /// How often the case notifier looks for new events.
    pub notify_every: Duration,
    /// How often IMAP mailboxes are polled (where the server offers no IDLE).
    pub imap_poll_every: Duration,
    /// How people reach this installation, for links in email; `None` means
    /// `http://` and the address actually bound.
    pub public_url: Option<String>,
    /// Mark session cookies `Secure`.
    pub secure_cookies: bool,
    /// Business days after resolution within which an incident's post-mortem is due.
    pub postmortem_business_days: u32,
    /// How often the incident clock looks at open incidents.
    pub cadence_every: Duration,
    /// How often partner alerts are checked (and new ones mailed); the first check runs at start.
    pub partner_alerts_every: Duration,
    /// How often the service-level sweep evaluates changed cases and clocks running out.
    pub sla_every: Duration,
    /// How often the categoriser looks for new cases to suggest for and labels to learn.
    pub categorize_every: Duration,
    /// How often the dashboards' rollup job looks for days whose cases changed, once it has
    /// rebuilt every one it found.
    pub rollups_every: Duration,
}

impl Config {
    pub fn new(store: Store) -> Config {
        Config {
            store,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            index_dir: None,
            smtp: None,
            mail_from: "support@backline.localhost".into(),
            smtp_listen: None,
            smtp_domains: Vec::new(),
            max_attachment_bytes: crate::mail::DEFAULT_MAX_ATTACHMENT_BYTES,
            notify_every: Duration::from_millis(500),
            imap_poll_every: Duration::from_secs(30),
            public_url: None,
            secure_cookies: true,
            postmortem_business_days: crate::crisis::service::POSTMORTEM_BUSINESS_DAYS,
            cadence_every: Duration::from_secs(15),
            partner_alerts_every: Duration::from_secs(3600),
            sla_every: Duration::from_secs(1),
            categorize_every: Duration::from_secs(1),
            rollups_every: Duration::from_secs(2),
        }
    }
}

/// A server ready to run: the listener bound, the index opened, the background jobs started.
pub struct Application {
    state: AppState,
    listener: TcpListener,
    address: SocketAddr,
    smtp_address: Option<SocketAddr>,
    jobs: Jobs,
}

/// The background jobs' tasks; dropping them stops the jobs.
struct Jobs(Vec<JoinHandle<()>>);

impl Drop for Jobs {
    fn drop(&mut self) {
        for job in &self.0 {
            job.abort();
        }
    }
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        // Bind first: a taken port fails at once, before anything starts.
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let address = listener.local_addr()?;
        let store = config.store;
        let (search, indexer) = crate::indexer::start(store.clone(), config.index_dir.clone())
            .await
            .with_context(|| match &config.index_dir {
                Some(dir) => format!("opening the search index in {}", dir.display()),
                None => "opening the in-memory search index".to_string(),
            })?;
        let public_url = config
            .public_url
            .unwrap_or_else(|| format!("http://{address}"));
        let mail = MailContext::load(&store, &config.mail_from, config.max_attachment_bytes)
            .await
            .context("setting up mail")?;
        let mut state = AppState::new(store.clone(), config.secure_cookies, search)
            .with_public_url(&public_url)
            .with_mail(mail);
        state.postmortem_business_days = config.postmortem_business_days;
        let mut jobs = vec![indexer];
        jobs.extend(crate::mail::sending::start(
            store.clone(),
            config.smtp,
            state.mail.clone(),
        ));
        jobs.push(crate::mail::intake::start(state.clone()));
        jobs.push(crate::mail::notifier::start(
            state.clone(),
            config.notify_every,
        ));
        jobs.push(crate::mail::imap::start(
            state.clone(),
            config.imap_poll_every,
        ));
        let smtp_address = match config.smtp_listen {
            Some(at) => {
                let domains = if config.smtp_domains.is_empty() {
                    vec![state.mail.reply_mailbox.domain().to_string()]
                } else {
                    config
                        .smtp_domains
                        .iter()
                        .map(|d| d.trim().to_lowercase())
                        .collect()
                };
                let policy = SmtpPolicy {
                    domains,
                    hostname: state.mail.identity.message_id_domain.as_str().to_string(),
                };
                let (bound, task) = crate::mail::smtp::start(state.clone(), at, policy).await?;
                jobs.push(task);
                Some(bound)
            }
            None => None,
        };
        jobs.push(crate::crisis::service::start_cadence(
            state.clone(),
            config.cadence_every,
        ));
        jobs.push(crate::sla::service::start(state.clone(), config.sla_every));
        jobs.push(crate::analytics::model::start(
            state.clone(),
            config.categorize_every,
        ));
        jobs.push(crate::analytics::rollups::start(
            state.clone(),
            config.rollups_every,
        ));
        jobs.push(crate::webhooks::service::start(state.clone()));
        jobs.push(crate::partners::service::start_alert_mail(
            state.clone(),
            config.partner_alerts_every,
        ));
        // Playbook triggers (health, renewal, new partner, partner alert, incident) change
        // over hours and days; the partner alerts' cadence suits them.
        jobs.push(crate::success::service::start_triggers(
            state.clone(),
            config.partner_alerts_every,
        ));
        Ok(Application {
            state,
            listener,
            address,
            smtp_address,
            jobs: Jobs(jobs),
        })
    }

    /// The address actually bound.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The address the SMTP listener bound, if it runs.
    pub fn smtp_address(&self) -> Option<SocketAddr> {
        self.smtp_address
    }

    /// `http://` and the address bound, for clients on this machine.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The state every request sees (the store, this node's index, caches).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn router(&self) -> Router {
        crate::app(self.state.clone())
    }

    /// Serves until `shutdown` completes, then stops the background jobs.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Application {
            state,
            listener,
            jobs,
            ..
        } = self;
        let served = axum::serve(
            listener,
            crate::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        // Held until here, so the jobs run exactly as long as the server (or until this
        // future is dropped).
        drop(jobs);
        served
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
