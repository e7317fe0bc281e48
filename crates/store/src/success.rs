//! Customer success: accounts (owner, stage, renewal), what their health is computed from,
//! versioned playbooks and suggestions, runs and their tasks, and a step's approved email
//! written to the outbox with the task in one transaction.

use crate::crisis::outbox::insert_mails;
use crate::crisis::Mail;
use crate::sql::Arg;
use crate::versions::{advance_or_absent, first_write, Versioned};
use crate::{Result, Store, StoreError};
use backline_domain::health::HealthFacts;
use backline_domain::playbooks::{PlannedTask, PlaybookContent, Stage};
use backline_domain::{OrgId, Span, Timestamp, UserId};

/// An account's success record; organisations without one have no owner yet.
#[derive(Debug, Clone, PartialEq)]
pub struct SuccessAccount {
    pub org: OrgId,
    pub owner: Option<UserId>,
    pub stage: Stage,
    pub renewal: Option<Timestamp>,
    pub updated_at: Timestamp,
    /// Moves on with every save.
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    org_id: OrgId,
    owner_id: Option<UserId>,
    stage: String,
    renewal_at: Option<Timestamp>,
    updated_at: Timestamp,
    version: i64,
}

impl TryFrom<AccountRow> for SuccessAccount {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> Result<Self> {
        Ok(SuccessAccount {
            org: r.org_id,
            owner: r.owner_id,
            stage: Stage::parse(&r.stage)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown stage {:?}", r.stage)))?,
            renewal: r.renewal_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

/// A playbook at its current version.
#[derive(Debug, Clone, PartialEq)]
pub struct Playbook {
    pub id: i64,
    pub version: i64,
    pub owner: Option<UserId>,
    pub content: PlaybookContent,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct PlaybookRow {
    id: i64,
    version: i64,
    owner_id: Option<UserId>,
    content: String,
    updated_at: Timestamp,
}

impl TryFrom<PlaybookRow> for Playbook {
    type Error = StoreError;
    fn try_from(r: PlaybookRow) -> Result<Self> {
        Ok(Playbook {
            id: r.id,
            version: r.version,
            owner: r.owner_id,
            content: serde_json::from_str(&r.content).map_err(crate::rows::corrupt)?,
            updated_at: r.updated_at,
        })
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Suggestion {
    pub id: i64,
    pub playbook_id: i64,
    pub author_id: UserId,
    pub body: String,
    /// `open`, `accepted` or `declined`.
    pub state: String,
    pub decided_by: Option<UserId>,
    pub created_at: Timestamp,
}

/// A run on an account.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Run {
    pub id: i64,
    pub playbook_id: i64,
    pub version: i64,
    pub org_id: OrgId,
    pub started_by: Option<UserId>,
    /// `manual` or the trigger's kind.
    pub trigger_kind: String,
    pub reason: String,
    pub outcome: Option<String>,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

/// A task of a run.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Task {
    pub id: i64,
    pub run_id: i64,
    pub step: i64,
    pub title: String,
    pub owner_id: UserId,
    pub due_at: Timestamp,
    pub done_at: Option<Timestamp>,
    pub note: Option<String>,
    pub email_to: Option<String>,
    pub email_sent_at: Option<Timestamp>,
}

/// A run as it starts: who, why, and the tasks it creates.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun<'a> {
    pub playbook: &'a Playbook,
    pub org: OrgId,
    pub started_by: Option<UserId>,
    pub trigger_kind: &'a str,
    pub reason: &'a str,
    /// Set for trigger runs: one run per playbook, account and key.
    pub trigger_key: Option<&'a str>,
    pub tasks: &'a [PlannedTask],
    pub at: Timestamp,
}

const TASK_COLUMNS: &str =
    "id, run_id, step, title, owner_id, due_at, done_at, note, email_to, email_sent_at";
const RUN_COLUMNS: &str = "id, playbook_id, version, org_id, started_by, trigger_kind, reason, \
                           outcome, started_at, finished_at";

impl Store {
    pub async fn success_accounts(&self) -> Result<Vec<SuccessAccount>> {
        let rows: Vec<AccountRow> = sqlx::query_as(
            "SELECT org_id, owner_id, stage, renewal_at, updated_at, version FROM success_accounts",
        )
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(SuccessAccount::try_from).collect()
    }

    /// Saves an account's record whatever version it is at (last write wins).
    pub async fn save_success_account(
        &self,
        org: OrgId,
        owner: Option<UserId>,
        stage: Stage,
        renewal: Option<Timestamp>,
    ) -> Result<()> {
        self.write_success_account(org, owner, stage, renewal, None)
            .await
            .map(drop)
    }

    /// Saves an account's record only while it is at `expected` (when given; 0 before its
    /// first save), else [`StoreError::Stale`]; answers the new version.
    pub async fn write_success_account(
        &self,
        org: OrgId,
        owner: Option<UserId>,
        stage: Stage,
        renewal: Option<Timestamp>,
        expected: Option<i64>,
    ) -> Result<i64> {
        let mut tx = self.write.begin().await?;
        let now = Timestamp::now();
        let version = match advance_or_absent(
            &mut tx,
            Versioned::SuccessAccount,
            Arg::Int(org.0),
            expected,
        )
        .await?
        {
            Some(version) => {
                sqlx::query(
                    "UPDATE success_accounts SET owner_id = $1, stage = $2, renewal_at = $3, \
                         updated_at = $4 WHERE org_id = $5",
                )
                .bind(owner)
                .bind(stage.as_str())
                .bind(renewal)
                .bind(now)
                .bind(org)
                .execute(&mut *tx)
                .await?;
                version
            }
            None => {
                // The first save. Without a precondition a racing first save is written
                // over (last write wins); with one it was prepared against "no record
                // yet", which is gone, so it is stale.
                let upsert = if expected.is_none() {
                    " ON CONFLICT (org_id) DO UPDATE SET owner_id = excluded.owner_id, \
                         stage = excluded.stage, renewal_at = excluded.renewal_at, \
                         updated_at = excluded.updated_at, version = success_accounts.version + 1"
                } else {
                    ""
                };
                sqlx::query_scalar(&format!(
                    "INSERT INTO success_accounts (org_id, owner_id, stage, renewal_at, \
                         updated_at) VALUES ($1, $2, $3, $4, $5){upsert} RETURNING version"
                ))
                .bind(org)
                .bind(owner)
                .bind(stage.as_str())
                .bind(renewal)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(first_write)?
            }
        };
        tx.commit().await?;
        Ok(version)
    }

    /// What an account's health is computed from: its cases (as customer or as the serving
    /// partner), ratings, incidents on services it uses and escalations, up to `now`.
    pub async fn health_facts(&self, org: OrgId, now: Timestamp) -> Result<HealthFacts> {
        let day = Span::DAY;
        let count = |sql: &'static str, from: Timestamp, to: Timestamp| {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(org)
                .bind(from)
                .bind(to)
                .fetch_one(&self.read)
        };
        let cases = "SELECT COUNT(*) FROM cases WHERE (organization_id = $1 OR partner_id = $1) \
                     AND created_at >= $2 AND created_at < $3";
        let last = count(cases, now.minus(day.times(30)), now).await?;
        let previous = count(cases, now.minus(day.times(60)), now.minus(day.times(30))).await?;
        let severe: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM cases WHERE (organization_id = $1 OR partner_id = $1) \
             AND priority IN ('urgent', 'high') AND status NOT IN ('solved', 'closed')",
        )
        .bind(org)
        .fetch_one(&self.read)
        .await?;
        let window = now.minus(day.times(90));
        let good = count(
            "SELECT COUNT(*) FROM case_ratings r JOIN cases c ON c.id = r.case_id \
             WHERE (c.organization_id = $1 OR c.partner_id = $1) AND r.rating = 'good' \
             AND r.rated_at >= $2 AND r.rated_at < $3",
            window,
            now,
        )
        .await?;
        let ratings = count(
            "SELECT COUNT(*) FROM case_ratings r JOIN cases c ON c.id = r.case_id \
             WHERE (c.organization_id = $1 OR c.partner_id = $1) \
             AND r.rated_at >= $2 AND r.rated_at < $3",
            window,
            now,
        )
        .await?;
        let incidents = self.incidents_touching(org, window, now).await?.len() as i64;
        let escalations = count(
            "SELECT COUNT(*) FROM case_events e JOIN cases c ON c.id = e.case_id \
             WHERE (c.organization_id = $1 OR c.partner_id = $1) AND e.kind = 'escalated' \
             AND e.created_at >= $2 AND e.created_at < $3",
            window,
            now,
        )
        .await?;
        let n = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
        Ok(HealthFacts {
            cases_last_30_days: n(last),
            cases_previous_30_days: n(previous),
            severe_open: n(severe),
            good_ratings: n(good),
            ratings: n(ratings),
            incidents: n(incidents),
            escalations: n(escalations),
        })
    }

    /// When incidents (not drills) touching a service the organisation uses were declared in
    /// `[from, to)`, most recent first.
    pub async fn incidents_touching(
        &self,
        org: OrgId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Timestamp>> {
        Ok(sqlx::query_scalar(
            "SELECT i.declared_at FROM incidents i WHERE i.dry_run = 0 \
             AND i.declared_at >= $2 AND i.declared_at < $3 AND EXISTS (\
               SELECT 1 FROM incident_services s JOIN service_usage u ON u.service_id = s.service_id \
               WHERE s.incident_id = i.id AND u.org_id = $1) \
             ORDER BY i.declared_at DESC",
        )
        .bind(org)
        .bind(from)
        .bind(to)
        .fetch_all(&self.read)
        .await?)
    }

    pub async fn playbooks(&self) -> Result<Vec<Playbook>> {
        let rows: Vec<PlaybookRow> = sqlx::query_as(
            "SELECT p.id, p.version, p.owner_id, v.content, p.updated_at FROM playbooks p \
             JOIN playbook_versions v ON v.playbook_id = p.id AND v.version = p.version \
             ORDER BY p.situation, p.name, p.id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(Playbook::try_from).collect()
    }

    /// A playbook at `version`, or at its current version.
    pub async fn playbook(&self, id: i64, version: Option<i64>) -> Result<Playbook> {
        let select = "SELECT p.id, v.version, p.owner_id, v.content, v.created_at AS updated_at \
                      FROM playbooks p JOIN playbook_versions v ON v.playbook_id = p.id \
                      WHERE p.id = $1 AND ";
        let row: Option<PlaybookRow> = match version {
            None => {
                sqlx::query_as(&format!("{select} v.version = p.version"))
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
            }
            Some(version) => {
                sqlx::query_as(&format!("{select} v.version = $2"))
                    .bind(id)
                    .bind(version)
                    .fetch_optional(&self.read)
                    .await?
            }
        };
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Saves a new playbook (`id` None, owned by `author`) or a new version of one.
    pub async fn save_playbook(
        &self,
        id: Option<i64>,
        content: &PlaybookContent,
        author: UserId,
    ) -> Result<i64> {
        let now = Timestamp::now();
        let json = serde_json::to_string(content).map_err(crate::rows::corrupt)?;
        let mut tx = self.write.begin().await?;
        let (id, version) = match id {
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO playbooks (name, situation, version, owner_id, updated_at) \
                     VALUES ($1, $2, 1, $3, $4) RETURNING id",
                )
                .bind(content.name.trim())
                .bind(content.situation.as_str())
                .bind(author)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                (id, 1)
            }
            Some(id) => {
                // The version is taken from the row as it is updated, so two saves at once
                // make two versions, not one lost.
                let version: Option<i64> = sqlx::query_scalar(
                    "UPDATE playbooks SET version = version + 1, name = $1, situation = $2, \
                     updated_at = $3 WHERE id = $4 RETURNING version",
                )
                .bind(content.name.trim())
                .bind(content.situation.as_str())
                .bind(now)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                (id, version.ok_or(StoreError::NotFound)?)
            }
        };
        sqlx::query(
            "INSERT INTO playbook_versions (playbook_id, version, content, author_id, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(version)
        .bind(json)
        .bind(author)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Versions of a playbook, newest first: (version, author, when).
    pub async fn playbook_versions(
        &self,
        id: i64,
    ) -> Result<Vec<(i64, Option<UserId>, Timestamp)>> {
        Ok(sqlx::query_as(
            "SELECT version, author_id, created_at FROM playbook_versions \
             WHERE playbook_id = $1 ORDER BY version DESC",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?)
    }

    pub async fn add_suggestion(&self, playbook: i64, author: UserId, body: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO playbook_suggestions (playbook_id, author_id, body, state, created_at) \
             VALUES ($1, $2, $3, 'open', $4) RETURNING id",
        )
        .bind(playbook)
        .bind(author)
        .bind(body)
        .bind(Timestamp::now())
        .fetch_one(&self.write)
        .await?)
    }

    pub async fn suggestions(&self, playbook: i64) -> Result<Vec<Suggestion>> {
        Ok(sqlx::query_as(
            "SELECT id, playbook_id, author_id, body, state, decided_by, created_at \
             FROM playbook_suggestions WHERE playbook_id = $1 ORDER BY id",
        )
        .bind(playbook)
        .fetch_all(&self.read)
        .await?)
    }

    /// Accepts or declines an open suggestion; `NotFound` when there is no open one.
    pub async fn decide_suggestion(
        &self,
        playbook: i64,
        id: i64,
        accepted: bool,
        by: UserId,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE playbook_suggestions SET state = $1, decided_by = $2, decided_at = $3 \
             WHERE id = $4 AND playbook_id = $5 AND state = 'open'",
        )
        .bind(if accepted { "accepted" } else { "declined" })
        .bind(by)
        .bind(Timestamp::now())
        .bind(id)
        .bind(playbook)
        .execute(&self.write)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Whether the playbook has a run on the account that is not finished.
    pub async fn open_run_exists(&self, playbook: i64, org: OrgId) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM playbook_runs WHERE playbook_id = $1 AND org_id = $2 \
             AND finished_at IS NULL",
        )
        .bind(playbook)
        .bind(org)
        .fetch_one(&self.read)
        .await?;
        Ok(n > 0)
    }

    /// Starts a run and creates its tasks in one transaction. `None` when a run with the same
    /// trigger key exists (another check started it first).
    pub async fn start_run(&self, run: &NewRun<'_>) -> Result<Option<i64>> {
        let mut tx = self.write.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO playbook_runs (playbook_id, version, org_id, started_by, trigger_kind, \
             reason, trigger_key, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(run.playbook.id)
        .bind(run.playbook.version)
        .bind(run.org)
        .bind(run.started_by)
        .bind(run.trigger_kind)
        .bind(run.reason)
        .bind(run.trigger_key)
        .bind(run.at)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Ok(None);
        };
        for task in run.tasks {
            sqlx::query(
                "INSERT INTO success_tasks (run_id, step, title, owner_id, due_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(task.step as i64)
            .bind(&task.title)
            .bind(task.owner)
            .bind(task.due)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(id))
    }

    pub async fn run(&self, id: i64) -> Result<Run> {
        let run: Option<Run> = sqlx::query_as(&format!(
            "SELECT {RUN_COLUMNS} FROM playbook_runs WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        run.ok_or(StoreError::NotFound)
    }

    /// Runs, newest first; of one account when `org` is given.
    pub async fn runs(&self, org: Option<OrgId>) -> Result<Vec<Run>> {
        Ok(match org {
            Some(org) => {
                sqlx::query_as(&format!(
                    "SELECT {RUN_COLUMNS} FROM playbook_runs WHERE org_id = $1 ORDER BY id DESC"
                ))
                .bind(org)
                .fetch_all(&self.read)
                .await?
            }
            None => {
                sqlx::query_as(&format!(
                    "SELECT {RUN_COLUMNS} FROM playbook_runs ORDER BY id DESC LIMIT 500"
                ))
                .fetch_all(&self.read)
                .await?
            }
        })
    }

    pub async fn run_tasks(&self, run: i64) -> Result<Vec<Task>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM success_tasks WHERE run_id = $1 ORDER BY step, id"
        ))
        .bind(run)
        .fetch_all(&self.read)
        .await?)
    }

    pub async fn task(&self, id: i64) -> Result<Task> {
        let task: Option<Task> = sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM success_tasks WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        task.ok_or(StoreError::NotFound)
    }

    /// A person's open tasks, soonest due first.
    pub async fn open_tasks_of(&self, owner: UserId) -> Result<Vec<Task>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM success_tasks WHERE owner_id = $1 AND done_at IS NULL \
             ORDER BY due_at, id"
        ))
        .bind(owner)
        .fetch_all(&self.read)
        .await?)
    }

    /// Marks a task done with an optional note; `NotFound` when it is not open.
    pub async fn complete_task(&self, id: i64, note: Option<&str>) -> Result<()> {
        let done = sqlx::query(
            "UPDATE success_tasks SET done_at = $1, note = $2 WHERE id = $3 AND done_at IS NULL",
        )
        .bind(Timestamp::now())
        .bind(note)
        .bind(id)
        .execute(&self.write)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Records the task's email as approved and writes it to the outbox, in one transaction;
    /// `Conflict` when it was sent already (a second approval sends nothing).
    pub async fn send_task_email(&self, id: i64, mail: &Mail) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE success_tasks SET email_to = $1, email_sent_at = $2 \
             WHERE id = $3 AND email_sent_at IS NULL",
        )
        .bind(&mail.recipient)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "this step's email was sent already".into(),
            ));
        }
        insert_mails(&mut tx, std::slice::from_ref(mail), None, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Finishes a run with its outcome; `NotFound` when it is not open.
    pub async fn finish_run(&self, id: i64, outcome: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE playbook_runs SET outcome = $1, finished_at = $2 \
             WHERE id = $3 AND finished_at IS NULL",
        )
        .bind(outcome)
        .bind(Timestamp::now())
        .bind(id)
        .execute(&self.write)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
