//! Auto-recharge settings, the saved card, and where each account's recharge stands.
//!
//! Every step is a conditional update on the account's row, so the writer (which marks a
//! crossing due) and the worker (which places and charges the order) never undo each
//! other's work, and a step replayed after a crash changes nothing twice.

use crate::domain::auto_recharge::{DemoCard, RechargeState, Settings};
use crate::domain::order::OrderState;
use sqlx::{AnyConnection, Connection};
use tracing::instrument;

/// An account's auto-recharge is on: a threshold, a pack, a cap and a card (as
/// [`AutoRechargeRow::active`] says).
const ACTIVE: &str = "auto_recharges.threshold > 0 AND auto_recharges.pack_id IS NOT NULL
    AND auto_recharges.monthly_cap IS NOT NULL AND auto_recharges.card_provider IS NOT NULL";

/// A card to save: how each provider charges it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SavedCard {
    Demo {
        brand: String,
        last4: String,
        outcome: DemoCard,
    },
    Stripe {
        brand: String,
        last4: String,
        customer: String,
        payment_method: String,
    },
}

/// One account's row, as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AutoRechargeRow {
    pub account_id: i64,
    pub threshold: i64,
    pub pack_id: Option<i64>,
    pub monthly_cap: Option<i64>,
    pub card_provider: Option<String>,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub demo_card: Option<DemoCard>,
    pub stripe_customer: Option<String>,
    pub stripe_payment_method: Option<String>,
    pub card_saved_by: Option<i64>,
    pub state: RechargeState,
    pub declines: i64,
    pub next_attempt_at: Option<i64>,
    pub order_id: Option<i64>,
    pub last_error: Option<String>,
}

impl AutoRechargeRow {
    /// An account that never had auto-recharge: off, nothing saved.
    pub fn off(account_id: i64) -> Self {
        AutoRechargeRow {
            account_id,
            threshold: 0,
            pack_id: None,
            monthly_cap: None,
            card_provider: None,
            card_brand: None,
            card_last4: None,
            demo_card: None,
            stripe_customer: None,
            stripe_payment_method: None,
            card_saved_by: None,
            state: RechargeState::Idle,
            declines: 0,
            next_attempt_at: None,
            order_id: None,
            last_error: None,
        }
    }

    /// The saved card, if any.
    pub fn card(&self) -> Option<SavedCard> {
        let brand = self.card_brand.clone()?;
        let last4 = self.card_last4.clone()?;
        match self.card_provider.as_deref()? {
            "demo" => Some(SavedCard::Demo {
                brand,
                last4,
                outcome: self.demo_card?,
            }),
            "stripe" => Some(SavedCard::Stripe {
                brand,
                last4,
                customer: self.stripe_customer.clone()?,
                payment_method: self.stripe_payment_method.clone()?,
            }),
            _ => None,
        }
    }

    pub fn active(&self) -> bool {
        self.threshold > 0
            && self.pack_id.is_some()
            && self.monthly_cap.is_some()
            && self.card_provider.is_some()
    }
}

const COLUMNS: &str = "account_id, threshold, pack_id, monthly_cap, card_provider, card_brand,
    card_last4, demo_card, stripe_customer, stripe_payment_method, card_saved_by, state, declines,
    next_attempt_at, order_id, last_error";

#[instrument(level = "debug", skip_all)]
pub async fn get(
    conn: &mut AnyConnection,
    account: i64,
) -> Result<Option<AutoRechargeRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM auto_recharges WHERE account_id = $1"
    )))
    .bind(account)
    .fetch_optional(conn)
    .await
}

/// The thresholds of every account whose auto-recharge is on, for the ledger writer.
#[instrument(level = "debug", skip_all)]
pub async fn active_thresholds(conn: &mut AnyConnection) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT account_id, threshold FROM auto_recharges WHERE {ACTIVE}"
    )))
    .fetch_all(conn)
    .await
}

/// Saves the settings of Account Information: threshold, pack and cap.
#[instrument(level = "debug", skip_all)]
pub async fn save_settings(
    conn: &mut AnyConnection,
    account: i64,
    settings: &Settings,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO auto_recharges (account_id, threshold, pack_id, monthly_cap, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account_id) DO UPDATE SET threshold = $2, pack_id = $3, monthly_cap = $4,
             updated_at = $5",
    )
    .bind(account)
    .bind(settings.threshold)
    .bind(settings.pack)
    .bind(settings.monthly_cap)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Saves what Odoo sets: the threshold (0 is off) and the pack; the cap and card stay.
#[instrument(level = "debug", skip_all)]
pub async fn save_odoo(
    conn: &mut AnyConnection,
    account: i64,
    threshold: i64,
    pack: Option<i64>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO auto_recharges (account_id, threshold, pack_id, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (account_id) DO UPDATE SET threshold = $2, pack_id = $3, updated_at = $4",
    )
    .bind(account)
    .bind(threshold)
    .bind(pack)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Turns it off, keeping the pack, the cap and the card for the next time. A charge under
/// way finishes; nothing is retried after it.
#[instrument(level = "debug", skip_all)]
pub async fn turn_off(conn: &mut AnyConnection, account: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE auto_recharges SET threshold = 0, updated_at = $2,
             state = CASE WHEN order_id IS NULL THEN 'idle' ELSE state END,
             next_attempt_at = CASE WHEN order_id IS NULL THEN NULL ELSE next_attempt_at END
         WHERE account_id = $1",
    )
    .bind(account)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Saves the card that pays from now on. A recharge waiting to be retried is tried again at
/// once with it.
#[instrument(level = "debug", skip_all)]
pub async fn save_card(
    conn: &mut AnyConnection,
    account: i64,
    card: &SavedCard,
    by: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    let (provider, brand, last4, demo, customer, method) = match card {
        SavedCard::Demo {
            brand,
            last4,
            outcome,
        } => ("demo", brand, last4, Some(*outcome), None, None),
        SavedCard::Stripe {
            brand,
            last4,
            customer,
            payment_method,
        } => (
            "stripe",
            brand,
            last4,
            None,
            Some(customer.as_str()),
            Some(payment_method.as_str()),
        ),
    };
    sqlx::query(
        "INSERT INTO auto_recharges (account_id, card_provider, card_brand, card_last4, demo_card,
             stripe_customer, stripe_payment_method, card_saved_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (account_id) DO UPDATE SET card_provider = $2, card_brand = $3,
             card_last4 = $4, demo_card = $5, stripe_customer = $6, stripe_payment_method = $7,
             card_saved_by = $8, updated_at = $9,
             next_attempt_at = CASE WHEN auto_recharges.state = 'retrying' THEN $9
                                   ELSE auto_recharges.next_attempt_at END",
    )
    .bind(account)
    .bind(provider)
    .bind(brand)
    .bind(last4)
    .bind(demo)
    .bind(customer)
    .bind(method)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A crossing: the recharge is due now, unless it is off or a charge is already under way
/// or waiting to be retried. Whether it became due.
#[instrument(level = "debug", skip_all)]
pub async fn mark_due(
    conn: &mut AnyConnection,
    account: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE auto_recharges SET state = 'due', declines = 0, next_attempt_at = $2,
             last_error = NULL, updated_at = $2
         WHERE account_id = $1 AND state NOT IN ('due', 'retrying') AND {ACTIVE}"
    )))
    .bind(account)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A recharge to work on: its row, and the order being charged, if any.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DueRecharge {
    #[sqlx(flatten)]
    pub row: AutoRechargeRow,
    pub order_state: Option<OrderState>,
    pub order_provider: Option<String>,
    pub order_reference: Option<String>,
    pub order_amount: Option<i64>,
    pub order_currency: Option<String>,
}

/// Recharges due by `now`: those whose charge is under way, and those still on.
#[instrument(level = "debug", skip_all)]
pub async fn due(
    conn: &mut AnyConnection,
    now: i64,
    limit: i64,
) -> Result<Vec<DueRecharge>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT auto_recharges.*, o.state AS order_state, o.provider AS order_provider,
                o.provider_reference AS order_reference, o.amount AS order_amount,
                o.currency AS order_currency
         FROM auto_recharges LEFT JOIN orders o ON o.id = auto_recharges.order_id
         WHERE auto_recharges.state IN ('due', 'retrying')
           AND auto_recharges.next_attempt_at <= $1
           AND (auto_recharges.order_id IS NOT NULL OR ({ACTIVE}))
         ORDER BY auto_recharges.next_attempt_at LIMIT $2"
    )))
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// What auto-recharge spent on `account` since `since` in `currency`: orders paid or being
/// paid, in cents.
#[instrument(level = "debug", skip_all)]
pub async fn spent_since(
    conn: &mut AnyConnection,
    account: i64,
    currency: &str,
    since: i64,
) -> Result<i64, sqlx::Error> {
    let (spent,): (i64,) = sqlx::query_as(
        "SELECT coalesce(CAST(SUM(amount) AS BIGINT), 0) FROM orders
         WHERE account_id = $1 AND auto_recharge = 1 AND currency = $2 AND created_at >= $3
           AND state IN ('draft', 'pending', 'paid')",
    )
    .bind(account)
    .bind(currency)
    .bind(since)
    .fetch_one(conn)
    .await?;
    Ok(spent)
}

/// The order to charge: placed and tied to the recharge in one transaction, only while the
/// recharge is due and has none. `None` when another pass placed it first.
#[instrument(level = "debug", skip_all)]
pub async fn place_order(
    conn: &mut AnyConnection,
    account: i64,
    pack: &crate::domain::packs::Pack,
    by: i64,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let mut tx = conn.begin().await?;
    let order = super::orders::create(&mut tx, account, pack, by, now).await?;
    sqlx::query("UPDATE orders SET auto_recharge = 1 WHERE id = $1")
        .bind(order)
        .execute(&mut *tx)
        .await?;
    let tied = sqlx::query(
        "UPDATE auto_recharges SET order_id = $2, updated_at = $3
         WHERE account_id = $1 AND order_id IS NULL AND state IN ('due', 'retrying')",
    )
    .bind(account)
    .bind(order)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if tied.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(None);
    }
    tx.commit().await?;
    Ok(Some(order))
}

/// The order was paid: back to waiting for the next crossing.
#[instrument(level = "debug", skip_all)]
pub async fn settle(
    conn: &mut AnyConnection,
    account: i64,
    order: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE auto_recharges SET state = 'idle', declines = 0, next_attempt_at = NULL,
             order_id = NULL, last_error = NULL, updated_at = $3
         WHERE account_id = $1 AND order_id = $2",
    )
    .bind(account)
    .bind(order)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The order's charge never got an answer: forget it, and place a new one now.
#[instrument(level = "debug", skip_all)]
pub async fn release_order(
    conn: &mut AnyConnection,
    account: i64,
    order: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE auto_recharges SET order_id = NULL WHERE account_id = $1 AND order_id = $2",
    )
    .bind(account)
    .bind(order)
    .execute(conn)
    .await?;
    Ok(())
}

/// How a recharge that did not buy anything goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Declined: tried again at `at`, after `declines` declines in a row.
    Retry { declines: i64, at: i64 },
    /// Declined `declines` times in a row: not tried again before the next crossing.
    GiveUp { declines: i64 },
    /// Not tried again before the next crossing, in this state.
    Wait(RechargeState),
}

/// Records why the recharge bought nothing (the order, if one was placed, is already
/// failed) and how it goes on. Only while it is due or retrying and its order, if any, is
/// `order`: a replay changes nothing.
#[instrument(level = "debug", skip_all)]
pub async fn stop(
    conn: &mut AnyConnection,
    account: i64,
    order: Option<i64>,
    stop: Stop,
    reason: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let (state, declines, next) = match stop {
        Stop::Retry { declines, at } => (RechargeState::Retrying, Some(declines), Some(at)),
        Stop::GiveUp { declines } => (RechargeState::GaveUp, Some(declines), None),
        Stop::Wait(state) => (state, None, None),
    };
    let done = sqlx::query(
        "UPDATE auto_recharges SET state = $3, declines = coalesce($4, declines),
             next_attempt_at = $5, order_id = NULL, last_error = $6, updated_at = $7
         WHERE account_id = $1 AND order_id IS NOT DISTINCT FROM $2 AND state IN ('due', 'retrying')",
    )
    .bind(account)
    .bind(order)
    .bind(state)
    .bind(declines)
    .bind(next)
    .bind(reason)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A charge whose outcome is not known yet is asked about again at `at`.
#[instrument(level = "debug", skip_all)]
pub async fn postpone(
    conn: &mut AnyConnection,
    account: i64,
    order: i64,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE auto_recharges SET next_attempt_at = $1 WHERE account_id = $2 AND order_id = $3",
    )
    .bind(at)
    .bind(account)
    .bind(order)
    .execute(conn)
    .await?;
    Ok(())
}

/// What a failed recharge's notice says about the account and its pack.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NoticeFacts {
    pub available: i64,
    pub pack_name: Option<String>,
    pub price: Option<i64>,
    pub currency: Option<String>,
}

#[instrument(level = "debug", skip_all)]
pub async fn notice_facts(
    conn: &mut AnyConnection,
    account: i64,
) -> Result<Option<NoticeFacts>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.balance - a.held AS available, p.name AS pack_name, p.price, p.currency
         FROM iap_accounts a LEFT JOIN auto_recharges r ON r.account_id = a.id
         LEFT JOIN packs p ON p.id = r.pack_id WHERE a.id = $1",
    )
    .bind(account)
    .fetch_optional(conn)
    .await
}

/// Keeps the Stripe customer made for the account, before any card is saved.
#[instrument(level = "debug", skip_all)]
pub async fn set_customer(
    conn: &mut AnyConnection,
    account: i64,
    customer: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO auto_recharges (account_id, stripe_customer, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (account_id) DO UPDATE SET stripe_customer = $2, updated_at = $3",
    )
    .bind(account)
    .bind(customer)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
