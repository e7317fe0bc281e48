//! The mail outbox: every email is a row written in the transaction of the change that causes
//! it; the mail worker claims due rows for a while (so one node sends each), and marks them
//! sent or failed.

use crate::{Backend, Result, Store};
use backline_domain::{IncidentId, Span, Timestamp};
use sqlx::{Any, Transaction};

/// An email to write to the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// What it is: `alert`, `update`, `resolved`, `postmortem`, `signal`, `reminder`, `confirm`.
    pub kind: String,
    /// For subscription mail: where the recipient unsubscribes with one click (sent as
    /// `List-Unsubscribe`).
    pub unsubscribe: Option<String>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub kind: String,
    pub created_at: Timestamp,
    pub attempts: i64,
    pub sent_at: Option<Timestamp>,
    pub failed_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OutboxMail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
    /// What it is (see [`Mail::kind`]; case mail carries the domain's `OutgoingKind`).
    pub kind: String,
    /// The case it is about: it then carries the case's threading headers.
    pub case_id: Option<backline_domain::CaseId>,
    /// More headers, as a JSON list of name and value (see [`OutboxMail::unsubscribe`]).
    pub headers: String,
}

impl OutboxMail {
    /// The one-click unsubscribe link of subscription mail, if it has one.
    pub fn unsubscribe(&self) -> Option<String> {
        let headers: Vec<(String, String)> =
            serde_json::from_str(&self.headers).unwrap_or_default();
        headers
            .into_iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("List-Unsubscribe"))
            .map(|(_, value)| value)
    }
}

pub(crate) async fn insert_mails(
    tx: &mut Transaction<'_, Any>,
    mails: &[Mail],
    incident: Option<IncidentId>,
    at: Timestamp,
) -> Result<()> {
    for mail in mails {
        sqlx::query(
            "INSERT INTO outbox (recipient, subject, body, kind, incident_id, created_at, next_attempt_at, headers) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
        )
        .bind(&mail.recipient)
        .bind(&mail.subject)
        .bind(&mail.body)
        .bind(&mail.kind)
        .bind(incident)
        .bind(at)
        .bind(extra_headers(mail))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The headers a mail carries besides those every mail gets, as stored in `outbox.headers`
/// (a JSON list of name and value).
fn extra_headers(mail: &Mail) -> String {
    let mut headers: Vec<(&str, &str)> = Vec::new();
    if let Some(url) = &mail.unsubscribe {
        headers.push(("List-Unsubscribe", url));
    }
    serde_json::json!(headers).to_string()
}

impl Store {
    /// Writes mails that belong to no other change (tests, drills' roster notes).
    pub async fn enqueue_mails(&self, mails: &[Mail], incident: Option<IncidentId>) -> Result<()> {
        let mut tx = self.write.begin().await?;
        insert_mails(&mut tx, mails, incident, Timestamp::now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves the setting `key` from `before` (`None`: not set) to `after` and writes `mails`
    /// and the webhook `announcements`, in one transaction, only if the setting still holds
    /// `before`: with several nodes noticing the same change, one of them mails and announces
    /// it. `false` when another moved it first.
    pub async fn swap_setting_with_mails(
        &self,
        key: &str,
        before: Option<&str>,
        after: &str,
        mails: &[Mail],
        announcements: &[crate::webhooks::Announcement],
    ) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        let now = Timestamp::now();
        let moved =
            match before {
                Some(before) => sqlx::query(
                    "UPDATE settings SET value = $1, updated_at = $2 WHERE key = $3 AND value = $4",
                )
                .bind(after)
                .bind(now)
                .bind(key)
                .bind(before)
                .execute(&mut *tx)
                .await?,
                None => {
                    sqlx::query(
                        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO NOTHING",
                    )
                    .bind(key)
                    .bind(after)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                }
            };
        if moved.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_mails(&mut tx, mails, None, now).await?;
        for announcement in announcements {
            crate::webhooks::announce(&mut tx, announcement, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Claims up to `limit` due mails for `lease`: no other node takes them meanwhile.
    pub async fn claim_mails(&self, limit: i64, lease: Span) -> Result<Vec<OutboxMail>> {
        let now = Timestamp::now();
        let pick = "SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 \
                    AND (claimed_until IS NULL OR claimed_until < $2) ORDER BY id LIMIT $3";
        let skip = if self.backend == Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        Ok(sqlx::query_as(&format!(
            "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1 WHERE id IN ({pick}{skip}) \
             RETURNING id, recipient, subject, body, attempts, kind, case_id, headers"
        ))
        .bind(now.plus(lease))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.write)
        .await?)
    }

    pub async fn mail_sent(&self, id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET sent_at = $1, claimed_until = NULL, last_error = NULL WHERE id = $2",
        )
        .bind(Timestamp::now())
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// A failed attempt: retry at `retry_at`, or give up when `None`.
    pub async fn mail_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<()> {
        let now = Timestamp::now();
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

    pub async fn notifications(&self, incident: IncidentId) -> Result<Vec<Notification>> {
        Ok(sqlx::query_as(
            "SELECT id, recipient, subject, kind, created_at, attempts, sent_at, failed_at, last_error \
             FROM outbox WHERE incident_id = $1 ORDER BY id",
        )
        .bind(incident)
        .fetch_all(&self.read)
        .await?)
    }

    /// Mails waiting to be sent (for `/metrics`).
    pub async fn outbox_pending(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
        )
        .fetch_one(&self.read)
        .await?)
    }
}
