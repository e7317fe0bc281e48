//! Queues, their support model, and their members with skills.

use crate::rows::{convert, corrupt, stored, UserCols};
use crate::sql::Arg;
use crate::versions::{advance, Versioned};
use crate::{Backend, Result, Store, StoreError, UserRef};
use backline_domain::routing::{pick_assignee, Assignment, SupportModel};
use backline_domain::{QueueId, Span, Tier, Timestamp, UserId};
use serde_json::json;
use sqlx::{Any, Transaction};

#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    pub id: QueueId,
    pub slug: String,
    pub name: String,
    pub model: SupportModel,
    /// The tier a tiered queue serves: cases escalated to that tier move here.
    pub tier: Option<Tier>,
    /// Moves on with every change to its members.
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueMember {
    pub user: UserRef,
    pub skills: Vec<String>,
    /// Cases assigned to them that are not solved or closed.
    pub active_cases: i64,
    pub last_assigned_at: Option<Timestamp>,
}

const SELECT_QUEUES: &str = "SELECT id, slug, name, model, tier, version FROM queues";

#[derive(sqlx::FromRow)]
struct QueueRow {
    id: QueueId,
    slug: String,
    name: String,
    model: String,
    tier: Option<i64>,
    version: i64,
}

impl TryFrom<QueueRow> for Queue {
    type Error = StoreError;

    fn try_from(r: QueueRow) -> Result<Queue> {
        Ok(Queue {
            id: r.id,
            slug: r.slug,
            name: r.name,
            model: stored(SupportModel::parse, &r.model)?,
            tier: r
                .tier
                .map(|t| Tier::new(t).map_err(|e| StoreError::Corrupt(e.0)))
                .transpose()?,
            version: r.version,
        })
    }
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    #[sqlx(flatten)]
    user: UserCols,
    skills: String,
    active: i64,
    last_assigned_at: Option<Timestamp>,
}

impl TryFrom<MemberRow> for QueueMember {
    type Error = StoreError;

    fn try_from(r: MemberRow) -> Result<QueueMember> {
        Ok(QueueMember {
            user: r.user.into(),
            skills: serde_json::from_str(&r.skills).map_err(corrupt)?,
            active_cases: r.active,
            last_assigned_at: r.last_assigned_at,
        })
    }
}

impl Store {
    pub async fn create_queue(
        &self,
        slug: &str,
        name: &str,
        model: SupportModel,
        tier: Option<Tier>,
    ) -> Result<Queue> {
        sqlx::query(
            "INSERT INTO queues (slug, name, model, tier, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(slug)
        .bind(name)
        .bind(model.as_str())
        .bind(tier.map(Tier::level))
        .bind(Timestamp::now())
        .execute(&self.write)
        .await
        .map_err(|e| match &e {
            // Both backends name the violated column or index in the message.
            sqlx::Error::Database(db)
                if db.is_unique_violation() && db.message().contains("tier") =>
            {
                StoreError::Conflict("another queue already serves this tier".into())
            }
            _ => StoreError::unique("a queue with this slug already exists")(e),
        })?;
        self.queue_by_slug(slug).await
    }

    /// The queue that serves `tier`, if one does.
    pub async fn queue_for_tier(&self, tier: Tier) -> Result<Option<Queue>> {
        let row: Option<QueueRow> = sqlx::query_as(&format!("{SELECT_QUEUES} WHERE tier = $1"))
            .bind(tier.level())
            .fetch_optional(&self.read)
            .await?;
        row.map(Queue::try_from).transpose()
    }

    pub async fn queue_by_slug(&self, slug: &str) -> Result<Queue> {
        let row: QueueRow = sqlx::query_as(&format!("{SELECT_QUEUES} WHERE slug = $1"))
            .bind(slug)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    pub async fn queue(&self, id: QueueId) -> Result<Queue> {
        let row: QueueRow = sqlx::query_as(&format!("{SELECT_QUEUES} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    pub async fn queues(&self) -> Result<Vec<Queue>> {
        let rows: Vec<QueueRow> = sqlx::query_as(&format!("{SELECT_QUEUES} ORDER BY slug"))
            .fetch_all(&self.read)
            .await?;
        convert(rows)
    }

    /// Adds a member (or replaces their skills).
    pub async fn set_queue_member(
        &self,
        queue: QueueId,
        user: UserId,
        skills: &[String],
    ) -> Result<()> {
        self.write_queue_member(queue, user, skills, None)
            .await
            .map(drop)
    }

    /// [`Store::set_queue_member`], only if the queue is still at `expected` (when given),
    /// else [`StoreError::Stale`]; answers the queue's new version.
    pub async fn write_queue_member(
        &self,
        queue: QueueId,
        user: UserId,
        skills: &[String],
        expected: Option<i64>,
    ) -> Result<i64> {
        let mut tx = self.write.begin().await?;
        let version = advance(&mut tx, Versioned::Queue, Arg::Int(queue.0), expected).await?;
        sqlx::query(
            "INSERT INTO queue_members (queue_id, user_id, skills) VALUES ($1, $2, $3) \
             ON CONFLICT (queue_id, user_id) DO UPDATE SET skills = excluded.skills",
        )
        .bind(queue)
        .bind(user)
        .bind(json!(skills).to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    pub async fn queue_members(&self, queue: QueueId) -> Result<Vec<QueueMember>> {
        let rows: Vec<MemberRow> = sqlx::query_as(
            "SELECT m.skills, m.last_assigned_at, u.id AS u_id, u.name AS u_name, u.email AS u_email, \
             (SELECT COUNT(*) FROM cases c WHERE c.assignee_id = u.id \
              AND c.status NOT IN ('solved', 'closed')) AS active \
             FROM queue_members m JOIN users u ON u.id = m.user_id WHERE m.queue_id = $1 ORDER BY u.id",
        )
        .bind(queue)
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }
}

/// Picks the member whose turn it is in `queue` and records the turn, inside the transaction
/// that files the case: a case refused later rolls the turn back with it, and filings that
/// run at the same time take turns one after the other instead of reading the same one.
pub(crate) async fn take_turn(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    queue: QueueId,
    how: Assignment,
    now: Timestamp,
) -> Result<Option<UserId>> {
    if backend == Backend::Postgres {
        // Concurrent filings to this queue wait here until the one ahead commits, then read
        // the turn it took. NO KEY UPDATE leaves cases that merely reference the queue (a
        // foreign key check) unblocked. SQLite has one writer, which serialises filings.
        sqlx::query("SELECT id FROM queues WHERE id = $1 FOR NO KEY UPDATE")
            .bind(queue)
            .fetch_optional(&mut **tx)
            .await?;
    }
    let candidates: Vec<(UserId, i64, Option<Timestamp>)> = sqlx::query_as(
        "SELECT m.user_id, \
         (SELECT COUNT(*) FROM cases c WHERE c.assignee_id = m.user_id \
          AND c.status NOT IN ('solved', 'closed')) AS active, \
         m.last_assigned_at \
         FROM queue_members m WHERE m.queue_id = $1 ORDER BY m.user_id",
    )
    .bind(queue)
    .fetch_all(&mut **tx)
    .await?;
    let Some(user) = pick_assignee(how, &candidates) else {
        return Ok(None);
    };
    // The turn must sort after every earlier one, even when two land in the same millisecond
    // (one SQLite batch) or another node's clock runs ahead.
    let latest = candidates.iter().filter_map(|c| c.2).max();
    let stamp = latest.map_or(now, |latest| now.max(latest.plus(Span::from_millis(1))));
    sqlx::query(
        "UPDATE queue_members SET last_assigned_at = $1 WHERE queue_id = $2 AND user_id = $3",
    )
    .bind(stamp)
    .bind(queue)
    .bind(user)
    .execute(&mut **tx)
    .await?;
    Ok(Some(user))
}
