//! The JSON shapes of the API, rendered from storage rows. Kept apart from the rows so the
//! database can change without changing what clients see.

use backline_domain::{
    CaseStatus, Channel, OrgKind, PartnerKind, Priority, Role, TechnicalLevel, Tier,
};
use backline_store::{CaseEvent, CaseRecord, Comment, Org, OrgRef, PartnerRef, User, UserRef};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// RFC 3339 in UTC with milliseconds, always the same width so clients can sort as text.
pub fn timestamp(at: OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    at.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_default()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgRefView {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

impl From<&OrgRef> for OrgRefView {
    fn from(o: &OrgRef) -> Self {
        OrgRefView {
            id: o.id.0,
            slug: o.slug.clone(),
            name: o.name.clone(),
        }
    }
}

/// The partner flag: which partner filed the case or serves its customer, and what it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerFlag {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub kinds: Vec<PartnerKind>,
    pub technical_level: Option<TechnicalLevel>,
    /// Its certified technicians meet the number its agreement requires.
    pub certified: bool,
}

impl From<&PartnerRef> for PartnerFlag {
    fn from(p: &PartnerRef) -> Self {
        PartnerFlag {
            id: p.id.0,
            slug: p.slug.clone(),
            name: p.name.clone(),
            kinds: p.kinds.as_slice().to_vec(),
            technical_level: p.technical_level,
            certified: p.certified(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgView {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub kind: OrgKind,
    /// Empty unless `kind` is `partner`.
    pub partner_kinds: Vec<PartnerKind>,
    pub technical_level: Option<TechnicalLevel>,
    /// The partner that serves this customer, if it is served indirectly.
    pub served_by: Option<OrgRefView>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Org> for OrgView {
    fn from(o: &Org) -> Self {
        OrgView {
            id: o.id.0,
            slug: o.slug.clone(),
            name: o.name.clone(),
            kind: o.kind,
            partner_kinds: o.partner_kinds.as_slice().to_vec(),
            technical_level: o.technical_level,
            served_by: o.served_by.as_ref().map(OrgRefView::from),
            created_at: timestamp(o.created_at),
            updated_at: timestamp(o.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgList {
    pub organizations: Vec<OrgView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserRefView {
    pub id: i64,
    pub name: String,
    pub email: String,
}

impl From<&UserRef> for UserRefView {
    fn from(u: &UserRef) -> Self {
        UserRefView {
            id: u.id.0,
            name: u.name.clone(),
            email: u.email.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organization: Option<OrgRefView>,
    /// The tier an agent works in.
    pub tier: Option<Tier>,
    pub created_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.0,
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role,
            organization: u.org.as_ref().map(OrgRefView::from),
            tier: u.tier,
            created_at: timestamp(u.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    pub id: i64,
    /// The number people quote; the same value as `id`.
    pub number: i64,
    pub subject: String,
    pub description: String,
    pub status: CaseStatus,
    pub priority: Priority,
    pub tier: Tier,
    pub product: Option<String>,
    pub channel: Channel,
    pub tags: Vec<String>,
    /// The organisation the case is for: the end customer when a partner filed for one.
    pub organization: OrgRefView,
    pub requester: UserRefView,
    pub assignee: Option<UserRefView>,
    /// The partner that filed the case or serves its customer; `null` for direct support.
    pub partner: Option<PartnerFlag>,
    pub created_at: String,
    pub updated_at: String,
    pub solved_at: Option<String>,
    /// The queue routing sent it to and the rule that did (`null` when no rule matched).
    pub queue: Option<String>,
    pub routed_by_rule: Option<i64>,
    /// What the partner stated when escalating.
    #[schema(value_type = Option<Object>)]
    pub escalation: Option<backline_domain::partner::EscalationStatement>,
    /// Set when the case is solved: `known`, `new`, `invalid_escalation` or `unknown`.
    pub classification: Option<backline_domain::Classification>,
}

impl From<&CaseRecord> for CaseView {
    fn from(c: &CaseRecord) -> Self {
        CaseView {
            id: c.id.0,
            number: c.id.0,
            subject: c.subject.clone(),
            description: c.description.clone(),
            status: c.status,
            priority: c.priority,
            tier: c.tier,
            product: c.product.clone(),
            channel: c.channel,
            tags: c.tags.clone(),
            organization: OrgRefView::from(&c.organization),
            requester: UserRefView::from(&c.requester),
            assignee: c.assignee.as_ref().map(UserRefView::from),
            partner: c.partner.as_ref().map(PartnerFlag::from),
            created_at: timestamp(c.created_at),
            updated_at: timestamp(c.updated_at),
            solved_at: c.solved_at.map(timestamp),
            queue: c.queue.clone(),
            routed_by_rule: c.routed_by_rule,
            escalation: c.escalation.clone(),
            classification: c.classification,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    pub cases: Vec<CaseView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentView {
    pub id: i64,
    pub case_id: i64,
    pub author: UserRefView,
    pub author_role: Role,
    pub body: String,
    /// `false` for an internal note, which only vendor staff ever see.
    pub public: bool,
    pub created_at: String,
}

impl From<&Comment> for CommentView {
    fn from(c: &Comment) -> Self {
        CommentView {
            id: c.id.0,
            case_id: c.case_id.0,
            author: UserRefView::from(&c.author),
            author_role: c.author_role,
            body: c.body.clone(),
            public: c.public,
            created_at: timestamp(c.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentList {
    pub comments: Vec<CommentView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: i64,
    /// `created`, `status_changed`, `priority_changed`, `tier_changed`, `assignee_changed`,
    /// `tags_changed` or `comment_added`.
    pub kind: String,
    pub actor: Option<UserRefView>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: String,
}

impl From<&CaseEvent> for EventView {
    fn from(e: &CaseEvent) -> Self {
        EventView {
            id: e.id,
            kind: e.kind.clone(),
            actor: e.actor.as_ref().map(UserRefView::from),
            data: e.data.clone(),
            created_at: timestamp(e.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub events: Vec<EventView>,
}
