//! Queues, their support model and tier, and their members with skills.

use crate::error::ApiError;
use crate::layout::{field_error, html_response, page, sentence, stale_notice, version_field};
use crate::partners::service::{self as partners, staff_only};
use crate::session::WebUser;
use crate::web::{CsrfForm, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use backline_domain::FieldErrors;
use maud::html;
use serde::Deserialize;

/// Queues, their support model and members with skills.
pub async fn queues_page(State(state): State<AppState>, who: WebUser) -> PageResult {
    render_queues(
        &state,
        &who,
        &QueueForm::default(),
        &FieldErrors::new(),
        None,
        StatusCode::OK,
    )
    .await
}

/// A member form refused because the queue's members changed after it was drawn: the queue
/// it was for and what was typed.
struct StaleMember<'a> {
    queue: &'a str,
    form: &'a MemberForm,
}

/// The queues page; `draft` and `errors` are a refused new queue, shown again as typed.
async fn render_queues(
    state: &AppState,
    who: &WebUser,
    draft: &QueueForm,
    errors: &FieldErrors,
    stale: Option<StaleMember<'_>>,
    status: StatusCode,
) -> PageResult {
    let who = who.clone();
    staff_only(&who.user).or_page(&who)?;
    let can_edit = who.user.may_change_settings();
    let loaded = async {
        let mut queues = Vec::new();
        for q in state.store.queues().await? {
            let members = state.store.queue_members(q.id).await?;
            queues.push((q, members));
        }
        Ok::<_, ApiError>((queues, state.store.list_users(None, true).await?))
    };
    let (queues, staff) = loaded.await.or_page(&who)?;
    let invalid = |field: &str| errors.0.contains_key(field).then_some("true");
    Ok(html_response(
        status,
        page(
            "Queues",
            Some(&who),
            html! {
                h1 { "Queues" }
                p.num { "Tiered queues escalate level by level with a reason; swarm queues keep the owner and ask colleagues with a skill. " a href="/routing" { "Routing rules" } " send cases here." }
                @for (q, members) in &queues {
                    div.card.queue data-queue=(q.slug) {
                        h2 { (q.name) " " span.badge { (q.model) } @if let Some(tier) = q.tier { " " span.num.queue-tier { "serves L" (tier.level()) } } " " span.num { (q.slug) } }
                        ul { @for m in members { li { (m.user.name) " · " (m.active_cases) " active" @if !m.skills.is_empty() { " · skills: " (m.skills.join(", ")) } } } }
                        @if can_edit {
                        @let typed = stale.as_ref().filter(|s| s.queue == q.slug).map(|s| s.form);
                        @if typed.is_some() { (stale_notice("queue")) }
                        form.filters method="post" action=(format!("/queues/{}/members", q.slug)) {
                            input type="hidden" name="csrf" value=(who.csrf);
                            (version_field(Some(q.version)))
                            select name="user" aria-label="Member" { @for u in &staff { option value=(u.id.0) selected[typed.is_some_and(|t| t.user == u.id.0)] { (u.name) } } }
                            input type="text" name="skills" placeholder="skills, comma-separated" aria-label="Skills" value=(typed.map_or("", |t| t.skills.as_str()));
                            button type="submit" { "Add or update member" }
                        }
                        }
                    }
                }
                @if !can_edit { p.muted { "Creating queues and changing members is for admins and the agents they allow to change settings." } }
                @if can_edit {
                form.card #new-queue method="post" action="/queues" {
                    input type="hidden" name="csrf" value=(who.csrf);
                    h2 { "New queue" }
                    @if !errors.is_empty() { div.error role="alert" { "The queue was not created. Correct the fields marked below." } }
                    label for="q-slug" { "Slug" } input #q-slug type="text" name="slug" required value=(draft.slug) aria-invalid=[invalid("slug")];
                    (field_error(errors, &["slug"]))
                    label for="q-name" { "Name" } input #q-name type="text" name="name" required value=(draft.name) aria-invalid=[invalid("name")];
                    (field_error(errors, &["name"]))
                    label for="q-model" { "Support model" }
                    select #q-model name="model" { @for m in backline_domain::routing::SupportModel::ALL { option value=(m.as_str()) selected[m.as_str() == draft.model] { (m) } } }
                    (field_error(errors, &["model"]))
                    label for="q-tier" { "Tier it serves (tiered queues; escalations to that tier move here)" }
                    select #q-tier name="tier" aria-invalid=[invalid("tier")] { option value="" { "none" } @for t in 1..=3 { option value=(t) selected[draft.tier.trim() == t.to_string()] { "L" (t) } } }
                    (field_error(errors, &["tier"]))
                    p { button type="submit" { "Create queue" } }
                }
                }
            },
        ),
    ))
}

#[derive(Deserialize, Default)]
pub struct QueueForm {
    slug: String,
    name: String,
    model: String,
    #[serde(default)]
    tier: String,
}

pub async fn create_queue(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<QueueForm>,
) -> PageResult {
    crate::auth::settings_only(&who.user).or_page(&who)?;
    let tier = match form.tier.trim() {
        "" => Ok(None),
        t => t
            .parse::<i64>()
            .ok()
            .and_then(|t| backline_domain::Tier::new(t).ok())
            .map(Some)
            .ok_or_else(|| ApiError::validation("tier", "choose a tier from 1 to 3, or none")),
    };
    let created = match (
        backline_domain::routing::SupportModel::parse(&form.model),
        tier,
    ) {
        (Ok(model), Ok(tier)) => {
            partners::create_queue(&state, &who.user, &form.slug, &form.name, model, tier).await
        }
        (Err(e), _) => Err(ApiError::validation("model", e.0)),
        (_, Err(e)) => Err(e),
    };
    match created {
        Ok(_) => Ok(Redirect::to("/queues").into_response()),
        // Refused for what was typed: the page again, with it and the reason by the field.
        Err(ApiError::Validation(errors)) => {
            render_queues(
                &state,
                &who,
                &form,
                &errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e @ ApiError::Conflict { .. }) => {
            let mut errors = FieldErrors::new();
            let field = if e.to_string().contains("tier") {
                "tier"
            } else {
                "slug"
            };
            errors.add(field, sentence(&e.to_string()));
            render_queues(&state, &who, &form, &errors, None, StatusCode::CONFLICT).await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}

#[derive(Deserialize)]
pub struct MemberForm {
    user: i64,
    #[serde(default)]
    skills: String,
    /// The queue's version the form was drawn from.
    version: Option<i64>,
}

pub async fn set_member(
    State(state): State<AppState>,
    who: WebUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<MemberForm>,
) -> PageResult {
    crate::auth::settings_only(&who.user).or_page(&who)?;
    let user = backline_domain::UserId(form.user);
    match partners::set_queue_member(
        &state,
        &who.user,
        &slug,
        user,
        form.skills.split(','),
        form.version,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/queues").into_response()),
        // Someone changed the queue's members after this form was drawn: nothing is written;
        // the members as they are now are listed above what was typed, and the form now
        // carries the current version, so saving again is a deliberate choice.
        Err(ApiError::Stale(_)) => {
            let stale = StaleMember {
                queue: &slug,
                form: &form,
            };
            render_queues(
                &state,
                &who,
                &QueueForm::default(),
                &FieldErrors::new(),
                Some(stale),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}
