//! `/api/v1/community/...`: spaces, questions, answers, comments, votes, accepted answers,
//! following, moderation, and the way to articles and cases. Everything a caller may not read
//! answers 404, as if it did not exist.

use crate::auth::Caller;
use crate::community::service::{self, Opened, SpaceInput};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use backline_domain::community::{badge, Moderation};
use backline_domain::{ArticleState, Audience};
use backline_store::community::{Post, PostAuthor, Space};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct SpaceView {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    /// `public`, `signed_in` or `partners`.
    pub visibility: String,
    /// Partner spaces: the partner kinds admitted (empty: every kind).
    pub partner_kinds: Vec<String>,
    /// Partner spaces: only certified partners are admitted.
    pub certified_only: bool,
    /// The space's page.
    pub url: String,
}

impl From<&Space> for SpaceView {
    fn from(s: &Space) -> Self {
        SpaceView {
            id: s.id,
            name: s.name.clone(),
            slug: s.slug.clone(),
            description: s.description.clone(),
            visibility: s.access.visibility.as_str().into(),
            partner_kinds: s
                .access
                .partner_kinds
                .as_slice()
                .iter()
                .map(|k| k.as_str().to_string())
                .collect(),
            certified_only: s.access.certified_only,
            url: format!("/community/s/{}", s.slug),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SpaceList {
    pub spaces: Vec<SpaceView>,
}

#[utoipa::path(get, path = "/api/v1/community/spaces", tag = "community",
    responses((status = 200, body = SpaceList), (status = 401, body = ErrorBody)))]
pub async fn list_spaces(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<SpaceList>> {
    let viewer = service::viewer(&state, Some(caller)).await?;
    let spaces = service::spaces(&state, &viewer).await?;
    Ok(axum::Json(SpaceList {
        spaces: spaces.iter().map(SpaceView::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSpaceBody {
    pub name: String,
    /// Lower-case letters, digits and inner hyphens; made from the name when left out.
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub description: String,
    /// `public` (anyone, signed in or not), `signed_in`, or `partners` (partner technicians
    /// and staff).
    pub visibility: String,
    /// Partner spaces: admit only partners of these kinds (`reseller`, `implementer`,
    /// `frontline`); empty for every kind.
    #[serde(default)]
    pub partner_kinds: Vec<String>,
    /// Partner spaces: admit only certified partners.
    #[serde(default)]
    pub certified_only: bool,
}

#[utoipa::path(post, path = "/api/v1/community/spaces", tag = "community", request_body = NewSpaceBody,
    responses((status = 201, body = SpaceView), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_space(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<NewSpaceBody>,
) -> ApiResult<(StatusCode, axum::Json<SpaceView>)> {
    let space = service::create_space(
        &state,
        &caller,
        SpaceInput {
            name: body.name,
            slug: body.slug,
            description: body.description,
            visibility: body.visibility,
            partner_kinds: body.partner_kinds,
            certified_only: body.certified_only,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(SpaceView::from(&space))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorView {
    pub id: i64,
    pub name: String,
    /// The author's organisation (customers and partner technicians).
    pub organization: Option<String>,
    /// `staff`, `certified_technician` (a partner technician with a valid certificate),
    /// `partner`, or none.
    pub badge: Option<String>,
}

impl From<&PostAuthor> for AuthorView {
    fn from(a: &PostAuthor) -> Self {
        AuthorView {
            id: a.id.0,
            name: a.name.clone(),
            organization: a.org_name.clone(),
            badge: badge(a.role, a.certified).map(|b| b.as_str().to_string()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionSummary {
    pub id: i64,
    pub title: String,
    /// `published`; `held` (waiting for review: shown to its author and staff), `hidden`
    /// or `spam` (staff only).
    pub state: String,
    pub author: AuthorView,
    pub score: i64,
    pub answers: i64,
    pub answered: bool,
    pub locked: bool,
    pub created_at: String,
    pub url: String,
}

impl From<&Post> for QuestionSummary {
    fn from(q: &Post) -> Self {
        QuestionSummary {
            id: q.id,
            title: q.title.clone(),
            state: q.state.as_str().into(),
            author: AuthorView::from(&q.author),
            score: q.score,
            answers: q.answers,
            answered: q.accepted_answer_id.is_some(),
            locked: q.locked,
            created_at: q.created_at.to_rfc3339(),
            url: format!("/community/questions/{}", q.id),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionList {
    pub space: SpaceView,
    pub questions: Vec<QuestionSummary>,
}

#[utoipa::path(get, path = "/api/v1/community/spaces/{slug}/questions", tag = "community",
    params(("slug" = String, Path)),
    responses((status = 200, body = QuestionList), (status = 404, body = ErrorBody)))]
pub async fn list_questions(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<QuestionList>> {
    let viewer = service::viewer(&state, Some(caller)).await?;
    let space = service::space(&state, &viewer, &slug).await?;
    let questions = service::questions(&state, &viewer, &space).await?;
    Ok(axum::Json(QuestionList {
        space: SpaceView::from(&space),
        questions: questions.iter().map(QuestionSummary::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewQuestionBody {
    /// The question in one line.
    pub title: String,
    #[serde(default)]
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PostedView {
    pub id: i64,
    /// `published`, or `held` until staff approve it.
    pub state: String,
    /// Why it waits for review, when it does.
    pub held_because: Option<String>,
}

impl From<service::Posted> for PostedView {
    fn from(p: service::Posted) -> Self {
        PostedView {
            id: p.id,
            state: p.state.as_str().into(),
            held_because: p.held.map(|h| h.explain().to_string()),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/community/spaces/{slug}/questions", tag = "community",
    params(("slug" = String, Path)), request_body = NewQuestionBody,
    responses((status = 201, body = PostedView), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn ask(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
    Json(body): Json<NewQuestionBody>,
) -> ApiResult<(StatusCode, axum::Json<PostedView>)> {
    let posted = service::ask(&state, &caller, &slug, &body.title, &body.body).await?;
    Ok((StatusCode::CREATED, axum::Json(posted.into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PostView {
    pub id: i64,
    /// `question`, `answer` or `comment`.
    pub kind: String,
    pub state: String,
    pub author: AuthorView,
    pub body: String,
    pub score: i64,
    pub created_at: String,
}

impl From<&Post> for PostView {
    fn from(p: &Post) -> Self {
        PostView {
            id: p.id,
            kind: p.kind.as_str().into(),
            state: p.state.as_str().into(),
            author: AuthorView::from(&p.author),
            body: p.body.clone(),
            score: p.score,
            created_at: p.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerView {
    pub id: i64,
    pub state: String,
    pub author: AuthorView,
    pub body: String,
    pub score: i64,
    pub accepted: bool,
    /// The caller's vote: 1, -1 or 0.
    pub my_vote: i64,
    pub created_at: String,
    pub comments: Vec<PostView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionView {
    pub id: i64,
    pub space: SpaceView,
    pub title: String,
    pub body: String,
    pub state: String,
    pub author: AuthorView,
    pub score: i64,
    pub my_vote: i64,
    pub locked: bool,
    pub accepted_answer_id: Option<i64>,
    /// The case the question became.
    pub case_id: Option<i64>,
    /// The article an answer became.
    pub article_id: Option<i64>,
    pub following: bool,
    pub created_at: String,
    pub url: String,
    pub comments: Vec<PostView>,
    /// Accepted first, then by score.
    pub answers: Vec<AnswerView>,
}

#[utoipa::path(get, path = "/api/v1/community/questions/{id}", tag = "community",
    params(("id" = i64, Path)),
    responses((status = 200, body = QuestionView),
              (status = 308, description = "Merged into another question: its address"),
              (status = 404, body = ErrorBody)))]
pub async fn read_question(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let viewer = service::viewer(&state, Some(caller)).await?;
    let thread = match service::open_question(&state, &viewer, id).await? {
        Opened::Merged(target) => {
            return Ok(
                Redirect::permanent(&format!("/api/v1/community/questions/{target}"))
                    .into_response(),
            )
        }
        Opened::Thread(thread) => thread,
    };
    let q = &thread.question;
    let view = QuestionView {
        id: q.id,
        space: SpaceView::from(&thread.space),
        title: q.title.clone(),
        body: q.body.clone(),
        state: q.state.as_str().into(),
        author: AuthorView::from(&q.author),
        score: q.score,
        my_vote: thread.my_vote(q.id),
        locked: q.locked,
        accepted_answer_id: q.accepted_answer_id,
        case_id: q.case_id.map(|c| c.0),
        article_id: q.article_id.map(|a| a.0),
        following: thread.following,
        created_at: q.created_at.to_rfc3339(),
        url: format!("/community/questions/{}", q.id),
        comments: thread.comments.iter().map(PostView::from).collect(),
        answers: thread
            .answers
            .iter()
            .map(|a| AnswerView {
                id: a.answer.id,
                state: a.answer.state.as_str().into(),
                author: AuthorView::from(&a.answer.author),
                body: a.answer.body.clone(),
                score: a.answer.score,
                accepted: q.accepted_answer_id == Some(a.answer.id),
                my_vote: thread.my_vote(a.answer.id),
                created_at: a.answer.created_at.to_rfc3339(),
                comments: a.comments.iter().map(PostView::from).collect(),
            })
            .collect(),
    };
    Ok(axum::Json(view).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReplyBody {
    pub body: String,
}

#[utoipa::path(post, path = "/api/v1/community/questions/{id}/answers", tag = "community",
    params(("id" = i64, Path)), request_body = NewReplyBody,
    responses((status = 201, body = PostedView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`locked` or `merged`"),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn answer(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<NewReplyBody>,
) -> ApiResult<(StatusCode, axum::Json<PostedView>)> {
    let posted = service::answer(&state, &caller, id, &body.body).await?;
    Ok((StatusCode::CREATED, axum::Json(posted.into())))
}

#[utoipa::path(post, path = "/api/v1/community/posts/{id}/comments", tag = "community",
    params(("id" = i64, Path, description = "The question or answer commented on")), request_body = NewReplyBody,
    responses((status = 201, body = PostedView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn comment(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<NewReplyBody>,
) -> ApiResult<(StatusCode, axum::Json<PostedView>)> {
    let posted = service::comment(&state, &caller, id, &body.body).await?;
    Ok((StatusCode::CREATED, axum::Json(posted.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteBody {
    /// 1 up, -1 down, 0 to take the vote back.
    pub value: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VoteView {
    pub post_id: i64,
    pub score: i64,
}

#[utoipa::path(put, path = "/api/v1/community/posts/{id}/vote", tag = "community",
    params(("id" = i64, Path)), request_body = VoteBody,
    responses((status = 200, body = VoteView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`own_post` or `not_published`"),
              (status = 422, body = ErrorBody)))]
pub async fn vote(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<VoteBody>,
) -> ApiResult<axum::Json<VoteView>> {
    let score = service::vote(&state, &caller, id, body.value).await?;
    Ok(axum::Json(VoteView { post_id: id, score }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    /// The accepted answer; `null` for none.
    pub answer_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedView {
    pub question_id: i64,
    pub accepted_answer_id: Option<i64>,
}

#[utoipa::path(put, path = "/api/v1/community/questions/{id}/accepted", tag = "community",
    params(("id" = i64, Path)), request_body = AcceptBody,
    responses((status = 200, body = AcceptedView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<AcceptBody>,
) -> ApiResult<axum::Json<AcceptedView>> {
    service::accept(&state, &caller, id, body.answer_id).await?;
    Ok(axum::Json(AcceptedView {
        question_id: id,
        accepted_answer_id: body.answer_id,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowBody {
    pub following: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FollowView {
    pub question_id: i64,
    pub following: bool,
}

#[utoipa::path(put, path = "/api/v1/community/questions/{id}/following", tag = "community",
    params(("id" = i64, Path)), request_body = FollowBody,
    responses((status = 200, body = FollowView), (status = 404, body = ErrorBody)))]
pub async fn follow(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<FollowBody>,
) -> ApiResult<axum::Json<FollowView>> {
    service::follow(&state, &caller, id, body.following).await?;
    Ok(axum::Json(FollowView {
        question_id: id,
        following: body.following,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerationBody {
    /// `approve` (a held post), `hide`, `spam` (hidden and counted against the author) or
    /// `restore`.
    pub action: Moderation,
}

#[utoipa::path(post, path = "/api/v1/community/posts/{id}/moderation", tag = "community",
    params(("id" = i64, Path)), request_body = ModerationBody,
    responses((status = 200, body = PostView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn moderate(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<ModerationBody>,
) -> ApiResult<axum::Json<PostView>> {
    let post = service::moderate(&state, &caller, id, body.action).await?;
    Ok(axum::Json(PostView::from(&post)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LockBody {
    pub locked: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LockView {
    pub question_id: i64,
    pub locked: bool,
}

#[utoipa::path(put, path = "/api/v1/community/questions/{id}/lock", tag = "community",
    params(("id" = i64, Path)), request_body = LockBody,
    responses((status = 200, body = LockView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn lock(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<LockBody>,
) -> ApiResult<axum::Json<LockView>> {
    service::lock(&state, &caller, id, body.locked).await?;
    Ok(axum::Json(LockView {
        question_id: id,
        locked: body.locked,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The question this one duplicates.
    pub into: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MergedView {
    pub question_id: i64,
    pub merged_into: i64,
    pub url: String,
}

#[utoipa::path(post, path = "/api/v1/community/questions/{id}/merge", tag = "community",
    params(("id" = i64, Path)), request_body = MergeBody,
    responses((status = 200, body = MergedView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn merge(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<MergeBody>,
) -> ApiResult<axum::Json<MergedView>> {
    service::merge(&state, &caller, id, body.into).await?;
    Ok(axum::Json(MergedView {
        question_id: id,
        merged_into: body.into,
        url: format!("/community/questions/{}", body.into),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoteBody {
    /// The answer to promote; the accepted one when left out.
    #[serde(default)]
    pub answer_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PromotedView {
    pub article_id: i64,
    pub title: String,
    pub state: ArticleState,
    pub audience: Audience,
    pub resolution: String,
    /// The article's page for staff, to finish and validate it.
    pub url: String,
}

#[utoipa::path(post, path = "/api/v1/community/questions/{id}/article", tag = "community",
    params(("id" = i64, Path)), request_body = PromoteBody,
    responses((status = 201, body = PromotedView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn promote(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<PromoteBody>,
) -> ApiResult<(StatusCode, axum::Json<PromotedView>)> {
    let article = service::promote(&state, &caller, id, body.answer_id).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(PromotedView {
            article_id: article.id.0,
            title: article.content.title.clone(),
            state: article.state,
            audience: article.audience,
            resolution: article.content.resolution.clone(),
            url: format!("/articles/{}", article.id.0),
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionCaseView {
    pub question_id: i64,
    pub case_id: i64,
    pub url: String,
}

#[utoipa::path(post, path = "/api/v1/community/questions/{id}/case", tag = "community",
    params(("id" = i64, Path)),
    responses((status = 201, body = QuestionCaseView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn to_case(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, axum::Json<QuestionCaseView>)> {
    let case = service::to_case(&state, &caller, id).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(QuestionCaseView {
            question_id: id,
            case_id: case.id.0,
            url: format!("/cases/{}", case.id.0),
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LikelyParams {
    /// What is being typed (the question's title, perhaps more).
    #[serde(default)]
    pub q: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LikelyArticle {
    pub id: i64,
    pub title: String,
    pub excerpt: String,
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LikelyQuestion {
    pub id: i64,
    pub title: String,
    /// Published answers.
    pub answers: i64,
    /// It has an accepted answer (these come first).
    pub answered: bool,
    pub url: String,
}

/// Likely answers from the known-issue matcher: articles, and questions of the spaces the
/// caller reads that have a published answer (those with an accepted answer first).
#[derive(Debug, Serialize, ToSchema)]
pub struct LikelyAnswers {
    pub articles: Vec<LikelyArticle>,
    pub questions: Vec<LikelyQuestion>,
    /// `false` while this node's search index is still catching up after a start: answers may
    /// be missing.
    pub complete: bool,
}

impl From<service::Likely> for LikelyAnswers {
    fn from(l: service::Likely) -> Self {
        LikelyAnswers {
            articles: l
                .articles
                .iter()
                .map(|s| LikelyArticle {
                    id: s.id,
                    title: s.title.clone(),
                    excerpt: s.excerpt.clone(),
                    url: format!("/articles/{}", s.id),
                })
                .collect(),
            questions: l
                .questions
                .iter()
                .map(|q| LikelyQuestion {
                    id: q.id,
                    title: q.title.clone(),
                    answers: q.answers,
                    answered: q.accepted_answer_id.is_some(),
                    url: format!("/community/questions/{}", q.id),
                })
                .collect(),
            complete: l.complete,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/community/likely", tag = "community", params(LikelyParams),
    responses((status = 200, body = LikelyAnswers), (status = 401, body = ErrorBody)))]
pub async fn likely(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(params): Query<LikelyParams>,
) -> ApiResult<axum::Json<LikelyAnswers>> {
    let viewer = service::viewer(&state, Some(caller)).await?;
    Ok(axum::Json(
        service::likely(&state, &viewer, &params.q).await?.into(),
    ))
}

/// A post waiting for review.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeldPostView {
    pub post: PostView,
    /// The question the post is or belongs to.
    pub question_id: i64,
    /// That question's title.
    pub question_title: String,
    /// The space's name.
    pub space: String,
    /// The question's page, where the post is shown to staff.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeldPosts {
    /// Oldest first, at most 200: approve, hide or mark each as spam with
    /// `POST /api/v1/community/posts/{id}/moderation`.
    pub held: Vec<HeldPostView>,
}

#[utoipa::path(get, path = "/api/v1/community/held", tag = "community",
    responses((status = 200, body = HeldPosts), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
pub async fn held(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<HeldPosts>> {
    let held = service::held_posts(&state, &caller).await?;
    Ok(axum::Json(HeldPosts {
        held: held
            .iter()
            .map(|h| {
                let (question_id, question_title) = h.thread();
                HeldPostView {
                    post: PostView::from(&h.post),
                    question_id,
                    question_title: question_title.to_string(),
                    space: h.space.clone(),
                    url: format!("/community/questions/{question_id}#post-{}", h.post.id),
                }
            })
            .collect(),
    }))
}
