//! Cases: what a valid case is and which changes to it are allowed.

use crate::{string_enum, FieldErrors, ParseError, Role};
use serde::{Deserialize, Serialize};

string_enum!(
    /// Where a case stands. `closed` is final: a closed case is never reopened, a new one is filed.
    CaseStatus {
        New => "new", Open => "open", Pending => "pending", OnHold => "on_hold",
        Solved => "solved", Closed => "closed"
    }
);

impl CaseStatus {
    /// Open work: not solved and not closed.
    pub fn is_active(self) -> bool {
        !matches!(self, CaseStatus::Solved | CaseStatus::Closed)
    }
}

string_enum!(
    Priority { Low => "low", Normal => "normal", High => "high", Urgent => "urgent" }
);

string_enum!(
    /// How the case reached the vendor.
    Channel { Web => "web", Api => "api", Email => "email", Community => "community", Monitoring => "monitoring", Social => "social" }
);

/// Support tier 1 to 3 (L1, L2, L3). Serialised as the bare number.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Tier(u8);

impl Tier {
    pub const L1: Tier = Tier(1);
    pub const L2: Tier = Tier(2);
    pub const L3: Tier = Tier(3);

    pub fn new(level: i64) -> Result<Self, ParseError> {
        match level {
            1..=3 => Ok(Tier(level as u8)),
            _ => Err(ParseError(format!("tier must be 1, 2 or 3, not {level}"))),
        }
    }

    pub fn level(self) -> i64 {
        i64::from(self.0)
    }
}

impl TryFrom<i64> for Tier {
    type Error = ParseError;
    fn try_from(level: i64) -> Result<Self, Self::Error> {
        Tier::new(level)
    }
}

impl From<Tier> for i64 {
    fn from(tier: Tier) -> i64 {
        tier.level()
    }
}

pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 50_000;
pub const MAX_COMMENT_CHARS: usize = 50_000;
pub const MAX_PRODUCT_CHARS: usize = 100;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 40;

/// A new case as validated at the edge, before parties are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCaseInput {
    pub subject: String,
    pub description: String,
    pub priority: Priority,
    pub product: Option<String>,
}

impl NewCaseInput {
    /// Trims and checks the free-text fields, collecting every problem at once.
    pub fn parse(
        subject: &str,
        description: &str,
        priority: Option<&str>,
        product: Option<&str>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let subject = subject.trim();
        if subject.is_empty() {
            errors.add(
                "subject",
                "write a subject: one line that says what the problem is",
            );
        } else if subject.chars().count() > MAX_SUBJECT_CHARS {
            errors.add(
                "subject",
                format!("must be at most {MAX_SUBJECT_CHARS} characters"),
            );
        }
        let description = description.trim();
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            errors.add(
                "description",
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
            );
        }
        let priority = match priority {
            None => Some(Priority::Normal),
            Some(p) => errors.check("priority", Priority::parse(p)),
        };
        let product = product.map(str::trim).filter(|p| !p.is_empty());
        if product.is_some_and(|p| p.chars().count() > MAX_PRODUCT_CHARS) {
            errors.add(
                "product",
                format!("must be at most {MAX_PRODUCT_CHARS} characters"),
            );
        }
        errors.into_result()?;
        Ok(NewCaseInput {
            subject: subject.to_string(),
            description: description.to_string(),
            priority: priority.unwrap_or(Priority::Normal),
            product: product.map(str::to_string),
        })
    }
}

/// Checks a comment body: not blank, not huge.
pub fn check_comment_body(body: &str) -> Result<String, ParseError> {
    let body = body.trim();
    if body.is_empty() {
        return Err(ParseError("Write a reply before sending.".into()));
    }
    let length = body.chars().count();
    if length > MAX_COMMENT_CHARS {
        return Err(ParseError(format!(
            "This reply has {length} characters; a reply can hold at most {MAX_COMMENT_CHARS}. \
             Shorten it, or split it over two replies."
        )));
    }
    Ok(body.to_string())
}

/// Normalises tags: lower-case, trimmed, sorted, unique; each made of letters, digits and
/// `-_.:` so they stay usable in search filters.
pub fn normalize_tags(tags: &[String]) -> Result<Vec<String>, ParseError> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS {
            return Err(ParseError(format!(
                "each tag must be 1 to {MAX_TAG_CHARS} characters"
            )));
        }
        if !tag
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.:".contains(c))
        {
            return Err(ParseError(format!(
                "tag {tag:?} may contain only letters, digits and - _ . :"
            )));
        }
        out.push(tag);
    }
    out.sort();
    out.dedup();
    if out.len() > MAX_TAGS {
        return Err(ParseError(format!("at most {MAX_TAGS} tags")));
    }
    Ok(out)
}

/// Whether `role` may move a case from `from` to `to`.
///
/// Staff may set any status except leave `closed`. Customers and partner technicians may only
/// mark their case solved, or reopen a solved one; everything else is the vendor's call.
pub fn check_status_change(role: Role, from: CaseStatus, to: CaseStatus) -> Result<(), ParseError> {
    if from == to {
        return Ok(());
    }
    if from == CaseStatus::Closed {
        return Err(ParseError(
            "a closed case cannot be reopened; file a new case".into(),
        ));
    }
    if role.is_staff() {
        return Ok(());
    }
    match (from, to) {
        (_, CaseStatus::Solved) => Ok(()),
        (CaseStatus::Solved, CaseStatus::Open) => Ok(()),
        _ => Err(ParseError(format!(
            "you may mark the case solved or reopen a solved case, not set it to {to}"
        ))),
    }
}

/// Whether a comment may be added to a case in `status` at all.
pub fn check_comment_allowed(status: CaseStatus) -> Result<(), ParseError> {
    if status == CaseStatus::Closed {
        return Err(ParseError("the case is closed; file a new case".into()));
    }
    Ok(())
}

/// How a comment moves the case along: a staff reply takes a new case into work; the
/// requester's side answering a pending or solved case hands it back to the vendor.
/// Internal notes never change the status.
pub fn status_after_comment(author: Role, public: bool, status: CaseStatus) -> Option<CaseStatus> {
    if !public {
        return None;
    }
    match (author.is_staff(), status) {
        (true, CaseStatus::New) => Some(CaseStatus::Open),
        (false, CaseStatus::Pending | CaseStatus::Solved) => Some(CaseStatus::Open),
        _ => None,
    }
}

/// What merging needs to know of each case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeFacts {
    pub id: crate::CaseId,
    pub status: CaseStatus,
    pub organization: crate::OrgId,
    pub partner: Option<crate::OrgId>,
}

/// Whether `source` may be merged into `survivor`. Everyone who could read one case must be
/// able to read the other, since its conversation moves across: so both belong to the same
/// organisation and the same serving partner. A closed case is final and takes no part.
pub fn check_merge(source: &MergeFacts, survivor: &MergeFacts) -> Result<(), ParseError> {
    if source.id == survivor.id {
        return Err(ParseError("A case cannot be merged into itself.".into()));
    }
    if source.status == CaseStatus::Closed || survivor.status == CaseStatus::Closed {
        return Err(ParseError(
            "Closed cases cannot be merged; reopen neither, file a new case instead.".into(),
        ));
    }
    if source.organization != survivor.organization {
        return Err(ParseError(format!(
            "#{} and #{} belong to different organisations; their people would read each other's conversation.",
            source.id, survivor.id
        )));
    }
    if source.partner != survivor.partner {
        return Err(ParseError(format!(
            "#{} and #{} are served by different partners; merge only cases the same partner sees.",
            source.id, survivor.id
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_every_reader_of_both_cases_the_same() {
        use crate::{CaseId, OrgId};
        let case = |id, status, org, partner: Option<i64>| MergeFacts {
            id: CaseId(id),
            status,
            organization: OrgId(org),
            partner: partner.map(OrgId),
        };
        let survivor = case(1, CaseStatus::Open, 10, Some(20));
        assert!(check_merge(&case(2, CaseStatus::Solved, 10, Some(20)), &survivor).is_ok());
        assert!(check_merge(&case(1, CaseStatus::Open, 10, Some(20)), &survivor).is_err());
        assert!(check_merge(&case(2, CaseStatus::Closed, 10, Some(20)), &survivor).is_err());
        let other_org = check_merge(&case(2, CaseStatus::Open, 11, Some(20)), &survivor);
        assert!(other_org.unwrap_err().0.contains("different organisations"));
        let other_partner = check_merge(&case(2, CaseStatus::Open, 10, None), &survivor);
        assert!(other_partner.unwrap_err().0.contains("different partners"));
    }

    #[test]
    fn new_case_collects_every_field_error() {
        let long = "x".repeat(MAX_SUBJECT_CHARS + 1);
        let err = NewCaseInput::parse(&long, "", Some("highest"), Some("")).unwrap_err();
        assert_eq!(err.0.keys().collect::<Vec<_>>(), ["priority", "subject"]);
        let err = NewCaseInput::parse("   ", "d", None, None).unwrap_err();
        assert_eq!(
            err.0["subject"],
            "write a subject: one line that says what the problem is"
        );
    }

    #[test]
    fn new_case_trims_and_defaults() {
        let case =
            NewCaseInput::parse("  Disk full ", " backup fails ", None, Some(" Backup ")).unwrap();
        assert_eq!(case.subject, "Disk full");
        assert_eq!(case.description, "backup fails");
        assert_eq!(case.priority, Priority::Normal);
        assert_eq!(case.product.as_deref(), Some("Backup"));
    }

    #[test]
    fn tiers_are_one_to_three() {
        assert_eq!(Tier::new(2).unwrap(), Tier::L2);
        assert!(Tier::new(0).is_err() && Tier::new(4).is_err());
        assert_eq!(serde_json_like(Tier::L3), 3);
    }

    fn serde_json_like(tier: Tier) -> i64 {
        i64::from(tier)
    }

    #[test]
    fn tags_are_normalised() {
        let tags = normalize_tags(&["VIP".into(), " disk-full ".into(), "vip".into()]).unwrap();
        assert_eq!(tags, ["disk-full", "vip"]);
        assert!(normalize_tags(&["two words".into()]).is_err());
        assert!(normalize_tags(&["".into()]).is_err());
        let many: Vec<String> = (0..=MAX_TAGS).map(|i| format!("t{i}")).collect();
        assert!(normalize_tags(&many).is_err());
    }

    #[test]
    fn status_changes_by_role() {
        use CaseStatus::*;
        assert!(check_status_change(Role::Agent, Open, Pending).is_ok());
        assert!(check_status_change(Role::Agent, Closed, Open).is_err());
        assert!(check_status_change(Role::Customer, Open, Solved).is_ok());
        assert!(check_status_change(Role::Customer, Solved, Open).is_ok());
        assert!(check_status_change(Role::Partner, Open, OnHold).is_err());
        assert!(check_status_change(Role::Partner, Closed, Solved).is_err());
        assert!(check_status_change(Role::Customer, Open, Open).is_ok());
    }

    #[test]
    fn comments_move_cases_along() {
        use CaseStatus::*;
        assert_eq!(status_after_comment(Role::Agent, true, New), Some(Open));
        assert_eq!(status_after_comment(Role::Agent, false, New), None);
        assert_eq!(status_after_comment(Role::Agent, true, Pending), None);
        assert_eq!(
            status_after_comment(Role::Customer, true, Pending),
            Some(Open)
        );
        assert_eq!(
            status_after_comment(Role::Partner, true, Solved),
            Some(Open)
        );
        assert_eq!(status_after_comment(Role::Customer, true, New), None);
        assert!(check_comment_allowed(Closed).is_err());
        assert!(check_comment_allowed(Solved).is_ok());
    }

    #[test]
    fn comment_bodies_must_say_something() {
        assert!(check_comment_body("  \n ").is_err());
        assert_eq!(check_comment_body(" thanks ").unwrap(), "thanks");
    }
}
