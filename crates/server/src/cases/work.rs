//! The rest of the work around a case: merging duplicates, followers and Cc, who else has the
//! case open, and the requester's satisfaction rating.

use super::service::visible_case;
use crate::error::{ApiError, ApiResult};
use backline_domain::satisfaction::{check_may_rate, check_rating_comment, Rating};
use backline_domain::{CaseId, Email, Span, Timestamp};
use backline_store::{
    CaseRecord, Presence, RatingRecord, ScoreBy, ScoreRow, Store, StoreError, User, UserRef,
};

fn staff_only(caller: &User, what: &str) -> ApiResult<()> {
    if caller.role.is_staff() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!("{what} is for vendor staff")))
    }
}

/// Merges `source` into `into`: both must be visible to the caller (staff), belong to the
/// same organisation and partner, and neither be closed. The survivor gets an internal note
/// that keeps the source's subject and description.
pub async fn merge(
    store: &Store,
    caller: &User,
    source: CaseId,
    into: CaseId,
) -> ApiResult<CaseRecord> {
    staff_only(caller, "merging cases")?;
    let from = visible_case(store, caller, source).await?;
    // A survivor that does not exist is a field error of the form, not a missing page.
    let survivor = match visible_case(store, caller, into).await {
        Ok(case) => case,
        Err(ApiError::NotFound(_)) => {
            return Err(ApiError::validation(
                "into",
                format!("There is no case #{into}."),
            ))
        }
        Err(e) => return Err(e),
    };
    let note = format!(
        "Case #{} \"{}\" from {} was merged into this case.\n\n{}",
        from.id, from.subject, from.requester.name, from.description
    );
    match store
        .merge_cases(from.id, survivor.id, caller.id, &note)
        .await
    {
        Ok(case) => Ok(case),
        Err(StoreError::NotFound) => Err(ApiError::NotFound("case")),
        Err(e) => Err(e.into()),
    }
}

/// The staff following a case and the addresses copied on it.
pub struct CasePeople {
    pub followers: Vec<UserRef>,
    pub cc: Vec<String>,
}

pub async fn people(store: &Store, caller: &User, case: CaseId) -> ApiResult<CasePeople> {
    let case = visible_case(store, caller, case).await?;
    people_of(store, caller, &case).await
}

/// `people` of a case the caller was already shown (`visible_case`).
pub async fn people_of(store: &Store, caller: &User, case: &CaseRecord) -> ApiResult<CasePeople> {
    staff_only(caller, "the follower list")?;
    let case = case.id;
    Ok(CasePeople {
        followers: store.case_followers(case).await?,
        cc: store.case_cc(case).await?,
    })
}

/// Staff follow cases for themselves.
pub async fn follow(store: &Store, caller: &User, case: CaseId, on: bool) -> ApiResult<()> {
    staff_only(caller, "following cases")?;
    visible_case(store, caller, case).await?;
    Ok(store.set_case_follower(case, caller.id, on).await?)
}

/// Copies an address on the case's mail (or stops). Staff only: the requester's side is
/// heard through the requester, and a Cc receives every public reply.
pub async fn set_cc(
    store: &Store,
    caller: &User,
    case: CaseId,
    email: &str,
    on: bool,
) -> ApiResult<()> {
    staff_only(caller, "changing who is copied")?;
    visible_case(store, caller, case).await?;
    let email = Email::parse(email).map_err(|e| ApiError::validation("email", e.0))?;
    Ok(store.set_case_cc(case, &email, on).await?)
}

/// How long a page's last sign of life keeps its agent shown as present.
pub const PRESENCE_FRESH: Span = Span::from_millis(30_000);

/// Notes that the caller has the case open (replying or not) and returns the other agents who
/// do. Customers and partners take no part: presence is a staff tool.
pub async fn presence(
    store: &Store,
    caller: &User,
    case: CaseId,
    replying: Option<bool>,
) -> ApiResult<Vec<Presence>> {
    staff_only(caller, "presence")?;
    visible_case(store, caller, case).await?;
    let now = Timestamp::now();
    let since = now.minus(PRESENCE_FRESH);
    match replying {
        Some(replying) => {
            store
                .touch_presence(case, caller.id, replying, now, since)
                .await?
        }
        None => store.leave_presence(case, caller.id).await?,
    }
    Ok(store.case_presence(case, since, caller.id).await?)
}

/// Records the requester's rating of their solved case. Only the requester rates: the score
/// is the customer's word, not a colleague's or an agent's.
pub async fn rate(
    store: &Store,
    caller: Option<&User>,
    case: &CaseRecord,
    rating: Rating,
    comment: &str,
) -> ApiResult<RatingRecord> {
    if let Some(caller) = caller {
        if caller.id != case.requester.id {
            return Err(ApiError::Forbidden(
                "only the person who asked can rate the answer".into(),
            ));
        }
    }
    let mut errors = backline_domain::FieldErrors::new();
    errors.check("rating", check_may_rate(case.status));
    let comment = errors.check("comment", check_rating_comment(comment));
    errors.into_result()?;
    Ok(store
        .rate_case(
            case.id,
            rating,
            comment.flatten().as_deref(),
            Some(case.requester.id),
            Timestamp::now(),
        )
        .await?)
}

/// Satisfaction scores for staff, per agent, queue, partner or organisation.
pub async fn scores(
    store: &Store,
    caller: &User,
    by: ScoreBy,
    since: Timestamp,
) -> ApiResult<Vec<ScoreRow>> {
    staff_only(caller, "satisfaction reporting")?;
    Ok(store.satisfaction_scores(by, since).await?)
}
