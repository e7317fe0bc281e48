//! The dashboards' daily rollups (migration 0024): per UTC day and family (cases filed that
//! day, cases solved that day), each case's facts in one blob (`backline_domain::rollups`).
//!
//! Triggers on `cases` mark a day stale (`case_rollup_dirty`) in the transaction of any change
//! to a case's facts, so no write path can forget. A rollup is *current* while its day has no
//! such row, and only current rollups are read. [`Store::rebuild_rollup`] reads a day's cases,
//! writes its rollup and deletes the day's rows in one transaction: on SQLite the single
//! writer runs it alone; on PostgreSQL it runs under REPEATABLE READ, so it deletes only the
//! rows its snapshot saw (a change committed meanwhile keeps its row, and the day stays
//! stale), and two nodes rebuilding one day collide with a serialization failure instead of
//! one overwriting the other's newer rollup.

use crate::analytics::push_filter;
use crate::sql::{Arg, Sql};
use crate::{Backend, Result, Store, StoreError};
use backline_domain::analytics::CaseFilter;
use backline_domain::rollups::{self, CaseFacts, Day, Family};
use backline_domain::{OrgId, Span, Timestamp};

/// A case's facts as read from `cases`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FactRow {
    category_id: Option<i64>,
    product: Option<String>,
    partner_id: Option<i64>,
    organization_id: i64,
    channel: String,
    tier: i64,
    queue_id: Option<i64>,
    first_reply_ms: Option<i64>,
    resolution_ms: Option<i64>,
    handoffs: i64,
    reopens: i64,
    classification: Option<String>,
}

impl FactRow {
    pub fn facts(&self) -> CaseFacts<'_> {
        CaseFacts {
            category: self.category_id,
            product: self.product.as_deref(),
            partner: self.partner_id.map(OrgId),
            organization: OrgId(self.organization_id),
            channel: &self.channel,
            tier: self.tier,
            queue: self.queue_id,
            first_reply: self.first_reply_ms.map(Span::from_millis),
            resolution: self.resolution_ms.map(Span::from_millis),
            handoffs: self.handoffs,
            reopens: self.reopens,
            classification: self.classification.as_deref(),
        }
    }
}

const FACT_COLUMNS: &str = "c.category_id, c.product, c.partner_id, c.organization_id, c.channel, \
     c.tier, c.queue_id, c.first_reply_at - c.created_at AS first_reply_ms, \
     c.solved_at - c.created_at AS resolution_ms, c.handoffs, c.reopens, c.classification";

/// The column a family's days are counted by.
fn time_column(family: Family) -> &'static str {
    match family {
        Family::Filed => "c.created_at",
        Family::Solved => "c.solved_at",
    }
}

/// A day's current rollup, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRollup {
    pub day: Day,
    /// `backline_domain::rollups::encode`d facts.
    pub facts: Vec<u8>,
}

/// What one round of [`Store::refresh_rollups`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refreshed {
    /// Days rebuilt and now current.
    pub rebuilt: usize,
    /// Days another node's rebuild collided with (PostgreSQL); they stay stale for the
    /// next round.
    pub raced: usize,
}

impl Store {
    /// The current rollups of `family` for the days in `[first, end)`, oldest first. A day
    /// with none (never built, or stale) is left out: read it from the cases.
    pub async fn current_rollups(
        &self,
        family: Family,
        first: Day,
        end: Day,
    ) -> Result<Vec<StoredRollup>> {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT r.day, r.facts FROM case_rollups r \
             WHERE r.family = $1 AND r.day >= $2 AND r.day < $3 AND NOT EXISTS \
             (SELECT 1 FROM case_rollup_dirty d WHERE d.family = r.family AND d.day = r.day) \
             ORDER BY r.day",
        )
        .bind(family.as_str())
        .bind(first.0)
        .bind(end.0)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(day, facts)| StoredRollup {
                day: Day(day),
                facts,
            })
            .collect())
    }

    /// The facts of the cases whose family time (filing or solving) lies in `[from, to)`
    /// and that `filter` keeps, by id.
    pub async fn case_facts(
        &self,
        family: Family,
        from: Timestamp,
        to: Timestamp,
        filter: &CaseFilter,
    ) -> Result<Vec<FactRow>> {
        let column = time_column(family);
        let mut sql = Sql::new(&format!(
            "SELECT {FACT_COLUMNS} FROM cases c WHERE {column} >= "
        ));
        sql.bind(Arg::Int(from.as_millis()))
            .push(&format!(" AND {column} < "))
            .bind(Arg::Int(to.as_millis()));
        push_filter(filter, &mut sql);
        Ok(sql.query_as().fetch_all(&self.read).await?)
    }

    /// Days from 1970 to before `before` waiting for a rollup, newest first, at most `limit`.
    pub async fn stale_rollup_days(&self, before: Day, limit: i64) -> Result<Vec<(Family, Day)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT DISTINCT family, day FROM case_rollup_dirty WHERE day >= 0 AND day < $1 \
             ORDER BY day DESC, family LIMIT $2",
        )
        .bind(before.0)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(family, day)| {
                Family::parse(&family)
                    .map(|f| (f, Day(day)))
                    .ok_or_else(|| StoreError::Corrupt(format!("rollup family {family:?}")))
            })
            .collect()
    }

    /// How many days before `before` wait for a rollup.
    pub async fn rollups_waiting(&self, before: Day) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT DISTINCT family, day FROM case_rollup_dirty \
             WHERE day >= 0 AND day < $1) waiting",
        )
        .bind(before.0)
        .fetch_one(&self.read)
        .await?)
    }

    /// Rebuilds one day's rollup from its cases and marks it current, in one transaction.
    /// `Ok(false)`: another node rebuilt it at the same time (PostgreSQL's serialization
    /// failure); the day keeps whatever rows say it is stale.
    pub async fn rebuild_rollup(&self, family: Family, day: Day) -> Result<bool> {
        match self.rebuild_rollup_once(family, day).await {
            Ok(()) => Ok(true),
            Err(StoreError::Database(sqlx::Error::Database(e)))
                if matches!(e.code().as_deref(), Some("40001" | "40P01")) =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    async fn rebuild_rollup_once(&self, family: Family, day: Day) -> Result<()> {
        if day < Day(0) {
            return Err(StoreError::Invalid {
                field: "day",
                message: "days before 1970 are not rolled up".into(),
            });
        }
        let mut tx = self.write.begin().await?;
        if self.backend == Backend::Postgres {
            // One snapshot for the cases read and the stale rows deleted (see the module).
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await?;
        }
        let column = time_column(family);
        let rows: Vec<FactRow> = sqlx::query_as(&format!(
            "SELECT {FACT_COLUMNS} FROM cases c WHERE {column} >= $1 AND {column} < $2 ORDER BY c.id"
        ))
        .bind(day.start())
        .bind(day.end())
        .fetch_all(&mut *tx)
        .await?;
        let facts: Vec<CaseFacts<'_>> = rows.iter().map(FactRow::facts).collect();
        let encoded = rollups::encode(&facts);
        sqlx::query(
            "INSERT INTO case_rollups (family, day, cases, facts, built_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (family, day) DO UPDATE SET cases = excluded.cases, facts = excluded.facts, \
             built_at = excluded.built_at",
        )
        .bind(family.as_str())
        .bind(day.0)
        .bind(facts.len() as i64)
        .bind(encoded)
        .bind(Timestamp::now())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM case_rollup_dirty WHERE family = $1 AND day = $2")
            .bind(family.as_str())
            .bind(day.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rebuilds up to `limit` stale days before `before`, newest first, each in its own
    /// transaction (so writers wait for one day at most).
    pub async fn refresh_rollups(&self, before: Day, limit: i64) -> Result<Refreshed> {
        let mut done = Refreshed::default();
        for (family, day) in self.stale_rollup_days(before, limit).await? {
            if self.rebuild_rollup(family, day).await? {
                done.rebuilt += 1;
            } else {
                done.raced += 1;
            }
        }
        Ok(done)
    }

    /// Rollups stored (current or not): days, the cases they hold, and their bytes.
    pub async fn rollup_totals(&self) -> Result<(i64, i64, i64)> {
        Ok(sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(cases), 0) AS BIGINT), \
             CAST(COALESCE(SUM(LENGTH(facts)), 0) AS BIGINT) FROM case_rollups",
        )
        .fetch_one(&self.read)
        .await?)
    }

    /// Each queue's support model (`tiered` or `swarm`), by queue id.
    pub async fn queue_models(&self) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as("SELECT id, model FROM queues")
            .fetch_all(&self.read)
            .await?)
    }
}
