//! Security headers on every page and server function answer: a Content-Security-Policy
//! whose scripts are our own files, WebAssembly, and the inline bootstrap and streamed
//! chunks carrying this response's nonce; no framing; no MIME sniffing; a same-origin
//! referrer; and HSTS when iapd is served over HTTPS.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, header};

/// The nonce the inline scripts of this response carry.
#[derive(Clone, Debug)]
pub struct ScriptNonce(pub String);

/// The policy of an HTML page.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// `secure`: iapd is reached over HTTPS.
pub async fn secure(State(secure): State<bool>, mut req: Request<Body>, next: Next) -> Response {
    let nonce = app::crypto::random_token(16);
    req.extensions_mut().insert(ScriptNonce(nonce.clone()));
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html && let Ok(policy) = HeaderValue::from_str(&content_security_policy(&nonce)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if secure {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}
