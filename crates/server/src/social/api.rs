//! `/api/v1/channels/social`: receive a mention; read how many came and what they did.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{period, Json, Query};
use crate::knowledge::api::PeriodParams;
use crate::social::service::{self, Outcome};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use backline_domain::social::Mention;
use backline_domain::{Span, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SocialMentionBody {
    /// The network, e.g. `mastodon`.
    pub network: String,
    /// The author's handle on it (a leading `@` is dropped).
    pub author_handle: String,
    /// The post's address; a post sent twice is received once.
    pub url: String,
    pub text: String,
    /// When it was posted (RFC 3339).
    pub posted_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SocialContactView {
    pub network: String,
    pub handle: String,
    /// The customer user the author's cases are filed as.
    pub user_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SocialMentionView {
    pub id: i64,
    /// `compliment` (counted, nothing filed), `case_filed` or `comment_added` (to the
    /// author's open case).
    pub outcome: String,
    pub case_id: Option<i64>,
    pub comment_id: Option<i64>,
    pub contact: SocialContactView,
    /// The same post was received before; nothing new was done.
    pub repeated: bool,
}

#[utoipa::path(post, path = "/api/v1/channels/social", tag = "channels", request_body = SocialMentionBody,
    responses((status = 201, body = SocialMentionView), (status = 200, body = SocialMentionView),
              (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn receive(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<SocialMentionBody>,
) -> ApiResult<(StatusCode, axum::Json<SocialMentionView>)> {
    let received = service::receive(&state, &caller, || {
        Mention::parse(
            &body.network,
            &body.author_handle,
            &body.url,
            &body.text,
            &body.posted_at,
        )
    })
    .await?;
    let (outcome, case_id, comment_id) = match received.outcome {
        Outcome::Compliment => ("compliment", None, None),
        Outcome::CaseFiled(case) => ("case_filed", Some(case.0), None),
        Outcome::CommentAdded(case, comment) => ("comment_added", Some(case.0), Some(comment.0)),
    };
    let status = if received.repeated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        axum::Json(SocialMentionView {
            id: received.mention_id,
            outcome: outcome.into(),
            case_id,
            comment_id,
            contact: SocialContactView {
                network: received.contact.network,
                handle: received.contact.handle,
                user_id: received.contact.user_id.0,
            },
            repeated: received.repeated,
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SocialSummaryView {
    pub from: String,
    pub to: String,
    pub mentions: i64,
    /// Praise, counted and not queued.
    pub compliments: i64,
    pub cases_filed: i64,
    pub comments_added: i64,
}

#[utoipa::path(get, path = "/api/v1/channels/social", tag = "channels", params(PeriodParams),
    responses((status = 200, body = SocialSummaryView), (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(params): Query<PeriodParams>,
) -> ApiResult<axum::Json<SocialSummaryView>> {
    let (from, to) = period(
        params.from.as_deref(),
        params.to.as_deref(),
        Timestamp::now(),
        Span::DAY.times(30),
    )?;
    let counts = service::counts(&state, &caller, from, to).await?;
    Ok(axum::Json(SocialSummaryView {
        from: from.to_rfc3339(),
        to: to.to_rfc3339(),
        mentions: counts.mentions,
        compliments: counts.compliments,
        cases_filed: counts.cases_filed,
        comments_added: counts.comments_added,
    }))
}
