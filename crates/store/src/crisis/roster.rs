//! The people alerted when signals arrive and incidents are declared.

use crate::rows::{convert, stored};
use crate::{Result, Store, StoreError};
use backline_domain::crisis::RosterRole;

#[derive(Debug, Clone, PartialEq)]
pub struct RosterEntry {
    pub role: RosterRole,
    pub name: String,
    pub email: String,
    pub phone: String,
}

#[derive(sqlx::FromRow)]
struct RosterRow {
    role: String,
    name: String,
    email: String,
    phone: String,
}

impl TryFrom<RosterRow> for RosterEntry {
    type Error = StoreError;

    fn try_from(r: RosterRow) -> Result<RosterEntry> {
        Ok(RosterEntry {
            role: stored(RosterRole::parse, &r.role)?,
            name: r.name,
            email: r.email,
            phone: r.phone,
        })
    }
}

impl Store {
    pub async fn roster(&self) -> Result<Vec<RosterEntry>> {
        let rows: Vec<RosterRow> =
            sqlx::query_as("SELECT role, name, email, phone FROM roster ORDER BY role, name")
                .fetch_all(&self.read)
                .await?;
        convert(rows)
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
