//! The JSON shapes of the API, rendered from storage rows. Kept apart from the rows so the
//! database can change without changing what clients see.

use backline_domain::{PartnerKind, TechnicalLevel};
use backline_store::{OrgRef, PartnerRef, UserRef};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgRefView {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

impl From<&OrgRef> for OrgRefView {
    fn from(o: &OrgRef) -> Self {
        OrgRefView {
            id: o.id.0,
            slug: o.slug.clone(),
            name: o.name.clone(),
        }
    }
}

/// The partner flag: which partner filed the case or serves its customer, and what it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerFlag {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub kinds: Vec<PartnerKind>,
    pub technical_level: Option<TechnicalLevel>,
    /// Its certified technicians meet the number its agreement requires.
    pub certified: bool,
}

impl From<&PartnerRef> for PartnerFlag {
    fn from(p: &PartnerRef) -> Self {
        PartnerFlag {
            id: p.id.0,
            slug: p.slug.clone(),
            name: p.name.clone(),
            kinds: p.kinds.as_slice().to_vec(),
            technical_level: p.technical_level,
            certified: p.certified(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserRefView {
    pub id: i64,
    pub name: String,
    pub email: String,
}

impl From<&UserRef> for UserRefView {
    fn from(u: &UserRef) -> Self {
        UserRefView {
            id: u.id.0,
            name: u.name.clone(),
            email: u.email.clone(),
        }
    }
}
