//! Training and tests for partner technicians, and the public directory of certified partners.

use crate::error::ApiError;
use crate::layout::{html_response, page};
use crate::partners::service::take_test;
use crate::session::WebUser;
use crate::web::{CsrfForm, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use backline_domain::{CourseId, OrgKind, Role};
use maud::html;

pub async fn training(State(state): State<AppState>, who: WebUser) -> PageResult {
    if who.user.role == Role::Customer {
        return Err(WebError::new(ApiError::Forbidden(
            "training is for partner technicians and staff".into(),
        ))
        .for_user(&who));
    }
    let loaded = async {
        Ok::<_, ApiError>((
            state.store.courses().await?,
            state.store.attempts_of_user(who.user.id).await?,
        ))
    };
    let (courses, attempts) = loaded.await.or_page(&who)?;
    Ok(html_response(
        StatusCode::OK,
        page(
            "Training",
            Some(&who),
            html! {
                h1 { "Training and certification" }
                @if courses.is_empty() { div.card.empty { "No courses yet." } }
                @for c in &courses {
                    @let best = attempts.iter().filter(|a| a.course_id == c.id).map(|a| (a.passed, a.score)).max();
                    div.card.course data-course=(c.id) {
                        h2 { (c.title) " " span.num { (c.product) " " (c.release) } }
                        @if !c.material.is_empty() { div.description { (c.material) } }
                        p.num { (c.questions.len()) " questions · pass mark " (c.pass_mark) "% · certificate valid " (c.validity_days) " days" }
                        @if let Some((passed, score)) = best { p { "Your best: " (score) "%" @if passed { " " span.badge.certified-badge { "passed" } } } }
                        @if who.user.role == Role::Partner { p { a.button href=(format!("/training/{}", c.id)) { "Take the test" } } }
                    }
                }
            },
        ),
    ))
}

pub async fn test_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<CourseId>,
) -> PageResult {
    if who.user.role != Role::Partner {
        return Err(WebError::new(ApiError::Forbidden(
            "tests are taken by partner technicians".into(),
        ))
        .for_user(&who));
    }
    let course = match state.store.course(id).await {
        Ok(c) => c,
        Err(backline_store::StoreError::NotFound) => {
            return Err(WebError::new(ApiError::NotFound("course")).for_user(&who))
        }
        Err(e) => return Err(WebError::new(e.into()).for_user(&who)),
    };
    Ok(html_response(
        StatusCode::OK,
        page(
            &course.title,
            Some(&who),
            html! {
                h1 { "Test: " (course.title) }
                form.card #test method="post" action=(format!("/training/{}", course.id)) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    @for (i, q) in course.questions.iter().enumerate() {
                        fieldset.question {
                            legend { (i + 1) ". " (q.text) }
                            @for (j, choice) in q.choices.iter().enumerate() {
                                label { input type="radio" name=(format!("q{i}")) value=(j); " " (choice) }
                            }
                        }
                    }
                    p { button type="submit" { "Submit answers" } }
                }
            },
        ),
    ))
}

pub async fn submit_test(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<CourseId>,
    CsrfForm(form): CsrfForm<std::collections::HashMap<String, String>>,
) -> PageResult {
    let questions = match state.store.course(id).await {
        Ok(c) => c.questions.len(),
        Err(_) => return Err(WebError::new(ApiError::NotFound("course")).for_user(&who)),
    };
    let answers: Vec<Option<usize>> = (0..questions)
        .map(|i| form.get(&format!("q{i}")).and_then(|v| v.parse().ok()))
        .collect();
    Ok(match take_test(&state, &who.user, id, &answers).await {
        Ok((attempt, course)) => {
            let partner = who
                .user
                .org
                .as_ref()
                .map(|o| o.slug.clone())
                .unwrap_or_default();
            html_response(
                StatusCode::OK,
                page(
                    "Result",
                    Some(&who),
                    html! {
                        h1 { "Your result: " span #score { (attempt.score) "%" } }
                        @if attempt.passed {
                            div.card #passed { "Passed (pass mark " (course.pass_mark) "%). Your certificate for " (course.title) " is valid for " (course.validity_days) " days." }
                        } @else {
                            div.error #failed { "Not passed: the pass mark is " (course.pass_mark) "%. Review the material and try again." }
                        }
                        p { a href="/training" { "Back to training" } " · " a href=(format!("/partners/{partner}")) { "Your partner page" } }
                    },
                ),
            )
        }
        Err(e) => return Err(WebError::new(e).for_user(&who)),
    })
}

/// The public directory of certified partners.
pub async fn directory(State(state): State<AppState>) -> Response {
    let partners = match state
        .store
        .list_orgs(Some(OrgKind::Partner), None, None)
        .await
    {
        Ok(p) => p,
        Err(e) => return WebError::from(e).into_response(),
    };
    html_response(
        StatusCode::OK,
        page(
            "Certified partners",
            None,
            html! {
                h1 { "Certified partners" }
                p.num { "Partners whose technicians hold current certificates for our products." }
                ul #directory {
                    @for p in partners.iter().filter(|p| p.certified()) {
                        li data-partner=(p.slug) {
                            strong { (p.name) } " · " (p.partner_kinds.as_slice().iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "))
                            @if let Some(level) = p.technical_level { " · " (level) }
                        }
                    }
                }
            },
        ),
    )
}
