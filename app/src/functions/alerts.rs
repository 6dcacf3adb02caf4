//! Alerts: an account's further thresholds, and the bell's notifications.

use crate::error::AppError;
use crate::models::{AccountAlerts, Notifications};
use leptos::prelude::*;

/// The most notifications the bell lists.
pub const BELL_SIZE: i64 = 20;

/// The account's further thresholds, for everyone who may see the account.
#[server(endpoint = "iap/alerts")]
pub async fn get_account_alerts(id: i64) -> Result<AccountAlerts, AppError> {
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    super::ssr::visible_account(&mut conn, &who, id).await?;
    Ok(AccountAlerts {
        thresholds: crate::db::alerts::thresholds(&mut conn, id).await?,
        editable: who.is_admin,
    })
}

/// Adds a further threshold: administrators only. Invalid fields come back as validation
/// errors naming the field (`threshold` or `emails`).
#[server(endpoint = "iap/alerts/add")]
pub async fn add_alert_threshold(
    id: i64,
    threshold: String,
    emails: String,
    in_app: bool,
    webhook: bool,
) -> Result<i64, AppError> {
    let who = super::ssr::admin()?;
    let new = crate::domain::alert::NewThreshold::parse(&threshold, &emails, in_app, webhook)?;
    let state = super::ssr::state()?;
    let added = state.ledger.add_threshold(id, new).await?;
    tracing::info!(
        account = id,
        threshold = added,
        by = who.login,
        "alert threshold added"
    );
    Ok(added)
}

/// Removes a further threshold: administrators only.
#[server(endpoint = "iap/alerts/remove")]
pub async fn remove_alert_threshold(id: i64, threshold: i64) -> Result<(), AppError> {
    let who = super::ssr::admin()?;
    let state = super::ssr::state()?;
    state.ledger.remove_threshold(id, threshold).await?;
    tracing::info!(
        account = id,
        threshold,
        by = who.login,
        "alert threshold removed"
    );
    Ok(())
}

/// The bell: the newest alerts about the accounts the user may see, and the unread count.
#[server(endpoint = "notifications")]
pub async fn get_notifications() -> Result<Notifications, AppError> {
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    let companies = (!who.is_admin).then_some(who.active_company_ids.as_slice());
    let (items, unread) =
        crate::db::alerts::notifications(&mut conn, who.user_id, companies, BELL_SIZE).await?;
    Ok(Notifications { items, unread })
}

/// How many of the bell's notifications the user has not read: what every page shows.
#[server(endpoint = "notifications/unread")]
pub async fn unread_notifications() -> Result<u32, AppError> {
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    let companies = (!who.is_admin).then_some(who.active_company_ids.as_slice());
    Ok(crate::db::alerts::unread(&mut conn, who.user_id, companies).await?)
}

/// Marks the user's notifications read up to `up_to` (the newest they were shown).
#[server(endpoint = "notifications/read")]
pub async fn mark_notifications_read(up_to: i64) -> Result<(), AppError> {
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    crate::db::alerts::mark_read(&mut conn, who.user_id, up_to).await?;
    Ok(())
}
