//! The community's data: spaces, posts (questions, answers and comments in one table), votes
//! and followers. Mail to followers is written to the outbox in the transaction of the post
//! (or the approval) that causes it. Every write that changes what the search index holds of
//! a question (the question, its answers, its state, its accepted answer, a merge, a lock)
//! announces the question as changed, like cases and articles (`changes.rs`).

use crate::changes::{announce_in, Change};
use crate::crisis::outbox::{insert_mails, Mail};
use crate::rows::{stored, Flag};
use crate::sql::{Arg, Sql};
use crate::{Result, Store, StoreError};
use backline_domain::community::{
    check_merge, MergeFacts, PostKind, PostState, SpaceAccess, SpaceVisibility,
};
use backline_domain::{ArticleId, CaseId, PartnerKinds, Role, Timestamp, UserId};
use sqlx::{Any, Transaction};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub access: SpaceAccess,
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct SpaceRow {
    id: i64,
    name: String,
    slug: String,
    description: String,
    visibility: String,
    partner_kinds: String,
    #[sqlx(try_from = "Flag")]
    certified_only: bool,
    created_at: Timestamp,
}

impl TryFrom<SpaceRow> for Space {
    type Error = StoreError;

    fn try_from(r: SpaceRow) -> Result<Space> {
        Ok(Space {
            id: r.id,
            name: r.name,
            slug: r.slug,
            description: r.description,
            access: SpaceAccess {
                visibility: stored(SpaceVisibility::parse, &r.visibility)?,
                partner_kinds: stored(PartnerKinds::parse_list, &r.partner_kinds)?,
                certified_only: r.certified_only,
            },
            created_at: r.created_at,
        })
    }
}

/// A space as created.
#[derive(Debug, Clone)]
pub struct NewSpace {
    pub name: String,
    pub slug: String,
    pub description: String,
    pub access: SpaceAccess,
}

/// Who wrote a post, as shown beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostAuthor {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    /// The author's organisation's name (customers and partner technicians).
    pub org_name: Option<String>,
    /// Holds a certificate that had not expired when the post was read.
    pub certified: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: i64,
    pub kind: PostKind,
    pub space_id: i64,
    /// An answer's or comment's question.
    pub question_id: Option<i64>,
    /// The post a comment is on.
    pub parent_id: Option<i64>,
    pub author: PostAuthor,
    /// Questions only.
    pub title: String,
    pub body: String,
    pub state: PostState,
    pub locked: bool,
    pub accepted_answer_id: Option<i64>,
    pub merged_into: Option<i64>,
    pub case_id: Option<CaseId>,
    pub article_id: Option<ArticleId>,
    /// Up votes minus down votes.
    pub score: i64,
    /// Questions: published answers.
    pub answers: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct PostRow {
    id: i64,
    kind: String,
    space_id: i64,
    question_id: Option<i64>,
    parent_id: Option<i64>,
    author_id: UserId,
    author_name: String,
    author_role: String,
    author_org: Option<String>,
    #[sqlx(try_from = "Flag")]
    certified: bool,
    title: String,
    body: String,
    state: String,
    #[sqlx(try_from = "Flag")]
    locked: bool,
    accepted_answer_id: Option<i64>,
    merged_into: Option<i64>,
    case_id: Option<CaseId>,
    article_id: Option<ArticleId>,
    score: i64,
    answers: i64,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl TryFrom<PostRow> for Post {
    type Error = StoreError;

    fn try_from(r: PostRow) -> Result<Post> {
        Ok(Post {
            id: r.id,
            kind: stored(PostKind::parse, &r.kind)?,
            space_id: r.space_id,
            question_id: r.question_id,
            parent_id: r.parent_id,
            author: PostAuthor {
                id: r.author_id,
                name: r.author_name,
                role: stored(Role::parse, &r.author_role)?,
                org_name: r.author_org,
                certified: r.certified,
            },
            title: r.title,
            body: r.body,
            state: stored(PostState::parse, &r.state)?,
            locked: r.locked,
            accepted_answer_id: r.accepted_answer_id,
            merged_into: r.merged_into,
            case_id: r.case_id,
            article_id: r.article_id,
            score: r.score,
            answers: r.answers,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A post as written.
#[derive(Debug, Clone)]
pub struct NewPost {
    pub kind: PostKind,
    pub space_id: i64,
    pub question_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub author: UserId,
    pub title: String,
    pub body: String,
    pub state: PostState,
    pub at: Timestamp,
}

/// The email followers of a question get (one each, to their address).
#[derive(Debug, Clone)]
pub struct Notice {
    pub subject: String,
    pub body: String,
}

/// Which questions of a space a list holds.
#[derive(Debug, Clone, Default)]
pub struct QuestionFilter {
    /// Staff see every question, taken down or held.
    pub staff: bool,
    /// The reader, whose own held questions are listed too.
    pub viewer: Option<UserId>,
    pub limit: usize,
}

/// A question as the search index reads it: its text, where it stands, and the text of its
/// published answers (the accepted one first, then oldest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionForIndex {
    pub id: i64,
    pub space_id: i64,
    pub title: String,
    pub body: String,
    pub state: PostState,
    pub merged_into: Option<i64>,
    pub answers: Vec<String>,
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct QuestionForIndexRow {
    id: i64,
    space_id: i64,
    title: String,
    body: String,
    state: String,
    merged_into: Option<i64>,
    accepted_answer_id: Option<i64>,
    created_at: Timestamp,
}

/// Ids bound per `IN (...)` list, well under either backend's limit on parameters.
const IN_CHUNK: usize = 500;

/// The columns of a post with its author, score and answer count, in two halves around the
/// placeholder for "now" (whether the author's certificates are still valid).
const POST_HEAD: &str = "SELECT p.id, p.kind, p.space_id, p.question_id, p.parent_id, \
     p.author_id, u.name AS author_name, u.role AS author_role, o.name AS author_org, \
     CAST(CASE WHEN EXISTS (SELECT 1 FROM certificates ce WHERE ce.user_id = p.author_id \
     AND ce.expires_at > ";
const POST_TAIL: &str = ") THEN 1 ELSE 0 END AS BIGINT) AS certified, \
     p.title, p.body, p.state, p.locked, p.accepted_answer_id, p.merged_into, p.case_id, \
     p.article_id, \
     CAST(COALESCE((SELECT SUM(v.value) FROM community_votes v WHERE v.post_id = p.id), 0) \
     AS BIGINT) AS score, \
     (SELECT COUNT(*) FROM community_posts a WHERE a.question_id = p.id AND a.kind = 'answer' \
     AND a.state = 'published') AS answers, \
     p.created_at, p.updated_at \
     FROM community_posts p JOIN users u ON u.id = p.author_id \
     LEFT JOIN organizations o ON o.id = u.org_id";

/// The post columns with "now" as `$1`.
fn post_columns() -> String {
    format!("{POST_HEAD}$1{POST_TAIL}")
}

const SPACE_COLUMNS: &str = "SELECT id, name, slug, description, visibility, partner_kinds, \
     certified_only, created_at FROM community_spaces";

/// Writes `notice` to every follower of `question` but `except` (the post's author), in the
/// caller's transaction. Made-up addresses (social contacts) get nothing.
async fn notify_followers(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    question: i64,
    except: UserId,
    notice: &Notice,
    at: Timestamp,
) -> Result<()> {
    let emails: Vec<String> = sqlx::query_scalar(
        "SELECT u.email FROM community_follows f JOIN users u ON u.id = f.user_id \
         WHERE f.question_id = $1 AND f.user_id <> $2 AND u.email NOT LIKE '%.invalid' \
         ORDER BY u.id",
    )
    .bind(question)
    .bind(except)
    .fetch_all(&mut **tx)
    .await?;
    let mails: Vec<Mail> = emails
        .into_iter()
        .map(|recipient| Mail {
            recipient,
            subject: notice.subject.clone(),
            body: notice.body.clone(),
            kind: "community".into(),
            unsubscribe: None,
        })
        .collect();
    insert_mails(tx, &mails, None, at).await
}

impl Store {
    pub async fn create_community_space(&self, space: &NewSpace) -> Result<Space> {
        let now = Timestamp::now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO community_spaces (name, slug, description, visibility, partner_kinds, \
             certified_only, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&space.name)
        .bind(&space.slug)
        .bind(&space.description)
        .bind(space.access.visibility.as_str())
        .bind(space.access.partner_kinds.to_list())
        .bind(i64::from(space.access.certified_only))
        .bind(now)
        .fetch_one(&self.write)
        .await
        .map_err(StoreError::unique("a space with this slug already exists"))?;
        Ok(Space {
            id,
            name: space.name.clone(),
            slug: space.slug.clone(),
            description: space.description.clone(),
            access: space.access.clone(),
            created_at: now,
        })
    }

    /// Every space, oldest first.
    pub async fn community_spaces(&self) -> Result<Vec<Space>> {
        let rows: Vec<SpaceRow> = sqlx::query_as(&format!("{SPACE_COLUMNS} ORDER BY id"))
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub async fn community_space_by_slug(&self, slug: &str) -> Result<Space> {
        let row: SpaceRow = sqlx::query_as(&format!("{SPACE_COLUMNS} WHERE slug = $1"))
            .bind(slug)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    pub async fn community_space(&self, id: i64) -> Result<Space> {
        let row: SpaceRow = sqlx::query_as(&format!("{SPACE_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// An author's record for the held rule: (approved posts, posts marked as spam).
    pub async fn community_author_record(&self, user: UserId) -> Result<(i64, i64)> {
        Ok(sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN state = 'published' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN state = 'spam' THEN 1 ELSE 0 END), 0) \
             FROM community_posts WHERE author_id = $1",
        )
        .bind(user)
        .fetch_one(&self.read)
        .await?)
    }

    /// When an author posted at or after `since`, for the rate limit.
    pub async fn community_posts_since(
        &self,
        user: UserId,
        since: Timestamp,
    ) -> Result<Vec<Timestamp>> {
        Ok(sqlx::query_scalar(
            "SELECT created_at FROM community_posts WHERE author_id = $1 AND created_at >= $2",
        )
        .bind(user)
        .bind(since)
        .fetch_all(&self.read)
        .await?)
    }

    /// Writes a post. A question's author follows it (`follow`); a published answer mails the
    /// question's followers (`notice`), in the same transaction. An answer or comment on a
    /// locked or merged question is refused here too, against the row read in the
    /// transaction, so a lock that lands first wins.
    pub async fn add_community_post(
        &self,
        post: &NewPost,
        follow: bool,
        notice: Option<&Notice>,
    ) -> Result<i64> {
        let mut tx = self.write.begin().await?;
        if let Some(question) = post.question_id {
            let (locked, merged): (i64, Option<i64>) =
                sqlx::query_as("SELECT locked, merged_into FROM community_posts WHERE id = $1")
                    .bind(question)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
            if locked != 0 {
                return Err(StoreError::Conflict(
                    "this question is locked: it takes no new answers or comments".into(),
                ));
            }
            if merged.is_some() {
                return Err(StoreError::Conflict(
                    "this question was merged into another; answer that one".into(),
                ));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO community_posts (kind, space_id, question_id, parent_id, author_id, \
             title, body, state, locked, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $9) RETURNING id",
        )
        .bind(post.kind.as_str())
        .bind(post.space_id)
        .bind(post.question_id)
        .bind(post.parent_id)
        .bind(post.author)
        .bind(&post.title)
        .bind(&post.body)
        .bind(post.state.as_str())
        .bind(post.at)
        .fetch_one(&mut *tx)
        .await?;
        if follow {
            sqlx::query(
                "INSERT INTO community_follows (question_id, user_id, created_at) \
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(post.author)
            .bind(post.at)
            .execute(&mut *tx)
            .await?;
        }
        if let (Some(question), Some(notice)) = (post.question_id, notice) {
            // The mail is due now on the sender's clock, whatever moment the post carries.
            notify_followers(&mut tx, question, post.author, notice, Timestamp::now()).await?;
        }
        if post.kind == PostKind::Question && post.state == PostState::Published {
            announce_question(&mut tx, id, post.at).await?;
        }
        // Comments are not in the index: only questions and their answers are.
        let changed = (post.kind != PostKind::Comment)
            .then(|| Change::Question(post.question_id.unwrap_or(id)));
        if let Some(change) = changed {
            announce_in(&mut tx, self.backend, change).await?;
        }
        tx.commit().await?;
        self.announce(changed.as_slice());
        Ok(id)
    }

    pub async fn community_post(&self, id: i64, now: Timestamp) -> Result<Post> {
        let row: PostRow = sqlx::query_as(&format!("{} WHERE p.id = $2", post_columns()))
            .bind(now)
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// A question's answers and comments (every state: the service filters), oldest first.
    pub async fn community_thread(&self, question: i64, now: Timestamp) -> Result<Vec<Post>> {
        let rows: Vec<PostRow> = sqlx::query_as(&format!(
            "{} WHERE p.question_id = $2 ORDER BY p.id",
            post_columns()
        ))
        .bind(now)
        .bind(question)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Questions of these spaces (not merged away) a reader sees, newest first.
    pub async fn community_questions(
        &self,
        spaces: &[i64],
        filter: &QuestionFilter,
        now: Timestamp,
    ) -> Result<Vec<Post>> {
        if spaces.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(POST_HEAD);
        sql.bind(Arg::Int(now.as_millis()))
            .push(POST_TAIL)
            .push(" WHERE p.kind = 'question' AND p.merged_into IS NULL");
        sql.push_in("p.space_id", spaces.iter().map(|s| Arg::Int(*s)));
        if !filter.staff {
            match filter.viewer {
                Some(viewer) => {
                    sql.push(" AND (p.state = 'published' OR (p.state = 'held' AND p.author_id = ")
                        .bind(Arg::Int(viewer.0))
                        .push("))");
                }
                None => {
                    sql.push(" AND p.state = 'published'");
                }
            }
        }
        sql.push(" ORDER BY p.created_at DESC, p.id DESC LIMIT ")
            .bind(Arg::Int(
                i64::try_from(filter.limit.max(1)).unwrap_or(i64::MAX),
            ));
        let rows: Vec<PostRow> = sql.query_as().fetch_all(&self.read).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Records a person's vote on a post (1 or -1; 0 takes it back) and answers the post's
    /// score. One vote per person and post: a new one replaces the old.
    pub async fn set_community_vote(&self, post: i64, user: UserId, value: i64) -> Result<i64> {
        let mut tx = self.write.begin().await?;
        if value == 0 {
            sqlx::query("DELETE FROM community_votes WHERE post_id = $1 AND user_id = $2")
                .bind(post)
                .bind(user)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO community_votes (post_id, user_id, value, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (post_id, user_id) DO UPDATE SET \
                 value = excluded.value, created_at = excluded.created_at",
            )
            .bind(post)
            .bind(user)
            .bind(value)
            .bind(Timestamp::now())
            .execute(&mut *tx)
            .await?;
        }
        let score: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM community_votes WHERE post_id = $1",
        )
        .bind(post)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(score)
    }

    /// A person's own votes on the posts of a thread: (post, value).
    pub async fn community_votes_of(&self, user: UserId, question: i64) -> Result<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT v.post_id, v.value FROM community_votes v JOIN community_posts p \
             ON p.id = v.post_id WHERE v.user_id = $1 AND (p.id = $2 OR p.question_id = $2)",
        )
        .bind(user)
        .bind(question)
        .fetch_all(&self.read)
        .await?)
    }

    pub async fn set_community_accepted(&self, question: i64, answer: Option<i64>) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "UPDATE community_posts SET accepted_answer_id = $2, updated_at = $3 WHERE id = $1",
        )
        .bind(question)
        .bind(answer)
        .bind(Timestamp::now())
        .execute(&mut *tx)
        .await?;
        // The accepted answer leads the question's text in the index.
        announce_in(&mut tx, self.backend, Change::Question(question)).await?;
        tx.commit().await?;
        self.announce(&[Change::Question(question)]);
        Ok(())
    }

    pub async fn set_community_following(
        &self,
        question: i64,
        user: UserId,
        following: bool,
    ) -> Result<()> {
        if following {
            sqlx::query(
                "INSERT INTO community_follows (question_id, user_id, created_at) \
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(question)
            .bind(user)
            .bind(Timestamp::now())
            .execute(&self.write)
            .await?;
        } else {
            sqlx::query("DELETE FROM community_follows WHERE question_id = $1 AND user_id = $2")
                .bind(question)
                .bind(user)
                .execute(&self.write)
                .await?;
        }
        Ok(())
    }

    pub async fn community_following(&self, question: i64, user: UserId) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT question_id FROM community_follows WHERE question_id = $1 AND user_id = $2",
        )
        .bind(question)
        .bind(user)
        .fetch_optional(&self.read)
        .await?;
        Ok(found.is_some())
    }

    /// Moves a post from `from` to `to` (compare-and-set: `false` when it was no longer in
    /// `from`). With a notice (an answer being approved), the question's followers are mailed
    /// in the same transaction.
    pub async fn set_community_post_state(
        &self,
        post: i64,
        from: PostState,
        to: PostState,
        notice: Option<(i64, UserId, &Notice)>,
    ) -> Result<bool> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        let moved = sqlx::query(
            "UPDATE community_posts SET state = $3, updated_at = $4 WHERE id = $1 AND state = $2",
        )
        .bind(post)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let mut changed = None;
        if moved {
            if let Some((question, author, notice)) = notice {
                notify_followers(&mut tx, question, author, notice, now).await?;
            }
            let (kind, question): (String, Option<i64>) =
                sqlx::query_as("SELECT kind, question_id FROM community_posts WHERE id = $1")
                    .bind(post)
                    .fetch_one(&mut *tx)
                    .await?;
            let kind = stored(PostKind::parse, &kind)?;
            // A question approved (or put back) is announced as if just asked; one taken down
            // is not, and one moved back and forth is announced each time it is published.
            if to == PostState::Published && from == PostState::Held && kind == PostKind::Question {
                announce_question(&mut tx, post, now).await?;
            }
            // A question enters or leaves the index; an answer's words join or leave its
            // question's.
            if kind != PostKind::Comment {
                let change = Change::Question(question.unwrap_or(post));
                announce_in(&mut tx, self.backend, change).await?;
                changed = Some(change);
            }
        }
        tx.commit().await?;
        self.announce(changed.as_slice());
        Ok(moved)
    }

    pub async fn set_community_locked(&self, question: i64, locked: bool) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("UPDATE community_posts SET locked = $2, updated_at = $3 WHERE id = $1")
            .bind(question)
            .bind(i64::from(locked))
            .bind(Timestamp::now())
            .execute(&mut *tx)
            .await?;
        // A locked question stays findable (its answers still answer); announced all the
        // same, so the index reads every change a question has.
        announce_in(&mut tx, self.backend, Change::Question(question)).await?;
        tx.commit().await?;
        self.announce(&[Change::Question(question)]);
        Ok(())
    }

    /// Merges a duplicate question into another: its answers and comments (and the comments
    /// on the question itself) move, its followers follow the other too, and it keeps
    /// `merged_into` so its address leads on. The rule is checked on the rows read inside the
    /// transaction.
    pub async fn merge_community_questions(&self, duplicate: i64, target: i64) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let mut facts = Vec::new();
        for id in [duplicate, target] {
            let (space_id, merged): (i64, Option<i64>) = sqlx::query_as(
                "SELECT space_id, merged_into FROM community_posts \
                 WHERE id = $1 AND kind = 'question'",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
            facts.push(MergeFacts {
                id,
                space_id,
                merged: merged.is_some(),
            });
        }
        check_merge(facts[0], facts[1]).map_err(|e| StoreError::Conflict(e.to_string()))?;
        let now = Timestamp::now();
        sqlx::query(
            "UPDATE community_posts SET question_id = $2, updated_at = $3 WHERE question_id = $1",
        )
        .bind(duplicate)
        .bind(target)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE community_posts SET parent_id = $2 WHERE parent_id = $1")
            .bind(duplicate)
            .bind(target)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO community_follows (question_id, user_id, created_at) \
             SELECT $2, user_id, created_at FROM community_follows WHERE question_id = $1 \
             ON CONFLICT DO NOTHING",
        )
        .bind(duplicate)
        .bind(target)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE community_posts SET merged_into = $2, accepted_answer_id = NULL, \
             updated_at = $3 WHERE id = $1",
        )
        .bind(duplicate)
        .bind(target)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE community_posts SET updated_at = $2 WHERE id = $1")
            .bind(target)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        // The duplicate leaves the index; its answers' words join the target's.
        let changes = [Change::Question(duplicate), Change::Question(target)];
        for change in changes {
            announce_in(&mut tx, self.backend, change).await?;
        }
        tx.commit().await?;
        self.announce(&changes);
        Ok(())
    }

    /// Records the article an answer of this question became.
    pub async fn link_community_article(&self, question: i64, article: ArticleId) -> Result<()> {
        sqlx::query("UPDATE community_posts SET article_id = $2, updated_at = $3 WHERE id = $1")
            .bind(question)
            .bind(article)
            .bind(Timestamp::now())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// These questions as the search index reads them, in any state (the indexer decides what
    /// can be found); ids that are not questions are left out.
    pub async fn community_questions_for_index(
        &self,
        ids: &[i64],
    ) -> Result<Vec<QuestionForIndex>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IN_CHUNK) {
            let mut sql = Sql::new(
                "SELECT id, space_id, title, body, state, merged_into, accepted_answer_id, \
                 created_at FROM community_posts WHERE kind = 'question'",
            );
            sql.push_in("id", chunk.iter().map(|id| Arg::Int(*id)));
            let rows: Vec<QuestionForIndexRow> = sql.query_as().fetch_all(&self.read).await?;
            if rows.is_empty() {
                continue;
            }
            let mut sql = Sql::new(
                "SELECT question_id, id, body FROM community_posts \
                 WHERE kind = 'answer' AND state = 'published'",
            );
            sql.push_in("question_id", rows.iter().map(|r| Arg::Int(r.id)))
                .push(" ORDER BY question_id, id");
            let answers: Vec<(i64, i64, String)> = sql.query_as().fetch_all(&self.read).await?;
            for row in rows {
                let mut mine: Vec<&(i64, i64, String)> =
                    answers.iter().filter(|(q, _, _)| *q == row.id).collect();
                // The accepted answer first: it is the answer people were looking for.
                mine.sort_by_key(|(_, id, _)| (Some(*id) != row.accepted_answer_id, *id));
                out.push(QuestionForIndex {
                    id: row.id,
                    space_id: row.space_id,
                    title: row.title,
                    body: row.body,
                    state: stored(PostState::parse, &row.state)?,
                    merged_into: row.merged_into,
                    answers: mine.into_iter().map(|(_, _, body)| body.clone()).collect(),
                    created_at: row.created_at,
                });
            }
        }
        Ok(out)
    }

    /// Ids of questions (any state) after `after`, in order, at most `limit`: for rebuilding
    /// the index.
    pub async fn community_question_ids_after(&self, after: i64, limit: usize) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM community_posts WHERE kind = 'question' AND id > $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.read)
        .await?)
    }

    /// These posts as they stand (any kind and state: callers apply the rules), in no
    /// particular order; missing ids are left out.
    pub async fn community_posts_by_ids(&self, ids: &[i64], now: Timestamp) -> Result<Vec<Post>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IN_CHUNK) {
            let mut sql = Sql::new(POST_HEAD);
            sql.bind(Arg::Int(now.as_millis()))
                .push(POST_TAIL)
                .push(" WHERE 1 = 1")
                .push_in("p.id", chunk.iter().map(|id| Arg::Int(*id)));
            let rows: Vec<PostRow> = sql.query_as().fetch_all(&self.read).await?;
            for row in rows {
                out.push(row.try_into()?);
            }
        }
        Ok(out)
    }

    /// Posts waiting for review (questions, answers and comments), oldest first, at most
    /// `limit`.
    pub async fn community_held_posts(&self, limit: usize, now: Timestamp) -> Result<Vec<Post>> {
        let rows: Vec<PostRow> = sqlx::query_as(&format!(
            "{} WHERE p.state = 'held' ORDER BY p.created_at, p.id LIMIT $2",
            post_columns()
        ))
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// The question a case was made from, if any: (question id, its title).
    pub async fn community_question_of_case(&self, case: CaseId) -> Result<Option<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, title FROM community_posts \
             WHERE case_id = $1 AND kind = 'question' ORDER BY id LIMIT 1",
        )
        .bind(case)
        .fetch_optional(&self.read)
        .await?)
    }
}

/// Tells webhooks a question is out for everyone its space admits, inside the transaction
/// that published it: a held question is announced when staff approve it, never before.
async fn announce_question(
    tx: &mut Transaction<'_, Any>,
    question: i64,
    at: Timestamp,
) -> Result<()> {
    let (title, space, visibility): (String, String, String) = sqlx::query_as(
        "SELECT p.title, s.slug, s.visibility FROM community_posts p \
         JOIN community_spaces s ON s.id = p.space_id WHERE p.id = $1",
    )
    .bind(question)
    .fetch_one(&mut **tx)
    .await?;
    let announcement = crate::webhooks::Announcement {
        event: backline_domain::webhooks::WebhookEvent::CommunityQuestionAsked,
        subject_id: question,
        data: serde_json::json!({
            "question_id": question,
            "title": title,
            "space": space,
            "space_visibility": visibility,
            "path": format!("/community/questions/{question}"),
            "asked_at": at.to_rfc3339(),
        }),
    };
    crate::webhooks::announce(tx, &announcement, at).await
}
