//! `backline bench lists`: case lists at scale on SQLite. A store of `cases` cases (a quarter
//! still in work) serves every built-in view and a saved one to concurrent agents: the first
//! page with its count, as `GET /api/v1/cases?view=...` answers it. Then case creation is
//! timed in alternating phases: with the service-level sweep idle, and while the sweep works
//! through every open case after an admin's policy change. Figures are printed, never
//! asserted.

use crate::bench::{drive, wait_healthy, Phase};
use anyhow::{bail, Context};
use backline_domain::sla::PolicyConditions;
use backline_domain::{OrgId, OrgKind, PartnerKind, PartnerKinds, Role, Span, Timestamp, UserId};
use backline_store::testing::{bulk_cases, BulkCases};
use backline_store::{NewOrg, NewUser, SlaPolicyInput, Store, StoreConfig};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const VIEWS: &[&str] = &[
    "mine",
    "active",
    "unassigned",
    "at-risk",
    "solved",
    "all",
    "saved",
];

/// How much work the benchmark does.
pub struct Load {
    pub cases: usize,
    /// Requests per view.
    pub requests: usize,
    pub clients: usize,
    /// Cases filed per creation phase.
    pub creates: usize,
    /// Sweeping creation phases, each between two idle ones.
    pub rounds: usize,
}

pub async fn run(load: Load, keep: bool) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("backline-bench-lists-{}", std::process::id()));
    let result = measure(&dir, &load).await;
    if keep {
        eprintln!("the store is kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn measure(dir: &std::path::Path, load: &Load) -> anyhow::Result<()> {
    let Load {
        cases,
        requests,
        clients,
        creates,
        rounds,
    } = *load;
    let store = Store::open(&StoreConfig::Sqlite {
        data_dir: dir.to_path_buf(),
    })
    .await
    .context("opening the benchmark store")?;

    let People {
        organizations,
        served_by,
        requesters,
        agents,
        admin,
    } = People::create(&store).await?;
    // One policy for every case, saved before the cases arrive (saving one sends every open
    // case to the sweep, which the second phase does on purpose).
    let policy = SlaPolicyInput {
        name: "Standard".into(),
        conditions: PolicyConditions::default(),
        calendar_id: None,
        first_reply: Span::hours(4),
        next_reply: Span::hours(8),
        resolution: Span::hours(72),
        warn_before: Span::HOUR,
    };
    let policy_id = store.save_sla_policy(None, &policy).await?;

    let started = Instant::now();
    bulk_cases(
        &store,
        &BulkCases {
            count: cases,
            organizations,
            partners: served_by,
            requesters: requesters.clone(),
            agents: agents.clone(),
            span_days: 730,
            now: Timestamp::now(),
            replies: false,
        },
    )
    .await?;
    eprintln!(
        "stored {cases} cases in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // A million cases arrived at once; a store that grew to them would have had its planner
    // statistics refreshed by the hourly optimisation on the way.
    store.analyze().await?;
    store
        .save_view(
            "High priority backup",
            "priority:high product:backup",
            "attention",
            None,
            admin,
        )
        .await?;
    let saved_view = store.saved_views(admin).await?[0].id;
    // A node in service has its search index caught up: build it offline first, as
    // `backline reindex` does, rather than measure lists while the indexer catches up.
    let started = Instant::now();
    {
        let index = backline_search::SearchIndex::open_for_bulk(&dir.join("index"))?;
        backline_server::indexer::rebuild(&store, &index).await?;
    }
    eprintln!("indexed in {:.1} s", started.elapsed().as_secs_f64());

    // The server, in this process, with the sweep idle until the second phase starts it.
    let mut config = backline_server::application::Config::new(store.clone());
    config.listen = "127.0.0.1:0".parse()?;
    config.index_dir = Some(dir.join("index"));
    config.sla_every = Duration::from_secs(24 * 3600);
    let app = backline_server::application::Application::build(config).await?;
    let base = app.base_url();
    let state = app.state().clone();
    tokio::spawn(async move { app.run_until(std::future::pending()).await });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    wait_healthy(&client, &base).await?;
    // Measure a settled node: its search index caught up with the stored cases.
    let started = Instant::now();
    loop {
        let health: serde_json::Value = client
            .get(format!("{base}/healthz"))
            .send()
            .await?
            .json()
            .await?;
        if health["search"]["state"] == "ready" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "search index caught up in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let agent_user = store.user(agents[0]).await?;
    let agent_token = backline_server::auth::issue_api_token(&store, &agent_user).await?;
    let customer_user = store.user(requesters[0]).await?;
    let customer_token = backline_server::auth::issue_api_token(&store, &customer_user).await?;

    // Every view's first page with its count, each by `clients` agents at once.
    println!("sqlite, {cases} cases, {clients} clients: first page of each view, with its count");
    let mut all = Vec::new();
    for view in VIEWS {
        let path = match *view {
            "saved" => format!("/api/v1/cases?view=v{saved_view}"),
            v => format!("/api/v1/cases?view={v}"),
        };
        let (client, base, token) = (client.clone(), base.clone(), agent_token.clone());
        let total = Arc::new(AtomicUsize::new(0));
        let seen = total.clone();
        let phase = drive("view", requests, clients, move |_| {
            let (client, url, token, seen) = (
                client.clone(),
                format!("{base}{path}"),
                token.clone(),
                seen.clone(),
            );
            async move {
                let reply = client.get(url).bearer_auth(&token).send().await?;
                if reply.status() != reqwest::StatusCode::OK {
                    bail!("list answered {}", reply.status());
                }
                let body: serde_json::Value = reply.json().await?;
                seen.store(
                    body["total"].as_u64().unwrap_or(0) as usize,
                    Ordering::Relaxed,
                );
                Ok(())
            }
        })
        .await?;
        println!(
            "  {view:<11} {:>8} cases   {:>7.0} pages/s   p50 {:>6.2} ms   p99 {:>6.2} ms",
            total.load(Ordering::Relaxed),
            phase.per_second(),
            phase.percentile(0.50),
            phase.percentile(0.99)
        );
        all.extend(phase.latencies);
    }
    all.sort();
    let every = Phase {
        name: "views",
        requests: all.len(),
        elapsed: Duration::ZERO,
        latencies: all,
    };
    println!(
        "  every view: p50 {:.2} ms   p99 {:.2} ms",
        every.percentile(0.50),
        every.percentile(0.99)
    );

    // Case creation, the sweep idle.
    let create = |label: &'static str| {
        let (client, base, token) = (client.clone(), base.clone(), customer_token.clone());
        drive(label, creates, clients, move |i| {
            let (client, base, token) = (client.clone(), base.clone(), token.clone());
            async move {
                let reply = client
                    .post(format!("{base}/api/v1/cases"))
                    .bearer_auth(&token)
                    .json(&json!({"subject": format!("New case {i}: sync is slow"), "description": "Since this morning.", "product": "Sync"}))
                    .send()
                    .await?;
                if reply.status() != reqwest::StatusCode::CREATED {
                    bail!("create answered {}", reply.status());
                }
                reply.bytes().await?;
                Ok(())
            }
        })
    };
    // Creation is measured on a settled node: after a bulk load the dashboards' rollup job
    // first rebuilds every stale day (minutes at a million cases), and creation beside that
    // work is not "the sweep idle".
    let started = Instant::now();
    loop {
        let waiting = store
            .rollups_waiting(backline_domain::rollups::Day::of(Timestamp::now()))
            .await?;
        if waiting == 0 {
            break;
        }
        if started.elapsed() > Duration::from_secs(1_800) {
            bail!("{waiting} days still wait for their rollup after half an hour");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "rollups caught up in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Creation alternates between the sweep idle and the sweep at work, ending idle: each
    // sweeping phase is compared with the mean of the idle phases on either side of it, so
    // what drifts between phases (the store grows by every phase's cases, caches warm) is not
    // counted as the sweep's doing, and no single noisy phase decides the figure.
    let mut idle = vec![create("idle").await?];
    // An admin changes the policy: every open case goes back to the sweep, which works
    // through them (as its job does, every second) while customers keep filing.
    store
        .save_sla_policy(
            Some(policy_id),
            &SlaPolicyInput {
                resolution: Span::hours(96),
                ..policy.clone()
            },
        )
        .await?;
    let backlog_before = store.sla_backlog(Timestamp::now()).await?;
    let mut busy = Vec::new();
    let mut swept_during = 0;
    for _ in 0..rounds {
        let waiting = store.sla_backlog(Timestamp::now()).await?;
        let sweeper = {
            let store = state.store.clone();
            tokio::spawn(async move {
                loop {
                    let _ = backline_server::sla::service::sweep(&store, Timestamp::now()).await;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            })
        };
        // Measure once the sweep is under way (the backlog shrinking), not while it starts.
        let sweep_started = Instant::now();
        while store.sla_backlog(Timestamp::now()).await? >= waiting {
            if sweep_started.elapsed() > Duration::from_secs(600) {
                bail!("the sweep did not start within ten minutes");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let backlog_at_start = store.sla_backlog(Timestamp::now()).await?;
        let phase = create("sweeping").await?;
        let backlog_after = store.sla_backlog(Timestamp::now()).await?;
        // Cases the sweep evaluated while the phase ran: the backlog it cleared, plus the
        // cases filed meanwhile (each new case joins the backlog once).
        swept_during += (backlog_at_start + phase.requests as i64 - backlog_after).max(0);
        // The sweep works through its whole backlog before it returns: stop it here (a batch
        // cut short is rolled back and evaluated again later).
        sweeper.abort();
        let _ = sweeper.await;
        busy.push(phase);
        idle.push(create("idle").await?);
    }
    let backlog_after = store.sla_backlog(Timestamp::now()).await?;

    for (round, phase) in busy.iter().enumerate() {
        for phase in [&idle[round], phase] {
            print_creation(phase);
        }
    }
    print_creation(&idle[rounds]);
    let mut changes: Vec<f64> = busy
        .iter()
        .enumerate()
        .map(|(round, phase)| {
            let around = (idle[round].per_second() + idle[round + 1].per_second()) / 2.0;
            (phase.per_second() / around - 1.0) * 100.0
        })
        .collect();
    let each: Vec<String> = changes.iter().map(|c| format!("{c:+.1} %")).collect();
    changes.sort_by(f64::total_cmp);
    let busy_seconds: f64 = busy.iter().map(|p| p.elapsed.as_secs_f64()).sum();
    println!(
        "creation while sweeping: median {:+.1} % throughput against the idle phases around \
         each ({}); the sweep evaluated about {swept_during} cases meanwhile ({:.0}/s; \
         {backlog_before} open cases to evaluate, {backlog_after} left)",
        crate::stats::percentile(&changes, 0.5),
        each.join(", "),
        swept_during as f64 / busy_seconds.max(1e-9)
    );
    Ok(())
}

fn print_creation(phase: &Phase) {
    println!(
        "sqlite create ({:<8}) {:>6} cases in {:>6.2} s = {:>7.0} /s   p50 {:>6.2} ms   p99 {:>6.2} ms",
        phase.name,
        phase.requests,
        phase.elapsed.as_secs_f64(),
        phase.per_second(),
        phase.percentile(0.50),
        phase.percentile(0.99)
    );
}

/// The people of a benchmark store: three partners serving half of twenty customers (one
/// requester each), twenty agents and an admin.
pub(crate) struct People {
    pub(crate) organizations: Vec<OrgId>,
    /// Each customer's serving partner, in the order of `organizations`.
    pub(crate) served_by: Vec<Option<OrgId>>,
    pub(crate) requesters: Vec<UserId>,
    pub(crate) agents: Vec<UserId>,
    pub(crate) admin: UserId,
}

impl People {
    pub(crate) async fn create(store: &Store) -> anyhow::Result<People> {
        let mut partners = Vec::new();
        for p in 0..3 {
            partners.push(
                store
                    .create_org(&NewOrg {
                        slug: format!("partner-{p}"),
                        name: format!("Partner {p}"),
                        kind: OrgKind::Partner,
                        partner_kinds: PartnerKinds::new(vec![PartnerKind::Reseller]),
                        technical_level: None,
                        served_by: None,
                    })
                    .await?
                    .id,
            );
        }
        let (mut organizations, mut served_by, mut requesters) =
            (Vec::new(), Vec::new(), Vec::new());
        for c in 0..20 {
            let partner = (c % 2 == 0).then(|| partners[c % 3]);
            let org = store
                .create_org(&NewOrg {
                    slug: format!("customer-{c}"),
                    name: format!("Customer {c}"),
                    kind: OrgKind::Customer,
                    partner_kinds: PartnerKinds::default(),
                    technical_level: None,
                    served_by: partner,
                })
                .await?;
            requesters.push(
                user(
                    store,
                    &format!("user{c}@customer.example"),
                    Role::Customer,
                    Some(org.id),
                )
                .await?,
            );
            organizations.push(org.id);
            served_by.push(partner);
        }
        let mut agents = Vec::new();
        for a in 0..20 {
            agents.push(
                user(
                    store,
                    &format!("agent{a}@vendor.example"),
                    Role::Agent,
                    None,
                )
                .await?,
            );
        }
        let admin = user(store, "admin@vendor.example", Role::Admin, None).await?;
        Ok(People {
            organizations,
            served_by,
            requesters,
            agents,
            admin,
        })
    }
}

async fn user(
    store: &Store,
    email: &str,
    role: Role,
    org: Option<OrgId>,
) -> anyhow::Result<UserId> {
    Ok(store
        .create_user(&NewUser {
            email: email.into(),
            name: email.split('@').next().unwrap_or(email).into(),
            role,
            org,
            tier: None,
            password_hash: None,
        })
        .await?
        .id)
}
