//! Session tokens and the session cookie.
//!
//! The cookie carries 256 random bits; the database keeps only their SHA-256, so the table
//! alone cannot be replayed. The cookie is HttpOnly and SameSite=Lax, and Secure when iapd is
//! served over TLS.

use crate::db::sessions::SessionRow;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderMap;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const COOKIE_NAME: &str = "iapd_session";
/// Sessions last a week of wall-clock time.
pub const LIFETIME_SECS: i64 = 7 * 24 * 3600;

/// Who is asking, resolved from the session cookie by the server before any handler runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub token_hash: String,
    pub user_id: i64,
    pub login: String,
    pub name: String,
    pub is_admin: bool,
    pub current_company_id: i64,
    pub active_company_ids: Vec<i64>,
    pub debug: bool,
}

impl From<SessionRow> for Identity {
    fn from(row: SessionRow) -> Self {
        let mut active: Vec<i64> =
            serde_json::from_str(&row.active_company_ids).unwrap_or_default();
        if !active.contains(&row.current_company_id) {
            active.push(row.current_company_id);
        }
        Identity {
            token_hash: row.token_hash,
            user_id: row.user_id,
            login: row.login,
            name: row.user_name,
            is_admin: row.is_admin,
            current_company_id: row.current_company_id,
            active_company_ids: active,
            debug: row.debug && row.is_admin,
        }
    }
}

/// A new random session token, as it goes in the cookie.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database stores for a token.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `Set-Cookie` value that starts a session.
pub fn cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={LIFETIME_SECS}{secure}"
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clearing_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// The session token from the request's cookies, if there is one.
pub fn token_from(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE_NAME && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hash_to_hex() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_eq!(token_hash(&a), token_hash(&a));
    }

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_only_over_tls() {
        let plain = cookie("t", false);
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Lax"));
        assert!(!plain.contains("Secure"));
        assert!(cookie("t", true).ends_with("; Secure"));
        assert!(clearing_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn the_token_is_found_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            "a=1; iapd_session=tok; b=2".parse().expect("header"),
        );
        assert_eq!(token_from(&headers).as_deref(), Some("tok"));
        headers.insert(
            http::header::COOKIE,
            "iapd_session=".parse().expect("header"),
        );
        assert_eq!(token_from(&headers), None);
    }
}
