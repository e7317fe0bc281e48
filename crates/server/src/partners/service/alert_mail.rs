//! Mailing new partner alerts to the relationship manager, checked at start and then hourly.

use super::*;
use crate::error::ApiResult;
use crate::AppState;
use backline_domain::partner::Alert;
use backline_domain::OrgKind;
use std::time::Duration;

/// Emails each partner's relationship manager when the partner's alerts change (new ones
/// appear); the last alerts sent are kept in settings so nothing is repeated.
pub async fn mail_partner_alerts(state: &AppState) -> ApiResult<usize> {
    let mut sent = 0;
    for partner in state
        .store
        .list_orgs(Some(OrgKind::Partner), None, None)
        .await?
    {
        let Some(manager) = state.store.relationship_manager(partner.id).await? else {
            continue;
        };
        let current = partner_alerts(&state.store, &partner).await?;
        let digest: Vec<String> = current
            .iter()
            .map(|a| a.kind.as_str().to_string())
            .collect();
        let key = format!("partner_alerts:{}", partner.id);
        let stored = state.store.setting(&key).await?;
        let before: Vec<String> = stored
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        if digest == before {
            continue;
        }
        let new: Vec<&Alert> = current
            .iter()
            .filter(|a| !before.contains(&a.kind.as_str().to_string()))
            .collect();
        let mails: Vec<backline_store::crisis::Mail> = if new.is_empty() {
            Vec::new()
        } else {
            let body = format!(
                "{} needs attention:\n\n{}\n\nPartner page: {}/partners/{}",
                partner.name,
                new.iter()
                    .map(|a| format!("- {}", a.message))
                    .collect::<Vec<_>>()
                    .join("\n"),
                state.public_url,
                partner.slug
            );
            vec![backline_store::crisis::Mail {
                recipient: manager.email.clone(),
                subject: format!("Partner alert: {}", partner.name),
                body,
                kind: "partner_alert".into(),
                unsubscribe: None,
            }]
        };
        // Each new alert is announced to webhooks exactly when it is mailed.
        let announcements = crate::webhooks::service::partner_alert_announcements(&partner, &new);
        // The new alerts and the mail about them in one transaction, moved from what was read:
        // when two nodes check at once, one mails and the other finds it done.
        let after = serde_json::to_string(&digest).unwrap_or_default();
        if state
            .store
            .swap_setting_with_mails(&key, stored.as_deref(), &after, &mails, &announcements)
            .await?
            && !mails.is_empty()
        {
            sent += 1;
        }
    }
    Ok(sent)
}

/// Checks partner alerts at once, then every `every` (hourly in production). The first check
/// runs at start so that a node restarted more often than `every` still checks.
pub fn start_alert_mail(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let span = tracing::info_span!("partner_alert_check");
            let result =
                tracing::Instrument::instrument(mail_partner_alerts(&state), span.clone()).await;
            span.in_scope(|| match result {
                Ok(sent) => tracing::debug!(sent, "partner alerts checked"),
                Err(e) => tracing::warn!(error = %e, "partner alert mail failed"),
            });
        }
    })
}
