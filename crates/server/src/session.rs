//! Web sessions: the cookie, the extractors that require one (`WebUser`, and `CsrfForm` for
//! forms, which checks the session's CSRF token before the handler runs).

use crate::auth::{hash_secret, new_secret};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use backline_domain::{Span, Timestamp};
use backline_store::{StoreError, User};

pub const SESSION_COOKIE: &str = "backline_session";
const SESSION_DAYS: i64 = 14;

/// The signed-in person and the CSRF token their forms must send back.
#[derive(Clone)]
pub struct WebUser {
    pub user: User,
    pub csrf: String,
    pub token_hash: String,
}

pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let to_login = || {
            let next = parts.uri.path_and_query().map_or("/cases", |p| p.as_str());
            Redirect::to(&format!("/login?next={}", urlencode(next))).into_response()
        };
        // A handler may ask twice (`WebUser` and `CsrfForm`); the session is read once.
        if let Some(cached) = parts.extensions.get::<WebUser>() {
            return Ok(cached.clone());
        }
        match WebUser::from_headers(state, &parts.headers).await {
            Ok(Some(who)) => {
                parts.extensions.insert(who.clone());
                Ok(who)
            }
            Ok(None) => Err(to_login()),
            Err(e) => Err(ApiError::from(e).into_response()),
        }
    }
}

impl WebUser {
    /// The signed-in person of a request, `None` without a live session: what the `WebUser`
    /// extractor requires and pages open to everyone (help centre, community) ask for. The
    /// session is read through this node's 5-second cache.
    pub async fn from_headers(
        state: &AppState,
        headers: &HeaderMap,
    ) -> Result<Option<WebUser>, StoreError> {
        let Some(token) = session_token(headers) else {
            return Ok(None);
        };
        let token_hash = hash_secret(&token);
        let (user, csrf) = match state.sessions.get(&token_hash) {
            Some(cached) => cached,
            None => match state.store.web_session(&token_hash).await {
                Ok(found) => {
                    state.sessions.put(token_hash.clone(), found.clone());
                    found
                }
                Err(StoreError::NotFound) => return Ok(None),
                Err(e) => return Err(e),
            },
        };
        Ok(Some(WebUser {
            user,
            csrf,
            token_hash,
        }))
    }

    /// Who is acting, for the visibility rules.
    pub fn actor(&self) -> backline_domain::Actor {
        self.user.actor()
    }

    pub fn is_staff(&self) -> bool {
        self.user.role.is_staff()
    }

    /// Constant-time comparison of a form's CSRF token with the session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), ApiError> {
        let expected = self.csrf.as_bytes();
        let sent = sent.as_bytes();
        let same = expected.len() == sent.len()
            && expected
                .iter()
                .zip(sent)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "the form has expired; reload the page and try again".into(),
            ))
        }
    }
}

/// Starts a session for `user` and returns the `Set-Cookie` value.
pub async fn start_session(state: &AppState, user: &User) -> Result<HeaderValue, ApiError> {
    let token = new_secret("");
    let csrf = new_secret("");
    let expires = Timestamp::now().plus(Span::DAY.times(SESSION_DAYS));
    state
        .store
        .create_web_session(&hash_secret(&token), user.id, &csrf, expires)
        .await?;
    cookie(state, &token, SESSION_DAYS * 24 * 3600)
}

pub fn clear_cookie(state: &AppState) -> Result<HeaderValue, ApiError> {
    cookie(state, "", 0)
}

fn cookie(state: &AppState, value: &str, max_age: i64) -> Result<HeaderValue, ApiError> {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .map_err(|e| ApiError::Internal(e.to_string()))
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
