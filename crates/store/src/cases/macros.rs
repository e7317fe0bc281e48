//! Macros: saved replies with their field changes, shared or personal.

use crate::rows::{convert, corrupt};
use crate::sql::Arg;
use crate::versions::{advance, Versioned};
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
    /// Moves on with every edit (not with its uses).
    pub version: i64,
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
    version: i64,
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
            version: r.version,
        })
    }
}

const COLUMNS: &str = "id, title, body, actions, owner_id, uses, updated_at, version FROM macros";

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
        self.write_macro(id, input, owner, None).await
    }

    /// [`Store::save_macro`], replacing only if the macro is still at `expected` (when given).
    pub async fn write_macro(
        &self,
        id: Option<i64>,
        input: &MacroInput,
        owner: Option<UserId>,
        expected: Option<i64>,
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
                    let mut tx = self.write.begin().await?;
                    advance(&mut tx, Versioned::Macro, Arg::Int(id), expected).await?;
                    sqlx::query(
                        "UPDATE macros SET title = $1, body = $2, actions = $3, owner_id = $4, \
                     updated_at = $5 WHERE id = $6",
                    )
                    .bind(&input.title)
                    .bind(&input.body)
                    .bind(&actions)
                    .bind(owner)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    id
                }
            };
        self.macro_record(id).await
    }

    /// Deletes a macro; with `expected`, only while it is at that version.
    pub async fn delete_macro(&self, id: i64, expected: Option<i64>) -> Result<()> {
        let mut tx = self.write.begin().await?;
        advance(&mut tx, Versioned::Macro, Arg::Int(id), expected).await?;
        sqlx::query("DELETE FROM macros WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
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
