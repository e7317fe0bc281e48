//! KCS articles and their full revision history: every edit is a revision row naming the
//! fields it changed, written in the edit's transaction.

use super::classification::classify_in;
use super::links::insert_link;
use crate::cases::{case_status, record_event};
use crate::changes::announce_in;
use crate::rows::{convert, corrupt, stored, UserCols};
use crate::sql::{Arg, Sql};
use crate::{Article, ArticleRevision, Backend, Change, LinkTarget, Result, Store, StoreError};
use backline_domain::{
    ArticleContent, ArticleId, ArticleState, Audience, CaseId, Timestamp, UserId,
};
use serde_json::json;
use sqlx::{Any, Transaction};

#[derive(Debug, Clone)]
pub struct NewArticle {
    pub content: ArticleContent,
    pub state: ArticleState,
    pub audience: Audience,
    pub author: UserId,
    /// The case it is written from; that case is linked to it and classified `new`.
    pub source_case: Option<CaseId>,
    /// When it was written; `None` for now. Importers set it.
    pub at: Option<Timestamp>,
}

/// The article as it should be after an edit; the store works out what changed.
#[derive(Debug, Clone)]
pub struct ArticleEdit {
    pub content: ArticleContent,
    pub state: ArticleState,
    pub audience: Audience,
    pub editor: UserId,
    pub at: Option<Timestamp>,
    /// The revision the edit was made against: when the article has moved on since, nothing
    /// is written and the caller hears [`StoreError::Stale`].
    pub expected_revision: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    /// Only these states / audiences (the caller's readable set, narrowed by request).
    pub states: Vec<ArticleState>,
    pub audiences: Vec<Audience>,
    pub product: Option<String>,
    pub before: Option<ArticleId>,
    pub limit: usize,
}

const ARTICLE_COLUMNS: &str = "a.id, a.title, a.issue, a.environment, a.resolution, a.cause, \
     a.state, a.audience, a.products, a.versions, a.source_case_id, a.revision, a.reuse_count, \
     a.created_at, a.updated_at, u.id AS u_id, u.name AS u_name, u.email AS u_email \
     FROM articles a JOIN users u ON u.id = a.author_id";

/// An article's content columns, as both `articles` and `article_revisions` hold them.
#[derive(sqlx::FromRow)]
struct ContentCols {
    title: String,
    issue: String,
    environment: String,
    resolution: String,
    cause: String,
    products: String,
    versions: String,
}

impl TryFrom<ContentCols> for ArticleContent {
    type Error = StoreError;

    fn try_from(c: ContentCols) -> Result<ArticleContent> {
        Ok(ArticleContent {
            title: c.title,
            issue: c.issue,
            environment: c.environment,
            resolution: c.resolution,
            cause: c.cause,
            products: serde_json::from_str(&c.products).map_err(corrupt)?,
            versions: serde_json::from_str(&c.versions).map_err(corrupt)?,
        })
    }
}

/// A row of `ARTICLE_COLUMNS`.
#[derive(sqlx::FromRow)]
struct ArticleRow {
    id: ArticleId,
    #[sqlx(flatten)]
    content: ContentCols,
    state: String,
    audience: String,
    source_case_id: Option<CaseId>,
    revision: i64,
    reuse_count: i64,
    created_at: Timestamp,
    updated_at: Timestamp,
    #[sqlx(flatten)]
    author: UserCols,
}

impl TryFrom<ArticleRow> for Article {
    type Error = StoreError;

    fn try_from(r: ArticleRow) -> Result<Article> {
        Ok(Article {
            id: r.id,
            content: r.content.try_into()?,
            state: stored(ArticleState::parse, &r.state)?,
            audience: stored(Audience::parse, &r.audience)?,
            author: r.author.into(),
            source_case: r.source_case_id,
            revision: r.revision,
            reuse_count: r.reuse_count,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// An `article_revisions` row with its editor.
#[derive(sqlx::FromRow)]
struct RevisionRow {
    article_id: ArticleId,
    revision: i64,
    changed: String,
    #[sqlx(flatten)]
    content: ContentCols,
    state: String,
    audience: String,
    created_at: Timestamp,
    #[sqlx(flatten)]
    editor: UserCols,
}

impl TryFrom<RevisionRow> for ArticleRevision {
    type Error = StoreError;

    fn try_from(r: RevisionRow) -> Result<ArticleRevision> {
        Ok(ArticleRevision {
            article_id: r.article_id,
            revision: r.revision,
            editor: r.editor.into(),
            changed: serde_json::from_str(&r.changed).map_err(corrupt)?,
            content: r.content.try_into()?,
            state: stored(ArticleState::parse, &r.state)?,
            audience: stored(Audience::parse, &r.audience)?,
            created_at: r.created_at,
        })
    }
}

/// Writes revision `revision` of `article`: the edit in full, and which fields it changed.
async fn insert_revision(
    tx: &mut Transaction<'_, Any>,
    article: ArticleId,
    revision: i64,
    changed: &[&str],
    edit: &ArticleEdit,
    at: Timestamp,
) -> Result<()> {
    let (content, editor) = (&edit.content, edit.editor);
    sqlx::query(
        "INSERT INTO article_revisions (article_id, revision, editor_id, changed, title, issue, \
         environment, resolution, cause, state, audience, products, versions, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(article)
    .bind(revision)
    .bind(editor)
    .bind(json!(changed).to_string())
    .bind(&content.title)
    .bind(&content.issue)
    .bind(&content.environment)
    .bind(&content.resolution)
    .bind(&content.cause)
    .bind(edit.state.as_str())
    .bind(edit.audience.as_str())
    .bind(json!(content.products).to_string())
    .bind(json!(content.versions).to_string())
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    pub async fn create_article(&self, new: &NewArticle) -> Result<Article> {
        let now = new.at.unwrap_or_else(Timestamp::now);
        let mut tx = self.write.begin().await?;
        let id: ArticleId = sqlx::query_scalar(
            "INSERT INTO articles (title, issue, environment, resolution, cause, state, audience, \
             products, versions, author_id, source_case_id, revision, reuse_count, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, 0, $12, $12) \
             RETURNING id",
        )
        .bind(&new.content.title)
        .bind(&new.content.issue)
        .bind(&new.content.environment)
        .bind(&new.content.resolution)
        .bind(&new.content.cause)
        .bind(new.state.as_str())
        .bind(new.audience.as_str())
        .bind(json!(new.content.products).to_string())
        .bind(json!(new.content.versions).to_string())
        .bind(new.author)
        .bind(new.source_case)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let all = [
            "title",
            "issue",
            "environment",
            "resolution",
            "cause",
            "products",
            "versions",
            "state",
            "audience",
        ];
        let first = ArticleEdit {
            content: new.content.clone(),
            state: new.state,
            audience: new.audience,
            editor: new.author,
            at: new.at,
            expected_revision: None,
        };
        insert_revision(&mut tx, id, 1, &all, &first, now).await?;
        let mut changes = vec![Change::Article(id)];
        if let Some(case) = new.source_case {
            // Written from a case: the case is linked to it (not a reuse) and, if already
            // solved, classified again now that its knowledge exists.
            let status = case_status(&mut tx, case).await?;
            insert_link(&mut tx, case, LinkTarget::Article(id), new.author, now).await?;
            record_event(
                &mut tx,
                case,
                Some(new.author),
                "article_created",
                json!({"article_id": id}),
                now,
            )
            .await?;
            if !status.is_active() {
                classify_in(&mut tx, case, Some(new.author), now).await?;
            }
            announce_in(&mut tx, self.backend, Change::Case(case)).await?;
            changes.push(Change::Case(case));
        }
        announce_in(&mut tx, self.backend, Change::Article(id)).await?;
        tx.commit().await?;
        self.announce(&changes);
        self.article(id).await
    }

    pub async fn article(&self, id: ArticleId) -> Result<Article> {
        let row: ArticleRow = sqlx::query_as(&format!("SELECT {ARTICLE_COLUMNS} WHERE a.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// Articles by id, in no particular order; missing ids are skipped (for the indexer).
    pub async fn articles_by_ids(&self, ids: &[ArticleId]) -> Result<Vec<Article>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut sql = Sql::new(&format!("SELECT {ARTICLE_COLUMNS} WHERE a.id IN ("));
            sql.bind_list(chunk.iter().map(|id| Arg::Int(id.0)))
                .push(")");
            for row in sql.query_as::<ArticleRow>().fetch_all(&self.read).await? {
                out.push(row.try_into()?);
            }
        }
        Ok(out)
    }

    /// Applies an edit as a new revision, naming what changed; an edit that changes nothing
    /// writes nothing.
    pub async fn update_article(&self, id: ArticleId, edit: &ArticleEdit) -> Result<Article> {
        let now = edit.at.unwrap_or_else(Timestamp::now);
        let mut tx = self.write.begin().await?;
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE OF a",
            Backend::Sqlite => "",
        };
        let row: ArticleRow =
            sqlx::query_as(&format!("SELECT {ARTICLE_COLUMNS} WHERE a.id = $1{lock}"))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
        let current = Article::try_from(row)?;
        if edit
            .expected_revision
            .is_some_and(|r| r != current.revision)
        {
            return Err(StoreError::Stale {
                current: current.revision,
            });
        }
        let mut changed = edit.content.changed_fields(&current.content);
        if edit.state != current.state {
            changed.push("state");
        }
        if edit.audience != current.audience {
            changed.push("audience");
        }
        if changed.is_empty() {
            tx.rollback().await?;
            return Ok(current);
        }
        let revision = current.revision + 1;
        sqlx::query(
            "UPDATE articles SET title = $1, issue = $2, environment = $3, resolution = $4, \
             cause = $5, state = $6, audience = $7, products = $8, versions = $9, revision = $10, \
             updated_at = $11 WHERE id = $12",
        )
        .bind(&edit.content.title)
        .bind(&edit.content.issue)
        .bind(&edit.content.environment)
        .bind(&edit.content.resolution)
        .bind(&edit.content.cause)
        .bind(edit.state.as_str())
        .bind(edit.audience.as_str())
        .bind(json!(edit.content.products).to_string())
        .bind(json!(edit.content.versions).to_string())
        .bind(revision)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        insert_revision(&mut tx, id, revision, &changed, edit, now).await?;
        announce_in(&mut tx, self.backend, Change::Article(id)).await?;
        tx.commit().await?;
        self.announce(&[Change::Article(id)]);
        self.article(id).await
    }

    /// One page of articles, newest first (by id, so the cursor stays stable while articles
    /// are edited), and the cursor of the next page.
    pub async fn list_articles(
        &self,
        filter: &ArticleFilter,
    ) -> Result<(Vec<Article>, Option<ArticleId>)> {
        let mut sql = Sql::new(&format!("SELECT {ARTICLE_COLUMNS} WHERE 1 = 1"));
        let any_of = |sql: &mut Sql, column: &str, values: Vec<&'static str>| {
            sql.push(&format!(" AND {column} IN ("));
            if values.is_empty() {
                sql.push("NULL");
            }
            sql.bind_list(values.into_iter().map(|v| Arg::Text(v.to_string())))
                .push(")");
        };
        any_of(
            &mut sql,
            "a.state",
            filter.states.iter().map(|s| s.as_str()).collect(),
        );
        any_of(
            &mut sql,
            "a.audience",
            filter.audiences.iter().map(|a| a.as_str()).collect(),
        );
        if let Some(product) = &filter.product {
            // Products are a JSON list of strings; match one quoted entry exactly.
            let pattern = format!("%{}%", json!(product.trim().to_lowercase()));
            sql.push(" AND a.products LIKE ").bind(Arg::Text(pattern));
        }
        if let Some(before) = filter.before {
            sql.push(" AND a.id < ").bind(Arg::Int(before.0));
        }
        let limit = filter.limit.clamp(1, 200);
        sql.push(" ORDER BY a.id DESC LIMIT ")
            .bind(Arg::Int(limit as i64 + 1));
        let rows: Vec<ArticleRow> = sql.query_as().fetch_all(&self.read).await?;
        let mut articles: Vec<Article> = convert(rows)?;
        let next = if articles.len() > limit {
            articles.truncate(limit);
            articles.last().map(|a| a.id)
        } else {
            None
        };
        Ok((articles, next))
    }

    /// Every article id, in order (for a full reindex).
    pub async fn article_ids(&self) -> Result<Vec<ArticleId>> {
        Ok(sqlx::query_scalar("SELECT id FROM articles ORDER BY id")
            .fetch_all(&self.read)
            .await?)
    }

    /// Every revision of an article, oldest first.
    pub async fn article_revisions(&self, id: ArticleId) -> Result<Vec<ArticleRevision>> {
        let rows: Vec<RevisionRow> = sqlx::query_as(
            "SELECT r.*, u.id AS u_id, u.name AS u_name, u.email AS u_email \
             FROM article_revisions r JOIN users u ON u.id = r.editor_id \
             WHERE r.article_id = $1 ORDER BY r.revision",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }
}
