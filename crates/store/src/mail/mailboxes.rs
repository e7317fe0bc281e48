//! IMAP mailboxes an admin asked Backline to poll, and how far each has been read.

use crate::{Result, Store, StoreError};
use backline_domain::Timestamp;
use sqlx::FromRow;

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Mailbox {
    pub id: i64,
    /// `imap://user@host:port/MAILBOX` or `imaps://...`; the password is kept apart.
    pub url: String,
    pub password: String,
    /// The mailbox's UIDVALIDITY when `last_uid` was read: if it changes, UIDs start over.
    pub uid_validity: Option<i64>,
    /// The highest UID stored so far.
    pub last_uid: i64,
    pub last_error: Option<String>,
    pub polled_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, url, password, uid_validity, last_uid, last_error, polled_at";

impl Store {
    pub async fn add_mailbox(&self, url: &str, password: &str) -> Result<Mailbox> {
        sqlx::query_as(&format!(
            "INSERT INTO mailboxes (url, password, created_at) VALUES ($1, $2, $3) RETURNING {COLUMNS}"
        ))
        .bind(url)
        .bind(password)
        .bind(Timestamp::now())
        .fetch_one(&self.write)
        .await
        .map_err(StoreError::unique("this mailbox is already configured"))
    }

    pub async fn mailboxes(&self) -> Result<Vec<Mailbox>> {
        Ok(
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM mailboxes ORDER BY id"))
                .fetch_all(&self.read)
                .await?,
        )
    }

    pub async fn remove_mailbox(&self, id: i64) -> Result<()> {
        let done = sqlx::query("DELETE FROM mailboxes WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Records how far the mailbox has been read, after the messages up to `last_uid` are
    /// stored.
    pub async fn mailbox_progress(
        &self,
        id: i64,
        uid_validity: i64,
        last_uid: i64,
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE mailboxes SET uid_validity = $1, last_uid = $2, last_error = $3, polled_at = $4 \
             WHERE id = $5",
        )
        .bind(uid_validity)
        .bind(last_uid)
        .bind(error)
        .bind(Timestamp::now())
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn mailbox_failed(&self, id: i64, error: &str) -> Result<()> {
        sqlx::query("UPDATE mailboxes SET last_error = $1, polled_at = $2 WHERE id = $3")
            .bind(error)
            .bind(Timestamp::now())
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
