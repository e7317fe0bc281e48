//! Macros: a saved reply with `{{placeholders}}` and the field changes that go with it
//! ("Ask for logs": a reply, status pending, tag `needs-logs`). Shared macros are the team's;
//! personal ones belong to one agent. Placeholders are checked when a macro is saved, so a typo
//! is found by its author, not by a customer reading `Dear ,`.

use crate::case::{check_comment_body, normalize_tags};
use crate::template::{check_placeholders, fill};
use crate::{CaseStatus, FieldErrors, ParseError, Priority, Tier, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a macro's text may name.
pub const MACRO_PLACEHOLDERS: &[&str] = &[
    "requester.name",
    "requester.first_name",
    "requester.email",
    "organization.name",
    "partner.name",
    "case.number",
    "case.subject",
    "case.product",
    "agent.name",
    "agent.first_name",
    "agent.email",
];

const MAX_TITLE_CHARS: usize = 120;

/// Who a macro assigns the case to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssignTo {
    /// Whoever applies the macro.
    Me,
    /// Nobody: the case goes back to its queue.
    Nobody,
    /// One staff member, by id.
    #[schema(value_type = i64)]
    User(UserId),
}

/// The field changes a macro makes; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MacroActions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CaseStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub tier: Option<Tier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<AssignTo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_tags: Vec<String>,
    /// The text goes out as an internal note rather than a reply.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
}

impl MacroActions {
    pub fn is_empty(&self) -> bool {
        *self == MacroActions::default()
    }

    /// The changes in words, for the page that shows what sending will do.
    pub fn describe(&self, staff_name: impl Fn(UserId) -> String) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(s) = self.status {
            out.push(format!("status → {}", s.as_str().replace('_', " ")));
        }
        if let Some(p) = self.priority {
            out.push(format!("priority → {p}"));
        }
        if let Some(t) = self.tier {
            out.push(format!("tier → L{}", t.level()));
        }
        match self.assignee {
            Some(AssignTo::Me) => out.push("assign to me".into()),
            Some(AssignTo::Nobody) => out.push("unassign".into()),
            Some(AssignTo::User(id)) => out.push(format!("assign to {}", staff_name(id))),
            None => {}
        }
        if !self.add_tags.is_empty() {
            out.push(format!("add tags {}", self.add_tags.join(", ")));
        }
        if !self.remove_tags.is_empty() {
            out.push(format!("remove tags {}", self.remove_tags.join(", ")));
        }
        if self.internal {
            out.push("as an internal note".into());
        }
        out
    }
}

/// A macro as its author wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MacroInput {
    pub title: String,
    /// The reply text, with placeholders; may be empty for a macro that only changes fields.
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub actions: MacroActions,
    /// Shared with the whole team (admins only) rather than personal.
    #[serde(default)]
    pub shared: bool,
}

/// Checks a macro before it is saved: a title, a text or an action, known placeholders, tags
/// that are tags. Returns the input with title and tags normalised.
pub fn check_macro(input: &MacroInput) -> Result<MacroInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let title = input.title.trim().to_string();
    if title.is_empty() {
        errors.add("title", "Give the macro a name agents will recognise.");
    } else if title.chars().count() > MAX_TITLE_CHARS {
        errors.add(
            "title",
            format!("A name can hold at most {MAX_TITLE_CHARS} characters."),
        );
    }
    if input.body.trim().is_empty() {
        if input.actions.is_empty() || input.actions.internal {
            errors.add(
                "body",
                "Write the reply text, or choose what the macro changes.",
            );
        }
    } else {
        if let Err(e) = check_comment_body(&input.body) {
            errors.add("body", e.0);
        }
        if let Err(e) = check_placeholders(&input.body, MACRO_PLACEHOLDERS) {
            errors.add("body", e);
        }
    }
    let mut actions = input.actions.clone();
    for (field, tags) in [
        ("actions.add_tags", &mut actions.add_tags),
        ("actions.remove_tags", &mut actions.remove_tags),
    ] {
        match normalize_tags(tags) {
            Ok(normal) => *tags = normal,
            Err(e) => errors.add(field, e.0),
        }
    }
    if actions.status == Some(CaseStatus::New) {
        errors.add("actions.status", "A macro cannot set a case back to new.");
    }
    if let Some(tag) = actions
        .add_tags
        .iter()
        .find(|t| actions.remove_tags.contains(t))
    {
        errors.add(
            "actions.remove_tags",
            format!("{tag} is both added and removed."),
        );
    }
    errors.into_result()?;
    Ok(MacroInput {
        title,
        body: input.body.trim().to_string(),
        actions,
        shared: input.shared,
    })
}

/// What a macro's placeholders are filled from.
#[derive(Debug, Clone, Default)]
pub struct MacroFacts {
    pub requester_name: String,
    pub requester_email: String,
    pub organization: String,
    pub partner: Option<String>,
    pub case_number: i64,
    pub subject: String,
    pub product: Option<String>,
    pub agent_name: String,
    pub agent_email: String,
}

fn first_name(name: &str) -> String {
    name.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The macro's text for one case.
pub fn render_macro_body(body: &str, facts: &MacroFacts) -> String {
    let values = BTreeMap::from([
        ("requester.name", facts.requester_name.clone()),
        ("requester.first_name", first_name(&facts.requester_name)),
        ("requester.email", facts.requester_email.clone()),
        ("organization.name", facts.organization.clone()),
        ("partner.name", facts.partner.clone().unwrap_or_default()),
        ("case.number", facts.case_number.to_string()),
        ("case.subject", facts.subject.clone()),
        ("case.product", facts.product.clone().unwrap_or_default()),
        ("agent.name", facts.agent_name.clone()),
        ("agent.first_name", first_name(&facts.agent_name)),
        ("agent.email", facts.agent_email.clone()),
    ]);
    fill(body, &values)
}

/// The field values a macro leads to, given the case's tags and who applies it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlannedChanges {
    pub status: Option<CaseStatus>,
    pub priority: Option<Priority>,
    pub tier: Option<Tier>,
    pub assignee: Option<Option<UserId>>,
    /// The whole new tag list, when the macro touches tags.
    pub tags: Option<Vec<String>>,
}

pub fn plan_changes(actions: &MacroActions, tags: &[String], me: UserId) -> PlannedChanges {
    let tags = if actions.add_tags.is_empty() && actions.remove_tags.is_empty() {
        None
    } else {
        let mut next: Vec<String> = tags
            .iter()
            .filter(|t| !actions.remove_tags.contains(t))
            .cloned()
            .collect();
        next.extend(actions.add_tags.iter().cloned());
        next.sort();
        next.dedup();
        Some(next)
    };
    PlannedChanges {
        status: actions.status,
        priority: actions.priority,
        tier: actions.tier,
        assignee: actions.assignee.map(|a| match a {
            AssignTo::Me => Some(me),
            AssignTo::Nobody => None,
            AssignTo::User(id) => Some(id),
        }),
        tags,
    }
}

/// Parses a tag list typed as words separated by commas or spaces.
pub fn tag_words(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// A macro's assignee as a form writes it: `me`, `nobody`, a user id, or blank for none.
pub fn parse_assign_to(text: &str) -> Result<Option<AssignTo>, ParseError> {
    match text.trim() {
        "" => Ok(None),
        "me" => Ok(Some(AssignTo::Me)),
        "nobody" => Ok(Some(AssignTo::Nobody)),
        id => id
            .parse::<i64>()
            .map(|id| Some(AssignTo::User(UserId(id))))
            .map_err(|_| ParseError("choose me, nobody or one of the staff".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(body: &str) -> MacroInput {
        MacroInput {
            title: " Ask for logs ".into(),
            body: body.into(),
            actions: MacroActions::default(),
            shared: false,
        }
    }

    #[test]
    fn a_macro_with_known_placeholders_is_accepted_and_trimmed() {
        let ok = check_macro(&input("Hi {{requester.first_name}}, please send logs.")).unwrap();
        assert_eq!(ok.title, "Ask for logs");
    }

    #[test]
    fn typos_in_placeholders_empty_macros_and_bad_tags_are_refused_with_every_field_named() {
        let mut bad = input("Hi {{requester.nmae}}");
        bad.title = " ".into();
        bad.actions.add_tags = vec!["needs logs!".into()];
        bad.actions.status = Some(CaseStatus::New);
        let errors = check_macro(&bad).unwrap_err();
        assert!(errors.0["body"].contains("{{requester.nmae}}"));
        assert!(errors.0["body"].contains("{{requester.name}}"));
        assert!(errors.0.contains_key("title"));
        assert!(errors.0.contains_key("actions.add_tags"));
        assert!(errors.0.contains_key("actions.status"));
        assert!(check_macro(&input("  "))
            .unwrap_err()
            .0
            .contains_key("body"));
        assert!(check_macro(&input("Hi {{requester.name")).is_err());
    }

    #[test]
    fn a_macro_may_only_change_fields() {
        let mut only_fields = input("");
        only_fields.actions.status = Some(CaseStatus::Solved);
        assert!(check_macro(&only_fields).is_ok());
        // An internal note needs its text.
        only_fields.actions.internal = true;
        assert!(check_macro(&only_fields).is_err());
    }

    #[test]
    fn rendering_fills_every_placeholder_from_the_case() {
        let facts = MacroFacts {
            requester_name: "Peter Gibbons".into(),
            requester_email: "peter@initech.example".into(),
            organization: "Initech".into(),
            partner: None,
            case_number: 42,
            subject: "Backup fails".into(),
            product: Some("Vault".into()),
            agent_name: "Ana Lima".into(),
            agent_email: "ana@northwind.example".into(),
        };
        assert_eq!(
            render_macro_body(
                "Hi {{requester.first_name}} ({{organization.name}}{{partner.name}}), about #{{case.number}} {{case.subject}} on {{case.product}}. — {{agent.first_name}}",
                &facts
            ),
            "Hi Peter (Initech), about #42 Backup fails on Vault. — Ana"
        );
    }

    #[test]
    fn planned_changes_resolve_me_and_merge_tags() {
        let actions = MacroActions {
            assignee: Some(AssignTo::Me),
            add_tags: vec!["needs-logs".into(), "backup".into()],
            remove_tags: vec!["triage".into()],
            status: Some(CaseStatus::Pending),
            ..Default::default()
        };
        let plan = plan_changes(&actions, &["triage".into(), "backup".into()], UserId(7));
        assert_eq!(plan.assignee, Some(Some(UserId(7))));
        assert_eq!(
            plan.tags,
            Some(vec!["backup".to_string(), "needs-logs".to_string()])
        );
        assert_eq!(plan.status, Some(CaseStatus::Pending));
        let none = plan_changes(&MacroActions::default(), &["x".into()], UserId(7));
        assert_eq!(none, PlannedChanges::default());
    }

    #[test]
    fn actions_read_as_json_and_in_words() {
        let actions: MacroActions = serde_json::from_str(
            r#"{"status":"pending","assignee":{"user":3},"add_tags":["a"],"tier":2}"#,
        )
        .unwrap();
        assert_eq!(actions.assignee, Some(AssignTo::User(UserId(3))));
        assert_eq!(
            actions.describe(|_| "Chen".into()),
            vec![
                "status → pending",
                "tier → L2",
                "assign to Chen",
                "add tags a"
            ]
        );
        assert!(serde_json::from_str::<MacroActions>(r#"{"stauts":"open"}"#).is_err());
        assert_eq!(parse_assign_to("me"), Ok(Some(AssignTo::Me)));
        assert!(parse_assign_to("someone").is_err());
        assert_eq!(tag_words("a, b c"), vec!["a", "b", "c"]);
    }
}
