//! The mail channel's JSON API: what came in (and what waits in quarantine, with its reason),
//! running a message again or turning it into a case, the domains organisations own, the
//! channel's settings, followers, and the mail each person turned off.

use super::intake::{self, UNKNOWN_SENDERS};
use crate::auth::{Caller, Staff};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{self, etag, IfMatch};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use backline_domain::mail::{InboundState, MailSource, NotificationKind};
use backline_domain::{Role, Timestamp, UserId};
use backline_store::mail::InboundSummary;
use backline_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A received message.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboundView {
    pub id: i64,
    pub source: MailSource,
    pub state: InboundState,
    /// The From address, once the message was read.
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub size: i64,
    pub received_at: Timestamp,
    /// Why it waits (quarantine) or was set aside (noise, duplicate).
    pub reason: Option<String>,
    pub case_id: Option<i64>,
    pub comment_id: Option<i64>,
    pub attempts: i64,
}

impl From<&InboundSummary> for InboundView {
    fn from(m: &InboundSummary) -> Self {
        InboundView {
            id: m.id,
            source: m.source,
            state: m.state,
            sender: m.sender.clone(),
            subject: m.subject.clone(),
            size: m.size,
            received_at: m.received_at,
            reason: m.reason.clone(),
            case_id: m.case_id.map(|c| c.0),
            comment_id: m.comment_id.map(|c| c.0),
            attempts: m.attempts,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboundList {
    pub messages: Vec<InboundView>,
}

/// A received message with its headers and text, as read.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboundDetail {
    #[serde(flatten)]
    pub message: InboundView,
    /// The header block as received.
    pub headers: String,
    /// The text as read (before quoted history was cut), if the message could be read.
    pub text: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Only messages in this state (`quarantined` for what waits for a person).
    pub state: Option<InboundState>,
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/mail", tag = "mail", params(ListQuery),
    responses((status = 200, body = InboundList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Staff(_staff): Staff,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<InboundList>> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let messages = state.store.inbound_mails(query.state, limit).await?;
    Ok(Json(InboundList {
        messages: messages.iter().map(InboundView::from).collect(),
    }))
}

async fn summary(state: &AppState, id: i64) -> ApiResult<InboundSummary> {
    state.store.inbound_mail(id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::NotFound("message"),
        other => other.into(),
    })
}

#[utoipa::path(get, path = "/api/v1/mail/{id}", tag = "mail", params(("id" = i64, Path)),
    responses((status = 200, body = InboundDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    Staff(_staff): Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<InboundDetail>> {
    let message = summary(&state, id).await?;
    let (headers, text) = intake::read_stored(&state, id).await?;
    Ok(Json(InboundDetail {
        message: InboundView::from(&message),
        headers,
        text,
    }))
}

#[utoipa::path(get, path = "/api/v1/mail/{id}/raw", tag = "mail", params(("id" = i64, Path)),
    responses((status = 200, description = "The message as received", content_type = "message/rfc822", body = Vec<u8>),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn raw(
    State(state): State<AppState>,
    Staff(_staff): Staff,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    raw_download(&state, id).await
}

/// The message as received, as an `.eml` download (for the API and the `/mail` page alike).
pub async fn raw_download(state: &AppState, id: i64) -> ApiResult<Response> {
    summary(state, id).await?;
    let raw = state.store.inbound_raw(id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "message/rfc822".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"message-{id}.eml\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        raw,
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/mail/{id}/retry", tag = "mail", params(("id" = i64, Path)),
    description = "Runs a quarantined message through intake again (after adding its sender as a user, say).",
    responses((status = 202, body = InboundView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    Staff(_staff): Staff,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, Json<InboundView>)> {
    summary(&state, id).await?;
    state.store.requeue_inbound(id).await?;
    state.mail.wake();
    let message = summary(&state, id).await?;
    Ok((StatusCode::ACCEPTED, Json(InboundView::from(&message))))
}

#[utoipa::path(post, path = "/api/v1/mail/{id}/dismiss", tag = "mail", params(("id" = i64, Path)),
    description = "Sets a quarantined message aside (junk, or dealt with by hand); it stays readable.",
    responses((status = 200, body = InboundView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn dismiss(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<InboundView>> {
    set_aside(&state, &staff, id).await?;
    Ok(Json(InboundView::from(&summary(&state, id).await?)))
}

/// Sets a quarantined message aside, saying who did.
pub async fn set_aside(state: &AppState, by: &backline_store::User, id: i64) -> ApiResult<()> {
    summary(state, id).await?;
    state
        .store
        .set_aside_inbound(id, &format!("set aside by {}", by.name))
        .await?;
    Ok(())
}

/// The customer organisation a quarantined message is filed for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenCaseBody {
    /// The organisation's slug. An unknown sender becomes a customer user of it.
    pub organization: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenedCase {
    pub case_id: i64,
    pub message: InboundView,
}

#[utoipa::path(post, path = "/api/v1/mail/{id}/case", tag = "mail", params(("id" = i64, Path)), request_body = OpenCaseBody,
    description = "Turns a quarantined message into a new case of the organisation given.",
    responses((status = 201, body = OpenedCase), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn open_case(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<i64>,
    Json(body): Json<OpenCaseBody>,
) -> ApiResult<(StatusCode, Json<OpenedCase>)> {
    let case = intake::open_case_from_quarantine(&state, &staff, id, &body.organization).await?;
    let message = summary(&state, id).await?;
    Ok((
        StatusCode::CREATED,
        Json(OpenedCase {
            case_id: case.0,
            message: InboundView::from(&message),
        }),
    ))
}

/// What happens to mail from senders nobody knows.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// `hold` (quarantine until an agent decides) or `create:<organisation slug>` (make them
    /// customer users of that organisation).
    pub unknown_senders: String,
}

/// The mail settings as stored, with their version.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailSettingsView {
    /// `hold` or `create:<organisation slug>` (see [`MailSettings`]).
    pub unknown_senders: String,
    /// Moves on with every change (0 while the default `hold` applies); send it back as
    /// `If-Match: "N"` to change only this version.
    pub version: i64,
}

#[utoipa::path(get, path = "/api/v1/mail/settings", tag = "mail",
    responses((status = 200, body = MailSettingsView, headers(("ETag" = String, description = "The settings' version (\"0\" while unset), for `If-Match` on a change"))),
              (status = 403, body = ErrorBody)))]
pub async fn settings(
    State(state): State<AppState>,
    Staff(_staff): Staff,
) -> ApiResult<impl IntoResponse> {
    let (value, version) = state.store.setting_with_version(UNKNOWN_SENDERS).await?;
    Ok((
        etag(version),
        Json(MailSettingsView {
            unknown_senders: value.unwrap_or_else(|| "hold".into()),
            version,
        }),
    ))
}

#[utoipa::path(put, path = "/api/v1/mail/settings", tag = "mail", request_body = MailSettings,
    params(("If-Match" = Option<String>, Header, description = "The ETag the change was made against: settings changed since answer 412 `stale` and keep what they have")),
    responses((status = 200, body = MailSettingsView, headers(("ETag" = String, description = "The settings' new version"))),
              (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 412, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    Staff(staff): Staff,
    IfMatch(expected): IfMatch,
    extract::Json(body): extract::Json<MailSettings>,
) -> ApiResult<impl IntoResponse> {
    admin_only(&staff)?;
    let value = body.unknown_senders.trim().to_string();
    match value.strip_prefix("create:") {
        None if value == "hold" => {}
        Some(slug) => {
            let org = state
                .store
                .org_by_slug(slug.trim())
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => ApiError::validation(
                        "unknown_senders",
                        format!("no organisation has the slug {slug:?}"),
                    ),
                    other => other.into(),
                })?;
            if org.kind != backline_domain::OrgKind::Customer {
                return Err(ApiError::validation(
                    "unknown_senders",
                    "unknown senders can only become users of a customer organisation",
                ));
            }
        }
        None => {
            return Err(ApiError::validation(
                "unknown_senders",
                "write hold, or create: followed by a customer organisation's slug",
            ))
        }
    }
    let version = state
        .store
        .write_setting(UNKNOWN_SENDERS, &value, expected)
        .await?;
    Ok((
        etag(version),
        Json(MailSettingsView {
            unknown_senders: value,
            version,
        }),
    ))
}

fn admin_only(user: &backline_store::User) -> ApiResult<()> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden("only admins can change this".into()))
    }
}

/// The mail domains an organisation owns: unknown senders from them become its users.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Domains {
    pub domains: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/organizations/{slug}/domains", tag = "organizations", params(("slug" = String, Path)),
    responses((status = 200, body = Domains), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn domains(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(slug): Path<String>,
) -> ApiResult<Json<Domains>> {
    let org = crate::accounts::orgs::visible_org(&state.store, &staff, &slug).await?;
    Ok(Json(Domains {
        domains: state.store.org_domains(org.id).await?,
    }))
}

#[utoipa::path(put, path = "/api/v1/organizations/{slug}/domains", tag = "organizations", params(("slug" = String, Path)), request_body = Domains,
    responses((status = 200, body = Domains), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_domains(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(slug): Path<String>,
    Json(body): Json<Domains>,
) -> ApiResult<Json<Domains>> {
    admin_only(&staff)?;
    let org = crate::accounts::orgs::visible_org(&state.store, &staff, &slug).await?;
    let mut clean = Vec::new();
    for domain in &body.domains {
        let domain = domain.trim().trim_start_matches('@').to_lowercase();
        let parsed = backline_domain::Email::parse(&format!("x@{domain}"));
        if parsed.is_err() || domain.is_empty() {
            return Err(ApiError::validation(
                "domains",
                format!("{domain:?} is not a mail domain (such as acme.com)"),
            ));
        }
        if !clean.contains(&domain) {
            clean.push(domain);
        }
    }
    state.store.set_org_domains(org.id, &clean).await?;
    Ok(Json(Domains { domains: clean }))
}

#[utoipa::path(put, path = "/api/v1/organizations/{slug}/followers/{user}", tag = "organizations",
    params(("slug" = String, Path), ("user" = i64, Path)),
    description = "The user hears of every public change on the organisation's cases. Staff may add anyone of the organisation or of staff; others only themselves.",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn follow(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((slug, user)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    set_following(&state, &caller, &slug, UserId(user), true).await
}

#[utoipa::path(delete, path = "/api/v1/organizations/{slug}/followers/{user}", tag = "organizations",
    params(("slug" = String, Path), ("user" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unfollow(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((slug, user)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    set_following(&state, &caller, &slug, UserId(user), false).await
}

async fn set_following(
    state: &AppState,
    caller: &backline_store::User,
    slug: &str,
    user: UserId,
    follow: bool,
) -> ApiResult<StatusCode> {
    let org = crate::accounts::orgs::visible_org(&state.store, caller, slug).await?;
    // A partner sees its customers' organisations but follows only its own.
    let own = caller.org.as_ref().map(|o| o.id) == Some(org.id);
    if !caller.role.is_staff() && !own {
        return Err(ApiError::Forbidden(
            "you can only follow your own organisation's cases".into(),
        ));
    }
    if !caller.role.is_staff() && user != caller.id {
        return Err(ApiError::Forbidden(
            "you can only follow or unfollow for yourself".into(),
        ));
    }
    let target = state.store.user(user).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::NotFound("user"),
        other => other.into(),
    })?;
    let belongs = target.role.is_staff() || target.org.as_ref().map(|o| o.id) == Some(org.id);
    if follow && !belongs {
        return Err(ApiError::validation(
            "user",
            "only the organisation's own users and vendor staff can follow its cases",
        ));
    }
    state.store.set_following(org.id, user, follow).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The kinds of mail a person turned off.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettings {
    /// `case_updates`, `my_cases`, `requests`.
    pub off: Vec<NotificationKind>,
}

#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "users",
    responses((status = 200, body = NotificationSettings), (status = 401, body = ErrorBody)))]
pub async fn my_notifications(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<NotificationSettings>> {
    Ok(Json(NotificationSettings {
        off: state.store.optouts(caller.id).await?,
    }))
}

#[utoipa::path(put, path = "/api/v1/me/notifications", tag = "users", request_body = NotificationSettings,
    responses((status = 200, body = NotificationSettings), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_my_notifications(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<NotificationSettings>,
) -> ApiResult<Json<NotificationSettings>> {
    let mut off = body.off;
    off.sort();
    off.dedup();
    state.store.set_optouts(caller.id, &off).await?;
    Ok(Json(NotificationSettings { off }))
}
