//! Which cases, articles and community questions changed, for whoever keeps a copy (each
//! node's search index).
//!
//! On SQLite there is one process, so changes travel over an in-process broadcast after each
//! commit. On PostgreSQL every write also calls `pg_notify` inside its transaction: PostgreSQL
//! delivers notifications only when (and if) the transaction commits, to every node listening,
//! so each node hears about the others' writes too. Either way a listener can miss changes
//! (it started late, fell behind, or lost its connection); it is then told `Lost` and catches
//! up from `changed_since`, which reads the `updated_at` columns.

use crate::{Backend, Result, Store, StoreError};
use backline_domain::{ArticleId, CaseId, Timestamp};
use sqlx::postgres::PgListener;
use sqlx::{Any, Transaction};
use tokio::sync::broadcast;

const CHANNEL: &str = "backline_changes";
/// Local changes buffered per listener before it is told it fell behind.
const LOCAL_BUFFER: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Change {
    Case(CaseId),
    Article(ArticleId),
    /// A community question, or what the index holds with it: its answers, its state (held,
    /// published, taken down), its accepted answer, a merge.
    Question(i64),
}

impl Change {
    fn encode(self) -> String {
        match self {
            Change::Case(id) => format!("case:{id}"),
            Change::Article(id) => format!("article:{id}"),
            Change::Question(id) => format!("question:{id}"),
        }
    }

    fn decode(text: &str) -> Option<Change> {
        let (kind, id) = text.split_once(':')?;
        let id: i64 = id.parse().ok()?;
        match kind {
            "case" => Some(Change::Case(CaseId(id))),
            "article" => Some(Change::Article(ArticleId(id))),
            "question" => Some(Change::Question(id)),
            _ => None,
        }
    }
}

/// What a listener hears next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    Changed(Change),
    /// Some changes may have been missed: catch up with `Store::changed_since`.
    Lost,
}

pub struct ChangeListener {
    inner: Inner,
}

enum Inner {
    Local(broadcast::Receiver<Change>),
    Postgres(Box<PgListener>),
}

impl ChangeListener {
    /// Waits for the next change. `None` once the store is gone.
    pub async fn next(&mut self) -> Option<Heard> {
        match &mut self.inner {
            Inner::Local(rx) => match rx.recv().await {
                Ok(change) => Some(Heard::Changed(change)),
                Err(broadcast::error::RecvError::Lagged(_)) => Some(Heard::Lost),
                Err(broadcast::error::RecvError::Closed) => None,
            },
            Inner::Postgres(listener) => match listener.try_recv().await {
                Ok(Some(n)) => Some(match Change::decode(n.payload()) {
                    Some(change) => Heard::Changed(change),
                    None => Heard::Lost,
                }),
                // The connection dropped; the next call reconnects.
                Ok(None) => Some(Heard::Lost),
                Err(e) => {
                    tracing::warn!(error = %e, "change listener failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    Some(Heard::Lost)
                }
            },
        }
    }
}

pub(crate) fn local_feed() -> broadcast::Sender<Change> {
    broadcast::channel(LOCAL_BUFFER).0
}

/// Announces a change inside the transaction that makes it (PostgreSQL only; on SQLite the
/// store announces after commit).
pub(crate) async fn announce_in(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    change: Change,
) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(change.encode())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// Announces committed changes to local listeners (SQLite; PostgreSQL announced in the
    /// transaction itself).
    pub(crate) fn announce(&self, changes: &[Change]) {
        if self.backend == Backend::Sqlite {
            for change in changes {
                // No listener is fine: nobody keeps a copy.
                let _ = self.local_changes.send(*change);
            }
        }
    }

    /// Starts listening. Changes committed before this call are not heard: read them with
    /// `changed_since` after subscribing.
    pub async fn listen(&self) -> Result<ChangeListener> {
        let inner = match (&self.backend, &self.postgres_url) {
            (Backend::Postgres, Some(url)) => {
                let mut listener = PgListener::connect(url).await?;
                listener.listen(CHANNEL).await?;
                Inner::Postgres(Box::new(listener))
            }
            (Backend::Postgres, None) => {
                return Err(StoreError::Config("no PostgreSQL URL to listen on".into()))
            }
            (Backend::Sqlite, _) => Inner::Local(self.local_changes.subscribe()),
        };
        Ok(ChangeListener { inner })
    }

    /// Every case, article and community question changed at or after `since` (by their
    /// `updated_at`; a question also when one of its answers or comments changed).
    pub async fn changed_since(&self, since: Timestamp) -> Result<Vec<Change>> {
        let cases: Vec<CaseId> = sqlx::query_scalar("SELECT id FROM cases WHERE updated_at >= $1")
            .bind(since)
            .fetch_all(&self.read)
            .await?;
        let articles: Vec<ArticleId> =
            sqlx::query_scalar("SELECT id FROM articles WHERE updated_at >= $1")
                .bind(since)
                .fetch_all(&self.read)
                .await?;
        let questions: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT COALESCE(question_id, id) FROM community_posts WHERE updated_at >= $1",
        )
        .bind(since)
        .fetch_all(&self.read)
        .await?;
        Ok(cases
            .into_iter()
            .map(Change::Case)
            .chain(articles.into_iter().map(Change::Article))
            .chain(questions.into_iter().map(Change::Question))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_travel_as_text_and_back() {
        for change in [
            Change::Case(CaseId(7)),
            Change::Article(ArticleId(12)),
            Change::Question(3),
        ] {
            assert_eq!(Change::decode(&change.encode()), Some(change));
        }
        assert_eq!(Change::decode("case:x"), None);
        assert_eq!(Change::decode("comment:1"), None);
    }
}
