//! Bulk reads for the search indexer.

use super::comments::{comment_from_row, COMMENT_COLUMNS};
use super::{case_from_row, CASE_COLUMNS};
use crate::sql::{Arg, Sql};
use crate::{CaseRecord, Comment, Result, Store};
use backline_domain::CaseId;
use sqlx::Row;

impl Store {
    /// Cases by id with all their comments (internal notes included), in no particular order;
    /// missing ids are skipped. For the search indexer, which reads in batches.
    pub async fn cases_with_comments(
        &self,
        ids: &[CaseId],
    ) -> Result<Vec<(CaseRecord, Vec<Comment>)>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let in_list = |sql: &mut Sql| {
                for (i, id) in chunk.iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.bind(Arg::Int(id.0));
                }
                sql.push(")");
            };
            let mut sql = Sql::new(&format!("SELECT {CASE_COLUMNS} WHERE c.id IN ("));
            in_list(&mut sql);
            let cases = sql.query().fetch_all(&self.read).await?;
            let mut sql = Sql::new(&format!("SELECT {COMMENT_COLUMNS} WHERE m.case_id IN ("));
            in_list(&mut sql);
            sql.push(" ORDER BY m.id");
            let mut comments: std::collections::HashMap<CaseId, Vec<Comment>> =
                std::collections::HashMap::new();
            for row in sql.query().fetch_all(&self.read).await? {
                let comment = comment_from_row(&row)?;
                comments.entry(comment.case_id).or_default().push(comment);
            }
            for row in &cases {
                let case = case_from_row(row)?;
                let case_comments = comments.remove(&case.id).unwrap_or_default();
                out.push((case, case_comments));
            }
        }
        Ok(out)
    }

    /// Case ids after `after`, in id order, at most `limit` (for a full reindex).
    pub async fn case_ids_after(&self, after: CaseId, limit: i64) -> Result<Vec<CaseId>> {
        let rows = sqlx::query("SELECT id FROM cases WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after.0)
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(|r| Ok(CaseId(r.try_get("id")?))).collect()
    }
}
