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
    }
}
