//! The edge of the page handlers: `WebError` (an error shown as a page in the site's frame),
//! `OrPage` to keep the person's navigation on it, and `CsrfForm<T>`, the form extractor that
//! checks the session's CSRF token. Page handlers return `PageResult` and use `?`.

use crate::error::ApiError;
use crate::session::WebUser;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use backline_store::StoreError;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// An error on a page: rendered as an HTML page in the site's frame (with the person's
/// navigation when known), never as JSON. Page handlers return `Result<Response, WebError>`
/// and use `?`; `.or_page(&who)` keeps the navigation on the error page.
pub struct WebError {
    pub error: ApiError,
    who: Option<Box<WebUser>>,
}

impl std::fmt::Debug for WebError {
    // The session (token hash, CSRF token) stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebError")
            .field("error", &self.error)
            .finish()
    }
}

impl WebError {
    pub fn new(error: ApiError) -> Self {
        WebError { error, who: None }
    }

    pub fn for_user(mut self, who: &WebUser) -> Self {
        self.who = Some(Box::new(who.clone()));
        self
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self.error {
            tracing::error!(%detail, "internal error on a page");
        }
        crate::layout::error_page(self.who.as_deref(), self.error)
    }
}

impl From<ApiError> for WebError {
    fn from(error: ApiError) -> Self {
        WebError::new(error)
    }
}

impl From<StoreError> for WebError {
    fn from(error: StoreError) -> Self {
        WebError::new(error.into())
    }
}

/// Turns any error the services give into a page error that keeps the person's navigation.
pub trait OrPage<T> {
    fn or_page(self, who: &WebUser) -> Result<T, WebError>;
}

impl<T, E: Into<ApiError>> OrPage<T> for Result<T, E> {
    fn or_page(self, who: &WebUser) -> Result<T, WebError> {
        self.map_err(|e| WebError::new(e.into()).for_user(who))
    }
}

pub type PageResult = Result<Response, WebError>;

/// A form body of type `T` from the signed-in person, accepted only with the session's CSRF
/// token in its `csrf` field (checked before `T` is read). `T` itself need not name `csrf`.
/// A refused token or an unreadable form is an error page; no session, the sign-in page.
pub struct CsrfForm<T>(pub T);

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T> FromRequest<AppState> for CsrfForm<T>
where
    T: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let who = WebUser::from_request_parts(&mut parts, state).await?;
        let reject = |error: ApiError| WebError::new(error).for_user(&who).into_response();
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| {
                reject(ApiError::bad_request(
                    "unreadable_body",
                    format!("The form could not be read: {}", e.body_text()),
                ))
            })?;
        let field: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfField {
            csrf: String::new(),
        });
        who.check_csrf(&field.csrf).map_err(reject)?;
        let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
            reject(ApiError::bad_request(
                "invalid_form",
                format!("The form was not filled in as expected ({e}). Go back and try again."),
            ))
        })?;
        Ok(CsrfForm(form))
    }
}

/// The form that carries nothing but its CSRF token (sign out, one-button actions).
#[derive(Deserialize)]
pub struct NoFields {}
