//! The server's "now": the system clock, which tests can move forward so that time-based rules
//! (sign-in back-off, subscription limits) are checked without waiting.

use backline_domain::{Span, Timestamp};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Clone, Default)]
pub struct Clock {
    ahead_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        Timestamp::now().plus(Span::from_millis(self.ahead_ms.load(Ordering::Relaxed)))
    }

    /// Moves this clock forward by `by` (tests).
    pub fn advance(&self, by: Span) {
        self.ahead_ms.fetch_add(by.as_millis(), Ordering::Relaxed);
    }
}
