//! The partner program's storage: agreements, queues and routing rules, courses, attempts and
//! certificates, fee reports, and the facts scorecards are computed from.

mod agreements;
mod queues;
mod routing;
mod scorecards;
mod training;

pub use agreements::StoredAgreement;
pub(crate) use queues::take_turn;
pub use queues::{Queue, QueueMember};
pub use routing::RoutingRule;
pub use scorecards::FeeReport;
pub use training::{Attempt, Certificate, Course, NewCourse};

use crate::{Result, StoreError, UserRef};
use backline_domain::UserId;
use sqlx::any::AnyRow;
use sqlx::Row;

pub(super) fn user_ref(row: &AnyRow, prefix: &str) -> Result<UserRef> {
    Ok(UserRef {
        id: UserId(row.try_get(format!("{prefix}_id").as_str())?),
        name: row.try_get(format!("{prefix}_name").as_str())?,
        email: row.try_get(format!("{prefix}_email").as_str())?,
    })
}

pub(super) fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}
