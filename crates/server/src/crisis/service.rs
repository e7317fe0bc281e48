//! Crisis management rules shared by the API, the console and the status page: who is told
//! what, from which template, and the clock that keeps updates coming.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use backline_domain::crisis::{
    business_days_after, cadence, customers_told_through_partner, default_template,
    incident_audience, render, repeated_cause, Contact, Impact, IncidentState, RosterRole,
    Template, TemplateKind,
};
use backline_domain::{FieldErrors, OrgKind, Timestamp};
use backline_store::crisis::{
    format_time, Incident, IncidentUpdate, Mail, NewIncident, NewSignal, Postmortem, Service,
};
use backline_store::{now_millis, OrgRef, StoreError, User};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;
use utoipa::ToSchema;

/// Post-mortems are due this many business days after resolution, unless configured
/// (`--postmortem-business-days`).
pub const POSTMORTEM_BUSINESS_DAYS: u32 = 3;
const MAX_TITLE: usize = 200;

pub use crate::auth::staff_only;

pub async fn template(state: &AppState, kind: TemplateKind) -> ApiResult<Template> {
    Ok(state
        .store
        .template(kind)
        .await?
        .unwrap_or_else(|| default_template(kind)))
}

/// The end of the business day `days` business days after `from_ms`.
pub fn postmortem_due(from_ms: i64, days: u32) -> i64 {
    let from = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(from_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date();
    let due = business_days_after(from, days);
    let end = due.next_day().unwrap_or(due).midnight().assume_utc();
    (end.unix_timestamp_nanos() / 1_000_000) as i64 - 1
}

fn services_text(services: &[Service]) -> String {
    services
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn incident_vars(
    state: &AppState,
    incident: &Incident,
    message: &str,
) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("title", incident.title.clone()),
        ("services", services_text(&incident.services)),
        ("impact", incident.impact.to_string()),
        ("state", incident.state.to_string()),
        ("nature", incident.nature.clone()),
        ("message", message.to_string()),
        (
            "eta",
            if incident.eta.is_empty() {
                "not known yet".into()
            } else {
                incident.eta.clone()
            },
        ),
        (
            "next_update",
            incident
                .next_update_at
                .map(format_time)
                .unwrap_or_else(|| "none: this is the last message".into()),
        ),
        (
            "status_url",
            format!("{}/status#incident-{}", state.public_url, incident.id),
        ),
    ])
}

/// Who hears about an incident: for a drill, the roster only; otherwise the users of the
/// customers that use an affected service (as their agreements allow) and the service's
/// confirmed status subscribers, each with a one-click unsubscribe link where it applies.
/// A fixed number of queries, however many customers and partners are involved.
pub async fn audience(
    state: &AppState,
    services: &[Service],
    dry_run: bool,
) -> ApiResult<Vec<(String, Option<String>)>> {
    if dry_run {
        let roster = state.store.roster().await?;
        let mut emails: Vec<String> = roster
            .into_iter()
            .map(|r| r.email.trim().to_lowercase())
            .collect();
        emails.sort();
        emails.dedup();
        return Ok(emails.into_iter().map(|e| (e, None)).collect());
    }
    let ids: Vec<i64> = services.iter().map(|s| s.id).collect();
    let usage = state.store.service_usage().await?;
    // Only the users of the affected customers, in one query.
    let contacts: Vec<Contact> = state
        .store
        .customer_users_of_services(&ids)
        .await?
        .into_iter()
        .map(|u| Contact {
            email: u.email.clone(),
            org: u.org.as_ref().map(|o| o.id),
            no_vendor_contact: u.limits.no_vendor_contact,
        })
        .collect();
    // (email, service, token) of every confirmed subscription, read once.
    let subscriptions = state.store.confirmed_subscribers().await?;
    let subscribers: Vec<(String, i64)> = subscriptions
        .iter()
        .map(|(e, s, _)| (e.clone(), *s))
        .collect();
    let mut emails = incident_audience(&ids, &usage, &contacts, &subscribers);
    // Customers the vendor may not contact hear through their partners' technicians, read
    // for all those customers at once.
    let relayed = customers_told_through_partner(&ids, &usage, &contacts);
    for tech in state.store.technicians_serving(&relayed).await? {
        emails.push(tech.email.trim().to_lowercase());
    }
    emails.sort();
    emails.dedup();
    Ok(emails
        .into_iter()
        .map(|email| {
            let unsubscribe = subscriptions
                .iter()
                .find(|(e, service, _)| {
                    e.trim().eq_ignore_ascii_case(&email) && ids.contains(service)
                })
                .map(|(_, _, token)| format!("{}/status/unsubscribe/{token}", state.public_url));
            (email, unsubscribe)
        })
        .collect())
}

fn mails_for(recipients: &[(String, Option<String>)], message: &Template, kind: &str) -> Vec<Mail> {
    recipients
        .iter()
        .map(|(email, unsubscribe)| Mail {
            recipient: email.clone(),
            subject: message.subject.clone(),
            body: match unsubscribe {
                Some(url) => format!(
                    "{}\n\n--\nYou subscribed on our status page. Unsubscribe: {url}",
                    message.body
                ),
                None => message.body.clone(),
            },
            kind: kind.to_string(),
        })
        .collect()
}

/// The service named by `slug`: a 404 only when there is none; a failing store stays a 500.
pub async fn service_by_slug(state: &AppState, slug: &str) -> ApiResult<Service> {
    state
        .store
        .service_by_slug(slug.trim())
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound("service"),
            other => other.into(),
        })
}

/// The customer organisations that use a service (staff only).
pub async fn service_customers(
    state: &AppState,
    caller: &User,
    slug: &str,
) -> ApiResult<(Service, Vec<OrgRef>)> {
    staff_only(caller)?;
    let service = service_by_slug(state, slug).await?;
    let customers = state.store.service_customers(service.id).await?;
    Ok((service, customers))
}

/// Replaces the customer organisations that use a service. One 422 names every slug that
/// matches no organisation and every organisation that is not a customer; nothing changes.
pub async fn set_service_customers(
    state: &AppState,
    caller: &User,
    slug: &str,
    organizations: &[String],
) -> ApiResult<()> {
    staff_only(caller)?;
    let service = service_by_slug(state, slug).await?;
    let (mut ids, mut unknown, mut not_customers) = (Vec::new(), Vec::new(), Vec::new());
    for org in organizations.iter().map(|o| o.trim()) {
        match state.store.org_by_slug(org).await {
            Ok(o) if o.kind == OrgKind::Customer => {
                if !ids.contains(&o.id) {
                    ids.push(o.id);
                }
            }
            Ok(_) => not_customers.push(format!("{org:?}")),
            Err(StoreError::NotFound) => unknown.push(format!("{org:?}")),
            Err(e) => return Err(e.into()),
        }
    }
    let mut problems = Vec::new();
    if !unknown.is_empty() {
        problems.push(format!(
            "no organisation has the slug {}",
            unknown.join(", ")
        ));
    }
    if !not_customers.is_empty() {
        problems.push(format!("not customers: {}", not_customers.join(", ")));
    }
    if !problems.is_empty() {
        return Err(ApiError::validation("organizations", problems.join("; ")));
    }
    state.store.set_service_customers(service.id, &ids).await?;
    Ok(())
}

async fn services_by_slug(
    state: &AppState,
    slugs: &[String],
    errors: &mut FieldErrors,
) -> ApiResult<Vec<Service>> {
    let mut out = Vec::new();
    for slug in slugs {
        match state.store.service_by_slug(slug.trim()).await {
            Ok(s) => {
                if !out.iter().any(|o: &Service| o.id == s.id) {
                    out.push(s)
                }
            }
            Err(StoreError::NotFound) => errors.add("services", format!("no service {slug:?}")),
            Err(e) => return Err(e.into()),
        }
    }
    if out.is_empty() && slugs.is_empty() {
        errors.add("services", "name at least one affected service");
    }
    Ok(out)
}

/// An ETA as given: an RFC 3339 time is shown in UTC; anything else as written.
fn eta_text(eta: Option<&str>, errors: &mut FieldErrors) -> String {
    let Some(eta) = eta.map(str::trim).filter(|e| !e.is_empty()) else {
        return String::new();
    };
    if let Ok(at) = time::OffsetDateTime::parse(eta, &time::format_description::well_known::Rfc3339)
    {
        return format_time((at.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    if eta.chars().count() > 100 {
        errors.add("eta", "at most 100 characters");
    }
    eta.to_string()
}

fn next_update(text: Option<&str>, required: bool, errors: &mut FieldErrors) -> Option<i64> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => {
            if required {
                errors.add("next_update_at", "commit to the time of the next update");
            }
            None
        }
        Some(t) => {
            match time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339) {
                Ok(at) => {
                    let ms = (at.unix_timestamp_nanos() / 1_000_000) as i64;
                    if ms <= now_millis() {
                        errors.add("next_update_at", "must be in the future");
                    }
                    Some(ms)
                }
                Err(_) => {
                    errors.add(
                        "next_update_at",
                        "expected an RFC 3339 time such as 2026-11-23T15:30:00Z",
                    );
                    None
                }
            }
        }
    }
}

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
        id: 0,
        title: title.clone(),
        impact,
        nature: d.nature.trim().to_string(),
        state: IncidentState::Investigating,
        eta: eta.clone(),
        next_update_at: next,
        last_update_at: now_millis(),
        long_resolution: false,
        overdue: false,
        hourly_breach: false,
        reminded_for: None,
        dry_run,
        public: true,
        declared_at: now_millis(),
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
                signal_group: d.signal_group,
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
    id: i64,
    input: UpdateInput,
) -> ApiResult<Incident> {
    staff_only(caller)?;
    let incident = state.store.incident(id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::NotFound("incident"),
        other => other.into(),
    })?;
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
                    .then(|| postmortem_due(now_millis(), state.postmortem_business_days)),
            },
            &mails_for(&recipients, &message, kind.as_str()),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(message) => ApiError::Conflict {
                code: "resolved",
                message,
            },
            other => other.into(),
        })?;
    Ok(state.store.incident(id).await?)
}

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
) -> ApiResult<(i64, bool)> {
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
) -> ApiResult<Vec<(i64, bool)>> {
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
    group: i64,
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
                postmortem_due: Some(postmortem_due(now_millis(), state.postmortem_business_days)),
            },
            &[],
        )
        .await?;
    Ok(state.store.incident(id).await?)
}

/// Saves a post-mortem; a root-cause category seen within 90 days flags it for executives.
pub async fn save_postmortem(
    state: &AppState,
    caller: &User,
    mut pm: Postmortem,
) -> ApiResult<Postmortem> {
    staff_only(caller)?;
    let incident = state.store.incident(pm.incident_id).await?;
    let history = state.store.cause_history(pm.incident_id).await?;
    pm.executive_review = repeated_cause(
        &pm.category,
        &history,
        Timestamp::from_millis(incident.declared_at),
    );
    state
        .store
        .save_postmortem(&pm, caller.id)
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
pub async fn publish_postmortem(state: &AppState, caller: &User, id: i64) -> ApiResult<()> {
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
            caller.id,
            &mails_for(&recipients, &message, "postmortem"),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(message) => ApiError::Conflict {
                code: "published",
                message,
            },
            other => other.into(),
        })
}

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
    let rows: Vec<(i64, String)> = found.iter().map(|s| (s.id, token.clone())).collect();
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
            },
        )
        .await?;
    Ok(())
}

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
    let now = now_millis();
    let open = state.store.incidents(0, true).await?;
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
            Timestamp::from_millis(now),
            incident.state,
            incident.next_update_at.map(Timestamp::from_millis),
            Timestamp::from_millis(incident.last_update_at),
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
