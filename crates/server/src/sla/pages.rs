//! `/sla`: the service-level policies in the order they are tried, and the business calendars
//! they count in. Staff read it; admins change it.

use super::service::{self, PolicySubmission};
use crate::error::ApiError;
use crate::layout::{field_error, html_response, page, span_words, stale_notice, version_field};
use crate::session::WebUser;
use crate::web::{CsrfForm, NoFields, OrPage, PageResult};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use backline_domain::partner::Party;
use backline_domain::sla::{CalendarSpec, WorkingHours};
use backline_domain::{FieldErrors, Priority, Span};
use backline_store::{SlaCalendar, SlaPolicy};
use maud::{html, Markup};
use serde::Deserialize;

/// The policy form as typed, so a refused form comes back as it was.
#[derive(Deserialize, Default, Clone)]
pub struct PolicyForm {
    id: Option<i64>,
    /// The policy's version the form was drawn from (editing only).
    version: Option<i64>,
    name: String,
    #[serde(default)]
    organizations: String,
    #[serde(default)]
    partners: String,
    #[serde(default)]
    customer_owner: String,
    #[serde(default)]
    products: String,
    #[serde(default)]
    priority_low: Option<String>,
    #[serde(default)]
    priority_normal: Option<String>,
    #[serde(default)]
    priority_high: Option<String>,
    #[serde(default)]
    priority_urgent: Option<String>,
    #[serde(default)]
    calendar_id: String,
    #[serde(default)]
    first_reply: String,
    #[serde(default)]
    next_reply: String,
    #[serde(default)]
    resolution: String,
    #[serde(default)]
    warn: String,
}

/// The calendar form as typed.
#[derive(Deserialize, Default, Clone)]
pub struct CalendarForm {
    id: Option<i64>,
    /// The calendar's version the form was drawn from (editing only).
    version: Option<i64>,
    name: String,
    time_zone: String,
    /// One line per rule: `mon-fri 09:00-17:00`, `sat 10:00-14:00`.
    hours: String,
    /// One date per line or separated by commas.
    #[serde(default)]
    holidays: String,
}

/// `?policy=ID` or `?calendar=ID` opens that one in its form to edit.
#[derive(Deserialize, Default)]
pub struct SlaQuery {
    policy: Option<i64>,
    calendar: Option<i64>,
}

pub async fn sla_page(
    State(state): State<AppState>,
    who: WebUser,
    axum::extract::Query(q): axum::extract::Query<SlaQuery>,
) -> PageResult {
    let empty = FieldErrors::new();
    let policy = match q.policy {
        Some(id) => Some(
            policy_form(
                &state,
                &service::read_policy(&state.store, &who.user, id)
                    .await
                    .or_page(&who)?,
            )
            .await
            .or_page(&who)?,
        ),
        None => None,
    };
    let calendar = match q.calendar {
        Some(id) => Some(calendar_form(
            &service::calendar(&state.store, &who.user, id)
                .await
                .or_page(&who)?,
        )),
        None => None,
    };
    render(
        &state,
        &who,
        policy.as_ref().map(|f| (f, &empty)),
        calendar.as_ref().map(|f| (f, &empty)),
        None,
        StatusCode::OK,
    )
    .await
}

/// A length in minutes as the form takes it back: `1d 4h`, `30m`.
fn length_text(minutes: i64) -> String {
    let (days, hours, mins) = (minutes / (24 * 60), minutes / 60 % 24, minutes % 60);
    let parts: Vec<String> = [(days, "d"), (hours, "h"), (mins, "m")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if parts.is_empty() {
        "0".into()
    } else {
        parts.join(" ")
    }
}

/// A stored policy in the form, to edit it.
async fn policy_form(state: &AppState, p: &SlaPolicy) -> Result<PolicyForm, ApiError> {
    let c = &p.input.conditions;
    let length = |s: Option<Span>| {
        s.map(|s| length_text(s.as_millis() / Span::MINUTE.as_millis()))
            .unwrap_or_default()
    };
    let has = |priority: Priority| c.priorities.contains(&priority).then(|| "1".to_string());
    Ok(PolicyForm {
        id: Some(p.id),
        version: Some(p.version),
        name: p.input.name.clone(),
        organizations: service::slugs(&state.store, &c.organizations)
            .await?
            .join(", "),
        partners: service::slugs(&state.store, &c.partners).await?.join(", "),
        customer_owner: c.customer_owner.map(|o| o.to_string()).unwrap_or_default(),
        products: c.products.join(", "),
        priority_low: has(Priority::Low),
        priority_normal: has(Priority::Normal),
        priority_high: has(Priority::High),
        priority_urgent: has(Priority::Urgent),
        calendar_id: p
            .input
            .calendar_id
            .map(|c| c.to_string())
            .unwrap_or_default(),
        first_reply: length(p.input.first_reply),
        next_reply: length(p.input.next_reply),
        resolution: length(p.input.resolution),
        warn: length(Some(p.input.warn_before)),
    })
}

/// A stored calendar in the form, to edit it.
fn calendar_form(c: &SlaCalendar) -> CalendarForm {
    CalendarForm {
        id: Some(c.id),
        version: Some(c.version),
        name: c.name.clone(),
        time_zone: c.spec.time_zone.clone(),
        hours: c
            .spec
            .hours
            .iter()
            .map(|h| format!("{} {}-{}", h.day, h.start, h.end))
            .collect::<Vec<_>>()
            .join("\n"),
        holidays: c.spec.holidays.join("\n"),
    }
}

/// Which form comes back because what it edits changed meanwhile.
#[derive(Clone, Copy, PartialEq)]
enum Stale {
    Policy,
    Calendar,
}

async fn render(
    state: &AppState,
    who: &WebUser,
    policy_form: Option<(&PolicyForm, &FieldErrors)>,
    calendar_form: Option<(&CalendarForm, &FieldErrors)>,
    stale: Option<Stale>,
    status: StatusCode,
) -> PageResult {
    let store = &state.store;
    let policies = service::policies(store, &who.user).await.or_page(who)?;
    let calendars = service::calendars(store, &who.user).await.or_page(who)?;
    let admin = who.user.may_change_settings();
    let empty = FieldErrors::new();
    let (blank_policy, blank_calendar) = (PolicyForm::default(), CalendarForm::default());
    let (pform, perrors) = policy_form.unwrap_or((&blank_policy, &empty));
    let (cform, cerrors) = calendar_form.unwrap_or((&blank_calendar, &empty));
    let calendar_name = |id: Option<i64>| match id {
        None => "around the clock".to_string(),
        Some(id) => calendars
            .iter()
            .find(|c| c.id == id)
            .map_or_else(|| "a deleted calendar".into(), |c| c.name.clone()),
    };
    let mut rows: Vec<Markup> = Vec::new();
    for (i, p) in policies.iter().enumerate() {
        let c = &p.input.conditions;
        let mut applies: Vec<String> = Vec::new();
        if !c.priorities.is_empty() {
            applies.push(format!(
                "priority {}",
                c.priorities
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        }
        let orgs = service::slugs(store, &c.organizations).await.or_page(who)?;
        if !orgs.is_empty() {
            applies.push(format!("organisation {}", orgs.join(" or ")));
        }
        let partners = service::slugs(store, &c.partners).await.or_page(who)?;
        if !partners.is_empty() {
            applies.push(format!("partner {}", partners.join(" or ")));
        }
        if let Some(owner) = c.customer_owner {
            applies.push(format!("customers owned by the {owner}"));
        }
        if !c.products.is_empty() {
            applies.push(format!("product {}", c.products.join(" or ")));
        }
        let target = |s: Option<Span>| s.map_or_else(|| "—".to_string(), span_words);
        rows.push(html! {
            tr {
                td.num { (i + 1) }
                td { strong { (p.input.name) } }
                td { @if applies.is_empty() { "every case" } @else { (applies.join("; ")) } }
                td { (target(p.input.first_reply)) }
                td { (target(p.input.next_reply)) }
                td { (target(p.input.resolution)) }
                td { (calendar_name(p.input.calendar_id)) }
                td { (span_words(p.input.warn_before)) " before" }
                @if admin {
                    td.actions {
                        a.button.secondary href=(format!("/sla?policy={}#policy-form", p.id)) aria-label=(format!("Edit policy {}", p.input.name)) { "Edit" }
                        form.inline method="post" action=(format!("/sla/policies/{}/move", p.id)) {
                            input type="hidden" name="csrf" value=(who.csrf);
                            input type="hidden" name="up" value="1";
                            button.secondary type="submit" disabled[i == 0] aria-label=(format!("Try {} earlier", p.input.name)) { "↑" }
                        }
                        form.inline method="post" action=(format!("/sla/policies/{}/move", p.id)) {
                            input type="hidden" name="csrf" value=(who.csrf);
                            button.secondary type="submit" disabled[i + 1 == policies.len()] aria-label=(format!("Try {} later", p.input.name)) { "↓" }
                        }
                        form.inline method="post" action=(format!("/sla/policies/{}/delete", p.id))
                            data-confirm=(format!("Delete the policy {}? Open cases it covers are evaluated again under the others.", p.input.name)) {
                            input type="hidden" name="csrf" value=(who.csrf);
                            button.secondary type="submit" aria-label=(format!("Delete policy {}", p.input.name)) { "Delete" }
                        }
                    }
                }
            }
        });
    }
    let checked = |v: &Option<String>| v.is_some();
    let body = html! {
        h1 { "Service levels" }
        p.muted { "Each case gets the targets of the first policy that matches it. Clocks count business time in the policy's calendar and pause while a case waits on the customer (pending)." }
        section.card {
            h2 { "Policies, in the order they are tried" }
            @if policies.is_empty() { p.empty { "No policy yet: cases have no targets." } }
            @else {
                div.table-scroll { table.list {
                    thead { tr { th { "#" } th { "Policy" } th { "Applies to" } th { "First reply" } th { "Next reply" } th { "Resolution" } th { "Calendar" } th { "Warning" } @if admin { th { span.visually-hidden { "Actions" } } } } }
                    tbody { @for row in &rows { (row) } }
                } }
            }
        }
        @if admin {
            section.card #policy-form {
                @if pform.id.is_some() { h2 { "Edit the policy " (pform.name) } } @else { h2 { "Add a policy" } }
                @if stale == Some(Stale::Policy) {
                    (stale_notice("policy"))
                    @if let Some(now) = pform.id.and_then(|id| policies.iter().find(|p| p.id == id)) {
                        @let target = |s: Option<Span>| s.map_or_else(|| "none".to_string(), span_words);
                        p.current {
                            "Now: " strong { (now.input.name) } ", first reply " (target(now.input.first_reply))
                            ", next reply " (target(now.input.next_reply)) ", resolution " (target(now.input.resolution))
                            ", warning " (span_words(now.input.warn_before)) " before, counted " (calendar_name(now.input.calendar_id)) "."
                        }
                    }
                }
                @if !perrors.is_empty() { div.error role="alert" { "The policy was not saved. Please correct the fields marked below." } }
                form method="post" action="/sla/policies" {
                    input type="hidden" name="csrf" value=(who.csrf);
                    @if let Some(id) = pform.id { input type="hidden" name="id" value=(id); }
                    (version_field(pform.version))
                    label for="p-name" { "Name" }
                    input #p-name type="text" name="name" value=(pform.name) maxlength="80" required;
                    (field_error(perrors, &["name"]))
                    fieldset {
                        legend { "Applies to (leave empty for any)" }
                        span { "Priority:" }
                        label.inline { input type="checkbox" name="priority_urgent" value="1" checked[checked(&pform.priority_urgent)]; " urgent" }
                        label.inline { input type="checkbox" name="priority_high" value="1" checked[checked(&pform.priority_high)]; " high" }
                        label.inline { input type="checkbox" name="priority_normal" value="1" checked[checked(&pform.priority_normal)]; " normal" }
                        label.inline { input type="checkbox" name="priority_low" value="1" checked[checked(&pform.priority_low)]; " low" }
                        label for="p-orgs" { "Organisations (slugs, separated by commas)" }
                        input #p-orgs type="text" name="organizations" value=(pform.organizations);
                        (field_error(perrors, &["organizations"]))
                        label for="p-partners" { "Partners (slugs, separated by commas)" }
                        input #p-partners type="text" name="partners" value=(pform.partners);
                        (field_error(perrors, &["partners"]))
                        label for="p-owner" { "Who owns the customer under the partner agreement" }
                        select #p-owner name="customer_owner" {
                            option value="" selected[pform.customer_owner.is_empty()] { "either" }
                            option value="partner" selected[pform.customer_owner == "partner"] { "the partner" }
                            option value="vendor" selected[pform.customer_owner == "vendor"] { "the vendor" }
                        }
                        label for="p-products" { "Products (separated by commas)" }
                        input #p-products type="text" name="products" value=(pform.products);
                    }
                    p.muted { "Write targets as 30m, 4h, 2d or 1d 4h (business time); leave a target empty to have none." }
                    label for="p-first" { "First reply within" }
                    input #p-first type="text" name="first_reply" value=(pform.first_reply) placeholder="4h";
                    (field_error(perrors, &["first_reply_minutes"]))
                    label for="p-next" { "Next reply within" }
                    input #p-next type="text" name="next_reply" value=(pform.next_reply) placeholder="8h";
                    (field_error(perrors, &["next_reply_minutes"]))
                    label for="p-resolution" { "Resolution within" }
                    input #p-resolution type="text" name="resolution" value=(pform.resolution) placeholder="5d";
                    (field_error(perrors, &["resolution_minutes"]))
                    label for="p-warn" { "Warn the assignee and the queue this long before" }
                    input #p-warn type="text" name="warn" value=(pform.warn) placeholder="1h";
                    (field_error(perrors, &["warn_minutes"]))
                    label for="p-calendar" { "Count time in" }
                    select #p-calendar name="calendar_id" {
                        option value="" { "around the clock" }
                        @for c in &calendars {
                            option value=(c.id) selected[pform.calendar_id == c.id.to_string()] { (c.name) " (" (c.spec.time_zone) ")" }
                        }
                    }
                    (field_error(perrors, &["calendar_id"]))
                    button type="submit" { "Save policy" }
                }
            }
        }
        section.card {
            h2 { "Business calendars" }
            @if calendars.is_empty() { p.empty { "No calendar yet: policies count around the clock." } }
            @for c in &calendars {
                div.calendar {
                    h3 { (c.name) " " span.muted { (c.spec.time_zone) } }
                    p { @for (i, h) in c.spec.hours.iter().enumerate() { @if i > 0 { ", " } (h.day) " " (h.start) "–" (h.end) } }
                    @if !c.spec.holidays.is_empty() { p.muted { "Holidays: " (c.spec.holidays.join(", ")) } }
                    @if admin {
                        a.button.secondary href=(format!("/sla?calendar={}#calendar-form", c.id)) aria-label=(format!("Edit calendar {}", c.name)) { "Edit" }
                        " "
                        form.inline method="post" action=(format!("/sla/calendars/{}/delete", c.id)) {
                            input type="hidden" name="csrf" value=(who.csrf);
                            button.secondary type="submit" aria-label=(format!("Delete calendar {}", c.name)) { "Delete" }
                        }
                    }
                }
            }
            @if admin {
                @if cform.id.is_some() { h3 { "Edit the calendar " (cform.name) } } @else { h3 { "Add a calendar" } }
                @if stale == Some(Stale::Calendar) {
                    (stale_notice("calendar"))
                    @if let Some(now) = cform.id.and_then(|id| calendars.iter().find(|c| c.id == id)) {
                        p.current {
                            "Now: " strong { (now.name) } " (" (now.spec.time_zone) "), "
                            @for (i, h) in now.spec.hours.iter().enumerate() { @if i > 0 { ", " } (h.day) " " (h.start) "–" (h.end) }
                            @if !now.spec.holidays.is_empty() { "; holidays " (now.spec.holidays.join(", ")) }
                            "."
                        }
                    }
                }
                @if !cerrors.is_empty() { div.error role="alert" { "The calendar was not saved. Please correct the fields marked below." } }
                form #calendar-form method="post" action="/sla/calendars" {
                    input type="hidden" name="csrf" value=(who.csrf);
                    @if let Some(id) = cform.id { input type="hidden" name="id" value=(id); }
                    (version_field(cform.version))
                    label for="c-name" { "Name" }
                    input #c-name type="text" name="name" value=(cform.name) maxlength="80" required;
                    (field_error(cerrors, &["name"]))
                    label for="c-zone" { "Time zone" }
                    input #c-zone type="text" name="time_zone" value=(cform.time_zone) placeholder="Europe/Berlin" required;
                    (field_error(cerrors, &["time_zone"]))
                    label for="c-hours" { "Working hours, one rule per line" }
                    textarea #c-hours name="hours" rows="3" placeholder="mon-fri 09:00-17:00" { (cform.hours) }
                    (field_error(cerrors, &["hours"]))
                    label for="c-holidays" { "Holidays, one date per line (YYYY-MM-DD)" }
                    textarea #c-holidays name="holidays" rows="3" placeholder="2026-12-25" { (cform.holidays) }
                    (field_error(cerrors, &["holidays"]))
                    button type="submit" { "Save calendar" }
                }
            }
        }
    };
    Ok(html_response(
        status,
        page("Service levels", Some(who), body),
    ))
}

/// Reads "4h", "30m", "2d", "1d 4h" or a bare number of minutes; `Ok(None)` when empty.
fn minutes(text: &str) -> Result<Option<i64>, String> {
    let text = text.trim().to_lowercase();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(n) = text.parse::<i64>() {
        return Ok(Some(n));
    }
    let mut total: i64 = 0;
    for part in text.split_whitespace() {
        let (number, unit) = part.split_at(
            part.find(|c: char| !c.is_ascii_digit())
                .unwrap_or(part.len()),
        );
        let n: i64 = number
            .parse()
            .map_err(|_| format!("write a length such as 30m, 4h or 2d, not {part:?}"))?;
        let per = match unit {
            "m" | "min" | "mins" | "minutes" => 1,
            "h" | "hr" | "hrs" | "hours" => 60,
            "d" | "day" | "days" => 24 * 60,
            _ => {
                return Err(format!(
                    "write a length such as 30m, 4h or 2d, not {part:?}"
                ))
            }
        };
        total = total.saturating_add(n.saturating_mul(per));
    }
    Ok(Some(total))
}

fn list(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn save_policy(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<PolicyForm>,
) -> PageResult {
    let mut errors = FieldErrors::new();
    let mut read = |field: &str, text: &str| match minutes(text) {
        Ok(m) => m,
        Err(message) => {
            errors.add(field, message);
            None
        }
    };
    let first_reply_minutes = read("first_reply_minutes", &form.first_reply);
    let next_reply_minutes = read("next_reply_minutes", &form.next_reply);
    let resolution_minutes = read("resolution_minutes", &form.resolution);
    let warn_minutes = read("warn_minutes", &form.warn);
    let priorities = [
        (&form.priority_low, Priority::Low),
        (&form.priority_normal, Priority::Normal),
        (&form.priority_high, Priority::High),
        (&form.priority_urgent, Priority::Urgent),
    ]
    .iter()
    .filter(|(on, _)| on.is_some())
    .map(|(_, p)| *p)
    .collect();
    let submission = PolicySubmission {
        name: form.name.clone(),
        organizations: list(&form.organizations),
        partners: list(&form.partners),
        customer_owner: Party::parse(&form.customer_owner).ok(),
        priorities,
        products: list(&form.products),
        calendar_id: form.calendar_id.trim().parse().ok(),
        first_reply_minutes,
        next_reply_minutes,
        resolution_minutes,
        warn_minutes,
    };
    let result = match errors.is_empty() {
        true => service::save_policy(&state.store, &who.user, form.id, &submission, form.version)
            .await
            .map(drop),
        false => Err(ApiError::Validation(errors)),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/sla").into_response()),
        Err(ApiError::Validation(errors)) => {
            render(
                &state,
                &who,
                Some((&form, &errors)),
                None,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(ApiError::Stale(_)) => {
            // Someone changed the policy after this form was drawn: nothing is overwritten;
            // the list shows the policy as it is now and the form keeps what was typed, now
            // against the current version, so saving again is a deliberate choice.
            let id = form.id.unwrap_or_default();
            let current = service::read_policy(&state.store, &who.user, id)
                .await
                .or_page(&who)?;
            let form = PolicyForm {
                version: Some(current.version),
                ..form
            };
            render(
                &state,
                &who,
                Some((&form, &FieldErrors::new())),
                None,
                Some(Stale::Policy),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e).or_page(&who),
    }
}

/// Reads the working-hours lines: `mon-fri 09:00-17:00`, `sat 10:00-14:00`,
/// `mon,wed 08:00-12:00`.
fn hours(text: &str) -> Result<Vec<WorkingHours>, String> {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let problem = || {
            format!(
                "write each line as days and hours, such as \"mon-fri 09:00-17:00\", not {line:?}"
            )
        };
        let (days, times) = line.split_once(char::is_whitespace).ok_or_else(problem)?;
        let (start, end) = times.trim().split_once('-').ok_or_else(problem)?;
        let mut picked: Vec<&str> = Vec::new();
        for part in days.to_lowercase().split(',') {
            let index = |d: &str| DAYS.iter().position(|x| *x == d.get(..3).unwrap_or(d));
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (index(a).ok_or_else(problem)?, index(b).ok_or_else(problem)?);
                    if a > b {
                        return Err(problem());
                    }
                    picked.extend(&DAYS[a..=b]);
                }
                None => picked.push(DAYS[index(part).ok_or_else(problem)?]),
            }
        }
        for day in picked {
            out.push(WorkingHours {
                day: day.to_string(),
                start: start.trim().to_string(),
                end: end.trim().to_string(),
            });
        }
    }
    Ok(out)
}

pub async fn save_calendar(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<CalendarForm>,
) -> PageResult {
    let result = match hours(&form.hours) {
        Err(message) => Err(ApiError::validation("hours", message)),
        Ok(hours) => {
            let spec = CalendarSpec {
                time_zone: form.time_zone.trim().to_string(),
                hours,
                holidays: list(&form.holidays),
            };
            service::save_calendar(
                &state.store,
                &who.user,
                form.id,
                &form.name,
                &spec,
                form.version,
            )
            .await
            .map(drop)
        }
    };
    match result {
        Ok(()) => Ok(Redirect::to("/sla").into_response()),
        Err(ApiError::Validation(errors)) => {
            render(
                &state,
                &who,
                None,
                Some((&form, &errors)),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(ApiError::Stale(_)) => {
            // As for a policy: the calendar as it is now is listed, the form keeps what was
            // typed against the current version.
            let current = service::calendar(&state.store, &who.user, form.id.unwrap_or_default())
                .await
                .or_page(&who)?;
            let form = CalendarForm {
                version: Some(current.version),
                ..form
            };
            render(
                &state,
                &who,
                None,
                Some((&form, &FieldErrors::new())),
                Some(Stale::Calendar),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e).or_page(&who),
    }
}

#[derive(Deserialize)]
pub struct MoveForm {
    up: Option<String>,
}

pub async fn move_policy(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<MoveForm>,
) -> PageResult {
    service::move_policy(&state.store, &who.user, id, form.up.is_some())
        .await
        .or_page(&who)?;
    Ok(Redirect::to("/sla").into_response())
}

pub async fn delete_policy(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    service::delete_policy(&state.store, &who.user, id, None)
        .await
        .or_page(&who)?;
    Ok(Redirect::to("/sla").into_response())
}

pub async fn delete_calendar(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    service::delete_calendar(&state.store, &who.user, id, None)
        .await
        .or_page(&who)?;
    Ok(Redirect::to("/sla").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_read_as_people_write_them() {
        assert_eq!(minutes("4h"), Ok(Some(240)));
        assert_eq!(minutes(" 1d 4h "), Ok(Some(1680)));
        assert_eq!(minutes("90"), Ok(Some(90)));
        assert_eq!(minutes(""), Ok(None));
        assert!(minutes("soon").is_err());
        assert!(minutes("4 hours").is_err());
    }

    #[test]
    fn lengths_written_back_read_the_same() {
        for m in [30, 240, 1680, 1441, 24 * 60] {
            assert_eq!(minutes(&length_text(m)), Ok(Some(m)), "{m}");
        }
    }

    #[test]
    fn working_hours_lines_expand_to_days() {
        let h = hours("mon-fri 09:00-17:00\nsat 10:00-14:00").unwrap();
        assert_eq!(h.len(), 6);
        assert_eq!((h[0].day.as_str(), h[0].start.as_str()), ("mon", "09:00"));
        assert_eq!(h[5].day, "sat");
        assert!(hours("weekdays 9-5").is_err());
        assert!(hours("fri-mon 09:00-17:00").is_err());
    }
}
