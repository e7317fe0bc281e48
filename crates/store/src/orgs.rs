//! Organisations: customers and partners.

use crate::rows::stored;
use crate::sql::opt_i64;
use crate::{Org, OrgRef, Result, Store, StoreError};
use backline_domain::{OrgId, OrgKind, PartnerKinds, TechnicalLevel, Timestamp};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct NewOrg {
    pub slug: String,
    pub name: String,
    pub kind: OrgKind,
    pub partner_kinds: PartnerKinds,
    pub technical_level: Option<TechnicalLevel>,
    pub served_by: Option<OrgId>,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrgChanges {
    pub name: Option<String>,
    pub partner_kinds: Option<PartnerKinds>,
    pub technical_level: Option<Option<TechnicalLevel>>,
    pub served_by: Option<Option<OrgId>>,
}

const ORG_COLUMNS: &str =
    "o.id, o.slug, o.name, o.kind, o.partner_kinds, o.technical_level, o.certified_until, \
     o.created_at, o.updated_at, s.id AS s_id, s.slug AS s_slug, s.name AS s_name \
     FROM organizations o LEFT JOIN organizations s ON s.id = o.served_by_id";

fn org_from_row(row: &AnyRow) -> Result<Org> {
    let served_by = match opt_i64(row, "s_id")? {
        Some(id) => Some(OrgRef {
            id: OrgId(id),
            slug: row.try_get("s_slug")?,
            name: row.try_get("s_name")?,
        }),
        None => None,
    };
    let level: Option<String> = row.try_get("technical_level")?;
    Ok(Org {
        id: OrgId(row.try_get("id")?),
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        kind: stored(OrgKind::parse, &row.try_get::<String, _>("kind")?)?,
        partner_kinds: stored(
            PartnerKinds::parse_list,
            &row.try_get::<String, _>("partner_kinds")?,
        )?,
        technical_level: level
            .as_deref()
            .map(|l| stored(TechnicalLevel::parse, l))
            .transpose()?,
        served_by,
        certified_until: row.try_get("certified_until")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    pub async fn create_org(&self, org: &NewOrg) -> Result<Org> {
        let now = Timestamp::now();
        let row: AnyRow = sqlx::query(
            "INSERT INTO organizations \
             (slug, name, kind, partner_kinds, technical_level, served_by_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(&org.slug)
        .bind(&org.name)
        .bind(org.kind.as_str())
        .bind(org.partner_kinds.to_list())
        .bind(org.technical_level.map(|l| l.as_str()))
        .bind(org.served_by.map(|o| o.0))
        .bind(now)
        .fetch_one(&self.write)
        .await
        .map_err(StoreError::unique("an organisation with this slug already exists"))?;
        self.org(OrgId(row.try_get("id")?)).await
    }

    pub async fn org(&self, id: OrgId) -> Result<Org> {
        let row = sqlx::query(&format!("SELECT {ORG_COLUMNS} WHERE o.id = $1"))
            .bind(id.0)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        org_from_row(&row)
    }

    pub async fn org_by_slug(&self, slug: &str) -> Result<Org> {
        let row = sqlx::query(&format!("SELECT {ORG_COLUMNS} WHERE o.slug = $1"))
            .bind(slug)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        org_from_row(&row)
    }

    /// Organisations in slug order. `visible_to_partner` narrows the list to a partner and
    /// the customers it serves; `only` to one organisation.
    pub async fn list_orgs(
        &self,
        kind: Option<OrgKind>,
        visible_to_partner: Option<OrgId>,
        only: Option<OrgId>,
    ) -> Result<Vec<Org>> {
        let mut sql = crate::sql::Sql::new(&format!("SELECT {ORG_COLUMNS} WHERE 1 = 1"));
        if let Some(kind) = kind {
            sql.push(" AND o.kind = ")
                .bind(crate::sql::Arg::Text(kind.as_str().into()));
        }
        if let Some(partner) = visible_to_partner {
            sql.push(" AND (o.id = ")
                .bind(crate::sql::Arg::Int(partner.0));
            sql.push(" OR o.served_by_id = ")
                .bind(crate::sql::Arg::Int(partner.0))
                .push(")");
        }
        if let Some(org) = only {
            sql.push(" AND o.id = ").bind(crate::sql::Arg::Int(org.0));
        }
        sql.push(" ORDER BY o.slug");
        let rows = sql.query().fetch_all(&self.read).await?;
        rows.iter().map(org_from_row).collect()
    }

    pub async fn update_org(&self, id: OrgId, changes: &OrgChanges) -> Result<Org> {
        let current = self.org(id).await?;
        let name = changes.name.clone().unwrap_or(current.name);
        let kinds = changes
            .partner_kinds
            .clone()
            .unwrap_or(current.partner_kinds);
        let level = changes.technical_level.unwrap_or(current.technical_level);
        let served_by = changes.served_by.unwrap_or(current.served_by.map(|s| s.id));
        let updated = sqlx::query(
            "UPDATE organizations SET name = $1, partner_kinds = $2, technical_level = $3, \
             served_by_id = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(name)
        .bind(kinds.to_list())
        .bind(level.map(|l| l.as_str()))
        .bind(served_by.map(|o| o.0))
        .bind(Timestamp::now())
        .bind(id.0)
        .execute(&self.write)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.org(id).await
    }
}
