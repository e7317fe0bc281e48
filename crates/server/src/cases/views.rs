//! The JSON shapes of the API, rendered from storage rows. Kept apart from the rows so the
//! database can change without changing what clients see.

use crate::views::{OrgRefView, PartnerFlag, UserRefView};
use backline_domain::sla::SlaState;
use backline_domain::{CaseStatus, Channel, Priority, Role, Tier, Timestamp};
use backline_store::{CaseEvent, CaseRecord, Comment};
use serde::Serialize;
use utoipa::ToSchema;

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
    /// Its service-level clocks in short, for vendor staff (`null` for others, and when no
    /// policy applies).
    pub sla: Option<CaseSlaSummary>,
    /// Set when this case was merged into another (it is then closed).
    pub merged_into: Option<i64>,
    /// Goes up by one with every change people make (fields, replies, a merge into it); the
    /// `ETag` of a read, for `If-Match` on a change.
    pub version: i64,
}

/// Where a case stands against its service-level targets.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseSlaSummary {
    /// The worst state of its clocks: `ok`, `warning`, `breached` or `achieved`.
    pub state: SlaState,
    /// The soonest moment a running clock reaches its target; `null` while every clock is
    /// paused or finished.
    pub due_at: Option<String>,
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
            created_at: c.created_at.to_rfc3339(),
            updated_at: c.updated_at.to_rfc3339(),
            solved_at: c.solved_at.map(Timestamp::to_rfc3339),
            queue: c.queue.clone(),
            routed_by_rule: c.routed_by_rule.map(|r| r.0),
            escalation: c.escalation.clone(),
            classification: c.classification,
            sla: c.sla_state.map(|state| CaseSlaSummary {
                state,
                due_at: c.sla_due_at.map(Timestamp::to_rfc3339),
            }),
            merged_into: c.merged_into.map(|m| m.0),
            version: c.version,
        }
    }
}

impl CaseView {
    /// The case as `reader` may see it: service-level clocks are an agent's tool.
    pub fn for_reader(c: &CaseRecord, reader: Role) -> Self {
        let mut view = CaseView::from(c);
        if !reader.is_staff() {
            view.sla = None;
        }
        view
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    pub cases: Vec<CaseView>,
    /// How many cases the whole list holds, counted up to 10,000.
    pub total: i64,
    /// The list holds more than `total` cases (counting stops at 10,000).
    pub total_more: bool,
    /// This page's number (from 1) and how many pages there are.
    pub page: usize,
    pub pages: usize,
    /// The order used, e.g. `attention` or `-updated`.
    pub sort: String,
    /// Newest-first lists only: pass as `cursor` to get the next page; `null` on the last
    /// page or in other orders (use `page`).
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
    /// How it was written: `web`, `api` or `email`.
    pub channel: backline_domain::Channel,
    /// Its files (an internal note's are as internal as the note).
    pub attachments: Vec<super::attachments::AttachmentView>,
    pub created_at: String,
}

impl CommentView {
    /// The comment with its files, picked from the case's `files`.
    pub fn with_files(c: &Comment, files: &[backline_store::mail::AttachmentRecord]) -> Self {
        CommentView {
            id: c.id.0,
            case_id: c.case_id.0,
            author: UserRefView::from(&c.author),
            author_role: c.author_role,
            body: c.body.clone(),
            public: c.public,
            channel: c.channel,
            attachments: files
                .iter()
                .filter(|f| f.comment_id == Some(c.id))
                .map(super::attachments::AttachmentView::from)
                .collect(),
            created_at: c.created_at.to_rfc3339(),
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
            created_at: e.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub events: Vec<EventView>,
}
