//! Queues, their support model, and their members with skills.

use super::{corrupt, user_ref};
use crate::models::stored;
use crate::sql::opt_i64;
use crate::{now_millis, Result, Store, StoreError, UserRef};
use backline_domain::routing::SupportModel;
use backline_domain::UserId;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub model: SupportModel,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueMember {
    pub user: UserRef,
    pub skills: Vec<String>,
    /// Cases assigned to them that are not solved or closed.
    pub active_cases: i64,
    pub last_assigned_at: Option<i64>,
}

impl Store {
    pub async fn create_queue(&self, slug: &str, name: &str, model: SupportModel) -> Result<Queue> {
        sqlx::query("INSERT INTO queues (slug, name, model, created_at) VALUES ($1, $2, $3, $4)")
            .bind(slug)
            .bind(name)
            .bind(model.as_str())
            .bind(now_millis())
            .execute(&self.write)
            .await
            .map_err(StoreError::unique("a queue with this slug already exists"))?;
        self.queue_by_slug(slug).await
    }

    fn queue_from_row(row: &AnyRow) -> Result<Queue> {
        Ok(Queue {
            id: row.try_get("id")?,
            slug: row.try_get("slug")?,
            name: row.try_get("name")?,
            model: stored(SupportModel::parse, &row.try_get::<String, _>("model")?)?,
        })
    }

    pub async fn queue_by_slug(&self, slug: &str) -> Result<Queue> {
        let row = sqlx::query("SELECT id, slug, name, model FROM queues WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        Self::queue_from_row(&row)
    }

    pub async fn queue(&self, id: i64) -> Result<Queue> {
        let row = sqlx::query("SELECT id, slug, name, model FROM queues WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        Self::queue_from_row(&row)
    }

    pub async fn queues(&self) -> Result<Vec<Queue>> {
        let rows = sqlx::query("SELECT id, slug, name, model FROM queues ORDER BY slug")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(Self::queue_from_row).collect()
    }

    /// Adds a member (or replaces their skills).
    pub async fn set_queue_member(
        &self,
        queue: i64,
        user: UserId,
        skills: &[String],
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO queue_members (queue_id, user_id, skills) VALUES ($1, $2, $3) \
             ON CONFLICT (queue_id, user_id) DO UPDATE SET skills = excluded.skills",
        )
        .bind(queue)
        .bind(user.0)
        .bind(json!(skills).to_string())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn queue_members(&self, queue: i64) -> Result<Vec<QueueMember>> {
        let rows = sqlx::query(
            "SELECT m.skills, m.last_assigned_at, u.id AS u_id, u.name AS u_name, u.email AS u_email, \
             (SELECT COUNT(*) FROM cases c WHERE c.assignee_id = u.id \
              AND c.status NOT IN ('solved', 'closed')) AS active \
             FROM queue_members m JOIN users u ON u.id = m.user_id WHERE m.queue_id = $1 ORDER BY u.id",
        )
        .bind(queue)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(QueueMember {
                    user: user_ref(r, "u")?,
                    skills: serde_json::from_str(&r.try_get::<String, _>("skills")?)
                        .map_err(corrupt)?,
                    active_cases: r.try_get("active")?,
                    last_assigned_at: opt_i64(r, "last_assigned_at")?,
                })
            })
            .collect()
    }

    pub async fn mark_assigned(&self, queue: i64, user: UserId) -> Result<()> {
        sqlx::query(
            "UPDATE queue_members SET last_assigned_at = $1 WHERE queue_id = $2 AND user_id = $3",
        )
        .bind(now_millis())
        .bind(queue)
        .bind(user.0)
        .execute(&self.write)
        .await?;
        Ok(())
    }
}
