//! Delivery reports on their way to the Odoo databases that sent the messages: one row per
//! status change of a message, inserted in the transaction of the change, and delivered by
//! the forwarder with retries (`sms::reports`). A report is `queued` until `sent`, or
//! `failed` once the forwarder gives up, or `superseded` when a newer status of its message
//! is queued before it was delivered; `attempts`, `next_attempt_at` and `last_error` record
//! the retries.

use crate::models::{SmsDelivery, SmsReportLine};
use sqlx::AnyConnection;

/// Queues a report of `status` for `message` (Odoo's `uuid`) to `webhook_url`, due now,
/// in place of any report of that message still waiting.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn queue(
    conn: &mut AnyConnection,
    message: i64,
    webhook_url: &str,
    uuid: &str,
    status: SmsDelivery,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sms_reports SET state = 'superseded' WHERE message_id = $1 AND state = 'queued'",
    )
    .bind(message)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO sms_reports (message_id, webhook_url, uuid, status, next_attempt_at,
                                  created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(message)
    .bind(webhook_url)
    .bind(uuid)
    .bind(status)
    .bind(now)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A queued report as the forwarder sends it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DueReport {
    pub id: i64,
    pub webhook_url: String,
    pub uuid: String,
    pub status: SmsDelivery,
    pub attempts: i64,
    pub created_at: i64,
}

/// Queued reports due at `now`, oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn due(
    conn: &mut AnyConnection,
    now: i64,
    limit: i64,
) -> Result<Vec<DueReport>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, webhook_url, uuid, status, attempts, created_at FROM sms_reports
         WHERE state = 'queued' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_sent(conn: &mut AnyConnection, ids: &[i64], now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sms_reports SET state = 'sent', attempts = attempts + 1, sent_at = $1,
                last_error = NULL
         WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each($2)) AND state = 'queued'",
    )
    .bind(now)
    .bind(super::id_list(ids))
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes every report waiting for `webhook_url` due at `now`: the database answered, so
/// those waiting out a back-off need not wait any longer.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn due_now_for(
    conn: &mut AnyConnection,
    webhook_url: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sms_reports SET next_attempt_at = $1
         WHERE webhook_url = $2 AND state = 'queued' AND next_attempt_at > $3",
    )
    .bind(now)
    .bind(webhook_url)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a failed attempt for `id`: retried at `retry_at`, or `failed` for good when
/// `None`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_attempt_failed(
    conn: &mut AnyConnection,
    id: i64,
    error: &str,
    retry_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sms_reports SET attempts = attempts + 1, last_error = $1,
                state = CASE WHEN $2 IS NULL THEN 'failed' ELSE 'queued' END,
                next_attempt_at = COALESCE($3, next_attempt_at)
         WHERE id = $4 AND state = 'queued'",
    )
    .bind(error)
    .bind(retry_at)
    .bind(retry_at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The newest reports, for the SMS Outbox.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn newest(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<SmsReportLine>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, created_at, webhook_url, uuid, status, state, attempts, next_attempt_at,
                last_error, sent_at
         FROM sms_reports ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}
