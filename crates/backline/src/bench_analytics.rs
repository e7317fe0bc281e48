//! `backline bench analytics`: the Insights dashboards at scale on SQLite. A store of
//! `cases` cases over two years (a quarter in work, spread over twenty categories, twenty
//! customers and three partners) first builds its daily rollups (the time is printed), then
//! answers each dashboard `requests` times for the default period (the last 30 days) and
//! for a whole year, and a filtered one (volume by category for one product) for the year;
//! p50 and p99 are printed. Each is also answered once with every case aggregated in SQL
//! (no rollups): that time, and whether the figures are the same, are printed beside.
//! Timed through the service the page and the API call (queries and aggregation; no HTTP
//! or rendering). Figures are printed, never asserted.
//!
//! Each case taken up has a first staff reply, so reply times have something to measure.

use crate::bench_lists::People;
use anyhow::Context;
use backline_domain::rollups::Day;
use backline_domain::Timestamp;
use backline_server::analytics::service::{self, FilterInput, TimesBy};
use backline_store::analytics::Dimension;
use backline_store::testing::{bulk_cases, BulkCases};
use backline_store::{Store, StoreConfig};
use std::time::Instant;

pub async fn run(cases: usize, requests: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("backline-bench-analytics-{}", std::process::id()));
    let result = measure(&dir, cases, requests.max(1)).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(dir: &std::path::Path, cases: usize, requests: usize) -> anyhow::Result<()> {
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
    let admin = store.user(admin).await?;
    let mut categories = Vec::new();
    for product in ["Backup", "Sync", "Vault", "Mail"] {
        let top = store.create_category(None, product).await?;
        for area in ["Install", "Performance", "Errors", "Licensing", "How-to"] {
            categories.push(store.create_category(Some(top), area).await?);
        }
    }
    let started = Instant::now();
    bulk_cases(
        &store,
        &BulkCases {
            count: cases,
            organizations,
            partners: served_by,
            requesters,
            agents,
            span_days: 730,
            now: Timestamp::now(),
            replies: true,
        },
    )
    .await?;
    let spread = store.spread_categories(&categories).await?;
    eprintln!(
        "stored {cases} cases ({spread} categorised) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let mut rebuilt = 0;
    loop {
        let round = store
            .refresh_rollups(Day::of(Timestamp::now()), 512)
            .await?;
        rebuilt += round.rebuilt;
        if round.rebuilt == 0 {
            break;
        }
    }
    let (days, rolled, bytes) = store.rollup_totals().await?;
    eprintln!(
        "built {rebuilt} daily rollups ({days} stored, {rolled} case facts, {:.1} MB) in {:.1} s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    println!("dashboard                       period     p50 ms   p99 ms   raw ms  same as raw");
    for (period, from) in [("30 days", None), ("365 days", Some(365))] {
        let input = FilterInput {
            from: from.map(|days: i64| {
                Timestamp::now()
                    .minus(backline_domain::Span::DAY.times(days))
                    .to_rfc3339()
            }),
            ..FilterInput::default()
        };
        let filters = service::resolve_filters(&store, &input, Timestamp::now()).await?;
        // Each dashboard `requests` times as served, then once over every case in SQL.
        macro_rules! time {
            ($name:expr, $filters:expr, |$f:ident| $call:expr) => {{
                let mut took = Vec::with_capacity(requests);
                let mut served = None;
                for _ in 0..requests {
                    let at = Instant::now();
                    let $f = &$filters;
                    served = Some($call.await?);
                    took.push(at.elapsed().as_secs_f64() * 1000.0);
                }
                took.sort_by(f64::total_cmp);
                let at = Instant::now();
                let reference = {
                    let $f = &service::Filters {
                        rollups: false,
                        ..$filters.clone()
                    };
                    $call.await?
                };
                let raw_ms = at.elapsed().as_secs_f64() * 1000.0;
                println!(
                    "{:<31} {:<9} {:>7.1} {:>8.1} {:>8.1}  {}",
                    $name,
                    period,
                    crate::stats::percentile(&took, 0.5),
                    crate::stats::percentile(&took, 0.99),
                    raw_ms,
                    if served.as_ref() == Some(&reference) {
                        "yes"
                    } else {
                        "NO"
                    }
                );
            }};
        }
        let now = Timestamp::now();
        time!("volume by category", filters, |f| service::volume(
            &store,
            &admin,
            Dimension::Category,
            f
        ));
        time!("volume by partner", filters, |f| service::volume(
            &store,
            &admin,
            Dimension::Partner,
            f
        ));
        time!("volume by organisation", filters, |f| service::volume(
            &store,
            &admin,
            Dimension::Organization,
            f
        ));
        time!("top drivers", filters, |f| service::drivers(
            &store, &admin, f
        ));
        time!("backlog and age", filters, |f| service::backlog(
            &store, &admin, f, now
        ));
        time!("times by tier", filters, |f| service::times(
            &store,
            &admin,
            TimesBy::Tier,
            f
        ));
        time!("times by support model", filters, |f| service::times(
            &store,
            &admin,
            TimesBy::SupportModel,
            f
        ));
        time!("outcomes", filters, |f| service::outcomes(
            &store, &admin, f
        ));
        time!("deflection", filters, |f| service::deflection(
            &store, &admin, f, now
        ));
        if from.is_some() {
            let sync = service::resolve_filters(
                &store,
                &FilterInput {
                    product: Some("sync".into()),
                    ..input.clone()
                },
                Timestamp::now(),
            )
            .await?;
            time!(
                "volume by category, one product",
                sync,
                |f| service::volume(&store, &admin, Dimension::Category, f)
            );
            time!("times by queue, one product", sync, |f| service::times(
                &store,
                &admin,
                TimesBy::Queue,
                f
            ));
        }
    }
    store.close().await;
    Ok(())
}
