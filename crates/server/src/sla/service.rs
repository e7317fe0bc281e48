//! Service-level policies: who may set them, how they are checked, and how a case's clocks are
//! evaluated and kept (the domain computes, the store keeps, this module joins the two).

use crate::error::{ApiError, ApiResult, StoreResult};
use crate::AppState;
use backline_domain::partner::Party;
use backline_domain::sla::{
    self, Calendar, CalendarSpec, ClockFacts, Metric, MetricClock, PolicyConditions, PolicyFacts,
    Targets,
};
use backline_domain::{CaseId, FieldErrors, OrgId, Priority, Span, Timestamp};
use backline_store::{
    CaseClock, ClocksUpdate, SlaCalendar, SlaCaseFacts, SlaPolicy, SlaPolicyInput, Store,
    StoreError, User,
};
use std::collections::HashMap;
use std::time::Duration;

const MAX_NAME: usize = 80;
/// The longest target: a year of business time is already beyond any promise.
const MAX_TARGET_MINUTES: i64 = 366 * 24 * 60;
const MAX_WARN_MINUTES: i64 = 30 * 24 * 60;
/// Cases evaluated per sweep batch.
const SWEEP_BATCH: usize = 100;
/// How many times as long as a full batch took (reading, evaluating, writing) the sweep waits
/// before the next one: the sweep's share of the time is one in `SWEEP_YIELD + 1`.
const SWEEP_YIELD: u32 = 20;
/// How many batches in a row may lose a race for a case before the sweep leaves the rest
/// to its next run (a case changed on every read would otherwise hold it forever).
const SWEEP_RETRIES: u32 = 5;

fn staff_only(caller: &User) -> ApiResult<()> {
    if caller.role.is_staff() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "service-level policies are for vendor staff".into(),
        ))
    }
}

pub async fn calendars(store: &Store, caller: &User) -> ApiResult<Vec<SlaCalendar>> {
    staff_only(caller)?;
    Ok(store.sla_calendars().await?)
}

/// One calendar, for staff.
pub async fn calendar(store: &Store, caller: &User, id: i64) -> ApiResult<SlaCalendar> {
    calendars(store, caller)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(ApiError::NotFound("calendar"))
}

/// Creates (`id` None) or replaces a calendar after checking it; a replacement with
/// `expected` is written only over that version (412 `stale` otherwise).
pub async fn save_calendar(
    store: &Store,
    caller: &User,
    id: Option<i64>,
    name: &str,
    spec: &CalendarSpec,
    expected: Option<i64>,
) -> ApiResult<SlaCalendar> {
    crate::auth::settings_only(caller)?;
    let mut errors = check_name(name);
    if let Err(problems) = Calendar::from_spec(spec) {
        for (field, message) in problems.0 {
            errors.add(&field, message);
        }
    }
    errors.into_result()?;
    let id = store
        .write_sla_calendar(id, name.trim(), spec, expected)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => ApiError::validation("name", m),
            StoreError::NotFound => ApiError::NotFound("calendar"),
            e => e.into(),
        })?;
    store
        .sla_calendars()
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(ApiError::NotFound("calendar"))
}

pub async fn delete_calendar(
    store: &Store,
    caller: &User,
    id: i64,
    expected: Option<i64>,
) -> ApiResult<()> {
    crate::auth::settings_only(caller)?;
    store
        .delete_sla_calendar(id, expected)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound("calendar"),
            StoreError::Conflict(message) => ApiError::Conflict {
                code: "calendar_in_use",
                message,
            },
            e => e.into(),
        })
}

pub async fn policies(store: &Store, caller: &User) -> ApiResult<Vec<SlaPolicy>> {
    staff_only(caller)?;
    Ok(store.sla_policies().await?)
}

/// A policy as an admin wrote it, with organisations and partners by slug.
#[derive(Debug, Clone, Default)]
pub struct PolicySubmission {
    pub name: String,
    pub organizations: Vec<String>,
    pub partners: Vec<String>,
    pub customer_owner: Option<Party>,
    pub priorities: Vec<Priority>,
    pub products: Vec<String>,
    pub calendar_id: Option<i64>,
    pub first_reply_minutes: Option<i64>,
    pub next_reply_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
    pub warn_minutes: Option<i64>,
}

/// Checks a submission and saves it as a new policy (tried last) or over `id`, with
/// `expected` only over that version (412 `stale` otherwise).
pub async fn save_policy(
    store: &Store,
    caller: &User,
    id: Option<i64>,
    submission: &PolicySubmission,
    expected: Option<i64>,
) -> ApiResult<SlaPolicy> {
    crate::auth::settings_only(caller)?;
    let mut errors = check_name(&submission.name);
    let mut target = |field: &str, minutes: Option<i64>| -> Option<Span> {
        match minutes {
            None => None,
            Some(m) if (1..=MAX_TARGET_MINUTES).contains(&m) => Span::minutes(m),
            Some(_) => {
                errors.add(
                    field,
                    format!("write a number of minutes from 1 to {MAX_TARGET_MINUTES}, or leave it empty"),
                );
                None
            }
        }
    };
    let first_reply = target("first_reply_minutes", submission.first_reply_minutes);
    let next_reply = target("next_reply_minutes", submission.next_reply_minutes);
    let resolution = target("resolution_minutes", submission.resolution_minutes);
    if submission.first_reply_minutes.is_none()
        && submission.next_reply_minutes.is_none()
        && submission.resolution_minutes.is_none()
    {
        errors.add(
            "first_reply_minutes",
            "set at least one target: first reply, next reply or resolution",
        );
    }
    let warn = submission.warn_minutes.unwrap_or(60);
    if !(0..=MAX_WARN_MINUTES).contains(&warn) {
        errors.add(
            "warn_minutes",
            format!("write a number of minutes from 0 to {MAX_WARN_MINUTES}"),
        );
    }
    if let Some(calendar) = submission.calendar_id {
        if !store
            .sla_calendars()
            .await?
            .iter()
            .any(|c| c.id == calendar)
        {
            errors.add("calendar_id", "no calendar has this id");
        }
    }
    let organizations = org_ids(
        store,
        &submission.organizations,
        "organizations",
        &mut errors,
    )
    .await?;
    let partners = org_ids(store, &submission.partners, "partners", &mut errors).await?;
    errors.into_result()?;
    let input = SlaPolicyInput {
        name: submission.name.trim().to_string(),
        conditions: PolicyConditions {
            organizations,
            partners,
            customer_owner: submission.customer_owner,
            priorities: submission.priorities.clone(),
            products: submission
                .products
                .iter()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
        },
        calendar_id: submission.calendar_id,
        first_reply,
        next_reply,
        resolution,
        warn_before: Span::MINUTE.times(warn),
    };
    let id = store
        .write_sla_policy(id, &input, expected)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => ApiError::validation("name", m),
            StoreError::NotFound => ApiError::NotFound("policy"),
            e => e.into(),
        })?;
    policy(store, id).await
}

/// One policy, for staff.
pub async fn read_policy(store: &Store, caller: &User, id: i64) -> ApiResult<SlaPolicy> {
    staff_only(caller)?;
    policy(store, id).await
}

async fn policy(store: &Store, id: i64) -> ApiResult<SlaPolicy> {
    store
        .sla_policies()
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(ApiError::NotFound("policy"))
}

pub async fn delete_policy(
    store: &Store,
    caller: &User,
    id: i64,
    expected: Option<i64>,
) -> ApiResult<()> {
    crate::auth::settings_only(caller)?;
    store
        .delete_sla_policy(id, expected)
        .await
        .or_not_found("policy")
}

pub async fn move_policy(store: &Store, caller: &User, id: i64, up: bool) -> ApiResult<()> {
    crate::auth::settings_only(caller)?;
    store.move_sla_policy(id, up).await.or_not_found("policy")
}

fn check_name(name: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let name = name.trim();
    if name.is_empty() {
        errors.add(
            "name",
            "give it a name people recognise, such as \"Enterprise\"",
        );
    } else if name.chars().count() > MAX_NAME {
        errors.add("name", format!("a name has at most {MAX_NAME} characters"));
    }
    errors
}

async fn org_ids(
    store: &Store,
    slugs: &[String],
    field: &str,
    errors: &mut FieldErrors,
) -> ApiResult<Vec<OrgId>> {
    let mut ids = Vec::new();
    for slug in slugs.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match store.org_by_slug(slug).await {
            Ok(org) => ids.push(org.id),
            Err(StoreError::NotFound) => {
                errors.add(field, format!("no organisation is called {slug}"))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(ids)
}

/// The slugs of the organisations a policy names, for showing it.
pub async fn slugs(store: &Store, ids: &[OrgId]) -> ApiResult<Vec<String>> {
    let mut out = Vec::new();
    for id in ids {
        out.push(store.org(*id).await?.slug);
    }
    Ok(out)
}

/// A case's clocks, for vendor staff (others get 404, as for anything outside their view).
pub async fn case_clocks(store: &Store, caller: &User, case: CaseId) -> ApiResult<Vec<CaseClock>> {
    if !caller.role.is_staff() {
        return Err(ApiError::NotFound("case"));
    }
    store.case(case).await.or_not_found("case")?;
    Ok(store.case_clocks(case).await?)
}

/// The policies with their calendars, ready to evaluate a batch of cases.
pub struct PolicySet {
    policies: Vec<(SlaPolicy, Calendar)>,
}

impl PolicySet {
    pub async fn load(store: &Store) -> ApiResult<PolicySet> {
        let calendars: HashMap<i64, Calendar> = store
            .sla_calendars()
            .await?
            .into_iter()
            .filter_map(|c| Calendar::from_spec(&c.spec).ok().map(|cal| (c.id, cal)))
            .collect();
        let policies = store
            .sla_policies()
            .await?
            .into_iter()
            .map(|p| {
                let calendar = match p.input.calendar_id.and_then(|id| calendars.get(&id)) {
                    Some(c) => c.clone(),
                    None => Calendar::always(),
                };
                (p, calendar)
            })
            .collect();
        Ok(PolicySet { policies })
    }

    /// The case's clocks at `now` under the first policy that matches it.
    pub fn evaluate(
        &self,
        facts: &SlaCaseFacts,
        customer_owner: Option<Party>,
        now: Timestamp,
    ) -> ClocksUpdate {
        let policy_facts = PolicyFacts {
            organization: facts.organization,
            partner: facts.partner,
            customer_owner,
            priority: facts.priority,
            product: facts.product.as_deref(),
        };
        let Some((policy, calendar)) =
            sla::choose(&self.policies, |(p, _)| &p.input.conditions, &policy_facts)
        else {
            return ClocksUpdate {
                policy_id: None,
                clocks: Vec::new(),
                due: None,
                state: None,
                next_check: None,
            };
        };
        let targets = Targets {
            first_reply: policy.input.first_reply,
            next_reply: policy.input.next_reply,
            resolution: policy.input.resolution,
        };
        let history = ClockFacts {
            opened: facts.opened,
            statuses: facts.statuses.clone(),
            public_replies: facts.public_replies.clone(),
        };
        let warn = policy.input.warn_before;
        let clocks = sla::clocks(&targets, warn, calendar, &history, now);
        let (due, state) = sla::summary(&clocks);
        ClocksUpdate {
            policy_id: Some(policy.id),
            // Never in the past: a moment already gone would have the sweep take the case
            // again at once, forever.
            next_check: sla::next_change(&clocks, warn).map(|t| t.max(now.plus(Span::SECOND))),
            clocks: clocks.iter().map(stored_clock).collect(),
            due,
            state,
        }
    }
}

fn stored_clock(c: &MetricClock) -> CaseClock {
    CaseClock {
        metric: c.metric,
        started: c.started,
        target: c.target,
        elapsed: c.elapsed,
        due: c.due,
        paused: c.paused,
        fulfilled: c.fulfilled,
        breached_at: c.breached_at,
        state: c.state,
    }
}

/// What a metric is called in sentences.
pub fn metric_words(metric: Metric) -> &'static str {
    match metric {
        Metric::FirstReply => "first reply",
        Metric::NextReply => "next reply",
        Metric::Resolution => "resolution",
    }
}

/// Evaluates every case whose clocks are due for a look, in batches, until none is left.
/// Returns how many cases were written.
pub async fn sweep(store: &Store, now: Timestamp) -> ApiResult<usize> {
    let mut written = 0;
    let mut policies: Option<PolicySet> = None;
    let mut owners: HashMap<OrgId, Party> = HashMap::new();
    let mut contested = 0;
    loop {
        let started = std::time::Instant::now();
        let batch = store.sla_cases_due(now, SWEEP_BATCH).await?;
        if batch.is_empty() {
            return Ok(written);
        }
        let set = match &policies {
            Some(set) => set,
            None => policies.insert(PolicySet::load(store).await?),
        };
        let full = batch.len() == SWEEP_BATCH;
        let mut updates = Vec::with_capacity(batch.len());
        for facts in &batch {
            let owner = match facts.partner {
                None => None,
                Some(partner) => Some(match owners.get(&partner) {
                    Some(owner) => *owner,
                    None => {
                        let owner = store.agreement(partner).await?.terms.customer_owner;
                        owners.insert(partner, owner);
                        owner
                    }
                }),
            };
            updates.push(set.evaluate(facts, owner, now));
        }
        let pairs: Vec<_> = batch.iter().zip(&updates).collect();
        let saved = store.save_clock_batch(&pairs, now).await?;
        written += saved;
        // A case changed (or was evaluated by another sweep) between reading and writing
        // keeps its check time and is read again, with its new facts, before this sweep
        // ends: a caller asking for the clocks "as of `now`" gets them, whatever ran beside it.
        let lost = saved < batch.len();
        if lost {
            contested += 1;
            if contested > SWEEP_RETRIES {
                return Ok(written);
            }
            continue;
        }
        contested = 0;
        if !full {
            return Ok(written);
        }
        // A long backlog (every open case after a policy change) is background work: between
        // batches the database and the CPU are left to the people filing and answering cases,
        // for several times as long as the whole batch took. Timing the write alone left out
        // the read and the evaluation, and creation slowed by a fifth while it ran; at six
        // times (batches of 200) it still slowed by 30% at a million cases (`bench lists`).
        tokio::time::sleep(started.elapsed() * SWEEP_YIELD).await;
    }
}

/// Starts the sweep: every `every`, the clocks of changed cases and of cases reaching a
/// warning or a breach are evaluated and kept.
pub fn start(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let span = tracing::info_span!("sla_sweep");
            let result = tracing::Instrument::instrument(
                sweep(&state.store, Timestamp::now()),
                span.clone(),
            )
            .await;
            if let Err(e) = result {
                span.in_scope(|| tracing::warn!(error = %e, "service-level sweep failed"));
            }
        }
    })
}
