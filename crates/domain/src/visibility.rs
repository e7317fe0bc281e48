//! Who may see what. The one rule every read path applies, stated once:
//!
//! - vendor staff (admins, agents) see every case and every internal note;
//! - a partner technician sees the cases whose partner is its organisation: those it filed,
//!   and those of the end customers it serves;
//! - a customer sees the cases of its own organisation;
//! - nobody outside vendor staff sees an internal note.
//!
//! Anything outside a caller's scope is answered as if it did not exist.

use crate::{OrgId, OrgKind, Role, UserId};

/// The signed-in caller, as far as authorization is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    /// `None` for vendor staff.
    pub org_id: Option<OrgId>,
    /// What the customer's serving partner's agreement withholds (nothing for anyone else).
    pub limits: AccessLimits,
}

/// Limits a partner's agreement places on its end customers' users.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccessLimits {
    /// `vendor_direct_contact: never`: the partner carries the conversation; the customer's
    /// users neither see cases nor hear from the vendor.
    pub no_vendor_contact: bool,
    /// `customers_see_vendor_kb: false`: no vendor articles in self-service.
    pub no_vendor_kb: bool,
}

/// The set of cases an actor may see, in a form storage can turn into a `WHERE` clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseScope {
    All,
    /// Cases whose partner is this organisation.
    Partner(OrgId),
    /// Cases of this (customer) organisation.
    Organization(OrgId),
    /// Nothing: a non-staff user with no organisation (should not exist, but fails closed).
    Nothing,
}

impl Actor {
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }

    pub fn case_scope(&self) -> CaseScope {
        match (self.role, self.org_id) {
            (Role::Admin | Role::Agent, _) => CaseScope::All,
            (Role::Partner, Some(org)) => CaseScope::Partner(org),
            (Role::Customer, Some(_)) if self.limits.no_vendor_contact => CaseScope::Nothing,
            (Role::Customer, Some(org)) => CaseScope::Organization(org),
            (Role::Partner | Role::Customer, None) => CaseScope::Nothing,
        }
    }

    /// Whether the actor may read an article in this state for this audience.
    pub fn can_read_article(&self, state: crate::ArticleState, audience: crate::Audience) -> bool {
        !(self.role == Role::Customer && self.limits.no_vendor_kb)
            && crate::knowledge::can_read_article(self.role, state, audience)
    }

    /// The audiences whose (validated) articles the actor may read.
    pub fn readable_audiences(&self) -> &'static [crate::Audience] {
        if self.role == Role::Customer && self.limits.no_vendor_kb {
            &[]
        } else {
            crate::knowledge::readable_audiences(self.role)
        }
    }

    /// Whether a case with this organisation and partner is in the actor's scope.
    pub fn can_see_case(&self, organization: OrgId, partner: Option<OrgId>) -> bool {
        match self.case_scope() {
            CaseScope::All => true,
            CaseScope::Partner(org) => partner == Some(org),
            CaseScope::Organization(org) => organization == org,
            CaseScope::Nothing => false,
        }
    }

    pub fn can_see_comment(&self, public: bool) -> bool {
        public || self.is_staff()
    }

    /// Whether the actor may read a partner's program records (profile, agreement, scorecard,
    /// fees, statements): staff any partner, a partner technician only its own. Everyone else
    /// is answered as if the partner did not exist.
    pub fn can_read_partner_program(&self, partner: OrgId) -> bool {
        match self.role {
            Role::Admin | Role::Agent => true,
            Role::Partner => self.org_id == Some(partner),
            Role::Customer => false,
        }
    }

    /// Whether the actor may read this organisation's record: staff any; others their own,
    /// and a partner also the customers it serves.
    pub fn can_see_org(&self, org: OrgId, served_by: Option<OrgId>) -> bool {
        match self.case_scope() {
            CaseScope::All => true,
            CaseScope::Partner(own) => org == own || served_by == Some(own),
            CaseScope::Organization(own) => org == own,
            CaseScope::Nothing => false,
        }
    }
}

/// What storage knows about an organisation when a case is filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgFacts {
    pub id: OrgId,
    pub kind: OrgKind,
    pub served_by: Option<OrgId>,
}

/// The organisation a new case belongs to and the partner flagged on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseParties {
    pub organization: OrgId,
    pub partner: Option<OrgId>,
}

/// Why a case could not be filed for the requested organisation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartiesError {
    #[error("only a partner or vendor staff can file on behalf of another organisation")]
    NotAllowed,
    #[error("not an end customer your organisation serves")]
    NotServed,
    #[error("vendor staff must name the organisation the case is for")]
    Missing,
    #[error("your account belongs to no organisation")]
    NoOrganization,
}

/// Decides which organisation a new case belongs to and which partner it is flagged with.
///
/// `own` is the requester's organisation (none for staff); `on_behalf_of` the organisation
/// named in the request, if any. The partner is the one that filed the case, or the one that
/// serves the customer, so the flag is right however the case arrived.
pub fn resolve_case_parties(
    role: Role,
    own: Option<OrgFacts>,
    on_behalf_of: Option<OrgFacts>,
) -> Result<CaseParties, PartiesError> {
    let partner_of = |org: OrgFacts| match org.kind {
        OrgKind::Partner => Some(org.id),
        OrgKind::Customer => org.served_by,
    };
    match role {
        Role::Admin | Role::Agent => {
            let target = on_behalf_of.ok_or(PartiesError::Missing)?;
            Ok(CaseParties {
                organization: target.id,
                partner: partner_of(target),
            })
        }
        Role::Customer => {
            let own = own.ok_or(PartiesError::NoOrganization)?;
            match on_behalf_of {
                Some(other) if other.id != own.id => Err(PartiesError::NotAllowed),
                _ => Ok(CaseParties {
                    organization: own.id,
                    partner: partner_of(own),
                }),
            }
        }
        Role::Partner => {
            let own = own.ok_or(PartiesError::NoOrganization)?;
            match on_behalf_of {
                None => Ok(CaseParties {
                    organization: own.id,
                    partner: Some(own.id),
                }),
                Some(c) if c.id == own.id => Ok(CaseParties {
                    organization: own.id,
                    partner: Some(own.id),
                }),
                Some(c) if c.kind == OrgKind::Customer && c.served_by == Some(own.id) => {
                    Ok(CaseParties {
                        organization: c.id,
                        partner: Some(own.id),
                    })
                }
                Some(_) => Err(PartiesError::NotServed),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn partner_program_records_are_for_staff_and_the_partner_itself() {
        let acme = OrgId(7);
        assert!(actor(Role::Admin, None).can_read_partner_program(acme));
        assert!(actor(Role::Agent, None).can_read_partner_program(acme));
        assert!(actor(Role::Partner, Some(OrgId(7))).can_read_partner_program(acme));
        assert!(!actor(Role::Partner, Some(OrgId(8))).can_read_partner_program(acme));
        assert!(!actor(Role::Partner, None).can_read_partner_program(acme));
        // A customer served by the partner still may not read its program.
        assert!(!actor(Role::Customer, Some(OrgId(7))).can_read_partner_program(acme));
    }

    use super::*;

    const PARTNER: OrgId = OrgId(1);
    const OTHER_PARTNER: OrgId = OrgId(2);
    const SERVED: OrgId = OrgId(10);
    const DIRECT: OrgId = OrgId(11);

    fn actor(role: Role, org: Option<OrgId>) -> Actor {
        Actor {
            limits: AccessLimits::default(),
            user_id: UserId(7),
            role,
            org_id: org,
        }
    }

    fn facts(id: OrgId, kind: OrgKind, served_by: Option<OrgId>) -> OrgFacts {
        OrgFacts {
            id,
            kind,
            served_by,
        }
    }

    #[test]
    fn staff_see_everything() {
        let agent = actor(Role::Agent, None);
        assert!(agent.can_see_case(DIRECT, None));
        assert!(agent.can_see_case(SERVED, Some(PARTNER)));
        assert!(agent.can_see_comment(false));
    }

    #[test]
    fn partners_see_their_own_and_their_customers_cases_only() {
        let tech = actor(Role::Partner, Some(PARTNER));
        assert!(tech.can_see_case(PARTNER, Some(PARTNER)));
        assert!(tech.can_see_case(SERVED, Some(PARTNER)));
        assert!(!tech.can_see_case(DIRECT, None));
        assert!(!tech.can_see_case(SERVED, Some(OTHER_PARTNER)));
        assert!(!tech.can_see_comment(false));
        assert!(tech.can_see_org(SERVED, Some(PARTNER)));
        assert!(!tech.can_see_org(DIRECT, None));
    }

    #[test]
    fn customers_see_their_organisation_only() {
        let customer = actor(Role::Customer, Some(SERVED));
        assert!(customer.can_see_case(SERVED, Some(PARTNER)));
        assert!(!customer.can_see_case(DIRECT, None));
        assert!(!customer.can_see_comment(false));
        assert!(customer.can_see_comment(true));
    }

    #[test]
    fn users_without_organisation_see_nothing() {
        assert_eq!(actor(Role::Customer, None).case_scope(), CaseScope::Nothing);
        assert!(!actor(Role::Partner, None).can_see_case(DIRECT, None));
    }

    #[test]
    fn partner_filing_for_a_served_customer_is_flagged() {
        let own = facts(PARTNER, OrgKind::Partner, None);
        let customer = facts(SERVED, OrgKind::Customer, Some(PARTNER));
        let parties = resolve_case_parties(Role::Partner, Some(own), Some(customer)).unwrap();
        assert_eq!(
            parties,
            CaseParties {
                organization: SERVED,
                partner: Some(PARTNER)
            }
        );
        let itself = resolve_case_parties(Role::Partner, Some(own), None).unwrap();
        assert_eq!(
            itself,
            CaseParties {
                organization: PARTNER,
                partner: Some(PARTNER)
            }
        );
    }

    #[test]
    fn partner_cannot_file_for_someone_elses_customer() {
        let own = facts(PARTNER, OrgKind::Partner, None);
        let foreign = facts(SERVED, OrgKind::Customer, Some(OTHER_PARTNER));
        let direct = facts(DIRECT, OrgKind::Customer, None);
        let other_partner = facts(OTHER_PARTNER, OrgKind::Partner, None);
        for target in [foreign, direct, other_partner] {
            assert_eq!(
                resolve_case_parties(Role::Partner, Some(own), Some(target)),
                Err(PartiesError::NotServed)
            );
        }
    }

    #[test]
    fn customer_cases_carry_their_serving_partner() {
        let served = facts(SERVED, OrgKind::Customer, Some(PARTNER));
        let parties = resolve_case_parties(Role::Customer, Some(served), None).unwrap();
        assert_eq!(parties.partner, Some(PARTNER));
        let direct = facts(DIRECT, OrgKind::Customer, None);
        assert_eq!(
            resolve_case_parties(Role::Customer, Some(direct), None)
                .unwrap()
                .partner,
            None
        );
        assert_eq!(
            resolve_case_parties(Role::Customer, Some(direct), Some(served)),
            Err(PartiesError::NotAllowed)
        );
    }

    #[test]
    fn staff_must_name_the_organisation() {
        assert_eq!(
            resolve_case_parties(Role::Agent, None, None),
            Err(PartiesError::Missing)
        );
        let served = facts(SERVED, OrgKind::Customer, Some(PARTNER));
        let parties = resolve_case_parties(Role::Agent, None, Some(served)).unwrap();
        assert_eq!(
            parties,
            CaseParties {
                organization: SERVED,
                partner: Some(PARTNER)
            }
        );
    }
}
