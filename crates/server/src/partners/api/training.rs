//! `/api/v1/courses`: training courses and the tests that certify partner technicians.

use crate::auth::{Caller, SettingsEditor};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::partners::service::take_test;
use crate::partners::views::{AttemptView, CourseList, CourseView};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use backline_domain::partner::{check_questions, Question};
use backline_domain::{CourseId, FieldErrors, Role};
use backline_store::NewCourse;
use serde::Deserialize;
use utoipa::ToSchema;

/// Partner technicians see the questions; staff see the right answers too.
#[utoipa::path(get, path = "/api/v1/courses", tag = "training",
    responses((status = 200, body = CourseList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn courses(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<CourseList>> {
    if caller.role == Role::Customer {
        return Err(ApiError::Forbidden(
            "training is for partner technicians and staff".into(),
        ));
    }
    let courses = state.store.courses().await?;
    Ok(axum::Json(CourseList {
        courses: courses
            .iter()
            .map(|c| CourseView::new(c, caller.role.is_staff()))
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CourseBody {
    pub product: String,
    pub release: String,
    pub title: String,
    #[serde(default)]
    pub material: String,
    pub questions: Vec<Question>,
    /// The score (percent) that passes, 1 to 100.
    pub pass_mark: u32,
    /// How long a certificate stays valid, 1 to 3650 days (default 365).
    #[serde(default = "year")]
    pub validity_days: i64,
}

fn year() -> i64 {
    365
}

impl TryFrom<CourseBody> for NewCourse {
    type Error = FieldErrors;

    /// Checks every field and the test, naming each problem; trims the names and lower-cases
    /// the product.
    fn try_from(body: CourseBody) -> Result<NewCourse, FieldErrors> {
        let mut errors = FieldErrors::new();
        for (field, value) in [
            ("product", &body.product),
            ("release", &body.release),
            ("title", &body.title),
        ] {
            if value.trim().is_empty() {
                errors.add(field, "is required");
            }
        }
        if let Err(e) = check_questions(&body.questions, body.pass_mark) {
            for (field, message) in e.0 {
                errors.add(&field, message);
            }
        }
        if !(1..=3650).contains(&body.validity_days) {
            errors.add("validity_days", "must be 1 to 3650");
        }
        errors.into_result()?;
        Ok(NewCourse {
            product: body.product.trim().to_lowercase(),
            release: body.release.trim().into(),
            title: body.title.trim().into(),
            material: body.material,
            questions: body.questions,
            pass_mark: body.pass_mark,
            validity_days: body.validity_days,
        })
    }
}

/// Settings (admins, and agents allowed to): a course with its test.
#[utoipa::path(post, path = "/api/v1/courses", tag = "training", request_body = CourseBody,
    responses((status = 201, body = CourseView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_course(
    State(state): State<AppState>,
    _editor: SettingsEditor,
    Json(body): Json<CourseBody>,
) -> ApiResult<(StatusCode, axum::Json<CourseView>)> {
    let course = state
        .store
        .create_course(&NewCourse::try_from(body)?)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CourseView::new(&course, true)),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttemptBody {
    /// For each question, the index of the chosen answer (`null` for none).
    pub answers: Vec<Option<usize>>,
}

/// A partner technician takes a course's test; a pass issues a certificate.
#[utoipa::path(post, path = "/api/v1/courses/{id}/attempts", tag = "training", params(("id" = i64, Path)), request_body = AttemptBody,
    responses((status = 201, body = AttemptView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn attempt(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<CourseId>,
    Json(body): Json<AttemptBody>,
) -> ApiResult<(StatusCode, axum::Json<AttemptView>)> {
    let (outcome, course) = take_test(&state, &caller, id, &body.answers).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(AttemptView {
            course: course.id.0,
            score: outcome.score,
            passed: outcome.passed,
            pass_mark: course.pass_mark,
            certificate_expires_at: outcome
                .passed
                .then(|| course.certificate_expires_at(outcome.at).to_rfc3339()),
        }),
    ))
}
