//! The people alerted when signals arrive and incidents are declared.

use crate::models::stored;
use crate::{Result, Store};
use backline_domain::crisis::RosterRole;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq)]
pub struct RosterEntry {
    pub role: RosterRole,
    pub name: String,
    pub email: String,
    pub phone: String,
}

impl Store {
    pub async fn roster(&self) -> Result<Vec<RosterEntry>> {
        let rows = sqlx::query("SELECT role, name, email, phone FROM roster ORDER BY role, name")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(RosterEntry {
                    role: stored(RosterRole::parse, &r.try_get::<String, _>("role")?)?,
                    name: r.try_get("name")?,
                    email: r.try_get("email")?,
                    phone: r.try_get("phone")?,
                })
            })
            .collect()
    }

    pub async fn set_roster(&self, entries: &[RosterEntry]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM roster").execute(&mut *tx).await?;
        for e in entries {
            sqlx::query("INSERT INTO roster (role, name, email, phone) VALUES ($1, $2, $3, $4)")
                .bind(e.role.as_str())
                .bind(&e.name)
                .bind(&e.email)
                .bind(&e.phone)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
