//! Signing in and out: the throttle, the password check and the session, in that order.

use crate::auth::{password, session};
use crate::clock::now_ms;
use crate::db;
use crate::domain::throttle::{Throttle, login_keys};
use crate::error::AppError;
use sqlx::AnyPool;
use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::Semaphore;

/// How many password checks may run at once: Argon2id takes 19 MiB and tens of
/// milliseconds each, so beyond a few per core, callers are turned away at once instead of
/// queueing memory and time.
pub fn verification_slots() -> Semaphore {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    Semaphore::new(2 * cores)
}

/// A successful login: the cookie value of the new session.
pub struct SignedIn {
    pub token: String,
    pub login: String,
}

/// What the login flow needs besides the database.
pub struct Guards<'a> {
    pub throttle: &'a Mutex<Throttle>,
    pub slots: &'a Semaphore,
}

/// Checks the credentials and starts a new session (a new id, so a planted cookie is
/// useless). The attempt is counted before the password is checked, and only a few checks
/// run at once; `client` is the caller's address, one of the throttle's keys; `replacing`
/// is the hash of the session the browser had, which ends.
#[tracing::instrument(skip_all, fields(login = %login.trim()))]
pub async fn login(
    pool: &AnyPool,
    guards: Guards<'_>,
    login: &str,
    password: String,
    client: Option<&str>,
    replacing: Option<&str>,
) -> Result<SignedIn, AppError> {
    let login = login.trim().to_owned();
    let keys = login_keys(&login, client);
    let counted = {
        let mut throttle = guards.throttle.lock().map_err(|_| AppError::Internal)?;
        throttle.attempt(&keys, Instant::now())
    };
    if !counted {
        tracing::warn!("login refused: too many failed attempts");
        return Err(AppError::TooManyAttempts);
    }
    let Ok(_slot) = guards.slots.try_acquire() else {
        tracing::warn!("login refused: too many password checks under way");
        return Err(AppError::Busy);
    };

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
        tracing::info!("login failed");
        return Err(AppError::BadCredentials);
    };
    if let Ok(mut throttle) = guards.throttle.lock() {
        throttle.succeeded(&keys);
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
pub async fn logout(pool: &AnyPool, token_hash: &str) -> Result<(), AppError> {
    let mut conn = pool.acquire().await?;
    db::sessions::delete(&mut conn, token_hash).await?;
    Ok(())
}
