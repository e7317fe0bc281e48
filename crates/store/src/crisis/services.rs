//! Services (products, regions) and the customer organisations that use them.

use crate::rows::{convert, stored};
use crate::{OrgRef, Result, Store, StoreError};
use backline_domain::crisis::ServiceKind;
use backline_domain::{OrgId, ServiceId, Timestamp};

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: backline_domain::ServiceId,
    pub slug: String,
    pub name: String,
    pub kind: ServiceKind,
    pub group: String,
}

/// A `services` row.
#[derive(sqlx::FromRow)]
pub(super) struct ServiceRow {
    pub id: ServiceId,
    pub slug: String,
    pub name: String,
    pub kind: String,
    pub group_name: String,
}

impl TryFrom<ServiceRow> for Service {
    type Error = StoreError;

    fn try_from(r: ServiceRow) -> Result<Service> {
        Ok(Service {
            id: r.id,
            slug: r.slug,
            name: r.name,
            kind: stored(ServiceKind::parse, &r.kind)?,
            group: r.group_name,
        })
    }
}

/// An organisation that uses a service.
#[derive(sqlx::FromRow)]
struct CustomerRow {
    service_id: ServiceId,
    #[sqlx(flatten)]
    org: OrgRef,
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
        let rows: Vec<ServiceRow> = sqlx::query_as(
            "SELECT id, slug, name, kind, group_name FROM services ORDER BY group_name, name",
        )
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }

    pub async fn service_by_slug(&self, slug: &str) -> Result<Service> {
        let row: ServiceRow =
            sqlx::query_as("SELECT id, slug, name, kind, group_name FROM services WHERE slug = $1")
                .bind(slug)
                .fetch_optional(&self.read)
                .await?
                .ok_or(StoreError::NotFound)?;
        row.try_into()
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
                .bind(org)
                .bind(service)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// (organisation, service) pairs: who uses what.
    pub async fn service_usage(&self) -> Result<Vec<(OrgId, ServiceId)>> {
        Ok(
            sqlx::query_as("SELECT org_id, service_id FROM service_usage")
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// The customer organisations that use a service, by slug.
    pub async fn service_customers(&self, service: ServiceId) -> Result<Vec<OrgRef>> {
        Ok(sqlx::query_as(
            "SELECT o.id, o.slug, o.name FROM service_usage su \
             JOIN organizations o ON o.id = su.org_id WHERE su.service_id = $1 ORDER BY o.slug",
        )
        .bind(service)
        .fetch_all(&self.read)
        .await?)
    }

    /// Every service's customer organisations at once: (service, organisation), by slug.
    pub async fn customers_by_service(&self) -> Result<Vec<(ServiceId, OrgRef)>> {
        let rows: Vec<CustomerRow> = sqlx::query_as(
            "SELECT su.service_id, o.id, o.slug, o.name FROM service_usage su \
             JOIN organizations o ON o.id = su.org_id ORDER BY su.service_id, o.slug",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(|r| (r.service_id, r.org)).collect())
    }
}
