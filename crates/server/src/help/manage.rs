//! `/help/manage`: staff arrange the help centre in the browser (categories, sections, where
//! an article sits and whose it is) and set partners' brands; the same services as the API.

use crate::error::ApiError;
use crate::help::service;
use crate::layout::{field_error, html_response, page};
use crate::session::WebUser;
use crate::web::{CsrfForm, OrPage, PageResult};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use backline_domain::{ArticleId, FieldErrors};
use maud::{html, Markup};
use serde::Deserialize;

/// What was typed into one of the forms, shown again when it is refused.
#[derive(Default, Deserialize, Clone)]
pub struct ManageForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    category_id: String,
    #[serde(default)]
    article_id: String,
    #[serde(default)]
    section_id: String,
    #[serde(default)]
    partner: String,
    #[serde(default)]
    logo_url: String,
    #[serde(default)]
    colour: String,
    #[serde(default)]
    accent: String,
}

/// Which form was refused, with its problems.
enum Refused {
    None,
    Category(ManageForm, FieldErrors),
    Section(ManageForm, FieldErrors),
    Placement(ManageForm, FieldErrors),
    Brand(ManageForm, FieldErrors),
}

fn staff(who: &WebUser) -> Result<(), crate::web::WebError> {
    if who.is_staff() {
        Ok(())
    } else {
        Err(crate::web::WebError::new(ApiError::Forbidden(
            "arranging the help centre is for vendor staff".into(),
        ))
        .for_user(who))
    }
}

pub async fn manage_page(State(state): State<AppState>, who: WebUser) -> PageResult {
    staff(&who)?;
    render(&state, &who, Refused::None, StatusCode::OK).await
}

async fn render(
    state: &AppState,
    who: &WebUser,
    refused: Refused,
    status: StatusCode,
) -> PageResult {
    let categories = state.store.help_categories().await.or_page(who)?;
    let sections = state.store.help_sections().await.or_page(who)?;
    let brands = state.store.help_brands().await.or_page(who)?;
    let blank = (ManageForm::default(), FieldErrors::new());
    let (category, section, placement, brand) = match refused {
        Refused::None => (blank.clone(), blank.clone(), blank.clone(), blank),
        Refused::Category(f, e) => ((f, e), blank.clone(), blank.clone(), blank),
        Refused::Section(f, e) => (blank.clone(), (f, e), blank.clone(), blank),
        Refused::Placement(f, e) => (blank.clone(), blank.clone(), (f, e), blank),
        Refused::Brand(f, e) => (blank.clone(), blank.clone(), blank, (f, e)),
    };
    let section_name = |id: i64| -> String {
        sections
            .iter()
            .find(|s| s.id == id)
            .map(|s| {
                let category = categories
                    .iter()
                    .find(|c| c.id == s.category_id)
                    .map_or("", |c| c.name.as_str());
                format!("{category} › {}", s.name)
            })
            .unwrap_or_default()
    };
    let content: Markup = html! {
        h1 { "Arrange the help centre" }
        p { a href="/help" { "Open the help centre" } }
        section.card {
            h2 { "Categories and sections" }
            @if categories.is_empty() { p.empty { "No categories yet." } }
            ul {
                @for c in &categories {
                    li {
                        a href=(format!("/help/categories/{}", c.slug)) { (c.name) }
                        " (" (c.slug) ")"
                        ul { @for s in sections.iter().filter(|s| s.category_id == c.id) { li { (s.name) " · section " (s.id) } } }
                    }
                }
            }
        }
        section.card {
            h2 { "New category" }
            form method="post" action="/help/manage/categories" {
                input type="hidden" name="csrf" value=(who.csrf);
                label for="c-name" { "Name" }
                (field_error(&category.1, &["name"]))
                input #c-name name="name" value=(category.0.name) required;
                label for="c-slug" { "Address (slug; made from the name if empty)" }
                (field_error(&category.1, &["slug"]))
                input #c-slug name="slug" value=(category.0.slug);
                label for="c-description" { "Description" }
                (field_error(&category.1, &["description"]))
                textarea #c-description name="description" rows="2" { (category.0.description) }
                label for="c-position" { "Position (lower first)" }
                (field_error(&category.1, &["position"]))
                input #c-position name="position" inputmode="numeric" value=(category.0.position);
                button type="submit" { "Add category" }
            }
        }
        section.card {
            h2 { "New section" }
            form method="post" action="/help/manage/sections" {
                input type="hidden" name="csrf" value=(who.csrf);
                label for="s-category" { "Category" }
                (field_error(&section.1, &["category_id"]))
                select #s-category name="category_id" {
                    @for c in &categories { option value=(c.id) selected[section.0.category_id == c.id.to_string()] { (c.name) } }
                }
                label for="s-name" { "Name" }
                (field_error(&section.1, &["name"]))
                input #s-name name="name" value=(section.0.name) required;
                label for="s-position" { "Position (lower first)" }
                (field_error(&section.1, &["position"]))
                input #s-position name="position" inputmode="numeric" value=(section.0.position);
                button type="submit" { "Add section" }
            }
        }
        section.card {
            h2 { "Place an article" }
            form method="post" action="/help/manage/placements" {
                input type="hidden" name="csrf" value=(who.csrf);
                label for="p-article" { "Article number" }
                (field_error(&placement.1, &["article_id"]))
                input #p-article name="article_id" inputmode="numeric" value=(placement.0.article_id) required;
                label for="p-section" { "Section" }
                (field_error(&placement.1, &["section_id"]))
                select #p-section name="section_id" {
                    option value="" { "No section" }
                    @for s in &sections { option value=(s.id) selected[placement.0.section_id == s.id.to_string()] { (section_name(s.id)) } }
                }
                label for="p-partner" { "Partner's own article (partner slug; empty for a vendor article)" }
                (field_error(&placement.1, &["partner"]))
                input #p-partner name="partner" value=(placement.0.partner);
                button type="submit" { "Place" }
            }
        }
        section.card {
            h2 { "Partner help centres" }
            ul { @for b in &brands { li { a href=(format!("/help/p/{}", b.partner_slug)) { (b.brand.name) } " (" (b.partner_slug) ")" } } }
            form method="post" action="/help/manage/brands" {
                input type="hidden" name="csrf" value=(who.csrf);
                label for="b-partner" { "Partner slug" }
                (field_error(&brand.1, &["partner"]))
                input #b-partner name="partner" value=(brand.0.partner) required;
                label for="b-name" { "Name shown" }
                (field_error(&brand.1, &["name"]))
                input #b-name name="name" value=(brand.0.name) required;
                label for="b-logo" { "Logo address (https://, optional)" }
                (field_error(&brand.1, &["logo_url"]))
                input #b-logo name="logo_url" type="url" value=(brand.0.logo_url);
                label for="b-colour" { "Header colour (#rrggbb)" }
                (field_error(&brand.1, &["colour"]))
                input #b-colour name="colour" value=(brand.0.colour) placeholder="#1a5fb4" required;
                label for="b-accent" { "Header text colour (#rrggbb)" }
                (field_error(&brand.1, &["accent"]))
                input #b-accent name="accent" value=(brand.0.accent) placeholder="#ffffff" required;
                button type="submit" { "Save brand" }
            }
        }
    };
    Ok(html_response(
        status,
        page("Help centre", Some(who), content),
    ))
}

/// A whole number typed into a form, or the problem with it under `field`.
fn number(errors: &mut FieldErrors, field: &str, text: &str, default: Option<i64>) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        if default.is_none() {
            errors.add(field, "choose one");
        }
        return default;
    }
    match text.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.add(field, "must be a whole number");
            None
        }
    }
}

/// The answer to a form: back to the page with a note, or the page again with the problems.
async fn answer(
    state: &AppState,
    who: &WebUser,
    result: Result<(), ApiError>,
    conflict_field: &str,
    refused: impl FnOnce(FieldErrors) -> Refused,
) -> PageResult {
    match result {
        Ok(()) => Ok(Redirect::to("/help/manage").into_response()),
        Err(ApiError::Validation(errors)) => {
            render(
                state,
                who,
                refused(errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(ApiError::Conflict { message, .. }) => {
            let mut errors = FieldErrors::new();
            errors.add(conflict_field, message);
            render(state, who, refused(errors), StatusCode::CONFLICT).await
        }
        Err(e) => Err(crate::web::WebError::new(e).for_user(who)),
    }
}

pub async fn create_category(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<ManageForm>,
) -> PageResult {
    staff(&who)?;
    let mut errors = FieldErrors::new();
    let position = number(&mut errors, "position", &form.position, Some(0));
    let result = match (errors.is_empty(), position) {
        (true, Some(position)) => service::create_category(
            &state,
            &who.user,
            &form.name,
            Some(&form.slug),
            &form.description,
            position,
        )
        .await
        .map(drop),
        _ => Err(ApiError::Validation(errors)),
    };
    let typed = form.clone();
    answer(&state, &who, result, "slug", |e| {
        Refused::Category(typed, e)
    })
    .await
}

pub async fn create_section(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<ManageForm>,
) -> PageResult {
    staff(&who)?;
    let mut errors = FieldErrors::new();
    let position = number(&mut errors, "position", &form.position, Some(0));
    let category = number(&mut errors, "category_id", &form.category_id, None);
    let result = match (errors.is_empty(), position, category) {
        (true, Some(position), Some(category)) => {
            service::create_section(&state, &who.user, category, &form.name, position)
                .await
                .map(drop)
        }
        _ => Err(ApiError::Validation(errors)),
    };
    let typed = form.clone();
    answer(&state, &who, result, "name", |e| Refused::Section(typed, e)).await
}

pub async fn place_article(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<ManageForm>,
) -> PageResult {
    staff(&who)?;
    let mut errors = FieldErrors::new();
    let article = number(&mut errors, "article_id", &form.article_id, None);
    let section = if form.section_id.trim().is_empty() {
        None
    } else {
        number(&mut errors, "section_id", &form.section_id, None)
    };
    let result = match (errors.is_empty(), article) {
        (true, Some(article)) => {
            match service::place_article(
                &state,
                &who.user,
                ArticleId(article),
                section,
                Some(&form.partner),
            )
            .await
            {
                Ok(_) => Ok(()),
                Err(ApiError::NotFound(_)) => {
                    let mut errors = FieldErrors::new();
                    errors.add("article_id", "no article has this number");
                    Err(ApiError::Validation(errors))
                }
                Err(e) => Err(e),
            }
        }
        _ => Err(ApiError::Validation(errors)),
    };
    let typed = form.clone();
    answer(&state, &who, result, "partner", |e| {
        Refused::Placement(typed, e)
    })
    .await
}

pub async fn set_brand(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<ManageForm>,
) -> PageResult {
    staff(&who)?;
    let result = match service::set_brand(
        &state,
        &who.user,
        form.partner.trim(),
        &form.name,
        &form.logo_url,
        &form.colour,
        &form.accent,
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(ApiError::NotFound(_)) => {
            let mut errors = FieldErrors::new();
            errors.add("partner", "no partner has this slug");
            Err(ApiError::Validation(errors))
        }
        Err(e) => Err(e),
    };
    let typed = form.clone();
    answer(&state, &who, result, "partner", |e| {
        Refused::Brand(typed, e)
    })
    .await
}
