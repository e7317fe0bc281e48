//! Status-page subscriptions, confirmed by email.

use super::*;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use backline_domain::crisis::{render, TemplateKind};
use backline_domain::throttle::Backoff;
use backline_domain::FieldErrors;
use backline_store::crisis::Mail;
use std::collections::BTreeMap;

/// Status-page subscription: an unconfirmed subscription per service and one confirmation mail.
/// It subscribes `email` to `services` once confirmed: one confirmation mail per address and
/// service while one is pending (asking again sends nothing new), and a back-off per address
/// and per client so the form cannot be used to flood someone's mailbox.
pub async fn subscribe(
    state: &AppState,
    email: &str,
    services: &[String],
    client: Option<std::net::IpAddr>,
) -> ApiResult<()> {
    let mut errors = FieldErrors::new();
    let email = errors.check("email", backline_domain::Email::parse(email));
    let found = services_by_slug(state, services, &mut errors).await?;
    let email = match email {
        Some(email) if errors.is_empty() => email.as_str().to_string(),
        // An email that did not parse recorded its error, so `errors` is never empty here.
        _ => return Err(errors.into()),
    };
    let now = state.clock.now();
    let already = state
        .store
        .subscribed_services(
            &email,
            now.minus(backline_domain::Span::from_millis(24 * 3_600_000)),
        )
        .await?;
    let found: Vec<_> = found
        .into_iter()
        .filter(|s| !already.contains(&s.id))
        .collect();
    if found.is_empty() {
        // Everything asked for is confirmed or waiting for its confirmation: same answer,
        // no new mail.
        return Ok(());
    }
    let keys: Vec<(String, Backoff)> =
        std::iter::once((format!("subscribe-email:{email}"), Backoff::SUBSCRIBE_EMAIL))
            .chain(client.map(|c| (format!("subscribe-address:{c}"), Backoff::SUBSCRIBE_ADDRESS)))
            .collect();
    for (key, rule) in &keys {
        let earlier = state
            .store
            .limited_attempts(key, now.minus(rule.window))
            .await?;
        if let Some(until) = rule.wait_until(&earlier, now) {
            let minutes = (until.since(now).as_millis() + 59_999) / 60_000;
            return Err(ApiError::TooMany(format!(
                "Too many subscription requests for this address or from here. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            )));
        }
    }
    let keys: Vec<String> = keys.into_iter().map(|(k, _)| k).collect();
    state.store.record_limited_attempt(&keys, now).await?;
    let token = crate::auth::new_secret("sub_");
    let base = &state.public_url;
    let vars = BTreeMap::from([
        ("services", services_text(&found)),
        ("confirm_url", format!("{base}/status/confirm/{token}")),
        (
            "unsubscribe_url",
            format!("{base}/status/unsubscribe/{token}"),
        ),
    ]);
    let message = render(&template(state, TemplateKind::Confirm).await?, &vars);
    let rows: Vec<(backline_domain::ServiceId, String)> =
        found.iter().map(|s| (s.id, token.clone())).collect();
    state
        .store
        .subscribe(
            &email,
            &rows,
            &Mail {
                recipient: email.clone(),
                subject: message.subject,
                body: message.body,
                kind: "confirm".into(),
                unsubscribe: None,
            },
        )
        .await?;
    Ok(())
}
