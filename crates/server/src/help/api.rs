//! `/api/v1/help/...`: staff arrange the help centre (categories, sections, where articles sit
//! and whose they are), partners' brands, and votes per article.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{Json, Path};
use crate::help::service;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use backline_domain::ArticleId;
use backline_store::help::{BrandRecord, HelpCategory, HelpSection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct HelpSectionView {
    pub id: i64,
    pub category_id: i64,
    pub name: String,
    pub position: i64,
}

impl From<&HelpSection> for HelpSectionView {
    fn from(s: &HelpSection) -> Self {
        HelpSectionView {
            id: s.id,
            category_id: s.category_id,
            name: s.name.clone(),
            position: s.position,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HelpCategoryView {
    pub id: i64,
    pub name: String,
    /// The category's address: `/help/categories/{slug}`.
    pub slug: String,
    pub description: String,
    pub position: i64,
    pub sections: Vec<HelpSectionView>,
}

fn category_view(c: &HelpCategory, sections: &[HelpSection]) -> HelpCategoryView {
    HelpCategoryView {
        id: c.id,
        name: c.name.clone(),
        slug: c.slug.clone(),
        description: c.description.clone(),
        position: c.position,
        sections: sections
            .iter()
            .filter(|s| s.category_id == c.id)
            .map(HelpSectionView::from)
            .collect(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HelpCategoryList {
    pub categories: Vec<HelpCategoryView>,
}

#[utoipa::path(get, path = "/api/v1/help/categories", tag = "help",
    responses((status = 200, body = HelpCategoryList), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list_categories(
    State(state): State<AppState>,
    Caller(_caller): Caller,
) -> ApiResult<axum::Json<HelpCategoryList>> {
    let categories = state.store.help_categories().await?;
    let sections = state.store.help_sections().await?;
    Ok(axum::Json(HelpCategoryList {
        categories: categories
            .iter()
            .map(|c| category_view(c, &sections))
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHelpCategory {
    pub name: String,
    /// Lower-case letters, digits and inner hyphens; made from the name when left out.
    pub slug: Option<String>,
    #[serde(default)]
    pub description: String,
    /// Categories are listed by position, then by when they were made.
    #[serde(default)]
    pub position: i64,
}

#[utoipa::path(post, path = "/api/v1/help/categories", tag = "help", request_body = NewHelpCategory,
    responses((status = 201, body = HelpCategoryView), (status = 403, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_category(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<NewHelpCategory>,
) -> ApiResult<(StatusCode, axum::Json<HelpCategoryView>)> {
    let category = service::create_category(
        &state,
        &caller,
        &body.name,
        body.slug.as_deref(),
        &body.description,
        body.position,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(category_view(&category, &[])),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHelpSection {
    pub category_id: i64,
    pub name: String,
    #[serde(default)]
    pub position: i64,
}

#[utoipa::path(post, path = "/api/v1/help/sections", tag = "help", request_body = NewHelpSection,
    responses((status = 201, body = HelpSectionView), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_section(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<NewHelpSection>,
) -> ApiResult<(StatusCode, axum::Json<HelpSectionView>)> {
    let section =
        service::create_section(&state, &caller, body.category_id, &body.name, body.position)
            .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(HelpSectionView::from(&section)),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HelpPlacementBody {
    /// The section the article is listed in; `null` for none.
    pub section_id: Option<i64>,
    /// The slug of the partner whose own article this is (shown only in that partner's help
    /// centre); `null` for a vendor article.
    pub partner: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HelpPlacementView {
    pub article_id: i64,
    pub section_id: Option<i64>,
    pub partner: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/help/articles/{id}/placement", tag = "help", params(("id" = i64, Path)),
    request_body = HelpPlacementBody,
    responses((status = 200, body = HelpPlacementView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn place_article(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<HelpPlacementBody>,
) -> ApiResult<axum::Json<HelpPlacementView>> {
    let (placement, partner) = service::place_article(
        &state,
        &caller,
        ArticleId(id),
        body.section_id,
        body.partner.as_deref(),
    )
    .await?;
    Ok(axum::Json(HelpPlacementView {
        article_id: id,
        section_id: placement.section_id,
        partner,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HelpBrandBody {
    /// The name the partner's customers know it by.
    pub name: String,
    /// An `https://` address of the logo, or empty for none.
    #[serde(default)]
    pub logo_url: String,
    /// The header's colour, `#rrggbb`.
    pub colour: String,
    /// The header's text and links colour, `#rrggbb`.
    pub accent: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HelpBrandView {
    pub partner: String,
    pub name: String,
    pub logo_url: String,
    pub colour: String,
    pub accent: String,
    /// Where the branded help centre is.
    pub url: String,
    pub updated_at: String,
}

impl From<&BrandRecord> for HelpBrandView {
    fn from(b: &BrandRecord) -> Self {
        HelpBrandView {
            partner: b.partner_slug.clone(),
            name: b.brand.name.clone(),
            logo_url: b.brand.logo_url.clone(),
            colour: b.brand.colour.clone(),
            accent: b.brand.accent.clone(),
            url: format!("/help/p/{}", b.partner_slug),
            updated_at: b.updated_at.to_rfc3339(),
        }
    }
}

#[utoipa::path(put, path = "/api/v1/help/brands/{partner}", tag = "help", params(("partner" = String, Path)),
    request_body = HelpBrandBody,
    responses((status = 200, body = HelpBrandView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_brand(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(partner): Path<String>,
    Json(body): Json<HelpBrandBody>,
) -> ApiResult<axum::Json<HelpBrandView>> {
    let brand = service::set_brand(
        &state,
        &caller,
        &partner,
        &body.name,
        &body.logo_url,
        &body.colour,
        &body.accent,
    )
    .await?;
    Ok(axum::Json(HelpBrandView::from(&brand)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HelpfulnessView {
    pub article_id: i64,
    /// "Was this helpful?" answered yes.
    pub yes: i64,
    pub no: i64,
    /// Whole percent of yes answers; `null` before anyone answered.
    pub percent_yes: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/help/articles/{id}/helpfulness", tag = "help", params(("id" = i64, Path)),
    responses((status = 200, body = HelpfulnessView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn helpfulness(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<HelpfulnessView>> {
    let votes = service::helpfulness(&state, &caller, ArticleId(id)).await?;
    Ok(axum::Json(HelpfulnessView {
        article_id: id,
        yes: votes.yes,
        no: votes.no,
        percent_yes: votes.percent_yes(),
    }))
}
