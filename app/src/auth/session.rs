//! Session tokens and the session cookie.
//!
//! The cookie carries 256 random bits; the database keeps only their SHA-256, so the table
//! alone cannot be replayed. The cookie is HttpOnly and SameSite=Lax, and Secure when iapd is
//! served over TLS.

use crate::db::sessions::SessionRow;
use crate::domain::time::DAY;
use http::HeaderMap;

/// The cookie's name over plain HTTP.
pub const COOKIE_NAME: &str = "iapd_session";
/// Its name over HTTPS: a `__Host-` cookie is only accepted when Secure, for this host and
/// path `/`, so neither a subdomain nor a plain-HTTP page can plant or overwrite it.
pub const SECURE_COOKIE_NAME: &str = "__Host-iapd_session";
/// Sessions last a week of wall-clock time, in milliseconds like every stored time.
pub const LIFETIME_MS: i64 = 7 * DAY;
/// ...and end sooner after a day without a request.
pub const IDLE_MS: i64 = DAY;
/// A session's last activity is written at most this often, not on every request.
pub const TOUCH_EVERY_MS: i64 = 5 * 60 * 1_000;

/// The cookie's name, by whether iapd is reached over HTTPS.
pub const fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}

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
    /// The language the user chose; `None` follows their browser.
    pub locale: Option<crate::i18n::Locale>,
    /// Every company the user belongs to, by name.
    pub companies: Vec<crate::models::Company>,
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
            locale: row.locale.as_deref().and_then(crate::i18n::Locale::parse),
            companies: serde_json::from_str(&row.companies).unwrap_or_default(),
        }
    }
}

impl From<&Identity> for crate::models::SessionInfo {
    fn from(who: &Identity) -> Self {
        crate::models::SessionInfo {
            user_id: who.user_id,
            user_name: who.name.clone(),
            login: who.login.clone(),
            is_admin: who.is_admin,
            companies: who.companies.clone(),
            current_company_id: who.current_company_id,
            active_company_ids: who.active_company_ids.clone(),
            debug: who.debug,
        }
    }
}

/// A new random session token, as it goes in the cookie: 256 bits.
pub fn new_token() -> String {
    crate::crypto::random_token(32)
}

/// What the database stores for a token.
pub fn token_hash(token: &str) -> String {
    crate::crypto::sha256_hex(token)
}

/// The `Set-Cookie` value that starts a session.
pub fn cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    let name = cookie_name(!secure.is_empty());
    let max_age = LIFETIME_MS / 1_000;
    format!("{name}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clearing_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    let name = cookie_name(!secure.is_empty());
    format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// The session token from the request's cookies, if there is one.
pub fn token_from(headers: &HeaderMap, secure: bool) -> Option<String> {
    cookie_value(headers, cookie_name(secure)).map(str::to_owned)
}

/// The non-empty value of the request's cookie `wanted`, if it has one.
pub fn cookie_value<'a>(headers: &'a HeaderMap, wanted: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == wanted && !value.is_empty())
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_only_their_hash_is_stored() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        let hash = token_hash(&a);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&a));
        assert_ne!(hash, token_hash(&b));
        // The stored value is the SHA-256 of the cookie value, so a known token gives a
        // known hash: what the session lookup relies on.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_only_over_tls() {
        let plain = cookie("t", false);
        assert!(plain.contains("Max-Age=604800"));
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Lax"));
        assert!(!plain.contains("Secure"));
        assert!(cookie("t", true).ends_with("; Secure"));
        assert!(cookie("t", true).starts_with("__Host-iapd_session=t; Path=/;"));
        assert!(clearing_cookie(true).starts_with("__Host-iapd_session=;"));
        assert!(clearing_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn the_token_is_found_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            "a=1; iapd_session=tok; b=2".parse().expect("header"),
        );
        assert_eq!(token_from(&headers, false).as_deref(), Some("tok"));
        // Over HTTPS only the __Host- cookie counts.
        assert_eq!(token_from(&headers, true), None);
        headers.insert(
            http::header::COOKIE,
            "iapd_session=".parse().expect("header"),
        );
        assert_eq!(token_from(&headers, false), None);
    }
}
