//! The help centre: public self-service at `/help` (and a partner's branded one at
//! `/help/p/{slug}`) over validated knowledge articles, with categories and sections staff
//! arrange, "Was this helpful?" votes, search with suggestions, a sitemap, and deflection
//! figures from what signed-in readers looked at.

pub mod api;
pub mod manage;
pub mod pages;
pub mod service;

use crate::AppState;
use axum::routing::{get, post, put};
use axum::Router;

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route(
            "/help/categories",
            get(api::list_categories).post(api::create_category),
        )
        .route("/help/sections", post(api::create_section))
        .route("/help/articles/{id}/placement", put(api::place_article))
        .route("/help/articles/{id}/helpfulness", get(api::helpfulness))
        .route("/help/brands/{partner}", put(api::set_brand));
    Router::new()
        .nest("/api/v1", api)
        .route("/assets/help.js", get(pages::script))
        .route("/help", get(pages::front_vendor))
        .route("/help/manage", get(manage::manage_page))
        .route("/help/manage/categories", post(manage::create_category))
        .route("/help/manage/sections", post(manage::create_section))
        .route("/help/manage/placements", post(manage::place_article))
        .route("/help/manage/brands", post(manage::set_brand))
        .route("/help/sitemap.xml", get(pages::sitemap))
        .route("/help/search", get(pages::search_vendor))
        .route("/help/suggest", get(pages::suggest_vendor))
        .route("/help/categories/{slug}", get(pages::category_vendor))
        .route("/help/articles/{reference}", get(pages::article_vendor))
        .route("/help/articles/{reference}/vote", post(pages::vote_vendor))
        .route("/help/p/{partner}", get(pages::front_partner))
        .route("/help/p/{partner}/search", get(pages::search_partner))
        .route("/help/p/{partner}/suggest", get(pages::suggest_partner))
        .route(
            "/help/p/{partner}/categories/{slug}",
            get(pages::category_partner),
        )
        .route(
            "/help/p/{partner}/articles/{reference}",
            get(pages::article_partner),
        )
        .route(
            "/help/p/{partner}/articles/{reference}/vote",
            post(pages::vote_partner),
        )
}
