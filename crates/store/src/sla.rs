//! Service-level policies, business calendars and each case's clocks.
//!
//! The clocks are computed in the domain (`backline_domain::sla`) from a case's history; the
//! store keeps the result so lists can show and sort by it. Every change to a case sets its
//! `sla_check_at` to the moment of the change, which queues it for the background sweep; the
//! sweep writes the clocks back only if the case did not change again meanwhile
//! (compare-and-set on `sla_check_at` and `updated_at`), so two nodes sweeping at once
//! announce a breach once.

use crate::cases::record_event;
use crate::rows::{convert, corrupt, stored, Flag};
use crate::sql::{Arg, Sql};
use crate::versions::{advance, Versioned};
use crate::{Backend, Result, Store, StoreError};
use backline_domain::sla::{CalendarSpec, Metric, PolicyConditions, SlaState};
use backline_domain::{CaseId, CaseStatus, OrgId, Priority, Role, Span, Timestamp};
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// A business calendar as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaCalendar {
    pub id: i64,
    pub name: String,
    pub spec: CalendarSpec,
    pub updated_at: Timestamp,
    /// Moves on with every change (see `versions`).
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct CalendarRow {
    id: i64,
    name: String,
    spec: String,
    updated_at: Timestamp,
    version: i64,
}

impl TryFrom<CalendarRow> for SlaCalendar {
    type Error = StoreError;
    fn try_from(r: CalendarRow) -> Result<SlaCalendar> {
        Ok(SlaCalendar {
            id: r.id,
            name: r.name,
            spec: serde_json::from_str(&r.spec).map_err(corrupt)?,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

/// What an admin writes for a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaPolicyInput {
    pub name: String,
    pub conditions: PolicyConditions,
    /// `None`: around the clock.
    pub calendar_id: Option<i64>,
    pub first_reply: Option<Span>,
    pub next_reply: Option<Span>,
    pub resolution: Option<Span>,
    pub warn_before: Span,
}

/// A policy as stored, in the order policies are tried.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaPolicy {
    pub id: i64,
    pub position: i64,
    pub input: SlaPolicyInput,
    pub updated_at: Timestamp,
    /// Moves on with every change to the policy (not with its place in the order).
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct PolicyRow {
    id: i64,
    name: String,
    position: i64,
    conditions: String,
    calendar_id: Option<i64>,
    first_reply_minutes: Option<i64>,
    next_reply_minutes: Option<i64>,
    resolution_minutes: Option<i64>,
    warn_minutes: i64,
    updated_at: Timestamp,
    version: i64,
}

impl TryFrom<PolicyRow> for SlaPolicy {
    type Error = StoreError;
    fn try_from(r: PolicyRow) -> Result<SlaPolicy> {
        let minutes = |m: Option<i64>| m.map(|m| Span::MINUTE.times(m));
        Ok(SlaPolicy {
            id: r.id,
            position: r.position,
            input: SlaPolicyInput {
                name: r.name,
                conditions: serde_json::from_str(&r.conditions).map_err(corrupt)?,
                calendar_id: r.calendar_id,
                first_reply: minutes(r.first_reply_minutes),
                next_reply: minutes(r.next_reply_minutes),
                resolution: minutes(r.resolution_minutes),
                warn_before: Span::MINUTE.times(r.warn_minutes),
            },
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

/// What the clocks of one case are computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaCaseFacts {
    pub case: CaseId,
    pub organization: OrgId,
    pub partner: Option<OrgId>,
    pub priority: Priority,
    pub product: Option<String>,
    pub opened: Timestamp,
    /// Status changes after opening, oldest first.
    pub statuses: Vec<(Timestamp, CaseStatus)>,
    /// Public comments, oldest first; `true` when vendor staff wrote it.
    pub public_replies: Vec<(Timestamp, bool)>,
    /// The case's version as read, for the compare-and-set that writes the result.
    pub check_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct FactsRow {
    id: CaseId,
    organization_id: OrgId,
    partner_id: Option<OrgId>,
    priority: String,
    product: Option<String>,
    created_at: Timestamp,
    sla_check_at: Timestamp,
    updated_at: Timestamp,
}

/// One clock of a case as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseClock {
    pub metric: Metric,
    pub started: Timestamp,
    pub target: Span,
    pub elapsed: Span,
    pub due: Option<Timestamp>,
    pub paused: bool,
    pub fulfilled: Option<Timestamp>,
    pub breached_at: Option<Timestamp>,
    pub state: SlaState,
}

#[derive(sqlx::FromRow)]
struct ClockRow {
    metric: String,
    started_at: Timestamp,
    target_ms: i64,
    elapsed_ms: i64,
    due_at: Option<Timestamp>,
    #[sqlx(try_from = "Flag")]
    paused: bool,
    fulfilled_at: Option<Timestamp>,
    breached_at: Option<Timestamp>,
    state: String,
}

impl TryFrom<ClockRow> for CaseClock {
    type Error = StoreError;
    fn try_from(r: ClockRow) -> Result<CaseClock> {
        Ok(CaseClock {
            metric: stored(Metric::parse, &r.metric)?,
            started: r.started_at,
            target: Span::from_millis(r.target_ms),
            elapsed: Span::from_millis(r.elapsed_ms),
            due: r.due_at,
            paused: r.paused,
            fulfilled: r.fulfilled_at,
            breached_at: r.breached_at,
            state: stored(SlaState::parse, &r.state)?,
        })
    }
}

/// The result of evaluating a case's clocks, to be written back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClocksUpdate {
    pub policy_id: Option<i64>,
    pub clocks: Vec<CaseClock>,
    /// For lists: the soonest due moment of a running clock and the worst state.
    pub due: Option<Timestamp>,
    pub state: Option<SlaState>,
    /// When to look again without any change to the case; `None` when no clock runs.
    pub next_check: Option<Timestamp>,
}

impl Store {
    pub async fn sla_calendars(&self) -> Result<Vec<SlaCalendar>> {
        let rows: Vec<CalendarRow> = sqlx::query_as(
            "SELECT id, name, spec, updated_at, version FROM sla_calendars ORDER BY name",
        )
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }

    /// Creates a calendar, or replaces the one with `id`; every open case is evaluated again
    /// (finding which policies use it would save little, as calendars change rarely).
    pub async fn save_sla_calendar(
        &self,
        id: Option<i64>,
        name: &str,
        spec: &CalendarSpec,
    ) -> Result<i64> {
        self.write_sla_calendar(id, name, spec, None).await
    }

    /// [`Store::save_sla_calendar`], replacing only if the calendar is still at `expected`
    /// (when given), else [`StoreError::Stale`].
    pub async fn write_sla_calendar(
        &self,
        id: Option<i64>,
        name: &str,
        spec: &CalendarSpec,
        expected: Option<i64>,
    ) -> Result<i64> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        let id = match id {
            Some(id) => {
                advance(&mut tx, Versioned::SlaCalendar, Arg::Int(id), expected).await?;
                let done = sqlx::query(
                    "UPDATE sla_calendars SET name = $1, spec = $2, updated_at = $3 WHERE id = $4",
                )
                .bind(name)
                .bind(json!(spec).to_string())
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::unique("that name is taken; choose another"))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                id
            }
            None => sqlx::query_scalar(
                "INSERT INTO sla_calendars (name, spec, updated_at) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(name)
            .bind(json!(spec).to_string())
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::unique("that name is taken; choose another"))?,
        };
        recheck_open_cases(&mut tx, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Deletes a calendar no policy uses (`Conflict` otherwise), if it is still at `expected`
    /// (when given).
    pub async fn delete_sla_calendar(&self, id: i64, expected: Option<i64>) -> Result<()> {
        let mut tx = self.write.begin().await?;
        advance(&mut tx, Versioned::SlaCalendar, Arg::Int(id), expected).await?;
        let used: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sla_policies WHERE calendar_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        if used > 0 {
            return Err(StoreError::Conflict(
                "a policy uses this calendar; change that policy first".into(),
            ));
        }
        let done = sqlx::query("DELETE FROM sla_calendars WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Policies in the order they are tried.
    pub async fn sla_policies(&self) -> Result<Vec<SlaPolicy>> {
        let rows: Vec<PolicyRow> = sqlx::query_as(
            "SELECT id, name, position, conditions, calendar_id, first_reply_minutes, \
             next_reply_minutes, resolution_minutes, warn_minutes, updated_at, version \
             FROM sla_policies ORDER BY position, id",
        )
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }

    /// Creates a policy (tried after the existing ones) or replaces the one with `id`; every
    /// open case is evaluated again under the new set.
    pub async fn save_sla_policy(&self, id: Option<i64>, policy: &SlaPolicyInput) -> Result<i64> {
        self.write_sla_policy(id, policy, None).await
    }

    /// [`Store::save_sla_policy`], replacing only if the policy is still at `expected` (when
    /// given), else [`StoreError::Stale`].
    pub async fn write_sla_policy(
        &self,
        id: Option<i64>,
        policy: &SlaPolicyInput,
        expected: Option<i64>,
    ) -> Result<i64> {
        let now = Timestamp::now();
        let minutes = |s: Option<Span>| s.map(|s| s.as_millis() / Span::MINUTE.as_millis());
        let mut tx = self.write.begin().await?;
        let id = match id {
            Some(id) => {
                advance(&mut tx, Versioned::SlaPolicy, Arg::Int(id), expected).await?;
                let done = sqlx::query(
                    "UPDATE sla_policies SET name = $1, conditions = $2, calendar_id = $3, \
                     first_reply_minutes = $4, next_reply_minutes = $5, resolution_minutes = $6, \
                     warn_minutes = $7, updated_at = $8 WHERE id = $9",
                )
                .bind(&policy.name)
                .bind(json!(policy.conditions).to_string())
                .bind(policy.calendar_id)
                .bind(minutes(policy.first_reply))
                .bind(minutes(policy.next_reply))
                .bind(minutes(policy.resolution))
                .bind(minutes(Some(policy.warn_before)))
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::unique("that name is taken; choose another"))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                id
            }
            None => sqlx::query_scalar(
                "INSERT INTO sla_policies (name, position, conditions, calendar_id, \
                 first_reply_minutes, next_reply_minutes, resolution_minutes, warn_minutes, updated_at) \
                 VALUES ($1, (SELECT COALESCE(MAX(position), 0) + 1 FROM sla_policies), $2, $3, $4, $5, $6, $7, $8) \
                 RETURNING id",
            )
            .bind(&policy.name)
            .bind(json!(policy.conditions).to_string())
            .bind(policy.calendar_id)
            .bind(minutes(policy.first_reply))
            .bind(minutes(policy.next_reply))
            .bind(minutes(policy.resolution))
            .bind(minutes(Some(policy.warn_before)))
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::unique("that name is taken; choose another"))?,
        };
        recheck_open_cases(&mut tx, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Moves a policy one place earlier (`up`) or later in the order.
    pub async fn move_sla_policy(&self, id: i64, up: bool) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM sla_policies ORDER BY position, id")
            .fetch_all(&mut *tx)
            .await?;
        let mut ids = ids;
        let at = ids
            .iter()
            .position(|p| *p == id)
            .ok_or(StoreError::NotFound)?;
        let other = if up { at.checked_sub(1) } else { Some(at + 1) };
        if let Some(other) = other.filter(|o| *o < ids.len()) {
            ids.swap(at, other);
        }
        for (position, id) in ids.iter().enumerate() {
            sqlx::query("UPDATE sla_policies SET position = $1 WHERE id = $2")
                .bind(position as i64 + 1)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        recheck_open_cases(&mut tx, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a policy; cases it set targets for keep their recorded clocks (history) and are
    /// evaluated again under the remaining policies. With `expected`, only while the
    /// policy is at that version.
    pub async fn delete_sla_policy(&self, id: i64, expected: Option<i64>) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        advance(&mut tx, Versioned::SlaPolicy, Arg::Int(id), expected).await?;
        sqlx::query("UPDATE case_sla SET policy_id = NULL WHERE policy_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE cases SET sla_policy_id = NULL WHERE sla_policy_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM sla_policies WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        recheck_open_cases(&mut tx, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Up to `limit` cases whose clocks are due for a look at `now`, with their history.
    pub async fn sla_cases_due(&self, now: Timestamp, limit: usize) -> Result<Vec<SlaCaseFacts>> {
        let rows: Vec<FactsRow> = sqlx::query_as(
            "SELECT id, organization_id, partner_id, priority, product, created_at, sla_check_at, \
             updated_at FROM cases WHERE sla_check_at <= $1 ORDER BY sla_check_at LIMIT $2",
        )
        .bind(now)
        .bind(limit as i64)
        .fetch_all(&self.read)
        .await?;
        self.sla_facts(rows).await
    }

    async fn sla_facts(&self, rows: Vec<FactsRow>) -> Result<Vec<SlaCaseFacts>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids = || rows.iter().map(|r| Arg::Int(r.id.0));
        let mut events = Sql::new(
            "SELECT case_id, created_at, data FROM case_events WHERE kind = 'status_changed'",
        );
        events
            .push_in("case_id", ids())
            .push(" ORDER BY created_at, id");
        let events: Vec<(CaseId, Timestamp, String)> =
            events.query_as().fetch_all(&self.read).await?;
        let mut replies = Sql::new(
            "SELECT m.case_id, m.created_at, u.role FROM comments m \
             JOIN users u ON u.id = m.author_id WHERE m.public = 1",
        );
        replies
            .push_in("m.case_id", ids())
            .push(" ORDER BY m.created_at, m.id");
        let replies: Vec<(CaseId, Timestamp, String)> =
            replies.query_as().fetch_all(&self.read).await?;
        let mut statuses: HashMap<CaseId, Vec<(Timestamp, CaseStatus)>> = HashMap::new();
        for (case, at, data) in events {
            let data: serde_json::Value = serde_json::from_str(&data).map_err(corrupt)?;
            let to = data["to"].as_str().unwrap_or_default();
            statuses
                .entry(case)
                .or_default()
                .push((at, stored(CaseStatus::parse, to)?));
        }
        let mut public: HashMap<CaseId, Vec<(Timestamp, bool)>> = HashMap::new();
        for (case, at, role) in replies {
            let staff = stored(Role::parse, &role)?.is_staff();
            public.entry(case).or_default().push((at, staff));
        }
        rows.into_iter()
            .map(|r| {
                Ok(SlaCaseFacts {
                    case: r.id,
                    organization: r.organization_id,
                    partner: r.partner_id,
                    priority: stored(Priority::parse, &r.priority)?,
                    product: r.product,
                    opened: r.created_at,
                    statuses: statuses.remove(&r.id).unwrap_or_default(),
                    public_replies: public.remove(&r.id).unwrap_or_default(),
                    check_at: r.sla_check_at,
                    updated_at: r.updated_at,
                })
            })
            .collect()
    }

    /// Writes a case's evaluated clocks, with an event for each clock entering warning,
    /// breached or achieved (each once), unless the case changed since `facts` were read: then
    /// `Ok(false)`, and the next sweep evaluates it again.
    pub async fn save_case_clocks(
        &self,
        facts: &SlaCaseFacts,
        update: &ClocksUpdate,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self.save_clock_batch(&[(facts, update)], now).await? == 1)
    }

    /// Writes the evaluated clocks of several cases in one transaction (one commit for a
    /// sweep's batch rather than one per case), each case under the same compare-and-set as
    /// [`Store::save_case_clocks`]. Returns how many cases were written.
    pub async fn save_clock_batch(
        &self,
        batch: &[(&SlaCaseFacts, &ClocksUpdate)],
        now: Timestamp,
    ) -> Result<usize> {
        let mut ordered: Vec<&(&SlaCaseFacts, &ClocksUpdate)> = batch.iter().collect();
        ordered.sort_by_key(|(facts, _)| facts.case);
        let mut tx = self.write.begin().await?;
        let mut written = 0;
        // A batch is written in a few statements for all its cases, not several per case:
        // the sweep shares the one SQLite writer with everyone filing and answering cases.
        for chunk in ordered.chunks(CLOCK_CHUNK) {
            if self.backend == Backend::Postgres {
                // Rows are locked in id order, the order every other writer locking several
                // cases (a merge) takes them in, so the sweep and a merge cannot deadlock; the
                // update below would lock them in whatever order its join reads them.
                let mut lock = Sql::new("SELECT id FROM cases WHERE 1 = 1");
                lock.push_in("id", chunk.iter().map(|(facts, _)| Arg::Int(facts.case.0)))
                    .push(" ORDER BY id FOR UPDATE");
                lock.query().execute(&mut *tx).await?;
            }
            let unchanged = set_case_summaries(&mut tx, chunk).await?;
            let kept: Vec<&(&SlaCaseFacts, &ClocksUpdate)> = chunk
                .iter()
                .copied()
                .filter(|(facts, _)| unchanged.contains(&facts.case))
                .collect();
            save_clocks_in(&mut tx, &kept, now).await?;
            written += kept.len();
        }
        tx.commit().await?;
        Ok(written)
    }

    /// A case's clocks as last evaluated.
    pub async fn case_clocks(&self, case: CaseId) -> Result<Vec<CaseClock>> {
        let rows: Vec<ClockRow> = sqlx::query_as(
            "SELECT metric, started_at, target_ms, elapsed_ms, due_at, paused, fulfilled_at, \
             breached_at, state FROM case_sla WHERE case_id = $1 ORDER BY started_at, metric",
        )
        .bind(case)
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }

    /// How many open cases still wait for their clocks to be evaluated (for tests and metrics).
    pub async fn sla_backlog(&self, now: Timestamp) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE sla_check_at <= $1")
                .bind(now)
                .fetch_one(&self.read)
                .await?,
        )
    }
}

/// Queues every open case for evaluation (the policies or calendars changed).
async fn recheck_open_cases(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE cases SET sla_check_at = $1 WHERE status NOT IN ('solved', 'closed') \
         OR sla_check_at IS NOT NULL",
    )
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Cases per statement of a clock batch: 200 cases of three clocks stay well inside both
/// backends' limits on bound values (11 per clock).
const CLOCK_CHUNK: usize = 200;

/// Sets each case's clock summary and next check, if the case is still as its facts saw it
/// (neither changed nor evaluated by another sweep since): returns the cases written.
async fn set_case_summaries(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    batch: &[&(&SlaCaseFacts, &ClocksUpdate)],
) -> Result<HashSet<CaseId>> {
    if batch.is_empty() {
        return Ok(HashSet::new());
    }
    // `VALUES` columns are called column1, column2... on both backends.
    let mut sql = Sql::new(
        "UPDATE cases SET sla_policy_id = v.column2, sla_due_at = v.column3, \
         sla_state = v.column4, sla_check_at = v.column5 FROM (VALUES ",
    );
    for (i, (facts, update)) in batch.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push("(")
            .bind(Arg::Int(facts.case.0))
            .push(", ")
            .bind(Arg::MaybeInt(update.policy_id))
            .push(", ")
            .bind(Arg::MaybeInt(update.due.map(Timestamp::as_millis)))
            .push(", ")
            .bind(Arg::MaybeText(
                update.state.map(|state| state.as_str().to_string()),
            ))
            .push(", ")
            .bind(Arg::MaybeInt(update.next_check.map(Timestamp::as_millis)))
            .push(", ")
            .bind(Arg::Int(facts.check_at.as_millis()))
            .push(", ")
            .bind(Arg::Int(facts.updated_at.as_millis()))
            .push(")");
    }
    sql.push(
        ") AS v WHERE cases.id = v.column1 AND cases.sla_check_at = v.column6 \
         AND cases.updated_at = v.column7 RETURNING cases.id",
    );
    let written: Vec<(CaseId,)> = sql.query_as().fetch_all(&mut **tx).await?;
    Ok(written.into_iter().map(|(case,)| case).collect())
}

/// The clocks of cases whose summaries were just written: every clock in one upsert, an
/// event for each clock entering warning, breached or achieved (each once), and clocks that
/// no longer apply removed.
async fn save_clocks_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    batch: &[&(&SlaCaseFacts, &ClocksUpdate)],
    now: Timestamp,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut before = Sql::new("SELECT case_id, metric, state FROM case_sla WHERE 1 = 1");
    before.push_in(
        "case_id",
        batch.iter().map(|(facts, _)| Arg::Int(facts.case.0)),
    );
    let before: Vec<(CaseId, String, String)> = before.query_as().fetch_all(&mut **tx).await?;
    let mut was: HashMap<CaseId, HashMap<String, String>> = HashMap::new();
    for (case, metric, state) in before {
        was.entry(case).or_default().insert(metric, state);
    }

    let mut upsert = Sql::new(
        "INSERT INTO case_sla (case_id, metric, policy_id, started_at, target_ms, elapsed_ms, \
         due_at, paused, fulfilled_at, breached_at, state) VALUES ",
    );
    let mut rows = 0;
    for (facts, update) in batch {
        for clock in &update.clocks {
            if rows > 0 {
                upsert.push(", ");
            }
            rows += 1;
            upsert
                .push("(")
                .bind(Arg::Int(facts.case.0))
                .push(", ")
                .bind(Arg::Text(clock.metric.as_str().to_string()))
                .push(", ")
                .bind(Arg::MaybeInt(update.policy_id))
                .push(", ")
                .bind(Arg::Int(clock.started.as_millis()))
                .push(", ")
                .bind(Arg::Int(clock.target.as_millis()))
                .push(", ")
                .bind(Arg::Int(clock.elapsed.as_millis()))
                .push(", ")
                .bind(Arg::MaybeInt(clock.due.map(Timestamp::as_millis)))
                .push(", ")
                .bind(Arg::Int(i64::from(clock.paused)))
                .push(", ")
                .bind(Arg::MaybeInt(clock.fulfilled.map(Timestamp::as_millis)))
                .push(", ")
                .bind(Arg::MaybeInt(clock.breached_at.map(Timestamp::as_millis)))
                .push(", ")
                .bind(Arg::Text(clock.state.as_str().to_string()))
                .push(")");
        }
    }
    if rows > 0 {
        upsert.push(
            " ON CONFLICT (case_id, metric) DO UPDATE SET policy_id = excluded.policy_id, \
             started_at = excluded.started_at, target_ms = excluded.target_ms, \
             elapsed_ms = excluded.elapsed_ms, due_at = excluded.due_at, \
             paused = excluded.paused, fulfilled_at = excluded.fulfilled_at, \
             breached_at = excluded.breached_at, state = excluded.state",
        );
        upsert.query().execute(&mut **tx).await?;
    }

    let no_clocks: HashMap<String, String> = HashMap::new();
    for (facts, update) in batch {
        let before = was.get(&facts.case).unwrap_or(&no_clocks);
        for clock in &update.clocks {
            let previous = before.get(clock.metric.as_str()).map(String::as_str);
            let kind = match (previous, clock.state) {
                (Some("warning" | "breached"), SlaState::Warning) => None,
                (_, SlaState::Warning) => Some("sla_warning"),
                (Some("breached"), SlaState::Breached) => None,
                (_, SlaState::Breached) => Some("sla_breached"),
                (Some("achieved"), SlaState::Achieved) => None,
                (_, SlaState::Achieved) => Some("sla_achieved"),
                (_, SlaState::Ok) => None,
            };
            if let Some(kind) = kind {
                let data = json!({
                    "metric": clock.metric, "state": clock.state, "due_at": clock.due,
                    "breached_at": clock.breached_at, "fulfilled_at": clock.fulfilled,
                    "policy_id": update.policy_id,
                });
                record_event(tx, facts.case, None, kind, data, now).await?;
            }
        }
        // A clock that no longer applies (no policy matches any more, or its metric left the
        // policy) is removed unless it already finished: finished ones are history.
        let keep: Vec<&str> = update.clocks.iter().map(|c| c.metric.as_str()).collect();
        for metric in before.keys().filter(|m| !keep.contains(&m.as_str())) {
            sqlx::query(
                "DELETE FROM case_sla WHERE case_id = $1 AND metric = $2 AND fulfilled_at IS NULL",
            )
            .bind(facts.case)
            .bind(metric)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
