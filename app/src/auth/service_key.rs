//! Service provider keys.
//!
//! A service authenticates its `authorize`/`capture`/`cancel` calls with a secret key. Only
//! its SHA-256 is stored, like session tokens, so a leaked database hands out no key; the
//! key itself is shown once when it is made.

/// A new provider key: 256 random bits, URL-safe.
pub fn new_key() -> String {
    crate::crypto::random_token(32)
}

/// What is stored for a key: its SHA-256, in lowercase hex.
pub fn key_hash(key: &str) -> String {
    crate::crypto::sha256_hex(key)
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
}
