//! A test application: the real router on a real port, over a fresh SQLite file or a fresh
//! PostgreSQL database, with a small vendor already in place.

#![allow(dead_code)]

pub mod browser;

use backline_domain::{OrgKind, PartnerKind, PartnerKinds, Role, TechnicalLevel};
use backline_server::application::{Application, Config as ServerConfig};
use backline_server::{auth, AppState};
use backline_store::testing::{fresh_postgres, fresh_sqlite, tempfile_guard::TempDir};
use backline_store::{NewOrg, NewUser, Store};
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named async test function once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::common::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::common::Backend::Postgres).await }
            )*
        }
    };
}

pub const PASSWORD: &str = "correct horse battery";

/// API tokens of the fixture's people.
pub struct Tokens {
    pub admin: String,
    pub agent: String,
    /// Technician of partner `acme`, which serves customer `globex`.
    pub acme: String,
    /// Technician of partner `other`, which serves customer `umbrella`.
    pub other: String,
    /// Customer user of `globex` (served by acme).
    pub globex: String,
    /// Customer user of `initech` (served directly).
    pub initech: String,
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    /// Receives the application's email when started with `start_with_mail`.
    pub mail: Option<backline_server::smtp_sink::SmtpSink>,
    pub client: reqwest::Client,
    pub store: Store,
    pub tokens: Tokens,
    pub agent_id: i64,
    /// Where the SMTP listener takes mail, when started with `smtp_listen`.
    pub smtp: Option<std::net::SocketAddr>,
    _dir: Option<TempDir>,
}

/// Writes to the store after the fixture is seeded and before the server starts.
pub type BeforeStart = Box<
    dyn FnOnce(Store) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send,
>;

/// How a test server differs from the default.
#[derive(Default)]
pub struct Options {
    /// Send mail to an SMTP sink started for the test (`TestApp::mail`).
    pub mail: bool,
    /// Check partner alerts this often instead of hourly.
    pub partner_alerts_every: Option<std::time::Duration>,
    /// Writes to the store before the server (and its index) starts.
    pub before_start: Option<BeforeStart>,
    /// Take mail in over SMTP on a free port (`TestApp::smtp`).
    pub smtp_listen: bool,
    /// The largest attachment, if not the default.
    pub max_attachment_bytes: Option<usize>,
    /// How often IMAP mailboxes are looked at, if not the default.
    pub imap_poll_every: Option<std::time::Duration>,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, Options::default()).await
    }

    /// Like `start`, with the mail worker sending to an SMTP sink started for the test.
    pub async fn start_with_mail(backend: Backend) -> TestApp {
        Self::start_with(
            backend,
            Options {
                mail: true,
                ..Options::default()
            },
        )
        .await
    }

    /// A fresh store with the fixture, then a server built the way `backline serve` builds
    /// one (`Application::build`: index, background jobs, listener).
    pub async fn start_with(backend: Backend, options: Options) -> TestApp {
        let (config, dir) = match backend {
            Backend::Sqlite => {
                let (config, dir) = fresh_sqlite();
                (config, Some(dir))
            }
            Backend::Postgres => (fresh_postgres().await, None),
        };
        let store = Store::open(&config).await.expect("open store");
        let tokens = seed(&store).await;
        if let Some(prepare) = options.before_start {
            prepare(store.clone()).await;
        }
        let agent_id = store
            .user_by_email("agent@vendor.example")
            .await
            .unwrap()
            .id
            .0;
        let sink = if options.mail {
            Some(
                backline_server::smtp_sink::SmtpSink::start("127.0.0.1:0")
                    .await
                    .unwrap(),
            )
        } else {
            None
        };
        let mut server = ServerConfig::new(store.clone());
        server.listen = "127.0.0.1:0".parse().unwrap();
        server.secure_cookies = false;
        server.mail_from = "ops@vendor.example".into();
        server.smtp = sink
            .as_ref()
            .map(|s| backline_server::mail::SmtpTarget::parse(&s.url()).unwrap());
        if let Some(every) = options.partner_alerts_every {
            server.partner_alerts_every = every;
        }
        if options.smtp_listen {
            server.smtp_listen = Some("127.0.0.1:0".parse().unwrap());
        }
        if let Some(max) = options.max_attachment_bytes {
            server.max_attachment_bytes = max;
        }
        if let Some(every) = options.imap_poll_every {
            server.imap_poll_every = every;
        }
        server.notify_every = std::time::Duration::from_millis(100);
        server.sla_every = std::time::Duration::from_millis(100);
        server.categorize_every = std::time::Duration::from_millis(100);
        server.rollups_every = std::time::Duration::from_millis(100);
        let app = Application::build(server).await.expect("build the server");
        let base = app.base_url();
        let smtp = app.smtp_address();
        let state = app.state().clone();
        tokio::spawn(async move {
            app.run_until(std::future::pending()).await.unwrap();
        });
        TestApp {
            base,
            state,
            mail: sink,
            client: reqwest::Client::new(),
            store,
            tokens,
            agent_id,
            smtp,
            _dir: dir,
        }
    }

    pub async fn request(
        &self,
        method: Method,
        token: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply { status, body }
    }

    pub async fn get(&self, token: &str, path: &str) -> Reply {
        self.request(Method::GET, Some(token), path, None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Reply {
        self.request(Method::POST, Some(token), path, Some(body))
            .await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> Reply {
        self.request(Method::PATCH, Some(token), path, Some(body))
            .await
    }

    /// Sends raw bytes, for bodies that are not valid JSON.
    pub async fn post_raw(
        &self,
        token: &str,
        path: &str,
        content_type: &str,
        body: &'static str,
    ) -> Reply {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        Reply { status, body }
    }

    /// A web session for `email`, started without the sign-in form: its `Cookie` header value.
    pub async fn session_cookie(&self, email: &str) -> String {
        let user = self.store.user_by_email(email).await.unwrap();
        let cookie = backline_server::session::start_session(&self.state, &user)
            .await
            .unwrap();
        cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string()
    }

    /// Files a case and returns its id, asserting it was created.
    pub async fn file_case(&self, token: &str, body: Value) -> i64 {
        let reply = self.post(token, "/api/v1/cases", body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_i64().unwrap()
    }

    /// Polls a search until it returns something that `found` accepts (the index follows the
    /// database a moment behind); panics after 5 seconds.
    pub async fn search_until(
        &self,
        token: &str,
        path: &str,
        found: impl Fn(&Value) -> bool,
    ) -> Value {
        self.search_ready().await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let reply = self.get(token, path).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            if found(&reply.body) {
                return reply.body;
            }
            if std::time::Instant::now() > deadline {
                panic!("not found in time: {path} gave {}", reply.body);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Waits until `/healthz` says the search index has caught up with what the database held
    /// at start (10 s at most) and returns what it said.
    pub async fn search_ready(&self) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let health = self.request(Method::GET, None, "/healthz", None).await;
            if health.body["search"]["state"] == "ready" {
                return health.body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "search index not ready: {}",
                health.body
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Waits until the index has caught up after start and applied every change it heard.
    pub async fn settle_index(&self) {
        self.search_ready().await;
        // A change is heard a moment after its commit (a broadcast, or a NOTIFY).
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let text = self
                .client
                .get(format!("{}/metrics", self.base))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let pending = text
                .lines()
                .find(|l| l.starts_with("backline_search_pending_changes "))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok());
            if pending == Some(0.0) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "index did not settle");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Waits until the SMTP sink holds at least `n` messages (5 s at most) and returns them.
    pub async fn mail_until(&self, n: usize) -> Vec<backline_server::smtp_sink::Received> {
        let sink = self.mail.as_ref().expect("started with mail");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let got = sink.messages();
            if got.len() >= n {
                return got;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "expected {n} messages, got {}: {:?}",
                got.len(),
                got.iter().map(|m| (&m.to, m.subject())).collect::<Vec<_>>()
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Sends a raw message to the SMTP listener, as a mail server would; returns the final
    /// reply to DATA.
    pub async fn send_mail(&self, from: &str, to: &[&str], raw: &[u8]) -> String {
        let addr = self.smtp.expect("started with smtp_listen");
        smtp_send(addr, from, to, raw).await
    }

    /// Polls `check` until it gives `Some` (20 s at most: mail is placed and the notifier runs
    /// in the background, later on a busy machine).
    pub async fn until<T, F, Fut>(&self, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Some(found) = check().await {
                return found;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    /// Waits until the service-level sweep has evaluated every case changed so far.
    pub async fn settle_sla(&self) {
        let now = backline_domain::Timestamp::now();
        self.until("the service-level sweep", || async {
            (self.store.sla_backlog(now).await.unwrap() == 0).then_some(())
        })
        .await
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> Reply {
        self.request(Method::PUT, Some(token), path, Some(body))
            .await
    }

    pub async fn delete(&self, token: &str, path: &str) -> Reply {
        self.request(Method::DELETE, Some(token), path, None).await
    }

    /// Waits until no received message is pending any more, and returns them all.
    pub async fn mail_settled(&self) -> Vec<backline_store::mail::InboundSummary> {
        self.until("received mail to be placed", || async {
            let all = self.store.inbound_mails(None, 10_000).await.unwrap();
            all.iter()
                .all(|m| m.state != backline_domain::mail::InboundState::Pending)
                .then_some(all)
        })
        .await
    }

    /// Number of cases stored, read straight from the store.
    pub async fn case_count(&self) -> i64 {
        self.store.count_cases().await.unwrap()
    }
}

async fn seed(store: &Store) -> Tokens {
    let org = |slug: &str, kind: OrgKind, kinds: Vec<PartnerKind>, served_by| NewOrg {
        slug: slug.into(),
        name: slug.to_uppercase(),
        kind,
        partner_kinds: PartnerKinds::new(kinds),
        technical_level: (kind == OrgKind::Partner).then_some(TechnicalLevel::Expert),
        served_by,
    };
    let acme = store
        .create_org(&org(
            "acme",
            OrgKind::Partner,
            vec![PartnerKind::Reseller, PartnerKind::Frontline],
            None,
        ))
        .await
        .unwrap();
    let other = store
        .create_org(&org(
            "other",
            OrgKind::Partner,
            vec![PartnerKind::Implementer],
            None,
        ))
        .await
        .unwrap();
    let globex = store
        .create_org(&org("globex", OrgKind::Customer, vec![], Some(acme.id)))
        .await
        .unwrap();
    store
        .create_org(&org("umbrella", OrgKind::Customer, vec![], Some(other.id)))
        .await
        .unwrap();
    let initech = store
        .create_org(&org("initech", OrgKind::Customer, vec![], None))
        .await
        .unwrap();
    let hash = auth::hash_password(PASSWORD).unwrap();
    let token_for = async |email: &str, role: Role, org: Option<backline_domain::OrgId>| {
        let user = store
            .create_user(&NewUser {
                email: email.into(),
                name: email.split('@').next().unwrap().into(),
                role,
                org,
                tier: None,
                password_hash: Some(hash.clone()),
            })
            .await
            .unwrap();
        auth::issue_api_token(store, &user).await.unwrap()
    };
    Tokens {
        admin: token_for("admin@vendor.example", Role::Admin, None).await,
        agent: token_for("agent@vendor.example", Role::Agent, None).await,
        acme: token_for("tech@acme.example", Role::Partner, Some(acme.id)).await,
        other: token_for("tech@other.example", Role::Partner, Some(other.id)).await,
        globex: token_for("user@globex.example", Role::Customer, Some(globex.id)).await,
        initech: token_for("user@initech.example", Role::Customer, Some(initech.id)).await,
    }
}

/// Sends one message to the SMTP server at `addr` in a session of its own; returns the reply
/// to the end of DATA (`250 ...` when the message was taken).
pub async fn smtp_send(addr: std::net::SocketAddr, from: &str, to: &[&str], raw: &[u8]) -> String {
    let mut session = backline_server::smtp_client::SmtpSession::connect(addr)
        .await
        .expect("connect to SMTP");
    let reply = session.send(from, to, raw).await.expect("send over SMTP");
    let _ = session.quit().await;
    reply
}
