//! The last line of defence: a handler that panics answers 500 with an error body (JSON for
//! the API, a page for people) and leaves a log line, instead of dropping the connection.
//! Handlers must not panic; this is for the bug nobody has found yet.

use crate::error::ApiError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;

pub async fn catch_panic(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let route = request.uri().path().to_string();
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            tracing::error!(route, panic = %what, "a handler panicked");
            let error = ApiError::Internal(format!("handler panicked: {what}"));
            if api {
                error.into_response()
            } else {
                crate::layout::error_page(None, error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    async fn boom() -> &'static str {
        panic!("a bug nobody found yet")
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_with_an_error_body() {
        let app = Router::new()
            .route("/api/v1/boom", get(boom))
            .route("/boom", get(boom))
            .layer(axum::middleware::from_fn(super::catch_panic));
        let api = app
            .clone()
            .oneshot(Request::get("/api/v1/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(api.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(api.into_body(), 1 << 16)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"]["code"], "internal");
        // The panic's text is for the log, not for the caller.
        assert!(!String::from_utf8_lossy(&body).contains("nobody found"));
        let page = app
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(page.into_body(), 1 << 16)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&body).contains("That did not work"));
    }
}
