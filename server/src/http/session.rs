//! Resolves the session cookie into an [`Identity`] in the request's extensions, and applies
//! `?debug=1` / `?debug=0` (developer mode) for administrators.

use app::auth::{Identity, session};
use app::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

pub async fn resolve(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if super::access::is_static(req.uri().path()) {
        return next.run(req).await;
    }
    if let Some(token) = session::token_from(req.headers(), state.secure_cookies) {
        match lookup(&state, &token, debug_param(req.uri().query())).await {
            Ok(Some(identity)) => {
                req.extensions_mut().insert(identity);
            }
            Ok(None) => {}
            Err(error) => {
                tracing::error!(%error, "cannot read the session");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        }
    }
    next.run(req).await
}

async fn lookup(
    state: &AppState,
    token: &str,
    debug: Option<bool>,
) -> Result<Option<Identity>, sqlx::Error> {
    let mut conn = state.pool.acquire().await?;
    let now = app::clock::now_ms();
    let hash = session::token_hash(token);
    let idle_since = now - session::IDLE_MS;
    let Some(row) = app::db::sessions::find(&mut conn, &hash, now, idle_since).await? else {
        return Ok(None);
    };
    if now - row.last_seen_at > session::TOUCH_EVERY_MS {
        app::db::sessions::touch(&mut conn, &hash, now).await?;
    }
    let mut identity = Identity::from(row);
    if let Some(on) = debug.filter(|on| identity.is_admin && *on != identity.debug) {
        app::db::sessions::set_debug(&mut conn, &identity.token_hash, on).await?;
        identity.debug = on;
    }
    Ok(Some(identity))
}

/// `Some(true)` for `debug=1`, `Some(false)` for `debug=0` or `debug=`, `None` without it.
fn debug_param(query: Option<&str>) -> Option<bool> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| *key == "debug")
        .map(|(_, value)| !value.is_empty() && value != "0")
}

#[cfg(test)]
mod tests {
    use super::debug_param;

    #[test]
    fn debug_is_read_from_the_query() {
        assert_eq!(debug_param(Some("debug=1")), Some(true));
        assert_eq!(debug_param(Some("a=b&debug=assets")), Some(true));
        assert_eq!(debug_param(Some("debug=0")), Some(false));
        assert_eq!(debug_param(Some("debug=")), Some(false));
        assert_eq!(debug_param(Some("x=1")), None);
        assert_eq!(debug_param(None), None);
    }
}
