//! Status-page subscriptions per service, confirmed by a link sent by email.

use super::outbox::{insert_mails, Mail};
use crate::{Result, Store};
use backline_domain::{ServiceId, Timestamp};

impl Store {
    /// Confirmed status-page subscriptions: (email, service, unsubscribe token).
    pub async fn confirmed_subscribers(&self) -> Result<Vec<(String, ServiceId, String)>> {
        Ok(sqlx::query_as(
            "SELECT email, service_id, token FROM status_subscriptions WHERE confirmed_at IS NOT NULL",
        )
        .fetch_all(&self.read)
        .await?)
    }

    /// Adds (or renews) unconfirmed subscriptions and their confirmation mail, in one transaction.
    /// `rows` are (service, token); an already confirmed subscription is left alone.
    pub async fn subscribe(
        &self,
        email: &str,
        rows: &[(ServiceId, String)],
        confirmation: &Mail,
    ) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        for (service, token) in rows {
            sqlx::query(
                "INSERT INTO status_subscriptions (email, service_id, token, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (email, service_id) DO UPDATE SET token = CASE WHEN status_subscriptions.confirmed_at IS NULL \
                 THEN excluded.token ELSE status_subscriptions.token END",
            )
            .bind(email)
            .bind(service)
            .bind(token)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        insert_mails(&mut tx, std::slice::from_ref(confirmation), None, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The services `email` already has a subscription to, confirmed or waiting for
    /// confirmation since `since`: asking again for those sends no second mail.
    pub async fn subscribed_services(
        &self,
        email: &str,
        since: Timestamp,
    ) -> Result<Vec<ServiceId>> {
        Ok(sqlx::query_scalar(
            "SELECT service_id FROM status_subscriptions WHERE email = $1 \
             AND (confirmed_at IS NOT NULL OR created_at > $2)",
        )
        .bind(email)
        .bind(since)
        .fetch_all(&self.read)
        .await?)
    }

    /// Confirms every subscription carrying this token; returns how many.
    pub async fn confirm_subscription(&self, token: &str) -> Result<u64> {
        let done = sqlx::query("UPDATE status_subscriptions SET confirmed_at = $1 WHERE token = $2 AND confirmed_at IS NULL")
            .bind(Timestamp::now())
            .bind(token)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn unsubscribe(&self, token: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM status_subscriptions WHERE token = $1")
            .bind(token)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }
}
