//! The community: questions and answers in spaces that are public, for the signed-in, or for
//! partner technicians (all, or some partner kinds, or certified partners only) and staff.
//! Votes, accepted answers, followers mailed about new answers, moderation (held first posts
//! of new accounts, a per-account rate limit, hide, spam, lock, merge), and the way to
//! knowledge: an answer promoted to a draft article, a question turned into a case, likely
//! answers while a question is typed (and for anyone on `/community/search`), found by the
//! known-issue matcher among articles and the answered questions in the search index. Staff
//! work through held posts on `/community/moderation`.

pub mod api;
pub mod pages;
pub mod service;

use crate::AppState;
use axum::routing::{get, post, put};
use axum::Router;

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route(
            "/community/spaces",
            get(api::list_spaces).post(api::create_space),
        )
        .route(
            "/community/spaces/{slug}/questions",
            get(api::list_questions).post(api::ask),
        )
        .route("/community/likely", get(api::likely))
        .route("/community/held", get(api::held))
        .route("/community/questions/{id}", get(api::read_question))
        .route("/community/questions/{id}/answers", post(api::answer))
        .route("/community/questions/{id}/accepted", put(api::accept))
        .route("/community/questions/{id}/following", put(api::follow))
        .route("/community/questions/{id}/lock", put(api::lock))
        .route("/community/questions/{id}/merge", post(api::merge))
        .route("/community/questions/{id}/article", post(api::promote))
        .route("/community/questions/{id}/case", post(api::to_case))
        .route("/community/posts/{id}/comments", post(api::comment))
        .route("/community/posts/{id}/vote", put(api::vote))
        .route("/community/posts/{id}/moderation", post(api::moderate));
    Router::new()
        .nest("/api/v1", api)
        .route("/assets/community.js", get(pages::script))
        .route("/community", get(pages::spaces_page))
        .route("/community/spaces", post(pages::create_space))
        .route("/community/likely", get(pages::likely))
        .route("/community/search", get(pages::search))
        .route("/community/moderation", get(pages::moderation))
        .route("/community/s/{slug}", get(pages::space_page))
        .route(
            "/community/s/{slug}/ask",
            get(pages::ask_page).post(pages::ask),
        )
        .route("/community/questions/{id}", get(pages::question_page))
        .route("/community/questions/{id}/answer", post(pages::answer))
        .route("/community/questions/{id}/accept", post(pages::accept))
        .route("/community/questions/{id}/follow", post(pages::follow))
        .route("/community/questions/{id}/lock", post(pages::lock))
        .route("/community/questions/{id}/merge", post(pages::merge))
        .route("/community/questions/{id}/article", post(pages::promote))
        .route("/community/questions/{id}/case", post(pages::to_case))
        .route("/community/posts/{id}/comment", post(pages::comment))
        .route("/community/posts/{id}/vote", post(pages::vote))
        .route("/community/posts/{id}/moderate", post(pages::moderate))
}
