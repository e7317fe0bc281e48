//! Case categories, each case's category and suggestion, the categoriser's training rows,
//! and the counts behind the analytics dashboards.
//!
//! Dashboards aggregate in SQL (counts grouped by a time bucket and one dimension) so the
//! rows crossing to the server stay few; medians and p90 are ranked in SQL, only the ranks
//! read coming back. Whole days of a period are read from the daily rollups instead
//! (`rollups.rs`); these queries answer for the rest, and over every case when asked to.

use crate::cases::record_event;
use crate::sql::{Arg, Sql};
use crate::versions::{advance, Versioned};
use crate::{Result, Store, StoreError};
use backline_domain::{CaseId, Timestamp, UserId};
use serde_json::json;

/// A category as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Category {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub retired_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Moves on with every rename, move, retirement or restoration.
    pub version: i64,
}

/// A case's category and the categoriser's suggestion, as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CaseCategory {
    pub case_id: CaseId,
    pub category_id: Option<i64>,
    pub categorized_by: Option<UserId>,
    pub categorized_at: Option<Timestamp>,
    pub suggested_category_id: Option<i64>,
    /// Basis points.
    pub suggestion_confidence: Option<i64>,
    pub suggested_at: Option<Timestamp>,
}

/// A categorised case to learn from.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TrainingRow {
    pub subject: String,
    pub description: String,
    pub category_id: i64,
}

/// A case waiting for a suggestion.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UnsuggestedCase {
    pub id: CaseId,
    pub subject: String,
    pub description: String,
}

pub use backline_domain::analytics::{CaseFilter, Dimension, TimesGroup};

/// A dimension's column, and whether it holds an id (`key_id`) or text (`key_text`).
fn dimension_column(dimension: Dimension) -> (&'static str, bool) {
    match dimension {
        Dimension::Category => ("c.category_id", true),
        Dimension::Product => ("c.product", false),
        Dimension::Partner => ("c.partner_id", true),
        Dimension::Channel => ("c.channel", false),
        Dimension::Organization => ("c.organization_id", true),
        Dimension::Tier => ("c.tier", true),
        Dimension::Queue => ("c.queue_id", true),
    }
}

/// A grouping column as the `key_id` / `key_text` pair the grouped rows are read into.
fn key_select((column, id): (&str, bool)) -> String {
    if id {
        format!("{column} AS key_id, CAST(NULL AS TEXT) AS key_text")
    } else {
        format!("CAST(NULL AS BIGINT) AS key_id, {column} AS key_text")
    }
}

/// `AND ...` for each condition of a filter (the SQL of `CaseFilter::admits`).
pub(crate) fn push_filter(filter: &CaseFilter, sql: &mut Sql) {
    sql.push_in(
        "c.category_id",
        filter.categories.iter().map(|c| Arg::Int(*c)),
    );
    let mut eq = |column: &str, arg: Option<Arg>| {
        if let Some(arg) = arg {
            sql.push(" AND ").push(column).push(" = ").bind(arg);
        }
    };
    eq("c.product", filter.product.clone().map(Arg::Text));
    eq("c.partner_id", filter.partner.map(|p| Arg::Int(p.0)));
    eq(
        "c.organization_id",
        filter.organization.map(|o| Arg::Int(o.0)),
    );
    eq("c.channel", filter.channel.clone().map(Arg::Text));
    eq("c.tier", filter.tier.map(Arg::Int));
    eq("c.queue_id", filter.queue.map(Arg::Int));
}

/// Cases of one bucket and one key. `key_id` or `key_text` holds the key, by dimension;
/// both `None`: cases without one (no category, no partner...).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BucketCount {
    pub bucket: i64,
    pub key_id: Option<i64>,
    pub key_text: Option<String>,
    pub n: i64,
}

/// Open cases of one status in one age band.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BacklogCount {
    pub status: String,
    pub band: i64,
    pub n: i64,
}

fn times_column(group: TimesGroup) -> (&'static str, bool) {
    match group {
        TimesGroup::Tier => ("c.tier", true),
        TimesGroup::Queue => ("c.queue_id", true),
        TimesGroup::Partner => ("c.partner_id", true),
        TimesGroup::SupportModel => ("q.model", false),
    }
}

/// The cases of one group of a period: how many, their hand-offs, and reopenings.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TimesCount {
    pub key_id: Option<i64>,
    pub key_text: Option<String>,
    pub cases: i64,
    /// Escalations, queue moves and reassignments, all cases together.
    pub handoffs: i64,
    /// Cases solved at least once (solved now, or reopened since).
    pub solved: i64,
    /// Cases reopened after solving.
    pub reopened: i64,
}

/// Which duration of a case a [`RankedDuration`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Filing to the first public reply by vendor staff.
    FirstReply,
    /// Filing to solving.
    Resolution,
}

/// One duration of a group, at a rank the caller asked for: the `position`-th smallest
/// (0-based) of the group's `group_size`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RankedDuration {
    pub key_id: Option<i64>,
    pub key_text: Option<String>,
    pub group_size: i64,
    pub position: i64,
    pub ms: i64,
}

/// A name for an id (organisations, queues).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Named {
    pub id: i64,
    pub name: String,
}

const CATEGORY_COLUMNS: &str = "id, parent_id, name, retired_at, created_at, updated_at, version";

impl Store {
    /// Every category, retired ones too, by name.
    pub async fn categories(&self) -> Result<Vec<Category>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {CATEGORY_COLUMNS} FROM categories ORDER BY name, id"
        ))
        .fetch_all(&self.read)
        .await?)
    }

    pub async fn create_category(&self, parent: Option<i64>, name: &str) -> Result<i64> {
        let now = Timestamp::now();
        sqlx::query_scalar(
            "INSERT INTO categories (parent_id, name, created_at, updated_at) \
             VALUES ($1, $2, $3, $3) RETURNING id",
        )
        .bind(parent)
        .bind(name)
        .bind(now)
        .fetch_one(&self.write)
        .await
        .map_err(StoreError::unique(
            "a category of that name is already there; choose another name",
        ))
    }

    /// Renames and moves a category in one step; with `expected`, only while it is at that
    /// version ([`StoreError::Stale`] otherwise). Answers the new version.
    pub async fn update_category(
        &self,
        id: i64,
        parent: Option<i64>,
        name: &str,
        expected: Option<i64>,
    ) -> Result<i64> {
        let mut tx = self.write.begin().await?;
        let version = advance(&mut tx, Versioned::Category, Arg::Int(id), expected).await?;
        sqlx::query(
            "UPDATE categories SET parent_id = $1, name = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(parent)
        .bind(name)
        .bind(Timestamp::now())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::unique(
            "a category of that name is already there; choose another name",
        ))?;
        tx.commit().await?;
        Ok(version)
    }

    /// Retires categories (a node and its subtree, as the service lists them) or brings
    /// them back: their cases keep them, but no case takes them and nothing learns them.
    pub async fn set_categories_retired(&self, ids: &[i64], retired: bool) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        for id in ids {
            sqlx::query(
                "UPDATE categories SET retired_at = $1, updated_at = $2, version = version + 1 \
                 WHERE id = $3",
            )
            .bind(retired.then_some(now))
            .bind(now)
            .bind(*id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn case_category(&self, case: CaseId) -> Result<CaseCategory> {
        sqlx::query_as(
            "SELECT id AS case_id, category_id, categorized_by, categorized_at, \
             suggested_category_id, suggestion_confidence, suggested_at FROM cases WHERE id = $1",
        )
        .bind(case)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)
    }

    /// Sets (or clears) a case's category and records who did it and what the suggestion
    /// was, in one transaction. The category is checked to exist and not be retired inside
    /// it, so a category retired meanwhile is not given.
    pub async fn set_case_category(
        &self,
        case: CaseId,
        category: Option<i64>,
        actor: UserId,
    ) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        let before: Option<(Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT category_id, suggested_category_id FROM cases WHERE id = $1")
                .bind(case)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((from, suggested)) = before else {
            return Err(StoreError::NotFound);
        };
        if let Some(category) = category {
            let usable: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM categories WHERE id = $1 AND retired_at IS NULL",
            )
            .bind(category)
            .fetch_optional(&mut *tx)
            .await?;
            if usable.is_none() {
                return Err(StoreError::Invalid {
                    field: "category_id",
                    message: "choose a category that exists and is not retired".into(),
                });
            }
        }
        if from == category {
            return Ok(());
        }
        sqlx::query(
            "UPDATE cases SET category_id = $1, categorized_by = $2, categorized_at = $3 WHERE id = $4",
        )
        .bind(category)
        .bind(category.map(|_| actor))
        .bind(category.map(|_| now))
        .bind(case)
        .execute(&mut *tx)
        .await?;
        record_event(
            &mut tx,
            case,
            Some(actor),
            "category_changed",
            json!({ "from": from, "to": category, "suggested": suggested }),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest `limit` categorised cases whose category is in use, to learn from.
    pub async fn training_rows(&self, limit: i64) -> Result<Vec<TrainingRow>> {
        Ok(sqlx::query_as(
            "SELECT c.subject, c.description, c.category_id FROM cases c \
             JOIN categories k ON k.id = c.category_id \
             WHERE c.categorized_at IS NOT NULL AND k.retired_at IS NULL \
             ORDER BY c.categorized_at DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    /// Cases given or changed a category after `after`.
    pub async fn labels_since(&self, after: Timestamp) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE categorized_at > $1")
                .bind(after)
                .fetch_one(&self.read)
                .await?,
        )
    }

    /// Cases filed since `since` that have neither a category nor a suggestion, oldest first.
    pub async fn unsuggested_cases(
        &self,
        since: Timestamp,
        limit: i64,
    ) -> Result<Vec<UnsuggestedCase>> {
        Ok(sqlx::query_as(
            "SELECT id, subject, description FROM cases \
             WHERE suggested_at IS NULL AND created_at >= $1 AND category_id IS NULL \
             ORDER BY created_at, id LIMIT $2",
        )
        .bind(since)
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    /// Stores a suggestion (`None`: uncategorised) unless the case got one meanwhile (from
    /// another node, or staff categorised it).
    pub async fn set_suggestion(
        &self,
        case: CaseId,
        category: Option<i64>,
        confidence_bp: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE cases SET suggested_category_id = $1, suggestion_confidence = $2, suggested_at = $3 \
             WHERE id = $4 AND suggested_at IS NULL AND category_id IS NULL",
        )
        .bind(category)
        .bind(confidence_bp)
        .bind(Timestamp::now())
        .bind(case)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets the suggestions of uncategorised cases filed since `since`, so a newly
    /// fitted categoriser suggests again for them.
    pub async fn clear_suggestions(&self, since: Timestamp) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE cases SET suggested_category_id = NULL, suggestion_confidence = NULL, suggested_at = NULL \
             WHERE created_at >= $1 AND category_id IS NULL AND suggested_at IS NOT NULL",
        )
        .bind(since)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected())
    }

    /// Cases filed in `[from, to)` counted by bucket (`width` ms from `origin`) and
    /// `dimension`. A `width` as long as the period gives one bucket: totals per key.
    pub async fn case_volume(
        &self,
        dimension: Dimension,
        from: Timestamp,
        to: Timestamp,
        origin: i64,
        width: i64,
        filter: &CaseFilter,
    ) -> Result<Vec<BucketCount>> {
        let mut sql = Sql::new("SELECT ((c.created_at - ");
        sql.bind(Arg::Int(origin))
            .push(") / ")
            .bind(Arg::Int(width.max(1)))
            .push(") AS bucket, ")
            .push(&key_select(dimension_column(dimension)))
            .push(", COUNT(*) AS n FROM cases c WHERE c.created_at >= ")
            .bind(Arg::Int(from.as_millis()))
            .push(" AND c.created_at < ")
            .bind(Arg::Int(to.as_millis()));
        push_filter(filter, &mut sql);
        sql.push(" GROUP BY 1, ")
            .push(dimension_column(dimension).0);
        let mut rows: Vec<BucketCount> = sql.query_as().fetch_all(&self.read).await?;
        // Bucket numbers to the bucket's start.
        for row in &mut rows {
            row.bucket = row.bucket * width.max(1) + origin;
        }
        Ok(rows)
    }

    /// Solved cases of `[from, to)` by bucket of their solving and by classification.
    pub async fn classification_volume(
        &self,
        from: Timestamp,
        to: Timestamp,
        origin: i64,
        width: i64,
        filter: &CaseFilter,
    ) -> Result<Vec<BucketCount>> {
        let mut sql = Sql::new("SELECT ((c.solved_at - ");
        sql.bind(Arg::Int(origin))
            .push(") / ")
            .bind(Arg::Int(width.max(1)))
            .push(") AS bucket, CAST(NULL AS BIGINT) AS key_id, c.classification AS key_text, COUNT(*) AS n \
                   FROM cases c WHERE c.solved_at >= ")
            .bind(Arg::Int(from.as_millis()))
            .push(" AND c.solved_at < ")
            .bind(Arg::Int(to.as_millis()));
        push_filter(filter, &mut sql);
        sql.push(" GROUP BY 1, c.classification");
        let mut rows: Vec<BucketCount> = sql.query_as().fetch_all(&self.read).await?;
        for row in &mut rows {
            row.bucket = row.bucket * width.max(1) + origin;
        }
        Ok(rows)
    }

    /// Categories with at least one case answered by a validated article.
    pub async fn categories_with_validated_articles(&self) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT c.category_id FROM case_links l \
             JOIN cases c ON c.id = l.case_id JOIN articles a ON a.id = l.article_id \
             WHERE a.state = 'validated' AND c.category_id IS NOT NULL",
        )
        .fetch_all(&self.read)
        .await?)
    }

    /// Cases in work now by status and age band; `band_starts` are the creation times that
    /// separate the bands, newest first (a case newer than the first is in band 0).
    pub async fn backlog(
        &self,
        band_starts: &[Timestamp],
        filter: &CaseFilter,
    ) -> Result<Vec<BacklogCount>> {
        let mut sql = Sql::new("SELECT c.status AS status, CASE");
        for (i, start) in band_starts.iter().enumerate() {
            sql.push(" WHEN c.created_at > ")
                .bind(Arg::Int(start.as_millis()))
                .push(&format!(" THEN {i}"));
        }
        sql.push(&format!(
            " ELSE {} END AS band, COUNT(*) AS n FROM cases c \
             WHERE c.status IN ('new', 'open', 'pending', 'on_hold')",
            band_starts.len()
        ));
        push_filter(filter, &mut sql);
        sql.push(" GROUP BY 1, 2");
        Ok(sql.query_as().fetch_all(&self.read).await?)
    }

    /// Cases filed in `[from, to)` by group: counts, hand-offs and reopenings, kept on each
    /// case as its history happens (`first_reply_at`, `handoffs`, `reopens`), so one index
    /// over the period answers.
    pub async fn times_counts(
        &self,
        group: TimesGroup,
        from: Timestamp,
        to: Timestamp,
        filter: &CaseFilter,
    ) -> Result<Vec<TimesCount>> {
        let mut sql = Sql::new("SELECT ");
        sql.push(&key_select(times_column(group))).push(
            ", COUNT(*) AS cases, CAST(SUM(c.handoffs) AS BIGINT) AS handoffs, \
             CAST(SUM(CASE WHEN c.solved_at IS NOT NULL OR c.reopens > 0 THEN 1 ELSE 0 END) AS BIGINT) AS solved, \
             CAST(SUM(CASE WHEN c.reopens > 0 THEN 1 ELSE 0 END) AS BIGINT) AS reopened \
             FROM cases c LEFT JOIN queues q ON q.id = c.queue_id WHERE c.created_at >= ",
        );
        sql.bind(Arg::Int(from.as_millis()))
            .push(" AND c.created_at < ")
            .bind(Arg::Int(to.as_millis()));
        push_filter(filter, &mut sql);
        sql.push(" GROUP BY ").push(times_column(group).0);
        Ok(sql.query_as().fetch_all(&self.read).await?)
    }

    /// For each group of the cases filed in `[from, to)` that have the measure, the
    /// durations at the ranks of the given percentiles (`analytics::quantile_ranks`: the
    /// rank below and the rank above each), with the group's count. The database sorts
    /// each group; only the few values a median or p90 is read from travel.
    pub async fn ranked_durations(
        &self,
        group: TimesGroup,
        measure: Measure,
        from: Timestamp,
        to: Timestamp,
        filter: &CaseFilter,
        percents: &[u64],
    ) -> Result<Vec<RankedDuration>> {
        let end = match measure {
            Measure::FirstReply => "c.first_reply_at",
            Measure::Resolution => "c.solved_at",
        };
        let (key, _) = times_column(group);
        let mut sql = Sql::new("SELECT key_id, key_text, group_size, position, ms FROM (SELECT ");
        sql.push(&key_select(times_column(group)))
            .push(&format!(
                ", {end} - c.created_at AS ms, \
                 ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {end} - c.created_at) - 1 AS position, \
                 COUNT(*) OVER (PARTITION BY {key}) AS group_size \
                 FROM cases c LEFT JOIN queues q ON q.id = c.queue_id WHERE {end} IS NOT NULL \
                 AND c.created_at >= "
            ))
            .bind(Arg::Int(from.as_millis()))
            .push(" AND c.created_at < ")
            .bind(Arg::Int(to.as_millis()));
        push_filter(filter, &mut sql);
        sql.push(") ranked WHERE 1 = 0");
        for percent in percents {
            let percent = (*percent).min(100);
            // The same integer arithmetic as `quantile_ranks`: below, and above rounded up.
            sql.push(&format!(
                " OR position = (group_size - 1) * {percent} / 100 \
                 OR position = ((group_size - 1) * {percent} + 99) / 100"
            ));
        }
        Ok(sql.query_as().fetch_all(&self.read).await?)
    }

    /// Gives every uncategorised case one of `categories` by its id, as if agents had: for
    /// benchmarks at scale, where cases come from `testing::bulk_cases`. One statement.
    pub async fn spread_categories(&self, categories: &[i64]) -> Result<u64> {
        if categories.is_empty() {
            return Ok(0);
        }
        let mut sql = format!(
            "UPDATE cases SET category_id = CASE (id % {})",
            categories.len()
        );
        for (i, id) in categories.iter().enumerate() {
            sql.push_str(&format!(" WHEN {i} THEN {id}"));
        }
        sql.push_str(" END, categorized_at = created_at WHERE category_id IS NULL");
        Ok(sqlx::query(&sql)
            .execute(&self.write)
            .await?
            .rows_affected())
    }

    pub async fn organization_names(&self) -> Result<Vec<Named>> {
        Ok(sqlx::query_as("SELECT id, name FROM organizations")
            .fetch_all(&self.read)
            .await?)
    }

    pub async fn queue_names(&self) -> Result<Vec<Named>> {
        Ok(sqlx::query_as("SELECT id, name FROM queues")
            .fetch_all(&self.read)
            .await?)
    }
}
