//! Bulk reads for the search indexer.

use super::comments::{CommentRow, COMMENT_COLUMNS};
use super::{CaseRow, CASE_COLUMNS};
use crate::sql::{Arg, Sql};
use crate::{CaseRecord, Comment, Result, Store};
use backline_domain::CaseId;

impl Store {
    /// Cases by id with all their comments (internal notes included), in no particular order;
    /// missing ids are skipped. For the search indexer, which reads in batches.
    pub async fn cases_with_comments(
        &self,
        ids: &[CaseId],
    ) -> Result<Vec<(CaseRecord, Vec<Comment>)>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let ids = || chunk.iter().map(|id| Arg::Int(id.0));
            let mut sql = Sql::new(&format!("SELECT {CASE_COLUMNS} WHERE c.id IN ("));
            sql.bind_list(ids()).push(")");
            let cases: Vec<CaseRow> = sql.query_as().fetch_all(&self.read).await?;
            let mut sql = Sql::new(&format!("SELECT {COMMENT_COLUMNS} WHERE m.case_id IN ("));
            sql.bind_list(ids()).push(") ORDER BY m.id");
            let mut comments: std::collections::HashMap<CaseId, Vec<Comment>> =
                std::collections::HashMap::new();
            for row in sql.query_as::<CommentRow>().fetch_all(&self.read).await? {
                let comment = Comment::try_from(row)?;
                comments.entry(comment.case_id).or_default().push(comment);
            }
            for row in cases {
                let case = CaseRecord::try_from(row)?;
                let case_comments = comments.remove(&case.id).unwrap_or_default();
                out.push((case, case_comments));
            }
        }
        Ok(out)
    }

    /// Case ids after `after`, in id order, at most `limit` (for a full reindex).
    pub async fn case_ids_after(&self, after: CaseId, limit: i64) -> Result<Vec<CaseId>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM cases WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(&self.read)
                .await?,
        )
    }
}
