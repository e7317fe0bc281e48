//! The incident console: signals to qualify, declaring, updating with the clock to the next
//! committed update, the roster, notifications, and the post-mortem editor.

mod console;
mod incident;
mod report;
mod templates;

pub use console::*;
pub use incident::*;
pub use report::*;
pub use templates::*;

use backline_domain::{Span, Timestamp};
use backline_store::crisis::format_time;
use maud::{html, Markup};

fn clock(due: Option<Timestamp>) -> Markup {
    match due {
        Some(at) => html! { span.clock data-due=(at.as_millis()) { (format_time(at)) } },
        None => html! { span.num { "no update committed" } },
    }
}

/// The moment `minutes` from now, as RFC 3339; `None` for anything but a whole number of
/// minutes within a year either way (larger numbers would overflow the clock arithmetic).
fn in_minutes(minutes: &str) -> Option<String> {
    const YEAR_IN_MINUTES: i64 = 366 * 24 * 60;
    let m: i64 = minutes.trim().parse().ok()?;
    if !(-YEAR_IN_MINUTES..=YEAR_IN_MINUTES).contains(&m) {
        return None;
    }
    let at = Timestamp::now().checked_plus(Span::minutes(m)?)?;
    Some(at.to_rfc3339())
}
