//! Refuses state-changing requests sent by other sites (CSRF), by the two headers browsers
//! set and pages cannot forge: `Sec-Fetch-Site` and `Origin`.

use app::i18n::{Msg, t};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};

pub async fn refuse(req: Request, next: Next) -> Response {
    if is_safe(req.method()) || is_exempt(req.uri().path()) || same_site(req.headers()) {
        return next.run(req).await;
    }
    tracing::warn!(method = %req.method(), path = %req.uri().path(), "cross-site request refused");
    (StatusCode::FORBIDDEN, t(Msg::ErrCrossSite)).into_response()
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The IAP service API authenticates with keys, not cookies, so other sites cannot borrow
/// a session through it.
fn is_exempt(path: &str) -> bool {
    path.starts_with("/iap/")
}

/// Whether the request comes from iapd's own pages, or from a non-browser client (which
/// sends neither header and carries no ambient cookies to abuse).
pub fn same_site(headers: &HeaderMap) -> bool {
    let fetch_site_ok = headers
        .get("sec-fetch-site")
        .is_none_or(|v| matches!(v.to_str(), Ok("same-origin" | "none")));
    let origin_ok = headers.get(header::ORIGIN).is_none_or(|origin| {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        match (origin.to_str().ok().and_then(origin_host), host) {
            (Some(origin), Some(host)) => origin.eq_ignore_ascii_case(host),
            _ => false,
        }
    });
    fetch_site_ok && origin_ok
}

/// `host[:port]` of an `Origin` value such as `https://example.com:8443`; `None` for `null`.
fn origin_host(origin: &str) -> Option<&str> {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))?;
    Some(rest.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("value"));
        }
        h
    }

    #[test]
    fn same_origin_requests_pass() {
        assert!(same_site(&headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000")
        ])));
        assert!(same_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(same_site(&headers(&[])));
    }

    #[test]
    fn other_sites_are_refused() {
        assert!(!same_site(&headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "https://evil.example")
        ])));
        assert!(!same_site(&headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "null")
        ])));
        assert!(!same_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_site(&headers(&[("sec-fetch-site", "same-site")])));
    }
}
