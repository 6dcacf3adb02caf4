//! Server functions by area. Each one only authorises, calls `domain`/`db`, and maps errors.
//!
//! Each reads what it needs from the context (state, identity, response) before its first
//! `.await`: rendered on the server, a server function runs as a resource's future, and
//! Leptos's context is only reachable until that future first yields.

pub mod alerts;
pub mod auth;
pub mod auto_recharge;
pub mod contacts;
pub mod iap;
pub mod services;
pub mod settings;
pub mod sms;
pub mod store;
pub mod users;
pub mod warnings;
pub mod webhooks;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    //! What every server function starts with: the shared state and who is asking.
    use crate::auth::Identity;
    use crate::error::AppError;
    use crate::state::AppState;
    use leptos::prelude::use_context;

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState is missing from the server function context");
            AppError::Internal
        })
    }

    /// The signed-in user, or `Unauthenticated`.
    pub fn identity() -> Result<Identity, AppError> {
        use_context::<Identity>().ok_or(AppError::Unauthenticated)
    }

    /// The account if `who` may see it: administrators every account, users those usable
    /// by the companies they work in. Any other id is `NotFound`, never `Forbidden`, so ids
    /// of other companies' accounts reveal nothing.
    pub async fn visible_account(
        conn: &mut sqlx::AnyConnection,
        who: &Identity,
        id: i64,
    ) -> Result<crate::models::IapAccount, AppError> {
        let companies = (!who.is_admin).then_some(who.active_company_ids.as_slice());
        let account =
            crate::db::accounts::visible(conn, companies, id, crate::clock::now_ms()).await?;
        account.ok_or(AppError::NotFound)
    }

    /// The signed-in administrator, or `Forbidden` for anyone else.
    pub fn admin() -> Result<Identity, AppError> {
        let who = identity()?;
        if who.is_admin {
            Ok(who)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// An administrator in developer mode (the Technical menu), or `Forbidden`.
    pub fn technical_admin() -> Result<Identity, AppError> {
        let who = admin()?;
        if who.debug {
            Ok(who)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The order if `who` may see its account, with that account.
    pub async fn visible_order(
        conn: &mut sqlx::AnyConnection,
        who: &Identity,
        id: i64,
    ) -> Result<(crate::models::Order, crate::models::IapAccount), AppError> {
        let order = crate::db::orders::get(conn, id, crate::clock::now_ms())
            .await?
            .ok_or(AppError::NotFound)?;
        let account = visible_account(conn, who, order.account_id).await?;
        Ok((order, account))
    }

    /// The server function's response, to set headers on; read it before the first await.
    pub fn response() -> Option<leptos_axum::ResponseOptions> {
        use_context::<leptos_axum::ResponseOptions>()
    }

    /// Sets a cookie on `response`.
    pub fn set_cookie(response: Option<&leptos_axum::ResponseOptions>, value: &str) {
        use http::header::{HeaderValue, SET_COOKIE};
        if let (Some(response), Ok(value)) = (response, HeaderValue::from_str(value)) {
            response.append_header(SET_COOKIE, value);
        }
    }
}
