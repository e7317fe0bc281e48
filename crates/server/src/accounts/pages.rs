//! Signing in and out.

use crate::auth::password_matches;
use crate::layout::{html_response, page};
use crate::session::{clear_cookie, start_session, WebUser};
use crate::web::{CsrfForm, NoFields, OrPage, PageResult};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use backline_domain::throttle::Backoff;
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
        login_page(None, "", safe_next(query.next.as_deref())),
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
    next.and_then(crate::web::same_site_path)
        .unwrap_or("/cases")
}

pub async fn login(
    State(state): State<AppState>,
    crate::web::ClientAddress(address): crate::web::ClientAddress,
    Form(form): Form<LoginForm>,
) -> PageResult {
    let email = form.email.trim().to_lowercase();
    let next = safe_next(form.next.as_deref()).to_string();
    // Wrong passwords back off per account and per client address, whether or not the
    // account exists (the answer must not tell which), before the password is even checked.
    let now = state.clock.now();
    let account_key = format!("email:{email}");
    let address_key = address.map(|a| format!("address:{a}"));
    let mut wait = None;
    for (key, rule) in [
        (Some(account_key.clone()), Backoff::ACCOUNT),
        (address_key.clone(), Backoff::ADDRESS),
    ] {
        let Some(key) = key else { continue };
        let failures = state
            .store
            .limited_attempts(&key, now.minus(rule.window))
            .await?;
        wait = wait.max(rule.wait_until(&failures, now));
    }
    if let Some(until) = wait {
        let seconds = ((until.since(now).as_millis() + 999) / 1_000).max(1);
        let message = format!(
            "Too many failed sign-ins. Wait {} and try again.",
            if seconds == 1 {
                "a second".to_string()
            } else if seconds < 90 {
                format!("{seconds} seconds")
            } else {
                format!("{} minutes", (seconds + 59) / 60)
            }
        );
        let mut response = html_response(
            StatusCode::TOO_MANY_REQUESTS,
            login_page(Some(&message), &email, &next),
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            seconds.to_string().parse().expect("digits"),
        );
        return Ok(response);
    }
    let (user, hash) = match state.store.user_with_password(&email).await {
        Ok((user, hash)) => (Some(user), hash),
        Err(StoreError::NotFound) => (None, None),
        Err(e) => return Err(e.into()),
    };
    let user = match user {
        Some(user) if password_matches(form.password, hash).await => user,
        _ => {
            let keys: Vec<String> = std::iter::once(account_key).chain(address_key).collect();
            state.store.record_limited_attempt(&keys, now).await?;
            tracing::info!(account = %email, "failed sign-in");
            return Ok(html_response(
                StatusCode::UNAUTHORIZED,
                login_page(Some("Wrong email or password."), &email, &next),
            ));
        }
    };
    state.store.clear_limited_attempts(&account_key).await?;
    let cookie = start_session(&state, &user).await?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response())
}

pub async fn logout(
    State(state): State<AppState>,
    who: WebUser,
    _: CsrfForm<NoFields>,
) -> PageResult {
    state
        .store
        .delete_web_session(&who.token_hash)
        .await
        .or_page(&who)?;
    state.sessions.forget(&who.token_hash);
    let cookie = clear_cookie(&state)?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}

/// Admins: vendor staff, and which agents may change settings.
pub async fn team(State(state): State<AppState>, who: WebUser) -> PageResult {
    super::orgs::require_admin(&who.user).or_page(&who)?;
    let staff = state.store.list_users(None, true).await.or_page(&who)?;
    Ok(html_response(
        StatusCode::OK,
        page(
            "Team",
            Some(&who),
            html! {
                h1 { "Team" }
                p.muted { "Settings are routing rules and queues, services and who uses them, the incident roster, message templates, service-level policies and calendars, and courses. Admins change them; agents can be allowed to." }
                table {
                    thead { tr { th { "Name" } th { "Email" } th { "Role" } th { "May change settings" } } }
                    tbody {
                        @for u in &staff {
                            tr {
                                td { (u.name) } td { (u.email) } td { (u.role.as_str()) }
                                td {
                                    @if u.role == backline_domain::Role::Agent {
                                        form.inline method="post" action=(format!("/team/{}/settings", u.id.0)) {
                                            input type="hidden" name="csrf" value=(who.csrf);
                                            @if u.manage_settings {
                                                "Yes "
                                                input type="hidden" name="allowed" value="false";
                                                button type="submit" { "Withdraw from " (u.name) }
                                            } @else {
                                                "No "
                                                input type="hidden" name="allowed" value="true";
                                                button type="submit" { "Allow " (u.name) }
                                            }
                                        }
                                    } @else {
                                        "Yes, as an admin"
                                    }
                                }
                            }
                        }
                    }
                }
            },
        ),
    ))
}

#[derive(Deserialize)]
pub struct TeamSettingsForm {
    allowed: bool,
}

pub async fn team_settings(
    State(state): State<AppState>,
    who: WebUser,
    axum::extract::Path(id): axum::extract::Path<i64>,
    CsrfForm(form): CsrfForm<TeamSettingsForm>,
) -> PageResult {
    super::users::set_settings_permission(
        &state,
        &who.user,
        backline_domain::UserId(id),
        form.allowed,
    )
    .await
    .or_page(&who)?;
    Ok(Redirect::to("/team").into_response())
}
