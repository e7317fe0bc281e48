//! Saved case lists: a name, a query in the search language and an order, personal or shared
//! with every agent.

use crate::{Result, Store, StoreError};
use backline_domain::{Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    pub query: String,
    pub sort: String,
    /// `None`: shared with every agent.
    pub owner_id: Option<UserId>,
    pub created_by: UserId,
    pub created_at: Timestamp,
}

impl Store {
    /// The views `user` has: the shared ones, then their own, each by name.
    pub async fn saved_views(&self, user: UserId) -> Result<Vec<SavedView>> {
        Ok(sqlx::query_as(
            "SELECT id, name, query, sort, owner_id, created_by, created_at FROM case_views \
             WHERE owner_id IS NULL OR owner_id = $1 \
             ORDER BY CASE WHEN owner_id IS NULL THEN 0 ELSE 1 END, LOWER(name), id",
        )
        .bind(user)
        .fetch_all(&self.read)
        .await?)
    }

    pub async fn saved_view(&self, id: i64) -> Result<SavedView> {
        sqlx::query_as(
            "SELECT id, name, query, sort, owner_id, created_by, created_at FROM case_views WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)
    }

    pub async fn save_view(
        &self,
        name: &str,
        query: &str,
        sort: &str,
        owner: Option<UserId>,
        created_by: UserId,
    ) -> Result<SavedView> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO case_views (name, query, sort, owner_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(name)
        .bind(query)
        .bind(sort)
        .bind(owner)
        .bind(created_by)
        .bind(Timestamp::now())
        .fetch_one(&self.write)
        .await?;
        self.saved_view(id).await
    }

    pub async fn delete_view(&self, id: i64) -> Result<()> {
        let done = sqlx::query("DELETE FROM case_views WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
