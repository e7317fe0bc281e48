//! Social mentions: authors kept as contacts, and every mention received with what it did.

use crate::{Result, Store, StoreError};
use backline_domain::{CaseId, CommentId, OrgId, Role, Timestamp, UserId};

/// A social author as a contact: the network, the handle and the user that files for them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SocialContact {
    pub id: i64,
    pub network: String,
    pub handle: String,
    pub user_id: UserId,
}

/// A mention already received (looked up by its address, so a repeat files nothing twice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialMentionRecord {
    pub id: i64,
    pub contact_id: i64,
    pub compliment: bool,
    pub case_id: Option<CaseId>,
    pub comment_id: Option<CommentId>,
}

#[derive(sqlx::FromRow)]
struct MentionRow {
    id: i64,
    contact_id: i64,
    compliment: i64,
    case_id: Option<CaseId>,
    comment_id: Option<CommentId>,
}

/// Mentions received in a period, by what they did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, sqlx::FromRow)]
pub struct SocialCounts {
    pub mentions: i64,
    pub compliments: i64,
    pub cases_filed: i64,
    pub comments_added: i64,
}

impl Store {
    /// The contact for this author, made (with its user in `org`) on first sight. Two
    /// mentions from a new author at once make one contact: the loser of the race reads the
    /// winner's.
    pub async fn social_contact(
        &self,
        network: &str,
        handle: &str,
        email: &str,
        org: OrgId,
    ) -> Result<SocialContact> {
        if let Some(found) = self.find_social_contact(network, handle).await? {
            return Ok(found);
        }
        let user = match self
            .create_user(&crate::NewUser {
                email: email.to_string(),
                name: format!("@{handle} ({network})"),
                role: Role::Customer,
                org: Some(org),
                tier: None,
                password_hash: None,
            })
            .await
        {
            Ok(user) => user,
            Err(StoreError::Conflict(_)) => self.user_by_email(email).await?,
            Err(e) => return Err(e),
        };
        // Another mention from the same new author may have made the contact meanwhile; the
        // row that is there wins and this insert does nothing.
        sqlx::query(
            "INSERT INTO social_contacts (network, handle, user_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (network, handle) DO NOTHING",
        )
        .bind(network)
        .bind(handle)
        .bind(user.id)
        .bind(Timestamp::now())
        .execute(&self.write)
        .await?;
        self.find_social_contact(network, handle)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn social_contact_by_id(&self, id: i64) -> Result<SocialContact> {
        sqlx::query_as("SELECT id, network, handle, user_id FROM social_contacts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn find_social_contact(
        &self,
        network: &str,
        handle: &str,
    ) -> Result<Option<SocialContact>> {
        Ok(sqlx::query_as(
            "SELECT id, network, handle, user_id FROM social_contacts \
             WHERE network = $1 AND handle = $2",
        )
        .bind(network)
        .bind(handle)
        .fetch_optional(&self.write)
        .await?)
    }

    /// The mention with this address, if it was received before.
    pub async fn social_mention_by_url(&self, url: &str) -> Result<Option<SocialMentionRecord>> {
        let row: Option<MentionRow> = sqlx::query_as(
            "SELECT id, contact_id, compliment, case_id, comment_id FROM social_mentions \
             WHERE url = $1",
        )
        .bind(url)
        .fetch_optional(&self.write)
        .await?;
        Ok(row.map(|r| SocialMentionRecord {
            id: r.id,
            contact_id: r.contact_id,
            compliment: r.compliment != 0,
            case_id: r.case_id,
            comment_id: r.comment_id,
        }))
    }

    /// Records a mention and what it did. A mention whose address was recorded meanwhile (the
    /// same post sent twice at once) is refused as a conflict.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_social_mention(
        &self,
        contact: i64,
        url: &str,
        body: &str,
        posted_at: Timestamp,
        compliment: bool,
        case: Option<CaseId>,
        comment: Option<CommentId>,
    ) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO social_mentions (contact_id, url, body, posted_at, compliment, case_id, \
             comment_id, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(contact)
        .bind(url)
        .bind(body)
        .bind(posted_at)
        .bind(i64::from(compliment))
        .bind(case)
        .bind(comment)
        .bind(Timestamp::now())
        .fetch_one(&self.write)
        .await
        .map_err(StoreError::unique("this post was already received"))
    }

    /// The newest case of this requester that is not solved or closed.
    pub async fn open_case_of(&self, requester: UserId) -> Result<Option<CaseId>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM cases WHERE requester_id = $1 \
             AND status NOT IN ('solved', 'closed') ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(requester)
        .fetch_optional(&self.write)
        .await?)
    }

    /// Mentions received in [from, to), by what they did.
    pub async fn social_counts(&self, from: Timestamp, to: Timestamp) -> Result<SocialCounts> {
        Ok(sqlx::query_as(
            "SELECT COUNT(*) AS mentions, \
             COALESCE(SUM(CASE WHEN compliment = 1 THEN 1 ELSE 0 END), 0) AS compliments, \
             COALESCE(SUM(CASE WHEN case_id IS NOT NULL AND comment_id IS NULL THEN 1 ELSE 0 END), 0) AS cases_filed, \
             COALESCE(SUM(CASE WHEN comment_id IS NOT NULL THEN 1 ELSE 0 END), 0) AS comments_added \
             FROM social_mentions WHERE received_at >= $1 AND received_at < $2",
        )
        .bind(from)
        .bind(to)
        .fetch_one(&self.read)
        .await?)
    }
}
