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

/// A size for people: `812 bytes`, `40 KB`, `3.2 MB` (1 KB = 1024 bytes, as file managers
/// count).
pub fn human_size(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes.max(0) as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.0} KB", b / KB)
    } else if b < KB * KB * 10.0 {
        format!("{:.1} MB", b / KB / KB)
    } else {
        format!("{:.0} MB", b / KB / KB)
    }
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(super::human_size(812), "812 bytes");
        assert_eq!(super::human_size(40 * 1024), "40 KB");
        assert_eq!(super::human_size(3_355_443), "3.2 MB");
        assert_eq!(super::human_size(25 * 1024 * 1024), "25 MB");
    }
}
