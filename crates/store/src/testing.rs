//! Helpers for tests that need a real database of either kind. Used by this crate's tests
//! and by the server's; they never run in production code paths.

use crate::{StoreConfig, StoreError};
use sqlx::Executor;
use std::sync::atomic::{AtomicU32, Ordering};

/// The environment variable naming the private PostgreSQL server `scripts/test` starts.
pub const PG_URL_VAR: &str = "BACKLINE_TEST_PG_URL";

/// A fresh, empty PostgreSQL database on the test server, for one test.
///
/// Panics with instructions when the server is not configured: a PostgreSQL test that cannot
/// reach PostgreSQL must fail, not pass silently.
pub async fn fresh_postgres() -> StoreConfig {
    let admin_url = std::env::var(PG_URL_VAR).unwrap_or_else(|_| {
        panic!("{PG_URL_VAR} is not set: run the suite with scripts/test, which starts a private PostgreSQL")
    });
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "backline_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        backline_domain::Timestamp::now().as_millis() % 1_000_000
    );
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .expect("connect to the test PostgreSQL server");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .map_err(StoreError::Database)
        .expect("create a test database");
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(base, _)| base);
    StoreConfig::Postgres {
        url: format!("{base}/{name}"),
    }
}

/// Runs a statement on the store's database outside any store method, for tests that need to
/// break something underneath a running server (drop or rename a table, say).
pub async fn execute_raw(store: &crate::Store, sql: &str) -> crate::Result<()> {
    sqlx::query(sql).execute(&store.write).await?;
    Ok(())
}

/// One row of any query, for tests that look at what is stored.
pub async fn query_one<T>(store: &crate::Store, sql: &str) -> crate::Result<T>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    Ok(sqlx::query_as(sql).fetch_one(&store.read).await?)
}

/// A SQLite store in a temporary folder that lives as long as the returned guard.
pub fn fresh_sqlite() -> (StoreConfig, tempfile_guard::TempDir) {
    let dir = tempfile_guard::TempDir::new();
    (
        StoreConfig::Sqlite {
            data_dir: dir.path().to_path_buf(),
        },
        dir,
    )
}

/// A minimal temporary directory, so the library does not depend on a test-only crate.
pub mod tempfile_guard {
    use std::path::{Path, PathBuf};

    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new() -> Self {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let path = std::env::temp_dir().join(format!(
                "backline-test-{}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed),
                backline_domain::Timestamp::now().as_millis()
            ));
            std::fs::create_dir_all(&path).expect("create a temporary directory");
            TempDir(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Default for TempDir {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// What [`bulk_cases`] spreads its cases over.
#[derive(Debug, Clone)]
pub struct BulkCases {
    pub count: usize,
    pub organizations: Vec<backline_domain::OrgId>,
    /// Each organisation's serving partner, if any (same order as `organizations`).
    pub partners: Vec<Option<backline_domain::OrgId>>,
    pub requesters: Vec<backline_domain::UserId>,
    pub agents: Vec<backline_domain::UserId>,
    /// Cases are spread over the `span_days` days before `now`.
    pub span_days: i64,
    pub now: backline_domain::Timestamp,
    /// Give each case in work or done (not `new`) with an assignee a first public reply
    /// from that agent, within eight hours of its filing and before its last change, and
    /// set its `first_reply_at` as the comment's transaction does: what reply-time figures
    /// are computed from.
    pub replies: bool,
}

/// Stores `spec.count` cases with their `created` events quickly, for benchmarks at scale: a
/// quarter still in work (new, open, pending, on hold, with service-level due times and
/// states as the sweep would have left them), the rest solved or closed; assignees,
/// priorities and products spread as a real queue's are. Multi-row inserts in transactions
/// of 5,000 cases; the ids follow on from whatever the store holds.
pub async fn bulk_cases(store: &crate::Store, spec: &BulkCases) -> crate::Result<()> {
    use backline_domain::{CaseStatus, Priority};
    const PER_TX: usize = 5_000;
    const PER_STATEMENT: usize = 500;
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move |n: usize| -> usize {
        // xorshift64*: plenty for spreading rows, and no dependency for a test helper. The
        // top 53 bits: 31 (as this once kept) cap a draw at 2^31, and a draw of milliseconds
        // then spread two years of cases over 25 days.
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        (seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as usize % n.max(1)
    };
    let products = ["Backup", "Sync", "Vault", "Mail"];
    let span_ms = spec.span_days.max(1) * 86_400_000;
    let mut done = 0;
    while done < spec.count {
        let in_tx = PER_TX.min(spec.count - done);
        let mut tx = store.write.begin().await?;
        let mut written = 0;
        while written < in_tx {
            let rows = PER_STATEMENT.min(in_tx - written);
            let mut sql = String::from(
                "INSERT INTO cases (subject, description, status, priority, tier, product, channel, \
                 tags, organization_id, requester_id, partner_id, created_at, updated_at, \
                 assignee_id, solved_at, sla_due_at, sla_state) VALUES ",
            );
            let mut values = Vec::with_capacity(rows);
            for r in 0..rows {
                let i = done + written + r;
                let org = next(spec.organizations.len());
                let age = next(span_ms as usize) as i64;
                let created = spec.now.as_millis() - age;
                let updated = created + (age / 3);
                let status = match next(100) {
                    0..=39 => CaseStatus::Closed,
                    40..=74 => CaseStatus::Solved,
                    75..=81 => CaseStatus::New,
                    82..=91 => CaseStatus::Open,
                    92..=96 => CaseStatus::Pending,
                    _ => CaseStatus::OnHold,
                };
                let priority = [
                    Priority::Low,
                    Priority::Normal,
                    Priority::Normal,
                    Priority::High,
                    Priority::Urgent,
                ][next(5)];
                let assignee = (status != CaseStatus::New || next(2) == 0)
                    .then(|| spec.agents[next(spec.agents.len())].0);
                let (solved, due, state) = if status.is_active() {
                    let due = spec.now.as_millis() - 3_600_000 * 24 + next(3_600_000 * 96) as i64;
                    let state = if due < spec.now.as_millis() {
                        "breached"
                    } else if due < spec.now.as_millis() + 3_600_000 {
                        "warning"
                    } else {
                        "ok"
                    };
                    (None, Some(due), Some(state))
                } else {
                    (Some(updated), None, Some("achieved"))
                };
                let sql_text = |t: Option<i64>| t.map_or("NULL".to_string(), |v| v.to_string());
                values.push(format!(
                    "('Case {i}: {} job stops on node {}', 'The {} job stopped with error {} after {} minutes.', \
                     '{}', '{}', {}, '{}', 'web', '[]', {}, {}, {}, {created}, {updated}, {}, {}, {}, {})",
                    products[i % products.len()].to_lowercase(),
                    i % 97,
                    products[i % products.len()],
                    1000 + i % 300,
                    i % 60,
                    status.as_str(),
                    priority.as_str(),
                    1 + next(3),
                    products[i % products.len()].to_lowercase(),
                    spec.organizations[org].0,
                    spec.requesters[next(spec.requesters.len())].0,
                    spec.partners[org].map_or("NULL".to_string(), |p| p.0.to_string()),
                    sql_text(assignee),
                    sql_text(solved),
                    sql_text(due),
                    state.map_or("NULL".to_string(), |s| format!("'{s}'")),
                ));
            }
            sql.push_str(&values.join(", "));
            sqlx::query(&sql).execute(&mut *tx).await?;
            written += rows;
        }
        if spec.replies {
            sqlx::query(
                "INSERT INTO comments (case_id, author_id, body, public, created_at) \
                 SELECT id, assignee_id, 'Thanks, we are looking into it.', 1, \
                 CASE WHEN created_at + (id * 7919) % 28800000 < updated_at \
                 THEN created_at + (id * 7919) % 28800000 ELSE updated_at END FROM cases \
                 WHERE id > (SELECT COALESCE(MAX(case_id), 0) FROM case_events) \
                 AND status <> 'new' AND assignee_id IS NOT NULL",
            )
            .execute(&mut *tx)
            .await?;
            // Kept on the case as the comment's transaction keeps it.
            sqlx::query(
                "UPDATE cases SET first_reply_at = \
                 CASE WHEN created_at + (id * 7919) % 28800000 < updated_at \
                 THEN created_at + (id * 7919) % 28800000 ELSE updated_at END \
                 WHERE id > (SELECT COALESCE(MAX(case_id), 0) FROM case_events) \
                 AND status <> 'new' AND assignee_id IS NOT NULL",
            )
            .execute(&mut *tx)
            .await?;
        }
        // Each case's `created` event, which the service-level clocks start from.
        sqlx::query(
            "INSERT INTO case_events (case_id, actor_id, kind, data, created_at) \
             SELECT id, requester_id, 'created', '{}', created_at FROM cases \
             WHERE id > (SELECT COALESCE(MAX(case_id), 0) FROM case_events)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        done += in_tx;
    }
    Ok(())
}

/// Overwrites a day's stored rollup with `facts` (encoded), leaving whether it is current
/// alone: for tests that show which days a dashboard reads from rollups.
pub async fn replace_rollup(
    store: &crate::Store,
    family: backline_domain::rollups::Family,
    day: backline_domain::rollups::Day,
    facts: Vec<u8>,
) -> crate::Result<u64> {
    Ok(
        sqlx::query("UPDATE case_rollups SET facts = $1 WHERE family = $2 AND day = $3")
            .bind(facts)
            .bind(family.as_str())
            .bind(day.0)
            .execute(&store.write)
            .await?
            .rows_affected(),
    )
}
