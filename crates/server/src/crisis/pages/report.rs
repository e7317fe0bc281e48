//! Reporting a suspected outage, for anyone signed in.

use crate::crisis::service::{self as crisis};
use crate::error::ApiError;
use crate::layout::{field_error, html_response, page};
use crate::session::WebUser;
use crate::web::{CsrfForm, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use backline_domain::FieldErrors;
use maud::html;
use serde::Deserialize;

/// Anyone signed in can report a problem; it becomes a signal for the support team.
pub async fn report_form(State(state): State<AppState>, who: WebUser) -> PageResult {
    render_report_form(
        &state,
        &who,
        &ReportForm::default(),
        &FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

async fn render_report_form(
    state: &AppState,
    who: &WebUser,
    form: &ReportForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> PageResult {
    let services = state.store.services().await.or_page(who)?;
    Ok(html_response(
        status,
        page(
            "Report a problem",
            Some(who),
            html! {
                h1 { "Report a service problem" }
                p.num { "For something that looks like an outage (a service down or very slow). For anything else, open a case." }
                @if !errors.is_empty() { div.error role="alert" { "Nothing was reported yet. Correct the fields marked below and send it again." } }
                form.card #report method="post" action="/report" {
                    input type="hidden" name="csrf" value=(who.csrf);
                    label for="service" { "Service" }
                    select #service name="service" { option value="" { "I am not sure" } @for s in &services { option value=(s.slug) selected[s.slug == form.service] { (s.name) } } }
                    (field_error(errors, &["service"]))
                    label for="report-title" { "What is wrong" } input #report-title type="text" name="title" value=(form.title) required style="width:100%";
                    (field_error(errors, &["title"]))
                    label for="report-detail" { "Details" } textarea #report-detail name="detail" { (form.detail) }
                    p { button type="submit" { "Report" } }
                }
            },
        ),
    ))
}

#[derive(Deserialize, Default)]
pub struct ReportForm {
    #[serde(default)]
    service: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    detail: String,
}

/// Anyone signed in can report a problem; it becomes a signal for the support team. A refused
/// report comes back as typed.
pub async fn report(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<ReportForm>,
) -> PageResult {
    let report = crisis::ProblemReport {
        service: Some(form.service.clone()),
        title: form.title.clone(),
        detail: form.detail.clone(),
        status: backline_domain::crisis::SignalStatus::Firing,
    };
    match crisis::report_problem(&state, &who.user, report, crisis::ReportedThrough::Page).await {
        Ok(_) => Ok(html_response(
            StatusCode::OK,
            page(
                "Thank you",
                Some(&who),
                html! {
                    h1 { "Thank you" }
                    div.card #reported { "The support team has been alerted. Follow the " a href="/status" { "status page" } " for news." }
                },
            ),
        )),
        Err(ApiError::Validation(errors)) => {
            render_report_form(
                &state,
                &who,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}
