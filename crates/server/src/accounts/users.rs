//! `/api/v1/users`: admins add people; everyone can read themselves and their colleagues.

use super::orgs::require_admin;
use super::views::{UserList, UserView};
use crate::auth::{hash_password_off_runtime, Caller};
use crate::error::{ApiError, ApiResult, StoreResult};
use crate::extract::Json;
use crate::extract::{Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use backline_domain::user::check_password;
use backline_domain::{Email, FieldErrors, Role, Tier, UserId};
use backline_store::{NewUser, StoreError};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Slug of the user's organisation: required for partner technicians and customers,
    /// absent for vendor staff.
    pub organization: Option<String>,
    /// The tier an agent works in (1 to 3).
    pub tier: Option<Tier>,
    /// To sign in to the web interface; at least 8 characters.
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Slug of an organisation (vendor staff only; others always see their own).
    pub organization: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 403, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<CreateUser>,
) -> ApiResult<(StatusCode, axum::Json<UserView>)> {
    require_admin(&caller)?;
    let user = create_user(&state.store, body).await?;
    Ok((StatusCode::CREATED, axum::Json(UserView::from(&user))))
}

/// Validates and stores a new user; shared with the CLI so both apply the same rules.
pub async fn create_user(
    store: &backline_store::Store,
    body: CreateUser,
) -> ApiResult<backline_store::User> {
    let mut errors = FieldErrors::new();
    let email = errors.check("email", Email::parse(&body.email));
    let name = body.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        errors.add("name", "must be 1 to 200 characters");
    }
    let org = match (body.role.required_org_kind(), body.organization.as_deref()) {
        (None, Some(_)) => {
            errors.add(
                "organization",
                "vendor staff belong to no customer or partner organisation",
            );
            None
        }
        (None, None) => None,
        (Some(_), None) => {
            errors.add(
                "organization",
                format!("a {} user needs an organisation", body.role),
            );
            None
        }
        (Some(kind), Some(slug)) => match store.org_by_slug(slug.trim()).await {
            Ok(org) if org.kind == kind => Some(org.id),
            Ok(_) => {
                errors.add(
                    "organization",
                    format!("a {} user must belong to a {kind} organisation", body.role),
                );
                None
            }
            Err(StoreError::NotFound) => {
                errors.add("organization", "no organisation has this slug");
                None
            }
            Err(e) => return Err(e.into()),
        },
    };
    if body.tier.is_some() && !body.role.is_staff() {
        errors.add("tier", "only vendor staff work in a tier");
    }
    if let Some(password) = &body.password {
        errors.check("password", check_password(password));
    }
    errors.into_result()?;
    let password_hash = match &body.password {
        Some(password) => Some(hash_password_off_runtime(password.clone()).await?),
        None => None,
    };
    let email = email.ok_or_else(|| ApiError::Internal("email validated".into()))?;
    Ok(store
        .create_user(&NewUser {
            email: email.as_str().to_string(),
            name,
            role: body.role,
            org,
            tier: body.tier,
            password_hash,
        })
        .await?)
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserQuery), responses((status = 200, body = UserList)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<UserQuery>,
) -> ApiResult<axum::Json<UserList>> {
    let users = if caller.role.is_staff() {
        match query.organization.as_deref() {
            Some(slug) => match state.store.org_by_slug(slug).await {
                Ok(org) => state.store.list_users(Some(org.id), false).await?,
                Err(StoreError::NotFound) => Vec::new(),
                Err(e) => return Err(e.into()),
            },
            None => state.store.list_users(None, false).await?,
        }
    } else {
        match &caller.org {
            Some(org) => state.store.list_users(Some(org.id), false).await?,
            None => Vec::new(),
        }
    };
    Ok(axum::Json(UserList {
        users: users.iter().map(UserView::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", responses((status = 200, body = UserView), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(Caller(caller): Caller) -> axum::Json<UserView> {
    axum::Json(UserView::from(&caller))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = UserView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<UserView>> {
    let user = state.store.user(UserId(id)).await.or_not_found("user")?;
    // Staff see everyone; others their own organisation's people and the staff on their cases.
    let same_org = caller.org.is_some()
        && caller.org.as_ref().map(|o| o.id) == user.org.as_ref().map(|o| o.id);
    if !(caller.role.is_staff() || same_org || user.role.is_staff()) {
        return Err(ApiError::NotFound("user"));
    }
    Ok(axum::Json(UserView::from(&user)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPermission {
    /// Whether the agent may change settings: routing rules and queues, services and who
    /// uses them, the roster, message templates, service-level policies and calendars, courses.
    pub allowed: bool,
}

/// Admins only: allows an agent to change settings, or withdraws it. Admins hold it by their
/// role; customers and partner technicians cannot be given it.
pub async fn set_settings_permission(
    state: &AppState,
    caller: &backline_store::User,
    id: UserId,
    allowed: bool,
) -> ApiResult<backline_store::User> {
    require_admin(caller)?;
    let user = state.store.user(id).await.or_not_found("user")?;
    match user.role {
        Role::Agent => {}
        Role::Admin => {
            return Err(ApiError::validation(
                "allowed",
                "admins change settings by their role; there is nothing to grant",
            ))
        }
        _ => {
            return Err(ApiError::validation(
                "allowed",
                "only vendor agents can be allowed to change settings",
            ))
        }
    }
    let user = state
        .store
        .set_manage_settings(id, allowed)
        .await
        .or_not_found("user")?;
    // Their next request on this node sees the change, not a cached copy of them.
    state.tokens.forget_user(id);
    state.sessions.forget_user(id);
    Ok(user)
}

#[utoipa::path(put, path = "/api/v1/users/{id}/settings-permission", tag = "users", params(("id" = i64, Path)),
    request_body = SettingsPermission,
    responses((status = 200, body = UserView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn settings_permission(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<SettingsPermission>,
) -> ApiResult<axum::Json<UserView>> {
    let user = set_settings_permission(&state, &caller, UserId(id), body.allowed).await?;
    Ok(axum::Json(UserView::from(&user)))
}
