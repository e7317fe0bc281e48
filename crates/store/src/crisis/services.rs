//! Services (products, regions) and the customer organisations that use them.

use crate::models::stored;
use crate::{OrgRef, Result, Store, StoreError};
use backline_domain::crisis::ServiceKind;
use backline_domain::OrgId;
use backline_domain::ServiceId;
use backline_domain::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: backline_domain::ServiceId,
    pub slug: String,
    pub name: String,
    pub kind: ServiceKind,
    pub group: String,
}

pub(super) fn service_from(row: &AnyRow, prefix: &str) -> Result<Service> {
    let col = |c: &str| format!("{prefix}{c}");
    Ok(Service {
        id: row.try_get(col("id").as_str())?,
        slug: row.try_get(col("slug").as_str())?,
        name: row.try_get(col("name").as_str())?,
        kind: stored(
            ServiceKind::parse,
            &row.try_get::<String, _>(col("kind").as_str())?,
        )?,
        group: row.try_get(col("group_name").as_str())?,
    })
}

impl Store {
    pub async fn create_service(
        &self,
        slug: &str,
        name: &str,
        kind: ServiceKind,
        group: &str,
    ) -> Result<Service> {
        sqlx::query("INSERT INTO services (slug, name, kind, group_name, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(slug)
            .bind(name)
            .bind(kind.as_str())
            .bind(group)
            .bind(Timestamp::now())
            .execute(&self.write)
            .await
            .map_err(StoreError::unique("a service with this slug already exists"))?;
        self.service_by_slug(slug).await
    }

    pub async fn services(&self) -> Result<Vec<Service>> {
        let rows = sqlx::query(
            "SELECT id, slug, name, kind, group_name FROM services ORDER BY group_name, name",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(|r| service_from(r, "")).collect()
    }

    pub async fn service_by_slug(&self, slug: &str) -> Result<Service> {
        let row =
            sqlx::query("SELECT id, slug, name, kind, group_name FROM services WHERE slug = $1")
                .bind(slug)
                .fetch_optional(&self.read)
                .await?
                .ok_or(StoreError::NotFound)?;
        service_from(&row, "")
    }

    /// Replaces the customer organisations that use a service.
    pub async fn set_service_customers(&self, service: ServiceId, orgs: &[OrgId]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM service_usage WHERE service_id = $1")
            .bind(service)
            .execute(&mut *tx)
            .await?;
        for org in orgs {
            sqlx::query("INSERT INTO service_usage (org_id, service_id) VALUES ($1, $2)")
                .bind(org.0)
                .bind(service)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// (organisation, service) pairs: who uses what.
    pub async fn service_usage(&self) -> Result<Vec<(OrgId, ServiceId)>> {
        let rows = sqlx::query("SELECT org_id, service_id FROM service_usage")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| Ok((OrgId(r.try_get("org_id")?), r.try_get("service_id")?)))
            .collect()
    }

    /// The customer organisations that use a service, by slug.
    pub async fn service_customers(&self, service: ServiceId) -> Result<Vec<OrgRef>> {
        let rows = sqlx::query(
            "SELECT o.id, o.slug, o.name FROM service_usage su \
             JOIN organizations o ON o.id = su.org_id WHERE su.service_id = $1 ORDER BY o.slug",
        )
        .bind(service)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(org_ref).collect()
    }

    /// Every service's customer organisations at once: (service, organisation), by slug.
    pub async fn customers_by_service(&self) -> Result<Vec<(ServiceId, OrgRef)>> {
        let rows = sqlx::query(
            "SELECT su.service_id, o.id, o.slug, o.name FROM service_usage su \
             JOIN organizations o ON o.id = su.org_id ORDER BY su.service_id, o.slug",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("service_id")?, org_ref(r)?)))
            .collect()
    }
}

fn org_ref(row: &AnyRow) -> Result<OrgRef> {
    Ok(OrgRef {
        id: OrgId(row.try_get("id")?),
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
    })
}
