//! Rows as storage returns them. The server renders its own JSON and HTML views from these.

use backline_domain::{
    CaseId, CaseStatus, Channel, CommentId, OrgId, OrgKind, PartnerKinds, Priority, Role, RuleId,
    TechnicalLevel, Tier, Timestamp, UserId,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Org {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub kind: OrgKind,
    pub partner_kinds: PartnerKinds,
    pub technical_level: Option<TechnicalLevel>,
    pub served_by: Option<OrgRef>,
    /// Partners: until when the certification holds (see `PartnerRef::certified`).
    pub certified_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Moves on with every change people make to it (see `versions`).
    pub version: i64,
}

impl Org {
    pub fn certified(&self) -> bool {
        self.certified_until
            .is_some_and(|until| until > Timestamp::now())
    }

    pub fn facts(&self) -> backline_domain::OrgFacts {
        backline_domain::OrgFacts {
            id: self.id,
            kind: self.kind,
            served_by: self.served_by.as_ref().map(|p| p.id),
        }
    }
}

/// An organisation named inside another record (read from `id`, `slug` and `name`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrgRef {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
}

/// The partner flag carried by every case record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRef {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub kinds: PartnerKinds,
    pub technical_level: Option<TechnicalLevel>,
    /// Until when the partner counts as certified (see `PartnerRef::certified`).
    pub certified_until: Option<Timestamp>,
}

impl PartnerRef {
    /// Certified now: its valid certificates meet the number its agreement requires.
    pub fn certified(&self) -> bool {
        self.certified_until
            .is_some_and(|until| until > Timestamp::now())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub org: Option<OrgRef>,
    /// The support tier an agent works in.
    pub tier: Option<Tier>,
    /// Set for customers whose serving partner's agreement withholds the vendor.
    pub limits: backline_domain::AccessLimits,
    pub created_at: Timestamp,
    /// An agent an admin allowed to change settings.
    pub manage_settings: bool,
}

impl User {
    /// Settings (routing rules and queues, services and who uses them, the roster, message
    /// templates, service-level policies and calendars, courses) are changed by admins, and by
    /// the agents an admin allowed to.
    pub fn may_change_settings(&self) -> bool {
        match self.role {
            backline_domain::Role::Admin => true,
            backline_domain::Role::Agent => self.manage_settings,
            _ => false,
        }
    }

    pub fn actor(&self) -> backline_domain::Actor {
        backline_domain::Actor {
            limits: self.limits,
            user_id: self.id,
            role: self.role,
            org_id: self.org.as_ref().map(|o| o.id),
        }
    }
}

/// A person named inside another record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRef {
    pub id: UserId,
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    pub id: CaseId,
    pub subject: String,
    pub description: String,
    pub status: CaseStatus,
    pub priority: Priority,
    pub tier: Tier,
    pub product: Option<String>,
    pub channel: Channel,
    pub tags: Vec<String>,
    pub organization: OrgRef,
    pub requester: UserRef,
    pub assignee: Option<UserRef>,
    pub partner: Option<PartnerRef>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub solved_at: Option<Timestamp>,
    /// The queue routing sent it to, and the rule that did.
    pub queue: Option<String>,
    pub routed_by_rule: Option<RuleId>,
    /// The received message that opened it, when it came by email.
    pub mail_id: Option<i64>,
    /// What the partner stated when escalating.
    pub escalation: Option<backline_domain::partner::EscalationStatement>,
    /// Set when the case is solved (see `backline_domain::knowledge::classify`).
    pub classification: Option<backline_domain::Classification>,
    /// The soonest due moment of its running service-level clocks, and their worst state
    /// (`None` before the clocks were first evaluated, or when no policy applies).
    pub sla_due_at: Option<Timestamp>,
    pub sla_state: Option<backline_domain::sla::SlaState>,
    /// Set when this case was merged into another: it is closed and its conversation moved.
    pub merged_into: Option<CaseId>,
    /// One more with every change a person makes (fields, replies, a merge into it): what
    /// `ETag`/`If-Match` and the case page's forms carry.
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: CommentId,
    pub case_id: CaseId,
    pub author: UserRef,
    pub author_role: Role,
    pub body: String,
    pub public: bool,
    /// How it was written: on the web, through the API, or by email.
    pub channel: Channel,
    /// The received message it came in, when it came by email.
    pub mail_id: Option<i64>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseEvent {
    pub id: i64,
    pub case_id: CaseId,
    pub actor: Option<UserRef>,
    pub kind: String,
    pub data: serde_json::Value,
    pub created_at: Timestamp,
}

/// A knowledge article as it stands now.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    pub id: backline_domain::ArticleId,
    pub content: backline_domain::ArticleContent,
    pub state: backline_domain::ArticleState,
    pub audience: backline_domain::Audience,
    pub author: UserRef,
    /// The case it was written from, if any (such a case is classified `new`).
    pub source_case: Option<CaseId>,
    /// Its current revision number (1 for a new article).
    pub revision: i64,
    /// How many cases have been linked to it.
    pub reuse_count: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One revision of an article, in full.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleRevision {
    pub article_id: backline_domain::ArticleId,
    pub revision: i64,
    pub editor: UserRef,
    /// The fields this revision changed (all of them for the first).
    pub changed: Vec<String>,
    pub content: backline_domain::ArticleContent,
    pub state: backline_domain::ArticleState,
    pub audience: backline_domain::Audience,
    pub created_at: Timestamp,
}

/// What a link points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkTarget {
    Article(backline_domain::ArticleId),
    Case(CaseId),
}

/// A case linked to what answered it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseLink {
    pub id: i64,
    pub case_id: CaseId,
    pub target: LinkTarget,
    /// The article's or case's title, for display.
    pub title: String,
    pub linked_by: UserRef,
    pub created_at: Timestamp,
}

/// Self-service figures for a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, sqlx::FromRow)]
pub struct DeflectionCounts {
    /// New-case forms started.
    pub forms: i64,
    /// Forms that were shown at least one suggestion.
    pub shown_suggestions: i64,
    /// Forms where a suggestion was opened.
    pub opened: i64,
    /// Opened a suggestion and then filed a case anyway.
    pub filed_after_opening: i64,
    /// Opened a suggestion and left without filing: the case that did not happen.
    pub deflected: i64,
}
