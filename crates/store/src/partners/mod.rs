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
