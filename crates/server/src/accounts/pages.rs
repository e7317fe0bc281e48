//! Signing in and out.

use crate::auth::{decoy_hash, verify_password};
use crate::layout::{error_page, html_response, page};
use crate::session::CsrfForm;
use crate::session::{clear_cookie, start_session, WebUser};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use backline_store::StoreError;
use maud::{html, Markup};
use serde::Deserialize;

/// The case list is home; it sends people who are not signed in to the sign-in page.
pub async fn home() -> Redirect {
    Redirect::to("/cases")
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

fn login_page(error: Option<&str>, email: &str, next: &str) -> Markup {
    page(
        "Sign in",
        None,
        html! {
            div.login.card {
                h1 { "Sign in to Backline" }
                @if let Some(error) = error { div.error role="alert" { (error) } }
                form method="post" action="/login" {
                    input type="hidden" name="next" value=(next);
                    label for="email" { "Email" }
                    input #email type="email" name="email" value=(email) required autofocus autocomplete="username";
                    label for="password" { "Password" }
                    input #password type="password" name="password" required autocomplete="current-password";
                    p { button type="submit" { "Sign in" } }
                }
            }
        },
    )
}

pub async fn login_form(Query(query): Query<LoginQuery>) -> Response {
    html_response(
        StatusCode::OK,
        login_page(None, "", query.next.as_deref().unwrap_or("/cases")),
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

/// Only same-site paths, so the sign-in form cannot bounce people to another site.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\") =>
        {
            path
        }
        _ => "/cases",
    }
}

pub async fn login(State(state): State<AppState>, Form(form): Form<LoginForm>) -> Response {
    let email = form.email.trim().to_lowercase();
    let next = safe_next(form.next.as_deref()).to_string();
    let found = state.store.user_with_password(&email).await;
    let user = match found {
        Ok((user, Some(hash))) if verify_password(&form.password, &hash) => user,
        Ok(_) | Err(StoreError::NotFound) => {
            if found.is_err() {
                verify_password(&form.password, decoy_hash());
            }
            return html_response(
                StatusCode::UNAUTHORIZED,
                login_page(Some("Wrong email or password."), &email, &next),
            );
        }
        Err(e) => return error_page(None, e.into()),
    };
    match start_session(&state, &user).await {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response(),
        Err(e) => error_page(None, e),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    who: WebUser,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(e) = who.check_csrf(&form.csrf) {
        return error_page(Some(&who), e);
    }
    if let Err(e) = state.store.delete_web_session(&who.token_hash).await {
        return error_page(Some(&who), e.into());
    }
    match clear_cookie(&state) {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response(),
        Err(e) => error_page(None, e),
    }
}
