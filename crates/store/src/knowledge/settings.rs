//! Stored settings: small named values shared by every node (learned weights, last alerts,
//! the mail channel's token secret and unknown-sender policy).

use crate::{Result, Store, StoreError};
use backline_domain::Timestamp;

impl Store {
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(Timestamp::now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The setting's value, first writing `initial()` if there is none; with several nodes
    /// starting together, all end up with the one value that was written first.
    pub async fn setting_or_init(
        &self,
        key: &str,
        initial: impl FnOnce() -> String,
    ) -> Result<String> {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(initial())
        .bind(Timestamp::now())
        .execute(&self.write)
        .await?;
        self.setting(key)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("setting {key} vanished")))
    }
}
