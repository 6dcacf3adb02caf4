//! Packs and orders. An order is paid only by the ledger writer, together with its credits.

use crate::domain::order::OrderState;
use crate::domain::packs::Pack;
use crate::models::Order;
use sqlx::AnyConnection;

#[derive(sqlx::FromRow)]
struct PackRow {
    id: i64,
    service: String,
    name: String,
    credits: i64,
    price: i64,
    currency: String,
}

impl From<PackRow> for Pack {
    fn from(r: PackRow) -> Self {
        Pack {
            id: r.id,
            service: r.service,
            name: r.name,
            credits: r.credits,
            price: r.price,
            currency: r.currency,
        }
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn packs_of(conn: &mut AnyConnection, service: &str) -> Result<Vec<Pack>, sqlx::Error> {
    let rows: Vec<PackRow> = sqlx::query_as(
        "SELECT id, service, name, credits, price, currency FROM packs
         WHERE service = $1 AND active = 1 ORDER BY credits",
    )
    .bind(service)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Pack::from).collect())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn pack(conn: &mut AnyConnection, id: i64) -> Result<Option<Pack>, sqlx::Error> {
    let row: Option<PackRow> = sqlx::query_as(
        "SELECT id, service, name, credits, price, currency FROM packs WHERE id = $1 AND active = 1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Pack::from))
}

/// A draft order for `pack`, priced by the server from the pack, never by the client.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn create(
    conn: &mut AnyConnection,
    account: i64,
    pack: &Pack,
    by: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO orders (account_id, pack_id, pack_name, credits, amount, currency, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(account)
    .bind(pack.id)
    .bind(&pack.name)
    .bind(pack.credits)
    .bind(pack.price)
    .bind(&pack.currency)
    .bind(by)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// The first parameter is now (Unix ms), for how long a pending order has waited.
const SELECT: &str = "SELECT o.id, o.account_id, a.name AS account_name, s.label AS service_label, s.unit_name,
        s.whole_number, o.pack_name, o.credits, o.amount, o.currency, o.state, o.card_brand, o.card_last4,
        o.failure_reason, u.name AS buyer, o.created_at, o.auto_recharge,
        CASE WHEN o.state = 'pending' THEN ($1 - o.pending_since) / 60000 END AS pending_minutes,
        r.state AS refund, r.failure_reason AS refund_failure
    FROM orders o JOIN iap_accounts a ON a.id = o.account_id
    JOIN services s ON s.technical_name = a.service JOIN users u ON u.id = o.created_by
    LEFT JOIN refunds r ON r.order_id = o.id";

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(
    conn: &mut AnyConnection,
    id: i64,
    now: i64,
) -> Result<Option<Order>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE o.id = $2")))
        .bind(now)
        .bind(id)
        .fetch_optional(conn)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn of_account(
    conn: &mut AnyConnection,
    account: i64,
    now: i64,
) -> Result<Vec<Order>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE o.account_id = $2 ORDER BY o.id DESC LIMIT 50"
    )))
    .bind(now)
    .bind(account)
    .fetch_all(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn all(conn: &mut AnyConnection, now: i64) -> Result<Vec<Order>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} ORDER BY o.id DESC LIMIT 500"
    )))
    .bind(now)
    .fetch_all(conn)
    .await
}

/// What settling a hosted payment needs to know about its order.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OrderPayment {
    pub state: OrderState,
    /// Cents of `currency`.
    pub amount: i64,
    pub currency: String,
    pub provider: Option<String>,
    pub provider_reference: Option<String>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn payment_of(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<OrderPayment>, sqlx::Error> {
    sqlx::query_as(
        "SELECT state, amount, currency, provider, provider_reference FROM orders WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// draft → pending at a hosted provider, recording its reference (the Checkout Session)
/// before anything is paid, so a webhook or the reconciler can always find the order.
/// `false` when the order was not a draft any more.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn start_hosted(
    conn: &mut AnyConnection,
    id: i64,
    provider: &str,
    reference: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE orders SET state = $1, provider = $2, provider_reference = $3, pending_since = $4
         WHERE id = $5 AND state = $6",
    )
    .bind(OrderState::Pending)
    .bind(provider)
    .bind(reference)
    .bind(now)
    .bind(id)
    .bind(OrderState::Draft)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Orders pending at `provider` since before `before`, oldest first, with their reference:
/// the payments the reconciler reads back. Auto-recharge orders are its worker's own.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn pending_since_before(
    conn: &mut AnyConnection,
    provider: &str,
    before: i64,
    limit: i64,
) -> Result<Vec<(i64, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, provider_reference FROM orders
         WHERE state = $1 AND provider = $2 AND pending_since < $3 AND auto_recharge = 0
         ORDER BY pending_since LIMIT $4",
    )
    .bind(OrderState::Pending)
    .bind(provider)
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// draft → pending, keeping only the card's brand and last four digits. `false` when the
/// order was not a draft any more (a double click, a resubmitted form).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn start_payment(
    conn: &mut AnyConnection,
    id: i64,
    provider: &str,
    brand: &str,
    last4: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE orders SET state = $1, provider = $2, card_brand = $3, card_last4 = $4,
                pending_since = $5
         WHERE id = $6 AND state = $7",
    )
    .bind(OrderState::Pending)
    .bind(provider)
    .bind(brand)
    .bind(last4)
    .bind(now)
    .bind(id)
    .bind(OrderState::Draft)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the provider's reference of a pending order before it is credited, so an order
/// whose crediting was interrupted is settled by the reconciler rather than left pending.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_reference(
    conn: &mut AnyConnection,
    id: i64,
    reference: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE orders SET provider_reference = $1
         WHERE id = $2 AND state = $3 AND provider_reference IS NULL",
    )
    .bind(reference)
    .bind(id)
    .bind(OrderState::Pending)
    .execute(conn)
    .await?;
    Ok(())
}

/// pending → failed, with the provider's reason.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn fail(conn: &mut AnyConnection, id: i64, reason: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE orders SET state = $1, failure_reason = $2 WHERE id = $3 AND state = $4")
        .bind(OrderState::Failed)
        .bind(reason)
        .bind(id)
        .bind(OrderState::Pending)
        .execute(conn)
        .await?;
    Ok(())
}
