//! Routing rules: ordered, each a set of conditions (all or any) over the case and who filed
//! it, and actions that set tier, queue, priority, assignment and tags. The first rule that
//! matches routes the case, and the case records which rule that was.

use crate::{
    string_enum, Channel, FieldErrors, OrgKind, PartnerKind, Priority, TechnicalLevel, Tier,
};
use serde::{Deserialize, Serialize};

string_enum!(
    /// Whether every condition must hold, or one is enough.
    MatchMode { All => "all", Any => "any" }
);

string_enum!(
    /// How a queue's members work a case: escalate level by level, or ask colleagues to swarm.
    SupportModel { Tiered => "tiered", Swarm => "swarm" }
);

string_enum!(
    /// How a rule picks an assignee among a queue's members.
    Assignment { RoundRobin => "round_robin", LeastLoaded => "least_loaded" }
);

/// One condition. In JSON: `{"field": "certified", "is": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "field", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// The requester's organisation is a customer or a partner.
    OrgKind {
        is: OrgKind,
    },
    /// The case's partner has this kind.
    PartnerKind {
        includes: PartnerKind,
    },
    /// The partner (or, for direct customers, the customer) is at least this technical.
    TechnicalLevel {
        at_least: TechnicalLevel,
    },
    /// The case's partner is certified.
    Certified {
        is: bool,
    },
    /// A partner is involved at all.
    HasPartner {
        is: bool,
    },
    Product {
        is: String,
    },
    Priority {
        any_of: Vec<Priority>,
    },
    Channel {
        any_of: Vec<Channel>,
    },
    /// Any of these words appears in the subject or description (case-insensitive).
    Words {
        any_of: Vec<String>,
    },
}

/// What a matching rule does. Unset fields leave the case as filed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Actions {
    pub tier: Option<Tier>,
    /// Slug of the queue the case goes to.
    pub queue: Option<String>,
    pub priority: Option<Priority>,
    /// Pick an assignee among the queue's members.
    pub assign: Option<Assignment>,
    #[serde(default)]
    pub add_tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleDefinition {
    pub name: String,
    pub enabled: bool,
    pub match_mode: MatchMode,
    pub conditions: Vec<Condition>,
    pub actions: Actions,
}

impl RuleDefinition {
    pub fn checked(mut self) -> Result<RuleDefinition, FieldErrors> {
        let mut errors = FieldErrors::new();
        self.name = self.name.trim().to_string();
        if self.name.is_empty() || self.name.chars().count() > 120 {
            errors.add("name", "must be 1 to 120 characters");
        }
        if self.conditions.is_empty() {
            errors.add("conditions", "a rule needs at least one condition");
        }
        if self.conditions.len() > 30 {
            errors.add("conditions", "at most 30 conditions");
        }
        for c in &mut self.conditions {
            match c {
                Condition::Words { any_of } => {
                    any_of.retain(|w| !w.trim().is_empty());
                    if any_of.is_empty() {
                        errors.add("conditions", "a words condition needs at least one word");
                    }
                }
                Condition::Product { is } => *is = is.trim().to_lowercase(),
                Condition::Priority { any_of } if any_of.is_empty() => errors.add(
                    "conditions",
                    "a priority condition needs at least one priority",
                ),
                Condition::Channel { any_of } if any_of.is_empty() => errors.add(
                    "conditions",
                    "a channel condition needs at least one channel",
                ),
                _ => {}
            }
        }
        let a = &self.actions;
        if a.tier.is_none()
            && a.queue.is_none()
            && a.priority.is_none()
            && a.assign.is_none()
            && a.add_tags.is_empty()
        {
            errors.add("actions", "a rule must do something");
        }
        if a.assign.is_some() && a.queue.is_none() {
            errors.add(
                "actions",
                "assignment picks among a queue's members: set a queue too",
            );
        }
        if let Err(e) = crate::case::normalize_tags(&a.add_tags) {
            errors.add("actions", format!("add_tags: {e}"));
        }
        errors.into_result()?;
        Ok(self)
    }
}

/// What routing knows about a new case. A field left out takes its default: a customer's
/// normal-priority case from the web, with no partner.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingFacts {
    /// Whether the requester's organisation is a customer or a partner.
    pub requester_org_kind: OrgKind,
    /// The kinds of the case's partner.
    pub partner_kinds: Vec<PartnerKind>,
    /// The partner's level (for direct customers, the customer's).
    pub technical_level: Option<TechnicalLevel>,
    /// The case's partner is certified.
    pub certified: bool,
    /// A partner is involved.
    pub has_partner: bool,
    pub product: Option<String>,
    pub priority: Priority,
    pub channel: Channel,
    /// The subject and description.
    pub text: String,
}

impl Default for RoutingFacts {
    fn default() -> Self {
        RoutingFacts {
            requester_org_kind: OrgKind::Customer,
            partner_kinds: Vec::new(),
            technical_level: None,
            certified: false,
            has_partner: false,
            product: None,
            priority: Priority::Normal,
            channel: Channel::Web,
            text: String::new(),
        }
    }
}

impl Condition {
    pub fn holds(&self, f: &RoutingFacts) -> bool {
        match self {
            Condition::OrgKind { is } => f.requester_org_kind == *is,
            Condition::PartnerKind { includes } => f.partner_kinds.contains(includes),
            Condition::TechnicalLevel { at_least } => {
                f.technical_level.is_some_and(|l| l >= *at_least)
            }
            Condition::Certified { is } => f.certified == *is,
            Condition::HasPartner { is } => f.has_partner == *is,
            Condition::Product { is } => f
                .product
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case(is)),
            Condition::Priority { any_of } => any_of.contains(&f.priority),
            Condition::Channel { any_of } => any_of.contains(&f.channel),
            Condition::Words { any_of } => {
                let text = f.text.to_lowercase();
                let words: Vec<&str> = text
                    .split(|c: char| !c.is_alphanumeric() && c != '-' && c != '_')
                    .collect();
                any_of.iter().any(|w| {
                    let w = w.trim().to_lowercase();
                    if w.contains(' ') {
                        text.contains(&w)
                    } else {
                        words.contains(&w.as_str())
                    }
                })
            }
        }
    }
}

impl RuleDefinition {
    pub fn matches(&self, facts: &RoutingFacts) -> bool {
        self.enabled
            && match self.match_mode {
                MatchMode::All => self.conditions.iter().all(|c| c.holds(facts)),
                MatchMode::Any => self.conditions.iter().any(|c| c.holds(facts)),
            }
    }
}

/// The first enabled rule, in order, that matches; with its id.
pub fn first_match<'a, Id: Copy>(
    rules: &'a [(Id, RuleDefinition)],
    facts: &RoutingFacts,
) -> Option<(Id, &'a RuleDefinition)> {
    rules
        .iter()
        .find(|(_, r)| r.matches(facts))
        .map(|(id, r)| (*id, r))
}

/// Picks an assignee: `candidates` are (member, active cases, last assigned at in this queue).
/// Least loaded takes the member with fewest active cases (ties: longest since last
/// assignment); round robin the one assigned longest ago (never assigned first).
/// `None` (never assigned) sorts before any time.
pub fn pick_assignee<U: Copy, T: Ord + Copy>(
    how: Assignment,
    candidates: &[(U, i64, Option<T>)],
) -> Option<U> {
    match how {
        Assignment::LeastLoaded => candidates
            .iter()
            .min_by_key(|(_, load, last)| (*load, *last))
            .map(|c| c.0),
        Assignment::RoundRobin => candidates
            .iter()
            .min_by_key(|(_, _, last)| *last)
            .map(|c| c.0),
    }
}

/// The queue a case is in after escalating to tier `next`. `current` is its queue and the
/// tier that queue serves, `serving_next` the queue that serves `next`, if any. The case
/// follows the ladder to `serving_next`; without one, it leaves a queue serving a lower tier
/// (whose members no longer work it) and stays in a queue that serves no tier or a higher one.
pub fn queue_after_escalation<Q: Copy>(
    current: Option<(Q, Option<Tier>)>,
    next: Tier,
    serving_next: Option<Q>,
) -> Option<Q> {
    match (serving_next, current) {
        (Some(queue), _) => Some(queue),
        (None, Some((queue, None))) => Some(queue),
        (None, Some((queue, Some(tier)))) if tier >= next => Some(queue),
        (None, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> RoutingFacts {
        RoutingFacts {
            requester_org_kind: OrgKind::Partner,
            partner_kinds: vec![PartnerKind::Reseller, PartnerKind::Frontline],
            technical_level: Some(TechnicalLevel::Intermediate),
            certified: true,
            has_partner: true,
            product: Some("backup".into()),
            priority: Priority::High,
            channel: Channel::Api,
            text: "Nightly job fails: data-loss risk on node 3".into(),
        }
    }

    fn rule(mode: MatchMode, conditions: Vec<Condition>) -> RuleDefinition {
        RuleDefinition {
            name: "r".into(),
            enabled: true,
            match_mode: mode,
            conditions,
            actions: Actions {
                tier: Some(Tier::L2),
                ..Actions::default()
            },
        }
    }

    #[test]
    fn every_condition_reads_its_fact() {
        let f = facts();
        let holds = |c: Condition| c.holds(&f);
        assert!(holds(Condition::OrgKind {
            is: OrgKind::Partner
        }));
        assert!(!holds(Condition::OrgKind {
            is: OrgKind::Customer
        }));
        assert!(holds(Condition::PartnerKind {
            includes: PartnerKind::Frontline
        }));
        assert!(!holds(Condition::PartnerKind {
            includes: PartnerKind::Implementer
        }));
        // Intermediate is at least basic and intermediate, not expert.
        assert!(holds(Condition::TechnicalLevel {
            at_least: TechnicalLevel::Basic
        }));
        assert!(holds(Condition::TechnicalLevel {
            at_least: TechnicalLevel::Intermediate
        }));
        assert!(!holds(Condition::TechnicalLevel {
            at_least: TechnicalLevel::Expert
        }));
        assert!(holds(Condition::Certified { is: true }));
        assert!(holds(Condition::HasPartner { is: true }));
        assert!(holds(Condition::Product {
            is: "Backup".into()
        }));
        assert!(holds(Condition::Priority {
            any_of: vec![Priority::Urgent, Priority::High]
        }));
        assert!(!holds(Condition::Channel {
            any_of: vec![Channel::Web]
        }));
        // Whole words (hyphenated ones too) and phrases; not substrings of words.
        assert!(holds(Condition::Words {
            any_of: vec!["DATA-LOSS".into()]
        }));
        assert!(holds(Condition::Words {
            any_of: vec!["on node".into()]
        }));
        assert!(!holds(Condition::Words {
            any_of: vec!["no".into()]
        }));
    }

    #[test]
    fn rules_match_all_or_any_and_the_first_one_wins() {
        let f = facts();
        let certified = Condition::Certified { is: true };
        let web = Condition::Channel {
            any_of: vec![Channel::Web],
        };
        assert!(!rule(MatchMode::All, vec![certified.clone(), web.clone()]).matches(&f));
        assert!(rule(MatchMode::Any, vec![certified.clone(), web.clone()]).matches(&f));
        let mut disabled = rule(MatchMode::Any, vec![certified.clone()]);
        disabled.enabled = false;
        let rules = vec![
            (1, disabled),
            (2, rule(MatchMode::All, vec![web])),
            (3, rule(MatchMode::All, vec![certified.clone()])),
            (4, rule(MatchMode::All, vec![certified])),
        ];
        assert_eq!(first_match(&rules, &f).map(|(id, _)| id), Some(3));
        assert_eq!(first_match(&rules[..2], &f).map(|(id, _)| id), None);
    }

    #[test]
    fn rules_are_checked_before_they_are_stored() {
        let mut r = rule(MatchMode::All, vec![]);
        r.actions = Actions {
            assign: Some(Assignment::RoundRobin),
            ..Actions::default()
        };
        let errors = r.checked().unwrap_err();
        assert!(errors.0.contains_key("conditions") && errors.0.contains_key("actions"));
        let json = r#"{"field": "certified", "is": true}"#;
        assert_eq!(
            serde_json::from_str::<Condition>(json).unwrap(),
            Condition::Certified { is: true }
        );
        assert!(serde_json::from_str::<Condition>(r#"{"field": "colour", "is": "red"}"#).is_err());
    }

    #[test]
    fn assignment_balances_load_or_takes_turns() {
        // (member, active cases, last assigned)
        let members = [
            ("ana", 3, Some(50)),
            ("ben", 1, Some(90)),
            ("chen", 1, Some(10)),
            ("dara", 5, None),
        ];
        // Fewest active: ben and chen; chen waited longer.
        assert_eq!(
            pick_assignee(Assignment::LeastLoaded, &members),
            Some("chen")
        );
        // Round robin: dara was never assigned, so she is next.
        assert_eq!(
            pick_assignee(Assignment::RoundRobin, &members),
            Some("dara")
        );
        assert_eq!(
            pick_assignee::<&str, i64>(Assignment::RoundRobin, &[]),
            None
        );
    }

    #[test]
    fn escalation_follows_the_ladder_of_tiered_queues() {
        // The next tier's queue wins wherever the case was.
        assert_eq!(
            queue_after_escalation(Some((2, Some(Tier::L2))), Tier::L3, Some(3)),
            Some(3)
        );
        assert_eq!(
            queue_after_escalation::<i32>(None, Tier::L2, Some(2)),
            Some(2)
        );
        // No queue serves the next tier: a lower tier's queue lets go of the case...
        assert_eq!(
            queue_after_escalation(Some((2, Some(Tier::L2))), Tier::L3, None),
            None
        );
        // ...a queue outside the ladder, or above the new tier, keeps it.
        assert_eq!(
            queue_after_escalation(Some((7, None)), Tier::L3, None),
            Some(7)
        );
        assert_eq!(
            queue_after_escalation(Some((3, Some(Tier::L3))), Tier::L2, None),
            Some(3)
        );
        assert_eq!(queue_after_escalation::<i32>(None, Tier::L2, None), None);
    }
}
