//! Who is writing: the sender of an email as a user of ours, a customer user to create, or
//! someone to hold for triage; and the per-sender rate limit that stops mail storms.

use crate::{Actor, Email, OrgFacts, OrgId, OrgKind, ParseError, Role, Span, Timestamp};
use std::fmt;

/// What the admin chose for senders nobody knows, from domains no organisation owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownSenderPolicy {
    /// Make them customer users of this (customer) organisation, such as "Individuals".
    CreateUser { org: OrgId },
    /// Keep their mail in quarantine until an agent decides.
    Hold,
}

/// What storage knows about a sender, looked up by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderFacts {
    pub address: Email,
    /// The user with this address, if any.
    pub user: Option<Actor>,
    /// The organisation that owns the address's domain, if any.
    pub domain_owner: Option<OrgFacts>,
    /// The organisations of the known users the message names in To and Cc (besides the
    /// sender): how a partner technician says which customer it writes for.
    pub named_orgs: Vec<OrgFacts>,
    pub policy: UnknownSenderPolicy,
}

/// Who the mail is from, as far as cases are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderDecision {
    /// A user we know; a new case it opens is filed for `files_for`.
    Known { actor: Actor, files_for: FilesFor },
    /// Someone new, to be made a customer user of `org`.
    CreateCustomer { org: OrgId, why: CreateReason },
    /// Nobody decides this but a person.
    Hold(HoldReason),
}

/// Which organisation a new case from a known user belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilesFor {
    /// The sender's own organisation (customers, and partners writing for themselves).
    Own,
    /// The one customer named in To or Cc: for a partner technician, one it serves; for
    /// vendor staff, any.
    Customer(OrgId),
    /// The mail does not say which customer it is for: several are named, or (from vendor
    /// staff, who belong to no customer) none.
    Unclear(Vec<OrgId>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateReason {
    /// The organisation owns the sender's mail domain.
    DomainOwner,
    /// The admin's policy for unknown senders.
    Policy,
}

/// Why a sender's mail waits for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldReason {
    /// Nobody knows the sender, and the policy is to hold.
    UnknownSender,
    /// The domain belongs to a partner: partner technicians see all their partner's cases, so
    /// they are added by hand, never created by a mail.
    PartnerDomain(OrgId),
    /// The customer's partner carries the conversation (`vendor_direct_contact: never`).
    NoVendorContact,
    /// A partner technician or customer without an organisation (should not exist).
    NoOrganisation,
}

impl fmt::Display for HoldReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HoldReason::UnknownSender => {
                f.write_str("the sender is not a user and their domain belongs to no organisation")
            }
            HoldReason::PartnerDomain(org) => write!(
                f,
                "the sender's domain belongs to partner organisation {org}; partner \
                 technicians are added by hand"
            ),
            HoldReason::NoVendorContact => f.write_str(
                "the sender's partner handles their support (their agreement rules out direct \
                 contact with the vendor)",
            ),
            HoldReason::NoOrganisation => f.write_str("the sender's account has no organisation"),
        }
    }
}

/// Decides who a sender is.
///
/// A known address is its user. Otherwise the domain's owner decides: a customer
/// organisation gets a new customer user; a partner's domain is held (see
/// [`HoldReason::PartnerDomain`]). Otherwise the admin's policy applies.
pub fn resolve_sender(facts: &SenderFacts) -> SenderDecision {
    if let Some(actor) = facts.user {
        return known_sender(actor, &facts.named_orgs);
    }
    match facts.domain_owner {
        Some(org) if org.kind == OrgKind::Customer => SenderDecision::CreateCustomer {
            org: org.id,
            why: CreateReason::DomainOwner,
        },
        Some(org) => SenderDecision::Hold(HoldReason::PartnerDomain(org.id)),
        None => match facts.policy {
            UnknownSenderPolicy::CreateUser { org } => SenderDecision::CreateCustomer {
                org,
                why: CreateReason::Policy,
            },
            UnknownSenderPolicy::Hold => SenderDecision::Hold(HoldReason::UnknownSender),
        },
    }
}

fn known_sender(actor: Actor, named: &[OrgFacts]) -> SenderDecision {
    match (actor.role, actor.org_id) {
        (Role::Admin | Role::Agent, _) => SenderDecision::Known {
            actor,
            files_for: staff_files_for(named),
        },
        (Role::Partner | Role::Customer, None) => SenderDecision::Hold(HoldReason::NoOrganisation),
        (Role::Customer, Some(_)) if actor.limits.no_vendor_contact => {
            SenderDecision::Hold(HoldReason::NoVendorContact)
        }
        (Role::Customer, Some(_)) => SenderDecision::Known {
            actor,
            files_for: FilesFor::Own,
        },
        (Role::Partner, Some(own)) => SenderDecision::Known {
            actor,
            files_for: partner_files_for(own, named),
        },
    }
}

/// The customer a partner technician writes for: the one customer it serves among the
/// organisations named in To and Cc. Customers it does not serve are ignored (a partner
/// cannot file for them anyway); two or more served ones leave it unclear.
fn partner_files_for(partner: OrgId, named: &[OrgFacts]) -> FilesFor {
    let mut served: Vec<OrgId> = named
        .iter()
        .filter(|org| org.kind == OrgKind::Customer && org.served_by == Some(partner))
        .map(|org| org.id)
        .collect();
    served.sort();
    served.dedup();
    match served.as_slice() {
        [] => FilesFor::Own,
        [one] => FilesFor::Customer(*one),
        _ => FilesFor::Unclear(served),
    }
}

/// The customer a staff member's new case is for (say, a customer's mail forwarded to
/// support with the customer in Cc): the one customer organisation named. Staff belong to no
/// customer, so naming none leaves it as unclear as naming several.
fn staff_files_for(named: &[OrgFacts]) -> FilesFor {
    let mut customers: Vec<OrgId> = named
        .iter()
        .filter(|org| org.kind == OrgKind::Customer)
        .map(|org| org.id)
        .collect();
    customers.sort();
    customers.dedup();
    match customers.as_slice() {
        [one] => FilesFor::Customer(*one),
        _ => FilesFor::Unclear(customers),
    }
}

/// At most `max` messages per sender in any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    max: u32,
    window: Span,
}

impl RateLimit {
    pub fn new(max: u32, window: Span) -> Result<Self, ParseError> {
        if max == 0 {
            return Err(ParseError(
                "the rate limit must allow at least one message".into(),
            ));
        }
        if window <= Span::ZERO {
            return Err(ParseError(
                "the rate limit's window must be longer than zero".into(),
            ));
        }
        Ok(Self { max, window })
    }

    pub fn max(&self) -> u32 {
        self.max
    }

    pub fn window(&self) -> Span {
        self.window
    }
}

impl Default for RateLimit {
    /// 20 messages in 10 minutes: far above what a person writes, far below a loop between
    /// two mail robots (which answer each other within seconds).
    fn default() -> Self {
        Self {
            max: 20,
            window: Span::MINUTE.times(10),
        }
    }
}

/// Whether one more message from a sender may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allow,
    /// Over the limit until this moment; the message goes to quarantine meanwhile.
    Limited {
        until: Timestamp,
    },
}

/// A sliding window over the arrival times of the sender's earlier messages (any order;
/// the caller reads those within the last `window`, but older ones are ignored here too).
/// Times after `now`, from a node whose clock runs ahead, count as recent rather than being
/// ignored: a storm spread over several nodes is still a storm.
pub fn check_rate(limit: &RateLimit, earlier: &[Timestamp], now: Timestamp) -> RateDecision {
    let since = now.minus(limit.window);
    let mut recent: Vec<Timestamp> = earlier.iter().copied().filter(|t| *t > since).collect();
    if recent.len() < limit.max as usize {
        return RateDecision::Allow;
    }
    // The window has room again when the max-th most recent message leaves it.
    recent.sort_unstable_by(|a, b| b.cmp(a));
    let leaving = recent[limit.max as usize - 1];
    RateDecision::Limited {
        until: leaving.plus(limit.window).max(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccessLimits, UserId};

    const PARTNER: OrgId = OrgId(1);
    const ACME: OrgId = OrgId(10);
    const GLOBEX: OrgId = OrgId(11);
    const INDIVIDUALS: OrgId = OrgId(99);

    fn actor(role: Role, org: Option<OrgId>) -> Actor {
        Actor {
            user_id: UserId(5),
            role,
            org_id: org,
            limits: AccessLimits::default(),
        }
    }

    fn customer(id: OrgId, served_by: Option<OrgId>) -> OrgFacts {
        OrgFacts {
            id,
            kind: OrgKind::Customer,
            served_by,
        }
    }

    fn facts(user: Option<Actor>) -> SenderFacts {
        SenderFacts {
            address: Email::parse("ann@acme.test").unwrap(),
            user,
            domain_owner: None,
            named_orgs: vec![],
            policy: UnknownSenderPolicy::Hold,
        }
    }

    #[test]
    fn known_addresses_are_their_users() {
        let ann = actor(Role::Customer, Some(ACME));
        assert_eq!(
            resolve_sender(&facts(Some(ann))),
            SenderDecision::Known {
                actor: ann,
                files_for: FilesFor::Own
            }
        );
        // Staff file for the one customer they name, and for nobody when they name none.
        let agent = actor(Role::Agent, None);
        assert_eq!(
            resolve_sender(&facts(Some(agent))),
            SenderDecision::Known {
                actor: agent,
                files_for: FilesFor::Unclear(vec![])
            }
        );
        let mut f = facts(Some(agent));
        f.named_orgs = vec![customer(GLOBEX, Some(PARTNER)), customer(GLOBEX, None)];
        assert_eq!(
            resolve_sender(&f),
            SenderDecision::Known {
                actor: agent,
                files_for: FilesFor::Customer(GLOBEX)
            }
        );
        // Knowing the user beats any domain rule.
        let mut f = facts(Some(ann));
        f.domain_owner = Some(customer(GLOBEX, None));
        assert!(matches!(resolve_sender(&f), SenderDecision::Known { .. }));
    }

    #[test]
    fn customers_whose_partner_carries_the_conversation_are_held() {
        let mut ann = actor(Role::Customer, Some(ACME));
        ann.limits.no_vendor_contact = true;
        assert_eq!(
            resolve_sender(&facts(Some(ann))),
            SenderDecision::Hold(HoldReason::NoVendorContact)
        );
        assert_eq!(
            resolve_sender(&facts(Some(actor(Role::Partner, None)))),
            SenderDecision::Hold(HoldReason::NoOrganisation)
        );
    }

    #[test]
    fn unknown_senders_follow_the_domain_then_the_policy() {
        let mut f = facts(None);
        f.domain_owner = Some(customer(ACME, Some(PARTNER)));
        assert_eq!(
            resolve_sender(&f),
            SenderDecision::CreateCustomer {
                org: ACME,
                why: CreateReason::DomainOwner
            }
        );
        f.domain_owner = Some(OrgFacts {
            id: PARTNER,
            kind: OrgKind::Partner,
            served_by: None,
        });
        assert_eq!(
            resolve_sender(&f),
            SenderDecision::Hold(HoldReason::PartnerDomain(PARTNER))
        );
        f.domain_owner = None;
        assert_eq!(
            resolve_sender(&f),
            SenderDecision::Hold(HoldReason::UnknownSender)
        );
        f.policy = UnknownSenderPolicy::CreateUser { org: INDIVIDUALS };
        assert_eq!(
            resolve_sender(&f),
            SenderDecision::CreateCustomer {
                org: INDIVIDUALS,
                why: CreateReason::Policy
            }
        );
    }

    #[test]
    fn a_partner_writes_for_the_one_served_customer_named_in_to_or_cc() {
        let tech = actor(Role::Partner, Some(PARTNER));
        let with_named = |named: Vec<OrgFacts>| {
            let mut f = facts(Some(tech));
            f.named_orgs = named;
            resolve_sender(&f)
        };
        let files_for = |decision: SenderDecision| match decision {
            SenderDecision::Known { files_for, .. } => files_for,
            other => panic!("not known: {other:?}"),
        };
        assert_eq!(files_for(with_named(vec![])), FilesFor::Own);
        assert_eq!(
            files_for(with_named(vec![customer(ACME, Some(PARTNER))])),
            FilesFor::Customer(ACME)
        );
        // Two users of the same customer are one customer; a customer served by someone
        // else and the partner's own colleagues do not count.
        assert_eq!(
            files_for(with_named(vec![
                customer(ACME, Some(PARTNER)),
                customer(GLOBEX, Some(OrgId(2))),
                OrgFacts {
                    id: PARTNER,
                    kind: OrgKind::Partner,
                    served_by: None
                },
                customer(ACME, Some(PARTNER)),
            ])),
            FilesFor::Customer(ACME)
        );
        assert_eq!(
            files_for(with_named(vec![
                customer(GLOBEX, Some(PARTNER)),
                customer(ACME, Some(PARTNER)),
            ])),
            FilesFor::Unclear(vec![ACME, GLOBEX])
        );
    }

    fn at(minutes: i64) -> Timestamp {
        Timestamp::from_millis(1_790_847_000_000).plus(Span::MINUTE.times(minutes))
    }

    #[test]
    fn the_rate_limit_is_a_sliding_window() {
        let limit = RateLimit::new(3, Span::MINUTE.times(10)).unwrap();
        assert_eq!(check_rate(&limit, &[], at(0)), RateDecision::Allow);
        assert_eq!(
            check_rate(&limit, &[at(1), at(2)], at(5)),
            RateDecision::Allow
        );
        // Three in the last ten minutes: the fourth waits until the oldest of the three
        // leaves the window, at minute 1 + 10.
        assert_eq!(
            check_rate(&limit, &[at(3), at(1), at(2)], at(5)),
            RateDecision::Limited { until: at(11) }
        );
        // Exactly ten minutes old no longer counts.
        assert_eq!(
            check_rate(&limit, &[at(1), at(2), at(3)], at(11)),
            RateDecision::Allow
        );
        // Older messages are ignored; the window frees up with the third most recent.
        assert_eq!(
            check_rate(&limit, &[at(-30), at(4), at(2), at(3), at(1)], at(5)),
            RateDecision::Limited { until: at(12) }
        );
        // A node's clock ahead of ours still counts; we never say "until" the past.
        assert_eq!(
            check_rate(&limit, &[at(7), at(8), at(9)], at(5)),
            RateDecision::Limited { until: at(17) }
        );
    }

    #[test]
    fn rate_limits_must_allow_something() {
        assert!(RateLimit::new(0, Span::MINUTE).is_err());
        assert!(RateLimit::new(1, Span::ZERO).is_err());
        let limit = RateLimit::default();
        assert_eq!(
            (limit.max(), limit.window()),
            (20, Span::from_millis(600_000))
        );
    }
}
