//! Crisis management storage: services and who uses them, the roster, signals, incidents and
//! their timeline, post-mortems, templates, status subscriptions, and the mail outbox.
//!
//! Every email is an `outbox` row written in the transaction of the change that causes it;
//! the mail worker claims due rows for a while (so one node sends each), and marks them sent.

mod incidents;
pub(crate) mod outbox;
mod postmortems;
mod roster;
mod services;
mod signals;
mod subscriptions;
mod templates;
mod timeline;

pub use incidents::{Incident, IncidentEvent, IncidentUpdate, NewIncident};
pub use outbox::{Mail, Notification, OutboxMail};
pub use postmortems::Postmortem;
pub use roster::RosterEntry;
pub use services::Service;
pub use signals::{NewSignal, SignalGroup};

use backline_domain::Timestamp;

/// When a time is shown in messages: `2026-11-23 15:30 UTC`.
pub fn format_time(at: Timestamp) -> String {
    let at = at.to_offset();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}
