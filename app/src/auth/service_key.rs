//! Service provider keys and the token hashes of Odoo's protocol.
//!
//! A service authenticates its `authorize`/`capture`/`cancel` calls with a secret key. Only
//! its SHA-256 is stored, like session tokens, so a leaked database hands out no key; the
//! key itself is shown once when it is made.

use sha1::Sha1;
use sha2::{Digest, Sha256};

/// A new provider key: 256 random bits, URL-safe.
pub fn new_key() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored for a key: its SHA-256, in lowercase hex.
pub fn key_hash(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// Odoo 19 puts `sha1(token)` in the buy-credits link instead of the token, without any
/// `+...` suffix (a disabled account is still the same account).
pub fn odoo_token_hash(token: &str) -> String {
    let bare = token.split('+').next().unwrap_or_default();
    hex(&Sha1::digest(bare.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_hash_is_the_known_sha256() {
        assert_eq!(
            key_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn new_keys_are_long_random_and_url_safe() {
        let (a, b) = (new_key(), new_key());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(key_hash(&a), key_hash(&b));
    }

    #[test]
    fn the_odoo_token_hash_is_sha1_without_the_suffix() {
        assert_eq!(
            odoo_token_hash("abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(odoo_token_hash("abc+disabled"), odoo_token_hash("abc"));
    }
}
