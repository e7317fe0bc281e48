//! `backline bench analytics`: the Insights dashboards at scale on SQLite. A store of
//! `cases` cases over two years (a quarter in work, spread over twenty categories, twenty
//! customers and three partners) answers each dashboard `requests` times for the default
//! period (the last 30 days) and for a whole year; p50 and p99 are printed. Timed through
//! the service the page and the API call (queries and aggregation; no HTTP or rendering).
//! Figures are printed, never asserted.
//!
//! Each case taken up has a first staff reply, so reply times have something to measure.

use crate::bench_lists::People;
use anyhow::Context;
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

    println!("dashboard                     period      p50 ms   p99 ms");
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
        macro_rules! time {
            ($name:expr, $call:expr) => {{
                let mut took = Vec::with_capacity(requests);
                for _ in 0..requests {
                    let at = Instant::now();
                    $call.await?;
                    took.push(at.elapsed().as_secs_f64() * 1000.0);
                }
                took.sort_by(f64::total_cmp);
                println!(
                    "{:<29} {:<10} {:>7.1} {:>8.1}",
                    $name,
                    period,
                    crate::stats::percentile(&took, 0.5),
                    crate::stats::percentile(&took, 0.99)
                );
            }};
        }
        let now = Timestamp::now();
        time!(
            "volume by category",
            service::volume(&store, &admin, Dimension::Category, &filters)
        );
        time!(
            "volume by partner",
            service::volume(&store, &admin, Dimension::Partner, &filters)
        );
        time!(
            "volume by organisation",
            service::volume(&store, &admin, Dimension::Organization, &filters)
        );
        time!("top drivers", service::drivers(&store, &admin, &filters));
        time!(
            "backlog and age",
            service::backlog(&store, &admin, &filters, now)
        );
        time!(
            "times by tier",
            service::times(&store, &admin, TimesBy::Tier, &filters)
        );
        time!(
            "times by support model",
            service::times(&store, &admin, TimesBy::SupportModel, &filters)
        );
        time!("outcomes", service::outcomes(&store, &admin, &filters));
        time!(
            "deflection",
            service::deflection(&store, &admin, &filters, now)
        );
    }
    store.close().await;
    Ok(())
}
