//! Escalating a case to the next tier, and asking a swarm for help, from the case page.

use crate::session::WebUser;
use crate::web::{CsrfForm, OrPage, PageResult};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct EscalateForm {
    reason: String,
}

pub async fn escalate_case(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<EscalateForm>,
) -> PageResult {
    crate::cases::service::escalate(&state, &who.user, backline_domain::CaseId(id), &form.reason)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct SwarmForm {
    skill: String,
    #[serde(default)]
    message: String,
}

pub async fn swarm_case(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<SwarmForm>,
) -> PageResult {
    crate::cases::service::swarm(
        &state,
        &who.user,
        backline_domain::CaseId(id),
        &form.skill,
        &form.message,
    )
    .await
    .or_page(&who)?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}
