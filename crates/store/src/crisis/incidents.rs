//! Incidents, the services they affect, and their timeline of updates and cadence findings.

use super::outbox::{insert_mails, Mail};
use super::postmortems::ensure_postmortem;
use super::services::{Service, ServiceRow};
use super::timeline::{incident_event, Entry};
use crate::rows::{convert, stored, Flag};
use crate::{Result, Store, StoreError};
use backline_domain::crisis::{Impact, IncidentState};
use backline_domain::{IncidentId, ServiceId, SignalGroupId, Timestamp, UserId};
use serde_json::json;

#[derive(Debug, Clone, PartialEq)]
pub struct IncidentEvent {
    pub kind: String,
    pub state: Option<IncidentState>,
    pub message: String,
    pub data: serde_json::Value,
    pub actor: Option<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub id: backline_domain::IncidentId,
    pub title: String,
    pub impact: Impact,
    pub nature: String,
    pub state: IncidentState,
    pub eta: String,
    pub next_update_at: Option<Timestamp>,
    pub last_update_at: Timestamp,
    pub long_resolution: bool,
    pub overdue: bool,
    pub hourly_breach: bool,
    /// The committed update time a reminder was last sent for.
    pub reminded_for: Option<Timestamp>,
    pub dry_run: bool,
    /// Dismissed signals become internal incidents: never on the status page or in mail.
    pub public: bool,
    pub declared_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub services: Vec<Service>,
}

#[derive(Debug, Clone)]
pub struct NewIncident {
    pub title: String,
    pub impact: Impact,
    pub nature: String,
    pub eta: String,
    pub next_update_at: Option<Timestamp>,
    pub message: String,
    pub services: Vec<ServiceId>,
    pub declared_by: UserId,
    pub dry_run: bool,
    pub public: bool,
    pub state: IncidentState,
    /// The signal group this qualifies, if any.
    pub signal_group: Option<SignalGroupId>,
    /// For incidents created resolved (dismissed signals): when the post-mortem is due.
    pub postmortem_due: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct IncidentUpdate {
    pub state: IncidentState,
    pub message: String,
    pub next_update_at: Option<Timestamp>,
    pub eta: Option<String>,
    pub by: UserId,
    /// When resolving: the post-mortem's due time.
    pub postmortem_due: Option<Timestamp>,
}

/// An `incidents` row; the services are read apart.
#[derive(sqlx::FromRow)]
struct IncidentRow {
    id: IncidentId,
    title: String,
    impact: String,
    nature: String,
    state: String,
    eta: String,
    next_update_at: Option<Timestamp>,
    last_update_at: Timestamp,
    #[sqlx(try_from = "Flag")]
    long_resolution: bool,
    #[sqlx(try_from = "Flag")]
    overdue: bool,
    #[sqlx(try_from = "Flag")]
    hourly_breach: bool,
    reminded_for: Option<Timestamp>,
    #[sqlx(try_from = "Flag")]
    dry_run: bool,
    #[sqlx(try_from = "Flag")]
    public: bool,
    declared_at: Timestamp,
    resolved_at: Option<Timestamp>,
}

impl TryFrom<IncidentRow> for Incident {
    type Error = StoreError;

    fn try_from(r: IncidentRow) -> Result<Incident> {
        Ok(Incident {
            id: r.id,
            title: r.title,
            impact: stored(Impact::parse, &r.impact)?,
            nature: r.nature,
            state: stored(IncidentState::parse, &r.state)?,
            eta: r.eta,
            next_update_at: r.next_update_at,
            last_update_at: r.last_update_at,
            long_resolution: r.long_resolution,
            overdue: r.overdue,
            hourly_breach: r.hourly_breach,
            reminded_for: r.reminded_for,
            dry_run: r.dry_run,
            public: r.public,
            declared_at: r.declared_at,
            resolved_at: r.resolved_at,
            services: Vec::new(),
        })
    }
}

/// An `incident_events` row with the actor's name.
#[derive(sqlx::FromRow)]
struct EventRow {
    kind: String,
    state: Option<String>,
    message: String,
    data: String,
    created_at: Timestamp,
    u_name: Option<String>,
}

impl TryFrom<EventRow> for IncidentEvent {
    type Error = StoreError;

    fn try_from(r: EventRow) -> Result<IncidentEvent> {
        Ok(IncidentEvent {
            kind: r.kind,
            state: r
                .state
                .map(|s| stored(IncidentState::parse, &s))
                .transpose()?,
            message: r.message,
            data: serde_json::from_str(&r.data).unwrap_or_default(),
            actor: r.u_name,
            at: r.created_at,
        })
    }
}

impl Store {
    /// Creates an incident with its first message (and the mails it sends), in one transaction.
    pub async fn declare_incident(&self, new: &NewIncident, mails: &[Mail]) -> Result<IncidentId> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        let resolved_at = (new.state == IncidentState::Resolved).then_some(now);
        let id: IncidentId = sqlx::query_scalar(
            "INSERT INTO incidents (title, impact, nature, state, eta, next_update_at, last_update_at, \
             dry_run, public, declared_by, declared_at, resolved_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $7, $11) RETURNING id",
        )
        .bind(&new.title)
        .bind(new.impact.as_str())
        .bind(&new.nature)
        .bind(new.state.as_str())
        .bind(&new.eta)
        .bind(new.next_update_at)
        .bind(now)
        .bind(i64::from(new.dry_run))
        .bind(i64::from(new.public))
        .bind(new.declared_by)
        .bind(resolved_at)
        .fetch_one(&mut *tx)
        .await?;
        for service in &new.services {
            sqlx::query("INSERT INTO incident_services (incident_id, service_id) VALUES ($1, $2)")
                .bind(id)
                .bind(service)
                .execute(&mut *tx)
                .await?;
        }
        let kind = if new.public { "declared" } else { "dismissed" };
        incident_event(&mut tx, id, Entry { kind, state: Some(new.state), message: &new.message, data: json!({"impact": new.impact, "nature": new.nature, "eta": new.eta, "next_update_at": new.next_update_at.map(Timestamp::as_millis),
                   "dry_run": new.dry_run, "recipients": mails.len()}), actor: Some(new.declared_by) }, now)
        .await?;
        crate::webhooks::announce_incident(&mut tx, id, kind, &new.message, now).await?;
        if let Some(group) = new.signal_group {
            let state = if new.public { "declared" } else { "dismissed" };
            sqlx::query("UPDATE signal_groups SET state = $1, incident_id = $2 WHERE id = $3")
                .bind(state)
                .bind(id)
                .bind(group)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(due) = new.postmortem_due {
            ensure_postmortem(&mut tx, id, due, now).await?;
        }
        insert_mails(&mut tx, mails, Some(id), now).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn with_services(&self, mut incidents: Vec<Incident>) -> Result<Vec<Incident>> {
        for incident in &mut incidents {
            let rows: Vec<ServiceRow> = sqlx::query_as(
                "SELECT s.id, s.slug, s.name, s.kind, s.group_name FROM incident_services i \
                 JOIN services s ON s.id = i.service_id WHERE i.incident_id = $1 ORDER BY s.name",
            )
            .bind(incident.id)
            .fetch_all(&self.read)
            .await?;
            incident.services = convert(rows)?;
        }
        Ok(incidents)
    }

    pub async fn incident(&self, id: IncidentId) -> Result<Incident> {
        let row: IncidentRow = sqlx::query_as("SELECT * FROM incidents WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(self.with_services(vec![row.try_into()?]).await?.remove(0))
    }

    /// Incidents declared since `since`, newest first; `open_only` keeps unresolved ones.
    pub async fn incidents(&self, since: Timestamp, open_only: bool) -> Result<Vec<Incident>> {
        let filter = if open_only {
            " AND state <> 'resolved'"
        } else {
            ""
        };
        let rows: Vec<IncidentRow> = sqlx::query_as(&format!(
            "SELECT * FROM incidents WHERE declared_at >= $1{filter} ORDER BY declared_at DESC, id DESC"
        ))
        .bind(since)
        .fetch_all(&self.read)
        .await?;
        self.with_services(convert(rows)?).await
    }

    pub async fn incident_events(&self, id: IncidentId) -> Result<Vec<IncidentEvent>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT e.kind, e.state, e.message, e.data, e.created_at, u.name AS u_name \
             FROM incident_events e LEFT JOIN users u ON u.id = e.actor_id WHERE e.incident_id = $1 ORDER BY e.id",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }

    /// Posts an update (and its mails) in one transaction; resolving closes the incident and
    /// opens its post-mortem.
    pub async fn add_incident_update(
        &self,
        id: IncidentId,
        update: &IncidentUpdate,
        mails: &[Mail],
    ) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        let resolved = update.state == IncidentState::Resolved;
        let done = sqlx::query(
            "UPDATE incidents SET state = $1, next_update_at = $2, last_update_at = $3, overdue = 0, \
             hourly_breach = 0, eta = COALESCE($4, eta), resolved_at = $5 WHERE id = $6 AND state <> 'resolved'",
        )
        .bind(update.state.as_str())
        .bind(update.next_update_at)
        .bind(now)
        .bind(update.eta.as_deref())
        .bind(resolved.then_some(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "the incident is already resolved".into(),
            ));
        }
        incident_event(&mut tx, id, Entry { kind: if resolved { "resolved" } else { "update" }, state: Some(update.state), message: &update.message, data: json!({"next_update_at": update.next_update_at.map(Timestamp::as_millis), "eta": update.eta, "recipients": mails.len()}), actor: Some(update.by) }, now)
        .await?;
        let kind = if resolved { "resolved" } else { "update" };
        crate::webhooks::announce_incident(&mut tx, id, kind, &update.message, now).await?;
        if let (true, Some(due)) = (resolved, update.postmortem_due) {
            ensure_postmortem(&mut tx, id, due, now).await?;
        }
        insert_mails(&mut tx, mails, Some(id), now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_long_resolution(&self, id: IncidentId, long: bool, by: UserId) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("UPDATE incidents SET long_resolution = $1 WHERE id = $2")
            .bind(i64::from(long))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        incident_event(
            &mut tx,
            id,
            Entry {
                kind: "long_resolution",
                state: None,
                message: "",
                data: json!({"long_resolution": long}),
                actor: Some(by),
            },
            Timestamp::now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a cadence finding once: `reminded` (with its mails) for a committed time,
    /// `overdue` or `hourly` when first noticed.
    pub async fn mark_cadence(
        &self,
        id: IncidentId,
        what: &str,
        next_update_at: Option<Timestamp>,
        mails: &[Mail],
    ) -> Result<bool> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        let sql = match what {
            "reminded" => "UPDATE incidents SET reminded_for = $2 WHERE id = $1 AND (reminded_for IS NULL OR reminded_for <> $2)",
            "overdue" => "UPDATE incidents SET overdue = 1 WHERE id = $1 AND overdue = 0 AND $2 = $2",
            _ => "UPDATE incidents SET hourly_breach = 1 WHERE id = $1 AND hourly_breach = 0 AND $2 = $2",
        };
        let done = sqlx::query(sql)
            .bind(id)
            .bind(next_update_at.unwrap_or(Timestamp::EPOCH))
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        incident_event(
            &mut tx,
            id,
            Entry {
                kind: what,
                state: None,
                message: "",
                data: json!({"next_update_at": next_update_at.map(Timestamp::as_millis)}),
                actor: None,
            },
            now,
        )
        .await?;
        insert_mails(&mut tx, mails, Some(id), now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
