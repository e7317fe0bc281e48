//! What the known-issue matcher needs from the database: the answers linked to cases (the
//! index carries them, so an article lends the score of the cases it answered), and the
//! suggestions worked out ahead of time with what tells whether they are still current.

use crate::sql::{Arg, Sql};
use crate::{Result, Store};
use backline_domain::{ArticleId, ArticleState, Audience, CaseId, OrgId, Timestamp};
use std::collections::HashMap;

/// What a stored list must have been worked out under to be current: the knowledge generation
/// (moves when any article changes) and the case's stamp (moves when a similar case is solved
/// or reopened).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SuggestionBasis {
    pub generation: i64,
    pub stamp: i64,
}

/// A stored list of suggestions for one case and sight.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSuggestions {
    pub basis: SuggestionBasis,
    /// The fingerprint of the case text it was worked out for.
    pub input_hash: i64,
    /// The suggestions as JSON; the server owns their shape.
    pub json: String,
    pub computed_at: Timestamp,
}

impl StoredSuggestions {
    /// Whether it still holds: nothing that could change it has moved since.
    pub fn is_current(&self, basis: SuggestionBasis, input_hash: i64) -> bool {
        self.basis == basis && self.input_hash == input_hash
    }
}

/// A case as far as its kept suggestions need it: who may see it, the text they were worked
/// out for, the present basis and the kept list (`Store::case_with_kept_suggestions`).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseWithKeptSuggestions {
    pub organization: OrgId,
    pub partner: Option<OrgId>,
    pub subject: String,
    pub description: String,
    pub created_at: Timestamp,
    pub basis: SuggestionBasis,
    pub kept: Option<StoredSuggestions>,
}

#[derive(sqlx::FromRow)]
struct CaseKeptRow {
    organization_id: OrgId,
    partner_id: Option<OrgId>,
    subject: String,
    description: String,
    created_at: Timestamp,
    #[sqlx(flatten)]
    stored: StoredRow,
}

impl StoredRow {
    /// The present basis, and the kept list if there is one.
    fn split(self) -> (SuggestionBasis, Option<StoredSuggestions>) {
        let basis = SuggestionBasis {
            generation: self.current_generation,
            stamp: self.current_stamp,
        };
        let kept = match (
            self.generation,
            self.stamp,
            self.input_hash,
            self.suggestions,
            self.computed_at,
        ) {
            (Some(generation), Some(stamp), Some(input_hash), Some(json), Some(computed_at)) => {
                Some(StoredSuggestions {
                    basis: SuggestionBasis { generation, stamp },
                    input_hash,
                    json,
                    computed_at,
                })
            }
            _ => None,
        };
        (basis, kept)
    }
}

#[derive(sqlx::FromRow)]
struct StoredRow {
    current_generation: i64,
    current_stamp: i64,
    generation: Option<i64>,
    stamp: Option<i64>,
    input_hash: Option<i64>,
    suggestions: Option<String>,
    computed_at: Option<Timestamp>,
}

impl Store {
    /// The articles linked as answers to each of these cases (for the search index).
    pub async fn answers_of_cases(
        &self,
        cases: &[CaseId],
    ) -> Result<HashMap<CaseId, Vec<ArticleId>>> {
        let mut out: HashMap<CaseId, Vec<ArticleId>> = HashMap::new();
        for chunk in cases.chunks(500) {
            let mut sql = Sql::new(
                "SELECT case_id, article_id FROM case_links \
                 WHERE article_id IS NOT NULL AND case_id IN (",
            );
            sql.bind_list(chunk.iter().map(|c| Arg::Int(c.0)))
                .push(") ORDER BY id");
            let rows: Vec<(CaseId, ArticleId)> = sql.query_as().fetch_all(&self.read).await?;
            for (case, article) in rows {
                out.entry(case).or_default().push(article);
            }
        }
        Ok(out)
    }

    /// The present basis for a case and, if there is one, its stored list for `sight`, in one
    /// round trip (the case page asks on every view).
    pub async fn stored_suggestions(
        &self,
        case: CaseId,
        sight: &str,
    ) -> Result<(SuggestionBasis, Option<StoredSuggestions>)> {
        let row: StoredRow = sqlx::query_as(
            "SELECT g.generation AS current_generation, COALESCE(t.stamp, 0) AS current_stamp, \
             s.generation, s.stamp, s.input_hash, s.suggestions, s.computed_at \
             FROM knowledge_generation g \
             LEFT JOIN suggestion_stamps t ON t.case_id = $1 \
             LEFT JOIN case_suggestions s ON s.case_id = $1 AND s.sight = $2 \
             WHERE g.id = 1",
        )
        .bind(case)
        .bind(sight)
        .fetch_one(&self.read)
        .await?;
        Ok(row.split())
    }

    /// The case page's kept suggestions in one round trip: the case's parties and text with
    /// the present basis and the kept list for `sight`. `None` if there is no such case.
    pub async fn case_with_kept_suggestions(
        &self,
        case: CaseId,
        sight: &str,
    ) -> Result<Option<CaseWithKeptSuggestions>> {
        let row: Option<CaseKeptRow> = sqlx::query_as(
            "SELECT c.organization_id, c.partner_id, c.subject, c.description, c.created_at, \
             g.generation AS current_generation, COALESCE(t.stamp, 0) AS current_stamp, \
             s.generation, s.stamp, s.input_hash, s.suggestions, s.computed_at \
             FROM cases c \
             JOIN knowledge_generation g ON g.id = 1 \
             LEFT JOIN suggestion_stamps t ON t.case_id = c.id \
             LEFT JOIN case_suggestions s ON s.case_id = c.id AND s.sight = $2 \
             WHERE c.id = $1",
        )
        .bind(case)
        .bind(sight)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|row| {
            let (basis, kept) = row.stored.split();
            CaseWithKeptSuggestions {
                organization: row.organization_id,
                partner: row.partner_id,
                subject: row.subject,
                description: row.description,
                created_at: row.created_at,
                basis,
                kept,
            }
        }))
    }

    /// The present basis of each of these cases (for working out many lists at once).
    pub async fn suggestion_bases(
        &self,
        cases: &[CaseId],
        sight: &str,
    ) -> Result<HashMap<CaseId, (SuggestionBasis, Option<(SuggestionBasis, i64)>)>> {
        let generation: i64 =
            sqlx::query_scalar("SELECT generation FROM knowledge_generation WHERE id = 1")
                .fetch_one(&self.read)
                .await?;
        let mut out = HashMap::new();
        for chunk in cases.chunks(500) {
            let ids = || chunk.iter().map(|c| Arg::Int(c.0));
            let mut sql =
                Sql::new("SELECT case_id, stamp FROM suggestion_stamps WHERE case_id IN (");
            sql.bind_list(ids()).push(")");
            let stamps: HashMap<CaseId, i64> = sql
                .query_as::<(CaseId, i64)>()
                .fetch_all(&self.read)
                .await?
                .into_iter()
                .collect();
            let mut sql = Sql::new(
                "SELECT case_id, generation, stamp, input_hash FROM case_suggestions WHERE sight = ",
            );
            sql.bind(Arg::Text(sight.to_string()))
                .push(" AND case_id IN (")
                .bind_list(ids())
                .push(")");
            let stored: HashMap<CaseId, (SuggestionBasis, i64)> = sql
                .query_as::<(CaseId, i64, i64, i64)>()
                .fetch_all(&self.read)
                .await?
                .into_iter()
                .map(|(case, generation, stamp, hash)| {
                    (case, (SuggestionBasis { generation, stamp }, hash))
                })
                .collect();
            for case in chunk {
                let basis = SuggestionBasis {
                    generation,
                    stamp: stamps.get(case).copied().unwrap_or(0),
                };
                out.insert(*case, (basis, stored.get(case).copied()));
            }
        }
        Ok(out)
    }

    /// Stores a list worked out under `basis` for a case text with fingerprint `input_hash`,
    /// replacing the one before. If the basis moved meanwhile the list is simply stale when
    /// read, so racing writers need no lock.
    pub async fn store_suggestions(
        &self,
        case: CaseId,
        sight: &str,
        basis: SuggestionBasis,
        input_hash: i64,
        json: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO case_suggestions \
             (case_id, sight, generation, stamp, input_hash, suggestions, computed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (case_id, sight) DO UPDATE SET generation = excluded.generation, \
             stamp = excluded.stamp, input_hash = excluded.input_hash, \
             suggestions = excluded.suggestions, computed_at = excluded.computed_at",
        )
        .bind(case)
        .bind(sight)
        .bind(basis.generation)
        .bind(basis.stamp)
        .bind(input_hash)
        .bind(json)
        .bind(Timestamp::now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Drops every kept list of these cases (they were solved: their suggestions are seldom
    /// looked at again, and a view works them out if they are).
    pub async fn forget_suggestions(&self, cases: &[CaseId]) -> Result<()> {
        for chunk in cases.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let text = format!(
                "DELETE FROM case_suggestions WHERE case_id IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&text);
            for case in chunk {
                query = query.bind(*case);
            }
            query.execute(&self.write).await?;
        }
        Ok(())
    }

    /// Makes every stored list stale (an article changed). Returns the new generation.
    pub async fn bump_knowledge_generation(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "UPDATE knowledge_generation SET generation = generation + 1 WHERE id = 1 \
             RETURNING generation",
        )
        .fetch_one(&self.write)
        .await?)
    }

    /// Makes the stored lists of these cases stale (something new may answer them).
    pub async fn bump_suggestion_stamps(&self, cases: &[CaseId]) -> Result<()> {
        for case in cases {
            sqlx::query(
                "INSERT INTO suggestion_stamps (case_id, stamp) VALUES ($1, 1) \
                 ON CONFLICT (case_id) DO UPDATE SET stamp = suggestion_stamps.stamp + 1",
            )
            .bind(*case)
            .execute(&self.write)
            .await?;
        }
        Ok(())
    }

    /// The present state and audience of these articles, which decide who may read them (a
    /// stored list is checked against them before a customer or partner sees it).
    pub async fn article_sight(
        &self,
        ids: &[ArticleId],
    ) -> Result<HashMap<ArticleId, (ArticleState, Audience)>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let mut sql = Sql::new("SELECT id, state, audience FROM articles WHERE id IN (");
            sql.bind_list(chunk.iter().map(|a| Arg::Int(a.0))).push(")");
            for (id, state, audience) in sql
                .query_as::<(ArticleId, String, String)>()
                .fetch_all(&self.read)
                .await?
            {
                out.insert(
                    id,
                    (
                        crate::rows::stored(ArticleState::parse, &state)?,
                        crate::rows::stored(Audience::parse, &audience)?,
                    ),
                );
            }
        }
        Ok(out)
    }
}
