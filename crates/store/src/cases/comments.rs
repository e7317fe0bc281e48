//! Replies and internal notes, and the status change a comment brings about.

use super::record_event;
use crate::changes::announce_in;
use crate::rows::{convert, stored, Flag, UserCols};
use crate::{Change, Comment, Result, Store, StoreError};
use backline_domain::{CaseId, CaseStatus, Channel, CommentId, Role, Timestamp, UserId};
use serde_json::json;

/// A reply or internal note to add.
#[derive(Debug, Clone)]
pub struct NewComment {
    pub case: CaseId,
    pub author: UserId,
    pub body: String,
    pub public: bool,
    /// A status change the comment brings about (from, to), written in the same transaction.
    pub status_after: Option<(CaseStatus, CaseStatus)>,
    /// Field changes sent with the comment (a macro, "reply and solve"), applied in the same
    /// transaction; their status wins over `status_after`.
    pub then: super::CaseChanges,
    /// `None` for now; importers set it.
    pub at: Option<Timestamp>,
}

/// How a comment came, and what came with it.
#[derive(Debug, Clone, Default)]
pub struct CommentOrigin {
    /// `None`: the web.
    pub channel: Option<Channel>,
    /// The received message it came in.
    pub mail_id: Option<i64>,
    /// Files whose content is already stored.
    pub files: Vec<crate::mail::NewAttachment>,
    /// The author's own earlier uploads to this case, now referenced by the comment.
    pub uploads: Vec<i64>,
    /// When it was written, if not now (mail: when the message arrived).
    pub at: Option<Timestamp>,
}

pub(super) const COMMENT_COLUMNS: &str =
    "m.id, m.case_id, m.body, m.public, m.created_at, m.channel, m.mail_id, \
     u.id AS u_id, u.name AS u_name, u.email AS u_email, u.role AS u_role \
     FROM comments m JOIN users u ON u.id = m.author_id";

/// A row of `COMMENT_COLUMNS`.
#[derive(sqlx::FromRow)]
pub(super) struct CommentRow {
    id: CommentId,
    case_id: CaseId,
    body: String,
    #[sqlx(try_from = "Flag")]
    public: bool,
    created_at: Timestamp,
    channel: String,
    mail_id: Option<i64>,
    #[sqlx(flatten)]
    author: UserCols,
    u_role: String,
}

impl TryFrom<CommentRow> for Comment {
    type Error = StoreError;

    fn try_from(r: CommentRow) -> Result<Comment> {
        Ok(Comment {
            id: r.id,
            case_id: r.case_id,
            author: r.author.into(),
            author_role: stored(Role::parse, &r.u_role)?,
            body: r.body,
            public: r.public,
            channel: stored(Channel::parse, &r.channel)?,
            mail_id: r.mail_id,
            created_at: r.created_at,
        })
    }
}

impl Store {
    /// Adds a reply or internal note, and the status change it brings, in one transaction.
    pub async fn add_comment(&self, comment: &NewComment) -> Result<Comment> {
        self.add_comment_with(comment, &CommentOrigin::default())
            .await
    }

    /// Adds a comment with what came with it, all in one transaction: its files, the
    /// uploads it references, and the received message it came in (which is marked placed;
    /// if another node placed it first, nothing is written).
    pub async fn add_comment_with(
        &self,
        comment: &NewComment,
        origin: &CommentOrigin,
    ) -> Result<Comment> {
        let now = origin.at.or(comment.at).unwrap_or_else(Timestamp::now);
        let case = comment.case;
        let author = comment.author;
        let mut tx = self.write.begin().await?;
        // The case as it is now, inside the transaction (locked on PostgreSQL): a comment never
        // lands on a case closed a moment before by someone else.
        let lock = match self.backend {
            crate::Backend::Postgres => " FOR NO KEY UPDATE",
            crate::Backend::Sqlite => "",
        };
        let status: String =
            sqlx::query_scalar(&format!("SELECT status FROM cases WHERE id = $1{lock}"))
                .bind(case)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
        if status == CaseStatus::Closed.as_str() && origin.mail_id.is_none() {
            return Err(StoreError::Conflict(
                "the case is closed; file a new case".into(),
            ));
        }
        let comment_id: CommentId = sqlx::query_scalar(
            "INSERT INTO comments (case_id, author_id, body, public, created_at, channel, mail_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(case)
        .bind(author)
        .bind(&comment.body)
        .bind(i64::from(comment.public))
        .bind(now)
        .bind(origin.channel.unwrap_or(Channel::Web).as_str())
        .bind(origin.mail_id)
        .fetch_one(&mut *tx)
        .await?;
        let to = crate::mail::AttachTo {
            case,
            comment: Some(comment_id),
            uploader: Some(author),
            public: comment.public,
            at: now,
        };
        crate::mail::attach_in(&mut tx, &to, &origin.files, &origin.uploads).await?;
        if let Some(mail) = origin.mail_id {
            crate::mail::mark_placed(&mut tx, mail, case, Some(comment_id), now).await?;
        }
        if comment.public {
            // The first public reply by vendor staff, for the times dashboard.
            sqlx::query(
                "UPDATE cases SET first_reply_at = $2 WHERE id = $1 AND first_reply_at IS NULL \
                 AND EXISTS (SELECT 1 FROM users WHERE id = $3 AND role IN ('admin', 'agent'))",
            )
            .bind(case)
            .bind(now)
            .bind(author)
            .execute(&mut *tx)
            .await?;
        }
        record_event(
            &mut tx,
            case,
            Some(author),
            "comment_added",
            json!({"comment_id": comment_id, "public": comment.public}),
            now,
        )
        .await?;
        let mut changes = comment.then.clone();
        if changes.status.is_none() {
            if let Some((_, to)) = comment.status_after {
                // The move a reply brings about by itself (a customer answering a pending
                // case reopens it) is the rules' own doing, not a change the author asked
                // for; the closed case was refused above.
                changes.status = Some(to);
                changes.rules_for = None;
            }
        }
        if !super::update_in(&mut tx, self.backend, case, &changes, author, now).await? {
            sqlx::query(
                "UPDATE cases SET updated_at = $1, sla_check_at = $1, version = version + 1 \
                 WHERE id = $2",
            )
            .bind(now)
            .bind(case)
            .execute(&mut *tx)
            .await?;
        }
        announce_in(&mut tx, self.backend, Change::Case(case)).await?;
        tx.commit().await?;
        self.announce(&[Change::Case(case)]);
        self.comment(comment_id).await
    }

    /// The case's comments, oldest first; internal notes only when asked for.
    pub async fn comments(&self, case: CaseId, include_internal: bool) -> Result<Vec<Comment>> {
        let filter = if include_internal {
            ""
        } else {
            " AND m.public = $2"
        };
        let text = format!(
            "SELECT {COMMENT_COLUMNS} WHERE m.case_id = $1{filter} ORDER BY m.created_at, m.id"
        );
        let mut query = sqlx::query_as::<_, CommentRow>(&text).bind(case);
        if !include_internal {
            query = query.bind(1_i64);
        }
        convert(query.fetch_all(&self.read).await?)
    }

    /// One comment by id.
    pub async fn comment(&self, id: CommentId) -> Result<Comment> {
        let row: CommentRow = sqlx::query_as(&format!("SELECT {COMMENT_COLUMNS} WHERE m.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }
}
