//! The help centre's pages, open to everyone: the front page, categories, articles with "Was
//! this helpful?", search with suggestions as one types, and the sitemap. The same handlers
//! serve `/help` and a partner's `/help/p/{slug}`; a signed-in reader sees what they may.

use crate::error::ApiError;
use crate::help::service::{self, HelpContext};
use crate::layout::{field_error, html_response, when};
use crate::session::WebUser;
use crate::web::{ClientAddress, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use backline_domain::help::{meta_description, parse_article_ref};
use backline_domain::FieldErrors;
use backline_store::help::HelpArticle;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::{Deserialize, Serialize};

/// Served with the shared typing-suggestion script (`typeahead.js`) in front of it.
pub const HELP_SCRIPT: &str = concat!(
    include_str!("../assets/typeahead.js"),
    include_str!("../assets/help.js")
);

/// The signed-in person, if any: the help centre is open to all, so no session is no error.
async fn reader(state: &AppState, headers: &HeaderMap) -> Result<Option<WebUser>, WebError> {
    WebUser::from_headers(state, headers)
        .await
        .map_err(|e| WebError::new(e.into()))
}

/// The help centre this request is in, as its reader sees it.
async fn centre(
    state: &AppState,
    headers: &HeaderMap,
    partner: Option<&str>,
) -> Result<(HelpContext, Option<WebUser>), WebError> {
    let who = reader(state, headers).await?;
    let ctx = service::context(state, who.as_ref().map(|w| w.user.clone()), partner)
        .await
        .map_err(|e| page_error(&who, e))?;
    Ok((ctx, who))
}

fn page_error(who: &Option<WebUser>, error: ApiError) -> WebError {
    match who {
        Some(who) => WebError::new(error).for_user(who),
        None => WebError::new(error),
    }
}

/// The help centre's own frame: its name (or the partner's brand), a search box, a proper
/// title and description for search engines, and a way back for signed-in readers.
fn frame(
    ctx: &HelpContext,
    who: &Option<WebUser>,
    title: &str,
    description: &str,
    canonical: Option<&str>,
    query: &str,
    content: Markup,
) -> Markup {
    let base = ctx.base();
    let style = ctx.brand.as_ref().map(|b| {
        // Colours were checked as `#rrggbb` when stored, so they are safe inside a style.
        format!(
            "header.top.help-top {{ background: {}; color: {}; }} \
             header.top.help-top .brand, header.top.help-top nav a {{ color: {}; }}",
            b.brand.colour, b.brand.accent, b.brand.accent
        )
    });
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (ctx.name()) }
                @if !description.is_empty() { meta name="description" content=(description); }
                @if let Some(canonical) = canonical { link rel="canonical" href=(canonical); }
                link rel="stylesheet" href="/assets/app.css";
                link rel="icon" href="/assets/favicon.svg" type="image/svg+xml";
                @if let Some(style) = style { style { (PreEscaped(style)) } }
                script src="/assets/help.js" defer {}
            }
            body.help {
                a.skip href="#main" { "Skip to content" }
                header.top.help-top {
                    a.brand href=(base) {
                        @if let Some(brand) = &ctx.brand {
                            @if !brand.brand.logo_url.is_empty() {
                                img.help-logo src=(brand.brand.logo_url) alt="" height="28";
                                " "
                            }
                        }
                        (ctx.name())
                    }
                    nav {
                        @if let Some(who) = who {
                            @if who.is_staff() { a href="/articles" { "Knowledge" } }
                            a href="/cases" { "Your cases" }
                            a href="/cases/new" { "Contact support" }
                            a href="/community" { "Community" }
                        } @else {
                            a href="/community" { "Community" }
                            a href=(format!("/login?next={}", crate::session::urlencode(&base))) { "Sign in" }
                        }
                    }
                }
                main #main tabindex="-1" {
                    form.help-search role="search" method="get" action=(format!("{base}/search")) data-suggest=(format!("{base}/suggest")) {
                        label for="help-q" { "Search the help centre" }
                        div.help-search-row {
                            input #help-q type="search" name="q" value=(query) autocomplete="off" maxlength="200"
                                aria-describedby="help-q-hint" aria-controls="help-suggestions";
                            button type="submit" { "Search" }
                        }
                        span #help-q-hint.excerpt { "Suggestions appear as you type." }
                        ul #help-suggestions.help-suggestions hidden aria-live="polite" {}
                    }
                    (content)
                }
            }
        }
    }
}

/// A page answer; in a partner's centre with a logo, the policy also lets the logo load from
/// its own web address (the only outside image the site shows).
fn respond(ctx: &HelpContext, status: StatusCode, markup: Markup) -> Response {
    let mut response = html_response(status, markup);
    if ctx
        .brand
        .as_ref()
        .is_some_and(|b| !b.brand.logo_url.is_empty())
    {
        let policy = crate::security::CONTENT_SECURITY_POLICY
            .replace("img-src 'self' data:", "img-src 'self' data: https:");
        if let Ok(value) = HeaderValue::from_str(&policy) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    response
}

fn article_list(ctx: &HelpContext, articles: &[HelpArticle]) -> Markup {
    html! {
        ul.help-articles {
            @for a in articles {
                li {
                    a href=(ctx.article_path(a.id, &a.title)) { (a.title) }
                    @if !a.issue.is_empty() { div.excerpt { (meta_description(&a.issue)) } }
                }
            }
        }
    }
}

pub async fn front_vendor(State(state): State<AppState>, headers: HeaderMap) -> PageResult {
    front(state, headers, None).await
}

pub async fn front_partner(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(partner): Path<String>,
) -> PageResult {
    front(state, headers, Some(partner)).await
}

async fn front(state: AppState, headers: HeaderMap, partner: Option<String>) -> PageResult {
    let (ctx, who) = centre(&state, &headers, partner.as_deref()).await?;
    let front = service::front(&state, &ctx)
        .await
        .map_err(|e| page_error(&who, e))?;
    let base = ctx.base();
    let content = html! {
        h1 { "How can we help?" }
        @if !front.categories.is_empty() {
            section.help-categories aria-labelledby="categories-title" {
                h2 #categories-title { "Browse by topic" }
                ul.help-grid {
                    @for (category, sections) in &front.categories {
                        li.card {
                            h3 { a href=(format!("{base}/categories/{}", category.slug)) { (category.name) } }
                            @if !category.description.is_empty() { p.excerpt { (category.description) } }
                            @if !sections.is_empty() {
                                p.excerpt { (sections.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(" · ")) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="recent-title" {
            h2 #recent-title { "Recently updated" }
            @if front.recent.is_empty() {
                p.empty { "No articles here yet." }
            } @else {
                (article_list(&ctx, &front.recent))
            }
        }
    };
    let description = format!("Answers and how-to articles from {}.", ctx.name());
    let canonical = base.clone();
    Ok(respond(
        &ctx,
        StatusCode::OK,
        frame(
            &ctx,
            &who,
            "Help",
            &description,
            Some(&canonical),
            "",
            content,
        ),
    ))
}

pub async fn category_vendor(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> PageResult {
    category(state, headers, None, slug).await
}

pub async fn category_partner(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((partner, slug)): Path<(String, String)>,
) -> PageResult {
    category(state, headers, Some(partner), slug).await
}

async fn category(
    state: AppState,
    headers: HeaderMap,
    partner: Option<String>,
    slug: String,
) -> PageResult {
    let (ctx, who) = centre(&state, &headers, partner.as_deref()).await?;
    let (category, sections) = service::category(&state, &ctx, &slug)
        .await
        .map_err(|e| page_error(&who, e))?;
    let base = ctx.base();
    let content = html! {
        nav.crumbs aria-label="Breadcrumb" { a href=(base) { (ctx.name()) } " › " (category.name) }
        h1 { (category.name) }
        @if !category.description.is_empty() { p { (category.description) } }
        @for (section, articles) in &sections {
            section.card {
                h2 { (section.name) }
                @if articles.is_empty() { p.empty { "No articles in this section yet." } }
                @else { (article_list(&ctx, articles)) }
            }
        }
    };
    let description = if category.description.is_empty() {
        format!("{} articles in {}.", category.name, ctx.name())
    } else {
        meta_description(&category.description)
    };
    let canonical = format!("{base}/categories/{}", category.slug);
    Ok(respond(
        &ctx,
        StatusCode::OK,
        frame(
            &ctx,
            &who,
            &category.name,
            &description,
            Some(&canonical),
            "",
            content,
        ),
    ))
}

#[derive(Deserialize)]
pub struct ArticleQuery {
    voted: Option<String>,
}

pub async fn article_vendor(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(reference): Path<String>,
    Query(query): Query<ArticleQuery>,
) -> PageResult {
    article(state, headers, None, reference, query.voted.is_some()).await
}

pub async fn article_partner(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((partner, reference)): Path<(String, String)>,
    Query(query): Query<ArticleQuery>,
) -> PageResult {
    article(
        state,
        headers,
        Some(partner),
        reference,
        query.voted.is_some(),
    )
    .await
}

async fn article(
    state: AppState,
    headers: HeaderMap,
    partner: Option<String>,
    reference: String,
    voted: bool,
) -> PageResult {
    let (ctx, who) = centre(&state, &headers, partner.as_deref()).await?;
    let id = parse_article_ref(&reference)
        .ok_or_else(|| page_error(&who, ApiError::NotFound("article")))?;
    let shown = service::article(&state, &ctx, id)
        .await
        .map_err(|e| page_error(&who, e))?;
    let canonical = ctx.article_path(id, &shown.article.content.title);
    // An old or missing slug: send readers (and search engines) to the one address.
    if !canonical.ends_with(&format!("/articles/{reference}")) {
        return Ok(Redirect::permanent(&canonical).into_response());
    }
    let vote = VoteForm {
        shown_thanks: voted,
        ..VoteForm::default()
    };
    Ok(respond(
        &ctx,
        StatusCode::OK,
        article_markup(&ctx, &who, &shown, &canonical, &vote),
    ))
}

/// The vote form as shown: after a vote, or refused with what was typed.
#[derive(Default)]
struct VoteForm {
    shown_thanks: bool,
    comment: String,
    errors: FieldErrors,
}

fn article_markup(
    ctx: &HelpContext,
    who: &Option<WebUser>,
    shown: &service::ArticlePage,
    canonical: &str,
    vote: &VoteForm,
) -> Markup {
    let a = &shown.article;
    let c = &a.content;
    let base = ctx.base();
    let content = html! {
        nav.crumbs aria-label="Breadcrumb" {
            a href=(base) { (ctx.name()) }
            @if let Some(category) = &shown.category {
                " › " a href=(format!("{base}/categories/{}", category.slug)) { (category.name) }
            }
            @if let Some(section) = &shown.section { " › " (section.name) }
        }
        div.help-article-layout {
            article.help-article {
                h1 { (c.title) }
                p.excerpt { "Last updated " time datetime=(a.updated_at.to_rfc3339()) { (when(a.updated_at)) } }
                @if !c.issue.is_empty() { h2 { "The problem" } div.description { (c.issue) } }
                @if !c.environment.is_empty() { h2 { "Where it happens" } div.description { (c.environment) } }
                @if !c.resolution.is_empty() { h2 { "What fixes it" } div.description { (c.resolution) } }
                @if !c.cause.is_empty() { h2 { "Why it happens" } div.description { (c.cause) } }
                section.card #helpful aria-labelledby="helpful-title" {
                    h2 #helpful-title { "Was this helpful?" }
                    @if vote.shown_thanks {
                        p role="status" { "Thank you: your answer was counted." }
                    }
                    form method="post" action=(format!("{canonical}/vote")) {
                        @if let Some(who) = who { input type="hidden" name="csrf" value=(who.csrf); }
                        label for="vote-comment" { "Anything we should add or fix? (optional)" }
                        (field_error(&vote.errors, &["comment"]))
                        textarea #vote-comment name="comment" rows="3" maxlength="2000" { (vote.comment) }
                        div.help-vote-buttons {
                            button type="submit" name="helpful" value="yes" { "Yes, it helped" }
                            button type="submit" name="helpful" value="no" { "No" }
                        }
                    }
                    @if shown.helpfulness.votes() > 0 {
                        p.excerpt #helpful-count {
                            (shown.helpfulness.yes) " of " (shown.helpfulness.votes()) " found this helpful."
                        }
                    }
                }
            }
            @if !shown.related.is_empty() {
                aside.help-related aria-labelledby="related-title" {
                    h2 #related-title { "Related articles" }
                    (article_list(ctx, &shown.related))
                }
            }
        }
        @if who.is_some() {
            p { "Still stuck? " a href="/cases/new" { "Contact support" } }
        }
    };
    let description = meta_description(if c.issue.is_empty() {
        &c.resolution
    } else {
        &c.issue
    });
    frame(
        ctx,
        who,
        &c.title,
        &description,
        Some(canonical),
        "",
        content,
    )
}

#[derive(Deserialize)]
pub struct VoteBody {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    helpful: String,
    #[serde(default)]
    comment: String,
}

pub async fn vote_vendor(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    Path(reference): Path<String>,
    axum::Form(body): axum::Form<VoteBody>,
) -> PageResult {
    vote(state, headers, client, None, reference, body).await
}

pub async fn vote_partner(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    Path((partner, reference)): Path<(String, String)>,
    axum::Form(body): axum::Form<VoteBody>,
) -> PageResult {
    vote(state, headers, client, Some(partner), reference, body).await
}

/// "Was this helpful?": anyone may answer. A signed-in reader's form must carry the session's
/// CSRF token (their answer replaces their earlier one); an anonymous answer has no session
/// another site could ride, so it needs none.
async fn vote(
    state: AppState,
    headers: HeaderMap,
    client: Option<std::net::IpAddr>,
    partner: Option<String>,
    reference: String,
    body: VoteBody,
) -> PageResult {
    let (ctx, who) = centre(&state, &headers, partner.as_deref()).await?;
    if let Some(who) = &who {
        who.check_csrf(&body.csrf)
            .map_err(|e| page_error(&Some(who.clone()), e))?;
    }
    let id = parse_article_ref(&reference)
        .ok_or_else(|| page_error(&who, ApiError::NotFound("article")))?;
    let helpful = match body.helpful.as_str() {
        "yes" => true,
        "no" => false,
        _ => {
            return Err(page_error(
                &who,
                ApiError::bad_request("invalid_form", "Choose Yes or No to answer."),
            ))
        }
    };
    match service::vote(&state, &ctx, id, helpful, &body.comment, client).await {
        Ok(title) => {
            let canonical = ctx.article_path(id, &title);
            Ok(Redirect::to(&format!("{canonical}?voted=1#helpful")).into_response())
        }
        Err(ApiError::Validation(errors)) => {
            let shown = service::article(&state, &ctx, id)
                .await
                .map_err(|e| page_error(&who, e))?;
            let canonical = ctx.article_path(id, &shown.article.content.title);
            let form = VoteForm {
                shown_thanks: false,
                comment: body.comment,
                errors,
            };
            Ok(respond(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                article_markup(&ctx, &who, &shown, &canonical, &form),
            ))
        }
        Err(e) => Err(page_error(&who, e)),
    }
}

#[derive(Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
}

pub async fn search_vendor(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<SearchParams>,
) -> PageResult {
    search(state, headers, None, params.q).await
}

pub async fn search_partner(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(partner): Path<String>,
    Query(params): Query<SearchParams>,
) -> PageResult {
    search(state, headers, Some(partner), params.q).await
}

/// Results on the search page, at most.
const SEARCH_RESULTS: usize = 30;

async fn search(
    state: AppState,
    headers: HeaderMap,
    partner: Option<String>,
    q: String,
) -> PageResult {
    let (ctx, who) = centre(&state, &headers, partner.as_deref()).await?;
    let (found, complete) = service::search_page(&state, &ctx, &q, SEARCH_RESULTS)
        .await
        .map_err(|e| page_error(&who, e))?;
    let content = html! {
        h1 { "Search" }
        @if !complete {
            p.card role="status" { "Search is getting ready; titles only for now." }
        }
        @if q.trim().is_empty() {
            p { "Type what you are looking for above." }
        } @else if found.is_empty() {
            p.empty #no-results { "Nothing found for “" (q.trim()) "”. Try other words"
                @if who.is_some() { ", or " a href="/cases/new" { "contact support" } } "." }
        } @else {
            p #result-count { (found.len()) @if found.len() == 1 { " article" } @else { " articles" } " for “" (q.trim()) "”" }
            (article_list(&ctx, &found))
        }
    };
    // Search pages are for people; the sitemap lists articles, not searches.
    Ok(respond(
        &ctx,
        StatusCode::OK,
        frame(
            &ctx,
            &who,
            &format!("Search: {}", q.trim()),
            "",
            None,
            &q,
            content,
        ),
    ))
}

/// One suggestion as the search box's script shows it.
#[derive(Debug, Serialize)]
pub struct SuggestionItem {
    pub title: String,
    pub href: String,
}

#[derive(Debug, Serialize)]
pub struct SuggestionList {
    pub suggestions: Vec<SuggestionItem>,
}

pub async fn suggest_vendor(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<SearchParams>,
) -> Response {
    suggest(state, headers, None, params.q).await
}

pub async fn suggest_partner(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(partner): Path<String>,
    Query(params): Query<SearchParams>,
) -> Response {
    suggest(state, headers, Some(partner), params.q).await
}

/// Suggestions as JSON for `help.js`; errors in the API's JSON shape.
async fn suggest(
    state: AppState,
    headers: HeaderMap,
    partner: Option<String>,
    q: String,
) -> Response {
    let who = match reader(&state, &headers).await {
        Ok(who) => who,
        Err(e) => return e.into_response(),
    };
    let result = async {
        let ctx = service::context(&state, who.map(|w| w.user), partner.as_deref()).await?;
        let found = service::suggest(&state, &ctx, &q).await?;
        Ok::<_, ApiError>(SuggestionList {
            suggestions: found
                .iter()
                .map(|a| SuggestionItem {
                    title: a.title.clone(),
                    href: ctx.article_path(a.id, &a.title),
                })
                .collect(),
        })
    }
    .await;
    match result {
        Ok(list) => axum::Json(list).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `/help/sitemap.xml`: every article anonymous readers can open, in every help centre.
pub async fn sitemap(State(state): State<AppState>) -> Response {
    match service::sitemap(&state).await {
        Ok(entries) => {
            let mut xml = String::from(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
            );
            for (path, updated) in entries {
                let loc = maud::html! { (format!("{}{path}", state.public_url)) }.into_string();
                xml.push_str("<url><loc>");
                xml.push_str(&loc);
                xml.push_str("</loc>");
                if updated.as_millis() > 0 {
                    xml.push_str("<lastmod>");
                    xml.push_str(&updated.to_rfc3339());
                    xml.push_str("</lastmod>");
                }
                xml.push_str("</url>\n");
            }
            xml.push_str("</urlset>\n");
            (
                [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
                xml,
            )
                .into_response()
        }
        Err(e) => e.into_response(),
    }
}

pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        HELP_SCRIPT,
    )
}
