//! `backline bench search`: the search index at scale. Generates cases with realistic support
//! text (products, components, symptoms, error codes, versions, customers and partners),
//! builds an index on disk, and times queries of the kinds people type, each under a real
//! reader's visibility (staff, a partner, a customer): the first page of rows with the total,
//! as `/api/v1/search` asks for it.

use backline_domain::query::{DocType, SearchQuery};
use backline_domain::{Actor, OrgId, Role, UserId};
use backline_search::{IndexDoc, SearchIndex, Sort, Visibility};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;

const PRODUCTS: &[&str] = &["backup", "vault", "sync", "gateway", "analytics"];
const COMPONENTS: &[&str] = &[
    "agent",
    "scheduler",
    "restore service",
    "dedup index",
    "web console",
    "replication",
    "license server",
    "snapshot manager",
    "proxy",
    "storage pool",
    "audit log",
    "sso login",
];
const SYMPTOMS: &[&str] = &[
    "fails with",
    "hangs after",
    "crashes during",
    "is slow when",
    "reports wrong totals after",
    "stops responding after",
    "throws an exception on",
    "loses settings after",
    "cannot connect after",
    "uses too much memory during",
];
const TRIGGERS: &[&str] = &[
    "upgrade",
    "nightly job",
    "certificate renewal",
    "failover",
    "large restore",
    "password change",
    "network outage",
    "daylight saving change",
    "disk full",
    "proxy change",
    "reboot",
    "schema migration",
];
const DETAILS: &[&str] = &[
    "The log shows repeated retries",
    "Customers see a timeout in the console",
    "It started after the maintenance window",
    "Only some nodes are affected",
    "The problem goes away after a restart",
    "We collected the support bundle",
    "CPU stays at 100 percent",
    "The queue keeps growing",
    "No errors appear in the event log",
    "It happens every night at the same time",
];
const QUERY_WORDS: &[&str] = &[
    "restore slow",
    "agent crash",
    "certificate renewal",
    "dedup index",
    "timeout console",
    "license server",
    "failover",
    "memory",
    "snapshot",
    "proxy connect",
    "nightly job",
    "replication",
];

fn generated(i: usize, rng: &mut StdRng) -> IndexDoc {
    let product = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
    let component = COMPONENTS[rng.gen_range(0..COMPONENTS.len())];
    let symptom = SYMPTOMS[rng.gen_range(0..SYMPTOMS.len())];
    let trigger = TRIGGERS[rng.gen_range(0..TRIGGERS.len())];
    let version = format!(
        "{}.{}.{}",
        rng.gen_range(5..9),
        rng.gen_range(0..10),
        rng.gen_range(0..20)
    );
    let code = format!(
        "{}-{}",
        &product[..2].to_uppercase(),
        rng.gen_range(1000..1300)
    );
    let org = rng.gen_range(0..20_000_i64);
    // One customer in five is served through one of 200 partners.
    let partner = (org % 5 == 0).then_some(100_000 + org % 200);
    let detail_a = DETAILS[rng.gen_range(0..DETAILS.len())];
    let detail_b = DETAILS[rng.gen_range(0..DETAILS.len())];
    let status = ["new", "open", "pending", "solved", "closed"][rng.gen_range(0..5)];
    IndexDoc {
        kind: Some(DocType::Case),
        id: i as i64 + 1,
        title: format!("{} {component} {symptom} {trigger}", capitalise(product)),
        body: format!("Since version {version} the {component} {symptom} the {trigger}. Error {code}. {detail_a}. {detail_b}. Host node-{}.", rng.gen_range(1..500)),
        created_at_ms: 1_600_000_000_000 + i as i64 * 60_000,
        org_id: Some(org),
        partner_id: partner,
        public: true,
        status: Some(status.into()),
        priority: Some(["low", "normal", "high", "urgent"][rng.gen_range(0..4)].into()),
        products: vec![product.into()],
        org_slug: Some(format!("customer-{org}")),
        partner_slug: partner.map(|p| format!("partner-{p}")),
        solved: matches!(status, "solved" | "closed"),
        versions: vec![version],
        ..Default::default()
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// The kinds of query the benchmark types, in turn (`i % 5`).
const QUERY_KINDS: [&str; 5] = [
    "words",
    "quoted phrase",
    "words status:open priority:high",
    "code product:x",
    "words type:case",
];

pub fn run(cases: usize, queries: usize, keep: Option<PathBuf>) -> anyhow::Result<()> {
    if let Some(dir) = keep {
        let built = dir.join("meta.json").exists();
        if built {
            eprintln!("querying the index already in {}", dir.display());
        }
        return run_in(&dir, cases, queries, !built);
    }
    let dir = std::env::temp_dir().join(format!("backline-bench-search-{}", std::process::id()));
    let result = run_in(&dir, cases, queries, true);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_in(dir: &Path, cases: usize, queries: usize, build: bool) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(7);
    let started = Instant::now();
    if build {
        let index = SearchIndex::open_for_bulk(dir)?;
        let mut batch = Vec::with_capacity(10_000);
        let mut comment_id = 0;
        for i in 0..cases {
            let case = generated(i, &mut rng);
            // Zero to two comments a case, one in five an internal note: search folds them
            // under their case, and readers outside the vendor must not count the notes.
            for _ in 0..rng.gen_range(0..3) {
                comment_id += 1;
                batch.push(IndexDoc {
                    kind: Some(DocType::Comment),
                    id: comment_id,
                    case_id: Some(case.id),
                    body: format!(
                        "{}. {}.",
                        DETAILS[rng.gen_range(0..DETAILS.len())],
                        QUERY_WORDS[rng.gen_range(0..QUERY_WORDS.len())]
                    ),
                    public: rng.gen_range(0..5) != 0,
                    solved: false,
                    answered_by: Vec::new(),
                    ..case.clone()
                });
            }
            batch.push(case);
            if batch.len() >= 10_000 {
                index.upsert(&batch)?;
                batch.clear();
            }
        }
        index.upsert(&batch)?;
        index.commit(cases as i64)?;
    }
    let build_s = started.elapsed().as_secs_f64();
    let disk_mb = dir_size(dir) as f64 / 1_048_576.0;
    if build {
        eprintln!(
            "indexed {cases} cases and their comments in {build_s:.1} s, {disk_mb:.0} MB on disk"
        );
    }

    let index = SearchIndex::open(dir)?;
    let readers = [
        Visibility::everything(),
        Visibility::for_actor(&Actor {
            limits: Default::default(),
            user_id: UserId(1),
            role: Role::Partner,
            org_id: Some(OrgId(100_040)),
        }),
        Visibility::for_actor(&Actor {
            limits: Default::default(),
            user_id: UserId(2),
            role: Role::Customer,
            org_id: Some(OrgId(1234)),
        }),
    ];
    let mut times = Vec::with_capacity(queries);
    // The same latencies by kind of query, so a slow kind shows by name.
    let mut by_kind: [Vec<f64>; 5] = Default::default();
    let mut total_hits = 0;
    let mut total_rows = 0;
    for i in 0..queries {
        let words = QUERY_WORDS[i % QUERY_WORDS.len()];
        let text = match i % 5 {
            0 => words.to_string(),
            1 => format!("\"{}\"", TRIGGERS[i % TRIGGERS.len()]),
            2 => format!("{words} status:open priority:high"),
            3 => format!(
                "{}-{} product:{}",
                &PRODUCTS[i % PRODUCTS.len()][..2],
                1000 + i % 300,
                PRODUCTS[i % PRODUCTS.len()]
            ),
            _ => format!("{words} type:case"),
        };
        let query = SearchQuery::parse(&text)?;
        let sort = if i % 7 == 0 {
            Sort::Newest
        } else {
            Sort::Relevance
        };
        // The first page as the product asks for it: rows (cases with their comments folded,
        // articles), counted in full, 20 shown.
        let t = Instant::now();
        let page = index.search_rows(&query, &readers[i % readers.len()], sort, 0, 20)?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        times.push(ms);
        by_kind[i % 5].push(ms);
        total_hits += page.rows.len();
        total_rows += page.total;
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| crate::stats::percentile(&times, p);
    let round = |x: f64| (x * 100.0).round() / 100.0;
    for (name, kind) in QUERY_KINDS.iter().zip(by_kind.iter_mut()) {
        kind.sort_by(f64::total_cmp);
        eprintln!(
            "  {name:<28} p50 {:>7.2} ms   p99 {:>7.2} ms",
            crate::stats::percentile(kind, 0.5),
            crate::stats::percentile(kind, 0.99)
        );
    }
    println!(
        "{}",
        json!({
            "bench": "search", "cases": cases, "queries": queries, "hits": total_hits,
            "mean_total": total_rows / queries.max(1),
            "build_s": round(build_s), "disk_mb": round(disk_mb),
            "query_p50_ms": round(pct(0.5)), "query_p99_ms": round(pct(0.99)), "query_max_ms": round(pct(1.0)),
        })
    );
    Ok(())
}
