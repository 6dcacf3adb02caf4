//! Refunds of paid orders: one row per refunded order, from `pending` (credits taken back,
//! money on its way) to `refunded` or `failed` (credits given back).

use crate::domain::order::OrderState;
use crate::domain::refund::{RefundState, RefundableOrder, retry_delay_ms};
use sqlx::AnyConnection;
use tracing::instrument;

/// An order as refunding it needs it: the rules' view, and how it was paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundOrder {
    pub order: RefundableOrder,
    pub provider: Option<String>,
}

#[instrument(level = "debug", skip(conn))]
pub async fn order(conn: &mut AnyConnection, id: i64) -> Result<Option<RefundOrder>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        account_id: i64,
        credits: i64,
        state: OrderState,
        provider: Option<String>,
        refund: Option<RefundState>,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT o.id, o.account_id, o.credits, o.state, o.provider, r.state AS refund
         FROM orders o LEFT JOIN refunds r ON r.order_id = o.id WHERE o.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| RefundOrder {
        order: RefundableOrder {
            id: r.id,
            account: r.account_id,
            credits: r.credits,
            state: r.state,
            refund: r.refund,
        },
        provider: r.provider,
    }))
}

/// Records a refund just asked for, due at once.
#[instrument(level = "debug", skip(conn, reason))]
pub async fn insert(
    conn: &mut AnyConnection,
    order: i64,
    reason: &str,
    provider: &str,
    by: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refunds (order_id, state, reason, provider, next_attempt_at, created_by, created_at)
         VALUES ($1, 'pending', $2, $3, $4, $5, $4)",
    )
    .bind(order)
    .bind(reason)
    .bind(provider)
    .bind(now)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

/// A refund whose money still has to go back.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DueRefund {
    pub order_id: i64,
    pub provider: String,
    /// The order's payment at the provider (a Checkout Session for Stripe).
    pub payment_reference: Option<String>,
    pub attempts: i64,
}

/// Pending refunds due at `now`, oldest first; `only` narrows them to one order.
#[instrument(level = "debug", skip(conn))]
pub async fn due(
    conn: &mut AnyConnection,
    now: i64,
    only: Option<i64>,
    limit: i64,
) -> Result<Vec<DueRefund>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.order_id, r.provider, o.provider_reference AS payment_reference, r.attempts
         FROM refunds r JOIN orders o ON o.id = r.order_id
         WHERE r.state = 'pending' AND r.next_attempt_at <= $1 AND ($2 IS NULL OR r.order_id = $2)
         ORDER BY r.next_attempt_at LIMIT $3",
    )
    .bind(now)
    .bind(only)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The provider returned the money; false if the refund was no longer pending.
#[instrument(level = "debug", skip(conn))]
pub async fn mark_refunded(
    conn: &mut AnyConnection,
    order: i64,
    reference: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE refunds SET state = 'refunded', provider_reference = $2, failure_reason = NULL,
                            attempts = attempts + 1, done_at = $3
         WHERE order_id = $1 AND state = 'pending'",
    )
    .bind(order)
    .bind(reference)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The provider did not answer (or cannot be reached from here): ask again later.
#[instrument(level = "debug", skip(conn))]
pub async fn postpone(
    conn: &mut AnyConnection,
    order: i64,
    why: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let attempts: Option<i64> = sqlx::query_scalar(
        "SELECT attempts FROM refunds WHERE order_id = $1 AND state = 'pending'",
    )
    .bind(order)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(attempts) = attempts else {
        return Ok(());
    };
    let attempts = attempts + 1;
    let delay = retry_delay_ms(u32::try_from(attempts).unwrap_or(u32::MAX));
    sqlx::query(
        "UPDATE refunds SET attempts = $2, failure_reason = $3, next_attempt_at = $4
         WHERE order_id = $1 AND state = 'pending'",
    )
    .bind(order)
    .bind(attempts)
    .bind(why)
    .bind(now.saturating_add(delay))
    .execute(conn)
    .await?;
    Ok(())
}

/// The provider refused for good; false if the refund was no longer pending. The writer
/// calls this in the transaction that gives the credits back.
#[instrument(level = "debug", skip(conn))]
pub async fn mark_failed(
    conn: &mut AnyConnection,
    order: i64,
    why: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE refunds SET state = 'failed', failure_reason = $2, attempts = attempts + 1,
                            done_at = $3
         WHERE order_id = $1 AND state = 'pending'",
    )
    .bind(order)
    .bind(why)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What `server check` says about refunds: how many, and the orders whose ledger does not
/// match their refund (a pending or refunded order must have taken back exactly its credits,
/// a failed one given them all back).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RefundCheck {
    pub count: i64,
    pub wrong: Vec<i64>,
}

#[instrument(level = "debug", skip_all)]
pub async fn check(conn: &mut AnyConnection) -> Result<RefundCheck, sqlx::Error> {
    let count = sqlx::query_scalar("SELECT COUNT(*) FROM refunds")
        .fetch_one(&mut *conn)
        .await?;
    let wrong = sqlx::query_scalar(
        "SELECT r.order_id FROM refunds r JOIN orders o ON o.id = r.order_id
         WHERE COALESCE((SELECT CAST(SUM(e.amount) AS BIGINT) FROM ledger_entries e WHERE e.order_id = r.order_id
                           AND e.kind IN ('refund', 'adjustment')), 0)
               <> CASE r.state WHEN 'failed' THEN 0 ELSE -o.credits END
         ORDER BY r.order_id",
    )
    .fetch_all(conn)
    .await?;
    Ok(RefundCheck { count, wrong })
}
