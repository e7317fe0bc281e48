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

/// A file sent with a form.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    /// As the browser named it (not yet made safe).
    pub file_name: String,
    pub content_type: String,
    pub bytes: Bytes,
}

/// A `multipart/form-data` form (one with files) from the signed-in person, accepted only
/// with the session's CSRF token in its `csrf` field. Text fields by name, files in order;
/// an empty file input (no file chosen) yields no file.
pub struct CsrfMultipart {
    pub fields: std::collections::HashMap<String, String>,
    pub files: Vec<UploadedFile>,
}

impl FromRequest<AppState> for CsrfMultipart {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let who = WebUser::from_request_parts(&mut parts, state).await?;
        let reject = |error: ApiError| WebError::new(error).for_user(&who).into_response();
        let mut multipart =
            axum::extract::Multipart::from_request(Request::from_parts(parts, body), state)
                .await
                .map_err(|e| {
                    reject(ApiError::bad_request(
                        "unreadable_body",
                        format!("The form could not be read: {}", e.body_text()),
                    ))
                })?;
        let unreadable = |e: axum::extract::multipart::MultipartError| {
            reject(ApiError::bad_request(
                "unreadable_body",
                format!(
                    "The form could not be read ({}). If you attached files, each may be at most {}.",
                    e.body_text(),
                    crate::views::human_size(state.mail.max_attachment_bytes as i64)
                ),
            ))
        };
        let mut form = CsrfMultipart {
            fields: Default::default(),
            files: Vec::new(),
        };
        while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
            let name = field.name().unwrap_or_default().to_string();
            match field.file_name().map(str::to_string) {
                Some(file_name) => {
                    let content_type = field
                        .content_type()
                        .unwrap_or("application/octet-stream")
                        .to_string();
                    let bytes = field.bytes().await.map_err(unreadable)?;
                    if !file_name.is_empty() || !bytes.is_empty() {
                        form.files.push(UploadedFile {
                            file_name,
                            content_type,
                            bytes,
                        });
                    }
                }
                None => {
                    let text = field.text().await.map_err(unreadable)?;
                    // Files may hold any bytes; text never holds NUL (see `security`).
                    if text.contains('\0') || name.contains('\0') {
                        return Err(reject(ApiError::validation(
                            &name.replace('\0', ""),
                            "text may not contain a NUL character",
                        )));
                    }
                    form.fields.insert(name, text);
                }
            }
        }
        let csrf = form.fields.get("csrf").map(String::as_str).unwrap_or("");
        who.check_csrf(csrf).map_err(reject)?;
        Ok(form)
    }
}

/// `text` if it is a path on this site that a browser will read the same way: it starts with
/// one `/`, and holds no backslash, whitespace or control character (browsers drop tabs and
/// line breaks from addresses, so `/<TAB>/evil.example` would lead off-site as
/// `//evil.example`), and parses as a path and query. Anything else is `None`: callers then go
/// to a page of their own choosing.
pub fn same_site_path(text: &str) -> Option<&str> {
    let plain = text.len() <= 2_000
        && text.starts_with('/')
        && !text.starts_with("//")
        && !text
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control());
    (plain && text.parse::<axum::http::uri::PathAndQuery>().is_ok()).then_some(text)
}

/// The address the request came from (the TCP peer), when the server knows it. Behind a
/// proxy this is the proxy: limits keyed on it are kept loose for that reason.
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::same_site_path;

    #[test]
    fn only_plain_same_site_paths_are_followed() {
        for good in ["/cases", "/cases/12?view=mine&page=2", "/articles/3#top"] {
            assert_eq!(same_site_path(good), Some(good), "{good}");
        }
        for bad in [
            "//evil.example/",
            "/\t/evil.example/",
            "/\\evil.example",
            "/\r\nSet-Cookie: x=1",
            "/ evil",
            "https://evil.example/",
            "evil.example",
            "",
            "/\u{0}",
        ] {
            assert_eq!(same_site_path(bad), None, "{bad:?}");
        }
    }
}
