//! The incident clock: reminders before a committed update, overdue and hourly-rule flags.

use super::*;
use crate::error::ApiResult;
use crate::AppState;
use backline_domain::crisis::{cadence, render, RosterRole, TemplateKind};
use backline_domain::Timestamp;
use backline_store::crisis::{format_time, Mail};
use std::collections::BTreeMap;
use std::time::Duration;

/// Watches the clock of every open incident: reminds the communications role before a
/// committed update, flags overdue updates and the hourly rule.
/// The first check runs at once, then one every `every`.
pub fn start_cadence(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let span = tracing::info_span!("cadence_check");
            let result = tracing::Instrument::instrument(check_cadence(&state), span.clone()).await;
            if let Err(e) = result {
                span.in_scope(|| tracing::warn!(error = %e, "incident cadence check failed"));
            }
        }
    })
}

pub async fn check_cadence(state: &AppState) -> ApiResult<()> {
    let now = Timestamp::now();
    let open = state.store.incidents(Timestamp::EPOCH, true).await?;
    if open.is_empty() {
        return Ok(());
    }
    let roster = state.store.roster().await?;
    let comms: Vec<String> = roster
        .iter()
        .filter(|r| r.role == RosterRole::SupportCommunications)
        .map(|r| r.email.clone())
        .collect();
    for incident in open.iter().filter(|i| i.public) {
        let c = cadence(
            now,
            incident.state,
            incident.next_update_at,
            incident.last_update_at,
            incident.long_resolution,
        );
        if c.remind && incident.reminded_for != incident.next_update_at {
            let vars = BTreeMap::from([
                ("title", incident.title.clone()),
                (
                    "next_update",
                    incident.next_update_at.map(format_time).unwrap_or_default(),
                ),
                (
                    "console_url",
                    format!("{}/incidents/{}", state.public_url, incident.id),
                ),
            ]);
            let message = render(&template(state, TemplateKind::Reminder).await?, &vars);
            let mails: Vec<Mail> = comms
                .iter()
                .map(|e| Mail {
                    recipient: e.clone(),
                    subject: message.subject.clone(),
                    body: message.body.clone(),
                    kind: "reminder".into(),
                    unsubscribe: None,
                })
                .collect();
            state
                .store
                .mark_cadence(incident.id, "reminded", incident.next_update_at, &mails)
                .await?;
        }
        if c.overdue && !incident.overdue {
            state
                .store
                .mark_cadence(incident.id, "overdue", incident.next_update_at, &[])
                .await?;
        }
        if c.hourly_rule_broken && !incident.hourly_breach {
            state
                .store
                .mark_cadence(incident.id, "hourly", incident.next_update_at, &[])
                .await?;
        }
    }
    Ok(())
}
