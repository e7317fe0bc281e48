//! Signals: reported problems and monitoring alerts, grouped per service, and dismissing a group.

use super::*;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use backline_domain::crisis::{render, Impact, IncidentState, RosterRole, TemplateKind};
use backline_domain::{FieldErrors, SignalGroupId, Timestamp};
use backline_store::crisis::{Incident, Mail, NewIncident, NewSignal};
use backline_store::{StoreError, User};
use std::collections::BTreeMap;

/// A suspected problem reported by a person, or an alert posted by monitoring.
#[derive(Debug, Clone)]
pub struct ProblemReport {
    /// The service's slug, when the reporter knows it.
    pub service: Option<String>,
    pub title: String,
    pub detail: String,
    pub status: backline_domain::crisis::SignalStatus,
}

/// Where a report came from, which is recorded as its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportedThrough {
    /// `POST /api/v1/signals`: staff tokens are the monitoring system's.
    Api,
    /// The "Report a problem" page.
    Page,
}

const MAX_SIGNAL_TITLE: usize = 200;

/// Records a reported problem as a signal (grouped by service, or by title when the service is
/// unknown), naming every field that is wrong before anything is stored. Returns the group and
/// whether the report opened it.
pub async fn report_problem(
    state: &AppState,
    caller: &User,
    report: ProblemReport,
    through: ReportedThrough,
) -> ApiResult<(SignalGroupId, bool)> {
    let mut errors = FieldErrors::new();
    let title = report.title.trim();
    if title.is_empty() {
        errors.add("title", "say in a few words what is wrong");
    } else if title.chars().count() > MAX_SIGNAL_TITLE {
        errors.add(
            "title",
            format!("keep the summary within {MAX_SIGNAL_TITLE} characters; put the rest in the details"),
        );
    }
    let service = match report
        .service
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(slug) => match state.store.service_by_slug(slug).await {
            Ok(s) => Some(s.id),
            Err(StoreError::NotFound) => {
                errors.add("service", format!("there is no service {slug:?}"));
                None
            }
            Err(e) => return Err(e.into()),
        },
    };
    errors.into_result()?;
    let source = match (caller.actor().is_staff(), through) {
        (true, ReportedThrough::Api) => "monitoring",
        (true, ReportedThrough::Page) => "staff",
        (false, _) => "report",
    };
    let signal = NewSignal {
        service,
        group_key: match service {
            Some(id) => format!("service:{id}"),
            None => format!("report:{}", title.to_lowercase()),
        },
        title: title.into(),
        detail: report.detail.chars().take(10_000).collect(),
        source: source.into(),
        status: report.status.as_str().into(),
        reported_by: Some(caller.id),
    };
    let groups = record_signals(state, vec![signal]).await?;
    groups
        .first()
        .copied()
        .ok_or_else(|| ApiError::Internal("recording a signal returned no group".into()))
}

/// Records signals; a signal that opens a new group alerts the support and operations roster.
pub async fn record_signals(
    state: &AppState,
    signals: Vec<NewSignal>,
) -> ApiResult<Vec<(SignalGroupId, bool)>> {
    let roster = state.store.roster().await?;
    let to: Vec<String> = roster
        .iter()
        .filter(|r| {
            matches!(
                r.role,
                RosterRole::SupportCommunications | RosterRole::Operations
            )
        })
        .map(|r| r.email.clone())
        .collect();
    let services = state.store.services().await?;
    let mut out = Vec::new();
    for signal in signals {
        let service = signal
            .service
            .and_then(|id| services.iter().find(|s| s.id == id));
        let vars = BTreeMap::from([
            (
                "service",
                service.map_or("an unknown service".into(), |s| s.name.clone()),
            ),
            ("title", signal.title.clone()),
            ("detail", signal.detail.clone()),
            ("count", "1".to_string()),
            ("console_url", format!("{}/incidents", state.public_url)),
        ]);
        let message = render(&template(state, TemplateKind::Signal).await?, &vars);
        let mails: Vec<Mail> = to
            .iter()
            .map(|email| Mail {
                recipient: email.clone(),
                subject: message.subject.clone(),
                body: message.body.clone(),
                kind: "signal".into(),
                unsubscribe: None,
            })
            .collect();
        out.push(state.store.record_signal(&signal, &mails).await?);
    }
    Ok(out)
}

/// Operations decide a signal needs no formal incident: it goes straight to a post-mortem,
/// as an internal incident nobody outside is told about.
pub async fn dismiss(
    state: &AppState,
    caller: &User,
    group: SignalGroupId,
    reason: &str,
) -> ApiResult<Incident> {
    staff_only(caller)?;
    let groups = state.store.signal_groups(true).await?;
    let Some(g) = groups.into_iter().find(|g| g.id == group) else {
        return Err(ApiError::NotFound("open signal group"));
    };
    let id = state
        .store
        .declare_incident(
            &NewIncident {
                title: g.title.clone(),
                impact: Impact::Minor,
                nature: "Dismissed signal: no formal incident".into(),
                eta: String::new(),
                next_update_at: None,
                message: reason.trim().to_string(),
                services: g.service.iter().map(|s| s.id).collect(),
                declared_by: caller.id,
                dry_run: false,
                public: false,
                state: IncidentState::Resolved,
                signal_group: Some(group),
                postmortem_due: Some(postmortem_due(
                    Timestamp::now(),
                    state.postmortem_business_days,
                )),
            },
            &[],
        )
        .await?;
    Ok(state.store.incident(id).await?)
}
