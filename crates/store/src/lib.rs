//! Backline's storage: one set of SQL over SQLite (embedded default) and PostgreSQL.
//!
//! Queries go through sqlx's `Any` driver with `$N` placeholders, which both backends accept,
//! and portable types only (BIGINT, TEXT, BOOLEAN; times as Unix milliseconds). Schema lives in
//! one migration folder per backend. SQLite gets a single writer connection beside a pool of
//! readers: SQLite allows one writer at a time anyway, and queueing writers in the pool is
//! cheaper than having them spin on the database lock.

pub mod analytics;
mod batch;
mod cases;
mod changes;
pub mod community;
pub mod crisis;
mod error;
pub mod help;
mod knowledge;
pub mod mail;
mod models;
mod orgs;
mod partners;
pub mod rollups;
mod rows;
mod sla;
pub mod social;
mod sql;
mod staffing;
mod success;
pub mod testing;
mod users;
mod versions;
pub mod webhooks;

pub use cases::{
    CaseChanges, CaseFilter, CaseOrigin, CasePageState, CommentOrigin, MacroRecord, NewCase,
    NewComment, Presence, RatingRecord, Routing, SavedView, ScoreBy, ScoreRow,
};
pub use changes::{Change, ChangeListener, Heard};
pub use error::StoreError;
pub use knowledge::{ArticleEdit, ArticleFilter, NewArticle};
pub use models::*;
pub use orgs::{NewOrg, OrgChanges};
pub use partners::{
    Attempt, Certificate, Course, FeeReport, NewCourse, Queue, QueueMember, RoutingRule,
    StoredAgreement,
};
pub use sla::{CaseClock, ClocksUpdate, SlaCalendar, SlaCaseFacts, SlaPolicy, SlaPolicyInput};
pub use staffing::{StaffMessage, StaffingEvent, StaffingEventInput};
pub use success::{NewRun, Playbook, Run, SuccessAccount, Suggestion, Task};
pub use users::NewUser;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// A SQLite file `backline.db` inside this directory (created if missing).
    Sqlite { data_dir: PathBuf },
    /// A PostgreSQL URL; several nodes may share it.
    Postgres { url: String },
}

impl StoreConfig {
    /// PostgreSQL when a URL is given, otherwise SQLite in `data_dir`.
    pub fn from_flags(data_dir: &Path, database_url: Option<&str>) -> Result<Self> {
        match database_url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(StoreConfig::Sqlite {
                data_dir: data_dir.to_path_buf(),
            }),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(StoreConfig::Postgres {
                    url: url.to_string(),
                })
            }
            Some(_) => Err(StoreError::Config(
                "--database-url must start with postgres:// (leave it out for SQLite)".into(),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// Reads, and on PostgreSQL writes too.
    read: AnyPool,
    /// On SQLite, one connection that performs every write.
    write: AnyPool,
    /// On SQLite, group commit for new cases (see `batch`).
    case_batcher: Option<batch::CaseBatcher>,
    /// Committed changes, for in-process listeners (SQLite; see `changes`).
    local_changes: tokio::sync::broadcast::Sender<changes::Change>,
    /// Kept for `LISTEN`, which needs its own connection.
    postgres_url: Option<String>,
}

impl Store {
    /// Connects, creating the SQLite file if needed, and brings the schema up to date.
    pub async fn open(config: &StoreConfig) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let store = match config {
            StoreConfig::Sqlite { data_dir } => {
                std::fs::create_dir_all(data_dir).map_err(|e| {
                    StoreError::Config(format!("cannot create {}: {e}", data_dir.display()))
                })?;
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    data_dir.join("backline.db").display()
                );
                let write = sqlite_pool(&url, 1).await?;
                // The writer checkpoints only as a safety net (~32 MB of WAL); normally the
                // background checkpointer below does it without stalling commits.
                sqlx::query("PRAGMA wal_autocheckpoint = 8000")
                    .execute(&write)
                    .await?;
                // Migrate through the writer before readers open, so they see the schema.
                SQLITE_MIGRATIONS.run(&write).await?;
                let readers = std::thread::available_parallelism().map_or(4, |n| n.get() * 2);
                let read = sqlite_pool(&url, readers as u32).await?;
                let local_changes = changes::local_feed();
                let case_batcher = Some(batch::CaseBatcher::start(
                    write.clone(),
                    local_changes.clone(),
                ));
                spawn_checkpointer(read.clone());
                // Statistics for the query planner: gathered at open where missing, then kept
                // current (SQLite re-analyses only tables that grew or shrank a lot).
                sqlx::query("PRAGMA optimize = 0x10002")
                    .execute(&write)
                    .await?;
                spawn_optimizer(write.clone());
                Store {
                    backend: Backend::Sqlite,
                    read,
                    write,
                    case_batcher,
                    local_changes,
                    postgres_url: None,
                }
            }
            StoreConfig::Postgres { url } => {
                let pool = AnyPoolOptions::new()
                    .max_connections(24)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?;
                // sqlx takes an advisory lock, so nodes starting together migrate once.
                POSTGRES_MIGRATIONS.run(&pool).await?;
                Store {
                    backend: Backend::Postgres,
                    read: pool.clone(),
                    write: pool,
                    case_batcher: None,
                    local_changes: changes::local_feed(),
                    postgres_url: Some(url.clone()),
                }
            }
        };
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Answers when the database does; used by `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        let row: AnyRow = sqlx::query("SELECT 1").fetch_one(&self.read).await?;
        drop(row);
        Ok(())
    }

    /// Brings the query planner's statistics up to date now (after a bulk load); PostgreSQL's
    /// autovacuum does this by itself.
    pub async fn analyze(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            sqlx::query("ANALYZE").execute(&self.write).await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

async fn sqlite_pool(url: &str, connections: u32) -> Result<AnyPool> {
    let pool = AnyPoolOptions::new()
        .max_connections(connections)
        .min_connections(1)
        // An SQLite connection is a file handle in this process: it cannot have gone away
        // like a server's, and checking it costs a round trip to its worker thread per query.
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // WAL lets readers run beside the writer; NORMAL sync keeps every committed
                // transaction across a process crash (only power loss may drop the last ones).
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                )
                .await?;
                Ok(())
            })
        })
        .connect(url)
        .await?;
    Ok(pool)
}

/// Runs `PRAGMA optimize` on the writer every hour, as SQLite advises for long-lived
/// connections, so plans follow the data as it grows. Ends when the pool closes.
fn spawn_optimizer(pool: AnyPool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            if pool.is_closed() {
                break;
            }
            if let Err(e) = sqlx::query("PRAGMA optimize").execute(&pool).await {
                if pool.is_closed() {
                    break;
                }
                tracing::warn!(error = %e, "SQLite optimize failed");
            }
        }
    });
}

/// Folds the SQLite write-ahead log back into the database every half second, from a reader
/// connection in PASSIVE mode, which never blocks the writer. Done in the writer (SQLite's
/// default), a checkpoint stalls every commit queued behind it. Ends when the pool closes.
fn spawn_checkpointer(pool: AnyPool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                break;
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                if pool.is_closed() {
                    break;
                }
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
        }
    });
}
