//! Organisations: customers and partners.

use crate::rows::{convert, stored};
use crate::sql::{Arg, Sql};
use crate::versions::{advance, Versioned};
use crate::{Org, OrgRef, Result, Store, StoreError};
use backline_domain::{OrgId, OrgKind, PartnerKinds, TechnicalLevel, Timestamp};

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
     o.created_at, o.updated_at, o.version, s.id AS s_id, s.slug AS s_slug, s.name AS s_name \
     FROM organizations o LEFT JOIN organizations s ON s.id = o.served_by_id";

/// A row of `ORG_COLUMNS`.
#[derive(sqlx::FromRow)]
struct OrgRow {
    id: OrgId,
    slug: String,
    name: String,
    kind: String,
    partner_kinds: String,
    technical_level: Option<String>,
    certified_until: Option<Timestamp>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i64,
    s_id: Option<OrgId>,
    s_slug: Option<String>,
    s_name: Option<String>,
}

impl TryFrom<OrgRow> for Org {
    type Error = StoreError;

    fn try_from(r: OrgRow) -> Result<Org> {
        let served_by = match (r.s_id, r.s_slug, r.s_name) {
            (Some(id), Some(slug), Some(name)) => Some(OrgRef { id, slug, name }),
            _ => None,
        };
        Ok(Org {
            id: r.id,
            slug: r.slug,
            name: r.name,
            kind: stored(OrgKind::parse, &r.kind)?,
            partner_kinds: stored(PartnerKinds::parse_list, &r.partner_kinds)?,
            technical_level: r
                .technical_level
                .as_deref()
                .map(|l| stored(TechnicalLevel::parse, l))
                .transpose()?,
            served_by,
            certified_until: r.certified_until,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

impl Store {
    pub async fn create_org(&self, org: &NewOrg) -> Result<Org> {
        let now = Timestamp::now();
        let id: OrgId = sqlx::query_scalar(
            "INSERT INTO organizations \
             (slug, name, kind, partner_kinds, technical_level, served_by_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(&org.slug)
        .bind(&org.name)
        .bind(org.kind.as_str())
        .bind(org.partner_kinds.to_list())
        .bind(org.technical_level.map(|l| l.as_str()))
        .bind(org.served_by)
        .bind(now)
        .fetch_one(&self.write)
        .await
        .map_err(StoreError::unique("an organisation with this slug already exists"))?;
        self.org(id).await
    }

    pub async fn org(&self, id: OrgId) -> Result<Org> {
        let row: OrgRow = sqlx::query_as(&format!("SELECT {ORG_COLUMNS} WHERE o.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    pub async fn org_by_slug(&self, slug: &str) -> Result<Org> {
        let row: OrgRow = sqlx::query_as(&format!("SELECT {ORG_COLUMNS} WHERE o.slug = $1"))
            .bind(slug)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// Organisations in slug order. `visible_to_partner` narrows the list to a partner and
    /// the customers it serves; `only` to one organisation.
    pub async fn list_orgs(
        &self,
        kind: Option<OrgKind>,
        visible_to_partner: Option<OrgId>,
        only: Option<OrgId>,
    ) -> Result<Vec<Org>> {
        let mut sql = Sql::new(&format!("SELECT {ORG_COLUMNS} WHERE 1 = 1"));
        if let Some(kind) = kind {
            sql.push(" AND o.kind = ")
                .bind(Arg::Text(kind.as_str().into()));
        }
        if let Some(partner) = visible_to_partner {
            sql.push(" AND (o.id = ").bind(Arg::Int(partner.0));
            sql.push(" OR o.served_by_id = ")
                .bind(Arg::Int(partner.0))
                .push(")");
        }
        if let Some(org) = only {
            sql.push(" AND o.id = ").bind(Arg::Int(org.0));
        }
        sql.push(" ORDER BY o.slug");
        convert(sql.query_as::<OrgRow>().fetch_all(&self.read).await?)
    }

    /// Applies `changes` to the organisation as it is inside the writing transaction, if it is
    /// still at `expected` (when given), else [`StoreError::Stale`].
    pub async fn update_org(
        &self,
        id: OrgId,
        changes: &OrgChanges,
        expected: Option<i64>,
    ) -> Result<Org> {
        let mut tx = self.write.begin().await?;
        advance(&mut tx, Versioned::Organization, Arg::Int(id.0), expected).await?;
        // Read after the version moved: on PostgreSQL the row is locked now, so the fields
        // left as they are come from the row this change is written over.
        let current: Org =
            sqlx::query_as::<_, OrgRow>(&format!("SELECT {ORG_COLUMNS} WHERE o.id = $1"))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?
                .try_into()?;
        let name = changes.name.clone().unwrap_or(current.name);
        let kinds = changes
            .partner_kinds
            .clone()
            .unwrap_or(current.partner_kinds);
        let level = changes.technical_level.unwrap_or(current.technical_level);
        let served_by = changes.served_by.unwrap_or(current.served_by.map(|s| s.id));
        sqlx::query(
            "UPDATE organizations SET name = $1, partner_kinds = $2, technical_level = $3, \
             served_by_id = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(name)
        .bind(kinds.to_list())
        .bind(level.map(|l| l.as_str()))
        .bind(served_by)
        .bind(Timestamp::now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.org(id).await
    }
}
