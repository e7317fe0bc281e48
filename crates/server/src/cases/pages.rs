//! The case list, the new-case form and the case page, with their form handlers.

use crate::cases::service::{self, CaseSubmission, CaseUpdate};
use crate::error::ApiError;
use crate::layout::{html_response, page, partner_badge, priority_badge, status_badge, when};
use crate::session::{urlencode, WebUser};
use crate::web::{CsrfForm, CsrfMultipart, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use backline_domain::{CaseId, CaseStatus, Channel, FieldErrors, Priority, Role, Tier, UserId};
use backline_store::{CaseFilter, CaseRecord, Org, User};
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct ListQuery {
    view: Option<String>,
    q: Option<String>,
    cursor: Option<i64>,
}

const VIEWS: [(&str, &str); 4] = [
    ("active", "Active"),
    ("mine", "Assigned to me"),
    ("solved", "Solved"),
    ("all", "All"),
];

pub async fn case_list(
    State(state): State<AppState>,
    who: WebUser,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let view = query.view.as_deref().unwrap_or("active");
    let staff = who.user.role.is_staff();
    let mut filter = CaseFilter {
        limit: 50,
        before: query.cursor.map(CaseId),
        text: query.q.clone().filter(|q| !q.trim().is_empty()),
        ..Default::default()
    };
    match view {
        "solved" => filter.statuses = vec![CaseStatus::Solved, CaseStatus::Closed],
        "all" => {}
        "mine" if staff => filter.assignee = Some(Some(who.user.id)),
        _ => {
            filter.statuses = vec![
                CaseStatus::New,
                CaseStatus::Open,
                CaseStatus::Pending,
                CaseStatus::OnHold,
            ]
        }
    }
    let (cases, next) = service::list_cases(&state.store, &who.user, &filter)
        .await
        .or_page(&who)?;
    let q = query.q.unwrap_or_default();
    let heading = if staff { "Cases" } else { "Your cases" };
    Ok(html_response(
        StatusCode::OK,
        page(
            heading,
            Some(&who),
            html! {
                h1 { (heading) }
                div.filters {
                    @for (key, label) in VIEWS {
                        @if key != "mine" || staff {
                            a.badge.current[key == view] href=(format!("/cases?view={key}")) { (label) }
                        }
                    }
                    form method="get" action="/cases" {
                        input type="hidden" name="view" value=(view);
                        input type="search" name="q" value=(q) placeholder="Words in subject or description" aria-label="Search cases";
                        button type="submit" { "Filter" }
                    }
                }
                @if cases.is_empty() {
                    div.card.empty { "No cases here." }
                } @else {
                    table.cases {
                        thead { tr {
                            th { "#" } th { "Subject" } th { "Organisation" } th { "Partner" } th { "Status" } th { "Priority" }
                            @if staff { th { "Tier" } th { "Assignee" } }
                            th { "Updated" }
                        } }
                        tbody {
                            @for case in &cases { (case_row(case, staff)) }
                        }
                    }
                    @if let Some(next) = next {
                        p.pager { a href=(format!("/cases?view={view}&q={}&cursor={}", urlencode(&q), next.0)) { "Older cases →" } }
                    }
                }
            },
        ),
    ))
}

fn case_row(case: &CaseRecord, staff: bool) -> Markup {
    html! {
        tr data-case=(case.id.0) {
            td.num { a href=(format!("/cases/{}", case.id.0)) { "#" (case.id.0) } }
            td.subject { a href=(format!("/cases/{}", case.id.0)) { (case.subject) } }
            td { (case.organization.name) }
            td { (partner_badge(case.partner.as_ref())) }
            td { (status_badge(case.status)) }
            td { (priority_badge(case.priority)) }
            @if staff {
                td { "L" (case.tier.level()) }
                td { @if let Some(a) = &case.assignee { (a.name) } @else { span.num { "—" } } }
            }
            td.num { (when(case.updated_at)) }
        }
    }
}

/// Organisations a person may file for: staff any, a partner itself and the customers it serves.
async fn fileable_orgs(state: &AppState, user: &User) -> Result<Vec<Org>, ApiError> {
    Ok(match (user.role, &user.org) {
        (Role::Admin | Role::Agent, _) => state.store.list_orgs(None, None, None).await?,
        (Role::Partner, Some(org)) => state.store.list_orgs(None, Some(org.id), None).await?,
        _ => Vec::new(),
    })
}

#[derive(Deserialize, Default)]
pub struct NewCaseForm {
    /// Identifies this form for deflection counting (see `knowledge::live_suggestions`).
    draft: Option<String>,
    subject: String,
    #[serde(default)]
    description: String,
    priority: Option<String>,
    product: Option<String>,
    on_behalf_of: Option<String>,
    reproduced_on_vanilla: Option<String>,
    /// Checklist answers arrive as `step_0`, `step_1`...
    #[serde(flatten)]
    steps: std::collections::HashMap<String, String>,
}

/// What a partner's agreement asks of a new case, for the form.
#[derive(Default)]
pub struct Gate {
    checklist: Vec<String>,
    vanilla: bool,
}

async fn gate_for(state: &AppState, user: &User) -> Result<Gate, ApiError> {
    match (user.role, &user.org) {
        (Role::Partner, Some(org)) => {
            let terms = state.partners.agreement(&state.store, org.id).await?;
            Ok(Gate {
                checklist: terms.troubleshooting_checklist.clone(),
                vanilla: terms.vanilla_reproduction_required,
            })
        }
        _ => Ok(Gate::default()),
    }
}

fn new_case_page(
    who: &WebUser,
    orgs: &[Org],
    gate: &Gate,
    form: &NewCaseForm,
    errors: &FieldErrors,
) -> Markup {
    let field_error = |name: &str| errors.0.get(name).map(|m| crate::layout::sentence(m));
    page(
        "New case",
        Some(who),
        html! {
            h1 { "New case" }
            @if !errors.is_empty() { div.error role="alert" { "Please correct the fields marked below." } }
            div.case-layout {
            form.card #new-case method="post" action="/cases" {
                input type="hidden" name="csrf" value=(who.csrf);
                input #draft type="hidden" name="draft" value=(form.draft.clone().unwrap_or_else(crate::knowledge::pages::new_draft_token));
                @if !orgs.is_empty() {
                    label for="on_behalf_of" { "For" }
                    select #on_behalf_of name="on_behalf_of" {
                        @for org in orgs {
                            option value=(org.slug) selected[form.on_behalf_of.as_deref() == Some(org.slug.as_str())] {
                                (org.name) " (" (org.kind) ")"
                            }
                        }
                    }
                    @if let Some(e) = field_error("on_behalf_of") { div.field-error { (e) } }
                }
                label for="subject" { "Subject" }
                input #subject type="text" name="subject" value=(form.subject) required maxlength="200" style="width:100%" aria-invalid=[field_error("subject").map(|_| "true")];
                @if let Some(e) = field_error("subject") { div.field-error { (e) } }
                label for="description" { "What happened?" }
                textarea #description name="description" { (form.description) }
                @if let Some(e) = field_error("description") { div.field-error { (e) } }
                label for="product" { "Product" }
                input #product type="text" name="product" value=(form.product.clone().unwrap_or_default());
                label for="priority" { "Priority" }
                select #priority name="priority" {
                    @for p in Priority::ALL {
                        option value=(p.as_str()) selected[form.priority.as_deref().unwrap_or("normal") == p.as_str()] { (p) }
                    }
                }
                @if let Some(e) = field_error("priority") { div.field-error { (e) } }
                @if !gate.checklist.is_empty() || gate.vanilla {
                    fieldset #escalation-checklist {
                        legend { "Before escalating (your agreement)" }
                        @for (i, step) in gate.checklist.iter().enumerate() {
                            @let name = format!("step_{i}");
                            label for=(name) { (step) }
                            input id=(name) type="text" name=(name) value=(form.steps.get(&name).cloned().unwrap_or_default()) style="width:100%";
                        }
                        @if gate.vanilla {
                            label { input #reproduced_on_vanilla type="checkbox" name="reproduced_on_vanilla" value="1" checked[form.reproduced_on_vanilla.is_some()]; " Reproduced on a vanilla installation" }
                        }
                        @if let Some(e) = field_error("escalation") { div.field-error { (e) } }
                    }
                }
                p { button type="submit" { "Submit case" } }
            }
            aside.card #live-suggestions aria-live="polite" hidden {
                h2 { "These articles may answer it" }
                ol {}
            }
            }
            script src="/assets/suggest.js" defer {}
        },
    )
}

pub async fn new_case_form(State(state): State<AppState>, who: WebUser) -> PageResult {
    let gate = gate_for(&state, &who.user).await.or_page(&who)?;
    let orgs = fileable_orgs(&state, &who.user).await.or_page(&who)?;
    Ok(html_response(
        StatusCode::OK,
        new_case_page(
            &who,
            &orgs,
            &gate,
            &NewCaseForm::default(),
            &FieldErrors::new(),
        ),
    ))
}

pub async fn create_case(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<NewCaseForm>,
) -> PageResult {
    let gate = gate_for(&state, &who.user).await.or_page(&who)?;
    let priority = match form.priority.as_deref().map(Priority::parse).transpose() {
        Ok(p) => p,
        Err(e) => {
            let mut errors = FieldErrors::new();
            errors.add("priority", e.0);
            let orgs = fileable_orgs(&state, &who.user).await.or_page(&who)?;
            return Ok(html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                new_case_page(&who, &orgs, &gate, &form, &errors),
            ));
        }
    };
    // A customer files for its own organisation; the select is not shown to them.
    let on_behalf_of = if who.user.role == Role::Customer {
        None
    } else {
        form.on_behalf_of.clone()
    };
    let checklist = gate
        .checklist
        .iter()
        .enumerate()
        .filter_map(|(i, step)| {
            form.steps
                .get(&format!("step_{i}"))
                .map(|answer| (step.clone(), answer.clone()))
        })
        .collect();
    let submission = CaseSubmission {
        escalation: backline_domain::partner::EscalationStatement {
            checklist,
            reproduced_on_vanilla: Some(form.reproduced_on_vanilla.is_some()),
        },
        subject: form.subject.clone(),
        description: form.description.clone(),
        priority,
        product: form.product.clone(),
        on_behalf_of,
        tags: Vec::new(),
        channel: Some(Channel::Web),
    };
    match service::create_case(&state, &who.user, submission).await {
        Ok(case) => {
            if let Some(draft) = form
                .draft
                .as_deref()
                .filter(|d| crate::knowledge::pages::valid_draft(d))
            {
                if let Err(e) = state.store.draft_filed(draft, who.user.id, case.id).await {
                    tracing::warn!(error = %e, "recording a filed draft failed");
                }
            }
            Ok(Redirect::to(&format!("/cases/{}", case.id.0)).into_response())
        }
        Err(e @ (ApiError::Validation(_) | ApiError::EscalationIncomplete(_))) => {
            let errors = match e {
                ApiError::Validation(errors) => errors,
                other => {
                    let mut errors = FieldErrors::new();
                    errors.add("escalation", other.to_string());
                    errors
                }
            };
            let orgs = fileable_orgs(&state, &who.user).await.or_page(&who)?;
            Ok(html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                new_case_page(&who, &orgs, &gate, &form, &errors),
            ))
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}

pub async fn case_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
) -> PageResult {
    render_case_page(
        &state,
        &who,
        CaseId(id),
        &ReplyDraft::default(),
        StatusCode::OK,
    )
    .await
}

/// A reply being written: kept when the reply is refused, so nothing typed is lost.
#[derive(Default)]
struct ReplyDraft {
    body: String,
    internal: bool,
    error: Option<String>,
    /// Files came with the refused reply; a browser cannot be handed them back.
    had_files: bool,
    /// What was wrong with the files, shown by the file box.
    file_error: Option<String>,
}

async fn render_case_page(
    state: &AppState,
    who: &WebUser,
    id: CaseId,
    reply: &ReplyDraft,
    status: StatusCode,
) -> PageResult {
    let case = service::visible_case(&state.store, &who.user, id)
        .await
        .or_page(who)?;
    let comments = service::comments(&state.store, &who.user, case.id)
        .await
        .or_page(who)?;
    let files = state
        .store
        .case_attachments(case.id, who.user.role.is_staff())
        .await
        .or_page(who)?;
    let staff = who.user.role.is_staff();
    let agents = if staff {
        state.store.list_users(None, true).await.or_page(who)?
    } else {
        Vec::new()
    };
    let links = crate::knowledge::service::links(state, &who.user, case.id)
        .await
        .or_page(who)?;
    // Suggestions come from the search index; if it fails the page still shows the case.
    let suggestions = crate::knowledge::service::suggestions_for_case(state, &who.user, case.id, 5)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "suggestions failed");
            Vec::new()
        });
    let queue = match &case.queue {
        Some(slug) => state.store.queue_by_slug(slug).await.ok(),
        None => None,
    };
    let swarm_queue =
        queue.as_ref().map(|q| q.model) == Some(backline_domain::routing::SupportModel::Swarm);
    let closed = case.status == CaseStatus::Closed;
    Ok(html_response(
        status,
        page(
            &format!("#{} {}", case.id.0, case.subject),
            Some(who),
            html! {
                h1 { span.num { "#" (case.id.0) } " " (case.subject) " " (status_badge(case.status)) " " (partner_badge(case.partner.as_ref())) }
                div.case-layout {
                    div {
                        div.card {
                            div.by.num {
                                (case.requester.name) " · " (when(case.created_at)) " · " (channel_label(case.channel))
                                @if let (true, Some(mail)) = (staff, case.mail_id) { " · " a href=(format!("/mail/{mail}")) { "email headers" } }
                            }
                            div.description { (case.description) }
                            (file_list(&files, None))
                        }
                        @if let Some(e) = &case.escalation {
                            @if !e.checklist.is_empty() || e.reproduced_on_vanilla.is_some() {
                                div.card #escalation {
                                    h2 { "Escalation statement" }
                                    dl.checklist {
                                        @for (step, answer) in &e.checklist { dt { (step) } dd { (answer) } }
                                        @if let Some(v) = e.reproduced_on_vanilla { dt { "Reproduced on vanilla" } dd { (if v { "yes" } else { "no" }) } }
                                    }
                                }
                            }
                        }
                        h2 { "Conversation" }
                        @if comments.is_empty() { p.num { "No replies yet." } }
                        @for c in &comments {
                            div.comment.internal[!c.public] id=(format!("comment-{}", c.id.0)) {
                                div.by {
                                    strong { (c.author.name) } " · " (when(c.created_at)) " · " (channel_label(c.channel))
                                    @if c.author_role == backline_domain::Role::Partner { " · " span.badge.partner { "partner" } }
                                    @if !c.public { " · " span.badge { "internal note" } }
                                    @if let (true, Some(mail)) = (staff, c.mail_id) { " · " a href=(format!("/mail/{mail}")) { "email headers" } }
                                }
                                div.body { (c.body) }
                                (file_list(&files, Some(c.id)))
                            }
                        }
                        @if closed {
                            p.num { "This case is closed." }
                        } @else {
                            form.card #reply method="post" enctype="multipart/form-data" action=(format!("/cases/{}/comments", case.id.0)) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                label for="body" { "Reply" }
                                @if let Some(error) = &reply.error {
                                    div.field-error #body-error role="alert" { (error) }
                                    textarea #body name="body" required aria-invalid="true" aria-describedby="body-error" { (reply.body) }
                                } @else {
                                    textarea #body name="body" required { (reply.body) }
                                }
                                div.drop #drop {
                                    label for="files" { "Attach files" }
                                    input #files type="file" name="files" multiple;
                                    p.num #drop-hint { "Drop files here or choose them; each may be at most " (crate::views::human_size(state.mail.max_attachment_bytes as i64)) "." }
                                    ul.num #chosen {}
                                }
                                @if let Some(e) = &reply.file_error {
                                    p.field-error #files-error role="alert" { (e) }
                                }
                                @if reply.had_files {
                                    p.field-error role="alert" { "Your files were not kept: attach them again." }
                                }
                                @if staff {
                                    label { input type="checkbox" name="internal" value="1" checked[reply.internal]; " Internal note (vendor staff only)" }
                                }
                                p { button type="submit" { "Send" } }
                                script src="/assets/attach.js" defer data-limit=(state.mail.max_attachment_bytes) {}
                            }
                        }
                    }
                    aside {
                        (crate::knowledge::pages::case_knowledge_panel(who, &case, &links, &suggestions))
                        div.card {
                            dl.meta {
                                dt { "Organisation" } dd { (case.organization.name) }
                                dt { "Partner" } dd { (partner_badge(case.partner.as_ref())) }
                                dt { "Requester" } dd { (case.requester.name) " <" (case.requester.email) ">" }
                                dt { "Priority" } dd { (priority_badge(case.priority)) }
                                @if staff { dt { "Tier" } dd { "L" (case.tier.level()) } }
                                @if staff { dt { "Queue" } dd { (case.queue.clone().unwrap_or_else(|| "—".into())) @if let Some(rule) = case.routed_by_rule { span.num { " (rule " (rule) ")" } } } }
                                dt { "Assignee" } dd { @if let Some(a) = &case.assignee { (a.name) } @else { "—" } }
                                dt { "Product" } dd { (case.product.clone().unwrap_or_else(|| "—".into())) }
                                dt { "Channel" } dd { (case.channel) }
                                @if !case.tags.is_empty() { dt { "Tags" } dd { (case.tags.join(", ")) } }
                                dt { "Updated" } dd { (when(case.updated_at)) }
                            }
                        }
                        @if staff && !closed {
                            form.card #update method="post" action=(format!("/cases/{}/update", case.id.0)) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                label for="status" { "Status" }
                                select #status name="status" {
                                    @for s in CaseStatus::ALL { option value=(s.as_str()) selected[*s == case.status] { (s.as_str().replace('_', " ")) } }
                                }
                                label for="priority" { "Priority" }
                                select #priority name="priority" {
                                    @for p in Priority::ALL { option value=(p.as_str()) selected[*p == case.priority] { (p) } }
                                }
                                label for="tier" { "Tier" }
                                select #tier name="tier" {
                                    @for t in 1..=3 { option value=(t) selected[t == case.tier.level()] { "L" (t) } }
                                }
                                label for="assignee" { "Assignee" }
                                select #assignee name="assignee" {
                                    option value="" { "— unassigned —" }
                                    @for a in &agents {
                                        option value=(a.id.0) selected[case.assignee.as_ref().map(|x| x.id) == Some(a.id)] { (a.name) }
                                    }
                                }
                                p { button type="submit" { "Update" } }
                            }
                            @if swarm_queue {
                                form.card #swarm method="post" action=(format!("/cases/{}/swarm", case.id.0)) {
                                    input type="hidden" name="csrf" value=(who.csrf);
                                    h3 { "Ask the swarm" }
                                    p.num { "Queue " (case.queue.clone().unwrap_or_default()) ": colleagues with the skill help; you keep the case." }
                                    label for="skill" { "Skill" } input #skill type="text" name="skill" required;
                                    label for="swarm-message" { "Message" } input #swarm-message type="text" name="message" style="width:100%";
                                    p { button type="submit" { "Ask for help" } }
                                }
                            } @else if case.tier.level() < 3 {
                                form.card #escalate method="post" action=(format!("/cases/{}/escalate", case.id.0)) {
                                    input type="hidden" name="csrf" value=(who.csrf);
                                    h3 { "Escalate to L" (case.tier.level() + 1) }
                                    label for="reason" { "Reason" } input #reason type="text" name="reason" required style="width:100%";
                                    p { button type="submit" { "Escalate" } }
                                }
                            }
                        } @else if !staff && !closed {
                            form.card method="post" action=(format!("/cases/{}/update", case.id.0)) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                @if case.status == CaseStatus::Solved {
                                    input type="hidden" name="status" value="open";
                                    button type="submit" { "Reopen" }
                                } @else {
                                    input type="hidden" name="status" value="solved";
                                    button type="submit" { "Mark as solved" }
                                }
                            }
                        }
                    }
                }
            },
        ),
    ))
}

pub async fn add_comment(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    form: CsrfMultipart,
) -> PageResult {
    let body = form.fields.get("body").cloned().unwrap_or_default();
    let public = !form.fields.contains_key("internal");
    let had_files = !form.files.is_empty();
    let refused = |state: AppState,
                   who: WebUser,
                   error: Option<String>,
                   file_error: Option<String>,
                   body: String| async move {
        let reply = ReplyDraft {
            error,
            body,
            internal: !public,
            had_files,
            file_error,
        };
        render_case_page(
            &state,
            &who,
            CaseId(id),
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
    };
    let mut files = Vec::new();
    for file in &form.files {
        if let Err(ApiError::Validation(errors)) =
            super::attachments::check_size(&state, &file.file_name, file.bytes.len())
        {
            let message = errors.0.values().cloned().collect::<Vec<_>>().join(" ");
            return refused(state.clone(), who.clone(), None, Some(message), body).await;
        }
    }
    // Content first (by hash, harmless if the reply is then refused), rows with the reply.
    for file in &form.files {
        files.push(
            super::attachments::store_file(
                &state.store,
                &file.file_name,
                &file.content_type,
                &file.bytes,
            )
            .await
            .or_page(&who)?,
        );
    }
    let origin = backline_store::CommentOrigin {
        channel: Some(backline_domain::Channel::Web),
        files,
        ..Default::default()
    };
    match service::add_comment(&state.store, &who.user, CaseId(id), &body, public, &origin).await {
        Ok(comment) => {
            Ok(Redirect::to(&format!("/cases/{id}#comment-{}", comment.id.0)).into_response())
        }
        // A blank or oversized reply: the case page again, with the text as typed.
        Err(ApiError::Validation(errors)) => {
            let message = errors.0.values().cloned().collect::<Vec<_>>().join(" ");
            refused(state.clone(), who.clone(), Some(message), None, body).await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}

/// How a case or comment came, in words.
fn channel_label(channel: backline_domain::Channel) -> &'static str {
    use backline_domain::Channel;
    match channel {
        Channel::Web => "on the web",
        Channel::Api => "through the API",
        Channel::Email => "by email",
        Channel::Community => "from the community",
        Channel::Monitoring => "from monitoring",
    }
}

/// The files of one comment (or, for `None`, those that came with the case itself).
fn file_list(
    files: &[backline_store::mail::AttachmentRecord],
    comment: Option<backline_domain::CommentId>,
) -> Markup {
    let mine: Vec<_> = files
        .iter()
        .filter(|f| f.comment_id == comment && !f.pending)
        .collect();
    html! {
        @if !mine.is_empty() {
            ul.files {
                @for f in mine {
                    li {
                        a href=(format!("/attachments/{}", f.id)) download=(f.file_name) { (f.file_name) }
                        span.num { " " (crate::views::human_size(f.size)) }
                        @if f.content_type.starts_with("image/") && f.content_type != "image/svg+xml" {
                            br;
                            img.preview src=(format!("/attachments/{}?inline=true", f.id)) alt=(f.file_name) loading="lazy";
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct UpdateForm {
    status: Option<String>,
    priority: Option<String>,
    tier: Option<i64>,
    assignee: Option<String>,
}

pub async fn update_case(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<UpdateForm>,
) -> PageResult {
    let parsed = (|| -> Result<CaseUpdate, ApiError> {
        let mut errors = FieldErrors::new();
        let status = form
            .status
            .as_deref()
            .and_then(|s| errors.check("status", CaseStatus::parse(s)));
        let priority = form
            .priority
            .as_deref()
            .and_then(|p| errors.check("priority", Priority::parse(p)));
        let tier = form.tier.and_then(|t| errors.check("tier", Tier::new(t)));
        let assignee = match form.assignee.as_deref() {
            None => None,
            Some("") => Some(None),
            Some(id) => match id.parse::<i64>() {
                Ok(id) => Some(Some(UserId(id))),
                Err(_) => {
                    errors.add("assignee", "not a user id");
                    None
                }
            },
        };
        errors.into_result()?;
        Ok(CaseUpdate {
            status,
            priority,
            tier,
            assignee,
            tags: None,
        })
    })();
    let update = parsed.or_page(&who)?;
    service::update_case(&state.store, &who.user, CaseId(id), update)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}
