//! `POST /sms/gateway/status`: the delivery statuses an SMS gateway reports for the
//! messages iapd handed it. No session is read and the cross-site check does not apply: the
//! shared secret (`SMS_GATEWAY_WEBHOOK_SECRET`, sent as `Authorization: Bearer …`) is what
//! authenticates the call; without one configured, every report is refused.
//!
//! The body is one report or a list of them: `{"id": <iapd's message id>, "status": …}`,
//! with a status Odoo knows (`sent`, `delivered`, `not_delivered`, `invalid_destination`,
//! `not_allowed`, `rejected`, `expired`). The answer is `{"accepted", "unknown"}`: 200 once
//! stored; 401 for a bad secret; 400 for a body that is not such reports (nothing stored);
//! 500 when they could not be stored, and the gateway should send them again.

use app::models::SmsDelivery;
use app::secret::Secret;
use app::sms::reports::{self, GatewayReport};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};
use sqlx::AnyPool;
use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;

/// A few thousand reports at most; anything larger is not a report.
const BODY_LIMIT: usize = 256 * 1024;

#[derive(Clone)]
struct GatewayState {
    pool: AnyPool,
    secret: Option<Arc<Secret>>,
}

pub fn router(pool: &AnyPool, secret: Option<Secret>) -> Router {
    let state = GatewayState {
        pool: pool.clone(),
        secret: secret.map(Arc::new),
    };
    Router::new()
        .route("/sms/gateway/status", post(status))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .with_state(state)
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn status(State(state): State<GatewayState>, headers: HeaderMap, body: Bytes) -> Response {
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let allowed = state
        .secret
        .as_ref()
        .is_some_and(|secret| app::crypto::same_secret(offered, secret.expose()));
    if !allowed {
        tracing::warn!("SMS gateway report refused: wrong or missing secret");
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "wrong or missing secret" }),
        );
    }
    let reports = match parse(&body) {
        Ok(reports) => reports,
        Err(error) => return answer(StatusCode::BAD_REQUEST, json!({ "error": error })),
    };
    match reports::record(&state.pool, &reports).await {
        Ok(done) => answer(
            StatusCode::OK,
            json!({ "accepted": done.accepted, "unknown": done.unknown }),
        ),
        Err(error) => {
            tracing::error!(%error, "cannot store SMS delivery reports");
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": "not stored; send them again" }),
            )
        }
    }
}

/// The reports of a body, all of them valid, or why not.
fn parse(body: &[u8]) -> Result<Vec<GatewayReport>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|_| "the body is not JSON")?;
    let items = match value {
        Value::Array(items) => items,
        one @ Value::Object(_) => vec![one],
        _ => return Err("expected a report or a list of reports".into()),
    };
    items
        .iter()
        .map(|item| {
            let message = item
                .get("id")
                .and_then(Value::as_i64)
                .filter(|id| *id > 0)
                .ok_or("each report needs the message's id")?;
            let status = item
                .get("status")
                .and_then(Value::as_str)
                .ok_or("each report needs a status")?;
            let status = SmsDelivery::parse(status).ok_or_else(|| {
                format!(
                    "unknown status {status:?}: use one of {}",
                    SmsDelivery::ALL
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            Ok(GatewayReport { message, status })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_or_a_list_of_reports_is_read_and_anything_else_refused() {
        assert_eq!(
            parse(br#"{"id": 7, "status": "delivered"}"#),
            Ok(vec![GatewayReport {
                message: 7,
                status: SmsDelivery::Delivered
            }])
        );
        assert_eq!(
            parse(br#"[{"id": 1, "status": "sent"}, {"id": 2, "status": "expired"}]"#)
                .map(|r| r.len()),
            Ok(2)
        );
        assert!(parse(br#"{"id": 1, "status": "lost"}"#).is_err());
        assert!(parse(br#"{"status": "sent"}"#).is_err());
        assert!(parse(br#"{"id": -1, "status": "sent"}"#).is_err());
        assert!(parse(br#"{"id": "7", "status": "sent"}"#).is_err());
        assert!(parse(b"delivered").is_err());
    }
}
