//! Webhook rules: who subscribes and manages subscriptions, what each case event and each
//! announced event (incidents, partner alerts...) becomes, and the job that queues, signs,
//! sends, retries and switches off.

use crate::error::{ApiError, ApiResult, StoreResult};
use crate::AppState;
use backline_domain::partner::Alert;
use backline_domain::webhooks::{
    event_for, failing_reason, parse_subscription, retry_delay, should_disable, sign,
    PartnerAlertData, WebhookEvent, PING,
};
use backline_domain::{Span, Timestamp};
use backline_store::webhooks::{
    Announcement, NewDelivery, OwnerMail, WebhookDelivery, WebhookSubscription,
};
use backline_store::{Org, User};
use serde::Serialize;
use std::time::Duration;

fn admin_only(caller: &User) -> ApiResult<()> {
    if caller.role == backline_domain::Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden("webhooks are set up by admins".into()))
    }
}

/// A new subscription with a fresh secret (shown to the admin once, in the answer).
pub async fn subscribe(
    state: &AppState,
    caller: &User,
    url: &str,
    events: &[String],
) -> ApiResult<WebhookSubscription> {
    admin_only(caller)?;
    let (url, events) = parse_subscription(url, events)?;
    let names: Vec<String> = events.iter().map(|e| e.as_str().to_string()).collect();
    let secret = crate::auth::new_secret("whsec_");
    Ok(state
        .store
        .create_webhook(&url, &names, &secret, caller.id)
        .await?)
}

pub async fn list(state: &AppState, caller: &User) -> ApiResult<Vec<WebhookSubscription>> {
    admin_only(caller)?;
    Ok(state.store.webhooks().await?)
}

pub async fn deliveries(
    state: &AppState,
    caller: &User,
    id: i64,
) -> ApiResult<(WebhookSubscription, Vec<WebhookDelivery>)> {
    admin_only(caller)?;
    let subscription = state.store.webhook(id).await.or_not_found("webhook")?;
    let deliveries = state.store.webhook_deliveries(id, 100).await?;
    Ok((subscription, deliveries))
}

/// A change to a subscription; what is left out stays as it is.
#[derive(Debug, Default, Clone)]
pub struct Change {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// `true` switches it on again (its failing state cleared), `false` switches it off.
    pub active: Option<bool>,
}

/// Changes a subscription: its address and events checked as when subscribing (every problem
/// named before anything is written), then switched on or off.
pub async fn change(
    state: &AppState,
    caller: &User,
    id: i64,
    change: Change,
) -> ApiResult<WebhookSubscription> {
    admin_only(caller)?;
    let current = state.store.webhook(id).await.or_not_found("webhook")?;
    if change.url.is_some() || change.events.is_some() {
        let url = change.url.as_deref().unwrap_or(&current.url);
        let events = change.events.as_deref().unwrap_or(&current.events);
        let (url, events) = parse_subscription(url, events)?;
        let names: Vec<String> = events.iter().map(|e| e.as_str().to_string()).collect();
        state
            .store
            .update_webhook(id, &url, &names)
            .await
            .or_not_found("webhook")?;
    }
    match change.active {
        Some(true) if !current.active => state
            .store
            .enable_webhook(id)
            .await
            .or_not_found("webhook")?,
        Some(false) if current.active => {
            let reason = format!("switched off by {}", caller.name);
            state
                .store
                .disable_webhook(id, &reason, None, state.clock.now())
                .await?;
        }
        _ => {}
    }
    state.store.webhook(id).await.or_not_found("webhook")
}

/// A new signing secret (shown to the admin once, in the answer): every delivery sent from
/// now on, those waiting for a retry included, is signed with it.
pub async fn rotate_secret(
    state: &AppState,
    caller: &User,
    id: i64,
) -> ApiResult<WebhookSubscription> {
    admin_only(caller)?;
    let secret = crate::auth::new_secret("whsec_");
    state
        .store
        .set_webhook_secret(id, &secret)
        .await
        .or_not_found("webhook")?;
    state.store.webhook(id).await.or_not_found("webhook")
}

pub async fn delete(state: &AppState, caller: &User, id: i64) -> ApiResult<()> {
    admin_only(caller)?;
    state.store.delete_webhook(id).await.or_not_found("webhook")
}

/// What a test delivery's body holds.
#[derive(Debug, Serialize)]
pub struct PingPayload {
    pub event: &'static str,
    pub occurred_at: String,
    pub webhook_id: i64,
    pub message: &'static str,
}

/// Queues a `ping` for one subscription, due at once; a switched-off subscription is refused
/// (nothing is sent to it until it is switched on again).
pub async fn ping(state: &AppState, caller: &User, id: i64) -> ApiResult<WebhookDelivery> {
    admin_only(caller)?;
    let subscription = state.store.webhook(id).await.or_not_found("webhook")?;
    if !subscription.active {
        return Err(ApiError::Conflict {
            code: "switched_off",
            message: "the webhook is switched off: switch it on again before sending a test".into(),
        });
    }
    let now = state.clock.now();
    let body = serde_json::to_string(&PingPayload {
        event: PING,
        occurred_at: now.to_rfc3339(),
        webhook_id: id,
        message: "A test delivery sent from Backline by an admin.",
    })
    .map_err(|err| ApiError::Internal(err.to_string()))?;
    let delivery = state
        .store
        .queue_webhook_delivery(
            &NewDelivery {
                subscription_id: id,
                event: PING.to_string(),
                body,
            },
            now,
        )
        .await?;
    state
        .store
        .webhook_deliveries(id, 100)
        .await?
        .into_iter()
        .find(|d| d.id == delivery)
        .ok_or(ApiError::NotFound("delivery"))
}

/// The webhook announcements of a partner's newly raised relationship alerts, one per alert;
/// the alert check stores them with the mail about the same alerts.
pub fn partner_alert_announcements(partner: &Org, new: &[&Alert]) -> Vec<Announcement> {
    new.iter()
        .map(|alert| Announcement {
            event: WebhookEvent::PartnerAlert,
            subject_id: partner.id.0,
            data: serde_json::to_value(PartnerAlertData {
                partner_id: partner.id.0,
                partner_name: partner.name.clone(),
                partner_slug: partner.slug.clone(),
                alert: alert.kind.as_str().to_string(),
                message: alert.message.clone(),
                partner_page: format!("/partners/{}", partner.slug),
            })
            .unwrap_or(serde_json::Value::Null),
        })
        .collect()
}

/// What a case event's delivery body holds.
#[derive(Debug, Serialize)]
pub struct Payload {
    /// The case event's id: the same event is never announced under another.
    pub event_id: i64,
    pub event: &'static str,
    pub occurred_at: String,
    pub case_id: i64,
    /// The case event's own data (what changed, the comment's id).
    pub data: serde_json::Value,
}

/// What an announced event's delivery body holds (incidents, partner alerts...).
/// `(event, event_id)` is unique: case events and announced events are numbered apart.
#[derive(Debug, Serialize)]
pub struct AnnouncedPayload {
    pub event_id: i64,
    pub event: String,
    pub occurred_at: String,
    /// What the event is about: the incident's or the partner's id.
    pub subject_id: i64,
    pub data: serde_json::Value,
}

/// Case events read per round.
const BATCH: i64 = 200;
/// Deliveries tried per round.
const SENDS: i64 = 20;
/// How long a try holds a delivery before another node may take it.
const LEASE: Span = Span::MINUTE;

/// Starts the job: every quarter second, queue what new case events mean for the active
/// subscriptions, then try what is due.
pub fn start(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let span = tracing::info_span!("webhooks");
            let result =
                tracing::Instrument::instrument(round(&state, &client), span.clone()).await;
            if let Err(e) = result {
                span.in_scope(|| tracing::warn!(error = %e, "webhook round failed"));
            }
        }
    })
}

async fn round(state: &AppState, client: &reqwest::Client) -> ApiResult<()> {
    queue(state).await?;
    queue_announced(state).await?;
    send_due(state, client).await
}

/// Queues the deliveries of events other features announced, each event once.
async fn queue_announced(state: &AppState) -> ApiResult<()> {
    let events = state.store.waiting_webhook_events(BATCH).await?;
    if events.is_empty() {
        return Ok(());
    }
    let subscriptions: Vec<WebhookSubscription> = state
        .store
        .webhooks()
        .await?
        .into_iter()
        .filter(|s| s.active)
        .collect();
    let mut queued = Vec::new();
    for e in &events {
        let body = serde_json::to_string(&AnnouncedPayload {
            event_id: e.id,
            event: e.kind.clone(),
            occurred_at: e.at.to_rfc3339(),
            subject_id: e.subject_id,
            data: e.data.clone(),
        })
        .map_err(|err| ApiError::Internal(err.to_string()))?;
        let deliveries = subscriptions
            .iter()
            .filter(|s| s.events.contains(&e.kind))
            .map(|s| NewDelivery {
                subscription_id: s.id,
                event: e.kind.clone(),
                body: body.clone(),
            })
            .collect();
        queued.push((e.id, deliveries));
    }
    state
        .store
        .queue_announced_deliveries(&queued, state.clock.now())
        .await?;
    Ok(())
}

async fn queue(state: &AppState) -> ApiResult<()> {
    let (cursor, events) = state.store.webhook_events(BATCH).await?;
    let Some(last) = events.last().map(|e| e.id) else {
        return Ok(());
    };
    let subscriptions: Vec<WebhookSubscription> = state
        .store
        .webhooks()
        .await?
        .into_iter()
        .filter(|s| s.active)
        .collect();
    let mut deliveries = Vec::new();
    for e in &events {
        let Some(event) = event_for(&e.kind, e.data["public"].as_bool(), e.data["to"].as_str())
        else {
            continue;
        };
        let body = serde_json::to_string(&Payload {
            event_id: e.id,
            event: event.as_str(),
            occurred_at: e.at.to_rfc3339(),
            case_id: e.case_id.0,
            data: e.data.clone(),
        })
        .map_err(|err| ApiError::Internal(err.to_string()))?;
        for s in subscriptions
            .iter()
            .filter(|s| s.events.iter().any(|n| n == event.as_str()))
        {
            deliveries.push(NewDelivery {
                subscription_id: s.id,
                event: event.as_str().to_string(),
                body: body.clone(),
            });
        }
    }
    // Another node that queued these first moved the place; this one reads again next round.
    state
        .store
        .queue_webhook_deliveries(cursor, last, &deliveries, state.clock.now())
        .await?;
    Ok(())
}

async fn send_due(state: &AppState, client: &reqwest::Client) -> ApiResult<()> {
    let now = state.clock.now();
    for delivery in state.store.due_webhook_deliveries(now, SENDS).await? {
        if !state
            .store
            .claim_webhook_delivery(&delivery, now.plus(LEASE))
            .await?
        {
            continue;
        }
        // Deleted since it was read: nothing to send.
        let subscription = match state.store.webhook(delivery.subscription_id).await {
            Ok(s) => s,
            Err(backline_store::StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let timestamp = now.as_millis() / 1000;
        let signature = sign(&subscription.secret, timestamp, delivery.body.as_bytes());
        let answer = client
            .post(&subscription.url)
            .header("content-type", "application/json")
            .header("user-agent", "Backline-Webhooks")
            .header("x-backline-event", &delivery.event)
            .header("x-backline-delivery", delivery.id.to_string())
            .header("x-backline-timestamp", timestamp.to_string())
            .header("x-backline-signature", signature)
            .body(delivery.body.clone())
            .send()
            .await;
        let (code, error) = match answer {
            Ok(response) => (Some(i64::from(response.status().as_u16())), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let delivered = code.is_some_and(|c| (200..300).contains(&c));
        let tries = u32::try_from(delivery.attempts + 1).unwrap_or(u32::MAX);
        let retry_at = (!delivered).then(|| now.plus(retry_delay(tries)));
        state
            .store
            .record_webhook_try(&delivery, code, error.as_deref(), retry_at, now)
            .await?;
        if !delivered && should_disable(Some(subscription.failing_since.unwrap_or(now)), now) {
            switch_off_failing(state, &subscription, code, error.as_deref(), now).await?;
        }
    }
    Ok(())
}

/// Switches off a subscription that has failed for too long and tells its owner why.
async fn switch_off_failing(
    state: &AppState,
    subscription: &WebhookSubscription,
    code: Option<i64>,
    error: Option<&str>,
    now: Timestamp,
) -> ApiResult<()> {
    let owner = state.store.user(subscription.owner).await?;
    let reason = failing_reason(code, error);
    let body = format!(
        "Deliveries to {} were switched off: {reason}. Fix the receiver, then switch the \
         webhook on again on the Webhooks page ({}/webhooks/{}).",
        subscription.url, state.public_url, subscription.id,
    );
    state
        .store
        .disable_webhook(
            subscription.id,
            &reason,
            Some(OwnerMail {
                recipient: &owner.email,
                subject: "A webhook was switched off",
                body: &body,
            }),
            now,
        )
        .await?;
    Ok(())
}
