//! Knowledge pages: search, articles (read, write, history), the case page's suggestions and
//! links, and the live suggestions of the new-case form with their deflection tracking.

mod articles;
mod case_panel;
mod live;
mod search;

pub use articles::*;
pub use case_panel::*;
pub use live::*;
pub use search::*;

use backline_domain::query::DocType;
use backline_domain::{ArticleState, Audience};
use maud::{html, Markup};

fn state_badge(state: ArticleState) -> Markup {
    html! { span class=(format!("badge state-{state}")) { (state.as_str().replace('_', " ")) } }
}

fn audience_badge(audience: Audience) -> Markup {
    html! { span class=(format!("badge audience-{audience}")) { (audience) } }
}

fn href(kind: DocType, id: i64, case_id: Option<i64>) -> String {
    match kind {
        DocType::Article => format!("/articles/{id}"),
        DocType::Case => format!("/cases/{id}"),
        DocType::Comment => format!("/cases/{}#comment-{id}", case_id.unwrap_or_default()),
        DocType::Question => format!("/community/questions/{id}"),
    }
}

/// Numbered page links for a list of `pages` pages showing `current`: the first and last, two
/// either side of the current one, and previous/next.
fn page_links(current: usize, pages: usize, link: impl Fn(usize) -> String) -> Markup {
    let shown: Vec<usize> = (1..=pages)
        .filter(|p| *p == 1 || *p == pages || p.abs_diff(current) <= 2)
        .collect();
    html! {
        @if pages > 1 {
            nav.pager aria-label="Pages" {
                @if current > 1 { a rel="prev" href=(link(current - 1)) { "← Previous" } " " }
                @for (i, p) in shown.iter().enumerate() {
                    @if i > 0 && shown[i - 1] + 1 < *p { span.muted { "…" } " " }
                    @if *p == current { span.current aria-current="page" { (p) } " " }
                    @else { a href=(link(*p)) aria-label=(format!("Page {p}")) { (p) } " " }
                }
                @if current < pages { a rel="next" href=(link(current + 1)) { "Next →" } }
            }
        }
    }
}
