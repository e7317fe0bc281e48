//! Signals (alerts and reports) gathered into groups waiting to be qualified.

use super::outbox::{insert_mails, Mail};
use super::services::{Service, ServiceRow};
use crate::rows::convert;
use crate::{Backend, Result, Store, StoreError};
use backline_domain::{IncidentId, ServiceId, SignalGroupId, Timestamp, UserId};

#[derive(Debug, Clone, PartialEq)]
pub struct SignalGroup {
    pub id: SignalGroupId,
    pub service: Option<Service>,
    pub group_key: String,
    pub title: String,
    pub state: String,
    pub signals: i64,
    pub firing: i64,
    pub first_at: Timestamp,
    pub last_at: Timestamp,
    pub incident_id: Option<IncidentId>,
}

#[derive(Debug, Clone)]
pub struct NewSignal {
    pub service: Option<ServiceId>,
    pub group_key: String,
    pub title: String,
    pub detail: String,
    pub source: String,
    /// `firing` or `resolved`.
    pub status: String,
    pub reported_by: Option<UserId>,
}

/// A `signal_groups` row with its service, if any, as `s_id`, `s_slug`...
#[derive(sqlx::FromRow)]
struct SignalGroupRow {
    id: SignalGroupId,
    group_key: String,
    title: String,
    state: String,
    signals: i64,
    firing: i64,
    first_at: Timestamp,
    last_at: Timestamp,
    incident_id: Option<IncidentId>,
    s_id: Option<ServiceId>,
    s_slug: Option<String>,
    s_name: Option<String>,
    s_kind: Option<String>,
    s_group_name: Option<String>,
}

impl TryFrom<SignalGroupRow> for SignalGroup {
    type Error = StoreError;

    fn try_from(r: SignalGroupRow) -> Result<SignalGroup> {
        let service = match (r.s_id, r.s_slug, r.s_name, r.s_kind, r.s_group_name) {
            (Some(id), Some(slug), Some(name), Some(kind), Some(group_name)) => Some(
                ServiceRow {
                    id,
                    slug,
                    name,
                    kind,
                    group_name,
                }
                .try_into()?,
            ),
            _ => None,
        };
        Ok(SignalGroup {
            id: r.id,
            service,
            group_key: r.group_key,
            title: r.title,
            state: r.state,
            signals: r.signals,
            firing: r.firing,
            first_at: r.first_at,
            last_at: r.last_at,
            incident_id: r.incident_id,
        })
    }
}

impl Store {
    /// Records a signal, gathering it into the open group with the same key. A new group
    /// alerts the support team: `alert_if_new` is written to the outbox in the same
    /// transaction, only then. Returns the group and whether it is new.
    pub async fn record_signal(
        &self,
        signal: &NewSignal,
        alert_if_new: &[Mail],
    ) -> Result<(SignalGroupId, bool)> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        let lock = if self.backend == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let open: Option<SignalGroupId> = sqlx::query_scalar(&format!(
            "SELECT id FROM signal_groups WHERE group_key = $1 AND state = 'open' ORDER BY id DESC LIMIT 1{lock}"
        ))
        .bind(&signal.group_key)
        .fetch_optional(&mut *tx)
        .await?;
        let firing = i64::from(signal.status == "firing");
        let (group, created) = match open {
            Some(id) => {
                sqlx::query("UPDATE signal_groups SET signals = signals + 1, firing = firing + $1, last_at = $2 WHERE id = $3")
                    .bind(firing)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                (id, false)
            }
            None => {
                let id = sqlx::query_scalar(
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
                (id, true)
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
        .bind(signal.reported_by)
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
        let rows: Vec<SignalGroupRow> = sqlx::query_as(&format!(
            "SELECT g.*, s.id AS s_id, s.slug AS s_slug, s.name AS s_name, s.kind AS s_kind, s.group_name AS s_group_name \
             FROM signal_groups g LEFT JOIN services s ON s.id = g.service_id {filter} ORDER BY g.last_at DESC LIMIT 200"
        ))
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }
}
