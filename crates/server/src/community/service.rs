//! Community rules as the server applies them: who reads which space and post (the domain's
//! `community` rules over stored facts), asking, answering, commenting, voting, accepting and
//! following; moderation (approve, hide, spam, lock, merge) and the held rule and rate limit on
//! every post, and the queue of held posts; and the way from community to knowledge (a draft
//! article from an answer, a case from a question, likely answers before asking). Questions are
//! in the search index (the indexer keeps them current); who finds which is decided here, by the
//! spaces a reader reads (`question_scope`).

use crate::error::{ApiError, ApiResult, StoreResult};
use crate::AppState;
use backline_domain::community::{
    self, AuthorFacts, HoldReason, Moderation, PostKind, PostState, Reader, SpaceAccess,
    SpaceVisibility,
};
use backline_domain::{
    ArticleState, Audience, Channel, FieldErrors, PartnerKinds, Role, Slug, Timestamp,
};
use backline_search::{Among, MatchInput, QuestionScope, Suggestion, Visibility};
use backline_store::community::{NewPost, NewSpace, Notice, Post, QuestionFilter, Space};
use backline_store::{Article, CaseOrigin, CaseRecord, StoreError, User};

/// The person reading (or nobody), with what the space rules need to know about them.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: Option<User>,
    pub reader: Reader,
}

impl Viewer {
    pub fn is_staff(&self) -> bool {
        self.reader == Reader::Staff
    }

    fn is(&self, id: backline_domain::UserId) -> bool {
        self.user.as_ref().is_some_and(|u| u.id == id)
    }
}

/// Who is reading: a partner technician's partner is read for its kinds and certification.
pub async fn viewer(state: &AppState, user: Option<User>) -> ApiResult<Viewer> {
    let reader = match &user {
        None => Reader::Anonymous,
        Some(u) if u.role.is_staff() => Reader::Staff,
        Some(u) if u.role == Role::Partner => match &u.org {
            Some(org) => {
                let org = state.store.org(org.id).await?;
                Reader::Partner {
                    kinds: org.partner_kinds.clone(),
                    certified: org.certified(),
                }
            }
            None => Reader::Customer,
        },
        Some(_) => Reader::Customer,
    };
    Ok(Viewer { user, reader })
}

/// The spaces this viewer reads.
pub async fn spaces(state: &AppState, viewer: &Viewer) -> ApiResult<Vec<Space>> {
    Ok(state
        .store
        .community_spaces()
        .await?
        .into_iter()
        .filter(|s| s.access.admits(&viewer.reader))
        .collect())
}

/// The questions this viewer may find in search and likely answers: staff every space's, others
/// those of the spaces they read (`SpaceAccess::admits`). What can be found at all (published,
/// not merged) is the index's and `community::findable`'s business.
pub async fn question_scope(state: &AppState, viewer: &Viewer) -> ApiResult<QuestionScope> {
    if viewer.is_staff() {
        return Ok(QuestionScope::All);
    }
    Ok(QuestionScope::spaces(
        spaces(state, viewer).await?.iter().map(|s| s.id).collect(),
    ))
}

/// `question_scope` for a signed-in person (search, for features that know the user only).
pub async fn question_scope_of(state: &AppState, user: &User) -> ApiResult<QuestionScope> {
    question_scope(state, &viewer(state, Some(user.clone())).await?).await
}

/// A space by slug, if this viewer reads it; otherwise 404, as if it did not exist.
pub async fn space(state: &AppState, viewer: &Viewer, slug: &str) -> ApiResult<Space> {
    let space = state
        .store
        .community_space_by_slug(slug)
        .await
        .or_not_found("space")?;
    if !space.access.admits(&viewer.reader) {
        return Err(ApiError::NotFound("space"));
    }
    Ok(space)
}

/// A new space as staff describe it.
#[derive(Debug, Clone, Default)]
pub struct SpaceInput {
    pub name: String,
    pub slug: String,
    pub description: String,
    pub visibility: String,
    /// Partner spaces: the partner kinds admitted (none: every kind).
    pub partner_kinds: Vec<String>,
    pub certified_only: bool,
}

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 500;

pub async fn create_space(state: &AppState, caller: &User, input: SpaceInput) -> ApiResult<Space> {
    staff_only(caller, "managing community spaces")?;
    let mut errors = FieldErrors::new();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        errors.add("name", "write a name");
    } else if name.chars().count() > MAX_NAME_CHARS {
        errors.add(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        );
    }
    let slug = if input.slug.trim().is_empty() {
        Some(backline_domain::help::slugify(&name))
    } else {
        errors
            .check("slug", Slug::parse(input.slug.trim()))
            .map(|s| s.as_str().to_string())
    };
    let description = input.description.trim().to_string();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        errors.add(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        );
    }
    let visibility = errors.check("visibility", SpaceVisibility::parse(&input.visibility));
    let kinds = errors.check(
        "partner_kinds",
        PartnerKinds::parse_list(&input.partner_kinds.join(",")),
    );
    if visibility.is_some_and(|v| v != SpaceVisibility::Partners)
        && (input.certified_only || kinds.as_ref().is_some_and(|k| !k.as_slice().is_empty()))
    {
        errors.add(
            "visibility",
            "partner kinds and \"certified only\" apply to partner spaces only",
        );
    }
    errors.into_result()?;
    let (Some(slug), Some(visibility), Some(kinds)) = (slug, visibility, kinds) else {
        return Err(ApiError::Internal("checked fields are missing".into()));
    };
    state
        .store
        .create_community_space(&NewSpace {
            name,
            slug,
            description,
            access: SpaceAccess {
                visibility,
                partner_kinds: kinds,
                certified_only: input.certified_only,
            },
        })
        .await
        .or_conflict("slug_taken")
}

/// Questions listed on a space's page, at most.
pub const QUESTIONS_PER_PAGE: usize = 100;

/// A space's questions this viewer sees, newest first.
pub async fn questions(state: &AppState, viewer: &Viewer, space: &Space) -> ApiResult<Vec<Post>> {
    Ok(state
        .store
        .community_questions(
            &[space.id],
            &QuestionFilter {
                staff: viewer.is_staff(),
                viewer: viewer.user.as_ref().map(|u| u.id),
                limit: QUESTIONS_PER_PAGE,
            },
            Timestamp::now(),
        )
        .await?)
}

/// A post with its space, if this viewer sees it (the space admits them and the post's state
/// shows to them); otherwise 404.
async fn visible_post(state: &AppState, viewer: &Viewer, id: i64) -> ApiResult<(Post, Space)> {
    let post = state
        .store
        .community_post(id, Timestamp::now())
        .await
        .or_not_found("post")?;
    let space = state.store.community_space(post.space_id).await?;
    if !space.access.admits(&viewer.reader)
        || !community::post_visible(post.state, viewer.is(post.author.id), viewer.is_staff())
    {
        return Err(ApiError::NotFound("post"));
    }
    // A reply in a thread whose question the viewer may not see is not theirs to see either.
    if let Some(question) = post.question_id {
        let q = state
            .store
            .community_post(question, Timestamp::now())
            .await?;
        if !community::post_visible(q.state, viewer.is(q.author.id), viewer.is_staff()) {
            return Err(ApiError::NotFound("post"));
        }
    }
    Ok((post, space))
}

async fn visible_question(state: &AppState, viewer: &Viewer, id: i64) -> ApiResult<(Post, Space)> {
    let (post, space) = visible_post(state, viewer, id)
        .await
        .map_err(|_| ApiError::NotFound("question"))?;
    if post.kind != PostKind::Question {
        return Err(ApiError::NotFound("question"));
    }
    Ok((post, space))
}

/// An answer with the comments on it.
#[derive(Debug, Clone)]
pub struct AnswerWithComments {
    pub answer: Post,
    pub comments: Vec<Post>,
}

/// A question's page: the question, its comments, its answers (accepted first, then by score)
/// with theirs, whether the viewer follows it and how they voted.
#[derive(Debug, Clone)]
pub struct Thread {
    pub space: Space,
    pub question: Post,
    pub comments: Vec<Post>,
    pub answers: Vec<AnswerWithComments>,
    pub following: bool,
    /// The viewer's votes: (post, 1 or -1).
    pub my_votes: Vec<(i64, i64)>,
}

impl Thread {
    pub fn my_vote(&self, post: i64) -> i64 {
        self.my_votes
            .iter()
            .find(|(p, _)| *p == post)
            .map_or(0, |(_, v)| *v)
    }
}

/// What opening a question finds: its thread, or the question it was merged into.
#[derive(Debug, Clone)]
pub enum Opened {
    Thread(Box<Thread>),
    Merged(i64),
}

pub async fn open_question(state: &AppState, viewer: &Viewer, id: i64) -> ApiResult<Opened> {
    let (question, space) = visible_question(state, viewer, id).await?;
    if let Some(target) = question.merged_into {
        return Ok(Opened::Merged(target));
    }
    let staff = viewer.is_staff();
    let shown: Vec<Post> = state
        .store
        .community_thread(id, Timestamp::now())
        .await?
        .into_iter()
        .filter(|p| community::post_visible(p.state, viewer.is(p.author.id), staff))
        .collect();
    let comments_on = |parent: i64| -> Vec<Post> {
        shown
            .iter()
            .filter(|p| p.kind == PostKind::Comment && p.parent_id == Some(parent))
            .cloned()
            .collect()
    };
    let mut answers: Vec<AnswerWithComments> = shown
        .iter()
        .filter(|p| p.kind == PostKind::Answer)
        .map(|a| AnswerWithComments {
            answer: a.clone(),
            comments: comments_on(a.id),
        })
        .collect();
    let accepted = question.accepted_answer_id;
    answers.sort_by_key(|a| (Some(a.answer.id) != accepted, -a.answer.score, a.answer.id));
    let (following, my_votes) = match &viewer.user {
        Some(u) => (
            state.store.community_following(id, u.id).await?,
            state.store.community_votes_of(u.id, id).await?,
        ),
        None => (false, Vec::new()),
    };
    Ok(Opened::Thread(Box::new(Thread {
        comments: comments_on(id),
        space,
        question,
        answers,
        following,
        my_votes,
    })))
}

/// A post just written, and whether it waits for review.
#[derive(Debug, Clone)]
pub struct Posted {
    pub id: i64,
    pub state: PostState,
    pub held: Option<HoldReason>,
}

/// The state a new post by `author` takes (held or published), after the rate limit.
async fn admit_post(
    state: &AppState,
    author: &User,
    now: Timestamp,
) -> ApiResult<Option<HoldReason>> {
    let earlier = state
        .store
        .community_posts_since(author.id, now.minus(community::POST_WINDOW))
        .await?;
    if let Some(until) = community::next_post_allowed(author.role, &earlier, now) {
        let minutes = (until.since(now).as_millis() + 59_999) / 60_000;
        return Err(ApiError::TooMany(format!(
            "You have posted {} times in the last hour, the most we take from one account. \
             Try again in {minutes} minute{}.",
            community::POSTS_PER_WINDOW,
            if minutes == 1 { "" } else { "s" }
        )));
    }
    let (approved, spam) = state.store.community_author_record(author.id).await?;
    Ok(community::hold_for_review(
        AuthorFacts {
            role: author.role,
            account_created: author.created_at,
            approved_posts: approved,
            spam_posts: spam,
        },
        now,
    ))
}

fn state_for(held: Option<HoldReason>) -> PostState {
    if held.is_some() {
        PostState::Held
    } else {
        PostState::Published
    }
}

pub async fn ask(
    state: &AppState,
    caller: &User,
    space_slug: &str,
    title: &str,
    body: &str,
) -> ApiResult<Posted> {
    let viewer = viewer(state, Some(caller.clone())).await?;
    let space = space(state, &viewer, space_slug).await?;
    let (title, body) = community::check_question(title, body)?;
    let now = state.clock.now();
    let held = admit_post(state, caller, now).await?;
    let id = state
        .store
        .add_community_post(
            &NewPost {
                kind: PostKind::Question,
                space_id: space.id,
                question_id: None,
                parent_id: None,
                author: caller.id,
                title,
                body,
                state: state_for(held),
                at: now,
            },
            true,
            None,
        )
        .await?;
    Ok(Posted {
        id,
        state: state_for(held),
        held,
    })
}

/// The mail followers get about a new answer.
fn answer_notice(state: &AppState, question: &Post, author: &str, body: &str) -> Notice {
    Notice {
        subject: format!("New answer: {}", question.title),
        body: format!(
            "{author} answered \"{}\":\n\n{body}\n\nRead the thread: {}/community/questions/{}\n\n\
             You get this because you follow the question; you can stop on its page.",
            question.title, state.public_url, question.id
        ),
    }
}

fn refused_on_closed_thread(question: &Post) -> ApiResult<()> {
    if question.locked {
        return Err(ApiError::Conflict {
            code: "locked",
            message: "this question is locked: it takes no new answers or comments".into(),
        });
    }
    if question.merged_into.is_some() {
        return Err(ApiError::Conflict {
            code: "merged",
            message: "this question was merged into another; answer that one".into(),
        });
    }
    Ok(())
}

pub async fn answer(
    state: &AppState,
    caller: &User,
    question: i64,
    body: &str,
) -> ApiResult<Posted> {
    let viewer = viewer(state, Some(caller.clone())).await?;
    let (question, space) = visible_question(state, &viewer, question).await?;
    refused_on_closed_thread(&question)?;
    let body = community::check_reply(body, community::MAX_BODY_CHARS)?;
    let now = state.clock.now();
    let held = admit_post(state, caller, now).await?;
    // A held answer mails nobody yet: followers hear of it when staff approve it.
    let notice = held
        .is_none()
        .then(|| answer_notice(state, &question, &caller.name, &body));
    let id = state
        .store
        .add_community_post(
            &NewPost {
                kind: PostKind::Answer,
                space_id: space.id,
                question_id: Some(question.id),
                parent_id: None,
                author: caller.id,
                title: String::new(),
                body,
                state: state_for(held),
                at: now,
            },
            false,
            notice.as_ref(),
        )
        .await
        .map_err(closed_thread_error)?;
    Ok(Posted {
        id,
        state: state_for(held),
        held,
    })
}

/// The store's refusal of a post on a thread locked or merged meanwhile, in the API's words.
fn closed_thread_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(message) if message.contains("locked") => ApiError::Conflict {
            code: "locked",
            message,
        },
        StoreError::Conflict(message) => ApiError::Conflict {
            code: "merged",
            message,
        },
        other => other.into(),
    }
}

/// A comment on a question or an answer.
pub async fn comment(state: &AppState, caller: &User, on: i64, body: &str) -> ApiResult<Posted> {
    let viewer = viewer(state, Some(caller.clone())).await?;
    let (post, space) = visible_post(state, &viewer, on).await?;
    let question_id = match post.kind {
        PostKind::Question => post.id,
        PostKind::Answer => post.question_id.unwrap_or(post.id),
        PostKind::Comment => {
            return Err(ApiError::validation(
                "post",
                "comment on the question or the answer, not on a comment",
            ))
        }
    };
    let question = state
        .store
        .community_post(question_id, Timestamp::now())
        .await?;
    refused_on_closed_thread(&question)?;
    let body = community::check_reply(body, community::MAX_COMMENT_CHARS)?;
    let now = state.clock.now();
    let held = admit_post(state, caller, now).await?;
    let id = state
        .store
        .add_community_post(
            &NewPost {
                kind: PostKind::Comment,
                space_id: space.id,
                question_id: Some(question_id),
                parent_id: Some(post.id),
                author: caller.id,
                title: String::new(),
                body,
                state: state_for(held),
                at: now,
            },
            false,
            None,
        )
        .await
        .map_err(closed_thread_error)?;
    Ok(Posted {
        id,
        state: state_for(held),
        held,
    })
}

/// Votes on a question or an answer (1 up, -1 down, 0 takes the vote back); answers the new
/// score. One vote per person and post; nobody votes on their own post.
pub async fn vote(state: &AppState, caller: &User, post: i64, value: i64) -> ApiResult<i64> {
    let viewer = viewer(state, Some(caller.clone())).await?;
    let value = community::parse_vote(value).map_err(|e| ApiError::validation("value", e.0))?;
    let (post, _) = visible_post(state, &viewer, post).await?;
    if post.kind == PostKind::Comment {
        return Err(ApiError::validation(
            "post",
            "votes are for questions and answers",
        ));
    }
    if post.author.id == caller.id {
        return Err(ApiError::Conflict {
            code: "own_post",
            message: "you cannot vote on your own post".into(),
        });
    }
    if post.state != PostState::Published {
        return Err(ApiError::Conflict {
            code: "not_published",
            message: "only published posts take votes".into(),
        });
    }
    Ok(state
        .store
        .set_community_vote(post.id, caller.id, value)
        .await?)
}

/// Marks an answer as the accepted one (or none). The asker may, and staff.
pub async fn accept(
    state: &AppState,
    caller: &User,
    question: i64,
    answer: Option<i64>,
) -> ApiResult<()> {
    let viewer = viewer(state, Some(caller.clone())).await?;
    let (question, _) = visible_question(state, &viewer, question).await?;
    if question.author.id != caller.id && !caller.role.is_staff() {
        return Err(ApiError::Forbidden(
            "only the person who asked, or staff, accept an answer".into(),
        ));
    }
    if let Some(answer) = answer {
        let found = state
            .store
            .community_post(answer, Timestamp::now())
            .await
            .ok()
            .filter(|a| {
                a.kind == PostKind::Answer
                    && a.question_id == Some(question.id)
                    && a.state == PostState::Published
            });
        if found.is_none() {
            return Err(ApiError::validation(
                "answer_id",
                "no published answer to this question has this id",
            ));
        }
    }
    state
        .store
        .set_community_accepted(question.id, answer)
        .await?;
    Ok(())
}

pub async fn follow(
    state: &AppState,
    caller: &User,
    question: i64,
    following: bool,
) -> ApiResult<()> {
    let viewer = viewer(state, Some(caller.clone())).await?;
    let (question, _) = visible_question(state, &viewer, question).await?;
    state
        .store
        .set_community_following(question.id, caller.id, following)
        .await?;
    Ok(())
}

fn staff_only(caller: &User, what: &str) -> ApiResult<()> {
    if caller.role.is_staff() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!("{what} is for vendor staff")))
    }
}

/// Staff approve, hide, restore or mark as spam a post. Approving an answer mails the
/// question's followers, as a published answer does. Others: 404 for what they cannot see,
/// 403 for what they can.
pub async fn moderate(
    state: &AppState,
    caller: &User,
    post: i64,
    action: Moderation,
) -> ApiResult<Post> {
    let viewer = viewer(state, Some(caller.clone())).await?;
    let (post, _) = visible_post(state, &viewer, post).await?;
    staff_only(caller, "moderation")?;
    let allowed = match action {
        Moderation::Approve => post.state == PostState::Held,
        Moderation::Restore => matches!(post.state, PostState::Hidden | PostState::Spam),
        Moderation::Hide | Moderation::Spam => post.state != action.target(),
    };
    if !allowed {
        return Err(ApiError::Conflict {
            code: "not_applicable",
            message: format!("a {} post cannot be given \"{}\"", post.state, action),
        });
    }
    let question = match post.question_id {
        Some(q) => Some(state.store.community_post(q, Timestamp::now()).await?),
        None => None,
    };
    let notice = match (&question, action, post.kind) {
        (Some(q), Moderation::Approve, PostKind::Answer) => {
            Some(answer_notice(state, q, &post.author.name, &post.body))
        }
        _ => None,
    };
    let moved = state
        .store
        .set_community_post_state(
            post.id,
            post.state,
            action.target(),
            notice
                .as_ref()
                .zip(question.as_ref())
                .map(|(n, q)| (q.id, post.author.id, n)),
        )
        .await?;
    if !moved {
        return Err(ApiError::Stale(
            "another moderator changed this post meanwhile; look again".into(),
        ));
    }
    Ok(state
        .store
        .community_post(post.id, Timestamp::now())
        .await?)
}

/// Locks a question (no new answers or comments) or opens it again. Staff only.
pub async fn lock(state: &AppState, caller: &User, question: i64, locked: bool) -> ApiResult<()> {
    let viewer = viewer(state, Some(caller.clone())).await?;
    let (question, _) = visible_question(state, &viewer, question).await?;
    staff_only(caller, "locking questions")?;
    state
        .store
        .set_community_locked(question.id, locked)
        .await?;
    Ok(())
}

/// Merges a duplicate question into another of the same space. Staff only.
pub async fn merge(state: &AppState, caller: &User, duplicate: i64, into: i64) -> ApiResult<()> {
    let viewer = viewer(state, Some(caller.clone())).await?;
    let (duplicate, _) = visible_question(state, &viewer, duplicate).await?;
    staff_only(caller, "merging questions")?;
    if visible_question(state, &viewer, into).await.is_err() {
        return Err(ApiError::validation("into", "no question has this id"));
    }
    state
        .store
        .merge_community_questions(duplicate.id, into)
        .await
        .or_conflict("merge_refused")
}

/// The draft article an answer becomes (the accepted one when none is named), with the
/// question linked to it and the answer's author credited. Staff only.
pub async fn promote(
    state: &AppState,
    caller: &User,
    question: i64,
    answer: Option<i64>,
) -> ApiResult<Article> {
    let viewer = viewer(state, Some(caller.clone())).await?;
    let (question, space) = visible_question(state, &viewer, question).await?;
    staff_only(caller, "writing articles")?;
    let Some(answer_id) = answer.or(question.accepted_answer_id) else {
        return Err(ApiError::validation(
            "answer_id",
            "this question has no accepted answer: name the answer to promote",
        ));
    };
    let answer = state
        .store
        .community_post(answer_id, Timestamp::now())
        .await
        .ok()
        .filter(|a| {
            a.kind == PostKind::Answer
                && a.question_id == Some(question.id)
                && a.state == PostState::Published
        })
        .ok_or_else(|| {
            ApiError::validation(
                "answer_id",
                "no published answer to this question has this id",
            )
        })?;
    let url = format!("{}/community/questions/{}", state.public_url, question.id);
    let content = community::article_from_answer(
        &question.title,
        &question.body,
        &answer.body,
        &answer.author.name,
        &url,
    );
    // The draft keeps the readers of the space it came from; staff widen it when it is proven.
    let audience = match space.access.visibility {
        SpaceVisibility::Public => Audience::Public,
        SpaceVisibility::Partners => Audience::Partners,
        SpaceVisibility::SignedIn => Audience::Internal,
    };
    let article = crate::knowledge::service::create_article(
        state,
        caller,
        crate::knowledge::service::ArticleSubmission {
            content,
            state: Some(ArticleState::Draft),
            audience: Some(audience),
            source_case: None,
        },
    )
    .await?;
    state
        .store
        .link_community_article(question.id, article.id)
        .await?;
    Ok(article)
}

/// Files the question as a case for its asker (the asker is the requester, under the same
/// rules as if they had filed it), with the question's text and a link back; the question
/// records the case. Staff only, once per question.
pub async fn to_case(state: &AppState, caller: &User, question: i64) -> ApiResult<CaseRecord> {
    let viewer = viewer(state, Some(caller.clone())).await?;
    let (question, _) = visible_question(state, &viewer, question).await?;
    staff_only(caller, "turning questions into cases")?;
    if question.case_id.is_some() {
        return Err(ApiError::Conflict {
            code: "already_a_case",
            message: "this question was already turned into a case".into(),
        });
    }
    let asker = state.store.user(question.author.id).await?;
    if asker.role.is_staff() || asker.org.is_none() {
        return Err(ApiError::Conflict {
            code: "asked_by_staff",
            message: "a question asked by staff has no customer to file a case for".into(),
        });
    }
    let url = format!("{}/community/questions/{}", state.public_url, question.id);
    let (subject, description) =
        community::case_from_question(&question.title, &question.body, &url);
    // The question records the case in the case's own transaction: two staff turning it into
    // a case at once make one case, and the other is told.
    let case = crate::cases::service::create_case_from(
        state,
        &asker,
        crate::cases::service::CaseSubmission {
            subject,
            description,
            channel: Some(Channel::Community),
            tags: vec!["community".into()],
            ..Default::default()
        },
        CaseOrigin {
            community_question: Some(question.id),
            ..CaseOrigin::default()
        },
    )
    .await
    .map_err(|e| match e {
        ApiError::Conflict {
            code: "conflict",
            message,
        } => ApiError::Conflict {
            code: "already_a_case",
            message,
        },
        other => other,
    })?;
    Ok(case)
}

/// The question a case was made from, for staff: (question id, title). Customers and partner
/// technicians get `None` (the case's description carries the address for everyone).
pub async fn question_of_case(
    state: &AppState,
    caller: &User,
    case: backline_domain::CaseId,
) -> ApiResult<Option<(i64, String)>> {
    if !caller.role.is_staff() {
        return Ok(None);
    }
    Ok(state.store.community_question_of_case(case).await?)
}

/// A post waiting for review, with the question it belongs to (its title), for the queue.
#[derive(Debug, Clone)]
pub struct HeldPost {
    pub post: Post,
    /// Answers and comments: their question's id and title.
    pub question: Option<(i64, String)>,
    pub space: String,
}

impl HeldPost {
    /// The question the post is or belongs to: its id and title.
    pub fn thread(&self) -> (i64, &str) {
        match &self.question {
            Some((id, title)) => (*id, title.as_str()),
            None => (
                self.post.question_id.unwrap_or(self.post.id),
                self.post.title.as_str(),
            ),
        }
    }
}

/// Held posts shown in the queue, at most (oldest first: the longest waiting).
pub const HELD_PER_PAGE: usize = 200;

/// The moderation queue: posts held for review, oldest first. Staff only.
pub async fn held_posts(state: &AppState, caller: &User) -> ApiResult<Vec<HeldPost>> {
    staff_only(caller, "the moderation queue")?;
    let now = Timestamp::now();
    let held = state.store.community_held_posts(HELD_PER_PAGE, now).await?;
    let mut question_ids: Vec<i64> = held.iter().filter_map(|p| p.question_id).collect();
    question_ids.sort_unstable();
    question_ids.dedup();
    let questions = state
        .store
        .community_posts_by_ids(&question_ids, now)
        .await?;
    let spaces = state.store.community_spaces().await?;
    Ok(held
        .into_iter()
        .map(|post| HeldPost {
            question: post.question_id.and_then(|id| {
                questions
                    .iter()
                    .find(|q| q.id == id)
                    .map(|q| (q.id, q.title.clone()))
            }),
            space: spaces
                .iter()
                .find(|s| s.id == post.space_id)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            post,
        })
        .collect())
}

/// Likely answers to a question being typed, from the known-issue matcher: articles, and
/// answered questions of the spaces the reader reads (those with an accepted answer first).
#[derive(Debug, Clone, Default)]
pub struct Likely {
    pub articles: Vec<Suggestion>,
    /// As they stand now (read again after the index found them).
    pub questions: Vec<Post>,
    /// False while this node's index is still catching up after a start: some answers may be
    /// missing.
    pub complete: bool,
}

/// Likely answers shown, at most, of each kind.
pub const LIKELY: usize = 5;
/// Longest text looked at.
const LIKELY_CHARS: usize = 500;

/// Likely answers for `text` (a question's title, perhaps more), for this reader: anyone, signed
/// in or not, finds only what they may read (articles by the article rules, questions by their
/// spaces). The matcher ranks both; the best `LIKELY` questions are shown with those that have
/// an accepted answer first, each group in the matcher's order.
pub async fn likely(state: &AppState, viewer: &Viewer, text: &str) -> ApiResult<Likely> {
    let text: String = text.chars().take(LIKELY_CHARS).collect();
    if backline_search::analysis::words(&text).is_empty()
        && backline_search::analysis::codes(&text).is_empty()
    {
        return Ok(Likely {
            complete: true,
            ..Likely::default()
        });
    }
    let scope = question_scope(state, viewer).await?;
    let visibility = match &viewer.user {
        Some(user) => Visibility::for_actor(&user.actor()),
        None => Visibility::anonymous(QuestionScope::Nothing),
    }
    .with_questions(scope.clone());
    let search = state.search().clone();
    let complete = search.is_ready();
    let input = MatchInput {
        title: text,
        body: String::new(),
        created_at_ms: state.clock.now().as_millis(),
        versions: Vec::new(),
        exclude: None,
        among: Among::Articles,
    };
    // Articles and questions are two lookups: side by side, on two blocking threads.
    let weights = search.weights();
    let lookup = |among: Among| {
        let (search, visibility) = (search.clone(), visibility.clone());
        let input = MatchInput {
            among,
            ..input.clone()
        };
        tokio::task::spawn_blocking(move || {
            search.index.suggest(&input, &visibility, &weights, LIKELY)
        })
    };
    let (articles, questions) = tokio::join!(lookup(Among::Articles), lookup(Among::Questions));
    let joined =
        |r: Result<_, tokio::task::JoinError>| r.map_err(|e| ApiError::Internal(e.to_string()));
    let (articles, questions) = (joined(articles)??, joined(questions)??);
    // The index decides what matched, the database what each question is now: one taken down
    // (or whose only answer was) a moment ago is not shown while the index catches up.
    let ranked: Vec<i64> = questions.iter().map(|q| q.id).collect();
    let mut found: Vec<Post> = state
        .store
        .community_posts_by_ids(&ranked, Timestamp::now())
        .await?
        .into_iter()
        .filter(|p| {
            p.kind == PostKind::Question
                && community::findable(p.state, p.merged_into.is_some())
                && scope.admits(p.space_id)
                && p.answers > 0
        })
        .collect();
    found.sort_by_key(|p| {
        (
            p.accepted_answer_id.is_none(),
            ranked.iter().position(|id| *id == p.id),
        )
    });
    Ok(Likely {
        articles,
        questions: found,
        complete,
    })
}
