//! Post-mortems: opened when an incident resolves, edited, published to its audience.

use super::outbox::{insert_mails, Mail};
use super::timeline::{incident_event, Entry};
use crate::rows::Flag;
use crate::{Result, Store, StoreError};
use backline_domain::{IncidentId, Timestamp, UserId};
use serde_json::json;
use sqlx::{Any, Transaction};

#[derive(Debug, Clone, PartialEq)]
pub struct Postmortem {
    pub incident_id: IncidentId,
    pub summary: String,
    pub root_cause: String,
    pub category: String,
    pub action_items: serde_json::Value,
    pub internal_report: String,
    pub customer_edition: String,
    pub due_at: Timestamp,
    pub executive_review: bool,
    pub published_at: Option<Timestamp>,
    /// Moves on with every save (never twice to the same moment): the `ETag` of a read.
    pub updated_at: Timestamp,
}

/// A `postmortems` row; action items are JSON, read leniently (an unreadable list is empty).
#[derive(sqlx::FromRow)]
struct PostmortemRow {
    incident_id: IncidentId,
    summary: String,
    root_cause: String,
    category: String,
    action_items: String,
    internal_report: String,
    customer_edition: String,
    due_at: Timestamp,
    #[sqlx(try_from = "Flag")]
    executive_review: bool,
    published_at: Option<Timestamp>,
    updated_at: Timestamp,
}

impl From<PostmortemRow> for Postmortem {
    fn from(r: PostmortemRow) -> Postmortem {
        Postmortem {
            incident_id: r.incident_id,
            summary: r.summary,
            root_cause: r.root_cause,
            category: r.category,
            action_items: serde_json::from_str(&r.action_items).unwrap_or_default(),
            internal_report: r.internal_report,
            customer_edition: r.customer_edition,
            due_at: r.due_at,
            executive_review: r.executive_review,
            published_at: r.published_at,
            updated_at: r.updated_at,
        }
    }
}

pub(super) async fn ensure_postmortem(
    tx: &mut Transaction<'_, Any>,
    incident: IncidentId,
    due: Timestamp,
    at: Timestamp,
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
    pub async fn postmortem(&self, incident: IncidentId) -> Result<Option<Postmortem>> {
        let row: Option<PostmortemRow> =
            sqlx::query_as("SELECT * FROM postmortems WHERE incident_id = $1")
                .bind(incident)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.map(Postmortem::from))
    }

    /// Saves a post-mortem; with `expected`, only if it is still the version (`updated_at`)
    /// the edit was made against, else [`StoreError::Stale`].
    pub async fn save_postmortem(
        &self,
        pm: &Postmortem,
        by: UserId,
        expected: Option<Timestamp>,
    ) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        let precondition = if expected.is_some() {
            " AND updated_at = $10"
        } else {
            ""
        };
        // `updated_at` is the version: it moves on even for two saves in one millisecond.
        let sql = format!(
            "UPDATE postmortems SET summary = $1, root_cause = $2, category = $3, action_items = $4, \
             internal_report = $5, customer_edition = $6, executive_review = $7, \
             updated_at = CASE WHEN updated_at < $8 THEN $8 ELSE updated_at + 1 END \
             WHERE incident_id = $9 AND (published_at IS NULL OR customer_edition = $6){precondition}",
        );
        let mut update = sqlx::query(&sql)
            .bind(&pm.summary)
            .bind(&pm.root_cause)
            .bind(pm.category.trim().to_lowercase())
            .bind(pm.action_items.to_string())
            .bind(&pm.internal_report)
            .bind(&pm.customer_edition)
            .bind(i64::from(pm.executive_review))
            .bind(now)
            .bind(pm.incident_id);
        if let Some(expected) = expected {
            update = update.bind(expected);
        }
        let done = update.execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            // None to save, one changed since it was read, or one published: its customer
            // edition went out and stays as sent.
            let found: Option<(Option<Timestamp>, Timestamp, String)> = sqlx::query_as(
                "SELECT published_at, updated_at, customer_edition FROM postmortems \
                 WHERE incident_id = $1",
            )
            .bind(pm.incident_id)
            .fetch_optional(&mut *tx)
            .await?;
            return Err(match found {
                Some((_, current, _)) if expected.is_some_and(|e| e != current) => {
                    StoreError::Stale {
                        current: current.as_millis(),
                    }
                }
                Some((Some(_), _, edition)) if edition != pm.customer_edition => {
                    StoreError::Invalid {
                        field: "customer_edition",
                        message: "the post-mortem is published: its customer edition was sent and \
                              cannot change (the internal report still can)"
                            .into(),
                    }
                }
                _ => StoreError::NotFound,
            });
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

    /// Publishes the post-mortem whose customer edition is `edition` (the text `mails` were
    /// written from): if it was published meanwhile, or its edition changed since it was read,
    /// nothing is written or sent.
    pub async fn publish_postmortem(
        &self,
        incident: IncidentId,
        edition: &str,
        by: UserId,
        mails: &[Mail],
    ) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE postmortems SET published_at = $1 WHERE incident_id = $2 \
             AND published_at IS NULL AND customer_edition = $3",
        )
        .bind(now)
        .bind(incident)
        .bind(edition)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "the post-mortem is already published, or its customer edition changed while \
                 it was being published; read it again"
                    .into(),
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

    /// Root-cause categories of other incidents, with when each was declared.
    pub async fn cause_history(&self, except: IncidentId) -> Result<Vec<(String, Timestamp)>> {
        Ok(sqlx::query_as(
            "SELECT p.category, i.declared_at FROM postmortems p JOIN incidents i ON i.id = p.incident_id \
             WHERE p.category <> '' AND p.incident_id <> $1",
        )
        .bind(except)
        .fetch_all(&self.read)
        .await?)
    }
}
