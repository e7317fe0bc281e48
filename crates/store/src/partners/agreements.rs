//! Partner agreements (one JSON document per partner) and relationship managers.

use super::training::refresh_certification;
use crate::rows::{corrupt, UserCols};
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
}

#[derive(sqlx::FromRow)]
struct AgreementRow {
    terms: String,
    updated_at: Timestamp,
    #[sqlx(flatten)]
    updated_by: UserCols,
}

impl Store {
    pub async fn agreement(&self, partner: OrgId) -> Result<StoredAgreement> {
        let row: Option<AgreementRow> = sqlx::query_as(
            "SELECT a.terms, a.updated_at, u.id AS u_id, u.name AS u_name, u.email AS u_email \
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
            },
            None => StoredAgreement {
                terms: Agreement::default(),
                updated_by: None,
                updated_at: None,
            },
        })
    }

    pub async fn set_agreement(
        &self,
        partner: OrgId,
        terms: &Agreement,
        by: UserId,
    ) -> Result<StoredAgreement> {
        let mut tx = self.write.begin().await?;
        let text = json!(terms).to_string();
        sqlx::query(
            "INSERT INTO partner_agreements (partner_id, terms, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (partner_id) DO UPDATE SET terms = excluded.terms, \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(partner)
        .bind(&text)
        .bind(by)
        .bind(Timestamp::now())
        .execute(&mut *tx)
        .await?;
        refresh_certification(&mut tx, partner).await?;
        tx.commit().await?;
        self.agreement(partner).await
    }

    pub async fn set_relationship_manager(
        &self,
        partner: OrgId,
        manager: Option<UserId>,
    ) -> Result<()> {
        sqlx::query("UPDATE organizations SET relationship_manager_id = $1 WHERE id = $2")
            .bind(manager)
            .bind(partner)
            .execute(&self.write)
            .await?;
        Ok(())
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
