//! Signing in and out: the throttle, the password check and the session, in that order.

use crate::auth::{password, session};
use crate::clock::now_ms;
use crate::db;
use crate::domain::throttle::Throttle;
use crate::error::AppError;
use sqlx::SqlitePool;
use std::sync::Mutex;
use std::time::Instant;

/// A successful login: the cookie value of the new session.
pub struct SignedIn {
    pub token: String,
    pub login: String,
}

/// Checks the credentials and starts a new session (a new id, so a planted cookie is
/// useless). `client` is the caller's address, one of the throttle's keys; `replacing` is
/// the hash of the session the browser had, which ends.
#[tracing::instrument(skip_all, fields(login = %login.trim()))]
pub async fn login(
    pool: &SqlitePool,
    throttle: &Mutex<Throttle>,
    login: &str,
    password: String,
    client: Option<&str>,
    replacing: Option<&str>,
) -> Result<SignedIn, AppError> {
    let login = login.trim().to_owned();
    let keys = crate::domain::throttle::login_keys(&login, client);
    let allowed = {
        let throttle = throttle.lock().map_err(|_| AppError::Internal)?;
        keys.iter().all(|k| throttle.allows(k, Instant::now()))
    };
    if !allowed {
        tracing::warn!("login refused: too many failed attempts");
        return Err(AppError::TooManyAttempts);
    }

    let mut conn = pool.acquire().await?;
    let user = db::users::by_login(&mut conn, &login).await?;
    // An inactive user's password is checked all the same, so the answer and its timing
    // are those of a wrong password.
    let verified = tokio::task::spawn_blocking(move || match user {
        Some(user) if password::verify(&user.password_hash, &password) && user.active => Some(user),
        Some(_) => None,
        None => {
            password::verify_dummy(&password);
            None
        }
    })
    .await
    .map_err(|_| AppError::Internal)?;

    let Some(user) = verified else {
        let mut throttle = throttle.lock().map_err(|_| AppError::Internal)?;
        keys.iter()
            .for_each(|k| throttle.record_failure(&k.name, Instant::now()));
        tracing::info!("login failed");
        return Err(AppError::BadCredentials);
    };
    if let Ok(mut throttle) = throttle.lock() {
        keys.iter().for_each(|k| throttle.reset(&k.name));
    }

    if let Some(old) = replacing {
        db::sessions::delete(&mut conn, old).await?;
    }
    let token = session::new_token();
    let now = now_ms();
    db::sessions::insert(
        &mut conn,
        db::sessions::NewSession {
            token_hash: &session::token_hash(&token),
            user_id: user.id,
            company_id: user.default_company_id,
            now,
            expires_at: now + session::LIFETIME_MS,
        },
    )
    .await?;
    db::users::record_login(&mut conn, user.id, now).await?;
    tracing::info!(login = %user.login, "signed in");
    Ok(SignedIn {
        token,
        login: user.login,
    })
}

/// Ends the session on the server, not only in the browser.
pub async fn logout(pool: &SqlitePool, token_hash: &str) -> Result<(), AppError> {
    let mut conn = pool.acquire().await?;
    db::sessions::delete(&mut conn, token_hash).await?;
    Ok(())
}
