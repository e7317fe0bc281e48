//! Links from a case to the article or earlier case that answered it.

use super::classification::classify_in;
use crate::cases::record_event;
use crate::changes::announce_in;
use crate::models::user_ref;
use crate::rows::stored;
use crate::sql::opt_i64;
use crate::{CaseLink, Change, LinkTarget, Result, Store, StoreError};
use backline_domain::{ArticleId, CaseId, CaseStatus, Timestamp, UserId};
use serde_json::json;
use sqlx::{Any, Row, Transaction};

impl Store {
    /// Links a case to an article or an earlier case that answers it. Linking an article
    /// counts as a reuse; a case already solved is classified again.
    pub async fn link_case(
        &self,
        case: CaseId,
        target: LinkTarget,
        by: UserId,
        at: Option<Timestamp>,
    ) -> Result<CaseLink> {
        let now = at.unwrap_or_else(Timestamp::now);
        let mut tx = self.write.begin().await?;
        let status = sqlx::query("SELECT status FROM cases WHERE id = $1")
            .bind(case.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let status = stored(CaseStatus::parse, &status.try_get::<String, _>("status")?)?;
        let id = insert_link(&mut tx, case, target, by, now).await?;
        let mut changes = vec![Change::Case(case)];
        let data = match target {
            LinkTarget::Article(article) => {
                sqlx::query("UPDATE articles SET reuse_count = reuse_count + 1 WHERE id = $1")
                    .bind(article.0)
                    .execute(&mut *tx)
                    .await?;
                changes.push(Change::Article(article));
                json!({"article_id": article})
            }
            LinkTarget::Case(other) => json!({"case_id": other}),
        };
        record_event(&mut tx, case, Some(by), "linked", data, now).await?;
        if !status.is_active() {
            classify_in(&mut tx, case, Some(by), now).await?;
        }
        for change in &changes {
            announce_in(&mut tx, self.backend, *change).await?;
        }
        tx.commit().await?;
        self.announce(&changes);
        self.case_links(case)
            .await?
            .into_iter()
            .find(|l| l.id == id)
            .ok_or(StoreError::NotFound)
    }

    /// What a case is linked to, oldest link first.
    pub async fn case_links(&self, case: CaseId) -> Result<Vec<CaseLink>> {
        let rows = sqlx::query(
            "SELECT l.id, l.case_id, l.article_id, l.linked_case_id, l.created_at, \
             a.title AS a_title, lc.subject AS c_title, \
             u.id AS u_id, u.name AS u_name, u.email AS u_email \
             FROM case_links l JOIN users u ON u.id = l.linked_by \
             LEFT JOIN articles a ON a.id = l.article_id \
             LEFT JOIN cases lc ON lc.id = l.linked_case_id \
             WHERE l.case_id = $1 ORDER BY l.id",
        )
        .bind(case.0)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let (target, title) = match opt_i64(row, "article_id")? {
                    Some(a) => (LinkTarget::Article(ArticleId(a)), row.try_get("a_title")?),
                    None => (
                        LinkTarget::Case(CaseId(row.try_get("linked_case_id")?)),
                        row.try_get("c_title")?,
                    ),
                };
                Ok(CaseLink {
                    id: row.try_get("id")?,
                    case_id: CaseId(row.try_get("case_id")?),
                    target,
                    title,
                    linked_by: user_ref(row)?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Every link between two cases or a case and an article: the organisation's own answers,
    /// from which the matcher learns.
    pub async fn all_links(&self) -> Result<Vec<(CaseId, LinkTarget)>> {
        let rows = sqlx::query("SELECT case_id, article_id, linked_case_id FROM case_links")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|row| {
                let case = CaseId(row.try_get("case_id")?);
                Ok(match opt_i64(row, "article_id")? {
                    Some(a) => (case, LinkTarget::Article(ArticleId(a))),
                    None => (
                        case,
                        LinkTarget::Case(CaseId(row.try_get("linked_case_id")?)),
                    ),
                })
            })
            .collect()
    }
}

pub(super) async fn insert_link(
    tx: &mut Transaction<'_, Any>,
    case: CaseId,
    target: LinkTarget,
    by: UserId,
    at: Timestamp,
) -> Result<i64> {
    let (article, linked_case) = match target {
        LinkTarget::Article(a) => (Some(a.0), None),
        LinkTarget::Case(c) => (None, Some(c.0)),
    };
    let row = sqlx::query(
        "INSERT INTO case_links (case_id, article_id, linked_case_id, linked_by, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(case.0)
    .bind(article)
    .bind(linked_case)
    .bind(by.0)
    .bind(at)
    .fetch_one(&mut **tx)
    .await
    .map_err(StoreError::unique("the case is already linked to it"))?;
    Ok(row.try_get("id")?)
}
