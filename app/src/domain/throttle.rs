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
    pub on_success: OnSuccess,
}

/// What a successful attempt does to a key's count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnSuccess {
    /// The (login, client) pair: knowing the password clears its failures.
    Clear,
    /// The client alone: only the successful attempt itself is taken back, so signing in
    /// to one's own account does not buy more guesses at other people's.
    Refund,
    /// Every call counts, successful or not (a rate limit).
    Keep,
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
                on_success: OnSuccess::Clear,
            },
            Key {
                name: format!("client:{client}"),
                limit: MAX_CLIENT_FAILURES,
                on_success: OnSuccess::Refund,
            },
        ],
        None => vec![Key {
            name: format!("login:{login}"),
            limit: MAX_FAILURES,
            on_success: OnSuccess::Clear,
        }],
    }
}

/// Changes to one account's warning settings allowed through the token-only API within
/// [`WINDOW`]: every call counts, successful or not.
pub const MAX_WARNING_CHANGES: u32 = 10;

/// The key an API change to `account`'s warning settings counts against.
pub fn warning_key(account: i64) -> Key {
    Key {
        name: format!("warning:{account}"),
        limit: MAX_WARNING_CHANGES,
        on_success: OnSuccess::Keep,
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

    /// Counts an attempt against every key before its password is checked, so attempts made
    /// at the same moment cannot all slip past the limit; `false` (nothing counted) when a
    /// key has no attempt left. A success then resets the keys ([`Throttle::reset`]).
    pub fn attempt(&mut self, keys: &[Key], now: Instant) -> bool {
        if !keys.iter().all(|k| self.allows(k, now)) {
            return false;
        }
        for key in keys {
            self.record_failure(&key.name, now);
        }
        true
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

    /// A successful attempt: each key is cleared, refunded or kept as it says.
    pub fn succeeded(&mut self, keys: &[Key]) {
        for key in keys {
            match key.on_success {
                OnSuccess::Clear => {
                    self.failures.remove(&key.name);
                }
                OnSuccess::Refund => {
                    if let Some((count, _)) = self.failures.get_mut(&key.name) {
                        *count = count.saturating_sub(1);
                    }
                }
                OnSuccess::Keep => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Key {
        Key {
            name: name.into(),
            limit: MAX_FAILURES,
            on_success: OnSuccess::Clear,
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
        throttle.succeeded(&[key("demo")]);
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
    fn attempts_are_counted_before_the_password_is_checked() {
        let mut throttle = Throttle::default();
        let now = Instant::now();
        let keys = login_keys("admin", Some("10.0.0.9"));
        // Thirty attempts arriving together: only the allowed number go on to be checked.
        let checked = (0..30).filter(|_| throttle.attempt(&keys, now)).count();
        assert_eq!(checked, MAX_FAILURES as usize);
        throttle.succeeded(&keys);
        assert!(throttle.attempt(&keys, now));
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

    #[test]
    fn signing_in_to_ones_own_account_buys_no_guesses_at_others() {
        let mut throttle = Throttle::default();
        let now = Instant::now();
        let mut guesses = 0;
        for round in 0..100 {
            let target = login_keys(&format!("victim{round}"), Some("10.0.0.66"));
            if throttle.attempt(&target, now) {
                guesses += 1;
            }
            let own = login_keys("attacker", Some("10.0.0.66"));
            if throttle.attempt(&own, now) {
                throttle.succeeded(&own);
            }
        }
        assert_eq!(
            guesses, MAX_CLIENT_FAILURES,
            "the client's failures still add up"
        );
    }

    #[test]
    fn a_rate_limit_counts_successes_too() {
        let mut throttle = Throttle::default();
        let now = Instant::now();
        let key = [warning_key(7)];
        let allowed = (0..50)
            .filter(|_| {
                let ok = throttle.attempt(&key, now);
                throttle.succeeded(&key);
                ok
            })
            .count();
        assert_eq!(allowed, MAX_WARNING_CHANGES as usize);
        assert!(throttle.attempt(&key, now + WINDOW));
    }
}
