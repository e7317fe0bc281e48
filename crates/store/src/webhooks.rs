//! Outbound webhooks: subscriptions, the deliveries queued for them from case events (queued
//! and the job's place moved in one transaction, by compare-and-set, so with several nodes each
//! event is queued once) and from the other features' events (`announce`, called inside the
//! feature's own transaction; each taken by deleting it, once), and each delivery's tries.

use crate::{Result, Store};
use backline_domain::webhooks::{
    incident_event_for, incident_status_path, AnnouncedService, IncidentData, WebhookEvent,
};
use backline_domain::{CaseId, IncidentId, Timestamp, UserId};
use sqlx::{Any, Transaction};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSubscription {
    pub id: i64,
    pub url: String,
    /// Event names, as subscribed.
    pub events: Vec<String>,
    pub secret: String,
    pub owner: UserId,
    pub active: bool,
    pub failing_since: Option<Timestamp>,
    pub disabled_at: Option<Timestamp>,
    /// Why it is switched off, in words.
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct SubscriptionRow {
    id: i64,
    url: String,
    events: String,
    secret: String,
    owner_id: UserId,
    active: i64,
    failing_since: Option<Timestamp>,
    disabled_at: Option<Timestamp>,
    disabled_reason: Option<String>,
    created_at: Timestamp,
}

impl From<SubscriptionRow> for WebhookSubscription {
    fn from(r: SubscriptionRow) -> Self {
        WebhookSubscription {
            id: r.id,
            url: r.url,
            // Written by us as a JSON list; anything else subscribes to nothing.
            events: serde_json::from_str(&r.events).unwrap_or_default(),
            secret: r.secret,
            owner: r.owner_id,
            active: r.active != 0,
            failing_since: r.failing_since,
            disabled_at: r.disabled_at,
            disabled_reason: r.disabled_reason,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookDelivery {
    pub id: i64,
    pub subscription_id: i64,
    pub event: String,
    pub body: String,
    /// `pending`, `delivered`, or `failed` (its subscription was switched off).
    pub status: String,
    pub attempts: i64,
    pub response_code: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at: Timestamp,
    pub last_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A case event as the webhook job reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookCaseEvent {
    pub id: i64,
    pub case_id: CaseId,
    pub kind: String,
    pub data: serde_json::Value,
    pub at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    case_id: CaseId,
    kind: String,
    data: String,
    created_at: Timestamp,
}

/// A delivery queued for a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub subscription_id: i64,
    pub event: String,
    pub body: String,
}

/// An event for webhooks beside the case audit trail, as a feature announces it.
#[derive(Debug, Clone, PartialEq)]
pub struct Announcement {
    pub event: WebhookEvent,
    /// What it is about: the incident's, the partner's, the question's id.
    pub subject_id: i64,
    /// The payload's `data`, as subscribers receive it.
    pub data: serde_json::Value,
}

/// Appends an event for webhooks. Call it inside the transaction of the change it announces
/// (a community question stored, an alert mailed): the event then exists if and only if the
/// change commits, and the webhook job queues it once for every active subscription to
/// `event`, however many nodes run (it takes the event by deleting it).
pub async fn announce(
    tx: &mut Transaction<'_, Any>,
    announcement: &Announcement,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook_events (kind, subject_id, data, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(announcement.event.as_str())
    .bind(announcement.subject_id)
    .bind(announcement.data.to_string())
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Announces an incident's declaration, public update or resolution (whatever
/// `timeline_kind` the crisis store just wrote), read as it stands inside the transaction;
/// drills, dismissed signals and internal timeline entries announce nothing.
pub(crate) async fn announce_incident(
    tx: &mut Transaction<'_, Any>,
    id: IncidentId,
    timeline_kind: &str,
    message: &str,
    at: Timestamp,
) -> Result<()> {
    let (title, state, impact, public, dry_run): (String, String, String, i64, i64) =
        sqlx::query_as("SELECT title, state, impact, public, dry_run FROM incidents WHERE id = $1")
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
    let Some(event) = incident_event_for(timeline_kind, public != 0, dry_run != 0) else {
        return Ok(());
    };
    let services: Vec<(String, String)> = sqlx::query_as(
        "SELECT s.slug, s.name FROM incident_services i JOIN services s ON s.id = i.service_id \
         WHERE i.incident_id = $1 ORDER BY s.name",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    let data = IncidentData {
        incident_id: id.0,
        title,
        state,
        impact,
        services: services
            .into_iter()
            .map(|(slug, name)| AnnouncedService { slug, name })
            .collect(),
        message: message.to_string(),
        status_page: incident_status_path(id.0),
    };
    let announcement = Announcement {
        event,
        subject_id: id.0,
        data: serde_json::to_value(&data).unwrap_or(serde_json::Value::Null),
    };
    announce(tx, &announcement, at).await
}

/// An announced event as the webhook job reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnouncedEvent {
    pub id: i64,
    pub kind: String,
    pub subject_id: i64,
    pub data: serde_json::Value,
    pub at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct AnnouncedRow {
    id: i64,
    kind: String,
    subject_id: i64,
    data: String,
    created_at: Timestamp,
}

/// The owner's mail when a failing subscription is switched off.
#[derive(Debug, Clone, Copy)]
pub struct OwnerMail<'a> {
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

const SUBSCRIPTION_COLUMNS: &str = "id, url, events, secret, owner_id, active, failing_since, \
     disabled_at, disabled_reason, created_at FROM webhook_subscriptions";
const DELIVERY_COLUMNS: &str = "id, subscription_id, event, body, status, attempts, \
     response_code, last_error, next_attempt_at, last_attempt_at, created_at FROM webhook_deliveries";

impl Store {
    pub async fn create_webhook(
        &self,
        url: &str,
        events: &[String],
        secret: &str,
        owner: UserId,
    ) -> Result<WebhookSubscription> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO webhook_subscriptions (url, events, secret, owner_id, active, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5) RETURNING id",
        )
        .bind(url)
        .bind(serde_json::to_string(events).unwrap_or_else(|_| "[]".into()))
        .bind(secret)
        .bind(owner)
        .bind(Timestamp::now())
        .fetch_one(&self.write)
        .await?;
        self.webhook(id).await
    }

    pub async fn webhook(&self, id: i64) -> Result<WebhookSubscription> {
        let row: SubscriptionRow =
            sqlx::query_as(&format!("SELECT {SUBSCRIPTION_COLUMNS} WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.write)
                .await?
                .ok_or(crate::StoreError::NotFound)?;
        Ok(row.into())
    }

    pub async fn webhooks(&self) -> Result<Vec<WebhookSubscription>> {
        let rows: Vec<SubscriptionRow> =
            sqlx::query_as(&format!("SELECT {SUBSCRIPTION_COLUMNS} ORDER BY id"))
                .fetch_all(&self.read)
                .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The newest deliveries of a subscription, newest first.
    pub async fn webhook_deliveries(
        &self,
        subscription: i64,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} WHERE subscription_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(subscription)
        .bind(limit)
        .fetch_all(&self.write)
        .await?)
    }

    /// Where the webhook job stands and the case events after it, oldest first.
    pub async fn webhook_events(&self, limit: i64) -> Result<(i64, Vec<WebhookCaseEvent>)> {
        let cursor: i64 =
            sqlx::query_scalar("SELECT last_event_id FROM notifier_cursor WHERE name = 'webhooks'")
                .fetch_one(&self.write)
                .await?;
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT id, case_id, kind, data, created_at FROM case_events WHERE id > $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(cursor)
        .bind(limit)
        .fetch_all(&self.write)
        .await?;
        let events = rows
            .into_iter()
            .map(|r| WebhookCaseEvent {
                id: r.id,
                case_id: r.case_id,
                kind: r.kind,
                // Event data is ours and always JSON; an unreadable one is announced bare.
                data: serde_json::from_str(&r.data).unwrap_or(serde_json::Value::Null),
                at: r.created_at,
            })
            .collect();
        Ok((cursor, events))
    }

    /// Queues `deliveries` and moves the job from `from` to `to` in one transaction; `false`
    /// when another node moved it first (nothing written).
    pub async fn queue_webhook_deliveries(
        &self,
        from: i64,
        to: i64,
        deliveries: &[NewDelivery],
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        let moved = sqlx::query(
            "UPDATE notifier_cursor SET last_event_id = $1 WHERE name = 'webhooks' AND last_event_id = $2",
        )
        .bind(to)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        for d in deliveries {
            sqlx::query(
                "INSERT INTO webhook_deliveries (subscription_id, event, body, status, attempts, \
                 next_attempt_at, created_at) VALUES ($1, $2, $3, 'pending', 0, $4, $4)",
            )
            .bind(d.subscription_id)
            .bind(&d.event)
            .bind(&d.body)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Pending deliveries of active subscriptions due by `now`, oldest first.
    pub async fn due_webhook_deliveries(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} WHERE status = 'pending' AND next_attempt_at <= $1 \
             AND subscription_id IN (SELECT id FROM webhook_subscriptions WHERE active = 1) \
             ORDER BY next_attempt_at, id LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.write)
        .await?)
    }

    /// Takes a due delivery for one try, until `until`: `false` if another node took it.
    pub async fn claim_webhook_delivery(
        &self,
        delivery: &WebhookDelivery,
        until: Timestamp,
    ) -> Result<bool> {
        let claimed = sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = $2 \
             AND status = 'pending' AND next_attempt_at = $3",
        )
        .bind(until)
        .bind(delivery.id)
        .bind(delivery.next_attempt_at)
        .execute(&self.write)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    /// Records a try: delivered (its subscription no longer failing), or to be tried again at
    /// `retry_at` (its subscription failing since the first failure in a row).
    pub async fn record_webhook_try(
        &self,
        delivery: &WebhookDelivery,
        response_code: Option<i64>,
        error: Option<&str>,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let status = if retry_at.is_none() {
            "delivered"
        } else {
            "pending"
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, response_code = $2, \
             last_error = $3, next_attempt_at = $4, last_attempt_at = $5 WHERE id = $6",
        )
        .bind(status)
        .bind(response_code)
        .bind(error)
        .bind(retry_at.unwrap_or(now))
        .bind(now)
        .bind(delivery.id)
        .execute(&mut *tx)
        .await?;
        if retry_at.is_none() {
            sqlx::query("UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = $1")
                .bind(delivery.subscription_id)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(
                "UPDATE webhook_subscriptions SET failing_since = COALESCE(failing_since, $2) \
                 WHERE id = $1",
            )
            .bind(delivery.subscription_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Switches a subscription off with `reason`, marks its pending deliveries failed and, when
    /// it was switched off for failing, mails its owner, in one transaction; `false` if it was
    /// already off.
    pub async fn disable_webhook(
        &self,
        id: i64,
        reason: &str,
        mail: Option<OwnerMail<'_>>,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        let off = sqlx::query(
            "UPDATE webhook_subscriptions SET active = 0, disabled_at = $1, disabled_reason = $2 \
             WHERE id = $3 AND active = 1",
        )
        .bind(now)
        .bind(reason)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if off.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'failed' WHERE subscription_id = $1 AND status = 'pending'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if let Some(mail) = mail {
            // The outbox's own times are the system clock's: its sender reads them against it.
            sqlx::query(
                "INSERT INTO outbox (recipient, subject, body, kind, created_at, next_attempt_at) \
                 VALUES ($1, $2, $3, 'agent_notification', $4, $4)",
            )
            .bind(mail.recipient)
            .bind(mail.subject)
            .bind(mail.body)
            .bind(Timestamp::now())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Switches a subscription on again, its failing state cleared (deliveries failed while it
    /// was off stay failed); `NotFound` if there is none.
    pub async fn enable_webhook(&self, id: i64) -> Result<()> {
        let done = sqlx::query(
            "UPDATE webhook_subscriptions SET active = 1, failing_since = NULL, disabled_at = NULL, \
             disabled_reason = NULL WHERE id = $1",
        )
        .bind(id)
        .execute(&self.write)
        .await?;
        found(done.rows_affected())
    }

    /// Changes where a subscription delivers and what it hears of.
    pub async fn update_webhook(&self, id: i64, url: &str, events: &[String]) -> Result<()> {
        let done =
            sqlx::query("UPDATE webhook_subscriptions SET url = $1, events = $2 WHERE id = $3")
                .bind(url)
                .bind(serde_json::to_string(events).unwrap_or_else(|_| "[]".into()))
                .bind(id)
                .execute(&self.write)
                .await?;
        found(done.rows_affected())
    }

    /// Replaces the signing secret: deliveries sent from now on, pending ones included, are
    /// signed with the new one.
    pub async fn set_webhook_secret(&self, id: i64, secret: &str) -> Result<()> {
        let done = sqlx::query("UPDATE webhook_subscriptions SET secret = $1 WHERE id = $2")
            .bind(secret)
            .bind(id)
            .execute(&self.write)
            .await?;
        found(done.rows_affected())
    }

    /// Deletes a subscription and its deliveries, in one transaction.
    pub async fn delete_webhook(&self, id: i64) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE subscription_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM webhook_subscriptions WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        found(done.rows_affected())?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues one delivery for one subscription, due now (a ping); its id.
    pub async fn queue_webhook_delivery(
        &self,
        delivery: &NewDelivery,
        now: Timestamp,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO webhook_deliveries (subscription_id, event, body, status, attempts, \
             next_attempt_at, created_at) VALUES ($1, $2, $3, 'pending', 0, $4, $4) RETURNING id",
        )
        .bind(delivery.subscription_id)
        .bind(&delivery.event)
        .bind(&delivery.body)
        .bind(now)
        .fetch_one(&self.write)
        .await?)
    }

    /// Announced events not queued yet, oldest first.
    pub async fn waiting_webhook_events(&self, limit: i64) -> Result<Vec<AnnouncedEvent>> {
        let rows: Vec<AnnouncedRow> = sqlx::query_as(
            "SELECT id, kind, subject_id, data, created_at FROM webhook_events ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.write)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AnnouncedEvent {
                id: r.id,
                kind: r.kind,
                subject_id: r.subject_id,
                // Written by `announce` as JSON; an unreadable one is announced bare.
                data: serde_json::from_str(&r.data).unwrap_or(serde_json::Value::Null),
                at: r.created_at,
            })
            .collect())
    }

    /// Takes each announced event (deletes it) and writes its deliveries, in one transaction.
    /// An event another node took meanwhile is skipped with its deliveries (on PostgreSQL the
    /// second node's delete waits for the first's commit, then finds nothing). The number of
    /// events this call queued.
    pub async fn queue_announced_deliveries(
        &self,
        queued: &[(i64, Vec<NewDelivery>)],
        now: Timestamp,
    ) -> Result<usize> {
        let mut tx = self.write.begin().await?;
        let mut count = 0;
        for (event, deliveries) in queued {
            let taken = sqlx::query("DELETE FROM webhook_events WHERE id = $1")
                .bind(event)
                .execute(&mut *tx)
                .await?;
            if taken.rows_affected() == 0 {
                continue;
            }
            count += 1;
            for d in deliveries {
                sqlx::query(
                    "INSERT INTO webhook_deliveries (subscription_id, event, body, status, attempts, \
                     next_attempt_at, created_at) VALUES ($1, $2, $3, 'pending', 0, $4, $4)",
                )
                .bind(d.subscription_id)
                .bind(&d.event)
                .bind(&d.body)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(count)
    }
}

fn found(rows: u64) -> Result<()> {
    if rows == 0 {
        Err(crate::StoreError::NotFound)
    } else {
        Ok(())
    }
}
