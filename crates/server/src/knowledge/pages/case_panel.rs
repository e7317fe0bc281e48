//! The case page's knowledge panel (suggestions and links), linking, and draft tokens for
//! deflection counting.

use super::*;
use crate::error::ApiError;
use crate::knowledge::service::{self as knowledge};
use crate::session::WebUser;
use crate::web::{CsrfForm, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use backline_domain::query::DocType;
use backline_domain::CaseId;
use backline_search::Suggestion;
use backline_store::{CaseLink, CaseRecord, LinkTarget};
use maud::{html, Markup};
use serde::Deserialize;

/// The case page's knowledge panel. Vendor staff get the agent's tool: classification, links,
/// suggested answers with the matcher's score and reasons and a button to link each. Customers
/// and partner technicians get what answers them: the answers linked to the case and
/// "similar solved questions", titles only (the list they are given is already cut to what
/// the matcher is sure of and they may read).
pub fn case_knowledge_panel(
    who: &WebUser,
    case: &CaseRecord,
    links: &[CaseLink],
    suggestions: &[Suggestion],
) -> Markup {
    if who.user.role.is_staff() {
        staff_panel(who, case, links, suggestions)
    } else {
        outsider_panel(links, suggestions)
    }
}

fn linked_list(links: &[CaseLink]) -> Markup {
    html! {
        ul.links {
            @for l in links {
                li {
                    @match l.target {
                        LinkTarget::Article(a) => { a href=(format!("/articles/{}", a.0)) { (l.title) } }
                        LinkTarget::Case(c) => { a href=(format!("/cases/{}", c.0)) { "#" (c.0) " " (l.title) } }
                    }
                }
            }
        }
    }
}

fn staff_panel(
    who: &WebUser,
    case: &CaseRecord,
    links: &[CaseLink],
    suggestions: &[Suggestion],
) -> Markup {
    let linked = |kind: DocType, id: i64| {
        links.iter().any(|l| match l.target {
            LinkTarget::Article(a) => kind == DocType::Article && a.0 == id,
            LinkTarget::Case(c) => kind == DocType::Case && c.0 == id,
        })
    };
    html! {
        div.card #knowledge {
            h2 { "Known issues" }
            @if let Some(c) = case.classification {
                p { "Classified " span.badge.classification { (c.as_str().replace('_', " ")) } }
            }
            @if !links.is_empty() {
                h3 { "Linked" }
                (linked_list(links))
            }
            h3 { "Suggested answers" }
            @if suggestions.is_empty() { p.num { "No known answer matches yet." } }
            ol.suggestions {
                @for s in suggestions {
                    li.suggestion data-type=(s.kind.as_str()) data-id=(s.id) {
                        a href=(href(s.kind, s.id, None)) { @if s.kind == DocType::Case { "#" (s.id) " " } (s.title) }
                        " " span.num title="The matcher's score, comparable within this list" { (format!("{:.2}", s.score)) }
                        @if !s.reasons.is_empty() { div.num.reasons { (s.reasons.join(" · ")) } }
                        @if !linked(s.kind, s.id) {
                            form.inline method="post" action=(format!("/cases/{}/links", case.id.0)) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                @if s.kind == DocType::Article {
                                    input type="hidden" name="article_id" value=(s.id);
                                    // The visible words begin the spoken name, which says which one.
                                    button type="submit" aria-label=(format!("Link article {}", s.title)) { "Link article" }
                                } @else {
                                    input type="hidden" name="case_id" value=(s.id);
                                    button type="submit" aria-label=(format!("Link case #{} {}", s.id, s.title)) { "Link case" }
                                }
                            }
                        } @else {
                            span.badge { "linked" }
                        }
                    }
                }
            }
            p { a href=(format!("/articles/new?from_case={}", case.id.0)) { "Write an article from this case" } }
        }
    }
}

fn outsider_panel(links: &[CaseLink], suggestions: &[Suggestion]) -> Markup {
    html! {
        @if !links.is_empty() || !suggestions.is_empty() {
            div.card #knowledge {
                @if !links.is_empty() {
                    h2 { "Answers to this case" }
                    (linked_list(links))
                }
                @if !suggestions.is_empty() {
                    h2 { "Similar solved questions" }
                    ol.similar {
                        @for s in suggestions {
                            li.similar-question data-type=(s.kind.as_str()) data-id=(s.id) {
                                a href=(href(s.kind, s.id, None)) { (s.title) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct LinkForm {
    article_id: Option<i64>,
    case_id: Option<i64>,
}

pub async fn link_case(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> PageResult {
    Ok(
        match knowledge::link(&state, &who.user, CaseId(id), form.article_id, form.case_id).await {
            Ok(_) | Err(ApiError::Conflict { .. }) => {
                Redirect::to(&format!("/cases/{id}#knowledge")).into_response()
            }
            Err(e) => return Err(WebError::new(e).for_user(&who)),
        },
    )
}

/// Draft tokens are made by the form page: 32 hex characters.
pub fn valid_draft(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn new_draft_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}
