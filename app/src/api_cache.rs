//! What the hot API path would otherwise read from the database on every call: service
//! keys, the hosting type, account tokens, and which service placed each open hold.
//!
//! It lives in the shared state, so the pages that rotate a key, change the hosting type or
//! save an account clear what they changed at once ([`ApiCache::invalidate_keys`] and its
//! siblings). What changes elsewhere (an operator command, another process) is trusted for
//! [`TTL`] at most. Disabling an account needs no cache: the ledger refuses holds on a
//! disabled account by its id. Only successful lookups are kept; unknown keys and tokens are
//! read again each time.

use crate::db::services::KeyedService;
use crate::domain::hosting::HostingType;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a looked-up key, token or hosting type is trusted.
pub const TTL: Duration = Duration::from_secs(1);
/// Open holds remembered; beyond this the map is emptied and lookups fall back to the
/// database (holds that are never captured or cancelled must not grow it for ever).
const MAX_HOLDS: usize = 200_000;

/// An account as authorize needs it.
#[derive(Clone, Debug)]
pub struct AccountRef {
    pub id: i64,
    pub service: String,
}

#[derive(Default)]
pub struct ApiCache {
    keys: Mutex<HashMap<String, (Instant, KeyedService)>>,
    hosting: Mutex<Option<(Instant, HostingType)>>,
    accounts: Mutex<HashMap<String, (Instant, AccountRef)>>,
    holds: Mutex<HashMap<String, String>>,
}

fn fresh<T: Clone>(entry: Option<&(Instant, T)>) -> Option<T> {
    entry
        .filter(|(at, _)| at.elapsed() < TTL)
        .map(|(_, v)| v.clone())
}

impl ApiCache {
    pub fn key(&self, hash: &str) -> Option<KeyedService> {
        self.keys.lock().ok().and_then(|m| fresh(m.get(hash)))
    }

    pub fn put_key(&self, hash: &str, service: &KeyedService) {
        if let Ok(mut m) = self.keys.lock() {
            m.retain(|_, (at, _)| at.elapsed() < TTL);
            m.insert(hash.to_owned(), (Instant::now(), service.clone()));
        }
    }

    pub fn hosting(&self) -> Option<HostingType> {
        self.hosting.lock().ok().and_then(|h| fresh(h.as_ref()))
    }

    pub fn put_hosting(&self, hosting: HostingType) {
        if let Ok(mut h) = self.hosting.lock() {
            *h = Some((Instant::now(), hosting));
        }
    }

    pub fn account(&self, token: &str) -> Option<AccountRef> {
        self.accounts.lock().ok().and_then(|m| fresh(m.get(token)))
    }

    pub fn put_account(&self, token: &str, account: AccountRef) {
        if let Ok(mut m) = self.accounts.lock() {
            if m.len() >= 10_000 {
                m.retain(|_, (at, _)| at.elapsed() < TTL);
            }
            m.insert(token.to_owned(), (Instant::now(), account));
        }
    }

    /// The service that placed the open hold `token`, if this process placed it.
    pub fn hold(&self, token: &str) -> Option<String> {
        self.holds.lock().ok().and_then(|m| m.get(token).cloned())
    }

    pub fn put_hold(&self, token: &str, service: &str) {
        if let Ok(mut m) = self.holds.lock() {
            if m.len() >= MAX_HOLDS {
                m.clear();
            }
            m.insert(token.to_owned(), service.to_owned());
        }
    }

    /// Forgets a hold once captured or cancelled; a repeat reads the database.
    pub fn forget_hold(&self, token: &str) {
        if let Ok(mut m) = self.holds.lock() {
            m.remove(token);
        }
    }

    /// After a key was created or rotated.
    pub fn invalidate_keys(&self) {
        if let Ok(mut m) = self.keys.lock() {
            m.clear();
        }
    }

    /// After the hosting type changed.
    pub fn invalidate_hosting(&self) {
        if let Ok(mut h) = self.hosting.lock() {
            *h = None;
        }
    }

    /// After an account's token or companies changed.
    pub fn invalidate_accounts(&self) {
        if let Ok(mut m) = self.accounts.lock() {
            m.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_ttl_and_holds_are_forgotten() {
        let cache = ApiCache::default();
        let sms = KeyedService {
            technical_name: "sms".into(),
            first_party: true,
        };
        cache.put_key("h", &sms);
        assert_eq!(cache.key("h"), Some(sms));
        if let Ok(mut m) = cache.keys.lock()
            && let Some(entry) = m.get_mut("h")
        {
            entry.0 -= TTL;
        }
        assert_eq!(cache.key("h"), None);
        cache.put_hold("1.abc", "sms");
        assert_eq!(cache.hold("1.abc").as_deref(), Some("sms"));
        cache.forget_hold("1.abc");
        assert_eq!(cache.hold("1.abc"), None);
    }

    #[test]
    fn invalidating_forgets_keys_hosting_and_accounts_at_once() {
        let cache = ApiCache::default();
        let sms = KeyedService {
            technical_name: "sms".into(),
            first_party: true,
        };
        cache.put_key("h", &sms);
        cache.put_hosting(HostingType::Online);
        cache.put_account(
            "tok",
            AccountRef {
                id: 1,
                service: "sms".into(),
            },
        );
        cache.invalidate_keys();
        cache.invalidate_hosting();
        cache.invalidate_accounts();
        assert_eq!(cache.key("h"), None);
        assert_eq!(cache.hosting(), None);
        assert!(cache.account("tok").is_none());
    }
}
