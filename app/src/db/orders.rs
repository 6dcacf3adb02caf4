//! Packs and orders. An order is paid only by the ledger writer, together with its credits.

use crate::domain::order::OrderState;
use crate::domain::packs::Pack;
use crate::models::Order;
use sqlx::SqliteConnection;

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
pub async fn packs_of(
    conn: &mut SqliteConnection,
    service: &str,
) -> Result<Vec<Pack>, sqlx::Error> {
    let rows: Vec<PackRow> = sqlx::query_as(
        "SELECT id, service, name, credits, price, currency FROM packs
         WHERE service = ? AND active = 1 ORDER BY credits",
    )
    .bind(service)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Pack::from).collect())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn pack(conn: &mut SqliteConnection, id: i64) -> Result<Option<Pack>, sqlx::Error> {
    let row: Option<PackRow> = sqlx::query_as(
        "SELECT id, service, name, credits, price, currency FROM packs WHERE id = ? AND active = 1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Pack::from))
}

/// A draft order for `pack`, priced by the server from the pack, never by the client.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn create(
    conn: &mut SqliteConnection,
    account: i64,
    pack: &Pack,
    by: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO orders (account_id, pack_id, pack_name, credits, amount, currency, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(account)
    .bind(pack.id)
    .bind(&pack.name)
    .bind(pack.credits)
    .bind(pack.price)
    .bind(&pack.currency)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.last_insert_rowid())
}

/// The first parameter is now (Unix ms), for how long a pending order has waited.
const SELECT: &str = "SELECT o.id, o.account_id, a.name AS account_name, s.label AS service_label, s.unit_name,
        s.whole_number, o.pack_name, o.credits, o.amount, o.currency, o.state, o.card_brand, o.card_last4,
        o.failure_reason, u.name AS buyer, o.created_at, o.auto_recharge,
        CASE WHEN o.state = 'pending' THEN (? - o.pending_since) / 60000 END AS pending_minutes,
        r.state AS refund, r.failure_reason AS refund_failure
    FROM orders o JOIN iap_accounts a ON a.id = o.account_id
    JOIN services s ON s.technical_name = a.service JOIN users u ON u.id = o.created_by
    LEFT JOIN refunds r ON r.order_id = o.id";

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(
    conn: &mut SqliteConnection,
    id: i64,
    now: i64,
) -> Result<Option<Order>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE o.id = ?")))
        .bind(now)
        .bind(id)
        .fetch_optional(conn)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn of_account(
    conn: &mut SqliteConnection,
    account: i64,
    now: i64,
) -> Result<Vec<Order>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE o.account_id = ? ORDER BY o.id DESC LIMIT 50"
    )))
    .bind(now)
    .bind(account)
    .fetch_all(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn all(conn: &mut SqliteConnection, now: i64) -> Result<Vec<Order>, sqlx::Error> {
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
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<OrderPayment>, sqlx::Error> {
    sqlx::query_as(
        "SELECT state, amount, currency, provider, provider_reference FROM orders WHERE id = ?",
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
    conn: &mut SqliteConnection,
    id: i64,
    provider: &str,
    reference: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE orders SET state = ?, provider = ?, provider_reference = ?, pending_since = ?
         WHERE id = ? AND state = ?",
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
    conn: &mut SqliteConnection,
    provider: &str,
    before: i64,
    limit: i64,
) -> Result<Vec<(i64, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, provider_reference FROM orders
         WHERE state = ? AND provider = ? AND pending_since < ? AND NOT auto_recharge
         ORDER BY pending_since LIMIT ?",
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
    conn: &mut SqliteConnection,
    id: i64,
    provider: &str,
    brand: &str,
    last4: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE orders SET state = ?, provider = ?, card_brand = ?, card_last4 = ?,
                pending_since = ?
         WHERE id = ? AND state = ?",
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
    conn: &mut SqliteConnection,
    id: i64,
    reference: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE orders SET provider_reference = ?
         WHERE id = ? AND state = ? AND provider_reference IS NULL",
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
pub async fn fail(conn: &mut SqliteConnection, id: i64, reason: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE orders SET state = ?, failure_reason = ? WHERE id = ? AND state = ?")
        .bind(OrderState::Failed)
        .bind(reason)
        .bind(id)
        .bind(OrderState::Pending)
        .execute(conn)
        .await?;
    Ok(())
}
