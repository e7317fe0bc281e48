//! The message templates, editable, with the variables each may use.

use crate::crisis::service::{self as crisis};
use crate::error::ApiError;
use crate::layout::{html_response, page};
use crate::session::WebUser;
use crate::web::{CsrfForm, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use maud::html;
use serde::Deserialize;

/// Every message template, editable, with the variables each may use.
pub async fn templates(State(state): State<AppState>, who: WebUser) -> PageResult {
    crisis::staff_only(&who.user).or_page(&who)?;
    let can_edit = who.user.may_change_settings();
    let mut all = Vec::new();
    for kind in backline_domain::crisis::TemplateKind::ALL {
        match crisis::template(&state, *kind).await {
            Ok(t) => all.push((*kind, t)),
            Err(e) => return Err(WebError::new(e).for_user(&who)),
        }
    }
    Ok(html_response(
        StatusCode::OK,
        page(
            "Templates",
            Some(&who),
            html! {
                p.num { a href="/incidents" { "← console" } }
                h1 { "Message templates" }
                @if !can_edit { p.muted { "Editing templates is for admins and the agents they allow to change settings." } }
                @for (kind, t) in &all {
                    @if !can_edit {
                        div.card.template data-template=(kind.as_str()) {
                            h2 { (kind) }
                            p { strong { (t.subject) } }
                            pre { (t.body) }
                        }
                    } @else {
                    form.card.template method="post" action=(format!("/incidents/templates/{}", kind.as_str())) data-template=(kind.as_str()) {
                        input type="hidden" name="csrf" value=(who.csrf);
                        h2 { (kind) }
                        p.num { "Variables: " (backline_domain::crisis::template_variables(*kind).iter().map(|v| format!("{{{{{v}}}}}")).collect::<Vec<_>>().join(" ")) }
                        label for=(format!("subject-{}", kind.as_str())) { "Subject" }
                        input id=(format!("subject-{}", kind.as_str())) type="text" name="subject" value=(t.subject) style="width:100%";
                        label for=(format!("body-{}", kind.as_str())) { "Body" }
                        textarea id=(format!("body-{}", kind.as_str())) name="body" { (t.body) }
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
        subject: form.subject,
        body: form.body,
    };
    if let Err(errors) = backline_domain::crisis::check_template(kind, &template) {
        return Err(WebError::new(ApiError::Validation(errors)).for_user(&who));
    }
    state
        .store
        .set_template(kind, &template)
        .await
        .or_page(&who)?;
    Ok(Redirect::to("/incidents/templates").into_response())
}
