//! Who may open which page: everything but the login page and static files needs a session,
//! and Settings needs an administrator. Server functions check for themselves.

use app::auth::Identity;
use app::i18n::{Msg, t};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;

/// Page prefixes only administrators may open.
const ADMIN_ONLY: &[&str] = &["/settings"];

/// Files served from the site folder: no session needed, and none looked up.
pub fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg" || path == "/favicon.ico"
}

pub async fn guard(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if is_static(path) || path.starts_with("/api/") {
        return next.run(req).await;
    }
    let identity = req.extensions().get::<Identity>();
    if path == "/login" {
        return match identity {
            Some(_) => Redirect::to("/").into_response(),
            None => next.run(req).await,
        };
    }
    let Some(identity) = identity else {
        let wanted = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        return Redirect::to(&format!("/login?next={}", encode(wanted))).into_response();
    };
    if !identity.is_admin
        && ADMIN_ONLY
            .iter()
            .any(|p| path == *p || path.starts_with(&format!("{p}/")))
    {
        return forbidden();
    }
    next.run(req).await
}

fn forbidden() -> Response {
    super::empty_page(
        StatusCode::FORBIDDEN,
        t(Msg::AccessDenied),
        t(Msg::SettingsAdminOnly),
        ("/", t(Msg::BackHome)),
    )
}

/// Percent-encodes a path for use as a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wanted_page_survives_as_a_query_value() {
        assert_eq!(encode("/contacts/3?x=1&y=2"), "/contacts/3%3Fx%3D1%26y%3D2");
    }
}
