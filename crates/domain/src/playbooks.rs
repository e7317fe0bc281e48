//! Customer-success playbooks: what a playbook holds (situation, steps with scripts, sample
//! emails and dialogues), the checks it passes before it is saved, when a trigger starts one on
//! an account, and the tasks a run creates from its steps.

use crate::template::{check_placeholders, fill};
use crate::{FieldErrors, Span, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The situation a playbook is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Situation {
    Onboarding,
    RegularReview,
    Renewal,
    Objection,
    IncidentHit,
    PartnerInvalidEscalations,
}

impl Situation {
    pub const ALL: [Situation; 6] = [
        Situation::Onboarding,
        Situation::RegularReview,
        Situation::Renewal,
        Situation::Objection,
        Situation::IncidentHit,
        Situation::PartnerInvalidEscalations,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Situation::Onboarding => "onboarding",
            Situation::RegularReview => "regular_review",
            Situation::Renewal => "renewal",
            Situation::Objection => "objection",
            Situation::IncidentHit => "incident_hit",
            Situation::PartnerInvalidEscalations => "partner_invalid_escalations",
        }
    }

    pub fn parse(text: &str) -> Option<Situation> {
        Situation::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Situation::Onboarding => "Onboarding",
            Situation::RegularReview => "Regular review",
            Situation::Renewal => "Renewal",
            Situation::Objection => "Objection",
            Situation::IncidentHit => "Account hit by an incident",
            Situation::PartnerInvalidEscalations => "Partner over its invalid-escalation threshold",
        }
    }
}

/// Where an account is in its life with the vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Onboarding,
    Adoption,
    Mature,
    Renewal,
    AtRisk,
    Churned,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Onboarding,
        Stage::Adoption,
        Stage::Mature,
        Stage::Renewal,
        Stage::AtRisk,
        Stage::Churned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Onboarding => "onboarding",
            Stage::Adoption => "adoption",
            Stage::Mature => "mature",
            Stage::Renewal => "renewal",
            Stage::AtRisk => "at_risk",
            Stage::Churned => "churned",
        }
    }

    pub fn parse(text: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What starts a playbook by itself; playbooks can always be run by hand too.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// The account's health score falls below `threshold`.
    HealthBelow { threshold: f64 },
    /// The account's renewal is within `days` days.
    RenewalWithin { days: u32 },
    /// A partner organisation signed in the last `days` days.
    NewPartner { days: u32 },
    /// The partner has a relationship alert (invalid escalations, certification).
    PartnerAlert,
    /// An incident touched a service the account uses in the last `days` days.
    Incident { days: u32 },
}

impl Trigger {
    /// A short name for the run's record.
    pub fn as_str(&self) -> &'static str {
        match self {
            Trigger::HealthBelow { .. } => "health_below",
            Trigger::RenewalWithin { .. } => "renewal_within",
            Trigger::NewPartner { .. } => "new_partner",
            Trigger::PartnerAlert => "partner_alert",
            Trigger::Incident { .. } => "incident",
        }
    }
}

/// Who a step's task goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepOwner {
    /// The account's success manager (whoever started the run when it has none).
    AccountOwner,
    /// Whoever started the run (the account owner for a trigger).
    Runner,
}

/// One step of a playbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub title: String,
    pub owner: StepOwner,
    /// Days after the run starts that the task is due.
    pub day_offset: u32,
    /// What to say and do.
    #[serde(default)]
    pub script: String,
    /// A sample email (both or neither), with `{{placeholders}}`.
    #[serde(default)]
    pub email_subject: String,
    #[serde(default)]
    pub email_body: String,
    /// A sample dialogue: how the conversation usually goes.
    #[serde(default)]
    pub dialogue: String,
}

/// A playbook's content; each save is a new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaybookContent {
    pub name: String,
    pub situation: Situation,
    /// When and why to use it.
    #[serde(default)]
    pub summary: String,
    pub trigger: Option<Trigger>,
    pub steps: Vec<Step>,
}

/// The placeholders sample emails may use.
pub const PLACEHOLDERS: [&str; 5] = [
    "account.name",
    "owner.name",
    "recipient.name",
    "renewal.date",
    "health.score",
];

const MAX_NAME: usize = 120;
const MAX_TEXT: usize = 20_000;
const MAX_STEPS: usize = 40;

impl PlaybookContent {
    /// Every problem, by field (`steps[2].email_body`).
    pub fn check(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            errors.add(
                "name",
                format!("write a name of 1 to {MAX_NAME} characters"),
            );
        }
        if self.summary.len() > MAX_TEXT {
            errors.add("summary", "the summary is too long");
        }
        match self.trigger {
            Some(Trigger::HealthBelow { threshold }) if !(0.0..=100.0).contains(&threshold) => {
                errors.add("trigger", "a health threshold is a score from 0 to 100");
            }
            Some(
                Trigger::RenewalWithin { days }
                | Trigger::NewPartner { days }
                | Trigger::Incident { days },
            ) if !(1..=365).contains(&days) => {
                errors.add("trigger", "the trigger's days are 1 to 365");
            }
            _ => {}
        }
        if self.steps.is_empty() || self.steps.len() > MAX_STEPS {
            errors.add("steps", format!("give 1 to {MAX_STEPS} steps"));
        }
        for (i, step) in self.steps.iter().enumerate() {
            let field = |f: &str| format!("steps[{i}].{f}");
            if step.title.trim().is_empty() || step.title.chars().count() > MAX_NAME {
                errors.add(
                    &field("title"),
                    format!("write a title of 1 to {MAX_NAME} characters"),
                );
            }
            if step.day_offset > 365 {
                errors.add(
                    &field("day_offset"),
                    "a step is due 0 to 365 days after the start",
                );
            }
            for (name, text) in [
                ("script", &step.script),
                ("email_body", &step.email_body),
                ("dialogue", &step.dialogue),
            ] {
                if text.len() > MAX_TEXT {
                    errors.add(&field(name), "this text is too long");
                }
            }
            if step.email_subject.trim().is_empty() != step.email_body.trim().is_empty() {
                errors.add(
                    &field("email_body"),
                    "a sample email needs both a subject and a body",
                );
            }
            for (name, text) in [
                ("email_subject", &step.email_subject),
                ("email_body", &step.email_body),
            ] {
                if let Err(problem) = check_placeholders(text, &PLACEHOLDERS) {
                    errors.add(&field(name), problem);
                }
            }
        }
        errors.into_result()
    }
}

impl PlaybookContent {
    /// Whether every word of `query` appears (case-insensitively) somewhere in the playbook:
    /// its name, situation, summary, or a step's title, script, email or dialogue. An empty
    /// query matches everything.
    pub fn matches(&self, query: &str) -> bool {
        let mut text = format!(
            "{}\n{}\n{}",
            self.name,
            self.situation.label(),
            self.summary
        );
        for s in &self.steps {
            for part in [
                &s.title,
                &s.script,
                &s.email_subject,
                &s.email_body,
                &s.dialogue,
            ] {
                text.push('\n');
                text.push_str(part);
            }
        }
        let text = text.to_lowercase();
        query
            .split_whitespace()
            .all(|word| text.contains(&word.to_lowercase()))
    }
}

/// A step's email filled for one account.
pub fn render_email(step: &Step, values: &BTreeMap<&str, String>) -> Option<(String, String)> {
    (!step.email_subject.trim().is_empty()).then(|| {
        (
            fill(&step.email_subject, values),
            fill(&step.email_body, values),
        )
    })
}

/// What a trigger looks at for one account.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountFacts {
    pub is_partner: bool,
    pub health: f64,
    pub renewal: Option<Timestamp>,
    /// When the organisation was created in Backline (a partner's signing).
    pub joined: Timestamp,
    /// The kinds of its current partner alerts.
    pub partner_alerts: Vec<String>,
    /// When incidents touching its services were declared, most recent first.
    pub incidents: Vec<Timestamp>,
}

/// Whether `trigger` holds for an account now, with the reason in words.
pub fn fires(trigger: &Trigger, facts: &AccountFacts, now: Timestamp) -> Option<String> {
    let within =
        |days: u32, at: Timestamp| at <= now && now.since(at) <= Span::DAY.times(i64::from(days));
    match *trigger {
        Trigger::HealthBelow { threshold } => (facts.health < threshold)
            .then(|| format!("health {:.1} is below {threshold}", facts.health)),
        Trigger::RenewalWithin { days } => facts.renewal.and_then(|r| {
            (r >= now && r.since(now) <= Span::DAY.times(i64::from(days)))
                .then(|| format!("renewal within {days} days"))
        }),
        Trigger::NewPartner { days } => (facts.is_partner && within(days, facts.joined))
            .then(|| format!("partner signed within {days} days")),
        Trigger::PartnerAlert => (facts.is_partner && !facts.partner_alerts.is_empty())
            .then(|| format!("partner alert: {}", facts.partner_alerts.join(", "))),
        Trigger::Incident { days } => facts
            .incidents
            .iter()
            .any(|at| within(days, *at))
            .then(|| format!("an incident touched its services within {days} days")),
    }
}

/// A task a run creates from a step.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedTask {
    pub step: usize,
    pub title: String,
    pub owner: crate::UserId,
    pub due: Timestamp,
}

/// The tasks of a run started at `start`: one per step, due `day_offset` days later, owned by
/// the account owner (or the runner when the account has none) or the runner.
pub fn plan_tasks(
    steps: &[Step],
    start: Timestamp,
    account_owner: Option<crate::UserId>,
    runner: crate::UserId,
) -> Vec<PlannedTask> {
    steps
        .iter()
        .enumerate()
        .map(|(i, step)| PlannedTask {
            step: i,
            title: step.title.trim().to_string(),
            owner: match step.owner {
                StepOwner::AccountOwner => account_owner.unwrap_or(runner),
                StepOwner::Runner => runner,
            },
            due: start.plus(Span::DAY.times(i64::from(step.day_offset))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UserId;

    fn step(title: &str, owner: StepOwner, days: u32) -> Step {
        Step {
            title: title.into(),
            owner,
            day_offset: days,
            script: String::new(),
            email_subject: String::new(),
            email_body: String::new(),
            dialogue: String::new(),
        }
    }

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn runs_plan_a_task_per_step_for_the_right_person() {
        let steps = vec![
            step("Call", StepOwner::AccountOwner, 0),
            step(" Review ", StepOwner::Runner, 14),
        ];
        let start = at("2026-12-01T10:00:00Z");
        let tasks = plan_tasks(&steps, start, Some(UserId(7)), UserId(3));
        assert_eq!(tasks[0].owner, UserId(7));
        assert_eq!(tasks[0].due, start);
        assert_eq!(tasks[1].owner, UserId(3));
        assert_eq!(tasks[1].title, "Review");
        assert_eq!(tasks[1].due, at("2026-12-15T10:00:00Z"));
        // No owner on the account: the runner takes the owner's steps.
        assert_eq!(
            plan_tasks(&steps, start, None, UserId(3))[0].owner,
            UserId(3)
        );
    }

    #[test]
    fn triggers_fire_on_the_facts() {
        let now = at("2026-12-01T00:00:00Z");
        let facts = AccountFacts {
            is_partner: true,
            health: 55.0,
            renewal: Some(at("2026-12-20T00:00:00Z")),
            joined: at("2026-11-25T00:00:00Z"),
            partner_alerts: vec!["invalid_escalations".into()],
            incidents: vec![at("2026-11-01T00:00:00Z")],
        };
        assert!(fires(&Trigger::HealthBelow { threshold: 60.0 }, &facts, now).is_some());
        assert!(fires(&Trigger::HealthBelow { threshold: 50.0 }, &facts, now).is_none());
        assert!(fires(&Trigger::RenewalWithin { days: 30 }, &facts, now).is_some());
        assert!(fires(&Trigger::RenewalWithin { days: 10 }, &facts, now).is_none());
        assert!(fires(&Trigger::NewPartner { days: 7 }, &facts, now).is_some());
        assert!(fires(&Trigger::NewPartner { days: 3 }, &facts, now).is_none());
        assert!(fires(&Trigger::PartnerAlert, &facts, now).is_some());
        assert!(fires(&Trigger::Incident { days: 7 }, &facts, now).is_none());
        assert!(fires(&Trigger::Incident { days: 31 }, &facts, now).is_some());
        let customer = AccountFacts {
            is_partner: false,
            ..facts
        };
        assert!(fires(&Trigger::PartnerAlert, &customer, now).is_none());
        assert!(fires(&Trigger::NewPartner { days: 7 }, &customer, now).is_none());
        // A renewal already past does not fire.
        let lapsed = AccountFacts {
            renewal: Some(at("2026-11-20T00:00:00Z")),
            ..customer
        };
        assert!(fires(&Trigger::RenewalWithin { days: 30 }, &lapsed, now).is_none());
    }

    #[test]
    fn content_is_checked_field_by_field() {
        let mut s = step("Welcome", StepOwner::AccountOwner, 0);
        s.email_subject = "Welcome, {{account.name}}".into();
        s.email_body = "Hi {{recipient.name}}, I am {{owner.name}}.".into();
        let mut content = PlaybookContent {
            name: "Partner onboarding".into(),
            situation: Situation::Onboarding,
            summary: String::new(),
            trigger: Some(Trigger::NewPartner { days: 14 }),
            steps: vec![s.clone()],
        };
        assert!(content.check().is_ok());
        assert!(content.matches("partner WELCOME"));
        assert!(content.matches(""));
        assert!(!content.matches("renewal"));
        let values = BTreeMap::from([
            ("account.name", "Acme".to_string()),
            ("recipient.name", "Ann".to_string()),
            ("owner.name", "Olga".to_string()),
        ]);
        assert_eq!(
            render_email(&s, &values),
            Some(("Welcome, Acme".into(), "Hi Ann, I am Olga.".into()))
        );
        content.name = " ".into();
        content.trigger = Some(Trigger::HealthBelow { threshold: 120.0 });
        content.steps[0].email_body = "Hi {{customer}}".into();
        content.steps.push(Step {
            email_subject: "Only a subject".into(),
            ..step("", StepOwner::Runner, 400)
        });
        let errors = content.check().unwrap_err();
        for field in [
            "name",
            "trigger",
            "steps[0].email_body",
            "steps[1].title",
            "steps[1].day_offset",
            "steps[1].email_body",
        ] {
            assert!(errors.0.contains_key(field), "{field}: {errors:?}");
        }
    }
}
