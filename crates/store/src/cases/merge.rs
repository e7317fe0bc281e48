//! Merging a duplicate case into the one that carries on.

use super::{record_event, update_in, CaseChanges};
use crate::changes::announce_in;
use crate::rows::stored;
use crate::{Backend, CaseRecord, Change, Result, Store, StoreError};
use backline_domain::case::{check_merge, MergeFacts};
use backline_domain::{CaseId, CaseStatus, OrgId, Timestamp, UserId};
use serde_json::json;

impl Store {
    /// Moves `source`'s conversation (comments, files, links, Cc, followers) to `survivor`,
    /// closes `source` pointing to it, and leaves an internal note with `note` on the survivor,
    /// all in one transaction. The merge rule is checked again on the rows as read (and on
    /// PostgreSQL locked) inside it, so a case closed or moved meanwhile is not merged.
    pub async fn merge_cases(
        &self,
        source: CaseId,
        survivor: CaseId,
        actor: UserId,
        note: &str,
    ) -> Result<CaseRecord> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        let lock = match self.backend {
            Backend::Postgres => " FOR NO KEY UPDATE",
            Backend::Sqlite => "",
        };
        // Lock in id order so two merges of the same pair cannot deadlock.
        let rows: Vec<(CaseId, String, OrgId, Option<OrgId>)> = sqlx::query_as(&format!(
            "SELECT id, status, organization_id, partner_id FROM cases \
                 WHERE id IN ($1, $2) ORDER BY id{lock}"
        ))
        .bind(source)
        .bind(survivor)
        .fetch_all(&mut *tx)
        .await?;
        let facts = |id: CaseId| -> Result<MergeFacts> {
            let (id, status, organization, partner) = rows
                .iter()
                .find(|r| r.0 == id)
                .cloned()
                .ok_or(StoreError::NotFound)?;
            Ok(MergeFacts {
                id,
                status: stored(CaseStatus::parse, &status)?,
                organization,
                partner,
            })
        };
        let (from, into) = (facts(source)?, facts(survivor)?);
        check_merge(&from, &into).map_err(|e| StoreError::Invalid {
            field: "into",
            message: e.0,
        })?;

        for sql in [
            "UPDATE comments SET case_id = $2 WHERE case_id = $1",
            "UPDATE attachments SET case_id = $2 WHERE case_id = $1",
            // Rows the survivor already has stay once; the source's copies go.
            "INSERT INTO case_cc (case_id, email) SELECT $2, email FROM case_cc WHERE case_id = $1 \
             ON CONFLICT DO NOTHING",
            "DELETE FROM case_cc WHERE case_id = $1",
            "INSERT INTO case_followers (case_id, user_id) \
             SELECT $2, user_id FROM case_followers WHERE case_id = $1 ON CONFLICT DO NOTHING",
            "DELETE FROM case_followers WHERE case_id = $1",
            "INSERT INTO case_links (case_id, article_id, linked_case_id, linked_by, created_at) \
             SELECT $2, article_id, linked_case_id, linked_by, created_at FROM case_links \
             WHERE case_id = $1 AND (linked_case_id IS NULL OR linked_case_id <> $2) \
             ON CONFLICT DO NOTHING",
            "DELETE FROM case_links WHERE case_id = $1",
            // Mail that came in on the source now belongs to the survivor's thread.
            "UPDATE inbound_mail SET case_id = $2 WHERE case_id = $1",
            "UPDATE outbox SET case_id = $2 WHERE case_id = $1",
            // The first staff reply goes with the comments: the earlier of the two.
            "UPDATE cases SET first_reply_at = (SELECT first_reply_at FROM cases WHERE id = $1) \
             WHERE id = $2 AND (SELECT first_reply_at FROM cases WHERE id = $1) \
             < COALESCE(first_reply_at, 9223372036854775807)",
            "UPDATE cases SET first_reply_at = NULL WHERE id = $1 AND id <> $2",
        ] {
            sqlx::query(sql)
                .bind(source)
                .bind(survivor)
                .execute(&mut *tx)
                .await?;
        }
        let closing = CaseChanges {
            status: Some(CaseStatus::Closed),
            event: Some(("merged_into", json!({"into": survivor}))),
            ..Default::default()
        };
        update_in(&mut tx, self.backend, source, &closing, actor, now).await?;
        sqlx::query("UPDATE cases SET merged_into = $2 WHERE id = $1")
            .bind(source)
            .bind(survivor)
            .execute(&mut *tx)
            .await?;
        let note_id: i64 = sqlx::query_scalar(
            "INSERT INTO comments (case_id, author_id, body, public, created_at, channel) \
             VALUES ($1, $2, $3, 0, $4, 'web') RETURNING id",
        )
        .bind(survivor)
        .bind(actor)
        .bind(note)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        record_event(
            &mut tx,
            survivor,
            Some(actor),
            "merged",
            json!({"from": source, "note_id": note_id}),
            now,
        )
        .await?;
        sqlx::query(
            "UPDATE cases SET updated_at = $1, sla_check_at = $1, version = version + 1 \
                 WHERE id = $2",
        )
        .bind(now)
        .bind(survivor)
        .execute(&mut *tx)
        .await?;
        announce_in(&mut tx, self.backend, Change::Case(source)).await?;
        announce_in(&mut tx, self.backend, Change::Case(survivor)).await?;
        tx.commit().await?;
        self.announce(&[Change::Case(source), Change::Case(survivor)]);
        self.case(survivor).await
    }
}
