//! Who else is on a case: staff following it, addresses copied on its mail, and agents who
//! have it open right now.

use crate::rows::UserCols;
use crate::{Result, Store, UserRef};
use backline_domain::{CaseId, Email, Timestamp, UserId};

/// An agent with the case open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    pub user: UserRef,
    /// Their reply box holds text.
    pub replying: bool,
    pub seen_at: Timestamp,
}

/// Where a case page stands, read in one round trip: the counters that move with everything
/// the staff page shows (migration 0026), and who else has the case open. A node that kept
/// the page's data under the same counters can draw the page from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasePageState {
    /// Moves with the case and every row the page shows of it (0: unchanged since 0026).
    pub case_revision: i64,
    /// Moves with the names pages share and with the agents one can assign to.
    pub directory_revision: i64,
    /// Moves with every macro (lists are ordered by use).
    pub macros_revision: i64,
    /// The knowledge generation kept suggestions are judged by.
    pub knowledge_generation: i64,
    pub present: Vec<Presence>,
}

#[derive(sqlx::FromRow)]
struct PageStateRow {
    case_revision: i64,
    directory_revision: i64,
    macros_revision: i64,
    knowledge_generation: i64,
    u_id: Option<UserId>,
    u_name: Option<String>,
    u_email: Option<String>,
    replying: Option<i64>,
    seen_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct PresenceRow {
    #[sqlx(flatten)]
    user: UserCols,
    replying: i64,
    seen_at: Timestamp,
}

impl Store {
    pub async fn case_followers(&self, case: CaseId) -> Result<Vec<UserRef>> {
        let rows: Vec<UserCols> = sqlx::query_as(
            "SELECT u.id AS u_id, u.name AS u_name, u.email AS u_email \
             FROM case_followers f JOIN users u ON u.id = f.user_id \
             WHERE f.case_id = $1 ORDER BY u.name, u.id",
        )
        .bind(case)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(UserRef::from).collect())
    }

    /// Starts (`true`) or stops following a case; doing it twice is harmless.
    pub async fn set_case_follower(&self, case: CaseId, user: UserId, on: bool) -> Result<()> {
        let sql = if on {
            "INSERT INTO case_followers (case_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM case_followers WHERE case_id = $1 AND user_id = $2"
        };
        sqlx::query(sql)
            .bind(case)
            .bind(user)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Adds (`true`) or removes an address copied on the case's mail.
    pub async fn set_case_cc(&self, case: CaseId, email: &Email, on: bool) -> Result<()> {
        let sql = if on {
            "INSERT INTO case_cc (case_id, email) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM case_cc WHERE case_id = $1 AND email = $2"
        };
        sqlx::query(sql)
            .bind(case)
            .bind(email.as_str())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Notes that `user` has the case open (and whether they are writing), and forgets
    /// visits older than `forget_before` while at it, so the table stays as small as the team.
    pub async fn touch_presence(
        &self,
        case: CaseId,
        user: UserId,
        replying: bool,
        now: Timestamp,
        forget_before: Timestamp,
    ) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM case_presence WHERE case_id = $1 AND seen_at < $2")
            .bind(case)
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO case_presence (case_id, user_id, replying, seen_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (case_id, user_id) DO UPDATE SET replying = $3, seen_at = $4",
        )
        .bind(case)
        .bind(user)
        .bind(i64::from(replying))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stops showing `user` on the case (they left the page).
    pub async fn leave_presence(&self, case: CaseId, user: UserId) -> Result<()> {
        sqlx::query("DELETE FROM case_presence WHERE case_id = $1 AND user_id = $2")
            .bind(case)
            .bind(user)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Who had the case open since `since`, other than `except`.
    pub async fn case_presence(
        &self,
        case: CaseId,
        since: Timestamp,
        except: UserId,
    ) -> Result<Vec<Presence>> {
        let rows: Vec<PresenceRow> = sqlx::query_as(
            "SELECT u.id AS u_id, u.name AS u_name, u.email AS u_email, p.replying, p.seen_at \
             FROM case_presence p JOIN users u ON u.id = p.user_id \
             WHERE p.case_id = $1 AND p.seen_at >= $2 AND p.user_id <> $3 ORDER BY u.name",
        )
        .bind(case)
        .bind(since)
        .bind(except)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Presence {
                user: r.user.into(),
                replying: r.replying != 0,
                seen_at: r.seen_at,
            })
            .collect())
    }

    /// The counters and presence of `case`'s page (see `CasePageState`): one row when nobody
    /// else is there, one per other person present otherwise.
    pub async fn case_page_state(
        &self,
        case: CaseId,
        since: Timestamp,
        except: UserId,
    ) -> Result<CasePageState> {
        let rows: Vec<PageStateRow> = sqlx::query_as(
            "SELECT \
             COALESCE((SELECT revision FROM case_page_revisions WHERE case_id = $1), 0) AS case_revision, \
             (SELECT revision FROM page_revisions WHERE scope = 'directory') AS directory_revision, \
             (SELECT revision FROM page_revisions WHERE scope = 'macros') AS macros_revision, \
             (SELECT generation FROM knowledge_generation WHERE id = 1) AS knowledge_generation, \
             u.id AS u_id, u.name AS u_name, u.email AS u_email, p.replying, p.seen_at \
             FROM (SELECT 1 AS one) here \
             LEFT JOIN case_presence p ON p.case_id = $1 AND p.seen_at >= $2 AND p.user_id <> $3 \
             LEFT JOIN users u ON u.id = p.user_id \
             ORDER BY u.name",
        )
        .bind(case)
        .bind(since)
        .bind(except)
        .fetch_all(&self.read)
        .await?;
        let first = rows.first().ok_or(crate::StoreError::NotFound)?;
        let mut state = CasePageState {
            case_revision: first.case_revision,
            directory_revision: first.directory_revision,
            macros_revision: first.macros_revision,
            knowledge_generation: first.knowledge_generation,
            present: Vec::new(),
        };
        for row in rows {
            if let (Some(id), Some(name), Some(email), Some(replying), Some(seen_at)) =
                (row.u_id, row.u_name, row.u_email, row.replying, row.seen_at)
            {
                state.present.push(Presence {
                    user: UserRef { id, name, email },
                    replying: replying != 0,
                    seen_at,
                });
            }
        }
        Ok(state)
    }
}
