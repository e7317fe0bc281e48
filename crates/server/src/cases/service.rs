//! Case operations shared by the JSON API and the web pages: each applies the visibility
//! rule, the role rules and validation before anything is written, so both front doors
//! behave the same.

use crate::error::{ApiError, ApiResult, StoreResult};
use backline_domain::case::{
    check_comment_allowed, check_comment_body, check_status_change, normalize_tags,
    status_after_comment,
};
use backline_domain::{
    resolve_case_parties, CaseId, CaseStatus, Channel, FieldErrors, NewCaseInput, PartiesError,
    Priority, Role, Tier, UserId,
};
use backline_store::{
    CaseChanges, CaseFilter, CaseOrigin, CaseRecord, Comment, CommentOrigin, NewCase, NewComment,
    Store, StoreError, User,
};

/// A case as submitted, before validation.
#[derive(Debug, Default)]
pub struct CaseSubmission {
    /// A partner's escalation statement, checked against its agreement.
    pub escalation: backline_domain::partner::EscalationStatement,
    pub subject: String,
    pub description: String,
    pub priority: Option<Priority>,
    pub product: Option<String>,
    pub on_behalf_of: Option<String>,
    pub tags: Vec<String>,
    pub channel: Option<Channel>,
}

pub async fn create_case(
    state: &crate::AppState,
    caller: &User,
    submission: CaseSubmission,
) -> ApiResult<CaseRecord> {
    create_case_from(state, caller, submission, CaseOrigin::default()).await
}

/// Creates a case with what came with it (the message that opened it, its files, the
/// people it copied), under the same rules as any other.
pub async fn create_case_from(
    state: &crate::AppState,
    caller: &User,
    submission: CaseSubmission,
    origin: CaseOrigin,
) -> ApiResult<CaseRecord> {
    let store = &state.store;
    if caller.limits.no_vendor_contact {
        return Err(ApiError::Forbidden(
            "your partner handles your support: please contact them".into(),
        ));
    }
    let mut errors = FieldErrors::new();
    let input = match NewCaseInput::parse(
        &submission.subject,
        &submission.description,
        submission.priority.map(Priority::as_str),
        submission.product.as_deref(),
    ) {
        Ok(input) => Some(input),
        Err(e) => {
            errors = e;
            None
        }
    };
    let tags = errors.check("tags", normalize_tags(&submission.tags));

    // The filer's organisation, kept whole: routing reads it again when it is the partner.
    let own_org = match &caller.org {
        Some(org) => Some(store.org(org.id).await?),
        None => None,
    };
    let own = own_org.as_ref().map(|o| o.facts());
    let target = match submission
        .on_behalf_of
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(slug) => match store.org_by_slug(slug).await {
            Ok(org) => Some(Some(org.facts())),
            Err(StoreError::NotFound) => Some(None),
            Err(e) => return Err(e.into()),
        },
    };
    let parties = match target {
        // A slug that matches nothing: staff are told so; others get the same answer as for
        // an organisation they may not file for, which reveals nothing.
        Some(None) if caller.role.is_staff() => {
            errors.add("on_behalf_of", "no organisation has this slug");
            None
        }
        Some(None) => {
            let reason = if caller.role == Role::Partner {
                PartiesError::NotServed
            } else {
                PartiesError::NotAllowed
            };
            errors.add("on_behalf_of", reason.to_string());
            None
        }
        Some(Some(facts)) => parties_or_error(
            &mut errors,
            resolve_case_parties(caller.role, own, Some(facts)),
        ),
        None => parties_or_error(&mut errors, resolve_case_parties(caller.role, own, None)),
    };
    errors.into_result()?;
    let (Some(input), Some(mut tags), Some(parties)) = (input, tags, parties) else {
        return Err(ApiError::Internal(
            "validation passed without values".into(),
        ));
    };
    // The partner agreement's gate comes after field validation: nothing is stored either way.
    let escalation = crate::partners::service::gate(state, caller, submission.escalation).await?;
    let channel = submission.channel.unwrap_or(Channel::Api);
    let routed = crate::partners::service::route(
        state,
        crate::partners::service::RoutingInput {
            caller,
            caller_org: own_org.as_ref(),
            organization: parties.organization,
            partner: parties.partner,
            product: input.product.as_deref(),
            priority: input.priority,
            channel,
            text: format!("{}\n{}", input.subject, input.description),
        },
    )
    .await?;
    let (mut tier, mut priority) = (Tier::L1, input.priority);
    let routing = routed.map(|(routing, actions)| {
        tier = actions.tier.unwrap_or(tier);
        priority = actions.priority.unwrap_or(priority);
        for tag in actions.add_tags {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        routing
    });
    let case = NewCase {
        subject: input.subject,
        description: input.description,
        priority,
        product: input.product,
        channel,
        tier,
        tags,
        organization: parties.organization,
        partner: parties.partner,
        requester: caller.id,
        created_at: None,
        routing,
        escalation,
    };
    // A plain case goes through the store's group commit; one with attachments or a message
    // to mark placed needs its own transaction.
    let record = if origin.is_empty() {
        store.create_case(&case).await?
    } else {
        store.create_case_with(&case, &origin).await?
    };
    Ok(record)
}

fn parties_or_error(
    errors: &mut FieldErrors,
    result: Result<backline_domain::CaseParties, PartiesError>,
) -> Option<backline_domain::CaseParties> {
    match result {
        Ok(parties) => Some(parties),
        Err(e) => {
            errors.add("on_behalf_of", e.to_string());
            None
        }
    }
}

/// The case if the caller may see it; otherwise the same 404 as for a case that does not exist.
pub async fn visible_case(store: &Store, caller: &User, id: CaseId) -> ApiResult<CaseRecord> {
    let case = store.case(id).await.or_not_found("case")?;
    if !caller
        .actor()
        .can_see_case(case.organization.id, case.partner.as_ref().map(|p| p.id))
    {
        return Err(ApiError::NotFound("case"));
    }
    Ok(case)
}

/// Fields to change; a field left out stays as it is.
// The API's body, and what the case page's form fills in.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateCase)]
pub struct CaseUpdate {
    pub status: Option<CaseStatus>,
    pub priority: Option<Priority>,
    pub tier: Option<Tier>,
    /// A staff user's id; `null` unassigns.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<i64>)]
    pub assignee: Option<Option<UserId>>,
    /// Replaces the tags.
    pub tags: Option<Vec<String>>,
    /// Tags to add to those the case has when the change is written (two clients adding a
    /// tag each at the same moment both keep theirs).
    pub add_tags: Option<Vec<String>>,
    /// Tags to take off, likewise.
    pub remove_tags: Option<Vec<String>>,
}

pub async fn update_case(
    store: &Store,
    caller: &User,
    id: CaseId,
    update: CaseUpdate,
    expected_version: Option<i64>,
) -> ApiResult<CaseRecord> {
    let case = visible_case(store, caller, id).await?;
    let mut changes = check_update(store, caller, &case, &update).await?;
    changes.expected_version = expected_version;
    if case.status == CaseStatus::Closed && update.status.is_none() {
        return Err(ApiError::validation(
            "status",
            "the case is closed and can no longer change",
        ));
    }
    Ok(store.update_case(id, &changes, caller.id).await?)
}

impl CaseUpdate {
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.priority.is_none()
            && self.tier.is_none()
            && self.assignee.is_none()
            && self.tags.is_none()
            && self.add_tags.is_none()
            && self.remove_tags.is_none()
    }
}

/// Checks an update against the role rules and the case as read, collecting every field
/// error, and returns the changes to write.
async fn check_update(
    store: &Store,
    caller: &User,
    case: &CaseRecord,
    update: &CaseUpdate,
) -> ApiResult<CaseChanges> {
    if !caller.role.is_staff()
        && (update.priority.is_some()
            || update.tier.is_some()
            || update.assignee.is_some()
            || update.tags.is_some()
            || update.add_tags.is_some()
            || update.remove_tags.is_some())
    {
        return Err(ApiError::Forbidden(
            "only vendor staff can change priority, tier, assignee or tags".into(),
        ));
    }
    let mut errors = FieldErrors::new();
    if let Some(to) = update.status {
        errors.check("status", check_status_change(caller.role, case.status, to));
    }
    let tags = match &update.tags {
        Some(tags) => errors.check("tags", normalize_tags(tags)),
        None => None,
    };
    let tags_added = match &update.add_tags {
        Some(tags) => errors.check("add_tags", normalize_tags(tags)),
        None => None,
    };
    let tags_removed = match &update.remove_tags {
        Some(tags) => errors.check("remove_tags", normalize_tags(tags)),
        None => None,
    };
    if let Some(Some(assignee)) = update.assignee {
        match store.user(assignee).await {
            Ok(user) if user.role.is_staff() => {}
            Ok(_) => errors.add("assignee", "cases are assigned to vendor staff only"),
            Err(StoreError::NotFound) => errors.add("assignee", "no user has this id"),
            Err(e) => return Err(e.into()),
        }
    }
    errors.into_result()?;
    Ok(CaseChanges {
        status: update.status,
        priority: update.priority,
        tier: update.tier,
        assignee: update.assignee,
        tags,
        tags_added: tags_added.unwrap_or_default(),
        tags_removed: tags_removed.unwrap_or_default(),
        rules_for: Some(caller.role),
        ..Default::default()
    })
}

pub async fn add_comment(
    store: &Store,
    caller: &User,
    id: CaseId,
    body: &str,
    public: bool,
    origin: &CommentOrigin,
) -> ApiResult<Comment> {
    reply_and_update(
        store,
        caller,
        id,
        body,
        public,
        origin,
        &CaseUpdate::default(),
    )
    .await
}

/// Adds a comment and applies `update` with it in one transaction ("reply and solve", a
/// macro): both are checked first, and either both are written or neither.
pub async fn reply_and_update(
    store: &Store,
    caller: &User,
    id: CaseId,
    body: &str,
    public: bool,
    origin: &CommentOrigin,
    update: &CaseUpdate,
) -> ApiResult<Comment> {
    let case = visible_case(store, caller, id).await?;
    if !public && !caller.role.is_staff() {
        return Err(ApiError::Forbidden(
            "only vendor staff can write internal notes".into(),
        ));
    }
    check_comment_allowed(case.status).map_err(|e| ApiError::Conflict {
        code: "case_closed",
        message: e.0,
    })?;
    let body = check_comment_body(body).map_err(|e| ApiError::validation("body", e.0))?;
    let then = check_update(store, caller, &case, update).await?;
    let next = status_after_comment(caller.role, public, case.status).map(|to| (case.status, to));
    let comment = NewComment {
        case: id,
        author: caller.id,
        body,
        public,
        status_after: next,
        then,
        at: None,
    };
    store
        .add_comment_with(&comment, origin)
        .await
        .or_conflict("case_closed")
}

/// The comments the caller may read: internal notes for vendor staff only.
pub async fn comments(store: &Store, caller: &User, id: CaseId) -> ApiResult<Vec<Comment>> {
    visible_case(store, caller, id).await?;
    Ok(store.comments(id, caller.role.is_staff()).await?)
}

pub async fn list_cases(
    store: &Store,
    caller: &User,
    filter: &CaseFilter,
) -> ApiResult<(Vec<CaseRecord>, Option<CaseId>)> {
    Ok(store
        .list_cases(filter, caller.actor().case_scope())
        .await?)
}

/// Tier after escalating once more (at most 3).
pub fn next_tier(tier: Tier) -> Option<Tier> {
    Tier::new(tier.level() + 1).ok()
}

/// Tiered support: moves the case up one tier with a reason, and into the queue that serves
/// that tier, recorded as an `escalated` event (with both queues) in the same transaction.
pub async fn escalate(
    state: &crate::AppState,
    caller: &User,
    id: backline_domain::CaseId,
    reason: &str,
) -> ApiResult<backline_store::CaseRecord> {
    let case = visible_case(&state.store, caller, id).await?;
    crate::auth::staff_only(caller)?;
    if reason.trim().is_empty() {
        return Err(ApiError::validation(
            "reason",
            "say why the case needs the next tier",
        ));
    }
    let current = match &case.queue {
        Some(slug) => Some(state.store.queue_by_slug(slug).await?),
        None => None,
    };
    if let Some(queue) = current
        .as_ref()
        .filter(|q| q.model == backline_domain::routing::SupportModel::Swarm)
    {
        return Err(ApiError::Conflict {
            code: "swarm_queue",
            message: format!(
                "queue {} swarms rather than escalates: ask for help instead",
                queue.slug
            ),
        });
    }
    let Some(next) = next_tier(case.tier) else {
        return Err(ApiError::Conflict {
            code: "top_tier",
            message: "the case is already at tier 3".into(),
        });
    };
    let serving_next = state.store.queue_for_tier(next).await?;
    let to = backline_domain::routing::queue_after_escalation(
        current.as_ref().map(|q| (q, q.tier)),
        next,
        serving_next.as_ref(),
    );
    let slug = |q: Option<&backline_store::Queue>| q.map(|q| q.slug.clone());
    let event = serde_json::json!({
        "from": case.tier, "to": next, "reason": reason.trim(),
        "from_queue": slug(current.as_ref()), "to_queue": slug(to),
    });
    let updated = state
        .store
        .update_case(
            case.id,
            &backline_store::CaseChanges {
                tier: Some(next),
                queue: Some(to.map(|q| q.id)),
                event: Some(("escalated", event)),
                rules_for: Some(caller.role),
                ..Default::default()
            },
            caller.id,
        )
        .await?;
    Ok(updated)
}

/// Swarming: asks the queue's members with `skill` for help, recorded as a `swarm_requested`
/// event; the owner stays the owner. Returns the case and who was asked.
pub async fn swarm(
    state: &crate::AppState,
    caller: &User,
    id: backline_domain::CaseId,
    skill: &str,
    message: &str,
) -> ApiResult<(backline_store::CaseRecord, Vec<backline_store::UserRef>)> {
    let case = visible_case(&state.store, caller, id).await?;
    crate::auth::staff_only(caller)?;
    let Some(slug) = &case.queue else {
        return Err(ApiError::Conflict {
            code: "no_queue",
            message: "the case is in no queue to swarm in".into(),
        });
    };
    let queue = state.store.queue_by_slug(slug).await?;
    if queue.model != backline_domain::routing::SupportModel::Swarm {
        return Err(ApiError::Conflict {
            code: "tiered_queue",
            message: format!("queue {slug} is tiered: escalate instead"),
        });
    }
    let skill = skill.trim().to_lowercase();
    let owner = case.assignee.as_ref().map(|a| a.id);
    let helpers: Vec<backline_store::UserRef> = state
        .store
        .queue_members(queue.id)
        .await?
        .into_iter()
        .filter(|m| m.skills.contains(&skill) && Some(m.user.id) != owner)
        .map(|m| m.user)
        .collect();
    if helpers.is_empty() {
        return Err(ApiError::validation(
            "skill",
            format!("nobody in {slug} has the skill {skill:?}"),
        ));
    }
    let asked: Vec<serde_json::Value> = helpers
        .iter()
        .map(|u| serde_json::json!({"id": u.id, "name": u.name}))
        .collect();
    state
        .store
        .record_case_event(
            case.id,
            caller.id,
            "swarm_requested",
            serde_json::json!({"skill": skill, "message": message.trim(), "asked": asked}),
        )
        .await?;
    Ok((case, helpers))
}
