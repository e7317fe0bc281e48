//! Partner agreements (one JSON document per partner) and relationship managers.

use super::training::refresh_certification;
use crate::rows::{corrupt, UserCols};
use crate::sql::Arg;
use crate::versions::{advance, advance_or_absent, first_write, Versioned};
use crate::{Result, Store, UserRef};
use backline_domain::partner::Agreement;
use backline_domain::{OrgId, Timestamp, UserId};
use serde_json::json;

#[derive(Debug, Clone, PartialEq)]
pub struct StoredAgreement {
    pub terms: Agreement,
    /// `None` while the partner runs on the default terms.
    pub updated_by: Option<UserRef>,
    pub updated_at: Option<Timestamp>,
    /// Moves on with every save; 0 while the partner runs on the default terms.
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct AgreementRow {
    terms: String,
    updated_at: Timestamp,
    version: i64,
    #[sqlx(flatten)]
    updated_by: UserCols,
}

impl Store {
    pub async fn agreement(&self, partner: OrgId) -> Result<StoredAgreement> {
        let row: Option<AgreementRow> = sqlx::query_as(
            "SELECT a.terms, a.updated_at, a.version, u.id AS u_id, u.name AS u_name, u.email AS u_email \
             FROM partner_agreements a JOIN users u ON u.id = a.updated_by WHERE a.partner_id = $1",
        )
        .bind(partner)
        .fetch_optional(&self.read)
        .await?;
        Ok(match row {
            Some(row) => StoredAgreement {
                terms: serde_json::from_str(&row.terms).map_err(corrupt)?,
                updated_by: Some(row.updated_by.into()),
                updated_at: Some(row.updated_at),
                version: row.version,
            },
            None => StoredAgreement {
                terms: Agreement::default(),
                updated_by: None,
                updated_at: None,
                version: 0,
            },
        })
    }

    pub async fn set_agreement(
        &self,
        partner: OrgId,
        terms: &Agreement,
        by: UserId,
    ) -> Result<StoredAgreement> {
        self.write_agreement(partner, terms, by, None).await
    }

    /// [`Store::set_agreement`], only if the agreement is still at `expected` (when given; 0
    /// for the default terms), else [`StoreError::Stale`](crate::StoreError::Stale).
    pub async fn write_agreement(
        &self,
        partner: OrgId,
        terms: &Agreement,
        by: UserId,
        expected: Option<i64>,
    ) -> Result<StoredAgreement> {
        let mut tx = self.write.begin().await?;
        let text = json!(terms).to_string();
        let now = Timestamp::now();
        match advance_or_absent(&mut tx, Versioned::Agreement, Arg::Int(partner.0), expected)
            .await?
        {
            Some(_) => {
                sqlx::query(
                    "UPDATE partner_agreements SET terms = $1, updated_by = $2, updated_at = $3 \
                     WHERE partner_id = $4",
                )
                .bind(&text)
                .bind(by)
                .bind(now)
                .bind(partner)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                // The first save. Without a precondition a racing first save is simply
                // written over (last write wins); with one it was prepared against the
                // default terms, which are gone, so it is stale.
                let upsert = if expected.is_none() {
                    " ON CONFLICT (partner_id) DO UPDATE SET terms = excluded.terms, \
                     updated_by = excluded.updated_by, updated_at = excluded.updated_at, \
                     version = partner_agreements.version + 1"
                } else {
                    ""
                };
                sqlx::query(&format!(
                    "INSERT INTO partner_agreements (partner_id, terms, updated_by, updated_at) \
                     VALUES ($1, $2, $3, $4){upsert}"
                ))
                .bind(partner)
                .bind(&text)
                .bind(by)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(first_write)?;
            }
        }
        refresh_certification(&mut tx, partner).await?;
        tx.commit().await?;
        self.agreement(partner).await
    }

    pub async fn set_relationship_manager(
        &self,
        partner: OrgId,
        manager: Option<UserId>,
        expected: Option<i64>,
    ) -> Result<i64> {
        // The manager is part of the organisation: its version moves, checked against
        // `expected` when given (see `versions`).
        let mut tx = self.write.begin().await?;
        let version = advance(
            &mut tx,
            Versioned::Organization,
            Arg::Int(partner.0),
            expected,
        )
        .await?;
        sqlx::query("UPDATE organizations SET relationship_manager_id = $1 WHERE id = $2")
            .bind(manager)
            .bind(partner)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(version)
    }

    pub async fn relationship_manager(&self, partner: OrgId) -> Result<Option<UserRef>> {
        let row: Option<UserCols> = sqlx::query_as(
            "SELECT u.id AS u_id, u.name AS u_name, u.email AS u_email FROM organizations o \
             JOIN users u ON u.id = o.relationship_manager_id WHERE o.id = $1",
        )
        .bind(partner)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(UserRef::from))
    }
}
