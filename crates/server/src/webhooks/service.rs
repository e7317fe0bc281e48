//! Webhook rules: who subscribes, what each case event becomes, and the job that queues,
//! signs, sends, retries and switches off.

use crate::error::{ApiError, ApiResult, StoreResult};
use crate::AppState;
use backline_domain::webhooks::{event_for, parse_subscription, retry_delay, should_disable, sign};
use backline_domain::Span;
use backline_store::webhooks::{NewDelivery, WebhookDelivery, WebhookSubscription};
use backline_store::User;
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

/// What a delivery's body holds.
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
    send_due(state, client).await
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
        let subscription = state.store.webhook(delivery.subscription_id).await?;
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
            let owner = state.store.user(subscription.owner).await?;
            let body = format!(
                "Deliveries to {} have failed for more than {} days (the last answer: {}), so \
                 the subscription was switched off. Fix the receiver, then subscribe again.",
                subscription.url,
                backline_domain::webhooks::DISABLE_AFTER.whole_days(),
                code.map_or_else(|| error.clone().unwrap_or_default(), |c| c.to_string()),
            );
            state
                .store
                .disable_webhook(
                    subscription.id,
                    &owner.email,
                    "A webhook was switched off",
                    &body,
                    now,
                )
                .await?;
        }
    }
    Ok(())
}
