//! Partner-program rules shared by the API and the web pages: the caches that keep case
//! creation free of extra queries, the escalation gate, routing, who may read a partner's
//! records, scorecards, statements and alerts.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use backline_domain::partner::{
    alerts, check_escalation, parse_money, score_attempt, scorecard, statement, Agreement, Alert,
    AlertRules, EscalationFacts, EscalationStatement, FeeModel, Party, Scorecard, Statement,
    VendorContact,
};
use backline_domain::routing::{
    first_match, Actions, Condition, MatchMode, RoutingFacts, RuleDefinition, SupportModel,
};
use backline_domain::Span;
use backline_domain::{Channel, FieldErrors, OrgId, OrgKind, Priority, Role, Tier, UserId};
use backline_store::{
    Attempt, Certificate, Course, FeeReport, Org, Routing, RoutingRule, Store, StoreError, User,
};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a node trusts its copy of rules and agreements; writes on this node refresh at
/// once, other nodes' writes show within this time.
const CACHE_TTL: Duration = Duration::from_secs(5);
/// A day in milliseconds, as stored.
const DAY_MS: i64 = Span::DAY.as_millis();

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
    if !caller.actor().can_read_partner_program(org.id) {
        return Err(ApiError::NotFound("partner"));
    }
    Ok(org)
}

pub use crate::auth::staff_only;

/// A partner's scorecard for [from, to).
pub async fn partner_scorecard(
    store: &Store,
    partner: &Org,
    from_ms: i64,
    to_ms: i64,
) -> ApiResult<Scorecard> {
    let now = backline_store::now_millis();
    Ok(load_scorecard(store, partner, from_ms, to_ms, now).await?.0)
}

/// The scorecard for [from, to) and the certificates it counted.
async fn load_scorecard(
    store: &Store,
    partner: &Org,
    from_ms: i64,
    to_ms: i64,
    now: i64,
) -> ApiResult<(Scorecard, Vec<Certificate>)> {
    let escalations = store.escalations(partner.id, from_ms, to_ms).await?;
    let (customers, technicians) = store.partner_headcount(partner.id).await?;
    let terms = store.agreement(partner.id).await?.terms;
    let certificates = store.certificates_of_org(partner.id).await?;
    let card = scorecard_from(
        &escalations,
        customers,
        technicians,
        &certificates,
        &terms,
        now,
    );
    Ok((card, certificates))
}

/// The relationship manager's alerts for a partner, over the last 90 days.
pub async fn partner_alerts(store: &Store, partner: &Org) -> ApiResult<Vec<Alert>> {
    let now = backline_store::now_millis();
    let (recent, certificates) =
        load_scorecard(store, partner, now - 90 * DAY_MS, now + 1, now).await?;
    Ok(alerts_from(&recent, &certificates, now))
}

fn scorecard_from(
    escalations: &[EscalationFacts],
    customers: u64,
    technicians: u32,
    certificates: &[Certificate],
    terms: &Agreement,
    now: i64,
) -> Scorecard {
    let certified = certificates
        .iter()
        .filter(|c| c.expires_at > now)
        .map(|c| c.user.id)
        .collect::<std::collections::HashSet<_>>()
        .len() as u32;
    scorecard(
        escalations,
        customers,
        technicians,
        certified,
        terms.required_certified_technicians,
    )
}

/// The alerts, given the scorecard over the alert window (the last 90 days).
fn alerts_from(recent: &Scorecard, certificates: &[Certificate], now: i64) -> Vec<Alert> {
    // Each technician's longest-lasting valid certificate.
    let mut latest: HashMap<UserId, (String, i64)> = HashMap::new();
    for c in certificates.iter().filter(|c| c.expires_at > now) {
        let entry = latest
            .entry(c.user.id)
            .or_insert((c.user.name.clone(), c.expires_at));
        entry.1 = entry.1.max(c.expires_at);
    }
    let mut expiring: Vec<(String, i64)> = latest
        .into_values()
        .map(|(name, until)| (name, (until - now) / DAY_MS))
        .collect();
    expiring.sort();
    alerts(&AlertRules::default(), recent, &expiring)
}

/// A period (`2026-10` or `2026-Q3`) as [start, end) in Unix milliseconds.
fn period_window(period: &str) -> ApiResult<(i64, i64)> {
    let (start, end) = backline_domain::partner::parse_period(period)
        .map_err(|e| ApiError::bad_request("invalid_query", format!("period: {e}")))?;
    let ms = |d: time::Date| (d.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    Ok((ms(start), ms(end)))
}

/// The statement of a period from facts already read: the latest fee report of the period
/// counts (`fees` are newest first).
fn statement_from(
    terms: &Agreement,
    fees: &[FeeReport],
    escalations: &[EscalationFacts],
    period: &str,
    (start, end): (i64, i64),
) -> (String, Statement) {
    let period = period.trim();
    let reported = fees
        .iter()
        .find(|r| r.period == period)
        .map(|r| r.fees_cents);
    let count = escalations
        .iter()
        .filter(|e| (start..end).contains(&e.opened.as_millis()))
        .count();
    (period.to_string(), statement(terms, reported, count as u64))
}

/// The statements of several periods (`2026-10` or `2026-Q3`) for a partner, reading its
/// escalations (once, over the span of all periods), fee reports and agreement once.
pub async fn partner_statements(
    store: &Store,
    partner: &Org,
    periods: &[&str],
) -> ApiResult<Vec<(String, Statement)>> {
    let windows = periods
        .iter()
        .map(|p| period_window(p))
        .collect::<ApiResult<Vec<_>>>()?;
    let (Some(from), Some(to)) = (
        windows.iter().map(|w| w.0).min(),
        windows.iter().map(|w| w.1).max(),
    ) else {
        return Ok(Vec::new());
    };
    let escalations = store.escalations(partner.id, from, to).await?;
    let fees = store.fee_reports(partner.id).await?;
    let terms = store.agreement(partner.id).await?.terms;
    Ok(periods
        .iter()
        .zip(windows)
        .map(|(period, window)| statement_from(&terms, &fees, &escalations, period, window))
        .collect())
}

/// Everything the partner page shows about a partner.
pub struct PartnerOverview {
    /// Over the last 90 days (the alert window).
    pub scorecard: Scorecard,
    /// The relationship manager's alerts (the page shows them to staff only).
    pub alerts: Vec<Alert>,
    pub terms: Agreement,
    /// The partner and the end customers it serves.
    pub customers: Vec<Org>,
    /// The partner's people.
    pub people: Vec<User>,
    /// Its people's certificates, newest first, expired ones too.
    pub certificates: Vec<Certificate>,
    pub manager: Option<backline_store::UserRef>,
    /// Every fee report, newest first.
    pub fees: Vec<FeeReport>,
    /// This quarter's statement and the three before, newest first.
    pub statements: Vec<(String, Statement)>,
}

/// The partner page's data, each kind read once, so the number of queries stays the same
/// however many customers, escalations or reports the partner has: the escalations once over
/// the widest window (the scorecard's 90 days and the four quarters), filtered in memory for
/// each figure; the headcount from the customer and people lists the page shows anyway.
pub async fn partner_overview(
    store: &Store,
    partner: &Org,
    now: i64,
) -> ApiResult<PartnerOverview> {
    let periods = this_and_last_quarters(now, 4);
    let windows = periods
        .iter()
        .map(|p| period_window(p))
        .collect::<ApiResult<Vec<_>>>()?;
    let recent = (now - 90 * DAY_MS, now + 1);
    let from = windows.iter().map(|w| w.0).fold(recent.0, i64::min);
    let to = windows.iter().map(|w| w.1).fold(recent.1, i64::max);
    let escalations = store.escalations(partner.id, from, to).await?;
    let terms = store.agreement(partner.id).await?.terms;
    let fees = store.fee_reports(partner.id).await?;
    let certificates = store.certificates_of_org(partner.id).await?;
    let customers = store.list_orgs(None, Some(partner.id), None).await?;
    let people = store.list_users(Some(partner.id), false).await?;
    let manager = store.relationship_manager(partner.id).await?;

    let served = customers.iter().filter(|c| c.id != partner.id).count() as u64;
    let technicians = people.iter().filter(|u| u.role == Role::Partner).count() as u32;
    let last_90_days: Vec<EscalationFacts> = escalations
        .iter()
        .filter(|e| (recent.0..recent.1).contains(&e.opened.as_millis()))
        .cloned()
        .collect();
    let scorecard = scorecard_from(
        &last_90_days,
        served,
        technicians,
        &certificates,
        &terms,
        now,
    );
    let alerts = alerts_from(&scorecard, &certificates, now);
    let statements = periods
        .iter()
        .zip(windows)
        .map(|(period, window)| statement_from(&terms, &fees, &escalations, period, window))
        .collect();
    Ok(PartnerOverview {
        scorecard,
        alerts,
        terms,
        customers,
        people,
        certificates,
        manager,
        fees,
        statements,
    })
}

/// `n` quarters as `2026-Q3`, the one holding `now_ms` first.
pub fn this_and_last_quarters(now_ms: i64, n: usize) -> Vec<String> {
    let now = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (mut year, mut q) = (now.year(), (u8::from(now.month()) - 1) / 3 + 1);
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(format!("{year}-Q{q}"));
        if q == 1 {
            year -= 1;
            q = 4;
        } else {
            q -= 1;
        }
    }
    out
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
        errors.add("name", "is required");
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

/// Every partner's scorecard for `[from, to)`, ranked by the share of invalid escalations
/// (lowest first), then by escalations per end customer, then by slug.
pub async fn ranked_scorecards(
    state: &AppState,
    from: i64,
    to: i64,
) -> ApiResult<Vec<(Org, Scorecard)>> {
    let mut rows = Vec::new();
    for partner in state
        .store
        .list_orgs(Some(OrgKind::Partner), None, None)
        .await?
    {
        let card = partner_scorecard(&state.store, &partner, from, to).await?;
        rows.push((partner, card));
    }
    rows.sort_by(|(a, x), (b, y)| {
        let key = |c: &Scorecard| {
            (
                c.invalid_escalation_share.unwrap_or(0.0),
                c.escalations_per_end_customer.unwrap_or(0.0),
            )
        };
        key(x)
            .partial_cmp(&key(y))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.slug.cmp(&b.slug))
    });
    Ok(rows)
}

/// A partner technician takes a course's test: scored, recorded, and on a pass a certificate
/// is issued (and the partner's certification recomputed) in the same transaction.
pub async fn take_test(
    state: &AppState,
    caller: &User,
    course: i64,
    answers: &[Option<usize>],
) -> ApiResult<(Attempt, Course)> {
    if caller.role != Role::Partner {
        return Err(ApiError::Forbidden(
            "tests are taken by partner technicians".into(),
        ));
    }
    let course = state.store.course(course).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::NotFound("course"),
        other => other.into(),
    })?;
    if answers.len() > course.questions.len() {
        return Err(ApiError::validation(
            "answers",
            format!("the test has {} questions", course.questions.len()),
        ));
    }
    let correct: Vec<usize> = course.questions.iter().map(|q| q.correct).collect();
    let (score, passed) = score_attempt(&correct, answers, course.pass_mark);
    let attempt = state
        .store
        .record_attempt(
            &course,
            caller.id,
            caller.org.as_ref().map(|o| o.id),
            answers,
            score,
            passed,
        )
        .await?;
    Ok((attempt, course))
}

/// The agreement's terms: money in currency units, the percentage as a number.
// The API's body, and what the agreement page builds from its form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementBody {
    pub customer_owner: Party,
    pub billing_owner: Party,
    /// Steps the partner must have taken before escalating, in order.
    #[serde(default)]
    pub troubleshooting_checklist: Vec<String>,
    pub vanilla_reproduction_required: bool,
    pub customers_see_vendor_kb: bool,
    pub vendor_direct_contact: VendorContact,
    pub updates_distributed_by: Party,
    #[serde(default)]
    pub required_certified_technicians: u32,
    /// Defaults to `none`.
    #[serde(default = "no_fee")]
    pub fee_model: FeeModel,
    /// For `percentage`: e.g. 15 or 12.5.
    pub fee_percent: Option<f64>,
    /// For `fixed`: the fee per period, e.g. "2500.00".
    pub fixed_fee: Option<String>,
}

fn no_fee() -> FeeModel {
    FeeModel::None
}

impl TryFrom<AgreementBody> for Agreement {
    type Error = FieldErrors;

    /// Converts money to cents and the percentage to basis points, then checks the terms,
    /// naming every field that is wrong.
    fn try_from(body: AgreementBody) -> Result<Agreement, FieldErrors> {
        let mut errors = FieldErrors::new();
        let fee_percent_bp = match body.fee_percent {
            Some(p) if p.is_finite() => (p * 100.0).round() as i64,
            Some(_) => {
                errors.add("fee_percent", "must be a number");
                0
            }
            None => 0,
        };
        let fixed_fee_cents = match body.fixed_fee.as_deref() {
            Some(text) => errors.check("fixed_fee", parse_money(text)).unwrap_or(0),
            None => 0,
        };
        errors.into_result()?;
        Agreement {
            customer_owner: body.customer_owner,
            billing_owner: body.billing_owner,
            troubleshooting_checklist: body.troubleshooting_checklist,
            vanilla_reproduction_required: body.vanilla_reproduction_required,
            customers_see_vendor_kb: body.customers_see_vendor_kb,
            vendor_direct_contact: body.vendor_direct_contact,
            updates_distributed_by: body.updates_distributed_by,
            required_certified_technicians: body.required_certified_technicians,
            fee_model: body.fee_model,
            fee_percent_bp,
            fixed_fee_cents,
        }
        .checked()
    }
}

/// A routing rule: conditions over the case and who filed it, and what to do when they hold.
// The API's body and the routing page's text area: `match` where the stored definition says
// `match_mode`, and defaults for `enabled` and `match`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    pub name: String,
    /// Defaults to `true`.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Whether every condition must hold (`all`, the default) or one is enough (`any`).
    #[serde(rename = "match", default = "all")]
    pub match_mode: MatchMode,
    pub conditions: Vec<Condition>,
    pub actions: Actions,
}

fn yes() -> bool {
    true
}

fn all() -> MatchMode {
    MatchMode::All
}

impl TryFrom<RuleBody> for RuleDefinition {
    type Error = FieldErrors;

    fn try_from(body: RuleBody) -> Result<RuleDefinition, FieldErrors> {
        RuleDefinition {
            name: body.name,
            enabled: body.enabled,
            match_mode: body.match_mode,
            conditions: body.conditions,
            actions: body.actions,
        }
        .checked()
    }
}

impl RuleBody {
    /// `RuleDefinition::try_from` under the name the routing page calls.
    pub fn definition(self) -> ApiResult<RuleDefinition> {
        Ok(RuleDefinition::try_from(self)?)
    }
}
