//! Declaring incidents and posting their updates.

use super::*;
use crate::error::{ApiError, ApiResult, StoreResult};
use crate::AppState;
use backline_domain::crisis::{render, Impact, IncidentState, TemplateKind};
use backline_domain::FieldErrors;
use backline_domain::{IncidentId, SignalGroupId, Timestamp};
use backline_store::crisis::{Incident, IncidentUpdate, NewIncident};
use backline_store::User;
use serde::Deserialize;
use utoipa::ToSchema;

/// An incident to declare. Every field is checked and every problem named at once.
// The API's body, and what the console's form fills in.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// 1 to 200 characters.
    pub title: String,
    /// Slugs of the affected services.
    pub services: Vec<String>,
    /// Required: `minor`, `major` or `critical`.
    pub impact: Option<Impact>,
    /// What customers experience.
    pub nature: String,
    /// Likely resolution: an RFC 3339 time or words ("about two hours").
    pub eta: Option<String>,
    /// Required: when the next update will be sent (RFC 3339, in the future).
    pub next_update_at: Option<String>,
    /// The first message to the people affected.
    #[serde(default)]
    pub message: String,
    /// The signal group this declaration qualifies.
    pub signal_group: Option<i64>,
}

/// Declares a formal incident (or, with `dry_run`, a drill that only the roster hears of) and
/// alerts its audience, in one transaction.
pub async fn declare(
    state: &AppState,
    caller: &User,
    d: Declaration,
    dry_run: bool,
) -> ApiResult<Incident> {
    staff_only(caller)?;
    let mut errors = FieldErrors::new();
    let title = d.title.trim().to_string();
    if title.is_empty() || title.chars().count() > MAX_TITLE {
        errors.add("title", format!("must be 1 to {MAX_TITLE} characters"));
    }
    if d.nature.trim().is_empty() {
        errors.add("nature", "say what customers experience");
    }
    let impact = d.impact.unwrap_or_else(|| {
        errors.add("impact", "minor, major or critical");
        Impact::Minor
    });
    let services = services_by_slug(state, &d.services, &mut errors).await?;
    let eta = eta_text(d.eta.as_deref(), &mut errors);
    let next = next_update(d.next_update_at.as_deref(), true, &mut errors);
    errors.into_result()?;
    let draft = Incident {
        // Not stored yet: the id is only for rendering the alert.
        id: IncidentId(0),
        title: title.clone(),
        impact,
        nature: d.nature.trim().to_string(),
        state: IncidentState::Investigating,
        eta: eta.clone(),
        next_update_at: next,
        last_update_at: Timestamp::now(),
        long_resolution: false,
        overdue: false,
        hourly_breach: false,
        reminded_for: None,
        dry_run,
        public: true,
        declared_at: Timestamp::now(),
        resolved_at: None,
        services: services.clone(),
    };
    let recipients = audience(state, &services, dry_run).await?;
    // The incident has no id before it is stored; the first message links the status page,
    // which lists open incidents first.
    let mut vars = incident_vars(state, &draft, d.message.trim());
    vars.insert("status_url", format!("{}/status", state.public_url));
    let mut message = render(&template(state, TemplateKind::Alert).await?, &vars);
    if dry_run {
        message.subject = format!("[DRILL] {}", message.subject);
        message.body = format!(
            "This is a drill: only the crisis roster receives it.\n\n{}",
            message.body
        );
    }
    let id = state
        .store
        .declare_incident(
            &NewIncident {
                title,
                impact,
                nature: draft.nature.clone(),
                eta,
                next_update_at: next,
                message: d.message.trim().to_string(),
                services: services.iter().map(|s| s.id).collect(),
                declared_by: caller.id,
                dry_run,
                public: true,
                state: IncidentState::Investigating,
                signal_group: d.signal_group.map(SignalGroupId),
                postmortem_due: None,
            },
            &mails_for(&recipients, &message, "alert"),
        )
        .await?;
    Ok(state.store.incident(id).await?)
}

/// An update for an incident's audience. Every field is checked and every problem named at
/// once.
// The API's body, and what the incident page's form fills in.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInput {
    /// Required: where the incident stands now; `resolved` ends it.
    pub state: Option<IncidentState>,
    /// What changed, for the people affected.
    #[serde(default)]
    pub message: String,
    /// Required unless resolving: when the next update will be sent (RFC 3339, in the future).
    pub next_update_at: Option<String>,
    /// A new likely resolution: an RFC 3339 time or words.
    pub eta: Option<String>,
}

/// Posts an update to the incident's audience; resolution sends the end notice and opens the
/// post-mortem. Without `next_update_at` (unless resolving) nothing is stored or sent.
pub async fn post_update(
    state: &AppState,
    caller: &User,
    id: IncidentId,
    input: UpdateInput,
) -> ApiResult<Incident> {
    staff_only(caller)?;
    let incident = state.store.incident(id).await.or_not_found("incident")?;
    let mut errors = FieldErrors::new();
    let new_state = input.state.unwrap_or_else(|| {
        errors.add("state", "investigating, identified, monitoring or resolved");
        IncidentState::Investigating
    });
    if input.message.trim().is_empty() {
        errors.add("message", "say what changed");
    }
    let resolved = new_state == IncidentState::Resolved;
    let next = next_update(input.next_update_at.as_deref(), !resolved, &mut errors);
    let eta = input.eta.as_deref().map(|e| eta_text(Some(e), &mut errors));
    errors.into_result()?;
    if incident.state == IncidentState::Resolved {
        return Err(ApiError::Conflict {
            code: "resolved",
            message: "the incident is already resolved".into(),
        });
    }
    let mut after = incident.clone();
    after.state = new_state;
    after.next_update_at = if resolved { None } else { next };
    if let Some(eta) = &eta {
        after.eta = eta.clone();
    }
    let kind = if resolved {
        TemplateKind::Resolved
    } else {
        TemplateKind::Update
    };
    let mut message = render(
        &template(state, kind).await?,
        &incident_vars(state, &after, input.message.trim()),
    );
    if incident.dry_run {
        message.subject = format!("[DRILL] {}", message.subject);
    }
    let recipients = if incident.public {
        audience(state, &incident.services, incident.dry_run).await?
    } else {
        Vec::new()
    };
    state
        .store
        .add_incident_update(
            id,
            &IncidentUpdate {
                state: new_state,
                message: input.message.trim().to_string(),
                next_update_at: after.next_update_at,
                eta,
                by: caller.id,
                postmortem_due: resolved
                    .then(|| postmortem_due(Timestamp::now(), state.postmortem_business_days)),
            },
            &mails_for(&recipients, &message, kind.as_str()),
        )
        .await
        .or_conflict("resolved")?;
    Ok(state.store.incident(id).await?)
}
