//! Satisfaction ratings: one per case, by its requester, and scores grouped by who or what
//! handled the cases.

use crate::rows::stored;
use crate::{Result, Store};
use backline_domain::satisfaction::{Rating, Score};
use backline_domain::{CaseId, Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingRecord {
    pub case_id: CaseId,
    pub rating: Rating,
    pub comment: Option<String>,
    pub rated_by: Option<UserId>,
    /// Who had the case when it was rated.
    pub assignee: Option<UserId>,
    pub rated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct RatingRow {
    case_id: CaseId,
    rating: String,
    comment: Option<String>,
    rated_by: Option<UserId>,
    assignee_id: Option<UserId>,
    rated_at: Timestamp,
}

/// What scores are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreBy {
    Agent,
    Queue,
    Partner,
    Organization,
}

/// The score of one agent, queue, partner or organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreRow {
    pub id: i64,
    pub name: String,
    pub score: Score,
}

#[derive(sqlx::FromRow)]
struct ScoreSql {
    id: i64,
    name: String,
    good: i64,
    bad: i64,
}

impl Store {
    /// Records the requester's rating, replacing an earlier one.
    pub async fn rate_case(
        &self,
        case: CaseId,
        rating: Rating,
        comment: Option<&str>,
        by: Option<UserId>,
        at: Timestamp,
    ) -> Result<RatingRecord> {
        sqlx::query(
            "INSERT INTO case_ratings (case_id, rating, comment, rated_by, assignee_id, rated_at) \
             SELECT id, $2, $3, $4, assignee_id, $5 FROM cases WHERE id = $1 \
             ON CONFLICT (case_id) DO UPDATE SET rating = excluded.rating, \
             comment = excluded.comment, rated_by = excluded.rated_by, \
             assignee_id = excluded.assignee_id, rated_at = excluded.rated_at",
        )
        .bind(case)
        .bind(rating.as_str())
        .bind(comment)
        .bind(by)
        .bind(at)
        .execute(&self.write)
        .await?;
        self.case_rating(case)
            .await?
            .ok_or(crate::StoreError::NotFound)
    }

    pub async fn case_rating(&self, case: CaseId) -> Result<Option<RatingRecord>> {
        let row: Option<RatingRow> = sqlx::query_as(
            "SELECT case_id, rating, comment, rated_by, assignee_id, rated_at \
             FROM case_ratings WHERE case_id = $1",
        )
        .bind(case)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            Ok(RatingRecord {
                case_id: r.case_id,
                rating: stored(Rating::parse, &r.rating)?,
                comment: r.comment,
                rated_by: r.rated_by,
                assignee: r.assignee_id,
                rated_at: r.rated_at,
            })
        })
        .transpose()
    }

    /// Scores of ratings given at or after `since`, per agent, queue, partner or organisation,
    /// the most rated first. Cases without one (no assignee, no queue, no partner) are left out
    /// of that grouping.
    pub async fn satisfaction_scores(
        &self,
        by: ScoreBy,
        since: Timestamp,
    ) -> Result<Vec<ScoreRow>> {
        let (key, join) = match by {
            ScoreBy::Agent => ("g.id, g.name", "JOIN users g ON g.id = r.assignee_id"),
            ScoreBy::Queue => ("g.id, g.name", "JOIN queues g ON g.id = c.queue_id"),
            ScoreBy::Partner => (
                "g.id, g.name",
                "JOIN organizations g ON g.id = c.partner_id",
            ),
            ScoreBy::Organization => (
                "g.id, g.name",
                "JOIN organizations g ON g.id = c.organization_id",
            ),
        };
        let rows: Vec<ScoreSql> = sqlx::query_as(&format!(
            "SELECT {key}, \
             SUM(CASE WHEN r.rating = 'good' THEN 1 ELSE 0 END) AS good, \
             SUM(CASE WHEN r.rating = 'bad' THEN 1 ELSE 0 END) AS bad \
             FROM case_ratings r JOIN cases c ON c.id = r.case_id {join} \
             WHERE r.rated_at >= $1 GROUP BY {key} ORDER BY COUNT(*) DESC, g.name"
        ))
        .bind(since)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ScoreRow {
                id: r.id,
                name: r.name,
                score: Score {
                    good: r.good,
                    bad: r.bad,
                },
            })
            .collect())
    }

    /// The score of every rating given at or after `since`, or of one partner's cases only
    /// (for its scorecard).
    pub async fn satisfaction_total(
        &self,
        partner: Option<backline_domain::OrgId>,
        since: Timestamp,
    ) -> Result<Score> {
        let (good, bad): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT SUM(CASE WHEN r.rating = 'good' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN r.rating = 'bad' THEN 1 ELSE 0 END) \
             FROM case_ratings r JOIN cases c ON c.id = r.case_id \
             WHERE r.rated_at >= $1 AND ($2 IS NULL OR c.partner_id = $2)",
        )
        .bind(since)
        .bind(partner)
        .fetch_one(&self.read)
        .await?;
        Ok(Score {
            good: good.unwrap_or(0),
            bad: bad.unwrap_or(0),
        })
    }
}
