//! `/api/v1/organizations`: customers and partners. Admins manage them; others read their own
//! (and a partner the customers it serves).

use super::views::{OrgList, OrgView};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, StoreResult};
use crate::extract::{double_option, etag, IfMatch, Json};
use crate::extract::{Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use backline_domain::org::check_org_shape;
use backline_domain::{
    CaseScope, FieldErrors, OrgKind, PartnerKind, PartnerKinds, Role, Slug, TechnicalLevel,
};
use backline_store::{NewOrg, OrgChanges, Store, StoreError, User};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    pub name: String,
    pub slug: String,
    pub kind: OrgKind,
    #[serde(default)]
    pub partner_kinds: Vec<PartnerKind>,
    pub technical_level: Option<TechnicalLevel>,
    /// Slug of the partner serving this customer.
    pub served_by: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrg {
    pub name: Option<String>,
    pub partner_kinds: Option<Vec<PartnerKind>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    pub technical_level: Option<Option<TechnicalLevel>>,
    /// Slug of the serving partner; `null` makes the customer direct.
    #[serde(default, deserialize_with = "double_option")]
    pub served_by: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrgQuery {
    /// `customer` or `partner`.
    pub kind: Option<OrgKind>,
}

pub(crate) fn require_admin(caller: &User) -> ApiResult<()> {
    if caller.role != Role::Admin {
        return Err(ApiError::Forbidden("only an admin can do this".into()));
    }
    Ok(())
}

fn check_name(errors: &mut FieldErrors, name: &str) -> String {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        errors.add("name", "must be 1 to 200 characters");
    }
    name.to_string()
}

/// The partner named by `slug`, for `served_by`; errors are recorded on the field.
async fn serving_partner(
    store: &Store,
    errors: &mut FieldErrors,
    slug: &str,
) -> ApiResult<Option<backline_domain::OrgId>> {
    match store.org_by_slug(slug.trim()).await {
        Ok(org) if org.kind == OrgKind::Partner => Ok(Some(org.id)),
        Ok(_) => {
            errors.add("served_by", "must name a partner organisation");
            Ok(None)
        }
        Err(StoreError::NotFound) => {
            errors.add("served_by", "no organisation has this slug");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations", params(OrgQuery),
    responses((status = 200, body = OrgList), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<OrgQuery>,
) -> ApiResult<axum::Json<OrgList>> {
    let orgs = match caller.actor().case_scope() {
        CaseScope::All => state.store.list_orgs(query.kind, None, None).await?,
        CaseScope::Partner(own) => state.store.list_orgs(query.kind, Some(own), None).await?,
        CaseScope::Organization(own) => state.store.list_orgs(query.kind, None, Some(own)).await?,
        CaseScope::Nothing => Vec::new(),
    };
    Ok(axum::Json(OrgList {
        organizations: orgs.iter().map(OrgView::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations", request_body = CreateOrg,
    responses((status = 201, body = OrgView), (status = 403, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<CreateOrg>,
) -> ApiResult<(StatusCode, axum::Json<OrgView>)> {
    require_admin(&caller)?;
    let org = create_org(&state.store, body).await?;
    Ok((StatusCode::CREATED, axum::Json(OrgView::from(&org))))
}

/// Validates and stores a new organisation; shared with the CLI so both apply the same rules.
pub async fn create_org(store: &Store, body: CreateOrg) -> ApiResult<backline_store::Org> {
    let mut errors = FieldErrors::new();
    let name = check_name(&mut errors, &body.name);
    let slug = errors.check("slug", Slug::parse(&body.slug));
    let kinds = PartnerKinds::new(body.partner_kinds);
    let served_by = match body.served_by.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(slug) => serving_partner(store, &mut errors, slug).await?,
        None => None,
    };
    if let Err((field, message)) = check_org_shape(body.kind, &kinds, body.served_by.is_some()) {
        errors.add(field, message);
    }
    errors.into_result()?;
    let slug = slug.ok_or_else(|| ApiError::Internal("slug validated".into()))?;
    Ok(store
        .create_org(&NewOrg {
            slug: slug.as_str().to_string(),
            name,
            kind: body.kind,
            partner_kinds: kinds,
            technical_level: body.technical_level,
            served_by,
        })
        .await?)
}

/// The organisation if the caller may see it, else 404.
pub async fn visible_org(
    store: &Store,
    caller: &User,
    slug: &str,
) -> ApiResult<backline_store::Org> {
    let org = store.org_by_slug(slug).await.or_not_found("organization")?;
    if !caller
        .actor()
        .can_see_org(org.id, org.served_by.as_ref().map(|s| s.id))
    {
        return Err(ApiError::NotFound("organization"));
    }
    Ok(org)
}

#[utoipa::path(get, path = "/api/v1/organizations/{slug}", tag = "organizations",
    params(("slug" = String, Path)),
    responses((status = 200, body = OrgView, headers(("ETag" = String, description = "The organisation's version, for `If-Match` on a change"))),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let org = visible_org(&state.store, &caller, &slug).await?;
    Ok((etag(org.version), axum::Json(OrgView::from(&org))))
}

#[utoipa::path(patch, path = "/api/v1/organizations/{slug}", tag = "organizations", request_body = UpdateOrg,
    params(("slug" = String, Path),
           ("If-Match" = Option<String>, Header, description = "The ETag the change was made against: an organisation changed since answers 412 `stale` and keeps what it has")),
    responses((status = 200, body = OrgView, headers(("ETag" = String, description = "The organisation's new version"))),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
    IfMatch(expected): IfMatch,
    Json(body): Json<UpdateOrg>,
) -> ApiResult<impl IntoResponse> {
    let org = visible_org(&state.store, &caller, &slug).await?;
    require_admin(&caller)?;
    let mut errors = FieldErrors::new();
    let name = body.name.as_deref().map(|n| check_name(&mut errors, n));
    let kinds = body.partner_kinds.map(PartnerKinds::new);
    let served_by = match &body.served_by {
        Some(Some(slug)) => Some(serving_partner(&state.store, &mut errors, slug).await?),
        Some(None) => Some(None),
        None => None,
    };
    let effective_kinds = kinds.clone().unwrap_or_else(|| org.partner_kinds.clone());
    let effective_served = served_by.map_or(org.served_by.is_some(), |s| s.is_some());
    if let Err((field, message)) = check_org_shape(org.kind, &effective_kinds, effective_served) {
        errors.add(field, message);
    }
    errors.into_result()?;
    let changes = OrgChanges {
        name,
        partner_kinds: kinds,
        technical_level: body.technical_level,
        served_by,
    };
    let org = state
        .store
        .update_org(org.id, &changes, expected)
        .await
        .or_not_found("organization")?;
    Ok((etag(org.version), axum::Json(OrgView::from(&org))))
}
