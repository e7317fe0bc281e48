//! Status-page subscriptions, confirmed by email.

use super::*;
use crate::error::ApiResult;
use crate::AppState;
use backline_domain::crisis::{render, TemplateKind};
use backline_domain::FieldErrors;
use backline_store::crisis::Mail;
use std::collections::BTreeMap;

/// Status-page subscription: an unconfirmed subscription per service and one confirmation mail.
pub async fn subscribe(state: &AppState, email: &str, services: &[String]) -> ApiResult<()> {
    let mut errors = FieldErrors::new();
    let email = errors.check("email", backline_domain::Email::parse(email));
    let found = services_by_slug(state, services, &mut errors).await?;
    let email = match email {
        Some(email) if errors.is_empty() => email.as_str().to_string(),
        // An email that did not parse recorded its error, so `errors` is never empty here.
        _ => return Err(errors.into()),
    };
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
