//! Taking a course's test, and the certificate a pass issues.

use crate::error::{ApiError, ApiResult, StoreResult};
use crate::AppState;
use backline_domain::partner::score_attempt;
use backline_domain::{CourseId, Role};
use backline_store::{Attempt, Course, User};

/// A partner technician takes a course's test: scored, recorded, and on a pass a certificate
/// is issued (and the partner's certification recomputed) in the same transaction.
pub async fn take_test(
    state: &AppState,
    caller: &User,
    course: CourseId,
    answers: &[Option<usize>],
) -> ApiResult<(Attempt, Course)> {
    if caller.role != Role::Partner {
        return Err(ApiError::Forbidden(
            "tests are taken by partner technicians".into(),
        ));
    }
    let course = state.store.course(course).await.or_not_found("course")?;
    if answers.len() > course.questions.len() {
        return Err(ApiError::validation(
            "answers",
            format!("the test has {} questions", course.questions.len()),
        ));
    }
    let correct: Vec<usize> = course.questions.iter().map(|q| q.correct).collect();
    let (score, passed) = score_attempt(&correct, answers, course.pass_mark);
    let attempt = state
        .store
        .record_attempt(
            &course,
            caller.id,
            caller.org.as_ref().map(|o| o.id),
            answers,
            score,
            passed,
        )
        .await?;
    Ok((attempt, course))
}
