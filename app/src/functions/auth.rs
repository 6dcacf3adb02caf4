//! Signing in and out, what the login page shows, the current session, and the company
//! switcher.

use crate::error::AppError;
use crate::models::SessionInfo;
use leptos::prelude::*;

/// Checks the credentials and starts a new session (see `auth::login`).
#[server(endpoint = "login")]
pub async fn login(login: String, password: String) -> Result<(), AppError> {
    use crate::auth::{Identity, login::login as sign_in, session};
    use crate::state::ClientAddr;
    let state = super::ssr::state()?;
    let response = super::ssr::response();
    let client = use_context::<ClientAddr>().map(|ClientAddr(addr)| addr);
    let replacing = use_context::<Identity>().map(|old| old.token_hash);
    let guards = crate::auth::login::Guards {
        throttle: &state.throttle,
        slots: &state.login_slots,
    };
    let signed_in = sign_in(
        &state.pool,
        guards,
        &login,
        password,
        client.as_deref(),
        replacing.as_deref(),
    )
    .await?;
    super::ssr::set_cookie(
        response.as_ref(),
        &session::cookie(&signed_in.token, state.secure_cookies),
    );
    Ok(())
}

/// Whether the login page shows the demo logins: only on a database the demo seed filled,
/// as the setting it wrote says. Anyone may ask: the login page has no session.
#[server(endpoint = "login/demo")]
pub async fn is_demo_database() -> Result<bool, AppError> {
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    Ok(crate::db::settings::is_demo(&mut conn).await?)
}

/// Ends the session on the server, not only in the browser.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let state = super::ssr::state()?;
    let response = super::ssr::response();
    if let Ok(who) = super::ssr::identity() {
        crate::auth::login::logout(&state.pool, &who.token_hash).await?;
    }
    let clearing = crate::auth::session::clearing_cookie(state.secure_cookies);
    super::ssr::set_cookie(response.as_ref(), &clearing);
    Ok(())
}

/// Sets the language pages are shown in: the user's own when signed in, and a cookie either
/// way, so the login page follows it too. `None` follows the browser again.
#[server(endpoint = "language")]
pub async fn set_language(locale: Option<crate::i18n::Locale>) -> Result<(), AppError> {
    let state = super::ssr::state()?;
    let response = super::ssr::response();
    let who = super::ssr::identity().ok();
    if let Some(who) = who {
        let mut conn = state.pool.acquire().await?;
        crate::db::users::set_locale(&mut conn, who.user_id, locale).await?;
    }
    super::ssr::set_cookie(
        response.as_ref(),
        &crate::locale::cookie(locale, state.secure_cookies),
    );
    Ok(())
}

/// Who is signed in, or `None` once the session has ended. Pages get it with the page
/// itself (see `app::App`); this asks again, when a server function said the session ended.
#[server(endpoint = "session")]
pub async fn current_session() -> Result<Option<SessionInfo>, AppError> {
    Ok(super::ssr::identity().ok().as_ref().map(SessionInfo::from))
}

/// Odoo's company switcher (see `domain::company`), for the user's own companies only.
#[server(endpoint = "switch_company")]
pub async fn switch_company(company_id: i64, toggle: bool) -> Result<(), AppError> {
    use crate::domain::company::WorkingCompanies;
    use crate::i18n::Msg;
    let who = super::ssr::identity()?;
    let mut tx = crate::db::begin_write(&super::ssr::state()?.pool).await?;
    let mine = crate::db::companies::of_user(&mut tx, who.user_id).await?;
    if !mine.iter().any(|c| c.id == company_id) {
        return Err(AppError::validation("company_id", Msg::ErrUnknownCompany));
    }
    let working = WorkingCompanies {
        current: who.current_company_id,
        active: who.active_company_ids.clone(),
    }
    .switch(company_id, toggle);
    crate::db::sessions::set_companies(&mut tx, &who.token_hash, working.current, &working.active)
        .await?;
    tx.commit().await?;
    Ok(())
}
