//! Which case a message belongs to, and where it finally goes: a comment, a new case, noise,
//! or quarantine with a reason. Every message ends in exactly one of those.

use super::inbound::MailParseError;
use super::message_id::MessageId;
use super::noise::MessageKind;
use super::sender::{FilesFor, HoldReason, RateDecision, SenderDecision};
use crate::{CaseId, CaseStatus, OrgId, Timestamp};
use std::fmt;

/// Which case a reply joins, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadDecision {
    Join {
        case: CaseId,
        by: JoinedBy,
        /// Other cases the headers or the token also named, sorted: the message joined the
        /// nearest; these are for a note to the agent, not a second placement.
        also_named: Vec<CaseId>,
    },
    NewCase,
}

/// What tied the message to its case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinedBy {
    /// The message answers (or descends from) this message we sent.
    Header(MessageId),
    /// A signed token in its reply address or subject.
    Token,
}

/// Decides the thread.
///
/// `candidates` are the message's ids in [`InboundMessage::thread_ids`] order (In-Reply-To,
/// then References newest first); `sent` says which of them are Message-IDs we sent, and for
/// which case; `token` is the case a verified token names ([`find_case_token`]).
///
/// Headers win over the token: they are written by the mail program, a subject by a person
/// who may paste another case's tag. Among headers, the nearest ancestor wins, so when a
/// thread was forked or merged the message follows the branch it answers. A guessed case
/// number never gets here: only a verified token does.
///
/// [`InboundMessage::thread_ids`]: super::InboundMessage::thread_ids
/// [`find_case_token`]: super::find_case_token
pub fn decide_thread(
    candidates: &[MessageId],
    sent: &[(MessageId, CaseId)],
    token: Option<CaseId>,
) -> ThreadDecision {
    let case_of = |id: &MessageId| {
        sent.iter()
            .find(|(sent_id, _)| sent_id == id)
            .map(|(_, case)| *case)
    };
    let by_header = candidates
        .iter()
        .find_map(|id| case_of(id).map(|case| (case, JoinedBy::Header(id.clone()))));
    let (case, by) = match (by_header, token) {
        (Some(found), _) => found,
        (None, Some(case)) => (case, JoinedBy::Token),
        (None, None) => return ThreadDecision::NewCase,
    };
    let mut also_named: Vec<CaseId> = candidates
        .iter()
        .filter_map(case_of)
        .chain(token)
        .filter(|other| *other != case)
        .collect();
    also_named.sort();
    also_named.dedup();
    ThreadDecision::Join {
        case,
        by,
        also_named,
    }
}

/// What storage knows about the case a message would join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFacts {
    pub id: CaseId,
    pub organization: OrgId,
    pub partner: Option<OrgId>,
    pub status: CaseStatus,
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// A comment on this case, by the resolved sender.
    Comment { case: CaseId },
    /// A new case. `on_behalf_of` is the organisation to file it for, as
    /// [`resolve_case_parties`](crate::resolve_case_parties) takes it (`None`: the sender's
    /// own); `follow_up_of` is the closed case the mail answered, to link it.
    NewCase {
        on_behalf_of: Option<OrgId>,
        follow_up_of: Option<CaseId>,
    },
    /// Machine mail: kept, but it opens nothing and sends nothing (a bounce is recorded
    /// against the address that bounced).
    Noise(MessageKind),
    /// Waits for a person, with the reason.
    Quarantine(QuarantineReason),
}

/// Why a message waits in quarantine. The text says what an agent needs to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuarantineReason {
    Unparseable(MailParseError),
    RateLimited {
        until: Timestamp,
    },
    Held(HoldReason),
    /// The sender may not see the case its mail answers.
    MayNotComment {
        case: CaseId,
    },
    /// The case the headers or token name is gone.
    CaseNotFound(CaseId),
    /// A new case whose customer the mail does not settle: a partner technician named
    /// several it serves, or vendor staff named none or several.
    UnclearCustomer(Vec<OrgId>),
}

impl fmt::Display for QuarantineReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuarantineReason::Unparseable(e) => write!(f, "could not be read: {e}"),
            QuarantineReason::RateLimited { until } => write!(
                f,
                "the sender sent too many messages in a short time; more are held until {until}"
            ),
            QuarantineReason::Held(reason) => write!(f, "held for triage: {reason}"),
            QuarantineReason::MayNotComment { case } => write!(
                f,
                "the message answers case {case}, which the sender may not see"
            ),
            QuarantineReason::CaseNotFound(case) => {
                write!(f, "the message answers case {case}, which does not exist")
            }
            QuarantineReason::UnclearCustomer(orgs) if orgs.is_empty() => f.write_str(
                "a new case from vendor staff names no customer in To or Cc; which one is it for?",
            ),
            QuarantineReason::UnclearCustomer(orgs) => write!(
                f,
                "the new case names several customers ({}); which one is it for?",
                orgs.iter()
                    .map(|o| format!("organisation {o}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Combines the verdicts into one placement, in this order: noise is set aside whoever sent
/// it; a storm is stopped before anything is created for it; a held sender waits; then the
/// thread decides, and a reply joins its case only if the sender may see that case (a
/// colleague from the same organisation may; a stranger cc'd on the thread may not, and an
/// agent decides where their mail belongs). A reply to a closed case opens a new case that
/// refers to it, since a closed case is never reopened.
///
/// `case` is the case the thread decision names, as storage found it (`None` if it is gone,
/// or for a new case). A sender to be created is a customer of the organisation given.
pub fn place_message(
    kind: &MessageKind,
    rate: RateDecision,
    sender: &SenderDecision,
    thread: &ThreadDecision,
    case: Option<&CaseFacts>,
) -> Placement {
    if kind.is_noise() {
        return Placement::Noise(kind.clone());
    }
    if let RateDecision::Limited { until } = rate {
        return Placement::Quarantine(QuarantineReason::RateLimited { until });
    }
    if let SenderDecision::Hold(reason) = sender {
        return Placement::Quarantine(QuarantineReason::Held(reason.clone()));
    }
    match thread {
        ThreadDecision::Join { case: wanted, .. } => join(sender, *wanted, case),
        ThreadDecision::NewCase => new_case(sender),
    }
}

fn join(sender: &SenderDecision, wanted: CaseId, case: Option<&CaseFacts>) -> Placement {
    let Some(case) = case.filter(|c| c.id == wanted) else {
        return Placement::Quarantine(QuarantineReason::CaseNotFound(wanted));
    };
    let may_see = match sender {
        SenderDecision::Known { actor, .. } => actor.can_see_case(case.organization, case.partner),
        SenderDecision::CreateCustomer { org, .. } => *org == case.organization,
        SenderDecision::Hold(_) => false,
    };
    if !may_see {
        return Placement::Quarantine(QuarantineReason::MayNotComment { case: wanted });
    }
    if case.status == CaseStatus::Closed {
        // The follow-up belongs where the closed case did, whoever writes.
        return Placement::NewCase {
            on_behalf_of: Some(case.organization),
            follow_up_of: Some(wanted),
        };
    }
    Placement::Comment { case: wanted }
}

fn new_case(sender: &SenderDecision) -> Placement {
    let on_behalf_of = match sender {
        SenderDecision::Known { files_for, .. } => match files_for {
            FilesFor::Own => None,
            FilesFor::Customer(org) => Some(*org),
            FilesFor::Unclear(orgs) => {
                return Placement::Quarantine(QuarantineReason::UnclearCustomer(orgs.clone()))
            }
        },
        SenderDecision::CreateCustomer { .. } => None,
        SenderDecision::Hold(reason) => {
            return Placement::Quarantine(QuarantineReason::Held(reason.clone()))
        }
    };
    Placement::NewCase {
        on_behalf_of,
        follow_up_of: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::noise::AutoReason;
    use crate::mail::sender::CreateReason;
    use crate::{AccessLimits, Actor, Role, UserId};

    fn id(text: &str) -> MessageId {
        MessageId::parse(text).unwrap()
    }

    #[test]
    fn headers_join_by_the_nearest_message_we_sent() {
        let sent = [(id("outbox-1@b"), CaseId(7)), (id("outbox-9@b"), CaseId(8))];
        // In-Reply-To first, then References newest first.
        let candidates = [id("theirs@c"), id("outbox-9@b"), id("outbox-1@b")];
        assert_eq!(
            decide_thread(&candidates, &sent, None),
            ThreadDecision::Join {
                case: CaseId(8),
                by: JoinedBy::Header(id("outbox-9@b")),
                also_named: vec![CaseId(7)],
            }
        );
        assert_eq!(
            decide_thread(&[id("theirs@c")], &sent, None),
            ThreadDecision::NewCase
        );
        assert_eq!(decide_thread(&[], &[], None), ThreadDecision::NewCase);
    }

    #[test]
    fn headers_win_over_tokens_and_tokens_alone_join() {
        let sent = [(id("outbox-1@b"), CaseId(7))];
        assert_eq!(
            decide_thread(&[id("outbox-1@b")], &sent, Some(CaseId(9))),
            ThreadDecision::Join {
                case: CaseId(7),
                by: JoinedBy::Header(id("outbox-1@b")),
                also_named: vec![CaseId(9)],
            }
        );
        assert_eq!(
            decide_thread(&[id("theirs@c")], &sent, Some(CaseId(9))),
            ThreadDecision::Join {
                case: CaseId(9),
                by: JoinedBy::Token,
                also_named: vec![],
            }
        );
        // Agreeing header and token name one case.
        assert_eq!(
            decide_thread(&[id("outbox-1@b")], &sent, Some(CaseId(7))),
            ThreadDecision::Join {
                case: CaseId(7),
                by: JoinedBy::Header(id("outbox-1@b")),
                also_named: vec![],
            }
        );
    }

    const ACME: OrgId = OrgId(10);
    const GLOBEX: OrgId = OrgId(11);

    fn ann() -> SenderDecision {
        SenderDecision::Known {
            actor: Actor {
                user_id: UserId(3),
                role: Role::Customer,
                org_id: Some(ACME),
                limits: AccessLimits::default(),
            },
            files_for: FilesFor::Own,
        }
    }

    fn case(id: i64, organization: OrgId, status: CaseStatus) -> CaseFacts {
        CaseFacts {
            id: CaseId(id),
            organization,
            partner: None,
            status,
        }
    }

    fn join_case(id: i64) -> ThreadDecision {
        ThreadDecision::Join {
            case: CaseId(id),
            by: JoinedBy::Token,
            also_named: vec![],
        }
    }

    #[test]
    fn a_reply_comments_when_the_sender_may_see_the_case() {
        let open = case(7, ACME, CaseStatus::Pending);
        let place = |sender: &SenderDecision, facts: Option<&CaseFacts>| {
            place_message(
                &MessageKind::Personal,
                RateDecision::Allow,
                sender,
                &join_case(7),
                facts,
            )
        };
        assert_eq!(
            place(&ann(), Some(&open)),
            Placement::Comment { case: CaseId(7) }
        );
        // A new colleague from the same organisation may; one from elsewhere may not.
        let colleague = SenderDecision::CreateCustomer {
            org: ACME,
            why: CreateReason::DomainOwner,
        };
        assert_eq!(
            place(&colleague, Some(&open)),
            Placement::Comment { case: CaseId(7) }
        );
        let stranger = SenderDecision::CreateCustomer {
            org: GLOBEX,
            why: CreateReason::DomainOwner,
        };
        assert_eq!(
            place(&stranger, Some(&open)),
            Placement::Quarantine(QuarantineReason::MayNotComment { case: CaseId(7) })
        );
        let other_org = case(7, GLOBEX, CaseStatus::Open);
        assert_eq!(
            place(&ann(), Some(&other_org)),
            Placement::Quarantine(QuarantineReason::MayNotComment { case: CaseId(7) })
        );
        // A closed case is followed up by a new one; a missing case waits.
        let closed = case(7, ACME, CaseStatus::Closed);
        assert_eq!(
            place(&ann(), Some(&closed)),
            Placement::NewCase {
                on_behalf_of: Some(ACME),
                follow_up_of: Some(CaseId(7))
            }
        );
        assert_eq!(
            place(&ann(), None),
            Placement::Quarantine(QuarantineReason::CaseNotFound(CaseId(7)))
        );
        assert_eq!(
            place(&ann(), Some(&case(8, ACME, CaseStatus::Open))),
            Placement::Quarantine(QuarantineReason::CaseNotFound(CaseId(7)))
        );
    }

    #[test]
    fn noise_rate_and_held_senders_come_before_threading() {
        let open = case(7, ACME, CaseStatus::Open);
        let auto = MessageKind::AutoReply(AutoReason::Precedence("bulk".into()));
        let limited = RateDecision::Limited {
            until: Timestamp::from_millis(5),
        };
        let held = SenderDecision::Hold(HoldReason::UnknownSender);
        assert_eq!(
            place_message(&auto, limited, &held, &join_case(7), Some(&open)),
            Placement::Noise(auto.clone())
        );
        assert_eq!(
            place_message(
                &MessageKind::Personal,
                limited,
                &held,
                &join_case(7),
                Some(&open)
            ),
            Placement::Quarantine(QuarantineReason::RateLimited {
                until: Timestamp::from_millis(5)
            })
        );
        let placed = place_message(
            &MessageKind::Personal,
            RateDecision::Allow,
            &held,
            &ThreadDecision::NewCase,
            None,
        );
        assert_eq!(
            placed,
            Placement::Quarantine(QuarantineReason::Held(HoldReason::UnknownSender))
        );
        let Placement::Quarantine(reason) = placed else {
            unreachable!()
        };
        assert_eq!(
            reason.to_string(),
            "held for triage: the sender is not a user and their domain belongs to no organisation"
        );
    }

    #[test]
    fn new_cases_need_a_clear_organisation() {
        let place = |sender: &SenderDecision| {
            place_message(
                &MessageKind::Personal,
                RateDecision::Allow,
                sender,
                &ThreadDecision::NewCase,
                None,
            )
        };
        assert_eq!(
            place(&ann()),
            Placement::NewCase {
                on_behalf_of: None,
                follow_up_of: None
            }
        );
        // A partner technician naming one customer it serves files for that customer.
        let tech = SenderDecision::Known {
            actor: Actor {
                user_id: UserId(4),
                role: Role::Partner,
                org_id: Some(OrgId(1)),
                limits: AccessLimits::default(),
            },
            files_for: FilesFor::Customer(ACME),
        };
        assert_eq!(
            place(&tech),
            Placement::NewCase {
                on_behalf_of: Some(ACME),
                follow_up_of: None
            }
        );
        let SenderDecision::Known { actor, .. } = ann() else {
            unreachable!()
        };
        let unclear = SenderDecision::Known {
            actor,
            files_for: FilesFor::Unclear(vec![ACME, GLOBEX]),
        };
        let placed = place(&unclear);
        assert_eq!(
            placed,
            Placement::Quarantine(QuarantineReason::UnclearCustomer(vec![ACME, GLOBEX]))
        );
        let Placement::Quarantine(reason) = placed else {
            unreachable!()
        };
        assert_eq!(
            reason.to_string(),
            "the new case names several customers (organisation 10, organisation 11); which \
             one is it for?"
        );
        let staff = SenderDecision::Known {
            actor: Actor {
                user_id: UserId(1),
                role: Role::Agent,
                org_id: None,
                limits: AccessLimits::default(),
            },
            files_for: FilesFor::Unclear(vec![]),
        };
        let Placement::Quarantine(reason) = place(&staff) else {
            panic!("staff naming no customer should wait");
        };
        assert!(reason.to_string().contains("names no customer"));
    }
}
