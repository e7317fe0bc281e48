//! Who hears of what happens on a case, by email.
//!
//! The customer side (acknowledgement, public replies, solved) goes to the requester, the
//! people copied on the case and the organisation's followers, and to the serving partner's
//! technicians; where the partner's agreement rules out vendor contact, to those technicians
//! only. Vendor staff hear of what is addressed to them: an assignment, an escalation into
//! their queue, a swarm request that names them, a mention in an internal note, and a reply
//! on a case assigned to them. Nobody hears of their own action; an address that bounced or
//! a person who turned a kind of mail off gets none; an internal note reaches staff only.

use crate::crisis::TemplateKind;
use crate::{string_enum, Email, Role, UserId};

string_enum!(
    /// The kinds of mail a person can turn off, each on its own: `case_updates`
    /// (acknowledgements, public replies and solved notices on one's cases), `my_cases` (staff:
    /// a case assigned to me, escalated to my queue, or a reply on my case) and `requests`
    /// (staff: swarm requests and mentions in internal notes).
    NotificationKind {
        CaseUpdates => "case_updates",
        MyCases => "my_cases",
        Requests => "requests"
    }
);

/// What happened, as the notifier reads it from a case's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseHappening {
    Created,
    /// A public comment; the requester's side and the assignee hear of it.
    PublicReply,
    /// An internal note, with the staff it mentions.
    InternalNote {
        mentioned: Vec<UserId>,
    },
    Solved,
    Assigned {
        to: UserId,
    },
    /// Escalated into a queue, with its members.
    Escalated {
        queue_members: Vec<UserId>,
    },
    SwarmRequested {
        named: Vec<UserId>,
    },
    /// A service-level clock is about to run out (`breached: false`) or ran out: the
    /// assignee and the members of the case's queue hear of it.
    SlaAlert {
        breached: bool,
        queue_members: Vec<UserId>,
    },
}

/// A user who may receive mail about the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub user: UserId,
    pub email: Email,
    pub role: Role,
    pub opted_out: Vec<NotificationKind>,
}

/// Everyone connected to the case, looked up by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseAudience {
    pub requester: Person,
    /// Addresses copied on the case's mail (people we may not know as users).
    pub cc: Vec<Email>,
    /// The organisation's followers.
    pub followers: Vec<Person>,
    /// The technicians of the partner serving the case, if any.
    pub partner_technicians: Vec<Person>,
    /// The partner's agreement says `vendor_direct_contact: never`.
    pub no_vendor_contact: bool,
    pub assignee: Option<Person>,
    /// Staff the happening may name (queue members, swarm helpers, mentioned people).
    pub staff: Vec<Person>,
    /// Staff who follow this case: they hear what its assignee hears of the customer side.
    pub case_followers: Vec<Person>,
    /// Addresses that bounced.
    pub bounced: Vec<Email>,
}

/// One mail to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub to: Email,
    pub user: Option<UserId>,
    pub template: TemplateKind,
}

/// The mails a happening causes. `actor` is who did it (`None` for the system).
pub fn notices(
    happening: &CaseHappening,
    audience: &CaseAudience,
    actor: Option<UserId>,
) -> Vec<Notice> {
    // The acknowledgement is the one mail about one's own action: it confirms the filing.
    let actor = match happening {
        CaseHappening::Created => None,
        _ => actor,
    };
    let mut out = Recipients {
        audience,
        actor,
        notices: Vec::new(),
    };
    let staff = |id: &UserId| {
        audience
            .staff
            .iter()
            .find(|p| p.user == *id && p.role.is_staff())
    };
    match happening {
        CaseHappening::Created => out.customer_side(TemplateKind::CaseAcknowledgement),
        CaseHappening::Solved => out.customer_side(TemplateKind::CaseSolved),
        CaseHappening::PublicReply => {
            if let Some(a) = audience.assignee.as_ref().filter(|a| a.role.is_staff()) {
                out.person(a, TemplateKind::CustomerReplied, NotificationKind::MyCases);
            }
            for p in audience.case_followers.iter().filter(|p| p.role.is_staff()) {
                out.person(
                    p,
                    TemplateKind::CustomerReplied,
                    NotificationKind::CaseUpdates,
                );
            }
            out.customer_side(TemplateKind::CaseReply);
        }
        CaseHappening::InternalNote { mentioned } => {
            for p in mentioned.iter().filter_map(staff) {
                out.person(p, TemplateKind::Mention, NotificationKind::Requests);
            }
        }
        CaseHappening::Assigned { to } => {
            if let Some(p) = staff(to) {
                out.person(p, TemplateKind::CaseAssigned, NotificationKind::MyCases);
            }
        }
        CaseHappening::Escalated { queue_members } => {
            for p in queue_members.iter().filter_map(staff) {
                out.person(p, TemplateKind::CaseEscalated, NotificationKind::MyCases);
            }
        }
        CaseHappening::SwarmRequested { named } => {
            for p in named.iter().filter_map(staff) {
                out.person(p, TemplateKind::SwarmRequest, NotificationKind::Requests);
            }
        }
        CaseHappening::SlaAlert {
            breached,
            queue_members,
        } => {
            let template = if *breached {
                TemplateKind::SlaBreached
            } else {
                TemplateKind::SlaWarning
            };
            if let Some(a) = audience.assignee.as_ref().filter(|a| a.role.is_staff()) {
                out.person(a, template, NotificationKind::MyCases);
            }
            for p in audience.case_followers.iter().filter(|p| p.role.is_staff()) {
                out.person(p, template, NotificationKind::MyCases);
            }
            for p in queue_members.iter().filter_map(staff) {
                out.person(p, template, NotificationKind::MyCases);
            }
        }
    }
    out.notices
}

/// Collects notices, each address once, skipping the actor, opt-outs and bounced addresses.
struct Recipients<'a> {
    audience: &'a CaseAudience,
    actor: Option<UserId>,
    notices: Vec<Notice>,
}

impl Recipients<'_> {
    fn person(&mut self, p: &Person, template: TemplateKind, kind: NotificationKind) {
        if Some(p.user) == self.actor || p.opted_out.contains(&kind) {
            return;
        }
        self.address(&p.email, Some(p.user), template);
    }

    fn address(&mut self, email: &Email, user: Option<UserId>, template: TemplateKind) {
        if self.audience.bounced.contains(email) || self.notices.iter().any(|n| &n.to == email) {
            return;
        }
        self.notices.push(Notice {
            to: email.clone(),
            user,
            template,
        });
    }

    /// The customer side: the serving partner's technicians, and unless the partner carries
    /// the conversation, the requester, the people copied and the followers.
    fn customer_side(&mut self, template: TemplateKind) {
        let a = self.audience;
        for p in &a.partner_technicians {
            self.person(p, template, NotificationKind::CaseUpdates);
        }
        if a.no_vendor_contact {
            return;
        }
        // Staff who filed a case on a customer's behalf need no acknowledgement from themselves.
        if !a.requester.role.is_staff() {
            self.person(&a.requester, template, NotificationKind::CaseUpdates);
        }
        for email in &a.cc {
            self.address(email, None, template);
        }
        for p in &a.followers {
            self.person(p, template, NotificationKind::CaseUpdates);
        }
    }
}

/// The staff an internal note mentions: `@` followed by a staff member's address, or by the
/// part of it before the `@` (`@sam` for sam@vendor.example) when only one has that part.
pub fn find_mentions(body: &str, staff: &[Person]) -> Vec<UserId> {
    let mut found = Vec::new();
    for (at, _) in body.match_indices('@') {
        // An address in the text (`ann@acme.test`) is not a mention: the `@` must start a word.
        if body[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '.')
        {
            continue;
        }
        let word: String = body[at + 1..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '@'))
            .collect::<String>()
            .trim_end_matches(['.', '-'])
            .to_lowercase();
        if word.is_empty() {
            continue;
        }
        let by_address = staff.iter().find(|p| p.email.as_str() == word);
        let by_local: Vec<&Person> = staff
            .iter()
            .filter(|p| p.email.as_str().split('@').next() == Some(word.as_str()))
            .collect();
        let hit = by_address.or(match by_local.as_slice() {
            [only] => Some(*only),
            _ => None,
        });
        if let Some(p) = hit.filter(|p| p.role.is_staff()) {
            if !found.contains(&p.user) {
                found.push(p.user);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: i64, email: &str, role: Role) -> Person {
        Person {
            user: UserId(id),
            email: Email::parse(email).unwrap(),
            role,
            opted_out: vec![],
        }
    }

    fn audience() -> CaseAudience {
        CaseAudience {
            requester: person(1, "ann@acme.test", Role::Customer),
            cc: vec![Email::parse("boss@acme.test").unwrap()],
            followers: vec![person(2, "lead@acme.test", Role::Customer)],
            partner_technicians: vec![person(3, "tech@partner.test", Role::Partner)],
            no_vendor_contact: false,
            assignee: Some(person(4, "sam@vendor.test", Role::Agent)),
            staff: vec![
                person(4, "sam@vendor.test", Role::Agent),
                person(5, "kim@vendor.test", Role::Agent),
                person(6, "kim@other.test", Role::Admin),
            ],
            case_followers: vec![],
            bounced: vec![],
        }
    }

    #[test]
    fn staff_following_a_case_hear_the_customer_side_and_its_clocks() {
        let mut a = audience();
        a.case_followers = vec![
            person(7, "lee@vendor.test", Role::Agent),
            // A follower who is no longer staff hears nothing staff-only.
            person(8, "ex@acme.test", Role::Customer),
        ];
        let reply = notices(&CaseHappening::PublicReply, &a, Some(UserId(1)));
        let to_lee: Vec<_> = reply
            .iter()
            .filter(|n| n.to.as_str() == "lee@vendor.test")
            .collect();
        assert_eq!(to_lee.len(), 1);
        assert_eq!(to_lee[0].template, TemplateKind::CustomerReplied);
        assert!(!to(&reply).contains(&"ex@acme.test"));
        let breach = notices(
            &CaseHappening::SlaAlert {
                breached: true,
                queue_members: vec![],
            },
            &a,
            None,
        );
        assert_eq!(to(&breach), ["sam@vendor.test", "lee@vendor.test"]);
        // A follower who replies is not told of their own reply.
        let own = notices(&CaseHappening::PublicReply, &a, Some(UserId(7)));
        assert!(!to(&own).contains(&"lee@vendor.test"));
    }

    fn to(notices: &[Notice]) -> Vec<&str> {
        notices.iter().map(|n| n.to.as_str()).collect()
    }

    #[test]
    fn clocks_running_out_reach_the_assignee_and_the_queue_only() {
        let mut a = audience();
        // Kim (5) and the partner technician (3) are in the queue; only staff hear of it.
        let warning = SlaAlertFixture::run(&a, false, &[5, 3]);
        assert_eq!(to(&warning), ["sam@vendor.test", "kim@vendor.test"]);
        assert!(warning
            .iter()
            .all(|n| n.template == TemplateKind::SlaWarning));
        let breach = SlaAlertFixture::run(&a, true, &[5]);
        assert!(breach
            .iter()
            .all(|n| n.template == TemplateKind::SlaBreached));
        // Whoever turned off mail about their cases hears nothing.
        a.assignee.as_mut().unwrap().opted_out = vec![NotificationKind::MyCases];
        assert_eq!(to(&SlaAlertFixture::run(&a, true, &[])), Vec::<&str>::new());
    }

    struct SlaAlertFixture;

    impl SlaAlertFixture {
        fn run(a: &CaseAudience, breached: bool, queue: &[i64]) -> Vec<Notice> {
            let happening = CaseHappening::SlaAlert {
                breached,
                queue_members: queue.iter().map(|id| UserId(*id)).collect(),
            };
            notices(&happening, a, None)
        }
    }

    #[test]
    fn the_customer_side_hears_of_a_new_case_a_reply_and_the_solution() {
        let a = audience();
        let created = notices(&CaseHappening::Created, &a, Some(UserId(1)));
        assert_eq!(
            to(&created),
            [
                "tech@partner.test",
                "ann@acme.test",
                "boss@acme.test",
                "lead@acme.test"
            ]
        );
        assert!(created
            .iter()
            .all(|n| n.template == TemplateKind::CaseAcknowledgement));
        // The agent's reply: everyone on the customer side; the agent hears nothing of it.
        let reply = notices(&CaseHappening::PublicReply, &a, Some(UserId(4)));
        assert_eq!(
            to(&reply),
            [
                "tech@partner.test",
                "ann@acme.test",
                "boss@acme.test",
                "lead@acme.test"
            ]
        );
        // The customer's reply: the assignee hears, the customer does not hear of their own.
        let reply = notices(&CaseHappening::PublicReply, &a, Some(UserId(1)));
        assert_eq!(
            to(&reply),
            [
                "sam@vendor.test",
                "tech@partner.test",
                "boss@acme.test",
                "lead@acme.test"
            ]
        );
        assert_eq!(reply[0].template, TemplateKind::CustomerReplied);
        let solved = notices(&CaseHappening::Solved, &a, Some(UserId(4)));
        assert_eq!(solved.len(), 4);
        assert!(solved
            .iter()
            .all(|n| n.template == TemplateKind::CaseSolved));
    }

    #[test]
    fn where_the_partner_carries_the_conversation_only_its_technicians_hear() {
        let a = CaseAudience {
            no_vendor_contact: true,
            ..audience()
        };
        for happening in [
            CaseHappening::Created,
            CaseHappening::PublicReply,
            CaseHappening::Solved,
        ] {
            let got = notices(&happening, &a, Some(UserId(9)));
            let customers: Vec<_> = to(&got)
                .into_iter()
                .filter(|e| e.ends_with("acme.test"))
                .collect();
            assert!(customers.is_empty(), "{happening:?}: {customers:?}");
            assert!(to(&got).contains(&"tech@partner.test"));
        }
    }

    #[test]
    fn opt_outs_bounces_and_duplicates_are_respected() {
        let mut a = audience();
        a.followers[0].opted_out.push(NotificationKind::CaseUpdates);
        a.bounced.push(Email::parse("boss@acme.test").unwrap());
        a.cc.push(Email::parse("ann@acme.test").unwrap());
        let got = notices(&CaseHappening::Created, &a, None);
        assert_eq!(to(&got), ["tech@partner.test", "ann@acme.test"]);
    }

    #[test]
    fn an_internal_note_reaches_mentioned_staff_only() {
        let mut a = audience();
        // A customer's name in the staff list (it should never be) still gets nothing.
        a.staff.push(person(1, "ann@acme.test", Role::Customer));
        let happening = CaseHappening::InternalNote {
            mentioned: vec![UserId(5), UserId(1)],
        };
        let got = notices(&happening, &a, Some(UserId(4)));
        assert_eq!(to(&got), ["kim@vendor.test"]);
        assert_eq!(got[0].template, TemplateKind::Mention);
    }

    #[test]
    fn staff_hear_of_assignment_escalation_and_swarm_requests_addressed_to_them() {
        let a = audience();
        let got = notices(
            &CaseHappening::Assigned { to: UserId(5) },
            &a,
            Some(UserId(4)),
        );
        assert_eq!(to(&got), ["kim@vendor.test"]);
        // Assigning oneself sends nothing.
        assert!(notices(
            &CaseHappening::Assigned { to: UserId(4) },
            &a,
            Some(UserId(4))
        )
        .is_empty());
        let got = notices(
            &CaseHappening::Escalated {
                queue_members: vec![UserId(4), UserId(5), UserId(6)],
            },
            &a,
            Some(UserId(5)),
        );
        assert_eq!(to(&got), ["sam@vendor.test", "kim@other.test"]);
        let got = notices(
            &CaseHappening::SwarmRequested {
                named: vec![UserId(6)],
            },
            &a,
            Some(UserId(4)),
        );
        assert_eq!(got[0].template, TemplateKind::SwarmRequest);
        let mut off = audience();
        off.staff[1].opted_out.push(NotificationKind::MyCases);
        assert!(notices(&CaseHappening::Assigned { to: UserId(5) }, &off, None).is_empty());
    }

    #[test]
    fn mentions_are_found_by_address_or_unambiguous_name() {
        let staff = audience().staff;
        assert_eq!(find_mentions("@sam please look", &staff), [UserId(4)]);
        assert_eq!(find_mentions("cc @kim@other.test.", &staff), [UserId(6)]);
        // `kim` names two people: ambiguous, nobody; an address in the text is no mention.
        assert!(find_mentions("@kim and mail ann@sam", &staff).is_empty());
        assert_eq!(find_mentions("@sam, @SAM!", &staff), [UserId(4)]);
    }
}
