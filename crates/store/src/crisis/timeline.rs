//! An incident's timeline: every declaration, update, reminder and post-mortem step is one
//! `incident_events` row, written in the transaction of the change it records.

use crate::Result;
use backline_domain::crisis::IncidentState;
use backline_domain::{IncidentId, Timestamp, UserId};
use sqlx::{Any, Transaction};

/// One entry of an incident's timeline.
pub(super) struct Entry<'a> {
    pub kind: &'a str,
    pub state: Option<IncidentState>,
    pub message: &'a str,
    pub data: serde_json::Value,
    pub actor: Option<UserId>,
}

pub(super) async fn incident_event(
    tx: &mut Transaction<'_, Any>,
    incident: IncidentId,
    e: Entry<'_>,
    at: Timestamp,
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
    .bind(actor)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
