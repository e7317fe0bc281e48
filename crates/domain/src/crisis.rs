//! Crisis management rules: who hears about an incident, the cadence of updates, post-mortem
//! due dates, repeated causes, and the message templates.

use crate::clock::{Span, Timestamp};
use crate::{string_enum, FieldErrors, OrgId, ServiceId};
use std::collections::BTreeMap;

string_enum!(
    /// What a catalogue entry is.
    ServiceKind { Server => "server", Service => "service", Tool => "tool", Region => "region" }
);

string_enum!(
    /// How bad an incident is for the customers it touches.
    Impact { Minor => "minor", Major => "major", Critical => "critical" }
);

string_enum!(
    /// Where an incident stands (Statuspage's states).
    IncidentState {
        Investigating => "investigating", Identified => "identified", Monitoring => "monitoring",
        Resolved => "resolved"
    }
);

string_enum!(
    /// Whether a monitoring signal reports a problem or its end.
    SignalStatus { Firing => "firing", Resolved => "resolved" }
);

string_enum!(
    /// A service as the status page shows it.
    ComponentState {
        Operational => "operational", DegradedPerformance => "degraded_performance",
        PartialOutage => "partial_outage", MajorOutage => "major_outage"
    }
);

string_enum!(
    /// Who does what in a crisis, decided ahead of time.
    RosterRole {
        SupportCommunications => "support_communications", Operations => "operations",
        MarketingCommunications => "marketing_communications", Executive => "executive", Csm => "csm"
    }
);

string_enum!(
    /// The messages the system sends, each from an editable template.
    TemplateKind {
        Alert => "alert", Update => "update", Resolved => "resolved", Postmortem => "postmortem",
        Signal => "signal", Reminder => "reminder", Confirm => "confirm",
        CaseAcknowledgement => "case_acknowledgement", CaseReply => "case_reply",
        CaseSolved => "case_solved", CaseAssigned => "case_assigned",
        CaseEscalated => "case_escalated", SwarmRequest => "swarm_request",
        Mention => "mention", CustomerReplied => "customer_replied",
        SlaWarning => "sla_warning", SlaBreached => "sla_breached"
    }
);

impl Impact {
    /// The state an affected service shows on the status page.
    pub fn component_state(self) -> ComponentState {
        match self {
            Impact::Minor => ComponentState::DegradedPerformance,
            Impact::Major => ComponentState::PartialOutage,
            Impact::Critical => ComponentState::MajorOutage,
        }
    }
}

/// Someone who may be told about an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub email: String,
    /// The customer organisation they belong to (none for subscribers and staff).
    pub org: Option<OrgId>,
    /// Their serving partner's agreement says the vendor never contacts them directly.
    pub no_vendor_contact: bool,
}

/// Who hears about an incident on these services: the users of customer organisations that
/// use one of them (unless their partner's agreement keeps the vendor away), and status-page
/// subscribers of one of them. Each address once, in a stable order.
pub fn incident_audience(
    services: &[ServiceId],
    usage: &[(OrgId, ServiceId)],
    users: &[Contact],
    subscribers: &[(String, ServiceId)],
) -> Vec<String> {
    let affected: std::collections::BTreeSet<OrgId> = usage
        .iter()
        .filter(|(_, s)| services.contains(s))
        .map(|(o, _)| *o)
        .collect();
    let mut out = std::collections::BTreeSet::new();
    for user in users {
        if let Some(org) = user.org {
            if affected.contains(&org) && !user.no_vendor_contact {
                out.insert(user.email.trim().to_lowercase());
            }
        }
    }
    for (email, service) in subscribers {
        if services.contains(service) {
            out.insert(email.trim().to_lowercase());
        }
    }
    out.into_iter().collect()
}

/// The affected customer organisations whose users the vendor may not contact (their
/// partner's agreement says `never`): their partners are told instead, to carry the news.
pub fn customers_told_through_partner(
    services: &[ServiceId],
    usage: &[(OrgId, ServiceId)],
    users: &[Contact],
) -> Vec<OrgId> {
    let mut out: Vec<OrgId> = usage
        .iter()
        .filter(|(org, s)| {
            services.contains(s)
                && users
                    .iter()
                    .any(|u| u.org == Some(*org) && u.no_vendor_contact)
        })
        .map(|(org, _)| *org)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// What the clock says about an open incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cadence {
    /// The committed update is close: remind the communications role.
    pub remind: bool,
    /// The committed time has passed without an update.
    pub overdue: bool,
    /// More than an hour without an update, and no known long resolution path.
    pub hourly_rule_broken: bool,
}

/// How long before a committed update the communications role is reminded.
pub const REMIND_BEFORE: Span = Span::from_millis(10 * 60 * 1000);
/// Customers hear from an incident at least this often, unless a long resolution is marked.
pub const UPDATE_AT_LEAST_EVERY: Span = Span::HOUR;
/// A root cause seen again within this window puts the post-mortem up for executive review.
pub const REPEATED_CAUSE_WINDOW: Span = Span::from_millis(90 * 86_400_000);

/// Judges an open incident at `now`. `last_update` is the last message sent (the alert counts
/// as the first); `long_resolution` marks a known, longer resolution path.
pub fn cadence(
    now: Timestamp,
    state: IncidentState,
    next_update: Option<Timestamp>,
    last_update: Timestamp,
    long_resolution: bool,
) -> Cadence {
    if state == IncidentState::Resolved {
        return Cadence::default();
    }
    let (remind, overdue) = match next_update {
        Some(next) => (now >= next.minus(REMIND_BEFORE) && now < next, now >= next),
        None => (false, false),
    };
    Cadence {
        remind,
        overdue,
        hourly_rule_broken: !long_resolution && now.since(last_update) > UPDATE_AT_LEAST_EVERY,
    }
}

/// The date `n` business days (Monday to Friday) after `from`.
pub fn business_days_after(from: time::Date, n: u32) -> time::Date {
    let mut day = from;
    let mut left = n;
    while left > 0 {
        day = day.next_day().unwrap_or(day);
        if !matches!(
            day.weekday(),
            time::Weekday::Saturday | time::Weekday::Sunday
        ) {
            left -= 1;
        }
    }
    day
}

/// Whether a root-cause category was already seen within the window before `now`.
pub fn repeated_cause(category: &str, history: &[(String, Timestamp)], now: Timestamp) -> bool {
    let category = category.trim().to_lowercase();
    !category.is_empty()
        && history.iter().any(|(c, at)| {
            c.trim().to_lowercase() == category
                && now.since(*at) <= REPEATED_CAUSE_WINDOW
                && *at <= now
        })
}

/// The variables each template may use.
pub fn template_variables(kind: TemplateKind) -> &'static [&'static str] {
    match kind {
        TemplateKind::Alert | TemplateKind::Update | TemplateKind::Resolved => &[
            "title",
            "services",
            "impact",
            "state",
            "nature",
            "message",
            "eta",
            "next_update",
            "status_url",
        ],
        TemplateKind::Postmortem => &[
            "title",
            "services",
            "summary",
            "root_cause",
            "customer_edition",
            "status_url",
        ],
        TemplateKind::Signal => &["service", "title", "detail", "count", "console_url"],
        TemplateKind::Reminder => &["title", "next_update", "console_url"],
        TemplateKind::Confirm => &["services", "confirm_url", "unsubscribe_url"],
        // Case mail: the reply text is the only free text, and it is always public.
        TemplateKind::CaseAcknowledgement => {
            &["case", "subject", "requester", "case_url", "description"]
        }
        // The rating link lets the requester say how it went without signing in.
        TemplateKind::CaseSolved => &[
            "case",
            "subject",
            "requester",
            "case_url",
            "description",
            "rating_url",
        ],
        TemplateKind::CaseReply | TemplateKind::CustomerReplied => {
            &["case", "subject", "author", "reply", "case_url"]
        }
        TemplateKind::CaseAssigned
        | TemplateKind::CaseEscalated
        | TemplateKind::SwarmRequest
        | TemplateKind::Mention
        | TemplateKind::SlaWarning
        | TemplateKind::SlaBreached => &["case", "subject", "actor", "detail", "case_url"],
    }
}

/// A subject and body with `{{name}}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

/// Checks that a template only uses the variables of its kind and closes its braces.
pub fn check_template(kind: TemplateKind, template: &Template) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    for (field, text) in [("subject", &template.subject), ("body", &template.body)] {
        if text.trim().is_empty() {
            errors.add(field, "cannot be empty");
        }
        if let Err(e) = crate::template::check_placeholders(text, template_variables(kind)) {
            errors.add(field, e);
        }
    }
    errors.into_result()
}

/// Fills the placeholders; a variable without a value renders as an empty string.
pub fn render(template: &Template, vars: &BTreeMap<&str, String>) -> Template {
    Template {
        subject: crate::template::fill(&template.subject, vars),
        body: crate::template::fill(&template.body, vars),
    }
}

/// The templates a new installation starts with.
pub fn default_template(kind: TemplateKind) -> Template {
    let (subject, body) = match kind {
        TemplateKind::Alert => (
            "[{{impact}}] {{title}}",
            "We are aware of a problem affecting {{services}}.\n\nWhat is happening: {{nature}}\n{{message}}\n\nExpected resolution: {{eta}}\nNext update by: {{next_update}}\nFollow progress: {{status_url}}\n\nWe are sorry for the disruption.",
        ),
        TemplateKind::Update => (
            "[{{state}}] {{title}}",
            "Update on the problem affecting {{services}}.\n\n{{message}}\n\nStatus: {{state}}\nExpected resolution: {{eta}}\nNext update by: {{next_update}}\nFollow progress: {{status_url}}",
        ),
        TemplateKind::Resolved => (
            "[resolved] {{title}}",
            "The problem affecting {{services}} is resolved.\n\n{{message}}\n\nA post-mortem will follow. Details: {{status_url}}",
        ),
        TemplateKind::Postmortem => (
            "Post-mortem: {{title}}",
            "What happened to {{services}}, and what we are changing.\n\n{{customer_edition}}\n\nDetails: {{status_url}}",
        ),
        TemplateKind::Signal => (
            "Signal: {{title}} ({{service}})",
            "{{count}} alert(s) for {{service}}.\n\n{{detail}}\n\nQualify it in the console: {{console_url}}",
        ),
        TemplateKind::Reminder => (
            "Update due: {{title}}",
            "The next update for \"{{title}}\" is committed for {{next_update}}. Send it from the console: {{console_url}}",
        ),
        TemplateKind::Confirm => (
            "Confirm your status subscription",
            "Confirm that you want email about {{services}}: {{confirm_url}}\n\nNot you? Ignore this message. Unsubscribe at any time: {{unsubscribe_url}}",
        ),
        TemplateKind::CaseAcknowledgement => (
            "We received your request: {{subject}}",
            "Hello {{requester}},\n\nWe have opened case {{case}} for your request and will answer as soon as we can. To add anything, reply to this message.\n\nFollow the case: {{case_url}}",
        ),
        TemplateKind::CaseReply => (
            "{{subject}}",
            "{{author}} wrote:\n\n{{reply}}\n\nReply to this message to answer, or see the case: {{case_url}}",
        ),
        TemplateKind::CaseSolved => (
            "Solved: {{subject}}",
            "Hello {{requester}},\n\nWe have marked case {{case}} as solved. If the problem is still there, reply to this message and the case opens again.\n\nHow did we do? One click tells us: {{rating_url}}\n\nSee the case: {{case_url}}",
        ),
        TemplateKind::CaseAssigned => (
            "Assigned to you: {{subject}}",
            "{{actor}} assigned case {{case}} to you.\n\n{{detail}}\n\n{{case_url}}",
        ),
        TemplateKind::CaseEscalated => (
            "Escalated to your queue: {{subject}}",
            "{{actor}} escalated case {{case}} to your queue.\n\n{{detail}}\n\n{{case_url}}",
        ),
        TemplateKind::SwarmRequest => (
            "Your help is asked on: {{subject}}",
            "{{actor}} asks for your help on case {{case}}.\n\n{{detail}}\n\n{{case_url}}",
        ),
        TemplateKind::SlaWarning => (
            "Due soon: {{subject}}",
            "Case {{case}} is about to miss its service-level target.\n\n{{detail}}\n\n{{case_url}}",
        ),
        TemplateKind::SlaBreached => (
            "Target missed: {{subject}}",
            "Case {{case}} has missed its service-level target.\n\n{{detail}}\n\n{{case_url}}",
        ),
        TemplateKind::Mention => (
            "You were mentioned on: {{subject}}",
            "{{actor}} mentioned you in an internal note on case {{case}}:\n\n{{detail}}\n\n{{case_url}}",
        ),
        TemplateKind::CustomerReplied => (
            "New reply: {{subject}}",
            "{{author}} replied on case {{case}}:\n\n{{reply}}\n\n{{case_url}}",
        ),
    };
    Template {
        subject: subject.into(),
        body: body.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const MIN: i64 = 60_000;

    #[test]
    fn only_users_of_affected_customers_and_subscribers_hear() {
        let (s10, s20) = (ServiceId(10), ServiceId(20));
        let usage = [(OrgId(1), s10), (OrgId(2), s20), (OrgId(3), s10)];
        let user = |email: &str, org: i64, never: bool| Contact {
            email: email.into(),
            org: Some(OrgId(org)),
            no_vendor_contact: never,
        };
        let users = [
            user("a@one", 1, false),
            user("b@two", 2, false),
            user("c@three", 3, true),
            Contact {
                email: "staff@vendor".into(),
                org: None,
                no_vendor_contact: false,
            },
        ];
        let subscribers = [
            ("Fan@Example".to_string(), s10),
            ("other@example".to_string(), ServiceId(30)),
            ("a@one".to_string(), s10),
        ];
        // Service 10: org 1 (a@one) and org 3 (kept away by its partner), plus one subscriber;
        // a@one subscribed too but hears once.
        assert_eq!(
            incident_audience(&[s10], &usage, &users, &subscribers),
            vec!["a@one", "fan@example"]
        );
        assert_eq!(
            incident_audience(&[s20], &usage, &users, &subscribers),
            vec!["b@two"]
        );
        assert!(incident_audience(&[ServiceId(99)], &usage, &users, &subscribers).is_empty());
        // Org 3's users are kept away: its partner is told instead.
        assert_eq!(
            customers_told_through_partner(&[s10], &usage, &users),
            vec![OrgId(3)]
        );
        assert!(customers_told_through_partner(&[s20], &usage, &users).is_empty());
    }

    /// The cadence rule with times written as minutes-from-zero, as the cases below are.
    fn cadence(
        now: i64,
        state: IncidentState,
        next: Option<i64>,
        last: i64,
        long: bool,
    ) -> Cadence {
        super::cadence(
            Timestamp::from_millis(now),
            state,
            next.map(Timestamp::from_millis),
            Timestamp::from_millis(last),
            long,
        )
    }

    #[test]
    fn the_clock_reminds_then_flags_overdue_and_the_hourly_rule() {
        let next = 60 * MIN;
        let last = 0;
        // 45 minutes in: nothing yet.
        assert_eq!(
            cadence(45 * MIN, IncidentState::Identified, Some(next), last, false),
            Cadence::default()
        );
        // 50 minutes in: 10 minutes before the committed time, remind.
        assert!(cadence(50 * MIN, IncidentState::Identified, Some(next), last, false).remind);
        // 60 minutes: overdue, no longer a reminder.
        let at_hour = cadence(60 * MIN, IncidentState::Identified, Some(next), last, false);
        assert!(at_hour.overdue && !at_hour.remind && !at_hour.hourly_rule_broken);
        // 61 minutes without an update breaks the hourly rule, unless the path is known long.
        assert!(
            cadence(
                61 * MIN,
                IncidentState::Identified,
                Some(3 * next),
                last,
                false
            )
            .hourly_rule_broken
        );
        assert!(
            !cadence(
                61 * MIN,
                IncidentState::Identified,
                Some(3 * next),
                last,
                true
            )
            .hourly_rule_broken
        );
        // Resolved incidents owe nothing.
        assert_eq!(
            cadence(500 * MIN, IncidentState::Resolved, Some(next), last, false),
            Cadence::default()
        );
    }

    #[test]
    fn post_mortems_are_due_in_business_days() {
        // Thursday 2026-11-19 + 3 business days = Tuesday 2026-11-24 (skipping the weekend).
        assert_eq!(
            business_days_after(date!(2026 - 11 - 19), 3),
            date!(2026 - 11 - 24)
        );
        // Saturday + 1 = Monday; Monday + 5 = next Monday.
        assert_eq!(
            business_days_after(date!(2026 - 11 - 21), 1),
            date!(2026 - 11 - 23)
        );
        assert_eq!(
            business_days_after(date!(2026 - 11 - 23), 5),
            date!(2026 - 11 - 30)
        );
        assert_eq!(
            business_days_after(date!(2026 - 11 - 23), 0),
            date!(2026 - 11 - 23)
        );
    }

    #[test]
    fn a_cause_seen_twice_in_ninety_days_is_repeated() {
        let day = |n: i64| Timestamp::EPOCH.plus(Span::DAY.times(n));
        let history = [
            ("Capacity".to_string(), day(10)),
            ("network".to_string(), day(50)),
        ];
        assert!(repeated_cause("capacity ", &history, day(95)));
        // 101 days later it no longer counts.
        assert!(!repeated_cause("capacity", &history, day(101)));
        assert!(!repeated_cause("deploy", &history, day(60)));
        assert!(!repeated_cause("", &history, day(60)));
    }

    #[test]
    fn templates_are_checked_and_rendered() {
        let ok = Template {
            subject: "{{title}}".into(),
            body: "See {{ status_url }}".into(),
        };
        assert!(check_template(TemplateKind::Alert, &ok).is_ok());
        let bad = Template {
            subject: "{{nope}}".into(),
            body: "{{title".into(),
        };
        let errors = check_template(TemplateKind::Alert, &bad).unwrap_err();
        assert!(errors.0["subject"].contains("unknown placeholder {{nope}}"));
        assert!(errors.0["body"].contains("never closed"));
        for kind in TemplateKind::ALL {
            assert!(
                check_template(*kind, &default_template(*kind)).is_ok(),
                "{kind}"
            );
        }
    }

    #[test]
    fn the_alert_template_renders_as_snapshotted() {
        let vars: BTreeMap<&str, String> = [
            ("title", "Backups delayed in EU"),
            ("services", "Backup (eu-west)"),
            ("impact", "major"),
            ("nature", "Nightly jobs queue instead of running."),
            ("message", "Operations are moving jobs to spare capacity."),
            ("eta", "about 2 hours"),
            ("next_update", "2026-11-23 15:30 UTC"),
            ("status_url", "https://status.example/incidents/7"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
        let out = render(&default_template(TemplateKind::Alert), &vars);
        assert_eq!(out.subject, "[major] Backups delayed in EU");
        assert_eq!(
            out.body,
            "We are aware of a problem affecting Backup (eu-west).\n\nWhat is happening: Nightly jobs queue instead of running.\nOperations are moving jobs to spare capacity.\n\nExpected resolution: about 2 hours\nNext update by: 2026-11-23 15:30 UTC\nFollow progress: https://status.example/incidents/7\n\nWe are sorry for the disruption."
        );
        let resolved = render(&default_template(TemplateKind::Resolved), &vars);
        assert_eq!(resolved.subject, "[resolved] Backups delayed in EU");
        assert_eq!(
            resolved.body,
            "The problem affecting Backup (eu-west) is resolved.\n\nOperations are moving jobs to spare capacity.\n\nA post-mortem will follow. Details: https://status.example/incidents/7"
        );
    }
}
