//! `backline bench`: performance figures, printed, never asserted.
//!
//! `bench api` runs the real server as a child process (so its memory is its own), fills the
//! store, then drives it over HTTP with concurrent clients: case creations, then reads of the
//! cases created. It prints throughput, latency percentiles and the server's peak RSS.

use anyhow::{bail, Context};
use backline_domain::{
    Channel, OrgKind, PartnerKind, PartnerKinds, Priority, Role, TechnicalLevel, Tier,
};
use backline_store::{NewCase, NewOrg, NewUser, Store, StoreConfig};
use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Case creation and read throughput over HTTP against a real server.
    Api {
        /// Benchmark PostgreSQL at this URL (use an empty database); SQLite in a temporary
        /// folder otherwise.
        #[arg(long, env = "BACKLINE_BENCH_DATABASE_URL")]
        database_url: Option<String>,
        /// Cases stored before measuring (the memory figure is taken with these in place).
        #[arg(long, default_value_t = 0)]
        preload: usize,
        /// Cases created over HTTP.
        #[arg(long, default_value_t = 20_000)]
        cases: usize,
        /// Case reads over HTTP.
        #[arg(long, default_value_t = 100_000)]
        reads: usize,
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 32)]
        clients: usize,
    },
    /// Mail through the SMTP listener into cases: messages/s, 250-to-visible latency, and
    /// how long a large message holds up the ones behind it.
    Mail {
        /// Benchmark PostgreSQL at this URL (use an empty database); SQLite in a temporary
        /// folder otherwise.
        #[arg(long, env = "BACKLINE_BENCH_DATABASE_URL")]
        database_url: Option<String>,
        #[arg(long, default_value_t = 5_000)]
        messages: usize,
        /// Bytes of text per message.
        #[arg(long, default_value_t = 20_000)]
        size: usize,
        /// Concurrent SMTP sessions.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Size of the large message sent at the end, in MB (0: none).
        #[arg(long, default_value_t = 30)]
        huge_mb: usize,
        /// Offer messages at this rate (per second, all sessions together) instead of as fast
        /// as the listener takes them: latency is then measured under a steady load, not a
        /// growing queue.
        #[arg(long)]
        rate: Option<f64>,
    },
    /// Known-issue matching quality on a GitBugs-format project (reports and duplicate pairs).
    KnownIssues {
        /// Reports CSV: Summary, Issue id, and if present Created (`30/Sep/21 17:20` or
        /// `2020-01-02 17:14:21+00:00`), Affects Version/s, Description.
        #[arg(long)]
        reports: PathBuf,
        /// Pairs CSV: an issue id and its duplicate (or, on one row, its duplicate group).
        #[arg(long)]
        pairs: PathBuf,
        /// Also learn weights from the pairs, judged by k-fold cross-validation (0: skip).
        #[arg(long, default_value_t = 0)]
        learn_folds: usize,
    },
    /// Case lists at scale on SQLite: every view's first page with its count, and case
    /// creation with and without the service-level sweep working through all open cases.
    Lists {
        #[arg(long, default_value_t = 1_000_000)]
        cases: usize,
        /// Requests per measured phase.
        #[arg(long, default_value_t = 2_000)]
        requests: usize,
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Cases filed in each creation phase (sweep idle, then sweep working).
        #[arg(long, default_value_t = 5_000)]
        creates: usize,
        /// Sweeping creation phases, each between two idle ones.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Leave the store's folder behind (its path is printed) to study its queries.
        #[arg(long)]
        keep: bool,
    },
    /// The Insights dashboards at scale on SQLite: each dashboard's p50 and p99 for the last
    /// 30 days and the last year, over `cases` cases spread across two years.
    Analytics {
        #[arg(long, default_value_t = 1_000_000)]
        cases: usize,
        /// Times each dashboard is asked per period.
        #[arg(long, default_value_t = 20)]
        requests: usize,
    },
    /// The staff case page over HTTP (session cookie, known-issue suggestions and all)
    /// against a real server: pages/s and latency with concurrent clients.
    CasePage {
        /// Benchmark PostgreSQL at this URL (use an empty database); SQLite in a temporary
        /// folder otherwise.
        #[arg(long, env = "BACKLINE_BENCH_DATABASE_URL")]
        database_url: Option<String>,
        /// Cases stored before measuring (a third of them solved, so they answer the others).
        #[arg(long, default_value_t = 3_000)]
        cases: usize,
        /// Knowledge articles stored before measuring.
        #[arg(long, default_value_t = 60)]
        articles: usize,
        /// Distinct cases whose pages are fetched, over and over.
        #[arg(long, default_value_t = 500)]
        pages_of: usize,
        /// Case pages fetched while measuring.
        #[arg(long, default_value_t = 50_000)]
        requests: usize,
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 8)]
        clients: usize,
    },
    /// The public help centre on SQLite: article pages, search pages and suggestions over
    /// `articles` public articles, fetched anonymously; latency and the largest page.
    /// (`help-centre`, as clap keeps `help` for itself.)
    #[command(name = "help-centre")]
    Help {
        #[arg(long, default_value_t = 10_000)]
        articles: usize,
        /// Requests per measured phase.
        #[arg(long, default_value_t = 2_000)]
        requests: usize,
        /// Concurrent HTTP clients (one: no queueing, so latency is close to server time).
        #[arg(long, default_value_t = 1)]
        clients: usize,
        /// Community posts stored too (a question with three answers per four posts); with
        /// any, question pages and likely-answer lookups are measured as well.
        #[arg(long, default_value_t = 0)]
        posts: usize,
    },
    /// Search index at scale: build time, disk size and query latency over generated cases.
    Search {
        #[arg(long, default_value_t = 1_000_000)]
        cases: usize,
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
        /// Build the index in this folder and leave it there; if it already holds one, query
        /// it without building (to measure a change to searching alone).
        #[arg(long)]
        index: Option<PathBuf>,
    },
    /// Auto-categorisation on labelled texts (CSV `text,label`; `oos`: no category applies):
    /// in-scope accuracy, `oos` recall, macro-F1, per-case latency and training time.
    Categorize {
        #[arg(long)]
        train: PathBuf,
        #[arg(long)]
        test: PathBuf,
        /// Also measure a categoriser whose threshold is judged on this file too.
        #[arg(long)]
        validation: Option<PathBuf>,
    },
}

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Api {
            database_url,
            preload,
            cases,
            reads,
            clients,
        } => api(database_url, preload, cases, reads, clients.max(1)).await,
        BenchCommand::Mail {
            database_url,
            messages,
            size,
            clients,
            huge_mb,
            rate,
        } => crate::bench_mail::run(database_url, messages, size, clients, huge_mb, rate).await,
        BenchCommand::KnownIssues {
            reports,
            pairs,
            learn_folds,
        } => crate::bench_known::run(
            &reports,
            &pairs,
            learn_folds,
            backline_search::MatchWeights::default(),
        ),
        BenchCommand::Search {
            cases,
            queries,
            index,
        } => crate::bench_search::run(cases, queries, index),
        BenchCommand::Help {
            articles,
            requests,
            clients,
            posts,
        } => crate::bench_help::run(articles, requests, clients, posts).await,
        BenchCommand::Lists {
            cases,
            requests,
            clients,
            creates,
            rounds,
            keep,
        } => {
            let load = crate::bench_lists::Load {
                cases,
                requests,
                clients: clients.max(1),
                creates,
                rounds: rounds.max(1),
            };
            crate::bench_lists::run(load, keep).await
        }
        BenchCommand::Analytics { cases, requests } => {
            crate::bench_analytics::run(cases, requests).await
        }
        BenchCommand::Categorize {
            train,
            test,
            validation,
        } => crate::bench_categorize::run(&train, &test, validation.as_deref()),
        BenchCommand::CasePage {
            database_url,
            cases,
            articles,
            pages_of,
            requests,
            clients,
        } => {
            let temp =
                std::env::temp_dir().join(format!("backline-bench-page-{}", std::process::id()));
            let config = match &database_url {
                Some(url) => StoreConfig::from_flags(&temp, Some(url))?,
                None => StoreConfig::Sqlite {
                    data_dir: temp.clone(),
                },
            };
            let result = case_page(
                &config,
                cases.max(1),
                articles,
                pages_of.clamp(1, cases.max(1)),
                requests,
                clients.max(1),
            )
            .await;
            if database_url.is_none() {
                let _ = std::fs::remove_dir_all(&temp);
            }
            result
        }
    }
}

pub(crate) struct Phase {
    pub(crate) name: &'static str,
    pub(crate) requests: usize,
    pub(crate) elapsed: Duration,
    pub(crate) latencies: Vec<Duration>,
}

impl Phase {
    pub(crate) fn percentile(&self, p: f64) -> f64 {
        let ms: Vec<f64> = self
            .latencies
            .iter()
            .map(|d| d.as_secs_f64() * 1000.0)
            .collect();
        crate::stats::percentile(&ms, p)
    }

    pub(crate) fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

async fn api(
    database_url: Option<String>,
    preload: usize,
    cases: usize,
    reads: usize,
    clients: usize,
) -> anyhow::Result<()> {
    let temp = std::env::temp_dir().join(format!("backline-bench-{}", std::process::id()));
    let config = match &database_url {
        Some(url) => StoreConfig::from_flags(&temp, Some(url))?,
        None => StoreConfig::Sqlite {
            data_dir: temp.clone(),
        },
    };
    let result = run_api(&config, preload, cases, reads, clients).await;
    if database_url.is_none() {
        let _ = std::fs::remove_dir_all(&temp);
    }
    result
}

async fn run_api(
    config: &StoreConfig,
    preload: usize,
    cases: usize,
    reads: usize,
    clients: usize,
) -> anyhow::Result<()> {
    let backend = match config {
        StoreConfig::Sqlite { .. } => "sqlite",
        StoreConfig::Postgres { .. } => "postgres",
    };
    let store = Store::open(config)
        .await
        .context("opening the benchmark store")?;
    let suffix = backline_domain::Timestamp::now().as_millis();
    let partner = store
        .create_org(&NewOrg {
            slug: format!("bench-partner-{suffix}"),
            name: "Bench Partner".into(),
            kind: OrgKind::Partner,
            partner_kinds: PartnerKinds::new(vec![PartnerKind::Reseller]),
            technical_level: Some(TechnicalLevel::Expert),
            served_by: None,
        })
        .await?;
    let customer_slug = format!("bench-customer-{suffix}");
    let customer = store
        .create_org(&NewOrg {
            slug: customer_slug.clone(),
            name: "Bench Customer".into(),
            kind: OrgKind::Customer,
            partner_kinds: PartnerKinds::default(),
            technical_level: None,
            served_by: Some(partner.id),
        })
        .await?;
    let tech = store
        .create_user(&NewUser {
            email: format!("tech-{suffix}@bench.example"),
            name: "Bench Tech".into(),
            role: Role::Partner,
            org: Some(partner.id),
            tier: None,
            password_hash: None,
        })
        .await?;
    let token = backline_server::auth::issue_api_token(&store, &tech).await?;
    if preload > 0 {
        let started = Instant::now();
        for i in 0..preload {
            store
                .create_case(&NewCase {
                    subject: format!("Preloaded case {i}: backup job fails on node {}", i % 97),
                    description: description(i),
                    priority: Priority::Normal,
                    product: Some("Backup".into()),
                    channel: Channel::Api,
                    tier: Tier::L1,
                    tags: Vec::new(),
                    organization: customer.id,
                    partner: Some(partner.id),
                    requester: tech.id,
                    created_at: None,
                    routing: None,
                    escalation: None,
                })
                .await?;
        }
        eprintln!(
            "preloaded {preload} cases in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    store.close().await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut command = tokio::process::Command::new(std::env::current_exe()?);
    command.args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
    match config {
        StoreConfig::Sqlite { data_dir } => command.arg("--data").arg(data_dir),
        StoreConfig::Postgres { url } => command.arg("--database-url").arg(url),
    };
    command
        .env("BACKLINE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true);
    let mut server = command.spawn().context("starting the server")?;
    let pid = server.id().context("server pid")?;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    wait_healthy(&client, &base).await?;

    let created = Arc::new(std::sync::Mutex::new(Vec::with_capacity(cases)));
    let create = {
        let (client, base, token, created, customer_slug) = (
            client.clone(),
            base.clone(),
            token.clone(),
            created.clone(),
            customer_slug.clone(),
        );
        drive("create", cases, clients, move |i| {
            let (client, base, token, created, customer_slug) = (client.clone(), base.clone(), token.clone(), created.clone(), customer_slug.clone());
            async move {
                let reply = client
                    .post(format!("{base}/api/v1/cases"))
                    .bearer_auth(&token)
                    .json(&json!({"subject": format!("Bench case {i}: restore is slow"), "description": description(i), "on_behalf_of": customer_slug, "product": "Backup"}))
                    .send()
                    .await?;
                if reply.status() != reqwest::StatusCode::CREATED {
                    bail!("create answered {}", reply.status());
                }
                let body: serde_json::Value = reply.json().await?;
                let id = body["id"].as_i64().context("created case without id")?;
                created.lock().unwrap_or_else(|p| p.into_inner()).push(id);
                Ok(())
            }
        })
        .await?
    };
    let ids = Arc::new(created.lock().unwrap_or_else(|p| p.into_inner()).clone());
    if ids.is_empty() && reads > 0 {
        bail!("no cases were created to read back");
    }
    let read = {
        let (client, base, token, ids) = (client.clone(), base.clone(), token.clone(), ids.clone());
        drive("read", reads, clients, move |i| {
            let (client, base, token, ids) =
                (client.clone(), base.clone(), token.clone(), ids.clone());
            async move {
                // A stride through the created ids, so reads are spread and not all cached rows.
                let id = ids[(i * 7919) % ids.len()];
                let reply = client
                    .get(format!("{base}/api/v1/cases/{id}"))
                    .bearer_auth(&token)
                    .send()
                    .await?;
                if reply.status() != reqwest::StatusCode::OK {
                    bail!("read answered {}", reply.status());
                }
                reply.bytes().await?;
                Ok(())
            }
        })
        .await?
    };
    let (peak_rss_kb, rss_kb) = memory_of(pid);
    let _ = server.kill().await;

    let total = preload + cases;
    for phase in [&create, &read] {
        println!(
            "{backend} {:<6} {:>8} requests in {:>6.2} s = {:>9.0} /s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({clients} clients)",
            phase.name,
            phase.requests,
            phase.elapsed.as_secs_f64(),
            phase.per_second(),
            phase.percentile(0.50),
            phase.percentile(0.99),
        );
    }
    println!(
        "{backend} server peak RSS {:.1} MB (now {:.1} MB) with {total} cases stored",
        peak_rss_kb as f64 / 1024.0,
        rss_kb as f64 / 1024.0
    );
    println!(
        "{}",
        json!({
            "bench": "api", "backend": backend, "clients": clients, "cases_stored": total,
            "create_per_s": create.per_second().round(), "create_p50_ms": create.percentile(0.5), "create_p99_ms": create.percentile(0.99),
            "read_per_s": read.per_second().round(), "read_p50_ms": read.percentile(0.5), "read_p99_ms": read.percentile(0.99),
            "server_peak_rss_mb": (peak_rss_kb as f64 / 1024.0 * 10.0).round() / 10.0,
        })
    );
    Ok(())
}

/// Words the case-page benchmark's cases and articles are made of: a few dozen problems,
/// each reported many times in slightly different words, as support sees them.
const PAGE_COMPONENTS: &[&str] = &[
    "backup agent",
    "restore service",
    "dedup index",
    "web console",
    "license server",
    "snapshot manager",
    "sync client",
    "vault appliance",
    "audit log export",
    "sso login",
];
const PAGE_SYMPTOMS: &[&str] = &[
    "fails with a timeout",
    "stops after the upgrade",
    "uses all memory",
    "reports quota exceeded",
    "cannot connect through the proxy",
    "loses its settings",
];

fn page_case_text(i: usize) -> (String, String) {
    let component = PAGE_COMPONENTS[i % PAGE_COMPONENTS.len()];
    let symptom = PAGE_SYMPTOMS[(i / PAGE_COMPONENTS.len()) % PAGE_SYMPTOMS.len()];
    let code = 1000 + (i % (PAGE_COMPONENTS.len() * PAGE_SYMPTOMS.len()));
    (
        format!("The {component} {symptom} (BK-{code})"),
        format!(
            "Since version 7.{} the {component} {symptom} on node {}. The log shows error BK-{code} \
             and repeated retries. We restarted the service twice.",
            i % 4,
            i % 97
        ),
    )
}

/// The staff case page: a store with cases (a third solved) and articles, a real server, an
/// agent signed in with a session cookie, and `clients` clients fetching the pages of
/// `pages_of` cases over and over. Prints the first pass over those pages (suggestions that
/// the server's suggester had not kept yet are worked out then) and the measured run.
async fn case_page(
    config: &StoreConfig,
    cases: usize,
    articles: usize,
    pages_of: usize,
    requests: usize,
    clients: usize,
) -> anyhow::Result<()> {
    use backline_domain::{ArticleContent, ArticleState, Audience, CaseStatus};
    use backline_store::{CaseChanges, NewArticle};
    let backend = match config {
        StoreConfig::Sqlite { .. } => "sqlite",
        StoreConfig::Postgres { .. } => "postgres",
    };
    let store = Store::open(config)
        .await
        .context("opening the benchmark store")?;
    let suffix = backline_domain::Timestamp::now().as_millis();
    let partner = store
        .create_org(&NewOrg {
            slug: format!("bench-partner-{suffix}"),
            name: "Bench Partner".into(),
            kind: OrgKind::Partner,
            partner_kinds: PartnerKinds::new(vec![PartnerKind::Reseller]),
            technical_level: Some(TechnicalLevel::Expert),
            served_by: None,
        })
        .await?;
    let customer = store
        .create_org(&NewOrg {
            slug: format!("bench-customer-{suffix}"),
            name: "Bench Customer".into(),
            kind: OrgKind::Customer,
            partner_kinds: PartnerKinds::default(),
            technical_level: None,
            served_by: Some(partner.id),
        })
        .await?;
    let password = "bench-case-page";
    let agent_email = format!("agent-{suffix}@bench.example");
    let agent = store
        .create_user(&NewUser {
            email: agent_email.clone(),
            name: "Bench Agent".into(),
            role: Role::Agent,
            org: None,
            tier: Some(Tier::L1),
            password_hash: Some(
                backline_server::auth::hash_password(password)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            ),
        })
        .await?;
    let requester = store
        .create_user(&NewUser {
            email: format!("customer-{suffix}@bench.example"),
            name: "Bench Customer".into(),
            role: Role::Customer,
            org: Some(customer.id),
            tier: None,
            password_hash: None,
        })
        .await?;
    let started = Instant::now();
    for i in 0..articles {
        let (title, text) = page_case_text(i);
        store
            .create_article(&NewArticle {
                content: ArticleContent {
                    title,
                    issue: text,
                    resolution: "Upgrade the agent and rerun the job.".into(),
                    ..ArticleContent::default()
                },
                state: ArticleState::Validated,
                audience: Audience::Public,
                author: agent.id,
                source_case: None,
                at: None,
            })
            .await?;
    }
    let mut page_ids = Vec::with_capacity(pages_of);
    for i in 0..cases {
        let (subject, description) = page_case_text(i);
        let case = store
            .create_case(&NewCase {
                subject,
                description,
                priority: Priority::Normal,
                product: Some("Backup".into()),
                channel: Channel::Web,
                tier: Tier::L1,
                tags: Vec::new(),
                organization: customer.id,
                partner: Some(partner.id),
                requester: requester.id,
                created_at: None,
                routing: None,
                escalation: None,
            })
            .await?;
        if i % 3 == 0 {
            store
                .update_case(
                    case.id,
                    &CaseChanges {
                        status: Some(CaseStatus::Solved),
                        ..Default::default()
                    },
                    agent.id,
                )
                .await?;
        } else if page_ids.len() < pages_of {
            page_ids.push(case.id.0);
        }
    }
    eprintln!(
        "stored {cases} cases and {articles} articles in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let token = backline_server::auth::issue_api_token(&store, &agent).await?;
    store.close().await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut command = tokio::process::Command::new(std::env::current_exe()?);
    command.args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
    command.args(["--secure-cookies", "false"]);
    match config {
        StoreConfig::Sqlite { data_dir } => command.arg("--data").arg(data_dir),
        StoreConfig::Postgres { url } => command.arg("--database-url").arg(url),
    };
    command
        .env("BACKLINE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true);
    let mut server = command.spawn().context("starting the server")?;
    let pid = server.id().context("server pid")?;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    wait_healthy(&client, &base).await?;
    wait_search_ready(&client, &base).await?;
    let signed_in = client
        .post(format!("{base}/login"))
        .form(&[
            ("email", agent_email.as_str()),
            ("password", password),
            ("next", "/cases"),
        ])
        .send()
        .await?;
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("signing in gave no session cookie")?
        .to_string();

    let ids = Arc::new(page_ids);
    let fetch = {
        let (client, base, cookie, ids) =
            (client.clone(), base.clone(), cookie.clone(), ids.clone());
        move |i: usize| {
            let (client, base, cookie, ids) =
                (client.clone(), base.clone(), cookie.clone(), ids.clone());
            async move {
                // A stride through the cases, so consecutive requests read different pages.
                let id = ids[(i * 7919) % ids.len()];
                let reply = client
                    .get(format!("{base}/cases/{id}"))
                    .header("cookie", &cookie)
                    .send()
                    .await?;
                if reply.status() != reqwest::StatusCode::OK {
                    bail!("case page {id} answered {}", reply.status());
                }
                let page = reply.text().await?;
                if !page.contains("id=\"knowledge\"") {
                    bail!("case page {id} has no knowledge panel");
                }
                anyhow::Ok(())
            }
        }
    };
    // The same cases through the API, for scale: the page's suggestions alone, and a plain
    // case read (one query), under the same load as the pages.
    let api = |what: &'static str| {
        let (client, base, token, ids) = (client.clone(), base.clone(), token.clone(), ids.clone());
        move |i: usize| {
            let (client, base, token, ids) =
                (client.clone(), base.clone(), token.clone(), ids.clone());
            async move {
                let id = ids[(i * 7919) % ids.len()];
                let path = match what {
                    "suggestions" => format!("{base}/api/v1/cases/{id}/suggestions?limit=5"),
                    _ => format!("{base}/api/v1/cases/{id}"),
                };
                let reply = client.get(path).bearer_auth(&token).send().await?;
                if reply.status() != reqwest::StatusCode::OK {
                    bail!("{what} of case {id} answered {}", reply.status());
                }
                reply.bytes().await?;
                anyhow::Ok(())
            }
        }
    };
    let first = drive("first", ids.len(), clients, fetch.clone()).await?;
    let measured = drive("pages", requests, clients, fetch).await?;
    let suggestions = drive("suggestions", requests, clients, api("suggestions")).await?;
    let reads = drive("read", requests, clients, api("read")).await?;
    let (peak_rss_kb, _) = memory_of(pid);
    let _ = server.kill().await;
    for phase in [&first, &measured] {
        println!(
            "{backend} staff case page {:<6} {:>7} pages in {:>6.2} s = {:>7.0} pages/s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({clients} clients, {} distinct cases)",
            phase.name,
            phase.requests,
            phase.elapsed.as_secs_f64(),
            phase.per_second(),
            phase.percentile(0.50),
            phase.percentile(0.99),
            ids.len(),
        );
    }
    for phase in [&suggestions, &reads] {
        println!(
            "{backend} API {:<11} {:>7} requests in {:>6.2} s = {:>7.0} /s   p50 {:>6.2} ms   p99 {:>6.2} ms",
            phase.name,
            phase.requests,
            phase.elapsed.as_secs_f64(),
            phase.per_second(),
            phase.percentile(0.50),
            phase.percentile(0.99),
        );
    }
    println!(
        "{}",
        json!({
            "bench": "case-page", "backend": backend, "clients": clients, "cases_stored": cases,
            "articles": articles, "distinct_pages": ids.len(),
            "first_pass_per_s": first.per_second().round(), "first_pass_p99_ms": first.percentile(0.99),
            "pages_per_s": measured.per_second().round(), "p50_ms": measured.percentile(0.5), "p99_ms": measured.percentile(0.99),
            "api_suggestions_per_s": suggestions.per_second().round(), "api_suggestions_p99_ms": suggestions.percentile(0.99),
            "api_read_per_s": reads.per_second().round(), "api_read_p99_ms": reads.percentile(0.99),
            "server_peak_rss_mb": (peak_rss_kb as f64 / 1024.0 * 10.0).round() / 10.0,
        })
    );
    Ok(())
}

/// Waits until the server's search index has caught up with the store (suggestions need it).
pub(crate) async fn wait_search_ready(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        if let Ok(reply) = client.get(format!("{base}/healthz")).send().await {
            if let Ok(health) = reply.json::<serde_json::Value>().await {
                if health["search"]["state"] == "ready" {
                    return Ok(());
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the search index did not catch up")
}

fn description(i: usize) -> String {
    format!(
        "Restoring a mailbox from snapshot {} takes hours since the upgrade to 7.{}. The agent log shows \
         repeated retries against the dedup index and error BK-{} before it continues.",
        i % 31,
        i % 4,
        1000 + i % 211
    )
}

/// Runs `total` calls of `call(i)` with `clients` concurrent workers, timing each.
pub(crate) async fn drive<F, Fut>(
    name: &'static str,
    total: usize,
    clients: usize,
    call: F,
) -> anyhow::Result<Phase>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let call = Arc::new(call);
    let started = Instant::now();
    let mut workers = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (next, call) = (next.clone(), call.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t = Instant::now();
                call(i).await?;
                latencies.push(t.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Ok(Phase {
        name,
        requests: total,
        elapsed,
        latencies,
    })
}

pub(crate) async fn wait_healthy(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(reply) = client.get(format!("{base}/healthz")).send().await {
            if reply.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server did not become healthy")
}

/// Peak and current resident set size of a process, in kB, from /proc (0 where unavailable).
fn memory_of(pid: u32) -> (u64, u64) {
    let status =
        std::fs::read_to_string(PathBuf::from(format!("/proc/{pid}/status"))).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}
