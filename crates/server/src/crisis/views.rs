//! The JSON shapes of the crisis API, rendered from storage rows. Kept apart from the rows so
//! the database can change without changing what clients see.

use backline_domain::crisis::{
    template_variables, Impact, IncidentState, RosterRole, ServiceKind, Template, TemplateKind,
};
use backline_domain::Timestamp;
use backline_store::crisis::{
    format_time, Incident, IncidentEvent, Notification, Postmortem, RosterEntry, Service,
    SignalGroup,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView {
    pub slug: String,
    pub name: String,
    pub kind: ServiceKind,
    /// A heading to group services under on the status page; may be empty.
    pub group: String,
}

impl From<&Service> for ServiceView {
    fn from(s: &Service) -> Self {
        ServiceView {
            slug: s.slug.clone(),
            name: s.name.clone(),
            kind: s.kind,
            group: s.group.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceList {
    pub services: Vec<ServiceView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RosterEntryView {
    pub role: RosterRole,
    pub name: String,
    pub email: String,
    pub phone: String,
}

impl From<&RosterEntry> for RosterEntryView {
    fn from(r: &RosterEntry) -> Self {
        RosterEntryView {
            role: r.role,
            name: r.name.clone(),
            email: r.email.clone(),
            phone: r.phone.clone(),
        }
    }
}

/// Who does what in a crisis.
#[derive(Debug, Serialize, ToSchema)]
pub struct Roster {
    pub roster: Vec<RosterEntryView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupRef {
    /// The signal group's id.
    pub id: i64,
    /// The signal opened this group (and alerted the roster).
    pub new: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertmanagerReceipt {
    /// How many alerts were recorded.
    pub signals: usize,
    /// The group each alert joined, in the order of the alerts.
    pub groups: Vec<GroupRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignalReceipt {
    /// The signal group the signal joined.
    pub group: i64,
    /// The signal opened the group (and alerted the roster).
    pub new_group: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignalGroupView {
    pub id: i64,
    pub service: Option<ServiceView>,
    pub title: String,
    /// `open`, `declared` (an incident was declared from it) or `dismissed`.
    pub state: String,
    /// Signals received in the group.
    pub signals: i64,
    /// Signals still firing.
    pub firing: i64,
    pub first_at: String,
    pub last_at: String,
    /// The incident declared from the group, or the internal one a dismissal opened.
    pub incident_id: Option<backline_domain::IncidentId>,
}

impl From<&SignalGroup> for SignalGroupView {
    fn from(g: &SignalGroup) -> Self {
        SignalGroupView {
            id: g.id.0,
            service: g.service.as_ref().map(ServiceView::from),
            title: g.title.clone(),
            state: g.state.clone(),
            signals: g.signals,
            firing: g.firing,
            first_at: g.first_at.to_rfc3339(),
            last_at: g.last_at.to_rfc3339(),
            incident_id: g.incident_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignalGroupList {
    pub groups: Vec<SignalGroupView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentView {
    pub id: backline_domain::IncidentId,
    pub title: String,
    pub impact: Impact,
    /// What customers experience.
    pub nature: String,
    pub state: IncidentState,
    /// The likely resolution as given: a time in UTC or words; empty when not known.
    pub eta: String,
    /// When the next update is due; `null` once resolved.
    pub next_update_at: Option<String>,
    pub last_update_at: String,
    /// A known, longer resolution path: the hourly rule does not apply.
    pub long_resolution: bool,
    /// The committed update time passed without an update.
    pub overdue: bool,
    /// More than an hour passed without an update (and no long resolution path).
    pub hourly_rule_broken: bool,
    /// A drill: only the roster was told.
    pub dry_run: bool,
    /// `false` for the internal incident of a dismissed signal.
    pub public: bool,
    pub declared_at: String,
    pub resolved_at: Option<String>,
    pub services: Vec<ServiceView>,
}

impl From<&Incident> for IncidentView {
    fn from(i: &Incident) -> Self {
        IncidentView {
            id: i.id,
            title: i.title.clone(),
            impact: i.impact,
            nature: i.nature.clone(),
            state: i.state,
            eta: i.eta.clone(),
            next_update_at: i.next_update_at.map(Timestamp::to_rfc3339),
            last_update_at: i.last_update_at.to_rfc3339(),
            long_resolution: i.long_resolution,
            overdue: i.overdue,
            hourly_rule_broken: i.hourly_breach,
            dry_run: i.dry_run,
            public: i.public,
            declared_at: i.declared_at.to_rfc3339(),
            resolved_at: i.resolved_at.map(Timestamp::to_rfc3339),
            services: i.services.iter().map(ServiceView::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentList {
    pub incidents: Vec<IncidentView>,
}

/// One entry of an incident's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// What happened, e.g. `declared`, `update`, `reminded`, `overdue`.
    pub kind: String,
    /// The state the incident moved to, for updates.
    pub state: Option<IncidentState>,
    pub message: String,
    /// Who did it; `null` for the system.
    pub by: Option<String>,
    pub at: String,
}

impl From<&IncidentEvent> for TimelineEntry {
    fn from(e: &IncidentEvent) -> Self {
        TimelineEntry {
            kind: e.kind.clone(),
            state: e.state,
            message: e.message.clone(),
            by: e.actor.clone(),
            at: e.at.to_rfc3339(),
        }
    }
}

/// A timeline entry with the details recorded with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentEventView {
    #[serde(flatten)]
    pub entry: TimelineEntry,
    /// Details that depend on the kind (the ETA given, the times of a reminder...).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<&IncidentEvent> for IncidentEventView {
    fn from(e: &IncidentEvent) -> Self {
        IncidentEventView {
            entry: TimelineEntry::from(e),
            data: e.data.clone(),
        }
    }
}

/// An incident with its timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub incident: IncidentView,
    pub timeline: Vec<IncidentEventView>,
}

/// Where an email stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    Pending,
    Sent,
    Failed,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    /// The template it came from (`alert`, `update`, `resolved`, `postmortem`...).
    pub kind: String,
    pub created_at: String,
    pub attempts: i64,
    pub sent_at: Option<String>,
    /// When sending was given up.
    pub failed_at: Option<String>,
    pub last_error: Option<String>,
    pub status: MailStatus,
}

impl From<&Notification> for NotificationView {
    fn from(n: &Notification) -> Self {
        NotificationView {
            id: n.id,
            recipient: n.recipient.clone(),
            subject: n.subject.clone(),
            kind: n.kind.clone(),
            created_at: n.created_at.to_rfc3339(),
            attempts: n.attempts,
            sent_at: n.sent_at.map(Timestamp::to_rfc3339),
            failed_at: n.failed_at.map(Timestamp::to_rfc3339),
            last_error: n.last_error.clone(),
            status: if n.sent_at.is_some() {
                MailStatus::Sent
            } else if n.failed_at.is_some() {
                MailStatus::Failed
            } else {
                MailStatus::Pending
            },
        }
    }
}

/// Everyone told about the incident, and the state of their mail.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    pub notifications: Vec<NotificationView>,
}

/// A follow-up the post-mortem commits to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionItem {
    pub title: String,
    /// Who sees it through.
    pub owner: String,
    /// When it is due, as written (e.g. `2026-12-01`).
    pub due: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PostmortemView {
    pub summary: String,
    pub root_cause: String,
    /// A root-cause category; one seen within 90 days flags the post-mortem for executives.
    pub category: String,
    /// Stored as the API and the post-mortem form write them, both as `ActionItem`s.
    #[schema(value_type = Vec<ActionItem>)]
    pub action_items: serde_json::Value,
    pub internal_report: String,
    /// What customers are sent when the post-mortem is published.
    pub customer_edition: String,
    pub due_at: String,
    /// `due_at` for people, e.g. `2026-11-26 23:59 UTC`.
    pub due: String,
    /// The root cause repeats one seen within 90 days.
    pub executive_review: bool,
    pub published_at: Option<String>,
}

impl From<&Postmortem> for PostmortemView {
    fn from(pm: &Postmortem) -> Self {
        PostmortemView {
            summary: pm.summary.clone(),
            root_cause: pm.root_cause.clone(),
            category: pm.category.clone(),
            action_items: pm.action_items.clone(),
            internal_report: pm.internal_report.clone(),
            customer_edition: pm.customer_edition.clone(),
            due_at: pm.due_at.to_rfc3339(),
            due: format_time(pm.due_at),
            executive_review: pm.executive_review,
            published_at: pm.published_at.map(Timestamp::to_rfc3339),
        }
    }
}

/// A post-mortem with the incident's timeline to write it from.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostmortemDetail {
    #[serde(flatten)]
    pub postmortem: PostmortemView,
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    pub kind: TemplateKind,
    pub subject: String,
    pub body: String,
    /// The `{{variables}}` this kind of message may use.
    pub variables: Vec<String>,
    /// Moves on with every save (0 while the built-in template is used); send it back as
    /// `If-Match: "N"` to replace only this version.
    pub version: i64,
}

impl From<(TemplateKind, &Template, i64)> for TemplateView {
    fn from((kind, t, version): (TemplateKind, &Template, i64)) -> Self {
        TemplateView {
            kind,
            subject: t.subject.clone(),
            body: t.body.clone(),
            variables: template_variables(kind)
                .iter()
                .map(|v| v.to_string())
                .collect(),
            version,
        }
    }
}
