//! Partner-program rules shared by the API and the web pages: the caches that keep case
//! creation free of extra queries, the escalation gate, routing, who may read a partner's
//! records, scorecards, statements and alerts.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use backline_domain::partner::{
    alerts, check_escalation, scorecard, statement, Agreement, Alert, AlertRules,
    EscalationStatement, Scorecard, Statement,
};
use backline_domain::routing::{first_match, pick_assignee, RoutingFacts};
use backline_domain::{Channel, OrgId, OrgKind, Priority, Role, Tier, UserId};
use backline_store::{Org, Routing, RoutingRule, Store, StoreError, User};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a node trusts its copy of rules and agreements; writes on this node refresh at
/// once, other nodes' writes show within this time.
const CACHE_TTL: Duration = Duration::from_secs(5);
const DAY_MS: i64 = 86_400_000;

#[derive(Default)]
pub struct PartnerCache {
    rules: Mutex<Option<(Instant, Arc<Vec<RoutingRule>>)>>,
    agreements: Mutex<HashMap<OrgId, (Instant, Arc<Agreement>)>>,
}

impl PartnerCache {
    pub async fn rules(&self, store: &Store) -> ApiResult<Arc<Vec<RoutingRule>>> {
        if let Some((at, rules)) = &*self.rules.lock().unwrap_or_else(|p| p.into_inner()) {
            if at.elapsed() < CACHE_TTL {
                return Ok(rules.clone());
            }
        }
        let rules = Arc::new(store.routing_rules().await?);
        *self.rules.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), rules.clone()));
        Ok(rules)
    }

    pub async fn agreement(&self, store: &Store, partner: OrgId) -> ApiResult<Arc<Agreement>> {
        if let Some((at, terms)) = self
            .agreements
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&partner)
        {
            if at.elapsed() < CACHE_TTL {
                return Ok(terms.clone());
            }
        }
        let terms = Arc::new(store.agreement(partner).await?.terms);
        self.agreements
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(partner, (Instant::now(), terms.clone()));
        Ok(terms)
    }

    pub fn forget(&self) {
        *self.rules.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.agreements
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// Applies the caller's partner agreement to a new case: the statement to store, or 422
/// `escalation_incomplete` naming what is missing.
pub async fn gate(
    state: &AppState,
    caller: &User,
    statement: EscalationStatement,
) -> ApiResult<Option<EscalationStatement>> {
    let (Role::Partner, Some(org)) = (caller.role, &caller.org) else {
        return Ok(None);
    };
    let terms = state.partners.agreement(&state.store, org.id).await?;
    check_escalation(&terms, &statement)
        .map(Some)
        .map_err(ApiError::EscalationIncomplete)
}

/// What routing needs to know besides the case text.
pub struct RoutingInput<'a> {
    pub caller: &'a User,
    /// The caller's organisation if already loaded (saves reading it again).
    pub caller_org: Option<&'a Org>,
    pub organization: OrgId,
    pub partner: Option<OrgId>,
    pub product: Option<&'a str>,
    pub priority: Priority,
    pub channel: Channel,
    pub text: String,
}

/// Runs the ordered rules; returns where the first match sends the case and what it changes.
pub async fn route(
    state: &AppState,
    input: RoutingInput<'_>,
) -> ApiResult<Option<(Routing, backline_domain::routing::Actions)>> {
    let rules = state.partners.rules(&state.store).await?;
    if rules.is_empty() {
        return Ok(None);
    }
    let partner: Option<Org> = match input.partner {
        Some(id) => match input.caller_org.filter(|o| o.id == id) {
            Some(org) => Some(org.clone()),
            None => Some(state.store.org(id).await?),
        },
        None => None,
    };
    let requester_org_kind = match &input.caller.org {
        Some(org) if Some(org.id) == input.partner => OrgKind::Partner,
        _ => OrgKind::Customer,
    };
    let technical_level = match &partner {
        Some(p) => p.technical_level,
        None => state.store.org(input.organization).await?.technical_level,
    };
    let facts = RoutingFacts {
        requester_org_kind,
        partner_kinds: partner
            .as_ref()
            .map(|p| p.partner_kinds.as_slice().to_vec())
            .unwrap_or_default(),
        technical_level,
        certified: partner.as_ref().is_some_and(|p| p.certified()),
        has_partner: partner.is_some(),
        product: input.product.map(str::to_string),
        priority: input.priority,
        channel: input.channel,
        text: input.text,
    };
    let pairs: Vec<(i64, backline_domain::routing::RuleDefinition)> =
        rules.iter().map(|r| (r.id, r.definition.clone())).collect();
    let Some((rule_id, rule)) = first_match(&pairs, &facts) else {
        return Ok(None);
    };
    let mut routing = Routing {
        rule_id,
        rule_name: rule.name.clone(),
        queue_id: None,
        assignee: None,
    };
    if let Some(slug) = &rule.actions.queue {
        match state.store.queue_by_slug(slug).await {
            Ok(queue) => {
                routing.queue_id = Some(queue.id);
                if let Some(how) = rule.actions.assign {
                    let members = state.store.queue_members(queue.id).await?;
                    let candidates: Vec<(UserId, i64, Option<i64>)> = members
                        .iter()
                        .map(|m| (m.user.id, m.active_cases, m.last_assigned_at))
                        .collect();
                    routing.assignee = pick_assignee(how, &candidates);
                    if let Some(user) = routing.assignee {
                        state.store.mark_assigned(queue.id, user).await?;
                    }
                }
            }
            Err(StoreError::NotFound) => {
                tracing::warn!(rule = rule_id, queue = %slug, "routing rule names a missing queue");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Some((routing, rule.actions.clone())))
}

/// The partner named by `slug`, if the caller may read its program records: staff any
/// partner, a partner technician only its own. Everyone else gets 404.
pub async fn readable_partner(state: &AppState, caller: &User, slug: &str) -> ApiResult<Org> {
    let org = match state.store.org_by_slug(slug).await {
        Ok(org) if org.kind == OrgKind::Partner => org,
        Ok(_) | Err(StoreError::NotFound) => return Err(ApiError::NotFound("partner")),
        Err(e) => return Err(e.into()),
    };
    let allowed = caller.role.is_staff()
        || (caller.role == Role::Partner && caller.org.as_ref().is_some_and(|o| o.id == org.id));
    if !allowed {
        return Err(ApiError::NotFound("partner"));
    }
    Ok(org)
}

pub fn staff_only(caller: &User) -> ApiResult<()> {
    if caller.role.is_staff() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only vendor staff can change this".into(),
        ))
    }
}

/// A partner's scorecard for [from, to).
pub async fn partner_scorecard(
    store: &Store,
    partner: &Org,
    from_ms: i64,
    to_ms: i64,
) -> ApiResult<Scorecard> {
    let escalations = store.escalations(partner.id, from_ms, to_ms).await?;
    let (customers, technicians) = store.partner_headcount(partner.id).await?;
    let terms = store.agreement(partner.id).await?.terms;
    let now = backline_store::now_millis();
    let certified = store
        .certificates_of_org(partner.id)
        .await?
        .iter()
        .filter(|c| c.expires_at > now)
        .map(|c| c.user.id)
        .collect::<std::collections::HashSet<_>>()
        .len() as u32;
    Ok(scorecard(
        &escalations,
        customers,
        technicians,
        certified,
        terms.required_certified_technicians,
    ))
}

/// The relationship manager's alerts for a partner, over the last 90 days.
pub async fn partner_alerts(store: &Store, partner: &Org) -> ApiResult<Vec<Alert>> {
    let now = backline_store::now_millis();
    let recent = partner_scorecard(store, partner, now - 90 * DAY_MS, now + 1).await?;
    alerts_for(store, partner, &recent).await
}

/// The alerts, given the partner's scorecard over the alert window (the last 90 days), for
/// callers that computed it already.
pub async fn alerts_for(store: &Store, partner: &Org, recent: &Scorecard) -> ApiResult<Vec<Alert>> {
    let now = backline_store::now_millis();
    let rules = AlertRules::default();
    // Each technician's longest-lasting valid certificate.
    let mut latest: HashMap<UserId, (String, i64)> = HashMap::new();
    for c in store.certificates_of_org(partner.id).await? {
        if c.expires_at > now {
            let entry = latest
                .entry(c.user.id)
                .or_insert((c.user.name.clone(), c.expires_at));
            entry.1 = entry.1.max(c.expires_at);
        }
    }
    let mut expiring: Vec<(String, i64)> = latest
        .into_values()
        .map(|(name, until)| (name, (until - now) / DAY_MS))
        .collect();
    expiring.sort();
    Ok(alerts(&rules, recent, &expiring))
}

/// The statement of a period (`2026-10` or `2026-Q3`) for a partner.
pub async fn partner_statement(
    store: &Store,
    partner: &Org,
    period: &str,
) -> ApiResult<(String, Statement)> {
    let (start, end) = backline_domain::partner::parse_period(period)
        .map_err(|e| ApiError::bad_request("invalid_query", format!("period: {e}")))?;
    let ms = |d: time::Date| (d.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let escalations = store.escalations(partner.id, ms(start), ms(end)).await?;
    let reported = store
        .fee_reports(partner.id)
        .await?
        .into_iter()
        .find(|r| r.period == period.trim())
        .map(|r| r.fees_cents);
    let terms = store.agreement(partner.id).await?.terms;
    Ok((
        period.trim().to_string(),
        statement(&terms, reported, escalations.len() as u64),
    ))
}

/// Tier after escalating once more (at most 3).
pub fn next_tier(tier: Tier) -> Option<Tier> {
    Tier::new(tier.level() + 1).ok()
}

/// Tiered support: moves the case up one tier with a reason, recorded as an `escalated` event.
pub async fn escalate(
    state: &AppState,
    caller: &User,
    id: backline_domain::CaseId,
    reason: &str,
) -> ApiResult<backline_store::CaseRecord> {
    let case = crate::cases::service::visible_case(&state.store, caller, id).await?;
    staff_only(caller)?;
    if reason.trim().is_empty() {
        return Err(ApiError::validation(
            "reason",
            "say why the case needs the next tier",
        ));
    }
    if let Some(slug) = &case.queue {
        let queue = state.store.queue_by_slug(slug).await?;
        if queue.model == backline_domain::routing::SupportModel::Swarm {
            return Err(ApiError::Conflict {
                code: "swarm_queue",
                message: format!("queue {slug} swarms rather than escalates: ask for help instead"),
            });
        }
    }
    let Some(next) = next_tier(case.tier) else {
        return Err(ApiError::Conflict {
            code: "top_tier",
            message: "the case is already at tier 3".into(),
        });
    };
    let updated = state
        .store
        .update_case(
            case.id,
            &backline_store::CaseChanges {
                tier: Some(next),
                ..Default::default()
            },
            caller.id,
        )
        .await?;
    state
        .store
        .record_case_event(
            case.id,
            caller.id,
            "escalated",
            serde_json::json!({"from": case.tier, "to": next, "reason": reason.trim()}),
        )
        .await?;
    Ok(updated)
}

/// Swarming: asks the queue's members with `skill` for help, recorded as a `swarm_requested`
/// event; the owner stays the owner. Returns the case and who was asked.
pub async fn swarm(
    state: &AppState,
    caller: &User,
    id: backline_domain::CaseId,
    skill: &str,
    message: &str,
) -> ApiResult<(backline_store::CaseRecord, Vec<backline_store::UserRef>)> {
    let case = crate::cases::service::visible_case(&state.store, caller, id).await?;
    staff_only(caller)?;
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

/// Emails each partner's relationship manager when the partner's alerts change (new ones
/// appear); the last alerts sent are kept in settings so nothing is repeated.
pub async fn mail_partner_alerts(state: &AppState) -> ApiResult<usize> {
    let mut sent = 0;
    for partner in state
        .store
        .list_orgs(Some(OrgKind::Partner), None, None)
        .await?
    {
        let Some(manager) = state.store.relationship_manager(partner.id).await? else {
            continue;
        };
        let current = partner_alerts(&state.store, &partner).await?;
        let digest: Vec<String> = current
            .iter()
            .map(|a| a.kind.as_str().to_string())
            .collect();
        let key = format!("partner_alerts:{}", partner.id);
        let before: Vec<String> = state
            .store
            .setting(&key)
            .await?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let new: Vec<&Alert> = current
            .iter()
            .filter(|a| !before.contains(&a.kind.as_str().to_string()))
            .collect();
        if !new.is_empty() {
            let body = format!(
                "{} needs attention:\n\n{}\n\nPartner page: {}/partners/{}",
                partner.name,
                new.iter()
                    .map(|a| format!("- {}", a.message))
                    .collect::<Vec<_>>()
                    .join("\n"),
                state.public_url,
                partner.slug
            );
            state
                .store
                .enqueue_mails(
                    &[backline_store::crisis::Mail {
                        recipient: manager.email.clone(),
                        subject: format!("Partner alert: {}", partner.name),
                        body,
                        kind: "partner_alert".into(),
                    }],
                    None,
                )
                .await?;
            sent += 1;
        }
        if digest != before {
            state
                .store
                .set_setting(&key, &serde_json::to_string(&digest).unwrap_or_default())
                .await?;
        }
    }
    Ok(sent)
}

/// Checks partner alerts at once, then every `every` (hourly in production). The first check
/// runs at start so that a node restarted more often than `every` still checks.
pub fn start_alert_mail(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let span = tracing::info_span!("partner_alert_check");
            let result =
                tracing::Instrument::instrument(mail_partner_alerts(&state), span.clone()).await;
            span.in_scope(|| match result {
                Ok(sent) => tracing::debug!(sent, "partner alerts checked"),
                Err(e) => tracing::warn!(error = %e, "partner alert mail failed"),
            });
        }
    })
}

/// Creates (`id: None`) or replaces a routing rule after checking it names an existing queue;
/// shared by the API and the routing page so both refuse the same rules.
pub async fn save_rule(
    state: &AppState,
    caller: &User,
    id: Option<i64>,
    definition: &backline_domain::routing::RuleDefinition,
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
            .update_rule(id, definition)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => ApiError::NotFound("rule"),
                other => other.into(),
            })?,
    };
    state.partners.forget();
    Ok(saved)
}

/// Deletes a rule that never routed a case (one that did must be disabled instead).
pub async fn delete_rule(state: &AppState, caller: &User, id: i64) -> ApiResult<()> {
    staff_only(caller)?;
    state.store.delete_rule(id).await.map_err(|e| match e {
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

pub async fn create_queue(
    state: &AppState,
    caller: &User,
    slug: &str,
    name: &str,
    model: backline_domain::routing::SupportModel,
) -> ApiResult<backline_store::Queue> {
    staff_only(caller)?;
    let mut errors = backline_domain::FieldErrors::new();
    let slug = errors.check("slug", backline_domain::Slug::parse(slug));
    if name.trim().is_empty() {
        errors.add("name", "is required");
    }
    errors.into_result()?;
    let slug = slug.map(|s| s.as_str().to_string()).unwrap_or_default();
    Ok(state.store.create_queue(&slug, name.trim(), model).await?)
}

/// Adds a staff member to a queue, or replaces their skills (trimmed, lower-cased).
pub async fn set_queue_member<'a>(
    state: &AppState,
    caller: &User,
    queue: &str,
    user: UserId,
    skills: impl IntoIterator<Item = &'a str>,
) -> ApiResult<()> {
    staff_only(caller)?;
    let queue = state
        .store
        .queue_by_slug(queue)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound("queue"),
            other => other.into(),
        })?;
    let member = state.store.user(user).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::NotFound("user"),
        other => other.into(),
    })?;
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
    Ok(state
        .store
        .set_queue_member(queue.id, member.id, &skills)
        .await?)
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
    errors.check("period", backline_domain::partner::parse_period(period));
    let cents = errors.check("fees", backline_domain::partner::parse_money(fees));
    errors.into_result()?;
    let cents =
        cents.ok_or_else(|| ApiError::Internal("validation passed without values".into()))?;
    Ok(state
        .store
        .report_fees(partner.id, period.trim(), cents, caller.id)
        .await?)
}
