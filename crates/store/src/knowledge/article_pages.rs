//! Numbered pages of the knowledge list, with the total: a knowledge base outgrows one page of
//! a hundred articles, and people page through it by number.

use crate::sql::{Arg, Sql};
use crate::{Article, ArticleFilter, Result, Store};
use backline_domain::ArticleId;
use serde_json::json;

/// `WHERE` conditions for `filter` over `articles a` (states, audiences, product; `before` and
/// `limit` are for cursors and do not apply to numbered pages).
fn push_conditions(sql: &mut Sql, filter: &ArticleFilter) {
    let any_of = |sql: &mut Sql, column: &str, values: Vec<&'static str>| {
        // An empty list means nothing is readable, not "no condition".
        sql.push(&format!(" AND {column} IN ("));
        if values.is_empty() {
            sql.push("NULL");
        }
        sql.bind_list(values.into_iter().map(|v| Arg::Text(v.to_string())))
            .push(")");
    };
    any_of(
        sql,
        "a.state",
        filter.states.iter().map(|s| s.as_str()).collect(),
    );
    any_of(
        sql,
        "a.audience",
        filter.audiences.iter().map(|a| a.as_str()).collect(),
    );
    if let Some(product) = &filter.product {
        // Products are a JSON list of strings; match one quoted entry exactly.
        let pattern = format!("%{}%", json!(product.trim().to_lowercase()));
        sql.push(" AND a.products LIKE ").bind(Arg::Text(pattern));
    }
}

impl Store {
    /// Page `page` (from 1) of `filter.limit` articles, newest first by id, and how many
    /// articles the filter holds in all.
    pub async fn article_page(
        &self,
        filter: &ArticleFilter,
        page: usize,
    ) -> Result<(Vec<Article>, i64)> {
        let limit = filter.limit.clamp(1, 200);
        let mut count = Sql::new("SELECT COUNT(*) FROM articles a WHERE 1 = 1");
        push_conditions(&mut count, filter);
        let (total,): (i64,) = count.query_as().fetch_one(&self.read).await?;
        let mut ids = Sql::new("SELECT a.id FROM articles a WHERE 1 = 1");
        push_conditions(&mut ids, filter);
        let offset = page.max(1).saturating_sub(1).saturating_mul(limit);
        ids.push(" ORDER BY a.id DESC LIMIT ")
            .bind(Arg::Int(limit as i64))
            .push(" OFFSET ")
            .bind(Arg::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
        let ids: Vec<ArticleId> = ids
            .query_as::<(ArticleId,)>()
            .fetch_all(&self.read)
            .await?
            .into_iter()
            .map(|(id,)| id)
            .collect();
        let mut articles = self.articles_by_ids(&ids).await?;
        articles.sort_by_key(|a| std::cmp::Reverse(a.id));
        Ok((articles, total))
    }
}
