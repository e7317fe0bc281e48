//! Crisis management rules shared by the API, the console and the status page: who is told
//! what, from which template, and the clock that keeps updates coming.

mod cadence;
mod incidents;
mod postmortems;
mod signals;
mod subscriptions;

pub use cadence::*;
pub use incidents::*;
pub use postmortems::*;
pub use signals::*;
pub use subscriptions::*;

use crate::error::{ApiError, ApiResult, StoreResult};
use crate::AppState;
use backline_domain::crisis::{
    business_days_after, customers_told_through_partner, default_template, incident_audience,
    Contact, Template, TemplateKind,
};
use backline_domain::{FieldErrors, OrgKind, ServiceId, Span, Timestamp};
use backline_store::crisis::{format_time, Incident, Mail, Service};
use backline_store::{OrgRef, StoreError, User};
use std::collections::BTreeMap;

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

/// The template of `kind` as it is used (the built-in one until edited) and its version (0
/// while the built-in one is used), read together.
pub async fn versioned_template(
    state: &AppState,
    kind: TemplateKind,
) -> ApiResult<(Template, i64)> {
    let (stored, version) = state.store.stored_template(kind).await?;
    Ok((stored.unwrap_or_else(|| default_template(kind)), version))
}

/// Checks and saves the template of `kind` (settings editors only), with `expected` only over
/// that version (412 `stale` otherwise); answers the new version.
pub async fn save_template(
    state: &AppState,
    caller: &backline_store::User,
    kind: TemplateKind,
    template: &Template,
    expected: Option<i64>,
) -> ApiResult<i64> {
    crate::auth::settings_only(caller)?;
    backline_domain::crisis::check_template(kind, template)?;
    Ok(state.store.write_template(kind, template, expected).await?)
}

/// The end of the business day `days` business days after `from` (its last millisecond).
pub fn postmortem_due(from: Timestamp, days: u32) -> Timestamp {
    let due = business_days_after(from.date(), days);
    Timestamp::start_of(due.next_day().unwrap_or(due)).minus(Span::from_millis(1))
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
    let ids: Vec<ServiceId> = services.iter().map(|s| s.id).collect();
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
    let subscribers: Vec<(String, ServiceId)> = subscriptions
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
            unsubscribe: unsubscribe.clone(),
        })
        .collect()
}

/// The service named by `slug`: a 404 only when there is none; a failing store stays a 500.
pub async fn service_by_slug(state: &AppState, slug: &str) -> ApiResult<Service> {
    state
        .store
        .service_by_slug(slug.trim())
        .await
        .or_not_found("service")
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
    if let Ok(at) = Timestamp::parse(eta) {
        return format_time(at);
    }
    if eta.chars().count() > 100 {
        errors.add("eta", "at most 100 characters");
    }
    eta.to_string()
}

fn next_update(text: Option<&str>, required: bool, errors: &mut FieldErrors) -> Option<Timestamp> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => {
            if required {
                errors.add("next_update_at", "commit to the time of the next update");
            }
            None
        }
        Some(t) => match Timestamp::parse(t) {
            Ok(at) => {
                if at <= Timestamp::now() {
                    errors.add("next_update_at", "must be in the future");
                }
                Some(at)
            }
            Err(_) => {
                errors.add(
                    "next_update_at",
                    "expected an RFC 3339 time such as 2026-11-23T15:30:00Z",
                );
                None
            }
        },
    }
}
