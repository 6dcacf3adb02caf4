//! `GET /iap/1/credit`: the buy-credits link Odoo's client opens (from an insufficient-credit
//! dialog or an account's "Buy credits" button). A signed-in user is sent to the pack store
//! of that account, asking for `credit`; someone not signed in logs in first (the access
//! middleware keeps this URL as the page to come back to).

use app::auth::Identity;
use app::db::{accounts, service_api, services};
use app::domain::credits::Credits;
use app::i18n::{Msg, t};
use app::state::AppState;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct CreditQuery {
    #[serde(default)]
    pub service_name: Option<String>,
    #[serde(default)]
    pub account_token: Option<String>,
    /// Odoo 19 sends `hashed=1` and the token's SHA-1 instead of the token.
    #[serde(default)]
    pub hashed: Option<String>,
    #[serde(default)]
    pub credit: Option<String>,
    /// The asking database; accepted and not needed, the token names the account.
    #[serde(default)]
    pub dbuuid: Option<String>,
}

pub async fn credit(
    State(state): State<AppState>,
    identity: Option<Extension<Identity>>,
    Query(query): Query<CreditQuery>,
) -> Response {
    let Some(Extension(who)) = identity else {
        // The access middleware sends visitors to the login page before this runs.
        return Redirect::to("/login").into_response();
    };
    match find(&state, &who, &query).await {
        Ok(Some(account)) => {
            let wanted = query
                .credit
                .as_deref()
                .map(str::trim)
                .filter(|c| Credits::parse_positive(c).is_ok());
            let target = match wanted {
                Some(credit) => format!("/iap-accounts/{account}/buy?credit={credit}"),
                None => format!("/iap-accounts/{account}/buy"),
            };
            Redirect::to(&target).into_response()
        }
        Ok(None) => unknown_account(),
        Err(error) => {
            tracing::error!(%error, "cannot resolve a buy-credits link");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The account the link names, if the user may buy credits for it.
async fn find(
    state: &AppState,
    who: &Identity,
    query: &CreditQuery,
) -> Result<Option<i64>, sqlx::Error> {
    let (Some(service), Some(token)) = (
        query.service_name.as_deref(),
        query.account_token.as_deref(),
    ) else {
        return Ok(None);
    };
    let mut conn = state.pool.acquire().await?;
    let now = app::clock::now_ms();
    let id = if query.hashed.as_deref() == Some("1") {
        service_api::account_by_token_hash(&mut conn, service, token).await?
    } else {
        service_api::account_by_token(&mut conn, token, now)
            .await?
            .filter(|a| a.service == service)
            .map(|a| a.id)
    };
    let Some(id) = id else {
        return Ok(None);
    };
    if !services::is_offered(&mut conn, service).await? {
        return Ok(None);
    }
    let visible = if who.is_admin {
        accounts::one(&mut conn, id, now).await?.is_some()
    } else {
        accounts::usable_one(&mut conn, &who.active_company_ids, id, now)
            .await?
            .is_some()
    };
    Ok(visible.then_some(id))
}

fn unknown_account() -> Response {
    crate::http::empty_page(
        StatusCode::NOT_FOUND,
        t(Msg::CreditUnknownAccountTitle),
        t(Msg::CreditUnknownAccount),
        ("/iap-accounts", t(Msg::BackToServices)),
    )
}
