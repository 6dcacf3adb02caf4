//! Settings → Webhooks: administrators register the URLs alerts are posted to, and read
//! each one's delivery log.

use crate::error::AppError;
use crate::models::{Webhook, WebhookDelivery};
use leptos::prelude::*;

/// The most deliveries a webhook's log lists.
pub const LOG_SIZE: i64 = 100;

#[server(endpoint = "admin/webhooks")]
pub async fn list_webhooks() -> Result<Vec<Webhook>, AppError> {
    super::ssr::admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    Ok(crate::db::webhooks::list(&mut conn).await?)
}

/// One webhook and its newest deliveries.
#[server(endpoint = "admin/webhook")]
pub async fn get_webhook(id: i64) -> Result<(Webhook, Vec<WebhookDelivery>), AppError> {
    super::ssr::admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    let webhook = crate::db::webhooks::get(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let log = crate::db::webhooks::deliveries(&mut conn, id, LOG_SIZE).await?;
    Ok((webhook, log))
}

/// Registers a webhook, with a new signing secret. A URL that is not `http(s)`, or whose host
/// is private while private targets are not allowed, is refused on the `url` field.
#[server(endpoint = "admin/webhooks/add")]
pub async fn add_webhook(url: String) -> Result<i64, AppError> {
    let who = super::ssr::admin()?;
    let state = super::ssr::state()?;
    let url = crate::webhook::check_target(&url, state.webhook_allow_private).await?;
    let mut conn = state.pool.acquire().await?;
    let secret = crate::webhook::new_secret();
    let now = crate::clock::now_ms();
    let id = crate::db::webhooks::insert(&mut conn, url.as_str(), &secret, Some(who.user_id), now)
        .await?;
    tracing::info!(
        webhook = id,
        url = url.as_str(),
        by = who.login,
        "webhook added"
    );
    Ok(id)
}

/// Pauses (no new events; pending ones wait) or resumes a webhook.
#[server(endpoint = "admin/webhooks/active")]
pub async fn set_webhook_active(id: i64, active: bool) -> Result<(), AppError> {
    let who = super::ssr::admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    if !crate::db::webhooks::set_active(&mut conn, id, active).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(
        webhook = id,
        active,
        by = who.login,
        "webhook paused or resumed"
    );
    Ok(())
}

/// Deletes a webhook and its delivery log.
#[server(endpoint = "admin/webhooks/delete")]
pub async fn delete_webhook(id: i64) -> Result<(), AppError> {
    let who = super::ssr::admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    if !crate::db::webhooks::delete(&mut conn, id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(webhook = id, by = who.login, "webhook deleted");
    Ok(())
}

/// Queues a `webhook.test` event for one webhook, posted like any other.
#[server(endpoint = "admin/webhooks/test")]
pub async fn send_test_event(id: i64) -> Result<i64, AppError> {
    let who = super::ssr::admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    if crate::db::webhooks::get(&mut conn, id).await?.is_none() {
        return Err(AppError::NotFound);
    }
    let now = crate::clock::now_ms();
    let event_id = format!("evt_test_{}", crate::crypto::random_token(9));
    let data = serde_json::json!({ "webhook": id, "sent_by": who.login });
    let body = crate::domain::webhook::event_body(&event_id, "webhook.test", now, data);
    let delivery =
        crate::db::webhooks::enqueue_one(&mut conn, id, "webhook.test", &body, now).await?;
    tracing::info!(
        webhook = id,
        delivery,
        by = who.login,
        "webhook test event queued"
    );
    Ok(delivery)
}
