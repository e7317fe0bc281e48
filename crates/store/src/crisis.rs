//! Crisis management storage: services and who uses them, the roster, signals, incidents and
//! their timeline, post-mortems, templates, status subscriptions, and the mail outbox.
//!
//! Every email is an `outbox` row written in the transaction of the change that causes it;
//! the mail worker claims due rows for a while (so one node sends each), and marks them sent.

use crate::models::{from_millis, stored};
use crate::sql::opt_i64;
use crate::{now_millis, Backend, Result, Store, StoreError};
use backline_domain::crisis::{
    Impact, IncidentState, RosterRole, ServiceKind, Template, TemplateKind,
};
use backline_domain::{OrgId, UserId};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub kind: ServiceKind,
    pub group: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RosterEntry {
    pub role: RosterRole,
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// An email to write to the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// What it is: `alert`, `update`, `resolved`, `postmortem`, `signal`, `reminder`, `confirm`.
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SignalGroup {
    pub id: i64,
    pub service: Option<Service>,
    pub group_key: String,
    pub title: String,
    pub state: String,
    pub signals: i64,
    pub firing: i64,
    pub first_at: i64,
    pub last_at: i64,
    pub incident_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewSignal {
    pub service: Option<i64>,
    pub group_key: String,
    pub title: String,
    pub detail: String,
    pub source: String,
    /// `firing` or `resolved`.
    pub status: String,
    pub reported_by: Option<UserId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IncidentEvent {
    pub kind: String,
    pub state: Option<IncidentState>,
    pub message: String,
    pub data: serde_json::Value,
    pub actor: Option<String>,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub id: i64,
    pub title: String,
    pub impact: Impact,
    pub nature: String,
    pub state: IncidentState,
    pub eta: String,
    pub next_update_at: Option<i64>,
    pub last_update_at: i64,
    pub long_resolution: bool,
    pub overdue: bool,
    pub hourly_breach: bool,
    pub reminded_for: Option<i64>,
    pub dry_run: bool,
    /// Dismissed signals become internal incidents: never on the status page or in mail.
    pub public: bool,
    pub declared_at: i64,
    pub resolved_at: Option<i64>,
    pub services: Vec<Service>,
}

#[derive(Debug, Clone)]
pub struct NewIncident {
    pub title: String,
    pub impact: Impact,
    pub nature: String,
    pub eta: String,
    pub next_update_at: Option<i64>,
    pub message: String,
    pub services: Vec<i64>,
    pub declared_by: UserId,
    pub dry_run: bool,
    pub public: bool,
    pub state: IncidentState,
    /// The signal group this qualifies, if any.
    pub signal_group: Option<i64>,
    /// For incidents created resolved (dismissed signals): when the post-mortem is due.
    pub postmortem_due: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct IncidentUpdate {
    pub state: IncidentState,
    pub message: String,
    pub next_update_at: Option<i64>,
    pub eta: Option<String>,
    pub by: UserId,
    /// When resolving: the post-mortem's due time.
    pub postmortem_due: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Postmortem {
    pub incident_id: i64,
    pub summary: String,
    pub root_cause: String,
    pub category: String,
    pub action_items: serde_json::Value,
    pub internal_report: String,
    pub customer_edition: String,
    pub due_at: i64,
    pub executive_review: bool,
    pub published_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub kind: String,
    pub created_at: i64,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

fn service_from(row: &AnyRow, prefix: &str) -> Result<Service> {
    let col = |c: &str| format!("{prefix}{c}");
    Ok(Service {
        id: row.try_get(col("id").as_str())?,
        slug: row.try_get(col("slug").as_str())?,
        name: row.try_get(col("name").as_str())?,
        kind: stored(
            ServiceKind::parse,
            &row.try_get::<String, _>(col("kind").as_str())?,
        )?,
        group: row.try_get(col("group_name").as_str())?,
    })
}

pub(crate) async fn insert_mails(
    tx: &mut Transaction<'_, Any>,
    mails: &[Mail],
    incident: Option<i64>,
    at: i64,
) -> Result<()> {
    for mail in mails {
        sqlx::query(
            "INSERT INTO outbox (recipient, subject, body, kind, incident_id, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&mail.recipient)
        .bind(&mail.subject)
        .bind(&mail.body)
        .bind(&mail.kind)
        .bind(incident)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// One entry of an incident's timeline.
struct Entry<'a> {
    kind: &'a str,
    state: Option<IncidentState>,
    message: &'a str,
    data: serde_json::Value,
    actor: Option<UserId>,
}

async fn incident_event(
    tx: &mut Transaction<'_, Any>,
    incident: i64,
    e: Entry<'_>,
    at: i64,
) -> Result<()> {
    let Entry {
        kind,
        state,
        message,
        data,
        actor,
    } = e;
    sqlx::query(
        "INSERT INTO incident_events (incident_id, kind, state, message, data, actor_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(incident)
    .bind(kind)
    .bind(state.map(|s| s.as_str()))
    .bind(message)
    .bind(data.to_string())
    .bind(actor.map(|a| a.0))
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn ensure_postmortem(
    tx: &mut Transaction<'_, Any>,
    incident: i64,
    due: i64,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO postmortems (incident_id, due_at, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (incident_id) DO NOTHING",
    )
    .bind(incident)
    .bind(due)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    pub async fn create_service(
        &self,
        slug: &str,
        name: &str,
        kind: ServiceKind,
        group: &str,
    ) -> Result<Service> {
        sqlx::query("INSERT INTO services (slug, name, kind, group_name, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(slug)
            .bind(name)
            .bind(kind.as_str())
            .bind(group)
            .bind(now_millis())
            .execute(&self.write)
            .await
            .map_err(StoreError::unique("a service with this slug already exists"))?;
        self.service_by_slug(slug).await
    }

    pub async fn services(&self) -> Result<Vec<Service>> {
        let rows = sqlx::query(
            "SELECT id, slug, name, kind, group_name FROM services ORDER BY group_name, name",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(|r| service_from(r, "")).collect()
    }

    pub async fn service_by_slug(&self, slug: &str) -> Result<Service> {
        let row =
            sqlx::query("SELECT id, slug, name, kind, group_name FROM services WHERE slug = $1")
                .bind(slug)
                .fetch_optional(&self.read)
                .await?
                .ok_or(StoreError::NotFound)?;
        service_from(&row, "")
    }

    /// Replaces the customer organisations that use a service.
    pub async fn set_service_customers(&self, service: i64, orgs: &[OrgId]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM service_usage WHERE service_id = $1")
            .bind(service)
            .execute(&mut *tx)
            .await?;
        for org in orgs {
            sqlx::query("INSERT INTO service_usage (org_id, service_id) VALUES ($1, $2)")
                .bind(org.0)
                .bind(service)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// (organisation, service) pairs: who uses what.
    pub async fn service_usage(&self) -> Result<Vec<(OrgId, i64)>> {
        let rows = sqlx::query("SELECT org_id, service_id FROM service_usage")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| Ok((OrgId(r.try_get("org_id")?), r.try_get("service_id")?)))
            .collect()
    }

    pub async fn roster(&self) -> Result<Vec<RosterEntry>> {
        let rows = sqlx::query("SELECT role, name, email, phone FROM roster ORDER BY role, name")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(RosterEntry {
                    role: stored(RosterRole::parse, &r.try_get::<String, _>("role")?)?,
                    name: r.try_get("name")?,
                    email: r.try_get("email")?,
                    phone: r.try_get("phone")?,
                })
            })
            .collect()
    }

    pub async fn set_roster(&self, entries: &[RosterEntry]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM roster").execute(&mut *tx).await?;
        for e in entries {
            sqlx::query("INSERT INTO roster (role, name, email, phone) VALUES ($1, $2, $3, $4)")
                .bind(e.role.as_str())
                .bind(&e.name)
                .bind(&e.email)
                .bind(&e.phone)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Confirmed status-page subscriptions: (email, service, unsubscribe token).
    pub async fn confirmed_subscribers(&self) -> Result<Vec<(String, i64, String)>> {
        let rows = sqlx::query(
            "SELECT email, service_id, token FROM status_subscriptions WHERE confirmed_at IS NOT NULL",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("email")?,
                    r.try_get("service_id")?,
                    r.try_get("token")?,
                ))
            })
            .collect()
    }

    /// Records a signal, gathering it into the open group with the same key. A new group
    /// alerts the support team: `alert_if_new` is written to the outbox in the same
    /// transaction, only then. Returns the group and whether it is new.
    pub async fn record_signal(
        &self,
        signal: &NewSignal,
        alert_if_new: &[Mail],
    ) -> Result<(i64, bool)> {
        let now = now_millis();
        let mut tx = self.write.begin().await?;
        let lock = if self.backend == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let open = sqlx::query(&format!(
            "SELECT id FROM signal_groups WHERE group_key = $1 AND state = 'open' ORDER BY id DESC LIMIT 1{lock}"
        ))
        .bind(&signal.group_key)
        .fetch_optional(&mut *tx)
        .await?;
        let firing = i64::from(signal.status == "firing");
        let (group, created) = match open {
            Some(row) => {
                let id: i64 = row.try_get("id")?;
                sqlx::query("UPDATE signal_groups SET signals = signals + 1, firing = firing + $1, last_at = $2 WHERE id = $3")
                    .bind(firing)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                (id, false)
            }
            None => {
                let row = sqlx::query(
                    "INSERT INTO signal_groups (service_id, group_key, title, state, signals, firing, first_at, last_at) \
                     VALUES ($1, $2, $3, 'open', 1, $4, $5, $5) RETURNING id",
                )
                .bind(signal.service)
                .bind(&signal.group_key)
                .bind(&signal.title)
                .bind(firing)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                (row.try_get::<i64, _>("id")?, true)
            }
        };
        sqlx::query(
            "INSERT INTO signals (group_id, source, status, title, detail, reported_by, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(group)
        .bind(&signal.source)
        .bind(&signal.status)
        .bind(&signal.title)
        .bind(&signal.detail)
        .bind(signal.reported_by.map(|u| u.0))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if created {
            insert_mails(&mut tx, alert_if_new, None, now).await?;
        }
        tx.commit().await?;
        Ok((group, created))
    }

    pub async fn signal_groups(&self, open_only: bool) -> Result<Vec<SignalGroup>> {
        let filter = if open_only {
            "WHERE g.state = 'open'"
        } else {
            ""
        };
        let rows = sqlx::query(&format!(
            "SELECT g.*, s.id AS s_id, s.slug AS s_slug, s.name AS s_name, s.kind AS s_kind, s.group_name AS s_group_name \
             FROM signal_groups g LEFT JOIN services s ON s.id = g.service_id {filter} ORDER BY g.last_at DESC LIMIT 200"
        ))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SignalGroup {
                    id: r.try_get("id")?,
                    service: match opt_i64(r, "s_id")? {
                        Some(_) => Some(service_from(r, "s_")?),
                        None => None,
                    },
                    group_key: r.try_get("group_key")?,
                    title: r.try_get("title")?,
                    state: r.try_get("state")?,
                    signals: r.try_get("signals")?,
                    firing: r.try_get("firing")?,
                    first_at: r.try_get("first_at")?,
                    last_at: r.try_get("last_at")?,
                    incident_id: opt_i64(r, "incident_id")?,
                })
            })
            .collect()
    }

    /// Creates an incident with its first message (and the mails it sends), in one transaction.
    pub async fn declare_incident(&self, new: &NewIncident, mails: &[Mail]) -> Result<i64> {
        let now = now_millis();
        let mut tx = self.write.begin().await?;
        let resolved_at = (new.state == IncidentState::Resolved).then_some(now);
        let row = sqlx::query(
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
        .bind(new.declared_by.0)
        .bind(resolved_at)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        for service in &new.services {
            sqlx::query("INSERT INTO incident_services (incident_id, service_id) VALUES ($1, $2)")
                .bind(id)
                .bind(service)
                .execute(&mut *tx)
                .await?;
        }
        let kind = if new.public { "declared" } else { "dismissed" };
        incident_event(&mut tx, id, Entry { kind, state: Some(new.state), message: &new.message, data: json!({"impact": new.impact, "nature": new.nature, "eta": new.eta, "next_update_at": new.next_update_at,
                   "dry_run": new.dry_run, "recipients": mails.len()}), actor: Some(new.declared_by) }, now)
        .await?;
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

    fn incident_from(row: &AnyRow) -> Result<Incident> {
        Ok(Incident {
            id: row.try_get("id")?,
            title: row.try_get("title")?,
            impact: stored(Impact::parse, &row.try_get::<String, _>("impact")?)?,
            nature: row.try_get("nature")?,
            state: stored(IncidentState::parse, &row.try_get::<String, _>("state")?)?,
            eta: row.try_get("eta")?,
            next_update_at: opt_i64(row, "next_update_at")?,
            last_update_at: row.try_get("last_update_at")?,
            long_resolution: row.try_get::<i64, _>("long_resolution")? != 0,
            overdue: row.try_get::<i64, _>("overdue")? != 0,
            hourly_breach: row.try_get::<i64, _>("hourly_breach")? != 0,
            reminded_for: opt_i64(row, "reminded_for")?,
            dry_run: row.try_get::<i64, _>("dry_run")? != 0,
            public: row.try_get::<i64, _>("public")? != 0,
            declared_at: row.try_get("declared_at")?,
            resolved_at: opt_i64(row, "resolved_at")?,
            services: Vec::new(),
        })
    }

    async fn with_services(&self, mut incidents: Vec<Incident>) -> Result<Vec<Incident>> {
        for incident in &mut incidents {
            let rows = sqlx::query(
                "SELECT s.id, s.slug, s.name, s.kind, s.group_name FROM incident_services i \
                 JOIN services s ON s.id = i.service_id WHERE i.incident_id = $1 ORDER BY s.name",
            )
            .bind(incident.id)
            .fetch_all(&self.read)
            .await?;
            incident.services = rows
                .iter()
                .map(|r| service_from(r, ""))
                .collect::<Result<_>>()?;
        }
        Ok(incidents)
    }

    pub async fn incident(&self, id: i64) -> Result<Incident> {
        let row = sqlx::query("SELECT * FROM incidents WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        let incident = Self::incident_from(&row)?;
        Ok(self.with_services(vec![incident]).await?.remove(0))
    }

    /// Incidents declared since `since_ms`, newest first; `open_only` keeps unresolved ones.
    pub async fn incidents(&self, since_ms: i64, open_only: bool) -> Result<Vec<Incident>> {
        let filter = if open_only {
            " AND state <> 'resolved'"
        } else {
            ""
        };
        let rows = sqlx::query(&format!(
            "SELECT * FROM incidents WHERE declared_at >= $1{filter} ORDER BY declared_at DESC, id DESC"
        ))
        .bind(since_ms)
        .fetch_all(&self.read)
        .await?;
        let list = rows
            .iter()
            .map(Self::incident_from)
            .collect::<Result<Vec<_>>>()?;
        self.with_services(list).await
    }

    pub async fn incident_events(&self, id: i64) -> Result<Vec<IncidentEvent>> {
        let rows = sqlx::query(
            "SELECT e.kind, e.state, e.message, e.data, e.created_at, u.name AS u_name \
             FROM incident_events e LEFT JOIN users u ON u.id = e.actor_id WHERE e.incident_id = $1 ORDER BY e.id",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(IncidentEvent {
                    kind: r.try_get("kind")?,
                    state: r
                        .try_get::<Option<String>, _>("state")?
                        .map(|s| stored(IncidentState::parse, &s))
                        .transpose()?,
                    message: r.try_get("message")?,
                    data: serde_json::from_str(&r.try_get::<String, _>("data")?)
                        .unwrap_or_default(),
                    actor: r.try_get("u_name")?,
                    at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Posts an update (and its mails) in one transaction; resolving closes the incident and
    /// opens its post-mortem.
    pub async fn add_incident_update(
        &self,
        id: i64,
        update: &IncidentUpdate,
        mails: &[Mail],
    ) -> Result<()> {
        let now = now_millis();
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
        incident_event(&mut tx, id, Entry { kind: if resolved { "resolved" } else { "update" }, state: Some(update.state), message: &update.message, data: json!({"next_update_at": update.next_update_at, "eta": update.eta, "recipients": mails.len()}), actor: Some(update.by) }, now)
        .await?;
        if let (true, Some(due)) = (resolved, update.postmortem_due) {
            ensure_postmortem(&mut tx, id, due, now).await?;
        }
        insert_mails(&mut tx, mails, Some(id), now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_long_resolution(&self, id: i64, long: bool, by: UserId) -> Result<()> {
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
            now_millis(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a cadence finding once: `reminded` (with its mails) for a committed time,
    /// `overdue` or `hourly` when first noticed.
    pub async fn mark_cadence(
        &self,
        id: i64,
        what: &str,
        next_update_at: Option<i64>,
        mails: &[Mail],
    ) -> Result<bool> {
        let now = now_millis();
        let mut tx = self.write.begin().await?;
        let sql = match what {
            "reminded" => "UPDATE incidents SET reminded_for = $2 WHERE id = $1 AND (reminded_for IS NULL OR reminded_for <> $2)",
            "overdue" => "UPDATE incidents SET overdue = 1 WHERE id = $1 AND overdue = 0 AND $2 = $2",
            _ => "UPDATE incidents SET hourly_breach = 1 WHERE id = $1 AND hourly_breach = 0 AND $2 = $2",
        };
        let done = sqlx::query(sql)
            .bind(id)
            .bind(next_update_at.unwrap_or(0))
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
                data: json!({"next_update_at": next_update_at}),
                actor: None,
            },
            now,
        )
        .await?;
        insert_mails(&mut tx, mails, Some(id), now).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn postmortem(&self, incident: i64) -> Result<Option<Postmortem>> {
        let row = sqlx::query("SELECT * FROM postmortems WHERE incident_id = $1")
            .bind(incident)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| {
            Ok(Postmortem {
                incident_id: r.try_get("incident_id")?,
                summary: r.try_get("summary")?,
                root_cause: r.try_get("root_cause")?,
                category: r.try_get("category")?,
                action_items: serde_json::from_str(&r.try_get::<String, _>("action_items")?)
                    .unwrap_or_default(),
                internal_report: r.try_get("internal_report")?,
                customer_edition: r.try_get("customer_edition")?,
                due_at: r.try_get("due_at")?,
                executive_review: r.try_get::<i64, _>("executive_review")? != 0,
                published_at: opt_i64(&r, "published_at")?,
            })
        })
        .transpose()
    }

    pub async fn save_postmortem(&self, pm: &Postmortem, by: UserId) -> Result<()> {
        let now = now_millis();
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE postmortems SET summary = $1, root_cause = $2, category = $3, action_items = $4, \
             internal_report = $5, customer_edition = $6, executive_review = $7, updated_at = $8 WHERE incident_id = $9",
        )
        .bind(&pm.summary)
        .bind(&pm.root_cause)
        .bind(pm.category.trim().to_lowercase())
        .bind(pm.action_items.to_string())
        .bind(&pm.internal_report)
        .bind(&pm.customer_edition)
        .bind(i64::from(pm.executive_review))
        .bind(now)
        .bind(pm.incident_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        incident_event(
            &mut tx,
            pm.incident_id,
            Entry {
                kind: "postmortem_saved",
                state: None,
                message: "",
                data: json!({"category": pm.category, "executive_review": pm.executive_review}),
                actor: Some(by),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn publish_postmortem(
        &self,
        incident: i64,
        by: UserId,
        mails: &[Mail],
    ) -> Result<()> {
        let now = now_millis();
        let mut tx = self.write.begin().await?;
        let done = sqlx::query("UPDATE postmortems SET published_at = $1 WHERE incident_id = $2 AND published_at IS NULL")
            .bind(now)
            .bind(incident)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "the post-mortem is already published, or there is none".into(),
            ));
        }
        incident_event(
            &mut tx,
            incident,
            Entry {
                kind: "postmortem_published",
                state: None,
                message: "",
                data: json!({"recipients": mails.len()}),
                actor: Some(by),
            },
            now,
        )
        .await?;
        insert_mails(&mut tx, mails, Some(incident), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Root-cause categories of other incidents, with when those incidents were declared.
    pub async fn cause_history(&self, except: i64) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT p.category, i.declared_at FROM postmortems p JOIN incidents i ON i.id = p.incident_id \
             WHERE p.category <> '' AND p.incident_id <> $1",
        )
        .bind(except)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("category")?, r.try_get("declared_at")?)))
            .collect()
    }

    pub async fn template(&self, kind: TemplateKind) -> Result<Option<Template>> {
        let row = sqlx::query("SELECT subject, body FROM templates WHERE kind = $1")
            .bind(kind.as_str())
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| {
            Ok(Template {
                subject: r.try_get("subject")?,
                body: r.try_get("body")?,
            })
        })
        .transpose()
    }

    pub async fn set_template(&self, kind: TemplateKind, template: &Template) -> Result<()> {
        sqlx::query(
            "INSERT INTO templates (kind, subject, body, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind) DO UPDATE SET subject = excluded.subject, body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(kind.as_str())
        .bind(&template.subject)
        .bind(&template.body)
        .bind(now_millis())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Adds (or renews) unconfirmed subscriptions and their confirmation mail, in one transaction.
    /// `rows` are (service, token); an already confirmed subscription is left alone.
    pub async fn subscribe(
        &self,
        email: &str,
        rows: &[(i64, String)],
        confirmation: &Mail,
    ) -> Result<()> {
        let now = now_millis();
        let mut tx = self.write.begin().await?;
        for (service, token) in rows {
            sqlx::query(
                "INSERT INTO status_subscriptions (email, service_id, token, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (email, service_id) DO UPDATE SET token = CASE WHEN status_subscriptions.confirmed_at IS NULL \
                 THEN excluded.token ELSE status_subscriptions.token END",
            )
            .bind(email)
            .bind(service)
            .bind(token)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        insert_mails(&mut tx, std::slice::from_ref(confirmation), None, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Confirms every subscription carrying this token; returns how many.
    pub async fn confirm_subscription(&self, token: &str) -> Result<u64> {
        let done = sqlx::query("UPDATE status_subscriptions SET confirmed_at = $1 WHERE token = $2 AND confirmed_at IS NULL")
            .bind(now_millis())
            .bind(token)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn unsubscribe(&self, token: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM status_subscriptions WHERE token = $1")
            .bind(token)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }

    /// Writes mails that belong to no other change (tests, drills' roster notes).
    pub async fn enqueue_mails(&self, mails: &[Mail], incident: Option<i64>) -> Result<()> {
        let mut tx = self.write.begin().await?;
        insert_mails(&mut tx, mails, incident, now_millis()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Claims up to `limit` due mails for `lease_ms`: no other node takes them meanwhile.
    pub async fn claim_mails(&self, limit: i64, lease_ms: i64) -> Result<Vec<OutboxMail>> {
        let now = now_millis();
        let pick = "SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 \
                    AND (claimed_until IS NULL OR claimed_until < $2) ORDER BY id LIMIT $3";
        let skip = if self.backend == Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let rows = sqlx::query(&format!(
            "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1 WHERE id IN ({pick}{skip}) \
             RETURNING id, recipient, subject, body, attempts"
        ))
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.write)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxMail {
                    id: r.try_get("id")?,
                    recipient: r.try_get("recipient")?,
                    subject: r.try_get("subject")?,
                    body: r.try_get("body")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect()
    }

    pub async fn mail_sent(&self, id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET sent_at = $1, claimed_until = NULL, last_error = NULL WHERE id = $2",
        )
        .bind(now_millis())
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// A failed attempt: retry at `retry_at`, or give up when `None`.
    pub async fn mail_failed(&self, id: i64, error: &str, retry_at: Option<i64>) -> Result<()> {
        let now = now_millis();
        sqlx::query(
            "UPDATE outbox SET claimed_until = NULL, last_error = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
             failed_at = CASE WHEN $2 IS NULL THEN $3 ELSE NULL END WHERE id = $4",
        )
        .bind(error)
        .bind(retry_at)
        .bind(now)
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn notifications(&self, incident: i64) -> Result<Vec<Notification>> {
        let rows = sqlx::query(
            "SELECT id, recipient, subject, kind, created_at, attempts, sent_at, failed_at, last_error \
             FROM outbox WHERE incident_id = $1 ORDER BY id",
        )
        .bind(incident)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Notification {
                    id: r.try_get("id")?,
                    recipient: r.try_get("recipient")?,
                    subject: r.try_get("subject")?,
                    kind: r.try_get("kind")?,
                    created_at: r.try_get("created_at")?,
                    attempts: r.try_get("attempts")?,
                    sent_at: opt_i64(r, "sent_at")?,
                    failed_at: opt_i64(r, "failed_at")?,
                    last_error: r.try_get("last_error")?,
                })
            })
            .collect()
    }

    /// Mails waiting to be sent (for `/metrics`).
    pub async fn outbox_pending(&self) -> Result<i64> {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
        )
        .fetch_one(&self.read)
        .await?
        .try_get("n")?)
    }
}

/// When a time is shown in messages: `2026-11-23 15:30 UTC`.
pub fn format_time(ms: i64) -> String {
    let at = from_millis(ms);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}
