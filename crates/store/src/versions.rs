//! Versions of the settings people edit (optimistic concurrency, as cases have): SLA policies
//! and calendars, routing rules, queues (with their members), macros, partner agreements,
//! organisations (a partner's relationship manager included), message templates, stored
//! settings (the mail settings, the health weights), case categories, staffing's known events
//! and success accounts. Every change adds one to the row's `version`; a write that names the
//! version it was prepared against is refused with [`StoreError::Stale`] when the row moved on.
//!
//! Each writing transaction calls [`advance`] (or [`advance_or_absent`]) before anything else,
//! so the check and the change are one step: on PostgreSQL the UPDATE locks the row, and a
//! concurrent writer holding the same expectation waits, then finds the version moved on and
//! is refused; on SQLite the single writer runs the two one after the other.

use crate::sql::{Arg, Sql};
use crate::{Result, StoreError};
use sqlx::{Any, Transaction};

/// A table whose rows carry a `version`, with the column that names a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Versioned {
    SlaPolicy,
    SlaCalendar,
    RoutingRule,
    Queue,
    Macro,
    Agreement,
    Organization,
    Template,
    Setting,
    Category,
    StaffingEvent,
    SuccessAccount,
}

impl Versioned {
    /// The table and its key column: fixed names, never from a request.
    fn table_and_key(self) -> (&'static str, &'static str) {
        match self {
            Versioned::SlaPolicy => ("sla_policies", "id"),
            Versioned::SlaCalendar => ("sla_calendars", "id"),
            Versioned::RoutingRule => ("routing_rules", "id"),
            Versioned::Queue => ("queues", "id"),
            Versioned::Macro => ("macros", "id"),
            Versioned::Agreement => ("partner_agreements", "partner_id"),
            Versioned::Organization => ("organizations", "id"),
            Versioned::Template => ("templates", "kind"),
            Versioned::Setting => ("settings", "key"),
            Versioned::Category => ("categories", "id"),
            Versioned::StaffingEvent => ("staffing_events", "id"),
            Versioned::SuccessAccount => ("success_accounts", "org_id"),
        }
    }
}

/// Moves the row's version on by one inside `tx` and answers the new version. `expected`
/// `None` writes whatever is there (last write wins); `Some(v)` only if the row is still at
/// `v`, else [`StoreError::Stale`] with the version it is at. A missing row is
/// [`StoreError::NotFound`].
pub(crate) async fn advance(
    tx: &mut Transaction<'_, Any>,
    what: Versioned,
    key: Arg,
    expected: Option<i64>,
) -> Result<i64> {
    match advance_or_absent(tx, what, key, expected).await? {
        Some(version) => Ok(version),
        None => Err(StoreError::NotFound),
    }
}

/// [`advance`] for rows that exist only once first written (a template or an agreement on its
/// default, an unset setting): a missing row is version 0, and `Ok(None)` tells the caller to
/// insert it (at version 1, with [`first_write`] deciding what a racing insert means).
pub(crate) async fn advance_or_absent(
    tx: &mut Transaction<'_, Any>,
    what: Versioned,
    key: Arg,
    expected: Option<i64>,
) -> Result<Option<i64>> {
    let (table, column) = what.table_and_key();
    let mut update = Sql::new(&format!(
        "UPDATE {table} SET version = version + 1 WHERE {column} = "
    ));
    update.bind(key.clone());
    if let Some(expected) = expected {
        update.push(" AND version = ").bind(Arg::Int(expected));
    }
    update.push(" RETURNING version");
    if let Some((version,)) = update
        .query_as::<(i64,)>()
        .fetch_optional(&mut **tx)
        .await?
    {
        return Ok(Some(version));
    }
    // Nothing moved: either there is no such row, or it is at another version.
    let mut read = Sql::new(&format!("SELECT version FROM {table} WHERE {column} = "));
    read.bind(key);
    let current: Option<(i64,)> = read.query_as().fetch_optional(&mut **tx).await?;
    let current = current.map(|(version,)| version);
    match (current, expected) {
        (Some(current), _) => Err(StoreError::Stale { current }),
        (None, None | Some(0)) => Ok(None),
        (None, Some(_)) => Err(StoreError::Stale { current: 0 }),
    }
}

/// What a failed first insert of a row [`advance_or_absent`] found missing means: another
/// writer inserted it meanwhile, so a write prepared against "no row yet" is stale.
pub(crate) fn first_write(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Stale { current: 1 },
        _ => StoreError::Database(e),
    }
}
