//! The message templates, editable, with the variables each may use.

use crate::crisis::service::{self as crisis};
use crate::error::ApiError;
use crate::layout::{html_response, page, stale_notice, version_field};
use crate::session::WebUser;
use crate::web::{CsrfForm, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use backline_domain::crisis::TemplateKind;
use maud::html;
use serde::Deserialize;

/// Every message template, editable, with the variables each may use.
pub async fn templates(State(state): State<AppState>, who: WebUser) -> PageResult {
    render(&state, &who, None, StatusCode::OK).await
}

/// A template form refused because the template was saved after the form was drawn: what was
/// typed, shown again in its place against the current version.
struct StaleDraft {
    kind: TemplateKind,
    form: TemplateForm,
}

async fn render(
    state: &AppState,
    who: &WebUser,
    stale: Option<&StaleDraft>,
    status: StatusCode,
) -> PageResult {
    crisis::staff_only(&who.user).or_page(who)?;
    let can_edit = who.user.may_change_settings();
    let mut all = Vec::new();
    for kind in TemplateKind::ALL {
        match crisis::versioned_template(state, *kind).await {
            Ok((t, version)) => all.push((*kind, t, version)),
            Err(e) => return Err(WebError::new(e).for_user(who)),
        }
    }
    Ok(html_response(
        status,
        page(
            "Templates",
            Some(who),
            html! {
                p.num { a href="/incidents" { "← console" } }
                h1 { "Message templates" }
                @if !can_edit { p.muted { "Editing templates is for admins and the agents they allow to change settings." } }
                @for (kind, t, version) in &all {
                    @let draft = stale.filter(|d| d.kind == *kind);
                    @if !can_edit {
                        div.card.template data-template=(kind.as_str()) {
                            h2 { (kind) }
                            p { strong { (t.subject) } }
                            pre { (t.body) }
                        }
                    } @else {
                    form.card.template method="post" action=(format!("/incidents/templates/{}", kind.as_str())) data-template=(kind.as_str()) {
                        input type="hidden" name="csrf" value=(who.csrf);
                        (version_field(Some(*version)))
                        h2 { (kind) }
                        @if draft.is_some() {
                            (stale_notice("template"))
                            p.muted { "The template as it is now:" }
                            p { strong { (t.subject) } }
                            pre { (t.body) }
                        }
                        p.num { "Variables: " (backline_domain::crisis::template_variables(*kind).iter().map(|v| format!("{{{{{v}}}}}")).collect::<Vec<_>>().join(" ")) }
                        label for=(format!("subject-{}", kind.as_str())) { "Subject" }
                        input id=(format!("subject-{}", kind.as_str())) type="text" name="subject" value=(draft.map_or(&t.subject, |d| &d.form.subject)) style="width:100%";
                        label for=(format!("body-{}", kind.as_str())) { "Body" }
                        textarea id=(format!("body-{}", kind.as_str())) name="body" { (draft.map_or(&t.body, |d| &d.form.body)) }
                        p { button type="submit" { "Save " (kind) " template" } }
                    }
                    }
                }
            },
        ),
    ))
}

#[derive(Deserialize)]
pub struct TemplateForm {
    subject: String,
    body: String,
    /// The template's version the form was drawn from (0: the built-in one).
    version: Option<i64>,
}

pub async fn save_template(
    State(state): State<AppState>,
    who: WebUser,
    Path(kind): Path<String>,
    CsrfForm(form): CsrfForm<TemplateForm>,
) -> PageResult {
    crate::auth::settings_only(&who.user).or_page(&who)?;
    let Ok(kind) = backline_domain::crisis::TemplateKind::parse(&kind) else {
        return Err(WebError::new(ApiError::NotFound("template")).for_user(&who));
    };
    let template = backline_domain::crisis::Template {
        subject: form.subject.clone(),
        body: form.body.clone(),
    };
    match crisis::save_template(&state, &who.user, kind, &template, form.version).await {
        Ok(_) => Ok(Redirect::to("/incidents/templates").into_response()),
        // Someone saved the template after this form was drawn: nothing is overwritten; the
        // template as it is now is shown above what was typed, which now carries the current
        // version, so saving again is a deliberate choice.
        Err(ApiError::Stale(_)) => {
            let draft = StaleDraft { kind, form };
            render(&state, &who, Some(&draft), StatusCode::CONFLICT).await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}
