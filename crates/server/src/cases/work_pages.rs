//! Pages and form handlers for the work around a case: following, Cc, merging, presence,
//! satisfaction (on the case page, by the mailed link, and the staff report) and the macro
//! library.

use super::macros;
use super::service;
use super::work;
use super::work_api::{report_since, score_by};
use crate::error::ApiError;
use crate::layout::{field_error, html_response, page, sentence, stale_notice, version_field};
use crate::session::WebUser;
use crate::web::{CsrfForm, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use backline_domain::macros::{parse_assign_to, tag_words, MacroActions, MacroInput};
use backline_domain::satisfaction::{Rating, Score};
use backline_domain::{CaseId, CaseStatus, FieldErrors, Priority, Role, Tier};
use backline_store::{MacroRecord, Presence, ScoreBy, User};
use maud::{html, Markup};
use serde::Deserialize;

/// "Ana is also viewing; Chen is replying" for the line under a case's title.
pub fn presence_words(present: &[Presence]) -> String {
    present
        .iter()
        .map(|p| {
            if p.replying {
                format!("{} is also replying", p.user.name)
            } else {
                format!("{} is also viewing", p.user.name)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Deserialize)]
pub struct SwitchForm {
    on: bool,
    #[serde(default)]
    email: String,
}

pub async fn follow(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<SwitchForm>,
) -> PageResult {
    work::follow(&state.store, &who.user, CaseId(id), form.on)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/cases/{id}#people")).into_response())
}

pub async fn cc(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<SwitchForm>,
) -> PageResult {
    work::set_cc(&state.store, &who.user, CaseId(id), &form.email, form.on)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/cases/{id}#people")).into_response())
}

#[derive(Deserialize)]
pub struct MergeForm {
    #[serde(default)]
    into: String,
}

pub async fn merge(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<MergeForm>,
) -> PageResult {
    let into = form
        .into
        .trim()
        .trim_start_matches('#')
        .parse::<i64>()
        .map_err(|_| ApiError::validation("into", "Type the number of the case to merge into."))
        .or_page(&who)?;
    let survivor = work::merge(&state.store, &who.user, CaseId(id), CaseId(into))
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/cases/{}", survivor.id.0)).into_response())
}

#[derive(Deserialize)]
pub struct PresenceForm {
    #[serde(default)]
    replying: bool,
    /// The page is being left.
    #[serde(default)]
    leaving: bool,
}

#[derive(serde::Serialize)]
pub struct PresenceLine {
    text: String,
}

/// The case page's script reports every few seconds that the agent is there (and whether
/// they are typing), and shows who else is.
pub async fn presence(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<PresenceForm>,
) -> Result<axum::Json<PresenceLine>, ApiError> {
    let replying = (!form.leaving).then_some(form.replying);
    let others = work::presence(&state.store, &who.user, CaseId(id), replying).await?;
    Ok(axum::Json(PresenceLine {
        text: presence_words(&others),
    }))
}

#[derive(Deserialize, Default)]
pub struct RatingForm {
    #[serde(default)]
    rating: String,
    #[serde(default)]
    comment: String,
}

/// The requester rates their case from its page.
pub async fn rate_on_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<RatingForm>,
) -> PageResult {
    let case = service::visible_case(&state.store, &who.user, CaseId(id))
        .await
        .or_page(&who)?;
    let rating = Rating::parse(&form.rating)
        .map_err(|e| ApiError::validation("rating", e.0))
        .or_page(&who)?;
    work::rate(&state.store, Some(&who.user), &case, rating, &form.comment)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/cases/{id}#rating")).into_response())
}

#[derive(Deserialize, Default)]
pub struct RateQuery {
    r: Option<String>,
}

/// The rating page the solved mail links to: no sign-in, the signed link is the key. The
/// choice in the link is only preselected: mail scanners open links, so a GET records nothing.
pub async fn rate_by_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<RateQuery>,
) -> axum::response::Response {
    let Some(case) = backline_domain::mail::verify_rating_token(&state.mail.secret, &token) else {
        return link_not_valid();
    };
    let Ok(record) = state.store.case(case).await else {
        return link_not_valid();
    };
    let current = state.store.case_rating(case).await.ok().flatten();
    let chosen = query
        .r
        .as_deref()
        .and_then(|r| Rating::parse(r).ok())
        .or(current.as_ref().map(|r| r.rating));
    let form = RatingForm {
        rating: chosen.map(|r| r.as_str().to_string()).unwrap_or_default(),
        comment: current.and_then(|r| r.comment).unwrap_or_default(),
    };
    rating_page(
        &token,
        &record.subject,
        record.id,
        &form,
        None,
        false,
        StatusCode::OK,
    )
}

pub async fn rate_by_link_post(
    State(state): State<AppState>,
    Path(token): Path<String>,
    axum::Form(form): axum::Form<RatingForm>,
) -> axum::response::Response {
    let Some(case) = backline_domain::mail::verify_rating_token(&state.mail.secret, &token) else {
        return link_not_valid();
    };
    let Ok(record) = state.store.case(case).await else {
        return link_not_valid();
    };
    let outcome = match Rating::parse(&form.rating) {
        Err(e) => Err(ApiError::validation("rating", e.0)),
        Ok(rating) => work::rate(&state.store, None, &record, rating, &form.comment).await,
    };
    match outcome {
        Ok(_) => rating_page(
            &token,
            &record.subject,
            record.id,
            &form,
            None,
            true,
            StatusCode::OK,
        ),
        Err(ApiError::Validation(errors)) => rating_page(
            &token,
            &record.subject,
            record.id,
            &form,
            Some(&errors),
            false,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => crate::layout::error_page(None, e),
    }
}

fn link_not_valid() -> axum::response::Response {
    html_response(
        StatusCode::NOT_FOUND,
        page(
            "Rating link",
            None,
            html! {
                h1 { "This rating link does not work" }
                p { "It may have been cut short by your mail program. Open the case from the mail instead and rate it there, after signing in." }
            },
        ),
    )
}

fn rating_page(
    token: &str,
    subject: &str,
    case: CaseId,
    form: &RatingForm,
    errors: Option<&FieldErrors>,
    thanked: bool,
    status: StatusCode,
) -> axum::response::Response {
    let empty = FieldErrors::new();
    let errors = errors.unwrap_or(&empty);
    html_response(
        status,
        page(
            "How did we do?",
            None,
            html! {
                h1 { "How did we do?" }
                p { "Case #" (case.0) ": " (subject) }
                @if thanked {
                    p.card.notice role="status" #thanks { "Thank you: your rating is saved. You can change it below at any time." }
                }
                form.card method="post" action=(format!("/rate/{token}")) {
                    fieldset {
                        legend { "Your rating" }
                        (field_error(errors, &["rating"]))
                        label { input type="radio" name="rating" value="good" required checked[form.rating == "good"]; " Good, I got what I needed" }
                        label { input type="radio" name="rating" value="bad" checked[form.rating == "bad"]; " Bad, I did not" }
                    }
                    label for="comment" { "Anything to add? (optional)" }
                    (field_error(errors, &["comment"]))
                    textarea #comment name="comment" rows="4" { (form.comment) }
                    p { button type="submit" { "Save my rating" } }
                }
            },
        ),
    )
}

#[derive(Deserialize, Default)]
pub struct ReportQuery {
    by: Option<String>,
    days: Option<i64>,
}

/// Satisfaction scores for staff, grouped as chosen.
pub async fn satisfaction_page(
    State(state): State<AppState>,
    who: WebUser,
    Query(query): Query<ReportQuery>,
) -> PageResult {
    let by_text = query.by.unwrap_or_else(|| "agent".into());
    let by = score_by(&by_text).or_page(&who)?;
    let since = report_since(query.days).or_page(&who)?;
    let rows = work::scores(&state.store, &who.user, by, since)
        .await
        .or_page(&who)?;
    let total = state
        .store
        .satisfaction_total(None, since)
        .await
        .or_page(&who)?;
    let days = query.days.unwrap_or(90);
    let label = |b: ScoreBy| match b {
        ScoreBy::Agent => "Agent",
        ScoreBy::Queue => "Queue",
        ScoreBy::Partner => "Partner",
        ScoreBy::Organization => "Organisation",
    };
    let percent = |s: &Score| {
        s.percent()
            .map_or_else(|| "—".to_string(), |p| format!("{p:.1} %"))
    };
    Ok(html_response(
        StatusCode::OK,
        page(
            "Satisfaction",
            Some(&who),
            html! {
                h1 { "Satisfaction" }
                p { "Share of good ratings among rated cases, last " (days) " days: " strong #total { (percent(&total)) } " of " (total.rated()) " ratings." }
                nav.views aria-label="Group by" {
                    @for (key, b) in [("agent", ScoreBy::Agent), ("queue", ScoreBy::Queue), ("partner", ScoreBy::Partner), ("organization", ScoreBy::Organization)] {
                        a href=(format!("/satisfaction?by={key}&days={days}")) aria-current=[(b == by).then_some("page")] { "By " (label(b).to_lowercase()) }
                    }
                }
                @if rows.is_empty() {
                    p.card.empty { "No ratings in this period yet." }
                } @else {
                    div.table-wrap {
                        table #scores {
                            caption { "Satisfaction by " (label(by).to_lowercase()) }
                            thead { tr { th scope="col" { (label(by)) } th.num scope="col" { "Good" } th.num scope="col" { "Bad" } th.num scope="col" { "Score" } } }
                            tbody {
                                @for r in &rows {
                                    tr { td { (r.name) } td.num { (r.score.good) } td.num { (r.score.bad) } td.num { (percent(&r.score)) } }
                                }
                            }
                        }
                    }
                }
            },
        ),
    ))
}

/// The macro form as typed, so a refused form comes back as it was.
#[derive(Deserialize, Default, Clone)]
pub struct MacroForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    tier: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    add_tags: String,
    #[serde(default)]
    remove_tags: String,
    #[serde(default)]
    internal: Option<String>,
    #[serde(default)]
    shared: Option<String>,
    /// The macro's version the form was drawn from (editing only).
    #[serde(default)]
    version: Option<i64>,
}

impl MacroForm {
    fn from_record(m: &MacroRecord) -> MacroForm {
        let a = &m.actions;
        MacroForm {
            title: m.title.clone(),
            body: m.body.clone(),
            status: a.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
            priority: a
                .priority
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            tier: a.tier.map(|t| t.level().to_string()).unwrap_or_default(),
            assignee: match a.assignee {
                None => String::new(),
                Some(backline_domain::macros::AssignTo::Me) => "me".into(),
                Some(backline_domain::macros::AssignTo::Nobody) => "nobody".into(),
                Some(backline_domain::macros::AssignTo::User(id)) => id.0.to_string(),
            },
            add_tags: a.add_tags.join(", "),
            remove_tags: a.remove_tags.join(", "),
            internal: a.internal.then(|| "1".into()),
            shared: m.owner_id.is_none().then(|| "1".into()),
            version: Some(m.version),
        }
    }

    /// The macro the form describes, or what is wrong with its fields.
    fn parse(&self) -> Result<MacroInput, FieldErrors> {
        let mut errors = FieldErrors::new();
        let pick = |text: &str| (!text.trim().is_empty()).then(|| text.trim().to_string());
        let status =
            pick(&self.status).and_then(|s| errors.check("actions.status", CaseStatus::parse(&s)));
        let priority = pick(&self.priority)
            .and_then(|p| errors.check("actions.priority", Priority::parse(&p)));
        let tier = pick(&self.tier).and_then(|t| match t.parse::<i64>() {
            Ok(level) => errors.check("actions.tier", Tier::new(level)),
            Err(_) => {
                errors.add("actions.tier", "choose tier 1, 2 or 3");
                None
            }
        });
        let assignee = errors
            .check("actions.assignee", parse_assign_to(&self.assignee))
            .flatten();
        errors.into_result()?;
        Ok(MacroInput {
            title: self.title.clone(),
            body: self.body.clone(),
            actions: MacroActions {
                status,
                priority,
                tier,
                assignee,
                add_tags: tag_words(&self.add_tags),
                remove_tags: tag_words(&self.remove_tags),
                internal: self.internal.is_some(),
            },
            shared: self.shared.is_some(),
        })
    }
}

pub async fn macros_page(State(state): State<AppState>, who: WebUser) -> PageResult {
    render_macros(
        &state,
        &who,
        None,
        &MacroForm::default(),
        None,
        false,
        StatusCode::OK,
    )
    .await
}

async fn render_macros(
    state: &AppState,
    who: &WebUser,
    editing: Option<i64>,
    form: &MacroForm,
    errors: Option<&FieldErrors>,
    stale: bool,
    status: StatusCode,
) -> PageResult {
    let list = macros::macros(&state.store, &who.user).await.or_page(who)?;
    let staff = state.store.list_users(None, true).await.or_page(who)?;
    let admin = who.user.role == Role::Admin;
    let empty = FieldErrors::new();
    let errors = errors.unwrap_or(&empty);
    let name_of = |id| {
        staff
            .iter()
            .find(|u: &&User| u.id == id)
            .map_or_else(|| format!("user {id}"), |u| u.name.clone())
    };
    Ok(html_response(
        status,
        page(
            "Macros",
            Some(who),
            html! {
                h1 { "Macros" }
                p { "A macro fills a reply with a prepared text and makes its changes when the reply is sent. Apply one from the reply box of any case." }
                @if list.is_empty() { p.card.empty { "No macros yet: write the first one below." } }
                @for m in &list {
                    @let mine = m.owner_id == Some(who.user.id);
                    details.card.macro id=(format!("macro-{}", m.id)) open[editing == Some(m.id)] {
                        summary {
                            strong { (m.title) } " "
                            span.badge { @if m.owner_id.is_none() { "shared" } @else { "personal" } }
                            span.muted { " · sent " (m.uses) " times" }
                        }
                        @let changes = m.actions.describe(name_of);
                        @if !changes.is_empty() { p.muted { "Also: " (changes.join("; ")) } }
                        @if mine || admin {
                            @if stale && editing == Some(m.id) {
                                (stale_notice("macro"))
                                p.muted { "Its text as it is now:" }
                                pre.macro-body { (m.body) }
                            }
                            @let shown = if editing == Some(m.id) { form.clone() } else { MacroForm::from_record(m) };
                            @let shown_errors = if editing == Some(m.id) { errors } else { &empty };
                            (macro_fields(who, Some(m.id), &shown, shown_errors, admin, &staff))
                            form method="post" action=(format!("/macros/{}/delete", m.id)) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                button.danger type="submit" { "Delete macro " (m.title) }
                            }
                        } @else {
                            pre.macro-body { (m.body) }
                        }
                    }
                }
                h2 { "New macro" }
                @let new_form = if editing.is_none() { form.clone() } else { MacroForm::default() };
                @let new_errors = if editing.is_none() { errors } else { &empty };
                (macro_fields(who, None, &new_form, new_errors, admin, &staff))
            },
        ),
    ))
}

fn macro_fields(
    who: &WebUser,
    id: Option<i64>,
    form: &MacroForm,
    errors: &FieldErrors,
    admin: bool,
    staff: &[User],
) -> Markup {
    let key = id.map_or_else(|| "new".to_string(), |i| i.to_string());
    let field = |name: &str| format!("{name}-{key}");
    let action = id.map_or_else(|| "/macros".to_string(), |i| format!("/macros/{i}"));
    let placeholders = backline_domain::macros::MACRO_PLACEHOLDERS
        .iter()
        .map(|p| format!("{{{{{p}}}}}"))
        .collect::<Vec<_>>()
        .join(" ");
    html! {
        form.card.macro-form method="post" action=(action) {
            input type="hidden" name="csrf" value=(who.csrf);
            @if id.is_some() { (version_field(form.version)) }
            label for=(field("title")) { "Name" }
            (field_error(errors, &["title"]))
            input id=(field("title")) type="text" name="title" value=(form.title) required maxlength="120";
            label for=(field("body")) { "Text" }
            (field_error(errors, &["body"]))
            textarea id=(field("body")) name="body" rows="6" aria-describedby=(field("body-hint")) { (form.body) }
            p.muted id=(field("body-hint")) { "Placeholders: " (placeholders) }
            fieldset {
                legend { "When sent, also" }
                label for=(field("status")) { "Set status" }
                (field_error(errors, &["actions.status"]))
                select id=(field("status")) name="status" {
                    option value="" { "— leave as is —" }
                    @for s in CaseStatus::ALL.iter().filter(|s| **s != CaseStatus::New) {
                        option value=(s.as_str()) selected[form.status == s.as_str()] { (s.as_str().replace('_', " ")) }
                    }
                }
                label for=(field("priority")) { "Set priority" }
                (field_error(errors, &["actions.priority"]))
                select id=(field("priority")) name="priority" {
                    option value="" { "— leave as is —" }
                    @for p in Priority::ALL { option value=(p.as_str()) selected[form.priority == p.as_str()] { (p) } }
                }
                label for=(field("tier")) { "Set tier" }
                (field_error(errors, &["actions.tier"]))
                select id=(field("tier")) name="tier" {
                    option value="" { "— leave as is —" }
                    @for t in 1..=3 { option value=(t) selected[form.tier == t.to_string()] { "L" (t) } }
                }
                label for=(field("assignee")) { "Assign to" }
                (field_error(errors, &["actions.assignee"]))
                select id=(field("assignee")) name="assignee" {
                    option value="" { "— leave as is —" }
                    option value="me" selected[form.assignee == "me"] { "whoever sends it" }
                    option value="nobody" selected[form.assignee == "nobody"] { "nobody (back to the queue)" }
                    @for u in staff { option value=(u.id.0) selected[form.assignee == u.id.0.to_string()] { (u.name) } }
                }
                label for=(field("add-tags")) { "Add tags" }
                (field_error(errors, &["actions.add_tags"]))
                input id=(field("add-tags")) type="text" name="add_tags" value=(form.add_tags);
                label for=(field("remove-tags")) { "Remove tags" }
                (field_error(errors, &["actions.remove_tags"]))
                input id=(field("remove-tags")) type="text" name="remove_tags" value=(form.remove_tags);
                label { input type="checkbox" name="internal" value="1" checked[form.internal.is_some()]; " Send the text as an internal note" }
            }
            @if admin {
                label { input type="checkbox" name="shared" value="1" checked[form.shared.is_some()]; " Shared with the whole team" }
            }
            p { button type="submit" { @if id.is_some() { "Save macro" } @else { "Create macro" } } }
        }
    }
}

async fn save_macro_form(
    state: AppState,
    who: WebUser,
    id: Option<i64>,
    form: MacroForm,
) -> PageResult {
    let saved = match form.parse() {
        Ok(input) => macros::save(&state.store, &who.user, id, &input, form.version).await,
        Err(errors) => Err(ApiError::Validation(errors)),
    };
    match saved {
        Ok(m) => Ok(Redirect::to(&format!("/macros#macro-{}", m.id)).into_response()),
        Err(ApiError::Validation(errors)) => {
            let errors = FieldErrors(
                errors
                    .0
                    .into_iter()
                    .map(|(k, v)| (k, sentence(&v)))
                    .collect(),
            );
            render_macros(
                &state,
                &who,
                id,
                &form,
                Some(&errors),
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(ApiError::Stale(_)) => {
            // Someone changed the macro after this form was drawn: nothing is overwritten; its
            // text as it is now is shown above what was typed, which now carries the current
            // version, so saving again is a deliberate choice.
            let current = macros::usable(&state.store, &who.user, id.unwrap_or_default())
                .await
                .or_page(&who)?;
            let form = MacroForm {
                version: Some(current.version),
                ..form
            };
            render_macros(&state, &who, id, &form, None, true, StatusCode::CONFLICT).await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}

pub async fn create_macro(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<MacroForm>,
) -> PageResult {
    save_macro_form(state, who, None, form).await
}

pub async fn update_macro(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<MacroForm>,
) -> PageResult {
    save_macro_form(state, who, Some(id), form).await
}

pub async fn delete_macro(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<crate::web::NoFields>,
) -> PageResult {
    macros::delete(&state.store, &who.user, id, None)
        .await
        .or_page(&who)?;
    Ok(Redirect::to("/macros").into_response())
}
