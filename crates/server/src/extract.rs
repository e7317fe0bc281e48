//! A JSON body extractor whose failures speak the API's error format: unreadable JSON is a
//! 400 `malformed_json`; readable JSON with wrong or unknown fields is a 422 naming each path.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};

use axum::http::header::CONTENT_TYPE;
use backline_domain::{FieldErrors, Span, Timestamp};
use serde::de::DeserializeOwned;

pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        refuse_nul_in_json(&bytes)?;
        parse(&bytes).map(Json)
    }
}

/// A body that could not be read: too large is 413 (in the API's error format), anything
/// else 400.
pub fn body_error(e: axum::extract::rejection::BytesRejection) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge(
            "The request body is larger than the server takes (2 MB for JSON and forms).".into(),
        )
    } else {
        ApiError::bad_request("unreadable_body", e.body_text())
    }
}

/// Refuses a JSON body with a NUL character in any string, naming where (PostgreSQL cannot
/// store one and SQLite would; one rule for both: no text anywhere holds NUL).
fn refuse_nul_in_json(bytes: &[u8]) -> Result<(), ApiError> {
    // In valid JSON a NUL can only be written as an escape; look closer only then.
    if !bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(()); // The parse below reports the syntax error.
    };
    fn find(value: &serde_json::Value, path: &str) -> Option<String> {
        match value {
            serde_json::Value::String(s) if s.contains('\0') => Some(path.to_string()),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, v)| find(v, &format!("{path}[{i}]"))),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if k.contains('\0') {
                    Some(here)
                } else {
                    find(v, &here)
                }
            }),
            _ => None,
        }
    }
    match find(&value, "") {
        Some(path) => Err(ApiError::validation(
            if path.is_empty() { "body" } else { &path },
            "text may not contain a NUL character",
        )),
        None => Ok(()),
    }
}

/// Deserialises `bytes`, sorting errors into syntax (400) and data (422) problems.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let mut fields = FieldErrors::new();
                let field = if path == "." {
                    "body".to_string()
                } else {
                    path
                };
                fields.add(&field, strip_position(&inner.to_string()));
                ApiError::Validation(fields)
            }
            _ => ApiError::bad_request(
                "malformed_json",
                format!("the body is not valid JSON: {inner}"),
            ),
        }
    })?;
    deserializer.end().map_err(|e| {
        ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
    })?;
    Ok(value)
}

/// serde_json appends " at line 1 column 42"; the field path already says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Deserialises a field that may be absent (leave as is), `null` (clear) or a value (set).
pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `axum::extract::Query` with failures in the API's error format.
pub struct Query<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        <axum::extract::Query<T> as axum::extract::FromRequestParts<S>>::from_request_parts(
            parts, state,
        )
        .await
        .map(|q| Query(q.0))
        .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
    }
}

/// `axum::extract::Path` with failures in the API's error format.
pub struct Path<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        <axum::extract::Path<T> as axum::extract::FromRequestParts<S>>::from_request_parts(
            parts, state,
        )
        .await
        .map(|p| Path(p.0))
        .map_err(|e| ApiError::bad_request("invalid_path", e.body_text()))
    }
}

/// The version a write was prepared against, from `If-Match` (`"7"`, as the `ETag` of a
/// read gave it); `None` without the header or with `*`. Anything else is a 400
/// `invalid_if_match`: a client that sends a precondition means it, and a garbled one must not
/// turn into an unconditional write.
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(axum::http::header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = value.to_str().unwrap_or_default().trim();
        if text == "*" {
            return Ok(IfMatch(None));
        }
        text.strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .and_then(|t| t.parse::<i64>().ok())
            .map(|v| IfMatch(Some(v)))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_if_match",
                    format!(
                        "If-Match must be one ETag as a read returned it, like \"7\", not {text:?}"
                    ),
                )
            })
    }
}

/// The `ETag` header naming a resource's version (see [`IfMatch`]).
pub fn etag(version: i64) -> [(axum::http::HeaderName, String); 1] {
    [(axum::http::header::ETAG, format!("\"{version}\""))]
}

/// A time in a query string: an RFC 3339 time, or a date (`2026-11-01`, midnight UTC). A bad
/// value is a 400 `invalid_query` naming `field`.
pub fn parse_time(field: &str, text: &str) -> Result<Timestamp, ApiError> {
    let text = text.trim();
    let date = || {
        time::Date::parse(
            text,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map(Timestamp::start_of)
    };
    Timestamp::parse(text).or_else(|_| date()).map_err(|_| {
        ApiError::bad_request(
            "invalid_query",
            format!("{field}: expected a date like 2026-11-01 or an RFC 3339 time, not {text:?}"),
        )
    })
}

/// The period `[from, to)` of a report, from the optional `from` and `to` of a query string:
/// `to` defaults to the millisecond after `default_to` (what happened in the very millisecond
/// a report is asked for counts: "now" is in the period), `from` to `default_span` before `to`.
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
    default_to: Timestamp,
    default_span: Span,
) -> Result<(Timestamp, Timestamp), ApiError> {
    let to = to
        .map(|t| parse_time("to", t))
        .transpose()?
        .unwrap_or(default_to.plus(Span::from_millis(1)));
    let from = from
        .map(|t| parse_time("from", t))
        .transpose()?
        .unwrap_or(to.minus(default_span));
    if from >= to {
        return Err(ApiError::bad_request(
            "invalid_query",
            "from: must be before to",
        ));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        subject: String,
        #[serde(default, deserialize_with = "double_option")]
        assignee: Option<Option<i64>>,
    }

    #[test]
    fn syntax_errors_are_400_and_data_errors_name_the_field() {
        let err = parse::<Body>(b"{\"subject\": ").unwrap_err();
        assert_eq!(err.code(), "malformed_json");
        let err = parse::<Body>(b"{\"subject\": 5}").unwrap_err();
        let ApiError::Validation(fields) = err else {
            panic!("expected validation")
        };
        assert!(
            fields.0["subject"].starts_with("invalid type"),
            "{fields:?}"
        );
        let err = parse::<Body>(b"{\"subject\": \"x\", \"subjet\": 1}").unwrap_err();
        assert_eq!(err.code(), "validation_failed");
        let err = parse::<Body>(b"{\"subject\": \"x\"} trailing").unwrap_err();
        assert_eq!(err.code(), "malformed_json");
    }

    #[test]
    fn absent_null_and_value_are_three_different_things() {
        assert_eq!(parse::<Body>(br#"{"subject":"x"}"#).unwrap().assignee, None);
        assert_eq!(
            parse::<Body>(br#"{"subject":"x","assignee":null}"#)
                .unwrap()
                .assignee,
            Some(None)
        );
        assert_eq!(
            parse::<Body>(br#"{"subject":"x","assignee":3}"#)
                .unwrap()
                .assignee,
            Some(Some(3))
        );
    }
}
