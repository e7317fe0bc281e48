//! Received mail: stored raw first (the SMTP listener answers 250 only after this commit),
//! then claimed by the intake worker, placed, and marked with what became of it.

use crate::rows::{convert, stored};
use crate::{Backend, Result, Store, StoreError};
use backline_domain::mail::{InboundState, MailSource};
use backline_domain::{CaseId, CommentId, Span, Timestamp};
use sqlx::FromRow;

/// A message claimed for placing.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub id: i64,
    pub source: MailSource,
    pub raw: Vec<u8>,
    /// Envelope recipients (RCPT TO), as the listener took them.
    pub envelope_to: Vec<String>,
    pub attempts: i64,
    /// When it was stored: a comment it becomes is dated then, so messages placed side by
    /// side still read in the order they arrived.
    pub received_at: Timestamp,
}

/// A row `claim_inbound` returns.
#[derive(FromRow)]
struct ClaimedRow {
    id: i64,
    source: String,
    raw: Vec<u8>,
    envelope_to: String,
    attempts: i64,
    received_at: Timestamp,
}

impl TryFrom<ClaimedRow> for ReceivedMail {
    type Error = StoreError;
    fn try_from(r: ClaimedRow) -> Result<Self> {
        Ok(ReceivedMail {
            id: r.id,
            source: stored(MailSource::parse, &r.source)?,
            raw: r.raw,
            envelope_to: r
                .envelope_to
                .split(',')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            attempts: r.attempts,
            received_at: r.received_at,
        })
    }
}

/// A received message as the `/mail` page lists it (without its bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct InboundSummary {
    pub id: i64,
    pub source: MailSource,
    pub state: InboundState,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub size: i64,
    pub received_at: Timestamp,
    pub reason: Option<String>,
    pub case_id: Option<CaseId>,
    pub comment_id: Option<CommentId>,
    pub attempts: i64,
}

#[derive(FromRow)]
struct SummaryRow {
    id: i64,
    source: String,
    state: String,
    sender: Option<String>,
    subject: Option<String>,
    size: i64,
    received_at: Timestamp,
    reason: Option<String>,
    case_id: Option<CaseId>,
    comment_id: Option<CommentId>,
    attempts: i64,
}

impl TryFrom<SummaryRow> for InboundSummary {
    type Error = StoreError;
    fn try_from(r: SummaryRow) -> Result<Self> {
        Ok(InboundSummary {
            id: r.id,
            source: stored(MailSource::parse, &r.source)?,
            state: stored(InboundState::parse, &r.state)?,
            sender: r.sender,
            subject: r.subject,
            size: r.size,
            received_at: r.received_at,
            reason: r.reason,
            case_id: r.case_id,
            comment_id: r.comment_id,
            attempts: r.attempts,
        })
    }
}

const SUMMARY_COLUMNS: &str = "id, source, state, sender, subject, size, received_at, reason, \
     case_id, comment_id, attempts";

/// What became of a message that is not placed on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Noise(String),
    Duplicate { of: i64 },
    Quarantined(String),
}

impl Store {
    /// Stores a message as it arrived and commits: from here on it cannot be lost.
    pub async fn receive_mail(
        &self,
        source: MailSource,
        envelope_from: Option<&str>,
        envelope_to: &[String],
        raw: &[u8],
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO inbound_mail (source, envelope_from, envelope_to, raw, size, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(source.as_str())
        .bind(envelope_from)
        .bind(envelope_to.join(","))
        .bind(raw)
        .bind(raw.len() as i64)
        .bind(Timestamp::now())
        .fetch_one(&self.write)
        .await?)
    }

    /// Claims up to `limit` pending messages for `lease` (one node places each), oldest
    /// first. A message whose placing failed `max_attempts` times is quarantined instead, so
    /// one that always fails never blocks the rest.
    pub async fn claim_inbound(
        &self,
        limit: i64,
        lease: Span,
        max_attempts: i64,
    ) -> Result<Vec<ReceivedMail>> {
        let now = Timestamp::now();
        sqlx::query(
            "UPDATE inbound_mail SET state = 'quarantined', reason = $1, processed_at = $2 \
             WHERE state = 'pending' AND attempts >= $3 AND (claimed_until IS NULL OR claimed_until < $2)",
        )
        .bind("placing this message failed repeatedly; see the server log")
        .bind(now)
        .bind(max_attempts)
        .execute(&self.write)
        .await?;
        let skip = if self.backend == Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let rows: Vec<ClaimedRow> = sqlx::query_as(&format!(
            "UPDATE inbound_mail SET claimed_until = $1, attempts = attempts + 1 WHERE id IN (\
             SELECT id FROM inbound_mail WHERE state = 'pending' \
             AND (claimed_until IS NULL OR claimed_until < $2) ORDER BY id LIMIT $3{skip}) \
             RETURNING id, source, raw, envelope_to, attempts, received_at"
        ))
        .bind(now.plus(lease))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.write)
        .await?;
        let mut mails: Vec<ReceivedMail> = convert(rows)?;
        mails.sort_by_key(|m| m.id);
        Ok(mails)
    }

    /// Records who sent a message and its key once it is parsed. `Ok(Some(other))` when
    /// another message already holds the key: this one is a duplicate of it.
    pub async fn identify_inbound(
        &self,
        id: i64,
        dedup_key: &str,
        sender: &str,
        subject: &str,
    ) -> Result<Option<i64>> {
        // The unique index on the key decides: no look first, which would be a second,
        // racy copy of the same check.
        let result = sqlx::query(
            "UPDATE inbound_mail SET dedup_key = $1, sender = $2, subject = $3 WHERE id = $4",
        )
        .bind(dedup_key)
        .bind(sender)
        .bind(subject)
        .bind(id)
        .execute(&self.write)
        .await;
        match result {
            Ok(_) => Ok(None),
            // The same message was stored before (or another node placed it a moment ago).
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                let holder: i64 =
                    sqlx::query_scalar("SELECT id FROM inbound_mail WHERE dedup_key = $1")
                        .bind(dedup_key)
                        .fetch_one(&self.read)
                        .await?;
                Ok(Some(holder))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// When the sender's earlier messages arrived, since `since` (for the rate limit).
    pub async fn mail_times_from(
        &self,
        sender: &str,
        since: Timestamp,
        except: i64,
    ) -> Result<Vec<Timestamp>> {
        Ok(sqlx::query_scalar(
            "SELECT received_at FROM inbound_mail WHERE sender = $1 AND received_at >= $2 \
             AND id <> $3 AND state IN ('placed', 'pending') ORDER BY received_at",
        )
        .bind(sender)
        .bind(since)
        .bind(except)
        .fetch_all(&self.read)
        .await?)
    }

    /// Marks a message as noise, a duplicate or quarantined.
    pub async fn finish_inbound(&self, id: i64, outcome: &Outcome) -> Result<()> {
        let (state, reason) = match outcome {
            Outcome::Noise(why) => (InboundState::Noise, why.clone()),
            Outcome::Duplicate { of } => (
                InboundState::Duplicate,
                format!("the same message arrived before (message {of})"),
            ),
            Outcome::Quarantined(why) => (InboundState::Quarantined, why.clone()),
        };
        sqlx::query(
            "UPDATE inbound_mail SET state = $1, reason = $2, processed_at = $3, claimed_until = NULL \
             WHERE id = $4",
        )
        .bind(state.as_str())
        .bind(reason)
        .bind(Timestamp::now())
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Received messages, newest first, optionally of one state.
    pub async fn inbound_mails(
        &self,
        state: Option<InboundState>,
        limit: i64,
    ) -> Result<Vec<InboundSummary>> {
        // '' stands for every state.
        let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM inbound_mail WHERE ($1 = '' OR state = $1) \
             ORDER BY id DESC LIMIT $2"
        ))
        .bind(state.map_or("", InboundState::as_str))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }

    pub async fn inbound_mail(&self, id: i64) -> Result<InboundSummary> {
        let row: SummaryRow = sqlx::query_as(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM inbound_mail WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// The message's bytes, as received.
    pub async fn inbound_raw(&self, id: i64) -> Result<Vec<u8>> {
        sqlx::query_scalar("SELECT raw FROM inbound_mail WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Sets a quarantined message aside (junk, or dealt with by hand): it counts as noise, with
    /// `why` as its reason. Only quarantined messages move.
    pub async fn set_aside_inbound(&self, id: i64, why: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE inbound_mail SET state = 'noise', reason = $1, processed_at = $2 \
             WHERE id = $3 AND state = 'quarantined'",
        )
        .bind(why)
        .bind(Timestamp::now())
        .bind(id)
        .execute(&self.write)
        .await?;
        if done.rows_affected() == 0 {
            self.inbound_mail(id).await?;
            return Err(StoreError::Conflict(
                "only a message waiting in quarantine can be set aside".into(),
            ));
        }
        Ok(())
    }

    /// Puts a quarantined message back in line (after the reason was dealt with: the sender
    /// added as a user, a domain given to an organisation). Only quarantined messages move.
    pub async fn requeue_inbound(&self, id: i64) -> Result<()> {
        let done = sqlx::query(
            "UPDATE inbound_mail SET state = 'pending', reason = NULL, attempts = 0, claimed_until = NULL \
             WHERE id = $1 AND state = 'quarantined'",
        )
        .bind(id)
        .execute(&self.write)
        .await?;
        if done.rows_affected() == 0 {
            self.inbound_mail(id).await?;
            return Err(StoreError::Conflict(
                "only a quarantined message can be run again".into(),
            ));
        }
        Ok(())
    }

    /// How many messages wait, by state (for `/metrics` and the `/mail` page).
    pub async fn inbound_counts(&self) -> Result<Vec<(InboundState, i64)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) AS n FROM inbound_mail GROUP BY state")
                .fetch_all(&self.read)
                .await?;
        rows.into_iter()
            .map(|(state, n)| Ok((stored(InboundState::parse, &state)?, n)))
            .collect()
    }
}

/// Inside a case's or comment's transaction: marks the message placed, if it is still pending
/// (two nodes never both place it: the second finds it placed and rolls back) or waits in
/// quarantine (an admin turning it into a case).
pub(crate) async fn mark_placed(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    mail_id: i64,
    case: CaseId,
    comment: Option<CommentId>,
    at: Timestamp,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE inbound_mail SET state = 'placed', case_id = $1, comment_id = $2, processed_at = $3, \
         claimed_until = NULL, reason = NULL WHERE id = $4 AND state IN ('pending', 'quarantined')",
    )
    .bind(case)
    .bind(comment)
    .bind(at)
    .bind(mail_id)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "message {mail_id} was placed already"
        )));
    }
    Ok(())
}
