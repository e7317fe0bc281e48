//! The search page: one query language over cases (with their comments), articles and the
//! community questions of the spaces the reader reads, a row per case, article or question,
//! counted and paged.

use super::*;
use crate::knowledge::service::{self as knowledge, Found};
use crate::layout::{html_response, page, partner_badge, priority_badge, status_badge, when};
use crate::session::{urlencode, WebUser};
use crate::web::{OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use backline_domain::Timestamp;
use backline_search::Sort;
use maud::html;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct SearchForm {
    q: Option<String>,
    sort: Option<String>,
    /// Kept as text so a bad number is answered on the page, not by the extractor.
    page: Option<String>,
}

pub async fn search_page(
    State(state): State<AppState>,
    who: WebUser,
    Query(form): Query<SearchForm>,
) -> PageResult {
    let q = form.q.unwrap_or_default();
    let newest = form.sort.as_deref() == Some("newest");
    let indexing = !state.search().is_ready();
    let requested = match form.page.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse::<usize>()
            .map(Some)
            .map_err(|_| text.to_string()),
    };
    let (found, error): (Option<Found>, Option<String>) = match requested {
        Err(text) => (None, Some(format!("page: {text:?} is not a page number"))),
        Ok(_) if q.trim().is_empty() => (None, None),
        Ok(requested) => match (
            knowledge::parse_query(&q),
            knowledge::page_number(requested),
        ) {
            (Err(e), _) | (_, Err(e)) => (None, Some(e.to_string())),
            (Ok(parsed), Ok(page_number)) => {
                let sort = if newest {
                    Sort::Newest
                } else {
                    Sort::Relevance
                };
                let questions = crate::community::service::question_scope_of(&state, &who.user)
                    .await
                    .or_page(&who)?;
                match knowledge::search(
                    &state,
                    &who.user,
                    parsed,
                    sort,
                    page_number,
                    knowledge::PER_PAGE,
                    questions,
                )
                .await
                {
                    Ok(found) => (Some(found), None),
                    Err(e) => return Err(WebError::new(e).for_user(&who)),
                }
            }
        },
    };
    let link = |page_number: usize| {
        let mut link = format!("/search?q={}", urlencode(&q));
        if newest {
            link.push_str("&sort=newest");
        }
        link.push_str(&format!("&page={page_number}"));
        link
    };
    Ok(html_response(
        if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        page(
            "Search",
            Some(&who),
            html! {
                h1 { "Search" }
                form.filters method="get" action="/search" {
                    input #q type="search" name="q" value=(q) style="flex:1"
                        placeholder="e.g. backup \"quota exceeded\" status:open type:article" aria-label="Search";
                    select name="sort" aria-label="Sort" {
                        option value="relevance" selected[!newest] { "Best match" }
                        option value="newest" selected[newest] { "Newest" }
                    }
                    button type="submit" { "Search" }
                }
                p.num { "Filters: status: priority: partner: org: product: type:case|comment|article|question state: audience: tag: — quote phrases." }
                @if indexing {
                    p.card #search-indexing role="status" {
                        "The search index is still catching up after a restart: results below come from a plainer search of case subjects and descriptions and article text, newest first, and comments and community questions are not searched yet."
                    }
                }
                @if let Some(error) = &error { div.error role="alert" { (error) } }
                @if let Some(found) = &found {
                    @if found.total == 0 {
                        p.card.empty { "Nothing found." }
                    } @else {
                        p.num #search-total {
                            strong { (found.total) } @if found.total == 1 { " result" } @else { " results" }
                            @if found.pages() > 1 { ", page " (found.page) " of " (found.pages()) }
                        }
                    }
                    ol.results start=((found.page - 1) * found.per_page + 1) {
                        @for f in &found.rows {
                            li.result data-type=(f.row.kind.as_str()) data-id=(f.row.id) {
                                @if let Some(case) = &f.case {
                                    span.num { "#" (case.id.0) } " "
                                    a href=(href(f.row.kind, f.row.id, None)) { (case.subject) } " "
                                    (status_badge(case.status)) " " (priority_badge(case.priority)) " "
                                    (partner_badge(case.partner.as_ref()))
                                } @else {
                                    span.badge { (f.row.kind) } " "
                                    a href=(href(f.row.kind, f.row.id, None)) { (f.row.title) }
                                }
                                @if f.row.matched_itself {
                                    div.excerpt { (f.row.excerpt) }
                                }
                                @if !f.row.comments.is_empty() {
                                    ul.matches aria-label=(format!("Matching comments on #{}", f.row.id)) {
                                        @for c in &f.row.comments {
                                            li.match data-comment=(c.id) {
                                                a href=(href(c.kind, c.id, c.case_id)) { "Comment" }
                                                span.num { " · " (when(Timestamp::from_millis(c.created_at_ms))) } ": "
                                                span.excerpt { (c.excerpt) }
                                            }
                                        }
                                        @if f.row.more_comments > 0 {
                                            li.num.more {
                                                "and " (f.row.more_comments) " more matching "
                                                @if f.row.more_comments == 1 { "comment" } @else { "comments" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    (page_links(found.page, found.pages(), link))
                }
            },
        ),
    ))
}
