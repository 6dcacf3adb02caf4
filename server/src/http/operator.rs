//! The operator endpoint: how `server adjust` changes balances while a server runs, through
//! the server's own ledger writer rather than behind it. Only callers that hold the secret
//! of the operator file (mode 0600, beside the database) and connect from this machine are
//! served. No session, no cross-site check: it is not for browsers.

use app::db::service_api;
use app::domain::credits::Credits;
use app::domain::ledger::{EntryKind, NewCredit};
use app::error::{AppError, ledger_text};
use app::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

#[derive(Clone)]
struct Operator {
    app: AppState,
    secret: Arc<str>,
    /// The address the server listens on: a caller on this machine may come from it.
    local_ip: IpAddr,
}

pub fn router(app: &AppState, secret: Arc<str>, local_ip: IpAddr) -> Router {
    Router::new()
        .route("/operator/adjust", post(adjust))
        .with_state(Operator {
            app: app.clone(),
            secret,
            local_ip,
        })
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AdjustRequest {
    pub token: String,
    /// As typed: up to 4 decimals, signed.
    pub amount: String,
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AdjustAnswer {
    /// The account's balance after the adjustment, in credits.
    pub balance: Option<String>,
    pub error: Option<String>,
}

fn answer(status: StatusCode, balance: Option<String>, error: Option<String>) -> Response {
    (status, Json(AdjustAnswer { balance, error })).into_response()
}

async fn adjust(
    State(operator): State<Operator>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(request): Json<AdjustRequest>,
) -> Response {
    if !(peer.ip().is_loopback() || peer.ip() == operator.local_ip) {
        return answer(
            StatusCode::FORBIDDEN,
            None,
            Some("not from this machine".into()),
        );
    }
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !app::crypto::same_secret(offered, &operator.secret) {
        return answer(
            StatusCode::UNAUTHORIZED,
            None,
            Some("wrong operator secret".into()),
        );
    }
    match apply(&operator.app, &request).await {
        Ok(balance) => {
            tracing::info!(
                token_len = request.token.len(),
                amount = request.amount,
                "adjusted by an operator command"
            );
            answer(StatusCode::OK, Some(balance), None)
        }
        Err((status, message)) => answer(status, None, Some(message)),
    }
}

async fn apply(app: &AppState, request: &AdjustRequest) -> Result<String, (StatusCode, String)> {
    let bad = |message: String| (StatusCode::BAD_REQUEST, message);
    let internal = |error: sqlx::Error| {
        tracing::error!(%error, "operator adjustment failed");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Internal.to_string(),
        )
    };
    let amount = Credits::parse_signed(&request.amount)
        .map_err(|e| bad(e.at("amount").text().to_string()))?;
    let mut conn = app.pool.acquire().await.map_err(internal)?;
    let account = service_api::account_by_token(&mut conn, &request.token, 0)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            (
                StatusCode::NOT_FOUND,
                app::i18n::t(app::i18n::Msg::RpcUnknownAccount).to_owned(),
            )
        })?;
    drop(conn);
    let credit = NewCredit::parse(account.id, EntryKind::Adjustment, amount, &request.reason)
        .map_err(|e| bad(e.text().to_string()))?;
    app.ledger
        .credit(credit, None)
        .await
        .map_err(|e| bad(ledger_text(&e).to_string()))?;
    let mut conn = app.pool.acquire().await.map_err(internal)?;
    let balance = app::db::accounts::balance(&mut conn, account.id)
        .await
        .map_err(internal)?;
    Ok(balance.display(false).replace(',', ""))
}
