use thiserror::Error;

/// Everything that can go wrong in storage, sorted by what the caller should do about it.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken, e.g. a slug or email already taken.
    #[error("{0}")]
    Conflict(String),
    /// The request names something it may not use (an attachment of someone else's, say).
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// A write prepared against an older version of the record than the stored one.
    #[error("changed since it was read (now version {current})")]
    Stale { current: i64 },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Turns a unique-constraint violation into a `Conflict` with a readable message.
    pub(crate) fn unique(message: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
        move |e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(message.to_string())
            }
            _ => StoreError::Database(e),
        }
    }
}
