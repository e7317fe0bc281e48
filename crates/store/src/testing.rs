//! Helpers for tests that need a real database of either kind. Used by this crate's tests
//! and by the server's; they never run in production code paths.

use crate::{StoreConfig, StoreError};
use sqlx::Executor;
use std::sync::atomic::{AtomicU32, Ordering};

/// The environment variable naming the private PostgreSQL server `scripts/test` starts.
pub const PG_URL_VAR: &str = "BACKLINE_TEST_PG_URL";

/// A fresh, empty PostgreSQL database on the test server, for one test.
///
/// Panics with instructions when the server is not configured: a PostgreSQL test that cannot
/// reach PostgreSQL must fail, not pass silently.
pub async fn fresh_postgres() -> StoreConfig {
    let admin_url = std::env::var(PG_URL_VAR).unwrap_or_else(|_| {
        panic!("{PG_URL_VAR} is not set: run the suite with scripts/test, which starts a private PostgreSQL")
    });
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "backline_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        backline_domain::Timestamp::now().as_millis() % 1_000_000
    );
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .expect("connect to the test PostgreSQL server");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .map_err(StoreError::Database)
        .expect("create a test database");
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(base, _)| base);
    StoreConfig::Postgres {
        url: format!("{base}/{name}"),
    }
}

/// Runs a statement on the store's database outside any store method, for tests that need to
/// break something underneath a running server (drop or rename a table, say).
pub async fn execute_raw(store: &crate::Store, sql: &str) -> crate::Result<()> {
    sqlx::query(sql).execute(&store.write).await?;
    Ok(())
}

/// A SQLite store in a temporary folder that lives as long as the returned guard.
pub fn fresh_sqlite() -> (StoreConfig, tempfile_guard::TempDir) {
    let dir = tempfile_guard::TempDir::new();
    (
        StoreConfig::Sqlite {
            data_dir: dir.path().to_path_buf(),
        },
        dir,
    )
}

/// A minimal temporary directory, so the library does not depend on a test-only crate.
pub mod tempfile_guard {
    use std::path::{Path, PathBuf};

    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new() -> Self {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let path = std::env::temp_dir().join(format!(
                "backline-test-{}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed),
                backline_domain::Timestamp::now().as_millis()
            ));
            std::fs::create_dir_all(&path).expect("create a temporary directory");
            TempDir(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Default for TempDir {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
