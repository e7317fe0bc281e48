//! The community's pages at `/community`: spaces, a space's questions, the ask form (likely
//! answers listed as one types, by `community.js`), likely answers for anyone at
//! `/community/search`, a question with its answers and comments, the staff's queue of held
//! posts at `/community/moderation`, and the forms behind every action. Public spaces are read
//! without signing in; every form needs a session and its CSRF token. A refused form comes back
//! with what was typed.

use crate::community::service::{self, Opened, SpaceInput, Thread, Viewer};
use crate::error::ApiError;
use crate::layout::{field_error, html_response, page, when};
use crate::session::{urlencode, WebUser};
use crate::web::{same_site_path, CsrfForm, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use backline_domain::community::{badge, Moderation, PostKind, PostState, SpaceVisibility};
use backline_domain::FieldErrors;
use backline_store::community::{Post, PostAuthor, Space};
use backline_store::StoreError;
use maud::{html, Markup};
use serde::{Deserialize, Serialize};

/// Served with the shared typing-suggestion script (`typeahead.js`) in front of it.
pub const COMMUNITY_SCRIPT: &str = concat!(
    include_str!("../assets/typeahead.js"),
    include_str!("../assets/community.js")
);

pub async fn script() -> impl IntoResponse {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        COMMUNITY_SCRIPT,
    )
}

/// The signed-in person, if any: public spaces are open to all, so no session is no error.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Option<WebUser>, WebError> {
    WebUser::from_headers(state, headers)
        .await
        .map_err(|e| WebError::new(e.into()))
}

fn page_error(who: &Option<WebUser>, error: ApiError) -> WebError {
    match who {
        Some(who) => WebError::new(error).for_user(who),
        None => WebError::new(error),
    }
}

async fn viewer_for(state: &AppState, who: &Option<WebUser>) -> Result<Viewer, WebError> {
    service::viewer(state, who.as_ref().map(|w| w.user.clone()))
        .await
        .map_err(|e| page_error(who, e))
}

fn respond(title: &str, who: &Option<WebUser>, status: StatusCode, content: Markup) -> Response {
    html_response(status, page(title, who.as_ref(), content))
}

fn visibility_words(space: &Space) -> String {
    match space.access.visibility {
        SpaceVisibility::Public => "Open to everyone".into(),
        SpaceVisibility::SignedIn => "For signed-in people".into(),
        SpaceVisibility::Partners => {
            let kinds = space.access.partner_kinds.to_list().replace(',', ", ");
            let mut words = "For partner technicians".to_string();
            if !kinds.is_empty() {
                words.push_str(&format!(" ({kinds})"));
            }
            if space.access.certified_only {
                words.push_str(", certified partners only");
            }
            words
        }
    }
}

fn author_line(author: &PostAuthor, at: backline_domain::Timestamp) -> Markup {
    html! {
        span.by {
            (author.name)
            @if let Some(org) = &author.org_name { " · " (org) }
            @if let Some(b) = badge(author.role, author.certified) {
                " " span class=(format!("badge community-{}", b.as_str())) data-badge=(b.as_str()) { (b.label()) }
            }
            " · " (when(at))
        }
    }
}

fn state_note(state: PostState) -> Markup {
    match state {
        PostState::Published => html! {},
        PostState::Held => html! { " " span.badge data-state="held" { "Waiting for review" } },
        PostState::Hidden => html! { " " span.badge data-state="hidden" { "Hidden" } },
        PostState::Spam => html! { " " span.badge data-state="spam" { "Marked as spam" } },
    }
}

fn crumbs(space: Option<&Space>) -> Markup {
    html! {
        nav.crumbs aria-label="Breadcrumb" {
            a href="/help" { "Help centre" } " › " a href="/community" { "Community" }
            @if let Some(space) = space { " › " a href=(format!("/community/s/{}", space.slug)) { (space.name) } }
        }
    }
}

/// The community's search box: likely answers for a question, for anyone.
fn search_form(q: &str) -> Markup {
    html! {
        form.filters role="search" method="get" action="/community/search" {
            label for="community-q" { "Search answered questions and articles" }
            input #community-q type="search" name="q" value=(q) maxlength="500";
            button type="submit" { "Search" }
        }
    }
}

/// An article's address for this reader: the staff and signed-in article pages, or the public
/// help centre's for someone not signed in.
fn article_href(who: &Option<WebUser>, id: i64, title: &str) -> String {
    match who {
        Some(_) => format!("/articles/{id}"),
        None => format!(
            "/help/articles/{}",
            backline_domain::help::article_ref(backline_domain::ArticleId(id), title)
        ),
    }
}

#[derive(Deserialize)]
pub struct CommunitySearch {
    #[serde(default)]
    q: String,
}

/// Likely answers for anyone: the answered questions of the spaces the reader reads (accepted
/// answers first) and the articles they may read, as the matcher ranks them.
pub async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CommunitySearch>,
) -> PageResult {
    let who = signed_in(&state, &headers).await?;
    let viewer = viewer_for(&state, &who).await?;
    let q = query.q.trim().to_string();
    let found = if q.is_empty() {
        None
    } else {
        Some(
            service::likely(&state, &viewer, &q)
                .await
                .map_err(|e| page_error(&who, e))?,
        )
    };
    let content = html! {
        (crumbs(None))
        h1 { "Search the community" }
        (search_form(&q))
        @if let Some(found) = &found {
            @if !found.complete {
                p.card #search-indexing role="status" { "The search index is still catching up after a restart: some answers may be missing." }
            }
            @if found.questions.is_empty() && found.articles.is_empty() {
                p.card.empty { "Nothing found. Ask the community: pick a space above and ask your question." }
            }
            @if !found.questions.is_empty() {
                section aria-labelledby="found-questions" {
                    h2 #found-questions { "Answered questions" }
                    ol.results {
                        @for q in &found.questions {
                            li.result data-type="question" data-id=(q.id) {
                                a href=(format!("/community/questions/{}", q.id)) { (q.title) }
                                div.excerpt {
                                    @if q.accepted_answer_id.is_some() { span.badge.community-accepted { "✓ Accepted answer" } " " }
                                    (q.answers) @if q.answers == 1 { " answer" } @else { " answers" }
                                }
                            }
                        }
                    }
                }
            }
            @if !found.articles.is_empty() {
                section aria-labelledby="found-articles" {
                    h2 #found-articles { "Articles" }
                    ol.results {
                        @for a in &found.articles {
                            li.result data-type="article" data-id=(a.id) {
                                a href=(article_href(&who, a.id, &a.title)) { (a.title) }
                                div.excerpt { (a.excerpt) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(respond(
        "Search the community",
        &who,
        StatusCode::OK,
        content,
    ))
}

/// The queue of posts waiting for review, oldest first, with approve, spam and hide beside each.
/// Staff only: others are refused (403), and see no link to it.
pub async fn moderation(State(state): State<AppState>, who: WebUser) -> PageResult {
    let held = service::held_posts(&state, &who.user).await.or_page(&who)?;
    let content = html! {
        (crumbs(None))
        h1 { "Moderation queue" }
        p { "Posts waiting for review, the longest waiting first. Approving publishes a post (and mails the question's followers about an answer); spam hides it and counts against its author; hide takes it down." }
        @if held.is_empty() { p.card.empty #queue-empty { "Nothing waits for review." } }
        @else { ol.results #held-posts {
            @for h in &held {
                @let (question_id, question_title) = h.thread();
                li.result.card data-post=(h.post.id) data-kind=(h.post.kind.as_str()) {
                    p {
                        span.badge { (kind_word(h.post.kind)) } " in " (h.space) ": "
                        a href=(format!("/community/questions/{question_id}#post-{}", h.post.id)) { (question_title) }
                    }
                    p { (author_line(&h.post.author, h.post.created_at)) }
                    @if !h.post.body.is_empty() { div.description { (h.post.body) } }
                    div.staff-tools { (moderation_forms_to(&who, &h.post, Some("/community/moderation"))) }
                }
            }
        } }
    };
    Ok(respond(
        "Moderation queue",
        &Some(who),
        StatusCode::OK,
        content,
    ))
}

fn kind_word(kind: PostKind) -> &'static str {
    match kind {
        PostKind::Question => "Question",
        PostKind::Answer => "Answer",
        PostKind::Comment => "Comment",
    }
}

/// What was typed into the new-space form.
#[derive(Default, Deserialize, Clone)]
pub struct SpaceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    partner_kinds: String,
    #[serde(default)]
    certified_only: Option<String>,
}

pub async fn spaces_page(State(state): State<AppState>, headers: HeaderMap) -> PageResult {
    let who = signed_in(&state, &headers).await?;
    spaces_view(&state, who, SpaceForm::default(), FieldErrors::new()).await
}

async fn spaces_view(
    state: &AppState,
    who: Option<WebUser>,
    form: SpaceForm,
    errors: FieldErrors,
) -> PageResult {
    let viewer = viewer_for(state, &who).await?;
    let spaces = service::spaces(state, &viewer)
        .await
        .map_err(|e| page_error(&who, e))?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let content = html! {
        (crumbs(None))
        h1 { "Community" }
        p { "Questions and answers from people who use the product, with our staff and certified partner technicians." }
        (search_form(""))
        @if who.as_ref().is_some_and(|w| w.is_staff()) {
            p { a #moderation-link href="/community/moderation" { "Moderation queue: posts waiting for review" } }
        }
        @if spaces.is_empty() { p.empty { "No spaces here yet." } }
        ul.links {
            @for s in &spaces {
                li.card {
                    h2 { a href=(format!("/community/s/{}", s.slug)) { (s.name) } }
                    @if !s.description.is_empty() { p.excerpt { (s.description) } }
                    p.excerpt { (visibility_words(s)) }
                }
            }
        }
        @if who.is_none() {
            p { a href="/login?next=/community" { "Sign in" } " to ask and answer." }
        }
        @if let Some(w) = who.as_ref().filter(|w| w.is_staff()) {
            section.card aria-labelledby="new-space-title" {
                h2 #new-space-title { "New space" }
                form method="post" action="/community/spaces" {
                    input type="hidden" name="csrf" value=(w.csrf);
                    label for="space-name" { "Name" }
                    (field_error(&errors, &["name"]))
                    input #space-name name="name" value=(form.name) required maxlength="100";
                    label for="space-slug" { "Address (slug; made from the name if empty)" }
                    (field_error(&errors, &["slug"]))
                    input #space-slug name="slug" value=(form.slug);
                    label for="space-description" { "Description" }
                    (field_error(&errors, &["description"]))
                    textarea #space-description name="description" rows="2" { (form.description) }
                    label for="space-visibility" { "Who reads it" }
                    (field_error(&errors, &["visibility"]))
                    select #space-visibility name="visibility" {
                        option value="public" selected[form.visibility == "public"] { "Everyone, signed in or not" }
                        option value="signed_in" selected[form.visibility == "signed_in"] { "Signed-in people" }
                        option value="partners" selected[form.visibility == "partners"] { "Partner technicians and staff" }
                    }
                    label for="space-kinds" { "Partner spaces: only these partner kinds (comma-separated: reseller, implementer, frontline; empty for all)" }
                    (field_error(&errors, &["partner_kinds"]))
                    input #space-kinds name="partner_kinds" value=(form.partner_kinds);
                    label.inline for="space-certified" {
                        input #space-certified type="checkbox" name="certified_only" value="1" checked[form.certified_only.is_some()];
                        " Partner spaces: certified partners only"
                    }
                    button type="submit" { "Create space" }
                }
            }
        }
    };
    Ok(respond("Community", &who, status, content))
}

pub async fn create_space(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<SpaceForm>,
) -> PageResult {
    let input = SpaceInput {
        name: form.name.clone(),
        slug: form.slug.clone(),
        description: form.description.clone(),
        visibility: form.visibility.clone(),
        partner_kinds: form
            .partner_kinds
            .split(',')
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .collect(),
        certified_only: form.certified_only.is_some(),
    };
    match service::create_space(&state, &who.user, input).await {
        Ok(space) => Ok(Redirect::to(&format!("/community/s/{}", space.slug)).into_response()),
        Err(ApiError::Validation(errors)) => spaces_view(&state, Some(who), form, errors).await,
        Err(ApiError::Conflict { message, .. }) => {
            let mut errors = FieldErrors::new();
            errors.add("slug", message);
            spaces_view(&state, Some(who), form, errors).await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}

pub async fn space_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> PageResult {
    let who = signed_in(&state, &headers).await?;
    let viewer = viewer_for(&state, &who).await?;
    let space = service::space(&state, &viewer, &slug)
        .await
        .map_err(|e| page_error(&who, e))?;
    let questions = service::questions(&state, &viewer, &space)
        .await
        .map_err(|e| page_error(&who, e))?;
    let content = html! {
        (crumbs(Some(&space)))
        h1 { (space.name) }
        @if !space.description.is_empty() { p { (space.description) } }
        p.excerpt { (visibility_words(&space)) }
        @if who.is_some() {
            p { a.button href=(format!("/community/s/{}/ask", space.slug)) { "Ask a question" } }
        } @else {
            p { a href=(format!("/login?next={}", urlencode(&format!("/community/s/{}/ask", space.slug)))) { "Sign in to ask a question" } }
        }
        @if questions.is_empty() { p.empty { "No questions yet." } }
        ol.results {
            @for q in &questions {
                li.result {
                    a href=(format!("/community/questions/{}", q.id)) { (q.title) }
                    (state_note(q.state))
                    div.excerpt {
                        (q.answers) @if q.answers == 1 { " answer" } @else { " answers" }
                        @if q.accepted_answer_id.is_some() { " · answered" }
                        " · score " (q.score)
                        @if q.locked { " · locked" }
                        " · " (q.author.name) " · " (when(q.created_at))
                    }
                }
            }
        }
    };
    Ok(respond(&space.name, &who, StatusCode::OK, content))
}

/// What was typed into the ask form.
#[derive(Default, Deserialize, Clone)]
pub struct AskForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

pub async fn ask_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(slug): Path<String>,
) -> PageResult {
    ask_view(
        &state,
        who,
        &slug,
        AskForm::default(),
        FieldErrors::new(),
        None,
    )
    .await
}

async fn ask_view(
    state: &AppState,
    who: WebUser,
    slug: &str,
    form: AskForm,
    errors: FieldErrors,
    refusal: Option<String>,
) -> PageResult {
    let viewer = service::viewer(state, Some(who.user.clone()))
        .await
        .or_page(&who)?;
    let space = service::space(state, &viewer, slug).await.or_page(&who)?;
    let status = if errors.is_empty() && refusal.is_none() {
        StatusCode::OK
    } else if refusal.is_some() {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let content = html! {
        (crumbs(Some(&space)))
        h1 { "Ask a question" }
        @if let Some(message) = &refusal { div.error role="alert" { (message) } }
        form #ask-form method="post" action=(format!("/community/s/{}/ask", space.slug)) data-likely="/community/likely" {
            input type="hidden" name="csrf" value=(who.csrf);
            label for="ask-title" { "Your question, in one line" }
            (field_error(&errors, &["title"]))
            input #ask-title name="title" value=(form.title) required maxlength="200" autocomplete="off"
                aria-describedby="ask-title-hint";
            span #ask-title-hint.excerpt { "Likely answers appear below as you type." }
            section #likely aria-live="polite" hidden {
                h2 { "These may answer it already" }
                ul #likely-list.links {}
            }
            label for="ask-body" { "Details (what you tried, versions, messages)" }
            (field_error(&errors, &["body"]))
            textarea #ask-body name="body" rows="8" { (form.body) }
            button type="submit" { "Post the question" }
        }
        script src="/assets/community.js" defer {}
    };
    Ok(respond("Ask a question", &Some(who), status, content))
}

pub async fn ask(
    State(state): State<AppState>,
    who: WebUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<AskForm>,
) -> PageResult {
    match service::ask(&state, &who.user, &slug, &form.title, &form.body).await {
        Ok(posted) => {
            Ok(Redirect::to(&format!("/community/questions/{}", posted.id)).into_response())
        }
        Err(ApiError::Validation(errors)) => ask_view(&state, who, &slug, form, errors, None).await,
        Err(ApiError::TooMany(message)) => {
            ask_view(&state, who, &slug, form, FieldErrors::new(), Some(message)).await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}

#[derive(Deserialize)]
pub struct LikelyQuery {
    #[serde(default)]
    q: String,
}

/// One likely answer for the ask form's script.
#[derive(Serialize)]
pub struct LikelyLink {
    kind: &'static str,
    title: String,
    href: String,
    /// Questions: it has an accepted answer.
    answered: bool,
}

#[derive(Serialize)]
pub struct LikelyLinks {
    likely: Vec<LikelyLink>,
}

/// Likely answers for the ask form, as JSON for its script (signed-in people, who ask).
pub async fn likely(
    State(state): State<AppState>,
    who: WebUser,
    Query(query): Query<LikelyQuery>,
) -> Result<axum::Json<LikelyLinks>, ApiError> {
    let viewer = service::viewer(&state, Some(who.user.clone())).await?;
    let found = service::likely(&state, &viewer, &query.q).await?;
    let mut likely: Vec<LikelyLink> = found
        .questions
        .iter()
        .map(|q| LikelyLink {
            kind: "question",
            title: q.title.clone(),
            href: format!("/community/questions/{}", q.id),
            answered: q.accepted_answer_id.is_some(),
        })
        .collect();
    likely.extend(found.articles.iter().map(|a| LikelyLink {
        kind: "article",
        title: a.title.clone(),
        href: format!("/articles/{}", a.id),
        answered: false,
    }));
    Ok(axum::Json(LikelyLinks { likely }))
}

/// What was typed into an answer or comment form, and where it was refused.
#[derive(Default, Deserialize, Clone)]
pub struct ReplyForm {
    #[serde(default)]
    body: String,
}

/// A refused answer or comment to show again on the question page.
struct Refused {
    /// The post the form was on (the question for an answer).
    on: i64,
    kind: PostKind,
    text: String,
    message: String,
    status: StatusCode,
}

pub async fn question_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> PageResult {
    let who = signed_in(&state, &headers).await?;
    question_view(&state, who, id, None).await
}

async fn question_view(
    state: &AppState,
    who: Option<WebUser>,
    id: i64,
    refused: Option<Refused>,
) -> PageResult {
    let viewer = viewer_for(state, &who).await?;
    let thread = match service::open_question(state, &viewer, id)
        .await
        .map_err(|e| page_error(&who, e))?
    {
        Opened::Merged(target) => {
            return Ok(
                Redirect::permanent(&format!("/community/questions/{target}")).into_response(),
            )
        }
        Opened::Thread(thread) => thread,
    };
    let status = refused.as_ref().map_or(StatusCode::OK, |r| r.status);
    let title = thread.question.title.clone();
    let content = thread_markup(&thread, &who, refused.as_ref());
    Ok(respond(&title, &who, status, content))
}

fn vote_form(who: &WebUser, post: &Post, mine: i64) -> Markup {
    html! {
        div.vote data-score=(post.score) {
            span { "Score " strong { (post.score) } }
            @if who.user.id != post.author.id && post.state == PostState::Published {
                form.inline method="post" action=(format!("/community/posts/{}/vote", post.id)) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    input type="hidden" name="value" value=(if mine == 1 { 0 } else { 1 });
                    button.secondary type="submit" aria-pressed=(mine == 1) { @if mine == 1 { "Take back up vote" } @else { "Vote up" } }
                }
                form.inline method="post" action=(format!("/community/posts/{}/vote", post.id)) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    input type="hidden" name="value" value=(if mine == -1 { 0 } else { -1 });
                    button.secondary type="submit" aria-pressed=(mine == -1) { @if mine == -1 { "Take back down vote" } @else { "Vote down" } }
                }
            }
        }
    }
}

fn moderation_forms(who: &WebUser, post: &Post) -> Markup {
    moderation_forms_to(who, post, None)
}

/// The moderation buttons for a post; `back`: where to return afterwards (the post itself
/// when `None`).
fn moderation_forms_to(who: &WebUser, post: &Post, back: Option<&str>) -> Markup {
    let actions: Vec<(Moderation, &str)> = match post.state {
        PostState::Held => vec![
            (Moderation::Approve, "Approve"),
            (Moderation::Spam, "Spam"),
            (Moderation::Hide, "Hide"),
        ],
        PostState::Published => vec![(Moderation::Hide, "Hide"), (Moderation::Spam, "Spam")],
        PostState::Hidden | PostState::Spam => vec![(Moderation::Restore, "Restore")],
    };
    html! {
        @for (action, label) in actions {
            form.inline method="post" action=(format!("/community/posts/{}/moderate", post.id)) {
                input type="hidden" name="csrf" value=(who.csrf);
                input type="hidden" name="action" value=(action.as_str());
                @if let Some(back) = back { input type="hidden" name="next" value=(back); }
                button.secondary type="submit" data-action=(action.as_str()) { (label) " " span.visually-hidden { (post.kind.as_str()) " " (post.id) } }
            }
        }
    }
}

fn comments_markup(comments: &[Post], who: &Option<WebUser>) -> Markup {
    html! {
        @if !comments.is_empty() {
            ul.links.comments {
                @for c in comments {
                    li #(format!("post-{}", c.id)) {
                        (c.body) " — " (author_line(&c.author, c.created_at)) (state_note(c.state))
                        @if let Some(w) = who.as_ref().filter(|w| w.is_staff()) { " " (moderation_forms(w, c)) }
                    }
                }
            }
        }
    }
}

fn comment_form(who: &WebUser, on: i64, refused: Option<&Refused>) -> Markup {
    let mine = refused.filter(|r| r.kind == PostKind::Comment && r.on == on);
    let field = format!("comment-{on}");
    html! {
        details open[mine.is_some()] {
            summary { "Add a comment" }
            form method="post" action=(format!("/community/posts/{on}/comment")) {
                input type="hidden" name="csrf" value=(who.csrf);
                label for=(field) { "Comment" }
                @if let Some(r) = mine { div.field-error role="alert" { (r.message) } }
                textarea id=(field) name="body" rows="2" maxlength="2000" { @if let Some(r) = mine { (r.text) } }
                button type="submit" { "Comment" }
            }
        }
    }
}

fn thread_markup(thread: &Thread, who: &Option<WebUser>, refused: Option<&Refused>) -> Markup {
    let q = &thread.question;
    let staff = who.as_ref().is_some_and(|w| w.is_staff());
    let asker = who.as_ref().is_some_and(|w| w.user.id == q.author.id);
    let open = !q.locked;
    let answer_refused = refused.filter(|r| r.kind == PostKind::Answer);
    html! {
        (crumbs(Some(&thread.space)))
        article.card #(format!("post-{}", q.id)) {
            h1 { (q.title) (state_note(q.state)) @if q.locked { " " span.badge { "Locked" } } }
            p { (author_line(&q.author, q.created_at)) }
            @if q.state == PostState::Held && !staff {
                p.notice { "Your question waits for review by our team; others will see it once it is approved." }
            }
            @if !q.body.is_empty() { div.description { (q.body) } }
            @if let Some(case) = q.case_id { p { "Followed up as " a href=(format!("/cases/{}", case.0)) { "case #" (case.0) } "." } }
            @if let (Some(article), true) = (q.article_id, staff) { p { "Promoted to " a href=(format!("/articles/{}", article.0)) { "article #" (article.0) } "." } }
            @if let Some(w) = who {
                (vote_form(w, q, thread.my_vote(q.id)))
                form.inline method="post" action=(format!("/community/questions/{}/follow", q.id)) {
                    input type="hidden" name="csrf" value=(w.csrf);
                    input type="hidden" name="following" value=(if thread.following { "0" } else { "1" });
                    button.secondary type="submit" { @if thread.following { "Stop following" } @else { "Follow (email me new answers)" } }
                }
            }
            (comments_markup(&thread.comments, who))
            @if let (Some(w), true) = (who, open) { (comment_form(w, q.id, refused)) }
            @if let Some(w) = who.as_ref().filter(|w| w.is_staff()) {
                section.staff-tools aria-label="Moderation" {
                    (moderation_forms(w, q))
                    form.inline method="post" action=(format!("/community/questions/{}/lock", q.id)) {
                        input type="hidden" name="csrf" value=(w.csrf);
                        input type="hidden" name="locked" value=(if q.locked { "0" } else { "1" });
                        button.secondary type="submit" { @if q.locked { "Unlock" } @else { "Lock" } }
                    }
                    @if q.case_id.is_none() && !q.author.role.is_staff() {
                        form.inline method="post" action=(format!("/community/questions/{}/case", q.id)) {
                            input type="hidden" name="csrf" value=(w.csrf);
                            button.secondary type="submit" { "Turn into a case" }
                        }
                    }
                    form.inline method="post" action=(format!("/community/questions/{}/merge", q.id)) {
                        input type="hidden" name="csrf" value=(w.csrf);
                        label for="merge-into" { "Duplicate of question number" }
                        input #merge-into name="into" inputmode="numeric" size="6" required;
                        button.secondary type="submit" { "Merge" }
                    }
                }
            }
        }
        section aria-labelledby="answers-title" {
            h2 #answers-title { (thread.answers.len()) @if thread.answers.len() == 1 { " answer" } @else { " answers" } }
            @for a in &thread.answers {
                article.card.answer #(format!("post-{}", a.answer.id)) data-accepted=(q.accepted_answer_id == Some(a.answer.id)) {
                    @if q.accepted_answer_id == Some(a.answer.id) { p { span.badge.community-accepted { "✓ Accepted answer" } } }
                    p { (author_line(&a.answer.author, a.answer.created_at)) (state_note(a.answer.state)) }
                    div.description { (a.answer.body) }
                    @if let Some(w) = who {
                        (vote_form(w, &a.answer, thread.my_vote(a.answer.id)))
                        @if (asker || staff) && a.answer.state == PostState::Published && q.accepted_answer_id != Some(a.answer.id) {
                            form.inline method="post" action=(format!("/community/questions/{}/accept", q.id)) {
                                input type="hidden" name="csrf" value=(w.csrf);
                                input type="hidden" name="answer_id" value=(a.answer.id);
                                button.secondary type="submit" { "Accept this answer" }
                            }
                        }
                        @if staff && a.answer.state == PostState::Published {
                            form.inline method="post" action=(format!("/community/questions/{}/article", q.id)) {
                                input type="hidden" name="csrf" value=(w.csrf);
                                input type="hidden" name="answer_id" value=(a.answer.id);
                                button.secondary type="submit" { "Promote to a draft article" }
                            }
                        }
                        @if staff { (moderation_forms(w, &a.answer)) }
                    }
                    (comments_markup(&a.comments, who))
                    @if let (Some(w), true) = (who, open) { (comment_form(w, a.answer.id, refused)) }
                }
            }
        }
        @match (who, open) {
            (Some(w), true) => {
                section.card aria-labelledby="your-answer" {
                    h2 #your-answer { "Your answer" }
                    @if let Some(r) = answer_refused { div.field-error role="alert" { (r.message) } }
                    form method="post" action=(format!("/community/questions/{}/answer", q.id)) {
                        input type="hidden" name="csrf" value=(w.csrf);
                        label for="answer-body" { "Answer" }
                        textarea #answer-body name="body" rows="6" required { @if let Some(r) = answer_refused { (r.text) } }
                        button type="submit" { "Post the answer" }
                    }
                }
            }
            (_, false) => { p.notice { "This question is locked: it takes no new answers or comments." } }
            (None, true) => {
                p { a href=(format!("/login?next={}", urlencode(&format!("/community/questions/{}", q.id)))) { "Sign in to answer" } }
            }
        }
    }
}

/// A refused answer or comment comes back on the question page, with what was typed.
async fn reply_refused(
    state: &AppState,
    who: WebUser,
    question: i64,
    on: i64,
    kind: PostKind,
    text: String,
    error: ApiError,
) -> PageResult {
    let (message, status) = match &error {
        ApiError::Validation(errors) => (
            errors
                .0
                .values()
                .map(|m| crate::layout::sentence(m))
                .collect::<Vec<_>>()
                .join(" "),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ApiError::TooMany(message) => (message.clone(), StatusCode::TOO_MANY_REQUESTS),
        ApiError::Conflict { message, .. } => {
            (crate::layout::sentence(message), StatusCode::CONFLICT)
        }
        _ => return Err(WebError::new(error).for_user(&who)),
    };
    question_view(
        state,
        Some(who),
        question,
        Some(Refused {
            on,
            kind,
            text,
            message,
            status,
        }),
    )
    .await
}

fn to_post(question: i64, post: i64) -> Response {
    Redirect::to(&format!("/community/questions/{question}#post-{post}")).into_response()
}

pub async fn answer(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ReplyForm>,
) -> PageResult {
    match service::answer(&state, &who.user, id, &form.body).await {
        Ok(posted) => Ok(to_post(id, posted.id)),
        Err(e) => reply_refused(&state, who, id, id, PostKind::Answer, form.body, e).await,
    }
}

/// The question a post belongs to (itself, for a question), as this person sees it.
async fn question_of(state: &AppState, who: &WebUser, post: i64) -> Result<i64, WebError> {
    let found = state
        .store
        .community_post(post, backline_domain::Timestamp::now())
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound("post"),
            other => other.into(),
        })
        .or_page(who)?;
    Ok(found.question_id.unwrap_or(found.id))
}

pub async fn comment(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ReplyForm>,
) -> PageResult {
    match service::comment(&state, &who.user, id, &form.body).await {
        Ok(posted) => {
            let question = question_of(&state, &who, id).await?;
            Ok(to_post(question, posted.id))
        }
        Err(ApiError::NotFound(what)) => {
            Err(WebError::new(ApiError::NotFound(what)).for_user(&who))
        }
        Err(e) => {
            let question = question_of(&state, &who, id).await?;
            reply_refused(&state, who, question, id, PostKind::Comment, form.body, e).await
        }
    }
}

#[derive(Deserialize)]
pub struct VoteForm {
    value: i64,
}

pub async fn vote(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<VoteForm>,
) -> PageResult {
    service::vote(&state, &who.user, id, form.value)
        .await
        .or_page(&who)?;
    let question = question_of(&state, &who, id).await?;
    Ok(to_post(question, id))
}

#[derive(Deserialize)]
pub struct AcceptForm {
    answer_id: i64,
}

pub async fn accept(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<AcceptForm>,
) -> PageResult {
    service::accept(&state, &who.user, id, Some(form.answer_id))
        .await
        .or_page(&who)?;
    Ok(to_post(id, form.answer_id))
}

#[derive(Deserialize)]
pub struct FlagForm {
    #[serde(default)]
    following: String,
    #[serde(default)]
    locked: String,
}

pub async fn follow(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<FlagForm>,
) -> PageResult {
    service::follow(&state, &who.user, id, form.following == "1")
        .await
        .or_page(&who)?;
    Ok(to_post(id, id))
}

pub async fn lock(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<FlagForm>,
) -> PageResult {
    service::lock(&state, &who.user, id, form.locked == "1")
        .await
        .or_page(&who)?;
    Ok(to_post(id, id))
}

#[derive(Deserialize)]
pub struct ModerateForm {
    action: String,
    /// Where to go afterwards (the moderation queue), when it is a path of this site.
    #[serde(default)]
    next: Option<String>,
}

pub async fn moderate(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ModerateForm>,
) -> PageResult {
    let action = Moderation::parse(&form.action)
        .map_err(|e| ApiError::validation("action", e.0))
        .or_page(&who)?;
    let post = service::moderate(&state, &who.user, id, action)
        .await
        .or_page(&who)?;
    if let Some(next) = form.next.as_deref().and_then(same_site_path) {
        return Ok(Redirect::to(next).into_response());
    }
    Ok(to_post(post.question_id.unwrap_or(post.id), post.id))
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
    let into: i64 = form
        .into
        .trim()
        .trim_start_matches('#')
        .parse()
        .map_err(|_| {
            ApiError::validation(
                "into",
                "give the number of the question this one duplicates",
            )
        })
        .or_page(&who)?;
    service::merge(&state, &who.user, id, into)
        .await
        .or_page(&who)?;
    Ok(to_post(into, into))
}

#[derive(Deserialize)]
pub struct PromoteForm {
    #[serde(default)]
    answer_id: Option<i64>,
}

pub async fn promote(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<PromoteForm>,
) -> PageResult {
    let article = service::promote(&state, &who.user, id, form.answer_id)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/articles/{}", article.id.0)).into_response())
}

pub async fn to_case(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<crate::web::NoFields>,
) -> PageResult {
    let case = service::to_case(&state, &who.user, id)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/cases/{}", case.id.0)).into_response())
}
