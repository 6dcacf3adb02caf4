//! `POST /payment/stripe/webhook`: Stripe's signed events about Checkout Sessions. No
//! session is read and the cross-site check does not apply: the signature over the raw body
//! is what authenticates the call, so the body is read whole before anything is parsed.
//! A bad signature or an unreadable event answers 400; a failure to store answers 500, and
//! Stripe delivers again later.

use app::payment::Payments;
use app::payment::hosted::{Hosted, WebhookError};
use app::state::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::{HeaderMap, StatusCode};
use tower_http::limit::RequestBodyLimitLayer;

/// Stripe's events are a few kilobytes; anything much larger is not one.
const BODY_LIMIT: usize = 256 * 1024;

pub fn router(state: &AppState) -> Router {
    Router::new()
        .route("/payment/stripe/webhook", post(stripe_webhook))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .with_state(state.clone())
}

async fn stripe_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Payments::Stripe(stripe) = &state.payments else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let hosted = Hosted {
        pool: &state.pool,
        ledger: &state.ledger,
        stripe,
    };
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let now = app::clock::now_ms() / 1_000;
    match hosted.webhook(signature, &body, now).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(error @ (WebhookError::Signature(_) | WebhookError::Malformed(_))) => {
            tracing::warn!(%error, "Stripe webhook refused");
            (StatusCode::BAD_REQUEST, error.to_string()).into_response()
        }
        Err(WebhookError::Storage) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
