//! Changing the program: routing rules, queues and their members, fee reports.

use super::*;
use crate::error::{ApiError, ApiResult, StoreResult};
use crate::AppState;
use backline_domain::routing::SupportModel;
use backline_domain::{RuleId, Tier, UserId};
use backline_store::{Org, RoutingRule, StoreError, User};

/// Replaces a partner's agreement (staff only), with `expected` only over that version (0:
/// the default terms; 412 `stale` otherwise); its gate and limits apply from the next request.
pub async fn save_agreement(
    state: &AppState,
    caller: &User,
    partner: &Org,
    terms: &backline_domain::partner::Agreement,
    expected: Option<i64>,
) -> ApiResult<backline_store::StoredAgreement> {
    staff_only(caller)?;
    let stored = state
        .store
        .write_agreement(partner.id, terms, caller.id, expected)
        .await?;
    state.partners.forget();
    Ok(stored)
}

/// One routing rule.
pub async fn rule(state: &AppState, id: RuleId) -> ApiResult<RoutingRule> {
    state.store.routing_rule(id).await.or_not_found("rule")
}

/// Creates (`id: None`) or replaces a routing rule after checking it names an existing queue;
/// shared by the API and the routing page so both refuse the same rules. A replacement with
/// `expected` is written only over that version (412 `stale` otherwise).
pub async fn save_rule(
    state: &AppState,
    caller: &User,
    id: Option<RuleId>,
    definition: &backline_domain::routing::RuleDefinition,
    expected: Option<i64>,
) -> ApiResult<RoutingRule> {
    staff_only(caller)?;
    if let Some(slug) = &definition.actions.queue {
        match state.store.queue_by_slug(slug).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(ApiError::validation(
                    "actions",
                    format!("no queue {slug:?}"),
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    let saved = match id {
        None => state.store.create_rule(definition).await?,
        Some(id) => state
            .store
            .update_rule(id, definition, expected)
            .await
            .or_not_found("rule")?,
    };
    state.partners.forget();
    Ok(saved)
}

/// Deletes a rule that never routed a case (one that did must be disabled instead); with
/// `expected`, only while the rule is at that version.
pub async fn delete_rule(
    state: &AppState,
    caller: &User,
    id: RuleId,
    expected: Option<i64>,
) -> ApiResult<()> {
    staff_only(caller)?;
    state
        .store
        .delete_rule(id, expected)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound("rule"),
            StoreError::Conflict(message) => ApiError::Conflict {
                code: "rule_in_use",
                message,
            },
            other => other.into(),
        })?;
    state.partners.forget();
    Ok(())
}

/// Creates a queue; a tiered queue may serve a tier (one queue per tier), which escalations
/// to that tier move cases into.
pub async fn create_queue(
    state: &AppState,
    caller: &User,
    slug: &str,
    name: &str,
    model: SupportModel,
    tier: Option<Tier>,
) -> ApiResult<backline_store::Queue> {
    staff_only(caller)?;
    let mut errors = backline_domain::FieldErrors::new();
    let slug = errors.check("slug", backline_domain::Slug::parse(slug));
    if name.trim().is_empty() {
        errors.add("name", "give the queue a name");
    }
    if tier.is_some() && model == SupportModel::Swarm {
        errors.add("tier", "swarm queues serve no tier: only tiered queues do");
    }
    match slug {
        Some(slug) if errors.is_empty() => Ok(state
            .store
            .create_queue(slug.as_str(), name.trim(), model, tier)
            .await?),
        // A slug that did not parse recorded its error, so `errors` is never empty here.
        _ => Err(errors.into()),
    }
}

/// Adds a staff member to a queue, or replaces their skills (trimmed, lower-cased).
pub async fn set_queue_member<'a>(
    state: &AppState,
    caller: &User,
    queue: &str,
    user: UserId,
    skills: impl IntoIterator<Item = &'a str>,
    expected: Option<i64>,
) -> ApiResult<i64> {
    staff_only(caller)?;
    let queue = state
        .store
        .queue_by_slug(queue)
        .await
        .or_not_found("queue")?;
    let member = state.store.user(user).await.or_not_found("user")?;
    if !member.role.is_staff() {
        return Err(ApiError::validation(
            "user",
            "queue members are vendor staff",
        ));
    }
    let skills: Vec<String> = skills
        .into_iter()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    state
        .store
        .write_queue_member(queue.id, member.id, &skills, expected)
        .await
        .or_not_found("queue")
}

/// One queue with its members.
pub async fn queue_with_members(
    state: &AppState,
    slug: &str,
) -> ApiResult<(backline_store::Queue, Vec<backline_store::QueueMember>)> {
    let queue = state
        .store
        .queue_by_slug(slug)
        .await
        .or_not_found("queue")?;
    let members = state.store.queue_members(queue.id).await?;
    Ok((queue, members))
}

/// Records the support fees a partner collected in a period (`2026-10` or `2026-Q3`).
pub async fn report_fees(
    state: &AppState,
    caller: &User,
    partner: &Org,
    period: &str,
    fees: &str,
) -> ApiResult<backline_store::FeeReport> {
    let mut errors = backline_domain::FieldErrors::new();
    let period_ok = errors.check("period", backline_domain::partner::parse_period(period));
    let cents = errors.check("fees", backline_domain::partner::parse_money(fees));
    // Each `None` recorded its error, so `errors` names every problem here.
    let (Some(_), Some(cents)) = (period_ok, cents) else {
        return Err(errors.into());
    };
    Ok(state
        .store
        .report_fees(partner.id, period.trim(), cents, caller.id)
        .await?)
}
