//! What hosted payment providers tell iapd: webhook events, stored before they are acted on
//! so a replay is recognised, and marked processed with what they did.

use sqlx::AnyConnection;

/// A provider's event as received.
pub struct NewEvent<'a> {
    pub provider: &'a str,
    pub event_id: &'a str,
    pub kind: &'a str,
    pub order_id: Option<i64>,
    pub now: i64,
}

/// Records an event; `false` when it was already recorded and processed (a redelivery).
/// An event recorded but never processed (the server stopped in between) is acted on again:
/// every action it leads to is idempotent.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_event(
    conn: &mut AnyConnection,
    event: &NewEvent<'_>,
) -> Result<bool, sqlx::Error> {
    let processed: Option<Option<i64>> = sqlx::query_scalar(
        "INSERT INTO payment_events (provider, event_id, kind, order_id, received_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (provider, event_id) DO UPDATE SET kind = excluded.kind
         RETURNING processed_at",
    )
    .bind(event.provider)
    .bind(event.event_id)
    .bind(event.kind)
    .bind(event.order_id)
    .bind(event.now)
    .fetch_optional(conn)
    .await?;
    Ok(!matches!(processed, Some(Some(_))))
}

/// Marks an event processed, with what it did.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_processed(
    conn: &mut AnyConnection,
    provider: &str,
    event_id: &str,
    outcome: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE payment_events SET processed_at = $1, outcome = $2
         WHERE provider = $3 AND event_id = $4 AND processed_at IS NULL",
    )
    .bind(now)
    .bind(outcome)
    .bind(provider)
    .bind(event_id)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_event_is_acted_on_until_it_is_marked_processed() {
        let (pool, _) = crate::db::scratch("unit").await.expect("fresh database");
        let mut conn = pool.acquire().await.expect("conn");
        let event = NewEvent {
            provider: "stripe",
            event_id: "evt_1",
            kind: "checkout.session.completed",
            order_id: None,
            now: 1,
        };
        assert!(record_event(&mut conn, &event).await.expect("first"));
        assert!(record_event(&mut conn, &event).await.expect("unprocessed"));
        mark_processed(&mut conn, "stripe", "evt_1", "credited", 2)
            .await
            .expect("mark");
        assert!(!record_event(&mut conn, &event).await.expect("replay"));
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payment_events")
            .fetch_one(&mut *conn)
            .await
            .expect("count");
        assert_eq!(rows, 1);
    }
}
