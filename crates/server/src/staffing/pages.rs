//! `/staffing`: the arrival forecast and the agents it needs, for the next weeks, with the
//! busiest day as a table (and CSV), the plan's inputs and what-ifs, the forecast's held-out
//! error, and the known events admins enter.

use super::service::{self, EventSubmission, Plan, PlanRequest};
use crate::error::ApiError;
use crate::layout::{field_error, html_response, page};
use crate::session::WebUser;
use crate::web::{CsrfForm, NoFields, OrPage, PageResult};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect};
use backline_domain::forecast::EventKind;
use backline_domain::{FieldErrors, Role, Timestamp};
use maud::{html, Markup, PreEscaped};
use serde::{Deserialize, Serialize};

/// The plan form as typed, so a refused one comes back as it was.
#[derive(Deserialize, Serialize, Default, Clone, Debug)]
pub struct PlanForm {
    #[serde(default)]
    service_level_percent: String,
    #[serde(default)]
    answer_within_seconds: String,
    #[serde(default)]
    aht_seconds: String,
    #[serde(default)]
    shrinkage_percent: String,
    #[serde(default)]
    max_occupancy_percent: String,
    #[serde(default)]
    deflection_percent: String,
    #[serde(default)]
    partner_share_percent: String,
    #[serde(default)]
    weeks: String,
    #[serde(default)]
    history_weeks: String,
}

impl PlanForm {
    /// The request, with what could not be read left at its default, and every field that is
    /// not a number or is out of range.
    fn request(&self) -> (PlanRequest, FieldErrors) {
        let mut errors = FieldErrors::new();
        let d = PlanRequest::default();
        let mut number = |field: &str, text: &str| -> Option<f64> {
            let text = text.trim().trim_end_matches('%').trim();
            if text.is_empty() {
                return None;
            }
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Some(v),
                _ => {
                    errors.add(field, format!("write a number, not {text:?}"));
                    None
                }
            }
        };
        let request = PlanRequest {
            service_level_percent: number("service_level_percent", &self.service_level_percent)
                .unwrap_or(d.service_level_percent),
            answer_within_seconds: number("answer_within_seconds", &self.answer_within_seconds)
                .unwrap_or(d.answer_within_seconds),
            aht_seconds: number("aht_seconds", &self.aht_seconds),
            shrinkage_percent: number("shrinkage_percent", &self.shrinkage_percent)
                .unwrap_or(d.shrinkage_percent),
            max_occupancy_percent: number("max_occupancy_percent", &self.max_occupancy_percent)
                .or(d.max_occupancy_percent),
            deflection_percent: number("deflection_percent", &self.deflection_percent)
                .unwrap_or(d.deflection_percent),
            partner_share_percent: number("partner_share_percent", &self.partner_share_percent)
                .unwrap_or(d.partner_share_percent),
            weeks: number("weeks", &self.weeks).map_or(d.weeks, |w| w.clamp(0.0, 1e6) as u32),
            history_weeks: number("history_weeks", &self.history_weeks)
                .map_or(d.history_weeks, |w| w.clamp(0.0, 1e6) as u32),
        };
        if let Err(ApiError::Validation(range)) = request.check() {
            for (field, message) in range.0 {
                errors.add(&field, message);
            }
        }
        (request, errors)
    }

    fn query_string(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }
}

/// The event form as typed.
#[derive(Deserialize, Default, Clone)]
pub struct EventForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    /// `datetime-local` values, read as UTC.
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
    #[serde(default)]
    lift_percent: String,
}

/// The busiest day's rows exactly as the table and the CSV show them.
pub const COLUMNS: [&str; 10] = [
    "hour (UTC)",
    "arrivals",
    "handled after what-ifs",
    "traffic (erlangs)",
    "agents",
    "scheduled",
    "scheduled without what-ifs",
    "service level",
    "occupancy",
    "average wait (s)",
];

pub fn peak_rows(plan: &Plan) -> Vec<[String; 10]> {
    plan.intervals[plan.peak_range.clone()]
        .iter()
        .map(|p| {
            [
                hour_label(p.at),
                format!("{:.2}", p.arrivals),
                format!("{:.2}", p.handled),
                format!("{:.2}", p.staffing.traffic),
                p.staffing.agents.to_string(),
                p.staffing.scheduled.to_string(),
                p.scheduled_without_what_ifs.to_string(),
                format!("{:.1}%", p.staffing.service_level * 100.0),
                format!("{:.1}%", p.staffing.occupancy * 100.0),
                format!("{:.1}", p.staffing.average_wait_secs),
            ]
        })
        .collect()
}

fn hour_label(at: Timestamp) -> String {
    // RFC 3339 is "YYYY-MM-DDTHH:MM:SSZ"; people read "YYYY-MM-DD HH:MM".
    let text = at.to_rfc3339();
    text.get(..16).unwrap_or(&text).replace('T', " ")
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

pub async fn staffing_page(
    State(state): State<AppState>,
    who: WebUser,
    Query(form): Query<PlanForm>,
) -> PageResult {
    render(&state, &who, &form, None).await
}

async fn render(
    state: &AppState,
    who: &WebUser,
    form: &PlanForm,
    event_form: Option<(&EventForm, &FieldErrors)>,
) -> PageResult {
    let store = &state.store;
    let events = service::events(store, &who.user).await.or_page(who)?;
    let (request, errors) = form.request();
    let (plan, plan_errors) = match errors.into_result() {
        Err(errors) => (None, errors),
        Ok(()) => match service::plan(store, &who.user, state.clock.now(), &request).await {
            Ok(plan) => (Some(plan), FieldErrors::new()),
            Err(ApiError::Validation(errors)) => (None, errors),
            Err(e) => return Err(e).or_page(who),
        },
    };
    let admin = who.user.role == Role::Admin;
    let empty = FieldErrors::new();
    let blank = EventForm {
        lift_percent: "100".into(),
        kind: "release".into(),
        ..EventForm::default()
    };
    let (eform, eerrors) = event_form.unwrap_or((&blank, &empty));
    let status = if !plan_errors.is_empty() || !eerrors.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let field = |id: &str, name: &str, label: &str, value: &str, placeholder: &str| {
        html! {
            div.field {
                label for=(id) { (label) }
                input id=(id) type="text" inputmode="decimal" name=(name) value=(value) placeholder=(placeholder);
                (field_error(&plan_errors, &[name]))
            }
        }
    };
    let body = html! {
        h1 { "Staffing" }
        p.muted { "Case arrivals forecast per hour of the week from the history (weekly and daily pattern and trend), with known events, and the agents Erlang C says each hour needs. Hours are UTC." }
        section.card {
            h2 { "Plan inputs" }
            @if !plan_errors.is_empty() { div.error role="alert" { "The plan was not made. Please correct the fields marked below." } }
            form method="get" action="/staffing" {
                (field("s-sl", "service_level_percent", "Service level target (%)", &form.service_level_percent, "80"))
                (field("s-within", "answer_within_seconds", "Answered within (seconds)", &form.answer_within_seconds, "1200"))
                (field("s-aht", "aht_seconds", "Average handling time override (seconds; empty: measured)", &form.aht_seconds, ""))
                (field("s-shrink", "shrinkage_percent", "Shrinkage (%)", &form.shrinkage_percent, "30"))
                (field("s-occ", "max_occupancy_percent", "Highest occupancy (%)", &form.max_occupancy_percent, "85"))
                (field("s-defl", "deflection_percent", "What-if: self-service deflection (%)", &form.deflection_percent, "0"))
                (field("s-partner", "partner_share_percent", "What-if: share partners handle alone (%)", &form.partner_share_percent, "0"))
                (field("s-weeks", "weeks", "Weeks to plan", &form.weeks, "1"))
                (field("s-history", "history_weeks", "Weeks of history", &form.history_weeks, "8"))
                button type="submit" { "Make the plan" }
            }
        }
        @if let Some(plan) = &plan {
            (plan_section(plan, form))
        }
        (events_section(who, &events, admin, eform, eerrors))
    };
    Ok(html_response(status, page("Staffing", Some(who), body)))
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn plan_section(plan: &Plan, form: &PlanForm) -> Markup {
    let h = &plan.handling;
    let rows = peak_rows(plan);
    let scheduled: Vec<f64> = plan
        .intervals
        .iter()
        .map(|p| f64::from(p.staffing.scheduled))
        .collect();
    let arrivals: Vec<f64> = plan.intervals.iter().map(|p| p.arrivals).collect();
    let peak = plan.intervals[plan.peak_range.clone()]
        .iter()
        .max_by_key(|p| p.staffing.scheduled);
    html! {
        section.card {
            h2 { "Forecast and agents, next " (plan.request.weeks) " week(s)" }
            p {
                "Average handling time used: " strong { (format!("{:.0} s", h.seconds)) }
                @match (h.overridden, h.measured) {
                    (true, _) => { " (your override" @if let Some((m, _)) = h.measured { "; measured " (format!("{m:.0} s")) } ")." }
                    (false, Some((_, n))) => { " (measured from staff messages on " (n) " cases)." }
                    (false, None) => { " (no staff messages to measure yet: the default)." }
                }
            }
            @if let Some(b) = &plan.forecast.holdout {
                p {
                    "Forecast error on the last week of history, held out: "
                    @match b.mape { Some(m) => { strong { "MAPE " (percent(m)) } " over " (b.hours_counted) " hours with cases." } None => { "no cases that week to compare." } }
                }
            }
            (Chart { bars: scheduled, line: arrivals, label: "Forecast arrivals per hour (line) and agents to schedule (bars)" })
            @if let Some(p) = peak {
                p { "Busiest day " strong { (hour_label(plan.peak_day).get(..10).unwrap_or("")) } ": "
                    (p.staffing.scheduled) " agents to schedule at " (hour_label(p.at).get(11..).unwrap_or("")) " UTC"
                    @if p.scheduled_without_what_ifs != p.staffing.scheduled { " (" (p.scheduled_without_what_ifs) " without the what-ifs)" } "." }
            }
            h3 { "Busiest day, hour by hour" }
            p { a href=(format!("/staffing/plan.csv?{}", form.query_string())) download { "Download this table as CSV" } }
            div.table-scroll { table.list #peak-table {
                thead { tr { @for c in COLUMNS { th scope="col" { (c) } } } }
                tbody { @for r in &rows { tr { @for c in r { td { (c) } } } } }
            } }
            @if let Some(b) = &plan.forecast.holdout {
                h3 { "Forecast against actual, last week held out" }
                (Chart { bars: b.actual.clone(), line: b.forecast.clone(), label: "Actual arrivals per hour (bars) and the forecast (line)" })
            }
        }
    }
}

fn highest(values: &[f64]) -> f64 {
    values.iter().cloned().fold(0.0_f64, f64::max)
}

/// A bar chart with an optional line over it on its own scale, drawn on the server.
struct Chart {
    bars: Vec<f64>,
    line: Vec<f64>,
    label: &'static str,
}

impl maud::Render for Chart {
    fn render(&self) -> Markup {
        const W: f64 = 720.0;
        const H: f64 = 200.0;
        let n = self.bars.len().max(self.line.len()).max(1);
        let step = W / n as f64;
        let top = |values: &[f64]| values.iter().cloned().fold(0.0_f64, f64::max).max(1.0);
        let (bar_top, line_top) = (top(&self.bars), top(&self.line));
        let points: Vec<String> = self
            .line
            .iter()
            .enumerate()
            .map(|(i, v)| {
                format!(
                    "{:.1},{:.1}",
                    (i as f64 + 0.5) * step,
                    H - v / line_top * (H - 10.0)
                )
            })
            .collect();
        let mut svg = format!(
            "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\" aria-label=\"{label}\" preserveAspectRatio=\"none\"><title>{label}</title>",
            // The labels are this module's own constants, with nothing to escape.
            label = self.label
        );
        for (i, v) in self.bars.iter().enumerate() {
            let height = v / bar_top * (H - 10.0);
            svg.push_str(&format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.2}\" height=\"{:.1}\" fill=\"#9db8d9\"/>",
                i as f64 * step,
                H - height,
                (step * 0.9).max(0.5),
                height
            ));
        }
        if !points.is_empty() {
            svg.push_str(&format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"#1f4e8c\" stroke-width=\"1.5\"/>",
                points.join(" ")
            ));
        }
        svg.push_str("</svg>");
        // The scale, since the chart has no axes: the table below holds every number.
        html! { figure { (PreEscaped(svg)) figcaption.muted { (self.label)
        ". Tallest bar " (format!("{:.2}", highest(&self.bars))) @if !self.line.is_empty() { ", highest point of the line " (format!("{:.2}", highest(&self.line))) } "." } } }
    }
}

fn events_section(
    who: &WebUser,
    events: &[backline_store::StaffingEvent],
    admin: bool,
    form: &EventForm,
    errors: &FieldErrors,
) -> Markup {
    html! {
        section.card #events {
            h2 { "Known events" }
            p.muted { "Releases, holidays and partners' closures change arrivals. Past events of a kind teach the lift of the next; until then the expected lift is used." }
            @if events.is_empty() { p.empty { "No known event yet." } }
            @else {
                div.table-scroll { table.list {
                    thead { tr { th { "Event" } th { "Kind" } th { "From (UTC)" } th { "To (UTC)" } th { "Expected arrivals" } @if admin { th { span.visually-hidden { "Actions" } } } } }
                    tbody { @for e in events { tr {
                        td { (e.name) } td { (e.kind.label()) } td { (hour_label(e.starts)) } td { (hour_label(e.ends)) } td { (e.lift_percent) "%" }
                        @if admin { td { form.inline method="post" action=(format!("/staffing/events/{}/delete", e.id)) {
                            input type="hidden" name="csrf" value=(who.csrf);
                            button.secondary type="submit" aria-label=(format!("Delete event {}", e.name)) { "Delete" }
                        } } }
                    } } }
                } }
            }
            @if admin {
                h3 { "Add an event" }
                @if !errors.is_empty() { div.error role="alert" { "The event was not saved. Please correct the fields marked below." } }
                form method="post" action="/staffing/events" {
                    input type="hidden" name="csrf" value=(who.csrf);
                    label for="e-name" { "Name" }
                    input #e-name type="text" name="name" value=(form.name) maxlength="80" required;
                    (field_error(errors, &["name"]))
                    label for="e-kind" { "Kind" }
                    select #e-kind name="kind" {
                        @for k in EventKind::ALL { option value=(k.as_str()) selected[form.kind == k.as_str()] { (k.label()) } }
                    }
                    (field_error(errors, &["kind"]))
                    label for="e-starts" { "Starts (UTC)" }
                    input #e-starts type="datetime-local" name="starts_at" value=(form.starts_at) required;
                    (field_error(errors, &["starts_at"]))
                    label for="e-ends" { "Ends (UTC)" }
                    input #e-ends type="datetime-local" name="ends_at" value=(form.ends_at) required;
                    (field_error(errors, &["ends_at"]))
                    label for="e-lift" { "Expected arrivals, percent of usual (200: twice as many)" }
                    input #e-lift type="text" inputmode="numeric" name="lift_percent" value=(form.lift_percent);
                    (field_error(errors, &["lift_percent"]))
                    button type="submit" { "Save event" }
                }
            }
        }
    }
}

/// Reads a `datetime-local` value (`2026-12-24T09:00`) or an RFC 3339 time, as UTC.
fn local_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    Timestamp::parse(text)
        .or_else(|_| Timestamp::parse(&format!("{text}:00Z")))
        .ok()
}

pub async fn save_event(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<EventForm>,
) -> PageResult {
    let mut errors = FieldErrors::new();
    let mut time = |field: &str, text: &str| {
        let t = local_time(text);
        if t.is_none() && !text.trim().is_empty() {
            errors.add(field, "write a date and time such as 2026-12-24 09:00");
        }
        t
    };
    let starts = time("starts_at", &form.starts_at);
    let ends = time("ends_at", &form.ends_at);
    let lift_percent = match form.lift_percent.trim().trim_end_matches('%') {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.add(
                    "lift_percent",
                    "write a whole number of percent, such as 150",
                );
                None
            }
        },
    };
    let submission = EventSubmission {
        name: form.name.clone(),
        kind: form.kind.clone(),
        starts,
        ends,
        lift_percent,
    };
    match service::save_event(&state.store, &who.user, None, &submission, errors, None).await {
        Ok(_) => Ok(Redirect::to("/staffing#events").into_response()),
        Err(ApiError::Validation(errors)) => {
            render(&state, &who, &PlanForm::default(), Some((&form, &errors))).await
        }
        Err(e) => Err(e).or_page(&who),
    }
}

pub async fn delete_event(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    service::delete_event(&state.store, &who.user, id, None)
        .await
        .or_page(&who)?;
    Ok(Redirect::to("/staffing#events").into_response())
}

/// The busiest day's table as CSV, for the same inputs as the page.
pub async fn plan_csv(
    State(state): State<AppState>,
    who: WebUser,
    Query(form): Query<PlanForm>,
) -> PageResult {
    let (request, errors) = form.request();
    errors
        .into_result()
        .map_err(ApiError::Validation)
        .or_page(&who)?;
    let plan = service::plan(&state.store, &who.user, state.clock.now(), &request)
        .await
        .or_page(&who)?;
    let mut out = COLUMNS.map(csv_field).join(",");
    out.push('\n');
    for row in peak_rows(&plan) {
        out.push_str(
            &row.iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"staffing-plan.csv\"".to_string(),
            ),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_plan_form_reads_or_names_each_bad_field() {
        let form = PlanForm {
            service_level_percent: "90%".into(),
            aht_seconds: "300".into(),
            ..PlanForm::default()
        };
        let (r, errors) = form.request();
        assert!(errors.is_empty());
        assert_eq!(r.service_level_percent, 90.0);
        assert_eq!(r.aht_seconds, Some(300.0));
        assert_eq!(r.shrinkage_percent, 30.0);
        let bad = PlanForm {
            shrinkage_percent: "lots".into(),
            weeks: "two".into(),
            ..PlanForm::default()
        };
        let (_, errors) = bad.request();
        assert!(errors.0.contains_key("shrinkage_percent") && errors.0.contains_key("weeks"));
    }

    #[test]
    fn datetime_local_values_read_as_utc() {
        assert_eq!(
            local_time("2026-12-24T09:00"),
            Timestamp::parse("2026-12-24T09:00:00Z").ok()
        );
        assert_eq!(local_time("soon"), None);
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }
}
