//! Signing in and out, the current session, and the company switcher.

use crate::error::AppError;
use crate::models::SessionInfo;
use leptos::prelude::*;

/// Checks the credentials and starts a new session (a new id, so a planted cookie is useless).
#[server(endpoint = "login")]
pub async fn login(login: String, password: String) -> Result<(), AppError> {
    use crate::auth::{password as pw, session};
    use crate::db;
    use crate::state::ClientAddr;
    use std::time::Instant;

    let state = super::ssr::state()?;
    let login = login.trim().to_owned();
    let mut keys = vec![format!("login:{}", login.to_lowercase())];
    if let Some(ClientAddr(addr)) = use_context::<ClientAddr>() {
        keys.push(format!("addr:{addr}"));
    }
    let allowed = {
        let throttle = state.throttle.lock().map_err(|_| AppError::Internal)?;
        keys.iter().all(|k| throttle.allows(k, Instant::now()))
    };
    if !allowed {
        tracing::warn!(%login, "login refused: too many failed attempts");
        return Err(AppError::TooManyAttempts);
    }

    let mut conn = state.pool.acquire().await?;
    let user = db::users::by_login(&mut conn, &login).await?;
    let verified = tokio::task::spawn_blocking(move || match user {
        Some(user) if pw::verify(&user.password_hash, &password) => Some(user),
        Some(_) => None,
        None => {
            pw::verify_dummy(&password);
            None
        }
    })
    .await
    .map_err(|_| AppError::Internal)?;

    let Some(user) = verified else {
        let mut throttle = state.throttle.lock().map_err(|_| AppError::Internal)?;
        keys.iter()
            .for_each(|k| throttle.record_failure(k, Instant::now()));
        tracing::info!(%login, "login failed");
        return Err(AppError::BadCredentials);
    };
    if let Ok(mut throttle) = state.throttle.lock() {
        keys.iter().for_each(|k| throttle.reset(k));
    }

    if let Some(old) = use_context::<crate::auth::Identity>() {
        db::sessions::delete(&mut conn, &old.token_hash).await?;
    }
    let token = session::new_token();
    let now = session::now();
    db::sessions::insert(
        &mut conn,
        db::sessions::NewSession {
            token_hash: &session::token_hash(&token),
            user_id: user.id,
            company_id: user.default_company_id,
            now,
            expires_at: now + session::LIFETIME_SECS,
        },
    )
    .await?;
    set_cookie(&session::cookie(&token, state.secure_cookies));
    tracing::info!(login = %user.login, "signed in");
    Ok(())
}

/// Ends the session on the server, not only in the browser.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::auth::session;
    let state = super::ssr::state()?;
    if let Ok(who) = super::ssr::identity() {
        let mut conn = state.pool.acquire().await?;
        crate::db::sessions::delete(&mut conn, &who.token_hash).await?;
    }
    set_cookie(&session::clearing_cookie(state.secure_cookies));
    Ok(())
}

/// Who is signed in, or `None` on the login page.
#[server(endpoint = "session")]
pub async fn current_session() -> Result<Option<SessionInfo>, AppError> {
    let Ok(who) = super::ssr::identity() else {
        return Ok(None);
    };
    let state = super::ssr::state()?;
    let mut conn = state.pool.acquire().await?;
    let companies = crate::db::companies::of_user(&mut conn, who.user_id).await?;
    Ok(Some(SessionInfo {
        user_id: who.user_id,
        user_name: who.name,
        login: who.login,
        is_admin: who.is_admin,
        companies,
        current_company_id: who.current_company_id,
        active_company_ids: who.active_company_ids,
        debug: who.debug,
    }))
}

/// Odoo's company switcher: clicking a company works in it alone; ticking its box adds it
/// to (or removes it from) the companies whose records are shown.
#[server(endpoint = "switch_company")]
pub async fn switch_company(company_id: i64, toggle: bool) -> Result<(), AppError> {
    let who = super::ssr::identity()?;
    let state = super::ssr::state()?;
    let mut tx = crate::db::begin_write(&state.pool).await?;
    let mine = crate::db::companies::of_user(&mut tx, who.user_id).await?;
    if !mine.iter().any(|c| c.id == company_id) {
        return Err(AppError::validation(
            "company_id",
            crate::i18n::t(crate::i18n::Msg::ErrUnknownCompany),
        ));
    }
    let (current, active) = if !toggle {
        (company_id, vec![company_id])
    } else if who.active_company_ids.contains(&company_id) {
        let rest: Vec<i64> = who
            .active_company_ids
            .iter()
            .copied()
            .filter(|&c| c != company_id)
            .collect();
        match rest.first() {
            // The last active company cannot be unticked.
            None => (who.current_company_id, who.active_company_ids.clone()),
            Some(&first) if company_id == who.current_company_id => (first, rest),
            Some(_) => (who.current_company_id, rest),
        }
    } else {
        let mut active = who.active_company_ids.clone();
        active.push(company_id);
        (who.current_company_id, active)
    };
    crate::db::sessions::set_companies(&mut tx, &who.token_hash, current, &active).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(feature = "ssr")]
fn set_cookie(value: &str) {
    use http::header::{HeaderValue, SET_COOKIE};
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(value),
    ) {
        response.append_header(SET_COOKIE, value);
    }
}
