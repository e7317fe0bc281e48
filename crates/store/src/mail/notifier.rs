//! The notifier's side of storage: the case events it has not announced yet, and the mail
//! it writes for them, committed together with its new place in the events. The place moves
//! by compare-and-set, so when several nodes run the notifier each event is announced once.

use crate::{Result, Store};
use backline_domain::{CaseId, Timestamp, UserId};
use sqlx::FromRow;

/// A case event as the notifier reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifierEvent {
    pub id: i64,
    pub case_id: CaseId,
    pub actor: Option<UserId>,
    pub kind: String,
    pub data: serde_json::Value,
}

#[derive(FromRow)]
struct EventRow {
    id: i64,
    case_id: CaseId,
    actor_id: Option<UserId>,
    kind: String,
    data: String,
}

/// A mail about a case, for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseMail {
    pub case: CaseId,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// The domain's `OutgoingKind` (`acknowledgement`, `reply`...): it decides the headers.
    pub kind: String,
}

impl Store {
    /// Where the notifier stands and the next events after it, oldest first.
    pub async fn notifier_events(&self, limit: i64) -> Result<(i64, Vec<NotifierEvent>)> {
        let cursor: i64 = sqlx::query_scalar(
            "SELECT last_event_id FROM notifier_cursor WHERE name = 'case_events'",
        )
        .fetch_one(&self.read)
        .await?;
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT id, case_id, actor_id, kind, data FROM case_events WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(cursor)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        let events = rows
            .into_iter()
            .map(|r| NotifierEvent {
                id: r.id,
                case_id: r.case_id,
                actor: r.actor_id,
                kind: r.kind,
                // Event data is ours and always JSON; an unreadable one announces nothing.
                data: serde_json::from_str(&r.data).unwrap_or(serde_json::Value::Null),
            })
            .collect();
        Ok((cursor, events))
    }

    /// Moves the notifier past every event so far, announcing none of them (imported or demo
    /// history is not news).
    pub async fn notifications_caught_up(&self) -> Result<()> {
        sqlx::query(
            "UPDATE notifier_cursor SET last_event_id = \
             (SELECT COALESCE(MAX(id), 0) FROM case_events) WHERE name = 'case_events'",
        )
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Writes `mails` and moves the notifier from `from` to `to` in one transaction. `false`
    /// when another node moved it first: nothing is written, and the caller reads again.
    pub async fn write_notifications(
        &self,
        from: i64,
        to: i64,
        mails: &[CaseMail],
    ) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        let moved = sqlx::query(
            "UPDATE notifier_cursor SET last_event_id = $1 WHERE name = 'case_events' AND last_event_id = $2",
        )
        .bind(to)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let now = Timestamp::now();
        for mail in mails {
            sqlx::query(
                "INSERT INTO outbox (recipient, subject, body, kind, case_id, created_at, next_attempt_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(&mail.recipient)
            .bind(&mail.subject)
            .bind(&mail.body)
            .bind(&mail.kind)
            .bind(mail.case)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The case each of these outbox mails was about (for threading a reply by its headers).
    pub async fn cases_of_outbox(&self, ids: &[i64]) -> Result<Vec<(i64, CaseId)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        Ok(sqlx::query_as(&format!(
            "SELECT id, case_id FROM outbox WHERE case_id IS NOT NULL AND id IN ({list})"
        ))
        .fetch_all(&self.read)
        .await?)
    }

    /// Who an outbox mail went to (for a bounce that returns it).
    pub async fn outbox_recipient(&self, id: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT recipient FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    /// The case a received message's Message-ID was placed on (a reply may answer the
    /// customer's own earlier message, not ours).
    pub async fn case_of_inbound_key(&self, keys: &[String]) -> Result<Vec<(String, CaseId)>> {
        let mut out = Vec::new();
        for key in keys {
            let case: Option<CaseId> = sqlx::query_scalar(
                "SELECT case_id FROM inbound_mail WHERE dedup_key = $1 AND case_id IS NOT NULL",
            )
            .bind(key)
            .fetch_optional(&self.read)
            .await?;
            if let Some(case) = case {
                out.push((key.clone(), case));
            }
        }
        Ok(out)
    }

    /// The ids of the case's thread so far, oldest first: the messages received on it (their
    /// keys) and our earlier mails to `recipient` (outbox ids), for References.
    pub async fn case_thread(
        &self,
        case: CaseId,
        recipient: &str,
        before_outbox: i64,
    ) -> Result<(Vec<String>, Vec<i64>)> {
        let received: Vec<String> = sqlx::query_scalar(
            "SELECT dedup_key FROM inbound_mail WHERE case_id = $1 AND dedup_key IS NOT NULL ORDER BY id",
        )
        .bind(case)
        .fetch_all(&self.read)
        .await?;
        let sent: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM outbox WHERE case_id = $1 AND recipient = $2 AND id < $3 ORDER BY id",
        )
        .bind(case)
        .bind(recipient)
        .bind(before_outbox)
        .fetch_all(&self.read)
        .await?;
        Ok((received, sent))
    }
}
