//! Security headers on every response, pages and API alike: no script but the site's own
//! files (no inline script anywhere), no framing, no sniffing, no referrer beyond the site,
//! no powerful browser features; signed-in answers are not stored by caches; HSTS when the
//! site is served over TLS.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Styles may stay inline (a few `style` attributes set widths); scripts may not.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; \
     base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let signed_in = request.headers().contains_key(header::AUTHORIZATION)
        || request.headers().get_all(header::COOKIE).iter().any(|c| {
            c.to_str()
                .is_ok_and(|c| c.contains(&format!("{}=", crate::session::SESSION_COOKIE)))
        });
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        CONTENT_SECURITY_POLICY,
    );
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(
        headers,
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    );
    if signed_in {
        // What a signed-in person sees is theirs: no shared cache keeps it, and the back
        // button after signing out does not show it again.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.public_url.starts_with("https://") {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}

/// The largest form body read (the same as axum's default limit for JSON).
const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

/// One rule for both databases at the edge: no text holds a NUL character (PostgreSQL cannot
/// store one). An address (path or query) with one is refused with 400; a form field with one
/// with 422 naming the field; a form body over the limit with 413. JSON bodies are checked by
/// `extract::Json`, multipart text fields by `CsrfMultipart`. The API answers in its JSON
/// format, pages with a page.
pub async fn refuse_nul_text(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let answer = |error: crate::error::ApiError| -> Response {
        if api {
            axum::response::IntoResponse::into_response(error)
        } else {
            crate::layout::error_page(None, error)
        }
    };
    let address = request.uri().path_and_query().map_or("", |pq| pq.as_str());
    if has_encoded_nul(address.as_bytes()) {
        return answer(crate::error::ApiError::bad_request(
            "invalid_text",
            "The address holds a NUL character (%00), which no name, number or search can contain.",
        ));
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return answer(crate::error::ApiError::TooLarge(
                "The form is larger than the server takes (2 MB). Shorten the text, or attach long logs as files to a reply.".into(),
            ))
        }
    };
    if let Some(field) = field_with_nul(&bytes) {
        return answer(crate::error::ApiError::validation(
            &field,
            "text may not contain a NUL character",
        ));
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// `%00` (either case) or a raw NUL byte.
fn has_encoded_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0)
        || bytes
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// The name of the first form field whose name or value holds a NUL.
fn field_with_nul(body: &[u8]) -> Option<String> {
    body.split(|b| *b == b'&')
        .find(|pair| has_encoded_nul(pair))
        .map(|pair| {
            let name = pair.split(|b| *b == b'=').next().unwrap_or_default();
            let name: String = form_urlencoded::parse(&[name, b"=".as_slice()].concat())
                .next()
                .map(|(k, _)| k.replace('\0', "").chars().take(60).collect())
                .unwrap_or_default();
            if name.is_empty() {
                "form".to_string()
            } else {
                name
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_found_in_addresses_and_named_in_forms() {
        assert!(has_encoded_nul(b"/api/v1/organizations/%00"));
        assert!(has_encoded_nul(b"/search?q=a%00b"));
        assert!(!has_encoded_nul(b"/search?q=100%25"));
        assert_eq!(
            field_with_nul(b"email=a%00b&password=x").as_deref(),
            Some("email")
        );
        assert_eq!(
            field_with_nul(b"csrf=t&body=hi%00").as_deref(),
            Some("body")
        );
        assert_eq!(field_with_nul(b"csrf=t&body=hi"), None);
    }
}
