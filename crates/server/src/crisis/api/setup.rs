//! `/api/v1/services`, `/api/v1/roster` and `/api/v1/templates`: what is set up before a
//! crisis (the services and who uses them, who does what, what messages say).

use crate::auth::{SettingsEditor, Staff};
use crate::crisis::service as crisis;
use crate::crisis::views::{Roster, RosterEntryView, ServiceList, ServiceView, TemplateView};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{etag, IfMatch, Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use backline_domain::crisis::{RosterRole, ServiceKind, Template, TemplateKind};
use backline_domain::{Email, FieldErrors, Slug};
use backline_store::crisis::RosterEntry;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceBody {
    pub slug: String,
    pub name: String,
    pub kind: ServiceKind,
    /// A heading to group the service under on the status page.
    #[serde(default)]
    pub group: String,
}

/// Staff only: the catalogue of services incidents can affect.
#[utoipa::path(get, path = "/api/v1/services", tag = "crisis",
    responses((status = 200, body = ServiceList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn services(
    State(state): State<AppState>,
    _staff: Staff,
) -> ApiResult<axum::Json<ServiceList>> {
    let services = state.store.services().await?;
    Ok(axum::Json(ServiceList {
        services: services.iter().map(ServiceView::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/services", tag = "crisis", request_body = ServiceBody,
    responses((status = 201, body = ServiceView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_service(
    State(state): State<AppState>,
    _editor: SettingsEditor,
    Json(body): Json<ServiceBody>,
) -> ApiResult<(StatusCode, axum::Json<ServiceView>)> {
    let mut errors = FieldErrors::new();
    let slug = errors.check("slug", Slug::parse(&body.slug));
    if body.name.trim().is_empty() {
        errors.add("name", "give the service a name");
    }
    let slug = match slug {
        Some(slug) if errors.is_empty() => slug,
        // A slug that did not parse recorded its error, so `errors` is never empty here.
        _ => return Err(errors.into()),
    };
    let service = state
        .store
        .create_service(
            slug.as_str(),
            body.name.trim(),
            body.kind,
            body.group.trim(),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(ServiceView::from(&service))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomersBody {
    /// Slugs of the customer organisations that use the service; replaces the list.
    pub organizations: Vec<String>,
}

/// Settings (admins, and agents allowed to): which customers use a service, so an incident on it tells them.
#[utoipa::path(put, path = "/api/v1/services/{slug}/customers", tag = "crisis", params(("slug" = String, Path)), request_body = CustomersBody,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_customers(
    State(state): State<AppState>,
    SettingsEditor(staff): SettingsEditor,
    Path(slug): Path<String>,
    Json(body): Json<CustomersBody>,
) -> ApiResult<StatusCode> {
    crisis::set_service_customers(&state, &staff, &slug, &body.organizations).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The customer organisations that use a service.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceCustomers {
    /// The service's slug.
    pub service: String,
    /// In slug order.
    pub organizations: Vec<crate::views::OrgRefView>,
}

/// Staff only: who uses the service, and so hears about its incidents.
#[utoipa::path(get, path = "/api/v1/services/{slug}/customers", tag = "crisis", params(("slug" = String, Path)),
    responses((status = 200, body = ServiceCustomers), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn customers(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<ServiceCustomers>> {
    let (service, customers) = crisis::service_customers(&state, &staff, &slug).await?;
    Ok(axum::Json(ServiceCustomers {
        service: service.slug,
        organizations: customers
            .iter()
            .map(crate::views::OrgRefView::from)
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RosterBody {
    pub role: RosterRole,
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: String,
}

/// The roster as sent, emails checked and text trimmed; errors name the entry (`0.email`).
fn roster_entries(body: Vec<RosterBody>) -> Result<Vec<RosterEntry>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut entries = Vec::new();
    for (i, r) in body.into_iter().enumerate() {
        let email = errors.check(&format!("{i}.email"), Email::parse(&r.email));
        if r.name.trim().is_empty() {
            errors.add(&format!("{i}.name"), "is required");
        }
        if let Some(email) = email {
            entries.push(RosterEntry {
                role: r.role,
                name: r.name.trim().into(),
                email: email.as_str().into(),
                phone: r.phone.trim().into(),
            });
        }
    }
    errors.into_result()?;
    Ok(entries)
}

async fn read_roster(state: &AppState) -> ApiResult<Roster> {
    let roster = state.store.roster().await?;
    Ok(Roster {
        roster: roster.iter().map(RosterEntryView::from).collect(),
    })
}

/// Staff only: who does what in a crisis.
#[utoipa::path(get, path = "/api/v1/roster", tag = "crisis",
    responses((status = 200, body = Roster), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn roster(State(state): State<AppState>, _staff: Staff) -> ApiResult<axum::Json<Roster>> {
    Ok(axum::Json(read_roster(&state).await?))
}

/// Settings (admins, and agents allowed to): replaces the roster.
#[utoipa::path(put, path = "/api/v1/roster", tag = "crisis", request_body = Vec<RosterBody>,
    responses((status = 200, body = Roster), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_roster(
    State(state): State<AppState>,
    _editor: SettingsEditor,
    Json(body): Json<Vec<RosterBody>>,
) -> ApiResult<axum::Json<Roster>> {
    state.store.set_roster(&roster_entries(body)?).await?;
    Ok(axum::Json(read_roster(&state).await?))
}

/// The kind named in a template path; an unknown kind is a missing template.
fn template_kind(kind: &str) -> ApiResult<TemplateKind> {
    TemplateKind::parse(kind).map_err(|_| ApiError::NotFound("template"))
}

/// Staff only: the template of a kind of message (the built-in one until edited).
#[utoipa::path(get, path = "/api/v1/templates/{kind}", tag = "crisis", params(("kind" = TemplateKind, Path)),
    responses((status = 200, body = TemplateView, headers(("ETag" = String, description = "The template's version (\"0\" for the built-in one), for `If-Match` on a change"))),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn get_template(
    State(state): State<AppState>,
    _staff: Staff,
    Path(kind): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let kind = template_kind(&kind)?;
    let (template, version) = crisis::versioned_template(&state, kind).await?;
    Ok((
        etag(version),
        axum::Json(TemplateView::from((kind, &template, version))),
    ))
}

/// Settings (admins, and agents allowed to): replaces a template; it may use only its kind's `{{variables}}`.
#[utoipa::path(put, path = "/api/v1/templates/{kind}", tag = "crisis", params(("kind" = TemplateKind, Path),
    ("If-Match" = Option<String>, Header, description = "The ETag the change was made against: a template saved since answers 412 `stale` and keeps what it has")),
    request_body = Template,
    responses((status = 200, body = TemplateView, headers(("ETag" = String, description = "The template's new version"))),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn put_template(
    State(state): State<AppState>,
    SettingsEditor(editor): SettingsEditor,
    Path(kind): Path<String>,
    IfMatch(expected): IfMatch,
    Json(template): Json<Template>,
) -> ApiResult<impl IntoResponse> {
    let kind = template_kind(&kind)?;
    let version = crisis::save_template(&state, &editor, kind, &template, expected).await?;
    Ok((
        etag(version),
        axum::Json(TemplateView::from((kind, &template, version))),
    ))
}
