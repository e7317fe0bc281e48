//! Post-mortems: saving them (repeated causes flag executive review) and publishing the customer edition.

use super::*;
use crate::error::{ApiError, ApiResult, StoreResult};
use crate::AppState;
use backline_domain::crisis::{render, repeated_cause, TemplateKind};
use backline_domain::IncidentId;
use backline_store::crisis::Postmortem;
use backline_store::{StoreError, User};
use std::collections::BTreeMap;

/// Saves a post-mortem; a root-cause category seen within 90 days flags it for executives.
pub async fn save_postmortem(
    state: &AppState,
    caller: &User,
    mut pm: Postmortem,
    expected_version: Option<i64>,
) -> ApiResult<Postmortem> {
    staff_only(caller)?;
    let incident = state.store.incident(pm.incident_id).await?;
    let history = state.store.cause_history(pm.incident_id).await?;
    pm.executive_review = repeated_cause(&pm.category, &history, incident.declared_at);
    state
        .store
        .save_postmortem(
            &pm,
            caller.id,
            expected_version.map(backline_domain::Timestamp::from_millis),
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::Conflict {
                code: "not_resolved",
                message: "the post-mortem opens when the incident is resolved".into(),
            },
            other => other.into(),
        })?;
    state
        .store
        .postmortem(pm.incident_id)
        .await?
        .ok_or(ApiError::NotFound("post-mortem"))
}

/// Sends the customer edition to the incident's audience.
pub async fn publish_postmortem(state: &AppState, caller: &User, id: IncidentId) -> ApiResult<()> {
    staff_only(caller)?;
    let incident = state.store.incident(id).await?;
    let pm = state
        .store
        .postmortem(id)
        .await?
        .ok_or(ApiError::NotFound("post-mortem"))?;
    if pm.customer_edition.trim().is_empty() {
        return Err(ApiError::validation(
            "customer_edition",
            "write the customer edition before publishing",
        ));
    }
    let vars = BTreeMap::from([
        ("title", incident.title.clone()),
        ("services", services_text(&incident.services)),
        ("summary", pm.summary.clone()),
        ("root_cause", pm.root_cause.clone()),
        ("customer_edition", pm.customer_edition.clone()),
        (
            "status_url",
            format!("{}/status#incident-{}", state.public_url, incident.id),
        ),
    ]);
    let message = render(&template(state, TemplateKind::Postmortem).await?, &vars);
    let recipients = if incident.public {
        audience(state, &incident.services, incident.dry_run).await?
    } else {
        Vec::new()
    };
    state
        .store
        .publish_postmortem(
            id,
            &pm.customer_edition,
            caller.id,
            &mails_for(&recipients, &message, "postmortem"),
        )
        .await
        .or_conflict("published")
}
