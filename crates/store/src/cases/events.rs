//! The audit trail: one `case_events` row per change, written in the change's transaction.

use crate::sql::opt_i64;
use crate::{CaseEvent, Result, Store, StoreError, UserRef};
use backline_domain::{CaseId, Timestamp, UserId};
use sqlx::{Any, Row, Transaction};

pub(crate) async fn record_event(
    tx: &mut Transaction<'_, Any>,
    case: CaseId,
    actor: Option<UserId>,
    kind: &str,
    data: serde_json::Value,
    at: Timestamp,
) -> Result<()> {
    sqlx::query("INSERT INTO case_events (case_id, actor_id, kind, data, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(case.0)
        .bind(actor.map(|a| a.0))
        .bind(kind)
        .bind(data.to_string())
        .bind(at)
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
        let rows = sqlx::query(
            "SELECT e.id, e.case_id, e.kind, e.data, e.created_at, \
             u.id AS u_id, u.name AS u_name, u.email AS u_email \
             FROM case_events e LEFT JOIN users u ON u.id = e.actor_id \
             WHERE e.case_id = $1 ORDER BY e.id",
        )
        .bind(case.0)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let actor = match opt_i64(row, "u_id")? {
                    Some(id) => Some(UserRef {
                        id: UserId(id),
                        name: row.try_get("u_name")?,
                        email: row.try_get("u_email")?,
                    }),
                    None => None,
                };
                Ok(CaseEvent {
                    id: row.try_get("id")?,
                    case_id: CaseId(row.try_get("case_id")?),
                    actor,
                    kind: row.try_get("kind")?,
                    data: serde_json::from_str(&row.try_get::<String, _>("data")?)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }
}
