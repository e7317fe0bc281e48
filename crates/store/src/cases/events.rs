//! The audit trail: one `case_events` row per change, written in the change's transaction.

use crate::rows::{convert, corrupt, MaybeUserCols};
use crate::{CaseEvent, Result, Store, StoreError};
use backline_domain::analytics::HistoryMark;
use backline_domain::{CaseId, Timestamp, UserId};
use sqlx::{Any, Transaction};

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    case_id: CaseId,
    kind: String,
    data: String,
    created_at: Timestamp,
    #[sqlx(flatten)]
    actor: MaybeUserCols,
}

impl TryFrom<EventRow> for CaseEvent {
    type Error = StoreError;

    fn try_from(r: EventRow) -> Result<CaseEvent> {
        Ok(CaseEvent {
            id: r.id,
            case_id: r.case_id,
            actor: r.actor.into(),
            kind: r.kind,
            data: serde_json::from_str(&r.data).map_err(corrupt)?,
            created_at: r.created_at,
        })
    }
}

pub(crate) async fn record_event(
    tx: &mut Transaction<'_, Any>,
    case: CaseId,
    actor: Option<UserId>,
    kind: &str,
    data: serde_json::Value,
    at: Timestamp,
) -> Result<()> {
    sqlx::query("INSERT INTO case_events (case_id, actor_id, kind, data, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(case)
        .bind(actor)
        .bind(kind)
        .bind(data.to_string())
        .bind(at)
        .execute(&mut **tx)
        .await?;
    // The times dashboard's counts, kept on the case in the event's transaction.
    let from = match &data["from"] {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    };
    let counter = match backline_domain::analytics::history_mark(kind, from.as_deref()) {
        Some(HistoryMark::Handoff) => "handoffs",
        Some(HistoryMark::Reopening) => "reopens",
        None => return Ok(()),
    };
    sqlx::query(&format!(
        "UPDATE cases SET {counter} = {counter} + 1 WHERE id = $1"
    ))
    .bind(case)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Records an event on a case that changes none of its fields (a swarm request, say).
    pub async fn record_case_event(
        &self,
        case: CaseId,
        actor: UserId,
        kind: &str,
        data: serde_json::Value,
    ) -> Result<()> {
        let mut tx = self.write.begin().await?;
        record_event(&mut tx, case, Some(actor), kind, data, Timestamp::now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The case's audit trail, oldest first.
    pub async fn case_events(&self, case: CaseId) -> Result<Vec<CaseEvent>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT e.id, e.case_id, e.kind, e.data, e.created_at, \
             u.id AS u_id, u.name AS u_name, u.email AS u_email \
             FROM case_events e LEFT JOIN users u ON u.id = e.actor_id \
             WHERE e.case_id = $1 ORDER BY e.id",
        )
        .bind(case)
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }
}
