//! People and what they are to the vendor.

use crate::{string_enum, OrgKind, ParseError};
use serde::{Deserialize, Serialize};

string_enum!(
    /// Admins and agents are vendor staff; partner technicians and customers belong to an
    /// organisation of their kind.
    Role { Admin => "admin", Agent => "agent", Partner => "partner", Customer => "customer" }
);

impl Role {
    /// Vendor staff see every case and internal notes.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Agent)
    }

    /// The organisation kind a user of this role must belong to; `None` for vendor staff,
    /// who belong to no customer or partner organisation.
    pub fn required_org_kind(self) -> Option<OrgKind> {
        match self {
            Role::Admin | Role::Agent => None,
            Role::Partner => Some(OrgKind::Partner),
            Role::Customer => Some(OrgKind::Customer),
        }
    }
}

/// An email address, lower-cased. Deliberately permissive: one `@`, a local part, and a
/// domain with a dot and no spaces; delivery is the real test.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let text = text.trim().to_lowercase();
        let invalid = || ParseError(format!("{text:?} is not an email address"));
        if text.len() > 254 || text.chars().any(char::is_whitespace) {
            return Err(invalid());
        }
        let (local, domain) = text.split_once('@').ok_or_else(invalid)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(invalid());
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or("", |(local, _)| local)
    }

    /// The part after the `@`: what an organisation owns when it owns a mail domain.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, domain)| domain)
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The smallest password we accept for a sign-in; tokens are the way for machines.
pub const MIN_PASSWORD_LEN: usize = 8;

pub fn check_password(password: &str) -> Result<(), ParseError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ParseError(format!(
            "must be at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "a@b@c.com",
            "a@.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn emails_split_into_local_part_and_domain() {
        let email = Email::parse("Support+7@Help.Example.com").unwrap();
        assert_eq!(email.local_part(), "support+7");
        assert_eq!(email.domain(), "help.example.com");
    }

    #[test]
    fn roles_know_their_organisation_kind() {
        assert_eq!(Role::Partner.required_org_kind(), Some(OrgKind::Partner));
        assert_eq!(Role::Customer.required_org_kind(), Some(OrgKind::Customer));
        assert_eq!(Role::Agent.required_org_kind(), None);
        assert!(Role::Admin.is_staff() && Role::Agent.is_staff());
        assert!(!Role::Partner.is_staff() && !Role::Customer.is_staff());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
    }
}
