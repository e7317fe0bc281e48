//! The search page: one query language over cases, comments and articles.

use super::*;
use crate::knowledge::service::{self as knowledge};
use crate::layout::{html_response, page};
use crate::session::WebUser;
use crate::web::{PageResult, WebError};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use backline_search::Sort;
use maud::html;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct SearchForm {
    q: Option<String>,
    sort: Option<String>,
}

pub async fn search_page(
    State(state): State<AppState>,
    who: WebUser,
    Query(form): Query<SearchForm>,
) -> PageResult {
    let q = form.q.unwrap_or_default();
    let newest = form.sort.as_deref() == Some("newest");
    let indexing = !state.search().is_ready();
    let (hits, error) = if q.trim().is_empty() {
        (Vec::new(), None)
    } else {
        match knowledge::parse_query(&q) {
            Err(e) => (Vec::new(), Some(e.to_string())),
            Ok(parsed) => {
                let sort = if newest {
                    Sort::Newest
                } else {
                    Sort::Relevance
                };
                match knowledge::search(&state, &who.user, parsed, sort, 50).await {
                    Ok(found) => (found.hits, None),
                    Err(e) => return Err(WebError::new(e).for_user(&who)),
                }
            }
        }
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
                p.num { "Filters: status: priority: partner: org: product: type:case|comment|article state: audience: tag: — quote phrases." }
                @if indexing {
                    p.card #search-indexing role="status" {
                        "The search index is still catching up after a restart: results below come from a plainer search of case subjects and descriptions and article text, newest first, and comments are not searched yet."
                    }
                }
                @if let Some(error) = &error { div.error role="alert" { (error) } }
                @if !q.trim().is_empty() && hits.is_empty() && error.is_none() { p.card.empty { "Nothing found." } }
                ol.results {
                    @for hit in &hits {
                        li.result data-type=(hit.kind.as_str()) {
                            span.badge { (hit.kind) } " "
                            a href=(href(hit.kind, hit.id, hit.case_id)) { (hit.title) }
                            div.excerpt { (hit.excerpt) }
                        }
                    }
                }
            },
        ),
    ))
}
