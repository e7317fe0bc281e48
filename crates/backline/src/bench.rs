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
    },
    /// Search index at scale: build time, disk size and query latency over generated cases.
    Search {
        #[arg(long, default_value_t = 1_000_000)]
        cases: usize,
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
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
        BenchCommand::Search { cases, queries } => crate::bench_search::run(cases, queries),
        BenchCommand::Lists {
            cases,
            requests,
            clients,
        } => crate::bench_lists::run(cases, requests, clients.max(1)).await,
        BenchCommand::Categorize {
            train,
            test,
            validation,
        } => crate::bench_categorize::run(&train, &test, validation.as_deref()),
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
