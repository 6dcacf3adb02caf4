//! Login throttling: after too many failures for one key within a window, further attempts
//! are refused until the window has passed. Keys are the login name and the client address,
//! so neither guessing many passwords for one user nor one client guessing many users works.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Failures allowed per key within [`WINDOW`] before attempts are refused.
pub const MAX_FAILURES: u32 = 5;
/// How long failures are remembered, and how long a blocked key waits.
pub const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct Throttle {
    failures: HashMap<String, (u32, Instant)>,
}

impl Throttle {
    /// Whether `key` may try now.
    pub fn allows(&self, key: &str, now: Instant) -> bool {
        match self.failures.get(key) {
            Some((count, since)) => *count < MAX_FAILURES || now.duration_since(*since) >= WINDOW,
            None => true,
        }
    }

    /// Records a failed attempt; a failure after the window has passed starts a new count.
    pub fn record_failure(&mut self, key: &str, now: Instant) {
        let entry = self.failures.entry(key.to_owned()).or_insert((0, now));
        if now.duration_since(entry.1) >= WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
        // Keep memory bounded: forget stale keys now and then.
        if self.failures.len() > 10_000 {
            self.failures
                .retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        }
    }

    /// A successful login clears the key's failures.
    pub fn reset(&mut self, key: &str) {
        self.failures.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_blocked_after_the_allowed_failures_and_freed_after_the_window() {
        let mut throttle = Throttle::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(throttle.allows("admin", start));
            throttle.record_failure("admin", start);
        }
        assert!(!throttle.allows("admin", start + Duration::from_secs(59)));
        assert!(throttle.allows("other", start));
        assert!(throttle.allows("admin", start + WINDOW));
    }

    #[test]
    fn a_success_resets_the_count() {
        let mut throttle = Throttle::default();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES {
            throttle.record_failure("demo", now);
        }
        throttle.reset("demo");
        assert!(throttle.allows("demo", now));
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let mut throttle = Throttle::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            throttle.record_failure("demo", start);
        }
        throttle.record_failure("demo", start + WINDOW);
        assert!(throttle.allows("demo", start + WINDOW));
    }
}
