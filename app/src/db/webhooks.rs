//! Webhooks and their deliveries: an outbox of events to post. Deliveries of alerts are
//! inserted in the ledger writer's transaction, one per active webhook; the webhook worker
//! posts them and records each attempt.

use crate::models::{Webhook, WebhookDelivery};
use sqlx::AnyConnection;
use tracing::instrument;

const SELECT: &str = "SELECT w.id, w.url, w.secret, w.active, w.created_at,
        (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'pending') AS pending,
        (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'failed') AS failed
    FROM webhooks w";

#[instrument(level = "debug", skip_all)]
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<Webhook>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY w.id")))
        .fetch_all(conn)
        .await
}

#[instrument(level = "debug", skip_all)]
pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<Webhook>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE w.id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await
}

#[instrument(level = "debug", skip_all)]
pub async fn insert(
    conn: &mut AnyConnection,
    url: &str,
    secret: &str,
    by: Option<i64>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO webhooks (url, secret, active, created_by, created_at) VALUES ($1, $2, 1, $3, $4) RETURNING id",
    )
    .bind(url)
    .bind(secret)
    .bind(by)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Pauses or resumes a webhook; false when there is none. A paused webhook gets no new
/// events, and its pending deliveries wait.
#[instrument(level = "debug", skip_all)]
pub async fn set_active(
    conn: &mut AnyConnection,
    id: i64,
    active: bool,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE webhooks SET active = $1 WHERE id = $2")
        .bind(crate::db::Flag(active))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a webhook and its delivery log; false when there is none.
#[instrument(level = "debug", skip_all)]
pub async fn delete(conn: &mut AnyConnection, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM webhooks WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Queues one event for every active webhook, due at once; returns how many deliveries.
#[instrument(level = "debug", skip_all)]
pub async fn enqueue_all(
    conn: &mut AnyConnection,
    event_type: &str,
    body: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries (webhook_id, event_type, body, state, next_attempt_at, created_at)
         SELECT id, $1, $2, 'pending', $3, $3 FROM webhooks WHERE active = 1",
    )
    .bind(event_type)
    .bind(body)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Queues one event for one webhook (a test event), due at once.
#[instrument(level = "debug", skip_all)]
pub async fn enqueue_one(
    conn: &mut AnyConnection,
    webhook: i64,
    event_type: &str,
    body: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO webhook_deliveries (webhook_id, event_type, body, state, next_attempt_at, created_at)
         VALUES ($1, $2, $3, 'pending', $4, $4) RETURNING id",
    )
    .bind(webhook)
    .bind(event_type)
    .bind(body)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// A delivery due, with where and how to post it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DueDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub secret: String,
    pub body: String,
    pub attempts: i64,
}

/// Claims up to `limit` pending deliveries of active webhooks due at `now`, oldest first:
/// their next attempt moves to `until`, so no other pass takes them meanwhile, and a pass
/// that dies before recording its attempt leaves them due again then; claims never overlap
/// ([`crate::db::skip_locked`]). With nothing due it only reads, like the mail outbox's.
#[instrument(level = "debug", skip_all)]
pub async fn claim_due(
    conn: &mut AnyConnection,
    now: i64,
    until: i64,
    limit: i64,
) -> Result<Vec<DueDelivery>, sqlx::Error> {
    match next_due(&mut *conn).await? {
        Some(due) if due <= now => {}
        _ => return Ok(Vec::new()),
    }
    let skip_locked = crate::db::skip_locked(conn, Some("d"));
    let claimed: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_deliveries SET next_attempt_at = $1
         WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                      WHERE d.state = 'pending' AND d.next_attempt_at <= $2 AND w.active = 1
                      ORDER BY d.next_attempt_at, d.id LIMIT $3 {skip_locked})
         RETURNING id"
    )))
    .bind(until)
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        "SELECT d.id, d.webhook_id, w.url, w.secret, d.body, d.attempts
         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.id IN (SELECT CAST(value AS BIGINT) FROM json_each($1)) ORDER BY d.id",
    )
    .bind(crate::db::id_list(&claimed))
    .fetch_all(conn)
    .await
}

/// When the next pending delivery of an active webhook is due, if any.
#[instrument(level = "debug", skip_all)]
pub async fn next_due(conn: &mut AnyConnection) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT min(d.next_attempt_at) FROM webhook_deliveries d
         JOIN webhooks w ON w.id = d.webhook_id WHERE d.state = 'pending' AND w.active = 1",
    )
    .fetch_one(conn)
    .await
}

/// Records one attempt: delivered (`retry_at` ignored) when `delivered`, else failed and
/// due again at `retry_at`, or failed for good without one. Only a pending delivery changes.
#[instrument(level = "debug", skip_all)]
pub async fn record_attempt(
    conn: &mut AnyConnection,
    id: i64,
    attempt: &Attempt,
    now: i64,
) -> Result<(), sqlx::Error> {
    let (state, next, done_at) = match (attempt.delivered, attempt.retry_at) {
        (true, _) => ("delivered", now, Some(now)),
        (false, Some(at)) => ("pending", at, None),
        (false, None) => ("failed", now, Some(now)),
    };
    sqlx::query(
        "UPDATE webhook_deliveries
         SET state = $1, attempts = attempts + 1, next_attempt_at = $2, last_status = $3,
             last_error = $4, done_at = $5
         WHERE id = $6 AND state = 'pending'",
    )
    .bind(state)
    .bind(next)
    .bind(attempt.status.map(i64::from))
    .bind(&attempt.error)
    .bind(done_at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The outcome of one attempt to post a delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub delivered: bool,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why it was not delivered.
    pub error: Option<String>,
    /// When to try again; `None` gives up (or, when delivered, means nothing).
    pub retry_at: Option<i64>,
}

/// A webhook's newest deliveries: its delivery log.
#[instrument(level = "debug", skip_all)]
pub async fn deliveries(
    conn: &mut AnyConnection,
    webhook: i64,
    limit: i64,
) -> Result<Vec<WebhookDelivery>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, event_type, state, attempts, last_status, last_error, created_at,
                next_attempt_at
         FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(webhook)
    .bind(limit)
    .fetch_all(conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn two_passes_claiming_at_once_never_take_the_same_delivery() {
        let (pool, _) = crate::db::scratch("webhook-claims").await.unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let live = insert(&mut conn, "https://a.example/hook", "s", None, 1_000)
            .await
            .unwrap();
        let paused = insert(&mut conn, "https://b.example/hook", "s", None, 1_000)
            .await
            .unwrap();
        for i in 0..15 {
            enqueue_all(
                &mut conn,
                "credits.depleted",
                &format!("{{\"n\":{i}}}"),
                1_000,
            )
            .await
            .unwrap();
        }
        set_active(&mut conn, paused, false).await.unwrap();
        drop(conn);
        let claim = |pool: sqlx::AnyPool| async move {
            let mut conn = pool.acquire().await.unwrap();
            claim_due(&mut conn, 2_000, 5_000, 10).await.unwrap()
        };
        let (first, second) = tokio::join!(claim(pool.clone()), claim(pool.clone()));
        let mut ids: Vec<i64> = first.iter().chain(&second).map(|d| d.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 15, "each of the live webhook's once, none twice");
        assert!(first.iter().chain(&second).all(|d| d.webhook_id == live));
        assert_eq!(first[0].url, "https://a.example/hook");
        let mut conn = pool.acquire().await.unwrap();
        assert!(
            claim_due(&mut conn, 4_999, 9_000, 50)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            claim_due(&mut conn, 5_000, 9_000, 50).await.unwrap().len(),
            15
        );
    }
}
