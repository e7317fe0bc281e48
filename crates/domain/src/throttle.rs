//! Back-off for repeated failures (wrong passwords): a few are free, then each further one
//! doubles the wait before the next attempt is even checked, up to a ceiling.

use crate::{Span, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Failures allowed without any wait.
    pub free: usize,
    /// The first wait; each further failure doubles it.
    pub first_wait: Span,
    pub max_wait: Span,
    /// Failures older than this are forgotten.
    pub window: Span,
}

impl Backoff {
    /// For one account: five tries, then 1 s, 2 s, 4 s... up to 15 minutes.
    pub const ACCOUNT: Backoff = Backoff {
        free: 5,
        first_wait: Span::from_millis(1_000),
        max_wait: Span::from_millis(15 * 60_000),
        window: Span::from_millis(60 * 60_000),
    };
    /// For one client address: looser, since an office or a proxy shares one.
    pub const ADDRESS: Backoff = Backoff {
        free: 30,
        first_wait: Span::from_millis(1_000),
        max_wait: Span::from_millis(15 * 60_000),
        window: Span::from_millis(60 * 60_000),
    };

    /// Status-page subscriptions for one email address: three confirmation mails, then a
    /// minute doubling up to a day (each mail goes to someone who may not have asked).
    pub const SUBSCRIBE_EMAIL: Backoff = Backoff {
        free: 3,
        first_wait: Span::from_millis(60_000),
        max_wait: Span::from_millis(24 * 3_600_000),
        window: Span::from_millis(24 * 3_600_000),
    };
    /// Status-page subscriptions from one client address.
    pub const SUBSCRIBE_ADDRESS: Backoff = Backoff {
        free: 10,
        first_wait: Span::from_millis(60_000),
        max_wait: Span::from_millis(24 * 3_600_000),
        window: Span::from_millis(24 * 3_600_000),
    };

    /// Anonymous "Was this helpful?" answers from one client address: twenty an hour, then a
    /// minute doubling up to a day, so a script cannot stuff an article's figures.
    pub const HELP_VOTE_ADDRESS: Backoff = Backoff {
        free: 20,
        first_wait: Span::from_millis(60_000),
        max_wait: Span::from_millis(24 * 3_600_000),
        window: Span::from_millis(3_600_000),
    };

    /// When the next attempt may be checked, given the failures inside the window (any order);
    /// `None` when it may be checked now.
    pub fn wait_until(&self, failures: &[Timestamp], now: Timestamp) -> Option<Timestamp> {
        let recent: Vec<Timestamp> = failures
            .iter()
            .copied()
            .filter(|at| *at > now.minus(self.window))
            .collect();
        if recent.len() < self.free {
            return None;
        }
        let doublings = (recent.len() - self.free).min(30) as u32;
        let wait = Span::from_millis(
            self.first_wait
                .as_millis()
                .saturating_mul(1_i64 << doublings)
                .min(self.max_wait.as_millis()),
        );
        let last = recent.into_iter().max()?;
        let until = last.plus(wait);
        (until > now).then_some(until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000 + seconds * 1_000)
    }

    #[test]
    fn a_few_failures_are_free_then_the_wait_doubles_up_to_the_ceiling() {
        let b = Backoff::ACCOUNT;
        let four: Vec<_> = (0..4).map(at).collect();
        assert_eq!(b.wait_until(&four, at(4)), None);
        let five: Vec<_> = (0..5).map(at).collect();
        assert_eq!(
            b.wait_until(&five, at(4)),
            Some(at(5)),
            "1 s after the fifth"
        );
        assert_eq!(b.wait_until(&five, at(5)), None);
        let seven: Vec<_> = (0..7).map(at).collect();
        assert_eq!(
            b.wait_until(&seven, at(6)),
            Some(at(10)),
            "4 s after the seventh"
        );
        let many: Vec<_> = (0..40).map(at).collect();
        assert_eq!(b.wait_until(&many, at(39)), Some(at(39 + 15 * 60)));
    }

    #[test]
    fn old_failures_are_forgotten() {
        let b = Backoff::ACCOUNT;
        let old: Vec<_> = (0..10).map(at).collect();
        assert_eq!(b.wait_until(&old, at(2 * 3600)), None);
    }
}
