//! Self-service deflection: new-case drafts, the suggestions they opened, and whether they
//! were filed.

use crate::{DeflectionCounts, Result, Store};
use backline_domain::{ArticleId, CaseId, Timestamp, UserId};

impl Store {
    /// Records that a new-case form showed `shown` suggestions (creating the draft on first
    /// sight). Drafts belong to one user; another user's token is ignored.
    pub async fn draft_shown(&self, token: &str, user: UserId, shown: i64) -> Result<()> {
        let now = Timestamp::now();
        sqlx::query(
            "INSERT INTO deflection_drafts (token, user_id, started_at, suggestions_shown, \
             updated_at) VALUES ($1, $2, $3, 0, $3) ON CONFLICT (token) DO NOTHING",
        )
        .bind(token)
        .bind(user)
        .bind(now)
        .execute(&self.write)
        .await?;
        sqlx::query(
            "UPDATE deflection_drafts SET suggestions_shown = suggestions_shown + $1, \
             updated_at = $2 WHERE token = $3 AND user_id = $4",
        )
        .bind(shown)
        .bind(now)
        .bind(token)
        .bind(user)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Records that the form's user opened a suggested article (the first one counts).
    pub async fn draft_opened(&self, token: &str, user: UserId, article: ArticleId) -> Result<()> {
        let now = Timestamp::now();
        sqlx::query(
            "UPDATE deflection_drafts SET opened_article_id = COALESCE(opened_article_id, $1), \
             opened_at = COALESCE(opened_at, $2), updated_at = $2 \
             WHERE token = $3 AND user_id = $4",
        )
        .bind(article)
        .bind(now)
        .bind(token)
        .bind(user)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Records that the form was submitted as `case`.
    pub async fn draft_filed(&self, token: &str, user: UserId, case: CaseId) -> Result<()> {
        sqlx::query(
            "UPDATE deflection_drafts SET case_id = $1, updated_at = $2 \
             WHERE token = $3 AND user_id = $4",
        )
        .bind(case)
        .bind(Timestamp::now())
        .bind(token)
        .bind(user)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Self-service figures for forms started in [from, to). A form counts as deflected once
    /// it opened a suggestion, filed nothing, and has been left alone since `abandoned_before`.
    pub async fn deflection_counts(
        &self,
        from: Timestamp,
        to: Timestamp,
        abandoned_before: Timestamp,
    ) -> Result<DeflectionCounts> {
        Ok(sqlx::query_as(
            "SELECT COUNT(*) AS forms, \
             COALESCE(SUM(CASE WHEN suggestions_shown > 0 THEN 1 ELSE 0 END), 0) AS shown_suggestions, \
             COALESCE(SUM(CASE WHEN opened_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS opened, \
             COALESCE(SUM(CASE WHEN opened_at IS NOT NULL AND case_id IS NOT NULL THEN 1 ELSE 0 END), 0) AS filed_after_opening, \
             COALESCE(SUM(CASE WHEN opened_at IS NOT NULL AND case_id IS NULL AND updated_at < $3 THEN 1 ELSE 0 END), 0) AS deflected \
             FROM deflection_drafts WHERE started_at >= $1 AND started_at < $2",
        )
        .bind(from)
        .bind(to)
        .bind(abandoned_before)
        .fetch_one(&self.read)
        .await?)
    }
}
