//! Macros: saved replies with their field changes, shared or personal.

use crate::rows::{convert, corrupt};
use crate::{Result, Store, StoreError};
use backline_domain::macros::{MacroActions, MacroInput};
use backline_domain::{Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroRecord {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub actions: MacroActions,
    /// `None`: shared with the team.
    pub owner_id: Option<UserId>,
    /// How often it was sent, to put the team's favourites first.
    pub uses: i64,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct MacroRow {
    id: i64,
    title: String,
    body: String,
    actions: String,
    owner_id: Option<UserId>,
    uses: i64,
    updated_at: Timestamp,
}

impl TryFrom<MacroRow> for MacroRecord {
    type Error = StoreError;

    fn try_from(r: MacroRow) -> Result<MacroRecord> {
        Ok(MacroRecord {
            id: r.id,
            title: r.title,
            body: r.body,
            actions: serde_json::from_str(&r.actions).map_err(corrupt)?,
            owner_id: r.owner_id,
            uses: r.uses,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "id, title, body, actions, owner_id, uses, updated_at FROM macros";

impl Store {
    /// The macros `user` may use: shared and their own, most used first.
    pub async fn macros_for(&self, user: UserId) -> Result<Vec<MacroRecord>> {
        let rows: Vec<MacroRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} WHERE owner_id IS NULL OR owner_id = $1 \
             ORDER BY uses DESC, LOWER(title), id"
        ))
        .bind(user)
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }

    pub async fn macro_record(&self, id: i64) -> Result<MacroRecord> {
        let row: MacroRow = sqlx::query_as(&format!("SELECT {COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// Creates a macro (`id` `None`) or replaces one; `owner` `None` shares it.
    pub async fn save_macro(
        &self,
        id: Option<i64>,
        input: &MacroInput,
        owner: Option<UserId>,
    ) -> Result<MacroRecord> {
        let now = Timestamp::now();
        let actions = serde_json::to_string(&input.actions).map_err(corrupt)?;
        let id =
            match id {
                None => sqlx::query_scalar(
                    "INSERT INTO macros (title, body, actions, owner_id, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                )
                .bind(&input.title)
                .bind(&input.body)
                .bind(&actions)
                .bind(owner)
                .bind(now)
                .fetch_one(&self.write)
                .await?,
                Some(id) => {
                    let done = sqlx::query(
                        "UPDATE macros SET title = $1, body = $2, actions = $3, owner_id = $4, \
                     updated_at = $5 WHERE id = $6",
                    )
                    .bind(&input.title)
                    .bind(&input.body)
                    .bind(&actions)
                    .bind(owner)
                    .bind(now)
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound);
                    }
                    id
                }
            };
        self.macro_record(id).await
    }

    pub async fn delete_macro(&self, id: i64) -> Result<()> {
        let done = sqlx::query("DELETE FROM macros WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Counts one use (after the reply it wrote was sent).
    pub async fn count_macro_use(&self, id: i64) -> Result<()> {
        sqlx::query("UPDATE macros SET uses = uses + 1 WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
