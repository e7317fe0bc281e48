//! The one error type of the HTTP layer and its one mapping to responses:
//! `{"error": {"code": "...", "message": "...", "fields": {...}}}` with a fitting status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use backline_domain::FieldErrors;
use backline_store::StoreError;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No credentials, or credentials that match nobody.
    #[error("{message}")]
    Unauthenticated { code: &'static str, message: String },
    /// Signed in, but the role does not allow the action on something it can see.
    #[error("{0}")]
    Forbidden(String),
    /// Missing, or outside the caller's scope: both answer alike so nothing leaks.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A request that cannot be read at all (bad JSON, bad query string, bad cursor).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// Readable, but some fields are wrong; each is named.
    #[error("{}", .0.summary())]
    Validation(FieldErrors),
    /// The request conflicts with what is stored (a taken slug, a closed case).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A partner's escalation lacks what its agreement requires; each missing item is named.
    #[error("the escalation is incomplete; missing: {}", .0.join(", "))]
    EscalationIncomplete(Vec<String>),
    #[error("unsupported media type: send JSON with Content-Type: application/json")]
    UnsupportedMediaType,
    /// The body (or the address) is larger than the server takes.
    #[error("{0}")]
    TooLarge(String),
    /// Rate limited: the message says when to try again.
    #[error("{0}")]
    TooMany(String),
    #[error("internal error")]
    Internal(String),
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable code such as `not_found` or `validation_failed`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// For `validation_failed`: field name -> what is wrong with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
}

impl ApiError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.add(field, message);
        ApiError::Validation(errors)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::EscalationIncomplete(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated { code, .. } => code,
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest { code, .. } => code,
            ApiError::Validation(_) => "validation_failed",
            ApiError::EscalationIncomplete(_) => "escalation_incomplete",
            ApiError::Conflict { code, .. } => code,
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::TooLarge(_) => "too_large",
            ApiError::TooMany(_) => "too_many_requests",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.to_string(),
                fields: match self {
                    ApiError::Validation(fields) => Some(fields.0.clone()),
                    ApiError::EscalationIncomplete(missing) => Some(
                        missing
                            .iter()
                            .map(|m| (m.clone(), "required by the partner agreement".to_string()))
                            .collect(),
                    ),
                    _ => None,
                },
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            // The detail goes to the log, never to the client.
            tracing::error!(%detail, "internal error");
        }
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        if matches!(self, ApiError::Unauthenticated { .. }) {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"backline\""),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("record"),
            StoreError::Conflict(message) => ApiError::Conflict {
                code: "conflict",
                message,
            },
            StoreError::Invalid { field, message } => ApiError::validation(field, message),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<backline_search::SearchError> for ApiError {
    fn from(e: backline_search::SearchError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<FieldErrors> for ApiError {
    fn from(e: FieldErrors) -> Self {
        ApiError::Validation(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A store answer with its "not found" or its conflict told in the API's words; every other
/// store error maps as usual.
pub trait StoreResult<T> {
    /// "Not found" names what is missing (`incident not found`).
    fn or_not_found(self, what: &'static str) -> ApiResult<T>;
    /// A conflict carries this code (`already_linked`) and the store's message.
    fn or_conflict(self, code: &'static str) -> ApiResult<T>;
}

impl<T> StoreResult<T> for Result<T, StoreError> {
    fn or_not_found(self, what: &'static str) -> ApiResult<T> {
        self.map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound(what),
            other => other.into(),
        })
    }

    fn or_conflict(self, code: &'static str) -> ApiResult<T> {
        self.map_err(|e| match e {
            StoreError::Conflict(message) => ApiError::Conflict { code, message },
            other => other.into(),
        })
    }
}
