//! The JSON shapes of the API, rendered from storage rows. Kept apart from the rows so the
//! database can change without changing what clients see.

use crate::views::OrgRefView;
use backline_domain::{OrgKind, PartnerKind, Role, TechnicalLevel, Tier};
use backline_store::{Org, User};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgView {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub kind: OrgKind,
    /// Empty unless `kind` is `partner`.
    pub partner_kinds: Vec<PartnerKind>,
    pub technical_level: Option<TechnicalLevel>,
    /// The partner that serves this customer, if it is served indirectly.
    pub served_by: Option<OrgRefView>,
    pub created_at: String,
    pub updated_at: String,
    /// Moves on with every change; send it back as `If-Match: "N"` to change only this
    /// version.
    pub version: i64,
}

impl From<&Org> for OrgView {
    fn from(o: &Org) -> Self {
        OrgView {
            id: o.id.0,
            slug: o.slug.clone(),
            name: o.name.clone(),
            kind: o.kind,
            partner_kinds: o.partner_kinds.as_slice().to_vec(),
            technical_level: o.technical_level,
            served_by: o.served_by.as_ref().map(OrgRefView::from),
            created_at: o.created_at.to_rfc3339(),
            updated_at: o.updated_at.to_rfc3339(),
            version: o.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgList {
    pub organizations: Vec<OrgView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organization: Option<OrgRefView>,
    /// The tier an agent works in.
    pub tier: Option<Tier>,
    pub created_at: String,
    /// Whether they may change settings (admins always; agents when an admin allowed it).
    pub may_change_settings: bool,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.0,
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role,
            organization: u.org.as_ref().map(OrgRefView::from),
            tier: u.tier,
            created_at: u.created_at.to_rfc3339(),
            may_change_settings: u.may_change_settings(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserView>,
}
