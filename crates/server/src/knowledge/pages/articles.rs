//! Articles: the list, an article with its history, revisions, and the forms to write and edit.

use super::*;
use crate::error::ApiError;
use crate::knowledge::service::{self as knowledge, ArticlePatch, ArticleSubmission};
use crate::layout::{html_response, page, when};
use crate::session::WebUser;
use crate::web::{CsrfForm, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use backline_domain::{
    ArticleContent, ArticleId, ArticleState, Audience, CaseId, FieldErrors, Span, Timestamp,
};
use backline_search::Sort;
use backline_store::Article;
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct ArticleListQuery {
    q: Option<String>,
    state: Option<String>,
    /// Kept as text so a bad number is answered in words.
    page: Option<String>,
}

pub async fn article_list(
    State(state): State<AppState>,
    who: WebUser,
    Query(query): Query<ArticleListQuery>,
) -> PageResult {
    // The list is the staff's working table; customers and partner technicians find articles
    // in the help centre (their partner's branded one when it has one).
    if !who.is_staff() {
        let home = crate::help::service::home_for(&state, &who.user)
            .await
            .or_page(&who)?;
        return Ok(Redirect::to(&home).into_response());
    }
    let q = query.q.unwrap_or_default();
    let wanted_state = query
        .state
        .as_deref()
        .and_then(|s| ArticleState::parse(s).ok());
    let requested = match query.page.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(text.parse::<usize>().map_err(|_| {
            WebError::new(ApiError::bad_request(
                "invalid_query",
                format!("page: {text:?} is not a page number"),
            ))
            .for_user(&who)
        })?),
    };
    let page_number = knowledge::page_number(requested).or_page(&who)?;
    let (articles, total): (Vec<Article>, usize) = if q.trim().is_empty() {
        knowledge::article_page(
            &state,
            &who.user,
            wanted_state.into_iter().collect(),
            page_number,
        )
        .await
        .or_page(&who)?
    } else {
        let mut parsed = knowledge::parse_query(&q).or_page(&who)?;
        parsed.clauses.push(backline_domain::query::Clause::Filter {
            field: backline_domain::query::FilterField::Type,
            value: "article".into(),
        });
        if let Some(wanted) = wanted_state {
            parsed.clauses.push(backline_domain::query::Clause::Filter {
                field: backline_domain::query::FilterField::State,
                value: wanted.as_str().into(),
            });
        }
        let found = knowledge::search(
            &state,
            &who.user,
            parsed,
            Sort::Relevance,
            page_number,
            knowledge::ARTICLES_PER_PAGE,
            backline_search::QuestionScope::Nothing,
        )
        .await
        .or_page(&who)?;
        let mut out = Vec::new();
        for row in found.rows {
            // Read from the database so the list is current even if the index lags.
            if let Ok(a) =
                knowledge::readable_article(&state, &who.user, ArticleId(row.row.id)).await
            {
                out.push(a);
            }
        }
        (out, found.total)
    };
    let pages = total.div_ceil(knowledge::ARTICLES_PER_PAGE).max(1);
    let link = |p: usize| {
        let mut link = format!("/articles?page={p}");
        if !q.trim().is_empty() {
            link.push_str(&format!("&q={}", crate::session::urlencode(&q)));
        }
        if let Some(s) = wanted_state {
            link.push_str(&format!("&state={}", s.as_str()));
        }
        link
    };
    let staff = who.user.role.is_staff();
    let deflection = if staff {
        let now = Timestamp::now();
        match state
            .store
            .deflection_counts(
                now.minus(Span::DAY.times(30)),
                now.plus(Span::from_millis(1)),
                now.minus(crate::knowledge::service::ABANDONED_AFTER),
            )
            .await
        {
            Ok(counts) => Some(counts),
            Err(e) => return Err(WebError::new(e.into()).for_user(&who)),
        }
    } else {
        None
    };
    let help_deflection = if staff {
        let now = Timestamp::now();
        Some(
            crate::help::service::deflection(
                &state,
                now.minus(Span::DAY.times(30)),
                now.plus(Span::from_millis(1)),
            )
            .await
            .or_page(&who)?,
        )
    } else {
        None
    };
    Ok(html_response(
        StatusCode::OK,
        page(
            "Knowledge",
            Some(&who),
            html! {
                h1 { "Knowledge" @if staff { " " a.button href="/articles/new" { "New article" } } }
                @if let Some(d) = deflection {
                    p.card #deflection {
                        "Self-service, last 30 days: "
                        strong.forms { (d.forms) } " new-case forms, "
                        strong.shown { (d.shown_suggestions) } " shown suggestions, "
                        strong.opened { (d.opened) } " opened one, "
                        strong.filed { (d.filed_after_opening) } " filed anyway, "
                        strong.deflected { (d.deflected) } " deflected (left without filing for 30 minutes)."
                    }
                }
                @if let Some(h) = &help_deflection {
                    section.card #help-deflection aria-labelledby="help-deflection-title" {
                        h2 #help-deflection-title { "Help centre, last 30 days" }
                        p {
                            strong.views { (h.article_views) } " article views and "
                            strong.searches { (h.searches) } " searches by signed-in customers and partners; "
                            strong.deflected { (h.deflected) } " were followed by no case within a day."
                        }
                        @if !h.by_article.is_empty() {
                            table.cases {
                                caption { "By article" }
                                thead { tr { th { "Article" } th.num { "Views" } th.num { "Deflected" } } }
                                tbody {
                                    @for row in &h.by_article {
                                        tr {
                                            td { @if let Some(id) = row.id { a href=(format!("/articles/{id}")) { (row.name.clone().unwrap_or_default()) } } }
                                            td.num { (row.visits) }
                                            td.num { (row.deflected) }
                                        }
                                    }
                                }
                            }
                        }
                        @if !h.by_category.is_empty() {
                            table.cases {
                                caption { "By category" }
                                thead { tr { th { "Category" } th.num { "Views" } th.num { "Deflected" } } }
                                tbody {
                                    @for row in &h.by_category {
                                        tr {
                                            td { (row.name.clone().unwrap_or_else(|| "Not in a category".into())) }
                                            td.num { (row.visits) }
                                            td.num { (row.deflected) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                form.filters method="get" action="/articles" {
                    input type="search" name="q" value=(q) placeholder="Search articles" aria-label="Search articles";
                    @if staff {
                        select name="state" aria-label="State" {
                            option value="" { "Any state" }
                            @for s in ArticleState::ALL { option value=(s.as_str()) selected[wanted_state == Some(*s)] { (s.as_str().replace('_', " ")) } }
                        }
                    }
                    button type="submit" { "Search" }
                }
                @if articles.is_empty() {
                    div.card.empty { "No articles here." }
                } @else {
                    p.num #article-total {
                        strong { (total) } @if total == 1 { " article" } @else { " articles" }
                        @if pages > 1 { ", page " (page_number) " of " (pages) }
                    }
                    table.cases {
                        thead { tr { th { "#" } th { "Title" } th { "State" } th { "Audience" } th { "Products" } th { "Reused" } th { "Updated" } } }
                        tbody {
                            @for a in &articles {
                                tr data-article=(a.id.0) {
                                    td.num { (a.id.0) }
                                    td.subject { a href=(format!("/articles/{}", a.id.0)) { (a.content.title) } }
                                    td { (state_badge(a.state)) }
                                    td { (audience_badge(a.audience)) }
                                    td { (a.content.products.join(", ")) }
                                    td.num { (a.reuse_count) }
                                    td.num { (when(a.updated_at)) }
                                }
                            }
                        }
                    }
                }
                (page_links(page_number, pages, link))
            },
        ),
    ))
}

#[derive(Deserialize)]
pub struct ArticleQuery {
    /// Set when opened from the new-case form's suggestions: counts toward deflection.
    draft: Option<String>,
}

fn section(title: &str, text: &str) -> Markup {
    html! {
        @if !text.is_empty() {
            section.kcs { h2 { (title) } div.description { (text) } }
        }
    }
}

fn article_body(content: &ArticleContent) -> Markup {
    html! {
        (section("Issue", &content.issue))
        (section("Environment", &content.environment))
        (section("Resolution", &content.resolution))
        (section("Cause", &content.cause))
    }
}

pub async fn article_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    Query(query): Query<ArticleQuery>,
) -> PageResult {
    let article = knowledge::readable_article(&state, &who.user, ArticleId(id))
        .await
        .or_page(&who)?;
    if let Some(draft) = query.draft.as_deref().filter(|d| valid_draft(d)) {
        if let Err(e) = state
            .store
            .draft_opened(draft, who.user.id, article.id)
            .await
        {
            tracing::warn!(error = %e, "recording an opened suggestion failed");
        }
    }
    let staff = who.user.role.is_staff();
    let revisions = if staff {
        match state.store.article_revisions(article.id).await {
            Ok(r) => r,
            Err(e) => return Err(WebError::new(e.into()).for_user(&who)),
        }
    } else {
        Vec::new()
    };
    let c = &article.content;
    Ok(html_response(
        StatusCode::OK,
        page(
            &c.title,
            Some(&who),
            html! {
                h1 { (c.title) " " (state_badge(article.state)) " " (audience_badge(article.audience)) }
                div.case-layout {
                    div.card.article { (article_body(c)) }
                    aside {
                        div.card {
                            dl.meta {
                                dt { "Products" } dd { @if c.products.is_empty() { "—" } @else { (c.products.join(", ")) } }
                                dt { "Versions" } dd { @if c.versions.is_empty() { "—" } @else { (c.versions.join(", ")) } }
                                dt { "Reused" } dd.reuse { (article.reuse_count) " cases" }
                                dt { "Revision" } dd { (article.revision) }
                                dt { "Updated" } dd { (when(article.updated_at)) }
                                @if staff {
                                    dt { "Author" } dd { (article.author.name) }
                                    @if let Some(case) = article.source_case { dt { "From case" } dd { a href=(format!("/cases/{}", case.0)) { "#" (case.0) } } }
                                }
                            }
                            @if staff { p { a.button href=(format!("/articles/{}/edit", article.id.0)) { "Edit" } } }
                        }
                        @if staff {
                            div.card.history {
                                h2 { "History" }
                                ol {
                                    @for r in revisions.iter().rev() {
                                        li {
                                            a href=(format!("/articles/{}/revisions/{}", article.id.0, r.revision)) { "Revision " (r.revision) }
                                            " · " (r.editor.name) " · " (when(r.created_at))
                                            div.num { "changed: " (r.changed.join(", ")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            },
        ),
    ))
}

pub async fn revision_page(
    State(state): State<AppState>,
    who: WebUser,
    Path((id, number)): Path<(i64, i64)>,
) -> PageResult {
    if let Err(e) = knowledge::readable_article(&state, &who.user, ArticleId(id)).await {
        return Err(WebError::new(e).for_user(&who));
    }
    if !who.user.role.is_staff() {
        return Err(WebError::new(ApiError::Forbidden(
            "revision history is for vendor staff".into(),
        ))
        .for_user(&who));
    }
    let revisions = state
        .store
        .article_revisions(ArticleId(id))
        .await
        .or_page(&who)?;
    let Some(r) = revisions.iter().find(|r| r.revision == number) else {
        return Err(WebError::new(ApiError::NotFound("revision")).for_user(&who));
    };
    Ok(html_response(
        StatusCode::OK,
        page(
            &r.content.title,
            Some(&who),
            html! {
                p.num { a href=(format!("/articles/{id}")) { "← current version" } }
                h1 { (r.content.title) " " (state_badge(r.state)) " " (audience_badge(r.audience)) }
                p.num { "Revision " (r.revision) " by " (r.editor.name) " on " (when(r.created_at)) "; changed " (r.changed.join(", ")) }
                div.card.article { (article_body(&r.content)) }
            },
        ),
    ))
}

#[derive(Deserialize, Default)]
pub struct ArticleForm {
    title: String,
    #[serde(default)]
    issue: String,
    #[serde(default)]
    environment: String,
    #[serde(default)]
    resolution: String,
    #[serde(default)]
    cause: String,
    #[serde(default)]
    products: String,
    #[serde(default)]
    versions: String,
    state: Option<String>,
    audience: Option<String>,
    source_case: Option<i64>,
    /// The revision an edit form was drawn from: an article changed since is not overwritten.
    revision: Option<i64>,
}

impl ArticleForm {
    /// The text, state and audience as submitted (state and audience left unset when blank).
    fn parsed(
        &self,
    ) -> Result<(ArticleContent, Option<ArticleState>, Option<Audience>), FieldErrors> {
        let mut errors = FieldErrors::new();
        let state = parse_enum(
            &mut errors,
            "state",
            self.state.as_deref(),
            ArticleState::parse,
        );
        let audience = parse_enum(
            &mut errors,
            "audience",
            self.audience.as_deref(),
            Audience::parse,
        );
        errors.into_result()?;
        let content = ArticleContent {
            title: self.title.clone(),
            issue: self.issue.clone(),
            environment: self.environment.clone(),
            resolution: self.resolution.clone(),
            cause: self.cause.clone(),
            products: split_list(&self.products),
            versions: split_list(&self.versions),
        };
        Ok((content, state, audience))
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn article_form(who: &WebUser, action: &str, form: &ArticleForm, errors: &FieldErrors) -> Markup {
    let error = |name: &str| errors.0.get(name).cloned();
    let current_state = form.state.as_deref().unwrap_or("draft");
    let current_audience = form.audience.as_deref().unwrap_or("internal");
    html! {
        @if !errors.is_empty() { div.error role="alert" { "Please correct the fields marked below." } }
        form.card #article-form method="post" action=(action) {
            input type="hidden" name="csrf" value=(who.csrf);
            @if let Some(case) = form.source_case { input type="hidden" name="source_case" value=(case); p.num { "Written from case #" (case) } }
            @if let Some(revision) = form.revision { input type="hidden" name="revision" value=(revision); }
            label for="title" { "Title" }
            input #title type="text" name="title" value=(form.title) required maxlength="200" style="width:100%";
            @if let Some(e) = error("title") { div.field-error { (e) } }
            @for (name, label) in [("issue", "Issue, in the customer's words"), ("environment", "Environment"), ("resolution", "Resolution"), ("cause", "Cause")] {
                label for=(name) { (label) }
                textarea id=(name) name=(name) {
                    (match name { "issue" => &form.issue, "environment" => &form.environment, "resolution" => &form.resolution, _ => &form.cause })
                }
                @if let Some(e) = error(name) { div.field-error { (e) } }
            }
            label for="products" { "Products (comma-separated)" }
            input #products type="text" name="products" value=(form.products);
            @if let Some(e) = error("products") { div.field-error { (e) } }
            label for="versions" { "Versions (comma-separated)" }
            input #versions type="text" name="versions" value=(form.versions);
            @if let Some(e) = error("versions") { div.field-error { (e) } }
            label for="state" { "State" }
            select #state name="state" {
                @for s in ArticleState::ALL { option value=(s.as_str()) selected[current_state == s.as_str()] { (s.as_str().replace('_', " ")) } }
            }
            label for="audience" { "Audience" }
            select #audience name="audience" {
                @for a in Audience::ALL { option value=(a.as_str()) selected[current_audience == a.as_str()] { (a) } }
            }
            p { button type="submit" { "Save" } }
        }
    }
}

#[derive(Deserialize)]
pub struct NewArticleQuery {
    from_case: Option<i64>,
}

pub async fn new_article_form(
    State(state): State<AppState>,
    who: WebUser,
    Query(query): Query<NewArticleQuery>,
) -> PageResult {
    if !who.user.role.is_staff() {
        return Err(WebError::new(ApiError::Forbidden(
            "writing articles is for vendor staff".into(),
        ))
        .for_user(&who));
    }
    let mut form = ArticleForm::default();
    if let Some(id) = query.from_case {
        match crate::cases::service::visible_case(&state.store, &who.user, CaseId(id)).await {
            Ok(case) => {
                form.title = case.subject;
                form.issue = case.description;
                form.products = case.product.unwrap_or_default();
                form.source_case = Some(id);
            }
            Err(e) => return Err(WebError::new(e).for_user(&who)),
        }
    }
    Ok(html_response(
        StatusCode::OK,
        page(
            "New article",
            Some(&who),
            html! { h1 { "New article" } (article_form(&who, "/articles", &form, &FieldErrors::new())) },
        ),
    ))
}

fn parse_enum<T>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, backline_domain::ParseError>,
) -> Option<T> {
    value
        .filter(|v| !v.is_empty())
        .and_then(|v| errors.check(field, parse(v)))
}

pub async fn create_article(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<ArticleForm>,
) -> PageResult {
    let result = match form.parsed() {
        Ok((content, article_state, audience)) => {
            knowledge::create_article(
                &state,
                &who.user,
                ArticleSubmission {
                    content,
                    state: article_state,
                    audience,
                    source_case: form.source_case,
                },
            )
            .await
        }
        Err(errors) => Err(ApiError::Validation(errors)),
    };
    Ok(match result {
        Ok(article) => Redirect::to(&format!("/articles/{}", article.id.0)).into_response(),
        Err(ApiError::Validation(errors)) => html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                "New article",
                Some(&who),
                html! { h1 { "New article" } (article_form(&who, "/articles", &form, &errors)) },
            ),
        ),
        Err(e) => return Err(WebError::new(e).for_user(&who)),
    })
}

pub async fn edit_article_form(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
) -> PageResult {
    let article = knowledge::readable_article(&state, &who.user, ArticleId(id))
        .await
        .or_page(&who)?;
    if !who.user.role.is_staff() {
        return Err(WebError::new(ApiError::Forbidden(
            "editing articles is for vendor staff".into(),
        ))
        .for_user(&who));
    }
    let c = article.content;
    let form = ArticleForm {
        title: c.title,
        issue: c.issue,
        environment: c.environment,
        resolution: c.resolution,
        cause: c.cause,
        products: c.products.join(", "),
        versions: c.versions.join(", "),
        state: Some(article.state.as_str().into()),
        audience: Some(article.audience.as_str().into()),
        source_case: None,
        revision: Some(article.revision),
    };
    let action = format!("/articles/{id}/edit");
    Ok(html_response(
        StatusCode::OK,
        page(
            "Edit article",
            Some(&who),
            html! { h1 { "Edit article" } (article_form(&who, &action, &form, &FieldErrors::new())) },
        ),
    ))
}

pub async fn update_article(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ArticleForm>,
) -> PageResult {
    let result = match form.parsed() {
        Ok((content, article_state, audience)) => {
            knowledge::update_article(
                &state,
                &who.user,
                ArticleId(id),
                ArticlePatch {
                    title: Some(content.title),
                    issue: Some(content.issue),
                    environment: Some(content.environment),
                    resolution: Some(content.resolution),
                    cause: Some(content.cause),
                    products: Some(content.products),
                    versions: Some(content.versions),
                    state: article_state,
                    audience,
                },
                form.revision,
            )
            .await
        }
        Err(errors) => Err(ApiError::Validation(errors)),
    };
    Ok(match result {
        Ok(_) => Redirect::to(&format!("/articles/{id}")).into_response(),
        Err(ApiError::Validation(errors)) => {
            let action = format!("/articles/{id}/edit");
            html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                page(
                    "Edit article",
                    Some(&who),
                    html! { h1 { "Edit article" } (article_form(&who, &action, &form, &errors)) },
                ),
            )
        }
        Err(ApiError::Stale(_)) => {
            // Someone saved the article after this form was drawn: what this person typed is
            // kept, to compare with the newer revision and save again against it.
            let current = knowledge::readable_article(&state, &who.user, ArticleId(id))
                .await
                .or_page(&who)?;
            let action = format!("/articles/{id}/edit");
            let form = ArticleForm {
                revision: Some(current.revision),
                ..form
            };
            html_response(
                StatusCode::CONFLICT,
                page(
                    "Edit article",
                    Some(&who),
                    html! {
                        h1 { "Edit article" }
                        div.error role="alert" {
                            "This article changed while you were editing it (it is now at revision "
                            (current.revision) "), so your changes were not saved. Your text is kept below; "
                            a href=(format!("/articles/{id}")) target="_blank" { "open the current article" }
                            " to compare, then save again."
                        }
                        (article_form(&who, &action, &form, &FieldErrors::new()))
                    },
                ),
            )
        }
        Err(e) => return Err(WebError::new(e).for_user(&who)),
    })
}
