//! Reading rows: the column types both backends share, and the pieces many queries join in.
//!
//! Rows are mapped with `#[derive(sqlx::FromRow)]`. Ids and times decode directly (they are
//! BIGINT columns); a model that holds domain enums or JSON is read into a private row struct
//! first and converted with `TryFrom`, so a value the code never wrote is reported as
//! `StoreError::Corrupt`.

use crate::{Result, StoreError, UserRef};
use backline_domain::UserId;

/// A 0/1 column: sqlx's `Any` driver has no SQLite boolean, so flags are stored as integers on
/// both backends. Read it with `#[sqlx(try_from = "Flag")]` into a `bool`.
#[derive(Debug, Clone, Copy, sqlx::Type)]
#[sqlx(transparent)]
pub struct Flag(i64);

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0 != 0
    }
}

/// Parses a stored enum value; a failure means the database holds something the code never
/// wrote, which is reported rather than papered over.
pub(crate) fn stored<T>(
    parse: impl Fn(&str) -> Result<T, backline_domain::ParseError>,
    text: &str,
) -> Result<T> {
    parse(text).map_err(|e| StoreError::Corrupt(e.0))
}

/// A stored JSON column that does not parse: `serde_json::from_str(text).map_err(corrupt)`.
pub(crate) fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// Converts rows read as `R` into the models they hold.
pub(crate) fn convert<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> Result<Vec<T>> {
    rows.into_iter().map(T::try_from).collect()
}

/// A person joined into another row as `u_id`, `u_name` and `u_email`.
#[derive(sqlx::FromRow)]
pub(crate) struct UserCols {
    u_id: UserId,
    u_name: String,
    u_email: String,
}

impl From<UserCols> for UserRef {
    fn from(u: UserCols) -> UserRef {
        UserRef {
            id: u.u_id,
            name: u.u_name,
            email: u.u_email,
        }
    }
}

/// A person joined into another row by a LEFT JOIN, as `u_id`, `u_name` and `u_email`.
#[derive(sqlx::FromRow)]
pub(crate) struct MaybeUserCols {
    u_id: Option<UserId>,
    u_name: Option<String>,
    u_email: Option<String>,
}

impl From<MaybeUserCols> for Option<UserRef> {
    fn from(u: MaybeUserCols) -> Option<UserRef> {
        match (u.u_id, u.u_name, u.u_email) {
            (Some(id), Some(name), Some(email)) => Some(UserRef { id, name, email }),
            _ => None,
        }
    }
}
