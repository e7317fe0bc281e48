//! Stored settings: small named values shared by every node (learned weights, last alerts,
//! the mail channel's token secret and unknown-sender policy).

use crate::sql::Arg;
use crate::versions::{advance_or_absent, first_write, Versioned};
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
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
             updated_at = excluded.updated_at, version = settings.version + 1",
        )
        .bind(key)
        .bind(value)
        .bind(Timestamp::now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The setting's value (`None`: unset) and its version (0 while unset), read together.
    pub async fn setting_with_version(&self, key: &str) -> Result<(Option<String>, i64)> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT value, version FROM settings WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.read)
                .await?;
        Ok(match row {
            Some((value, version)) => (Some(value), version),
            None => (None, 0),
        })
    }

    /// Sets a setting people edit, if it is still at `expected` (when given; 0 while unset),
    /// else [`StoreError::Stale`]; answers the new version.
    pub async fn write_setting(
        &self,
        key: &str,
        value: &str,
        expected: Option<i64>,
    ) -> Result<i64> {
        let mut tx = self.write.begin().await?;
        let now = Timestamp::now();
        let found =
            advance_or_absent(&mut tx, Versioned::Setting, Arg::Text(key.into()), expected).await?;
        let version = match found {
            Some(version) => {
                sqlx::query("UPDATE settings SET value = $1, updated_at = $2 WHERE key = $3")
                    .bind(value)
                    .bind(now)
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                version
            }
            None => {
                // The first write; see `write_agreement` for a racing one.
                let upsert = if expected.is_none() {
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                     updated_at = excluded.updated_at, version = settings.version + 1"
                } else {
                    ""
                };
                sqlx::query_scalar(&format!(
                    "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3){upsert} \
                     RETURNING version"
                ))
                .bind(key)
                .bind(value)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(first_write)?
            }
        };
        tx.commit().await?;
        Ok(version)
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
