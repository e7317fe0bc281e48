//! Partner-program rules shared by the API and the web pages: the caches that keep case
//! creation free of extra queries, the escalation gate, routing, who may read a partner's
//! records, scorecards, statements and alerts.

mod alert_mail;
mod bodies;
mod scorecards;
mod setup;
mod training;

pub use alert_mail::*;
pub use bodies::*;
pub use scorecards::*;
pub use setup::*;
pub use training::*;

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use backline_domain::partner::{check_escalation, Agreement, EscalationStatement};
use backline_domain::routing::{first_match, RoutingFacts};
use backline_domain::{Channel, OrgId, OrgKind, Priority, Role, RuleId};
use backline_domain::{Span, Timestamp};
use backline_store::{Org, Routing, RoutingRule, Store, StoreError, User};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a node trusts its copy of rules and agreements; writes on this node refresh at
/// once, other nodes' writes show within this time.
const CACHE_TTL: Duration = Duration::from_secs(5);
/// The window the relationship manager's alerts, the comparison and the partner page's recent
/// scorecard look at, unless a period is asked for.
pub const RECENT_WINDOW: Span = Span::DAY.times(90);

/// `[from, to)` of the recent window ending at `now`, `now` included.
pub fn recent_window(now: Timestamp) -> (Timestamp, Timestamp) {
    (now.minus(RECENT_WINDOW), now.plus(Span::from_millis(1)))
}

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
    let pairs: Vec<(RuleId, backline_domain::routing::RuleDefinition)> =
        rules.iter().map(|r| (r.id, r.definition.clone())).collect();
    let Some((rule_id, rule)) = first_match(&pairs, &facts) else {
        return Ok(None);
    };
    let mut routing = Routing {
        rule_id,
        rule_name: rule.name.clone(),
        queue_id: None,
        assign: None,
    };
    if let Some(slug) = &rule.actions.queue {
        match state.store.queue_by_slug(slug).await {
            Ok(queue) => {
                routing.queue_id = Some(queue.id);
                // The store picks the member whose turn it is in the case's own transaction.
                routing.assign = rule.actions.assign;
            }
            Err(StoreError::NotFound) => {
                tracing::warn!(rule = rule_id.0, queue = %slug, "routing rule names a missing queue");
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
    if !caller.actor().can_read_partner_program(org.id) {
        return Err(ApiError::NotFound("partner"));
    }
    Ok(org)
}

pub use crate::auth::staff_only;
