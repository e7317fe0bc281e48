//! Cases, their comments and their audit trail. Every change to a case and its event are
//! written in one transaction, so the trail can never disagree with the case.

mod comments;
mod events;
mod indexing;
mod macros;
mod merge;
mod people;
mod ratings;
mod views;

pub use comments::{CommentOrigin, NewComment};
pub(crate) use events::record_event;
pub use macros::MacroRecord;
pub use people::{CasePageState, Presence};
pub use ratings::{RatingRecord, ScoreBy, ScoreRow};
pub use views::SavedView;

use crate::changes::announce_in;
use crate::knowledge::classify_in;
use crate::partners::take_turn;
use crate::rows::{convert, corrupt, stored};
use crate::sql::{Arg, Sql};
use crate::{Backend, CaseRecord, Change, OrgRef, PartnerRef, Result, Store, StoreError, UserRef};
use backline_domain::routing::Assignment;
use backline_domain::sla::SlaState;
use backline_domain::views::{CaseSort, SortKey};
use backline_domain::{
    CaseId, CaseScope, CaseStatus, Channel, Classification, OrgId, PartnerKinds, Priority, QueueId,
    RuleId, TechnicalLevel, Tier, Timestamp, UserId,
};
use serde_json::json;
use sqlx::{Any, Transaction};

#[derive(Debug, Clone)]
pub struct NewCase {
    pub subject: String,
    pub description: String,
    pub priority: Priority,
    pub product: Option<String>,
    pub channel: Channel,
    pub tier: Tier,
    pub tags: Vec<String>,
    pub organization: OrgId,
    pub partner: Option<OrgId>,
    pub requester: UserId,
    /// When the case was opened; `None` for now. Importers set it.
    pub created_at: Option<Timestamp>,
    /// Set by routing: the rule that routed it, the queue, and how to pick an assignee there.
    pub routing: Option<Routing>,
    /// A partner's escalation statement (checklist answers, vanilla reproduction).
    pub escalation: Option<backline_domain::partner::EscalationStatement>,
}

/// What came with a case besides its fields: the message that opened it, the files that
/// came with that message, and the people it copied; or the community question it was made
/// from.
#[derive(Debug, Clone, Default)]
pub struct CaseOrigin {
    pub mail_id: Option<i64>,
    pub files: Vec<crate::mail::NewAttachment>,
    pub cc: Vec<String>,
    /// The community question the case is made from: it records the case in the case's own
    /// transaction, once (a question that became a case already refuses, and no case is made).
    pub community_question: Option<i64>,
}

impl CaseOrigin {
    /// Nothing came with the case but its fields.
    pub fn is_empty(&self) -> bool {
        self.mail_id.is_none()
            && self.files.is_empty()
            && self.cc.is_empty()
            && self.community_question.is_none()
    }
}

/// Where routing sent a new case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    pub rule_id: RuleId,
    pub rule_name: String,
    pub queue_id: Option<QueueId>,
    /// How to pick the assignee among the queue's members. The pick happens in the case's
    /// transaction (see `take_turn`), not before it.
    pub assign: Option<Assignment>,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct CaseChanges {
    pub status: Option<CaseStatus>,
    pub priority: Option<Priority>,
    pub tier: Option<Tier>,
    pub assignee: Option<Option<UserId>>,
    pub tags: Option<Vec<String>>,
    /// Tags added to (and taken from) the case's tags as read inside the writing
    /// transaction, after `tags` replaced them if it is given; normalised by the caller.
    pub tags_added: Vec<String>,
    pub tags_removed: Vec<String>,
    /// The queue (by id); `Some(None)` takes the case out of every queue.
    pub queue: Option<Option<QueueId>>,
    /// An event that says why, written after the field events in the same transaction (an
    /// escalation and its reason). It is only written when some field changes.
    pub event: Option<(&'static str, serde_json::Value)>,
    /// When the change happened; `None` for now. Importers set it.
    pub at: Option<Timestamp>,
    /// The role of whoever asks, when the status rules apply (everyone but the system): they
    /// are checked against the case as read inside the writing transaction, so two changes at
    /// the same moment cannot both pass against the same old state (a close and a reopen).
    pub rules_for: Option<backline_domain::Role>,
    /// The version the change was prepared against (an `If-Match`, a form's hidden field):
    /// when the case has moved on since, nothing is written and the caller hears
    /// [`StoreError::Stale`].
    pub expected_version: Option<i64>,
}

impl CaseChanges {
    /// The tags after this change, from `current`: replaced, then added to and taken from,
    /// sorted and without repeats. `None` when the change does not touch tags.
    fn new_tags(&self, current: &[String]) -> Option<Vec<String>> {
        if self.tags.is_none() && self.tags_added.is_empty() && self.tags_removed.is_empty() {
            return None;
        }
        let mut tags: Vec<String> = self.tags.clone().unwrap_or_else(|| current.to_vec());
        tags.extend(self.tags_added.iter().cloned());
        tags.retain(|t| !self.tags_removed.contains(t));
        tags.sort();
        tags.dedup();
        Some(tags)
    }
}

/// Which cases a list holds and in which order. Several values in one field mean any of them;
/// different fields must all hold.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub statuses: Vec<CaseStatus>,
    pub priorities: Vec<Priority>,
    /// Organisation slugs.
    pub organizations: Vec<String>,
    /// Partners by slug prefix or a part of their name (`partner:acme` finds `acme-it`).
    pub partners: Vec<String>,
    /// Products, compared without case.
    pub products: Vec<String>,
    pub tags: Vec<String>,
    /// `Some(None)` asks for unassigned cases.
    pub assignee: Option<Option<UserId>>,
    /// Queue slugs.
    pub queues: Vec<String>,
    pub tiers: Vec<Tier>,
    pub channels: Vec<Channel>,
    /// The worst state of the case's service-level clocks.
    pub sla: Vec<SlaState>,
    /// Words that must all appear in the subject or description.
    pub text: Option<String>,
    /// Only cases with a smaller id (the cursor of the previous page, newest-first order only).
    pub before: Option<CaseId>,
    pub sort: CaseSort,
    /// Rows to skip (page numbers).
    pub offset: usize,
    pub limit: usize,
}

/// The greatest moment: where lists put cases without a running clock when sorting by due.
const NO_DUE: i64 = i64::MAX;

const CASE_COLUMNS: &str = "c.id, c.subject, c.description, c.status, c.priority, c.tier, \
     c.product, c.channel, c.tags, c.created_at, c.updated_at, c.solved_at, c.classification, \
     o.id AS o_id, o.slug AS o_slug, o.name AS o_name, \
     r.id AS r_id, r.name AS r_name, r.email AS r_email, \
     a.id AS a_id, a.name AS a_name, a.email AS a_email, \
     p.id AS p_id, p.slug AS p_slug, p.name AS p_name, p.partner_kinds AS p_kinds, \
     p.technical_level AS p_level, p.certified_until AS p_certified_until, \
     c.queue_id, c.routed_by_rule_id, c.escalation, c.mail_id, q.slug AS q_slug, \
     c.sla_due_at, c.sla_state, c.merged_into, c.version \
     FROM cases c \
     JOIN organizations o ON o.id = c.organization_id \
     JOIN users r ON r.id = c.requester_id \
     LEFT JOIN users a ON a.id = c.assignee_id \
     LEFT JOIN organizations p ON p.id = c.partner_id \
     LEFT JOIN queues q ON q.id = c.queue_id";

/// A row of `CASE_COLUMNS`: the case with its organisation, requester, assignee, partner and
/// queue joined in.
#[derive(sqlx::FromRow)]
pub(super) struct CaseRow {
    id: CaseId,
    subject: String,
    description: String,
    status: String,
    priority: String,
    tier: i64,
    product: Option<String>,
    channel: String,
    tags: String,
    created_at: Timestamp,
    updated_at: Timestamp,
    solved_at: Option<Timestamp>,
    classification: Option<String>,
    #[sqlx(flatten)]
    organization: OrgCols,
    r_id: UserId,
    r_name: String,
    r_email: String,
    a_id: Option<UserId>,
    a_name: Option<String>,
    a_email: Option<String>,
    p_id: Option<OrgId>,
    p_slug: Option<String>,
    p_name: Option<String>,
    p_kinds: Option<String>,
    p_level: Option<String>,
    p_certified_until: Option<Timestamp>,
    routed_by_rule_id: Option<RuleId>,
    mail_id: Option<i64>,
    escalation: Option<String>,
    q_slug: Option<String>,
    sla_due_at: Option<Timestamp>,
    sla_state: Option<String>,
    merged_into: Option<CaseId>,
    version: i64,
}

/// An organisation joined in as `o_id`, `o_slug` and `o_name`.
#[derive(sqlx::FromRow)]
pub(crate) struct OrgCols {
    o_id: OrgId,
    o_slug: String,
    o_name: String,
}

impl From<OrgCols> for OrgRef {
    fn from(o: OrgCols) -> OrgRef {
        OrgRef {
            id: o.o_id,
            slug: o.o_slug,
            name: o.o_name,
        }
    }
}

impl TryFrom<CaseRow> for CaseRecord {
    type Error = StoreError;

    fn try_from(r: CaseRow) -> Result<CaseRecord> {
        let assignee = match (r.a_id, r.a_name, r.a_email) {
            (Some(id), Some(name), Some(email)) => Some(UserRef { id, name, email }),
            _ => None,
        };
        let partner = match (r.p_id, r.p_slug, r.p_name, r.p_kinds) {
            (Some(id), Some(slug), Some(name), Some(kinds)) => Some(PartnerRef {
                id,
                slug,
                name,
                kinds: stored(PartnerKinds::parse_list, &kinds)?,
                technical_level: r
                    .p_level
                    .as_deref()
                    .map(|l| stored(TechnicalLevel::parse, l))
                    .transpose()?,
                certified_until: r.p_certified_until,
            }),
            _ => None,
        };
        Ok(CaseRecord {
            id: r.id,
            subject: r.subject,
            description: r.description,
            status: stored(CaseStatus::parse, &r.status)?,
            priority: stored(Priority::parse, &r.priority)?,
            tier: Tier::new(r.tier).map_err(|e| StoreError::Corrupt(e.0))?,
            product: r.product,
            channel: stored(Channel::parse, &r.channel)?,
            tags: serde_json::from_str(&r.tags).map_err(corrupt)?,
            organization: r.organization.into(),
            requester: UserRef {
                id: r.r_id,
                name: r.r_name,
                email: r.r_email,
            },
            assignee,
            partner,
            created_at: r.created_at,
            updated_at: r.updated_at,
            solved_at: r.solved_at,
            queue: r.q_slug,
            routed_by_rule: r.routed_by_rule_id,
            mail_id: r.mail_id,
            escalation: r
                .escalation
                .map(|e| serde_json::from_str(&e).map_err(corrupt))
                .transpose()?,
            classification: r
                .classification
                .map(|c| stored(Classification::parse, &c))
                .transpose()?,
            sla_due_at: r.sla_due_at,
            sla_state: r
                .sla_state
                .map(|s| stored(SlaState::parse, &s))
                .transpose()?,
            merged_into: r.merged_into,
            version: r.version,
        })
    }
}

/// Adds the visibility rule to a query over `cases c` (see `backline_domain::visibility`).
fn push_scope(sql: &mut Sql, scope: CaseScope) {
    match scope {
        CaseScope::All => {}
        CaseScope::Partner(org) => {
            sql.push(" AND c.partner_id = ").bind(Arg::Int(org.0));
        }
        CaseScope::Organization(org) => {
            sql.push(" AND c.organization_id = ").bind(Arg::Int(org.0));
        }
        CaseScope::Nothing => {
            sql.push(" AND 1 = 0");
        }
    }
}

/// Adds a list filter to a query over `cases c`. Names (organisation, partner, queue) are
/// looked up in subqueries, so counting needs no joins.
/// The capped count of `count_matching`, after `prefix`.
fn count_sql(prefix: &str, filter: &CaseFilter, scope: CaseScope, cap: i64) -> Sql {
    let mut sql = Sql::new(&format!(
        "{prefix}SELECT COUNT(*) FROM (SELECT 1 FROM cases c WHERE 1 = 1"
    ));
    push_scope(&mut sql, scope);
    push_filter(&mut sql, filter);
    sql.push(" LIMIT ")
        .bind(Arg::Int(cap.saturating_add(1)))
        .push(") counted");
    sql
}

fn push_filter(sql: &mut Sql, filter: &CaseFilter) {
    push_filter_ordered(sql, filter, None);
}

/// Like [`push_filter`], for a query that reads a page in `order` from an index that holds
/// it (SQLite). Terms on columns with a handful of values that each hold a large share of
/// the cases are kept off the indexes (`+c.status`): without that SQLite reads every
/// matching case through the index on the term (a quarter of a million for "unsolved" or
/// "high priority" at a million cases) and sorts them all, where walking the index that
/// holds the order finds a page after a few hundred rows. The service-level state is one of
/// those only in the orders that start with the due time: there the cases at risk come
/// first; in another order a rare state is better found through its own index.
fn push_filter_ordered(sql: &mut Sql, filter: &CaseFilter, order: Option<CaseSort>) {
    let text = |v: &str| Arg::Text(v.to_string());
    let lower = |v: &String| Arg::Text(v.to_lowercase());
    let unindexed = |column: &'static str, off: bool| {
        if off {
            format!("+{column}")
        } else {
            column.to_string()
        }
    };
    let walking = order.is_some();
    let due_first = order.is_some_and(|o| matches!(o.key, SortKey::Attention | SortKey::Due));
    sql.push_in(
        &unindexed("c.status", walking),
        filter.statuses.iter().map(|s| text(s.as_str())),
    );
    sql.push_in(
        &unindexed("c.priority", walking),
        filter.priorities.iter().map(|p| text(p.as_str())),
    );
    if !filter.organizations.is_empty() {
        sql.push(" AND c.organization_id IN (SELECT id FROM organizations WHERE 1 = 1")
            .push_in("LOWER(slug)", filter.organizations.iter().map(lower))
            .push(")");
    }
    if !filter.partners.is_empty() {
        sql.push(" AND c.partner_id IN (SELECT id FROM organizations WHERE 1 = 0");
        for partner in &filter.partners {
            let partner = escape_like(&partner.to_lowercase());
            sql.push(" OR LOWER(slug) LIKE ")
                .bind(Arg::Text(format!("{partner}%")))
                .push(" ESCAPE '\\' OR LOWER(name) LIKE ")
                .bind(Arg::Text(format!("%{partner}%")))
                .push(" ESCAPE '\\'");
        }
        sql.push(")");
    }
    // Products are few and each holds a large share too; the count (not walking) seeks on
    // the lowered product (`cases_product_filters`).
    sql.push_in(
        if walking {
            "LOWER(+c.product)"
        } else {
            "LOWER(c.product)"
        },
        filter.products.iter().map(lower),
    );
    for tag in &filter.tags {
        // Tags are stored as a JSON list of normalised strings: match one whole element.
        sql.push(" AND c.tags LIKE ")
            .bind(Arg::Text(format!(
                "%{}%",
                escape_like(&json!(tag).to_string())
            )))
            .push(" ESCAPE '\\'");
    }
    match filter.assignee {
        Some(Some(user)) => {
            sql.push(" AND c.assignee_id = ").bind(Arg::Int(user.0));
        }
        Some(None) => {
            sql.push(" AND c.assignee_id IS NULL");
        }
        None => {}
    }
    if !filter.queues.is_empty() {
        sql.push(" AND c.queue_id IN (SELECT id FROM queues WHERE 1 = 1")
            .push_in("LOWER(slug)", filter.queues.iter().map(lower))
            .push(")");
    }
    sql.push_in("c.tier", filter.tiers.iter().map(|t| Arg::Int(t.level())));
    sql.push_in(
        "c.channel",
        filter.channels.iter().map(|c| text(c.as_str())),
    );
    sql.push_in(
        &unindexed("c.sla_state", due_first),
        filter.sla.iter().map(|s| text(s.as_str())),
    );
    if let Some(words) = &filter.text {
        // Substring match on each word; full-text search with ranking is the search index's job.
        for word in words.split_whitespace().take(8) {
            let pattern = format!("%{}%", escape_like(&word.to_lowercase()));
            sql.push(" AND (LOWER(c.subject) LIKE ")
                .bind(Arg::Text(pattern.clone()));
            sql.push(" ESCAPE '\\' OR LOWER(c.description) LIKE ")
                .bind(Arg::Text(pattern));
            sql.push(" ESCAPE '\\')");
        }
    }
}

/// The `ORDER BY` of a sort, always ending in the id so pages never overlap.
fn order_by(sort: CaseSort) -> String {
    let dir = if sort.descending { "DESC" } else { "ASC" };
    match sort.key {
        // Matches the `cases_attention` and `cases_assignee_attention` indexes.
        SortKey::Attention => {
            format!("COALESCE(c.sla_due_at, {NO_DUE}), c.updated_at DESC, c.id DESC")
        }
        SortKey::Number | SortKey::Created => format!("c.id {dir}"),
        SortKey::Updated => format!("c.updated_at {dir}, c.id {dir}"),
        SortKey::Subject => format!("LOWER(c.subject) {dir}, c.id DESC"),
        SortKey::Priority => format!(
            "CASE c.priority WHEN 'urgent' THEN 4 WHEN 'high' THEN 3 WHEN 'normal' THEN 2 \
             ELSE 1 END {dir}, COALESCE(c.sla_due_at, {NO_DUE}), c.id DESC"
        ),
        SortKey::Status => format!(
            "CASE c.status WHEN 'new' THEN 1 WHEN 'open' THEN 2 WHEN 'pending' THEN 3 \
             WHEN 'on_hold' THEN 4 WHEN 'solved' THEN 5 ELSE 6 END {dir}, c.updated_at DESC, c.id DESC"
        ),
        // Cases without a running clock come last either way.
        SortKey::Due if sort.descending => {
            format!("COALESCE(c.sla_due_at, {}) DESC, c.id DESC", i64::MIN)
        }
        SortKey::Due => format!("COALESCE(c.sla_due_at, {NO_DUE}), c.id DESC"),
    }
}

/// A case's status, read inside the caller's transaction.
pub(crate) async fn case_status(tx: &mut Transaction<'_, Any>, case: CaseId) -> Result<CaseStatus> {
    let status: String = sqlx::query_scalar("SELECT status FROM cases WHERE id = $1")
        .bind(case)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    stored(CaseStatus::parse, &status)
}

/// Inserts a case and its `created` event inside the caller's transaction, with the assignee
/// whose turn it is in the queue routing sent it to.
pub(crate) async fn insert_case(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    case: &NewCase,
) -> Result<CaseId> {
    let now = case.created_at.unwrap_or_else(Timestamp::now);
    let assignee = match &case.routing {
        Some(Routing {
            queue_id: Some(queue),
            assign: Some(how),
            ..
        }) => take_turn(tx, backend, *queue, *how, now).await?,
        _ => None,
    };
    let id: CaseId = sqlx::query_scalar(
        "INSERT INTO cases (subject, description, status, priority, tier, product, channel, tags, \
         organization_id, requester_id, partner_id, created_at, updated_at, queue_id, \
         routed_by_rule_id, assignee_id, escalation, sla_check_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15, $16, $12) \
         RETURNING id",
    )
    .bind(&case.subject)
    .bind(&case.description)
    .bind(CaseStatus::New.as_str())
    .bind(case.priority.as_str())
    .bind(case.tier.level())
    .bind(case.product.as_deref())
    .bind(case.channel.as_str())
    .bind(json!(case.tags).to_string())
    .bind(case.organization)
    .bind(case.requester)
    .bind(case.partner)
    .bind(now)
    .bind(case.routing.as_ref().and_then(|r| r.queue_id))
    .bind(case.routing.as_ref().map(|r| r.rule_id))
    .bind(assignee)
    .bind(case.escalation.as_ref().map(|e| json!(e).to_string()))
    .fetch_one(&mut **tx)
    .await?;
    let data = json!({
        "status": CaseStatus::New, "priority": case.priority, "tier": case.tier,
        "channel": case.channel, "organization_id": case.organization,
        "partner_id": case.partner, "tags": case.tags,
    });
    record_event(tx, id, Some(case.requester), "created", data, now).await?;
    if let Some(r) = &case.routing {
        let data = json!({"rule_id": r.rule_id, "rule": r.rule_name, "queue_id": r.queue_id,
                          "assignee_id": assignee});
        record_event(tx, id, None, "routed", data, now).await?;
    }
    Ok(id)
}

impl Store {
    pub async fn create_case(&self, case: &NewCase) -> Result<CaseRecord> {
        let id = match &self.case_batcher {
            Some(batcher) => batcher.create(case.clone()).await?,
            None => {
                let mut tx = self.write.begin().await?;
                let id = insert_case(&mut tx, self.backend, case).await?;
                announce_in(&mut tx, self.backend, Change::Case(id)).await?;
                tx.commit().await?;
                id
            }
        };
        self.case(id).await
    }

    /// Creates a case with what came with it, in one transaction: if the message it came in
    /// was placed already (by another node), or the question it is made from became a case
    /// already, nothing is written.
    pub async fn create_case_with(
        &self,
        case: &NewCase,
        origin: &CaseOrigin,
    ) -> Result<CaseRecord> {
        let mut tx = self.write.begin().await?;
        let id = insert_case(&mut tx, self.backend, case).await?;
        let at = case.created_at.unwrap_or_else(Timestamp::now);
        let to = crate::mail::AttachTo {
            case: id,
            comment: None,
            uploader: Some(case.requester),
            public: true,
            at,
        };
        crate::mail::attach_in(&mut tx, &to, &origin.files, &[]).await?;
        crate::mail::add_cc_in(&mut tx, id, &origin.cc).await?;
        if let Some(mail) = origin.mail_id {
            sqlx::query("UPDATE cases SET mail_id = $1 WHERE id = $2")
                .bind(mail)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            crate::mail::mark_placed(&mut tx, mail, id, None, at).await?;
        }
        if let Some(question) = origin.community_question {
            let linked = sqlx::query(
                "UPDATE community_posts SET case_id = $2, updated_at = $3 \
                 WHERE id = $1 AND kind = 'question' AND case_id IS NULL",
            )
            .bind(question)
            .bind(id)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if linked == 0 {
                return Err(StoreError::Conflict(
                    "this question was already turned into a case".into(),
                ));
            }
        }
        announce_in(&mut tx, self.backend, Change::Case(id)).await?;
        tx.commit().await?;
        self.announce(&[Change::Case(id)]);
        self.case(id).await
    }

    /// The case, whoever may see it; callers apply the visibility rule.
    pub async fn case(&self, id: CaseId) -> Result<CaseRecord> {
        let row: CaseRow = sqlx::query_as(&format!("SELECT {CASE_COLUMNS} WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// One page of cases within `scope`, in the filter's order, and the cursor of the next page
    /// (newest-first order only; other orders page by `offset`).
    pub async fn list_cases(
        &self,
        filter: &CaseFilter,
        scope: CaseScope,
    ) -> Result<(Vec<CaseRecord>, Option<CaseId>)> {
        // The page is chosen from `cases` alone, then joined: with the joins in the same
        // query SQLite drives from the small tables (organisations, people) and sorts every
        // matching case, instead of walking the index that already holds the order.
        let mut sql = Sql::new("SELECT c.id FROM cases c WHERE 1 = 1");
        push_scope(&mut sql, scope);
        push_filter_ordered(
            &mut sql,
            filter,
            (self.backend == Backend::Sqlite).then_some(filter.sort),
        );
        if let Some(before) = filter.before {
            sql.push(" AND c.id < ").bind(Arg::Int(before.0));
        }
        let limit = filter.limit.clamp(1, 500);
        let order = order_by(filter.sort);
        sql.push(" ORDER BY ").push(&order);
        sql.push(" LIMIT ").bind(Arg::Int(limit as i64 + 1));
        if filter.offset > 0 {
            sql.push(" OFFSET ").bind(Arg::Int(filter.offset as i64));
        }
        let ids: Vec<(CaseId,)> = sql.query_as().fetch_all(&self.read).await?;
        if ids.is_empty() {
            return Ok((Vec::new(), None));
        }
        let mut page = Sql::new(&format!("SELECT {CASE_COLUMNS} WHERE 1 = 1"));
        page.push_in("c.id", ids.iter().map(|(id,)| Arg::Int(id.0)));
        page.push(" ORDER BY ").push(&order);
        let rows: Vec<CaseRow> = page.query_as().fetch_all(&self.read).await?;
        let mut cases: Vec<CaseRecord> = convert(rows)?;
        let next = if cases.len() > limit {
            cases.truncate(limit);
            (filter.sort == CaseSort::NEWEST_FIRST)
                .then(|| cases.last().map(|c| c.id))
                .flatten()
        } else {
            None
        };
        Ok((cases, next))
    }

    /// How many cases within `scope` the filter holds, whatever page is shown, counted up to
    /// `cap`: past it the answer is `cap + 1`, "more than `cap`". Counting a list of hundreds
    /// of thousands exactly costs more than showing its first page, and tells no one more.
    pub async fn count_matching(
        &self,
        filter: &CaseFilter,
        scope: CaseScope,
        cap: i64,
    ) -> Result<i64> {
        let sql = count_sql("", filter, scope, cap);
        let (n,): (i64,) = sql.query_as().fetch_one(&self.read).await?;
        Ok(n)
    }

    /// How SQLite plans `count_matching` (the `detail` column of `EXPLAIN QUERY PLAN`, one
    /// line per step): for tests that hold a list's count to the index meant for it.
    pub async fn count_plan(
        &self,
        filter: &CaseFilter,
        scope: CaseScope,
        cap: i64,
    ) -> Result<Vec<String>> {
        let sql = count_sql("EXPLAIN QUERY PLAN ", filter, scope, cap);
        let steps: Vec<(i64, i64, i64, String)> = sql.query_as().fetch_all(&self.read).await?;
        Ok(steps.into_iter().map(|(_, _, _, detail)| detail).collect())
    }

    pub async fn count_cases(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) AS n FROM cases")
            .fetch_one(&self.read)
            .await?)
    }

    /// Applies `changes`, recording one event per field that really changed. Returns the case
    /// as it now is; an empty change writes nothing.
    pub async fn update_case(
        &self,
        id: CaseId,
        changes: &CaseChanges,
        actor: UserId,
    ) -> Result<CaseRecord> {
        let now = changes.at.unwrap_or_else(Timestamp::now);
        let mut tx = self.write.begin().await?;
        if !update_in(&mut tx, self.backend, id, changes, actor, now).await? {
            tx.rollback().await?;
            return self.case(id).await;
        }
        announce_in(&mut tx, self.backend, Change::Case(id)).await?;
        tx.commit().await?;
        self.announce(&[Change::Case(id)]);
        self.case(id).await
    }
}

/// Applies `changes` inside `tx` against the case as read (and on PostgreSQL locked) there,
/// recording one event per field that really changed. Returns whether anything changed; when
/// nothing did, nothing is written.
pub(crate) async fn update_in(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    id: CaseId,
    changes: &CaseChanges,
    actor: UserId,
    now: Timestamp,
) -> Result<bool> {
    // Lock the row on PostgreSQL so two nodes cannot interleave a read-modify-write; SQLite
    // has a single writer and needs (and understands) no such clause. `NO KEY UPDATE` is the
    // lock the UPDATE below takes anyway: it does not wait on the key-share locks that rows
    // referencing the case (a comment just inserted in this or another transaction) hold, so
    // two replies to one case queue up instead of deadlocking.
    let lock = match backend {
        Backend::Postgres => " FOR NO KEY UPDATE",
        Backend::Sqlite => "",
    };
    let (status, priority, tier, assignee, tags, queue, version): (
        String,
        String,
        i64,
        Option<UserId>,
        String,
        Option<QueueId>,
        i64,
    ) = sqlx::query_as(&format!(
        "SELECT status, priority, tier, assignee_id, tags, queue_id, version FROM cases \
         WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    if changes.expected_version.is_some_and(|v| v != version) {
        return Err(StoreError::Stale { current: version });
    }
    let status = stored(CaseStatus::parse, &status)?;
    let priority = stored(Priority::parse, &priority)?;
    let tags: Vec<String> = serde_json::from_str(&tags).map_err(corrupt)?;
    if let Some(role) = changes.rules_for {
        check_rules_in_tx(role, status, changes)?;
    }

    let mut events: Vec<(&str, serde_json::Value)> = Vec::new();
    if let Some(to) = changes.status.filter(|s| *s != status) {
        events.push(("status_changed", json!({"from": status, "to": to})));
    }
    if let Some(to) = changes.priority.filter(|p| *p != priority) {
        events.push(("priority_changed", json!({"from": priority, "to": to})));
    }
    if let Some(to) = changes.tier.filter(|t| t.level() != tier) {
        events.push(("tier_changed", json!({"from": tier, "to": to})));
    }
    if let Some(to) = changes.assignee.filter(|a| *a != assignee) {
        events.push(("assignee_changed", json!({"from": assignee, "to": to})));
    }
    let new_tags = changes.new_tags(&tags);
    if let Some(to) = new_tags.as_ref().filter(|t| **t != tags) {
        events.push(("tags_changed", json!({"from": tags, "to": to})));
    }
    if let Some(to) = changes.queue.filter(|q| *q != queue) {
        events.push(("queue_changed", json!({"from": queue, "to": to})));
    }
    if events.is_empty() {
        return Ok(false);
    }

    let new_status = changes.status.unwrap_or(status);
    let solved_at_sql = solved_at_assignment(status, new_status, "$7");
    sqlx::query(&format!(
        "UPDATE cases SET status = $1, priority = $2, tier = $3, assignee_id = $4, tags = $5, \
         updated_at = $7, sla_check_at = $7, queue_id = $8, version = version + 1, \
         {solved_at_sql} WHERE id = $6"
    ))
    .bind(new_status.as_str())
    .bind(changes.priority.unwrap_or(priority).as_str())
    .bind(changes.tier.map_or(tier, Tier::level))
    .bind(changes.assignee.unwrap_or(assignee))
    .bind(json!(new_tags.as_ref().unwrap_or(&tags)).to_string())
    .bind(id)
    .bind(now)
    .bind(changes.queue.unwrap_or(queue))
    .execute(&mut **tx)
    .await?;
    if let Some((kind, data)) = &changes.event {
        events.push((kind, data.clone()));
    }
    for (kind, data) in events {
        record_event(tx, id, Some(actor), kind, data, now).await?;
    }
    if status.is_active() && !new_status.is_active() {
        classify_in(tx, id, Some(actor), now).await?;
    }
    Ok(true)
}

/// The status rules against the case as it is inside the transaction: a closed case takes no
/// change at all, and a status change must be one the role may make from where the case is.
fn check_rules_in_tx(
    role: backline_domain::Role,
    status: CaseStatus,
    changes: &CaseChanges,
) -> Result<()> {
    let any = changes.status.is_some_and(|s| s != status)
        || changes.priority.is_some()
        || changes.tier.is_some()
        || changes.assignee.is_some()
        || changes.new_tags(&[]).is_some()
        || changes.queue.is_some();
    if status == CaseStatus::Closed && any {
        return Err(StoreError::Invalid {
            field: "status",
            message: "the case is closed and can no longer change; file a new case".into(),
        });
    }
    if let Some(to) = changes.status {
        backline_domain::case::check_status_change(role, status, to).map_err(|e| {
            StoreError::Invalid {
                field: "status",
                message: e.0,
            }
        })?;
    }
    Ok(())
}

/// The `solved_at` part of an UPDATE moving a case from `from` to `to`: it marks the latest
/// solution (`now_param` is the placeholder holding the time), and reopening clears it.
fn solved_at_assignment(from: CaseStatus, to: CaseStatus, now_param: &str) -> String {
    match (from.is_active(), to.is_active()) {
        (true, false) => format!("solved_at = {now_param}"),
        (false, true) => "solved_at = NULL".to_string(),
        _ => "solved_at = solved_at".to_string(),
    }
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
