//! Conversations by email: received mail, attachments, who is copied on or follows a case,
//! what people turned off, addresses that bounced, the notifier's place in the case events,
//! mailboxes to poll. The channel's two settings (token secret, unknown-sender policy) are
//! ordinary `settings` rows named `mail:...`.

mod attachments;
mod inbound;
mod mailboxes;
mod notifier;

pub(crate) use attachments::{attach_in, AttachTo};
pub use attachments::{AttachmentRecord, BlobFuture, BlobStore, NewAttachment};
pub(crate) use inbound::mark_placed;
pub use inbound::{InboundSummary, Outcome, ReceivedMail};
pub use mailboxes::Mailbox;
pub use notifier::{CaseMail, NotifierEvent};

use crate::rows::stored;
use crate::{Result, Store, StoreError};
use backline_domain::mail::NotificationKind;
use backline_domain::{CaseId, OrgId, Timestamp, UserId};
use sqlx::{Any, Transaction};

/// Inside a case's transaction: remembers addresses copied on its mail.
pub(crate) async fn add_cc_in(
    tx: &mut Transaction<'_, Any>,
    case: CaseId,
    emails: &[String],
) -> Result<()> {
    for email in emails {
        sqlx::query("INSERT INTO case_cc (case_id, email) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(case)
            .bind(email)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// Replaces the mail domains an organisation owns. A domain another organisation owns is
    /// refused, naming it.
    pub async fn set_org_domains(&self, org: OrgId, domains: &[String]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM org_domains WHERE org_id = $1")
            .bind(org)
            .execute(&mut *tx)
            .await?;
        for domain in domains {
            sqlx::query("INSERT INTO org_domains (domain, org_id) VALUES ($1, $2)")
                .bind(domain)
                .bind(org)
                .execute(&mut *tx)
                .await
                .map_err(|e| match &e {
                    sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(
                        format!("{domain} already belongs to another organisation"),
                    ),
                    _ => StoreError::Database(e),
                })?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn org_domains(&self, org: OrgId) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT domain FROM org_domains WHERE org_id = $1 ORDER BY domain")
                .bind(org)
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// The organisation that owns a mail domain, if one does.
    pub async fn org_for_domain(&self, domain: &str) -> Result<Option<OrgId>> {
        Ok(
            sqlx::query_scalar("SELECT org_id FROM org_domains WHERE domain = $1")
                .bind(domain.to_lowercase())
                .fetch_optional(&self.read)
                .await?,
        )
    }

    /// Addresses copied on the case's mail.
    pub async fn case_cc(&self, case: CaseId) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT email FROM case_cc WHERE case_id = $1 ORDER BY email")
                .bind(case)
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// Adds or removes a follower of an organisation's cases.
    pub async fn set_following(&self, org: OrgId, user: UserId, follow: bool) -> Result<()> {
        let sql = if follow {
            "INSERT INTO org_followers (org_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM org_followers WHERE org_id = $1 AND user_id = $2"
        };
        sqlx::query(sql)
            .bind(org)
            .bind(user)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn followers(&self, org: OrgId) -> Result<Vec<UserId>> {
        Ok(sqlx::query_scalar(
            "SELECT user_id FROM org_followers WHERE org_id = $1 ORDER BY user_id",
        )
        .bind(org)
        .fetch_all(&self.read)
        .await?)
    }

    /// What the user turned off.
    pub async fn optouts(&self, user: UserId) -> Result<Vec<NotificationKind>> {
        let kinds: Vec<String> = sqlx::query_scalar(
            "SELECT kind FROM notification_optouts WHERE user_id = $1 ORDER BY kind",
        )
        .bind(user)
        .fetch_all(&self.read)
        .await?;
        kinds
            .iter()
            .map(|kind| stored(NotificationKind::parse, kind))
            .collect()
    }

    /// Replaces what the user turned off.
    pub async fn set_optouts(&self, user: UserId, kinds: &[NotificationKind]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM notification_optouts WHERE user_id = $1")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        for kind in kinds {
            sqlx::query("INSERT INTO notification_optouts (user_id, kind) VALUES ($1, $2)")
                .bind(user)
                .bind(kind.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records that mail to `email` bounced: no more goes there until they write again.
    pub async fn record_bounce(&self, email: &str, reason: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO mail_bounces (email, reason, bounced_at) VALUES ($1, $2, $3) \
             ON CONFLICT (email) DO UPDATE SET reason = excluded.reason, bounced_at = excluded.bounced_at",
        )
        .bind(email.to_lowercase())
        .bind(reason)
        .bind(Timestamp::now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// A person who writes in again is reachable again.
    pub async fn clear_bounce(&self, email: &str) -> Result<()> {
        sqlx::query("DELETE FROM mail_bounces WHERE email = $1")
            .bind(email.to_lowercase())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The bounce recorded for an address, if any: (reason, when).
    pub async fn bounce(&self, email: &str) -> Result<Option<(String, Timestamp)>> {
        Ok(
            sqlx::query_as("SELECT reason, bounced_at FROM mail_bounces WHERE email = $1")
                .bind(email.to_lowercase())
                .fetch_optional(&self.read)
                .await?,
        )
    }
}
