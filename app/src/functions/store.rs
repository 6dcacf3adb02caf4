//! The pack store: Buy Credit → "Buy Credits for <account>" → checkout → paid.
//! Prices always come from the server's packs; any price a client sends is ignored.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::i18n::{Msg, t};
use crate::models::{Order, Store};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    use crate::auth::Identity;
    use crate::error::AppError;
    use crate::models::IapAccount;
    use sqlx::SqliteConnection;

    /// The order if `who` may see its account.
    pub async fn visible_order(
        conn: &mut SqliteConnection,
        who: &Identity,
        id: i64,
    ) -> Result<(crate::models::Order, IapAccount), AppError> {
        let order = crate::db::orders::get(conn, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let account = crate::functions::ssr::visible_account(conn, who, order.account_id).await?;
        Ok((order, account))
    }
}

/// The account's packs; `credit` (a wanted amount, as the insufficient-credit dialog sends
/// it) highlights the smallest pack that covers it.
#[server(endpoint = "store")]
pub async fn get_store(account_id: i64, credit: Option<String>) -> Result<Store, AppError> {
    use crate::domain::{credits::Credits, packs::pack_for};
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    let account = super::ssr::visible_account(&mut conn, &who, account_id).await?;
    // An Online database sells no third-party service, whoever asks.
    if !crate::db::services::is_offered(&mut conn, &account.service).await? {
        return Err(AppError::NotFound);
    }
    let packs = crate::db::orders::packs_of(&mut conn, &account.service).await?;
    let wanted = credit.and_then(|c| Credits::parse_positive(&c).ok());
    let suggested = wanted.and_then(|w| pack_for(&packs, w.minor()).map(|p| p.id));
    Ok(Store {
        account,
        packs,
        suggested,
    })
}

/// Starts an order for `pack_id` on the account; returns the order id for checkout.
#[server(endpoint = "store/order")]
pub async fn create_order(account_id: i64, pack_id: i64) -> Result<i64, AppError> {
    let who = super::ssr::identity()?;
    let state = super::ssr::state()?;
    let mut conn = state.pool.acquire().await?;
    let account = super::ssr::visible_account(&mut conn, &who, account_id).await?;
    let pack = crate::db::orders::pack(&mut conn, pack_id)
        .await?
        .filter(|p| p.service == account.service)
        .ok_or_else(|| AppError::validation("pack", t(Msg::ErrPackNotSold)))?;
    let id = crate::db::orders::create(
        &mut conn,
        account.id,
        &pack,
        who.user_id,
        crate::ledger::now_ms(),
    )
    .await?;
    tracing::info!(
        order = id,
        account = account.id,
        pack = pack.id,
        by = who.login,
        "order created"
    );
    Ok(id)
}

/// The order with its account, for checkout and the confirmation page.
#[server(endpoint = "store/get_order")]
pub async fn get_order(id: i64) -> Result<(Order, crate::models::IapAccount), AppError> {
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    ssr::visible_order(&mut conn, &who, id).await
}

/// Pays a draft order by card. Card fields are checked first (nothing changes if one is
/// wrong); the order then goes pending, and paid (with its credits, in one transaction) or
/// failed with the provider's reason. A second call for the same order is refused, so a
/// double click or a resubmitted form never pays twice.
#[server(endpoint = "store/pay")]
pub async fn pay_order(
    id: i64,
    cardholder: String,
    card_number: String,
    expiry: String,
    cvc: String,
) -> Result<(), AppError> {
    use crate::domain::payment::{Card, year_month};
    use crate::payment::{Charge, ChargeRequest};

    let who = super::ssr::identity()?;
    let state = super::ssr::state()?;
    let mut conn = state.pool.acquire().await?;
    let (order, _) = ssr::visible_order(&mut conn, &who, id).await?;
    match order.state.as_str() {
        "paid" => return Err(AppError::Conflict(t(Msg::ErrOrderPaid).into())),
        "failed" => {
            return Err(AppError::Conflict(t(Msg::ErrOrderFailedRetry).into()));
        }
        "pending" => {
            return Err(AppError::Conflict(t(Msg::ErrOrderPending).into()));
        }
        _ => {}
    }
    let card = Card::parse(
        &cardholder,
        &card_number,
        &expiry,
        &cvc,
        year_month(crate::ledger::now_ms()),
    )?;
    let provider = state.payments.clone();
    if !crate::db::orders::start_payment(&mut conn, id, provider.code(), card.brand, &card.last4)
        .await?
    {
        return Err(AppError::Conflict(t(Msg::ErrOrderPending).into()));
    }
    let request = ChargeRequest {
        order_reference: order.reference(),
        amount: order.amount,
        currency: order.currency.clone(),
    };
    match provider.charge(&request, &card).await {
        Charge::Approved { reference } => {
            state
                .ledger
                .payment_succeeded(id, provider.code(), &reference)
                .await?;
            tracing::info!(order = id, card = ?card, "order paid");
            Ok(())
        }
        Charge::Declined { reason } => {
            crate::db::orders::fail(&mut conn, id, &reason).await?;
            tracing::info!(order = id, card = ?card, %reason, "payment declined");
            Err(AppError::PaymentDeclined(reason))
        }
        Charge::Redirect { url, .. } => {
            // Hosted providers confirm through their webhook; the order stays pending.
            leptos_axum::redirect(&url);
            Ok(())
        }
    }
}

/// The account's orders, newest first.
#[server(endpoint = "store/account_orders")]
pub async fn account_orders(account_id: i64) -> Result<Vec<Order>, AppError> {
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    super::ssr::visible_account(&mut conn, &who, account_id).await?;
    Ok(crate::db::orders::of_account(&mut conn, account_id).await?)
}

/// Every order: administrators only.
#[server(endpoint = "store/all_orders")]
pub async fn all_orders() -> Result<Vec<Order>, AppError> {
    super::ssr::admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    Ok(crate::db::orders::all(&mut conn).await?)
}
