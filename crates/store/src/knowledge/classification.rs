//! The classification of a solved case from what it is linked to, judged as each article
//! stood when the case was opened.

use crate::cases::record_event;
use crate::rows::stored;
use crate::{Result, StoreError};
use backline_domain::knowledge::{classify, LinkedArticle, LinkedCase};
use backline_domain::{ArticleId, ArticleState, Audience, CaseId, Role, Timestamp, UserId};
use serde_json::json;
use sqlx::{Any, Transaction};

/// A link of the case being classified, with what the classification needs of its target.
#[derive(sqlx::FromRow)]
struct LinkFacts {
    article_id: Option<ArticleId>,
    linked_case_id: Option<CaseId>,
    /// The case the linked article was written from.
    source_case_id: Option<CaseId>,
    /// When the linked case was solved.
    solved_at: Option<Timestamp>,
}

/// Works out and stores the classification of a case that is being solved, inside the
/// transaction that solves it, and records it as an event.
pub(crate) async fn classify_in(
    tx: &mut Transaction<'_, Any>,
    case: CaseId,
    actor: Option<UserId>,
    at: Timestamp,
) -> Result<()> {
    let (opened, role): (Timestamp, String) = sqlx::query_as(
        "SELECT c.created_at, u.role FROM cases c JOIN users u ON u.id = c.requester_id \
         WHERE c.id = $1",
    )
    .bind(case)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let filed_by_partner = stored(Role::parse, &role)? == Role::Partner;
    let links: Vec<LinkFacts> = sqlx::query_as(
        "SELECT l.article_id, l.linked_case_id, a.source_case_id, lc.solved_at \
         FROM case_links l LEFT JOIN articles a ON a.id = l.article_id \
         LEFT JOIN cases lc ON lc.id = l.linked_case_id WHERE l.case_id = $1",
    )
    .bind(case)
    .fetch_all(&mut **tx)
    .await?;
    let mut articles = Vec::new();
    let mut cases = Vec::new();
    for link in links {
        if let Some(article) = link.article_id {
            // The article as it stood when the case was opened: its last revision by then.
            let then: Option<(String, String)> = sqlx::query_as(
                "SELECT state, audience FROM article_revisions \
                 WHERE article_id = $1 AND created_at <= $2 ORDER BY revision DESC LIMIT 1",
            )
            .bind(article)
            .bind(opened)
            .fetch_optional(&mut **tx)
            .await?;
            let at_case_open = match then {
                Some((state, audience)) => Some((
                    stored(ArticleState::parse, &state)?,
                    stored(Audience::parse, &audience)?,
                )),
                None => None,
            };
            articles.push(LinkedArticle {
                id: article,
                at_case_open,
                created_from_this_case: link.source_case_id == Some(case),
            });
        } else if let Some(linked) = link.linked_case_id {
            cases.push(LinkedCase {
                id: linked,
                solved_before_open: link.solved_at.is_some_and(|s| s <= opened),
            });
        }
    }
    let classification = classify(filed_by_partner, &articles, &cases);
    sqlx::query("UPDATE cases SET classification = $1 WHERE id = $2")
        .bind(classification.as_str())
        .bind(case)
        .execute(&mut **tx)
        .await?;
    record_event(
        tx,
        case,
        actor,
        "classified",
        json!({"classification": classification}),
        at,
    )
    .await
}
