//! Links from a case to the article or earlier case that answered it.

use super::classification::classify_in;
use crate::cases::{case_status, record_event};
use crate::changes::announce_in;
use crate::rows::{convert, UserCols};
use crate::{CaseLink, Change, LinkTarget, Result, Store, StoreError};
use backline_domain::{ArticleId, CaseId, Timestamp, UserId};
use serde_json::json;
use sqlx::{Any, Transaction};

/// A `case_links` row with the title of what it points at and who linked it.
#[derive(sqlx::FromRow)]
struct LinkRow {
    id: i64,
    case_id: CaseId,
    article_id: Option<ArticleId>,
    linked_case_id: Option<CaseId>,
    created_at: Timestamp,
    a_title: Option<String>,
    c_title: Option<String>,
    #[sqlx(flatten)]
    linked_by: UserCols,
}

/// What a link points at: an article, or else a case.
fn target(article: Option<ArticleId>, case: Option<CaseId>) -> Result<LinkTarget> {
    match (article, case) {
        (Some(a), _) => Ok(LinkTarget::Article(a)),
        (None, Some(c)) => Ok(LinkTarget::Case(c)),
        (None, None) => Err(StoreError::Corrupt("a link that points at nothing".into())),
    }
}

impl TryFrom<LinkRow> for CaseLink {
    type Error = StoreError;

    fn try_from(r: LinkRow) -> Result<CaseLink> {
        let target = target(r.article_id, r.linked_case_id)?;
        let title = match target {
            LinkTarget::Article(_) => r.a_title,
            LinkTarget::Case(_) => r.c_title,
        };
        Ok(CaseLink {
            id: r.id,
            case_id: r.case_id,
            target,
            title: title.ok_or_else(|| StoreError::Corrupt("a link to a missing record".into()))?,
            linked_by: r.linked_by.into(),
            created_at: r.created_at,
        })
    }
}

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
        let status = case_status(&mut tx, case).await?;
        let id = insert_link(&mut tx, case, target, by, now).await?;
        let mut changes = vec![Change::Case(case)];
        let data = match target {
            LinkTarget::Article(article) => {
                sqlx::query("UPDATE articles SET reuse_count = reuse_count + 1 WHERE id = $1")
                    .bind(article)
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
        let rows: Vec<LinkRow> = sqlx::query_as(
            "SELECT l.id, l.case_id, l.article_id, l.linked_case_id, l.created_at, \
             a.title AS a_title, lc.subject AS c_title, \
             u.id AS u_id, u.name AS u_name, u.email AS u_email \
             FROM case_links l JOIN users u ON u.id = l.linked_by \
             LEFT JOIN articles a ON a.id = l.article_id \
             LEFT JOIN cases lc ON lc.id = l.linked_case_id \
             WHERE l.case_id = $1 ORDER BY l.id",
        )
        .bind(case)
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }

    /// Every link between two cases or a case and an article: the organisation's own answers,
    /// from which the matcher learns.
    pub async fn all_links(&self) -> Result<Vec<(CaseId, LinkTarget)>> {
        let rows: Vec<(CaseId, Option<ArticleId>, Option<CaseId>)> =
            sqlx::query_as("SELECT case_id, article_id, linked_case_id FROM case_links")
                .fetch_all(&self.read)
                .await?;
        rows.into_iter()
            .map(|(case, article, linked)| Ok((case, target(article, linked)?)))
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
    sqlx::query_scalar(
        "INSERT INTO case_links (case_id, article_id, linked_case_id, linked_by, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(case)
    .bind(article)
    .bind(linked_case)
    .bind(by)
    .bind(at)
    .fetch_one(&mut **tx)
    .await
    .map_err(StoreError::unique("the case is already linked to it"))
}
