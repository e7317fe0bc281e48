//! Organisations: customers, and partners that resell, implement or run frontline support.

use crate::{string_enum, ParseError};
use serde::{Deserialize, Serialize};

string_enum!(
    /// A customer buys support; a partner delivers some of it, often for end customers it serves.
    OrgKind { Customer => "customer", Partner => "partner" }
);

string_enum!(
    /// What a partner does for the vendor. A partner may be several at once.
    PartnerKind { Reseller => "reseller", Implementer => "implementer", Frontline => "frontline" }
);

string_enum!(
    /// How much a partner (or customer) can troubleshoot on its own.
    TechnicalLevel { Basic => "basic", Intermediate => "intermediate", Expert => "expert" }
);

/// The set of kinds of a partner, kept sorted and without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct PartnerKinds(Vec<PartnerKind>);

impl PartnerKinds {
    pub fn new(mut kinds: Vec<PartnerKind>) -> Self {
        kinds.sort();
        kinds.dedup();
        Self(kinds)
    }

    /// Parses a comma-separated list such as `reseller,frontline`.
    pub fn parse_list(text: &str) -> Result<Self, ParseError> {
        let kinds = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(PartnerKind::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(kinds))
    }

    /// The stored form: comma-separated, sorted.
    pub fn to_list(&self) -> String {
        self.0
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn as_slice(&self) -> &[PartnerKind] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A URL-safe organisation handle: lowercase ASCII letters, digits and inner hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let text = text.trim();
        if text.is_empty() || text.len() > 63 {
            return Err(ParseError("must be 1 to 63 characters".into()));
        }
        let valid_chars = text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_chars || text.starts_with('-') || text.ends_with('-') {
            return Err(ParseError(
                "use lowercase letters, digits and inner hyphens only".into(),
            ));
        }
        Ok(Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks that a new organisation's fields agree with each other.
///
/// Only partners have partner kinds, only customers are served by a partner; a partner must
/// say what it does.
pub fn check_org_shape(
    kind: OrgKind,
    partner_kinds: &PartnerKinds,
    served_by_given: bool,
) -> Result<(), (&'static str, &'static str)> {
    match kind {
        OrgKind::Partner if partner_kinds.is_empty() => Err((
            "partner_kinds",
            "a partner needs at least one kind: reseller, implementer or frontline",
        )),
        OrgKind::Partner if served_by_given => {
            Err(("served_by", "only a customer can be served by a partner"))
        }
        OrgKind::Customer if !partner_kinds.is_empty() => {
            Err(("partner_kinds", "only a partner has partner kinds"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_accept_handles_and_refuse_the_rest() {
        assert_eq!(Slug::parse("acme-2").unwrap().as_str(), "acme-2");
        for bad in [
            "",
            "Acme",
            "-acme",
            "acme-",
            "ac me",
            "acme_1",
            &"a".repeat(64),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn partner_kinds_are_sorted_and_deduplicated() {
        let kinds = PartnerKinds::parse_list("frontline, reseller,frontline").unwrap();
        assert_eq!(
            kinds.as_slice(),
            &[PartnerKind::Reseller, PartnerKind::Frontline]
        );
        assert_eq!(kinds.to_list(), "reseller,frontline");
        assert!(PartnerKinds::parse_list("reseller,distributor").is_err());
    }

    #[test]
    fn org_shape_rules() {
        let none = PartnerKinds::default();
        let reseller = PartnerKinds::new(vec![PartnerKind::Reseller]);
        assert!(check_org_shape(OrgKind::Partner, &none, false).is_err());
        assert!(check_org_shape(OrgKind::Partner, &reseller, true).is_err());
        assert!(check_org_shape(OrgKind::Customer, &reseller, false).is_err());
        assert!(check_org_shape(OrgKind::Customer, &none, true).is_ok());
        assert!(check_org_shape(OrgKind::Partner, &reseller, false).is_ok());
    }
}
