//! Login throttling: after too many failures for one key within a window, further attempts
//! are refused until the window has passed. The keys are the (login, client) pair, so one
//! client cannot guess many passwords for a user, and the client alone with a higher limit,
//! so one client cannot guess passwords for many users. No key is the login alone: failures
//! from elsewhere never lock a user out ([`login_keys`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Failures allowed per (login, client) within [`WINDOW`] before attempts are refused.
pub const MAX_FAILURES: u32 = 5;
/// Failures allowed per client, whatever the logins, within [`WINDOW`].
pub const MAX_CLIENT_FAILURES: u32 = 20;
/// How long failures are remembered, and how long a blocked key waits.
pub const WINDOW: Duration = Duration::from_secs(60);

/// A throttle key and the failures it allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    pub limit: u32,
}

/// The keys a login attempt counts against: the (login, client) pair and the client; the
/// login alone when the client is unknown (logins are compared case-insensitively).
pub fn login_keys(login: &str, client: Option<&str>) -> Vec<Key> {
    let login = login.trim().to_lowercase();
    match client {
        Some(client) => vec![
            Key {
                name: format!("login:{login}|client:{client}"),
                limit: MAX_FAILURES,
            },
            Key {
                name: format!("client:{client}"),
                limit: MAX_CLIENT_FAILURES,
            },
        ],
        None => vec![Key {
            name: format!("login:{login}"),
            limit: MAX_FAILURES,
        }],
    }
}

#[derive(Debug, Default)]
pub struct Throttle {
    failures: HashMap<String, (u32, Instant)>,
}

impl Throttle {
    /// Whether `key` may try now.
    pub fn allows(&self, key: &Key, now: Instant) -> bool {
        match self.failures.get(&key.name) {
            Some((count, since)) => *count < key.limit || now.duration_since(*since) >= WINDOW,
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

    fn key(name: &str) -> Key {
        Key {
            name: name.into(),
            limit: MAX_FAILURES,
        }
    }

    #[test]
    fn a_key_is_blocked_after_the_allowed_failures_and_freed_after_the_window() {
        let mut throttle = Throttle::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(throttle.allows(&key("admin"), start));
            throttle.record_failure("admin", start);
        }
        assert!(!throttle.allows(&key("admin"), start + Duration::from_secs(59)));
        assert!(throttle.allows(&key("other"), start));
        assert!(throttle.allows(&key("admin"), start + WINDOW));
    }

    #[test]
    fn a_success_resets_the_count() {
        let mut throttle = Throttle::default();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES {
            throttle.record_failure("demo", now);
        }
        throttle.reset("demo");
        assert!(throttle.allows(&key("demo"), now));
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let mut throttle = Throttle::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            throttle.record_failure("demo", start);
        }
        throttle.record_failure("demo", start + WINDOW);
        assert!(throttle.allows(&key("demo"), start + WINDOW));
    }

    #[test]
    fn failures_for_a_user_from_one_client_never_lock_it_out_elsewhere() {
        let mut throttle = Throttle::default();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES {
            for k in login_keys("Admin", Some("10.0.0.9")) {
                throttle.record_failure(&k.name, now);
            }
        }
        let blocked = |t: &Throttle, login, client| {
            !login_keys(login, client).iter().all(|k| t.allows(k, now))
        };
        assert!(blocked(&throttle, "admin", Some("10.0.0.9")));
        assert!(!blocked(&throttle, "admin", Some("10.0.0.7")));
        // The same client may still sign in as someone else, up to its own limit.
        assert!(!blocked(&throttle, "demo", Some("10.0.0.9")));
    }
}
