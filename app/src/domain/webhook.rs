//! Webhooks: which targets iapd posts to, how it signs what it posts, and when it tries
//! again. Plain rules, free of I/O.
//!
//! A webhook is an `http(s)` URL an administrator registers. Each event is one JSON body,
//! POSTed with the header `Iapd-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`, the MAC
//! keyed with the webhook's secret over `"<t>.<body>"`: the scheme Stripe documents, so a
//! receiver can check it with code it may already have. A delivery that fails is tried again
//! after a wait that doubles, until its attempts run out.

use crate::domain::FieldError;
use crate::i18n::Msg;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Iapd-Signature";
/// The longest URL a webhook may have.
pub const URL_MAX: usize = 2048;
/// The longest wait between two attempts: an hour.
pub const MAX_RETRY_MS: i64 = 3_600_000;

/// A webhook target: an absolute `http` or `https` URL with a host and no credentials in it
/// (they would be shown in the delivery log). Whether its host may be private is decided
/// when it is resolved, see [`is_public`].
pub fn parse_url(text: &str) -> Result<url::Url, FieldError> {
    let text = text.trim();
    let refuse = || FieldError::new("url", Msg::ErrWebhookUrl);
    if text.is_empty() || text.len() > URL_MAX {
        return Err(refuse());
    }
    let url = url::Url::parse(text).map_err(|_| refuse())?;
    let has_credentials = !url.username().is_empty() || url.password().is_some();
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || has_credentials {
        return Err(refuse());
    }
    Ok(url)
}

/// Whether `ip` is a public address: not loopback, private, link-local, shared, reserved,
/// documentation or multicast, in IPv4 or IPv6 (IPv4-mapped and NAT64 addresses are judged
/// by the IPv4 address inside). iapd refuses to post elsewhere unless the operator allows
/// private targets, so a webhook cannot reach the services beside it.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240)
}

/// The signature header for `body` posted at `t` (Unix seconds).
pub fn signature(body: &[u8], secret: &str, t: i64) -> String {
    crate::domain::stripe::signature_header(body, secret, t)
}

/// Checks a signature as a receiver would: what the tests and the README's example do.
pub fn verify(header: &str, body: &[u8], secret: &str, now: i64, tolerance: i64) -> bool {
    crate::domain::stripe::verify_signature(header, body, secret, now, tolerance).is_ok()
}

/// The wait before the next attempt after `attempts` failed ones: `first_ms`, doubling each
/// time, at most [`MAX_RETRY_MS`].
pub fn retry_delay_ms(first_ms: i64, attempts: u32) -> i64 {
    let doublings = attempts.saturating_sub(1).min(30);
    first_ms
        .max(1)
        .saturating_mul(1_i64 << doublings)
        .min(MAX_RETRY_MS)
}

/// Whether an HTTP status means the receiver took the event: any 2xx.
pub fn accepted(status: u16) -> bool {
    (200..300).contains(&status)
}

/// The JSON body of an event: `{"id", "type", "created", "data"}`, `created` in Unix
/// seconds. `id` is unique per event and the same for every attempt, so a receiver can
/// recognise a retry.
pub fn event_body(id: &str, event_type: &str, created_ms: i64, data: serde_json::Value) -> String {
    serde_json::json!({
        "id": id,
        "type": event_type,
        "created": created_ms.div_euclid(1000),
        "data": data,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_http_urls_without_credentials() {
        for ok in [
            "https://hooks.example.com/iapd",
            " http://example.com:8080/x?y=1 ",
            "http://127.0.0.1:9000/hook",
        ] {
            assert!(parse_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ftp://example.com/x",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://user:pw@example.com/",
            "example.com/hook",
            "https://",
        ] {
            assert_eq!(parse_url(bad).unwrap_err().field, "url", "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(URL_MAX));
        assert!(parse_url(&long).is_err());
    }

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "8.8.8.8",
            "93.184.216.34",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn a_signature_is_checked_over_the_timestamp_and_the_exact_body() {
        let body = br#"{"id":"evt_1","type":"webhook.test"}"#;
        let header = signature(body, "whsec_abc", 1_700_000_000);
        assert!(header.starts_with("t=1700000000,v1="));
        assert!(verify(&header, body, "whsec_abc", 1_700_000_010, 300));
        assert!(!verify(&header, body, "whsec_other", 1_700_000_010, 300));
        assert!(!verify(&header, b"{}", "whsec_abc", 1_700_000_010, 300));
        assert!(!verify(&header, body, "whsec_abc", 1_700_001_000, 300));
    }

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_an_hour() {
        let waits: Vec<i64> = (1..=9).map(|n| retry_delay_ms(30_000, n) / 1000).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(retry_delay_ms(30_000, u32::MAX), MAX_RETRY_MS);
    }

    #[test]
    fn only_2xx_answers_deliver() {
        assert!(accepted(200) && accepted(204));
        assert!(!accepted(301) && !accepted(404) && !accepted(500));
    }

    #[test]
    fn bodies_carry_the_id_type_and_time_in_seconds() {
        let body = event_body(
            "evt_7",
            "webhook.test",
            1_700_000_000_999,
            serde_json::json!({}),
        );
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["id"], "evt_7");
        assert_eq!(value["type"], "webhook.test");
        assert_eq!(value["created"], 1_700_000_000);
    }
}
