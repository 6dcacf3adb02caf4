//! The pack store: Buy Credit → "Buy Credits for <account>" → checkout → paid.
//! Prices always come from the server's packs; any price a client sends is ignored.

use crate::error::AppError;
use crate::models::{IapAccount, Order, Store};
use leptos::prelude::*;

/// The account's packs; `credit` (a wanted amount, as the insufficient-credit dialog sends
/// it) highlights the smallest pack that covers it.
#[server(endpoint = "store")]
pub async fn get_store(account_id: i64, credit: Option<String>) -> Result<Store, AppError> {
    use crate::domain::{credits::Credits, packs::pack_for};
    let who = super::ssr::identity()?;
    let state = super::ssr::state()?;
    let mut conn = state.pool.acquire().await?;
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
        payments: state.payments.mode(),
    })
}

/// How the checkout page takes payments, or that it cannot.
#[server(endpoint = "store/payment_mode")]
pub async fn payment_mode() -> Result<crate::models::PaymentMode, AppError> {
    super::ssr::identity()?;
    Ok(super::ssr::state()?.payments.mode())
}

/// Starts an order for `pack_id` on the account; returns the order id for checkout.
#[server(endpoint = "store/order")]
pub async fn create_order(account_id: i64, pack_id: i64) -> Result<i64, AppError> {
    use crate::i18n::Msg;
    use crate::models::PaymentMode;
    let who = super::ssr::identity()?;
    let state = super::ssr::state()?;
    if state.payments.mode() == PaymentMode::Unavailable {
        return Err(AppError::Conflict(Msg::ErrPaymentsUnavailable.into()));
    }
    let mut conn = state.pool.acquire().await?;
    let account = super::ssr::visible_account(&mut conn, &who, account_id).await?;
    let pack = crate::db::orders::pack(&mut conn, pack_id)
        .await?
        .filter(|p| p.service == account.service)
        .ok_or_else(|| AppError::validation("pack", Msg::ErrPackNotSold))?;
    let now = crate::clock::now_ms();
    let id = crate::db::orders::create(&mut conn, account.id, &pack, who.user_id, now).await?;
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
pub async fn get_order(id: i64) -> Result<(Order, IapAccount), AppError> {
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    super::ssr::visible_order(&mut conn, &who, id).await
}

/// Pays a draft order by card, with the Demo provider (see `payment::checkout`).
#[server(endpoint = "store/pay")]
pub async fn pay_order(
    id: i64,
    cardholder: String,
    card_number: String,
    expiry: String,
    cvc: String,
) -> Result<(), AppError> {
    use crate::i18n::Msg;
    use crate::payment::Payments;
    use crate::payment::checkout::{CardForm, Checkout};
    let who = super::ssr::identity()?;
    let state = super::ssr::state()?;
    let Payments::Demo(provider) = &state.payments else {
        return Err(AppError::Conflict(Msg::ErrPaymentsUnavailable.into()));
    };
    let mut conn = state.pool.acquire().await?;
    let (order, _) = super::ssr::visible_order(&mut conn, &who, id).await?;
    drop(conn);
    let form = CardForm {
        holder: cardholder,
        number: card_number,
        expiry,
        cvc,
    };
    let checkout = Checkout {
        pool: &state.pool,
        ledger: &state.ledger,
        provider,
    };
    checkout.pay_by_card(&order, &form).await
}

/// Starts paying an order on the provider's hosted page; returns where to send the
/// browser. Clicking again gives the same page (see `payment::hosted`).
#[server(endpoint = "store/pay_hosted")]
pub async fn pay_hosted(id: i64) -> Result<String, AppError> {
    use crate::i18n::Msg;
    use crate::payment::Payments;
    use crate::payment::hosted::Hosted;
    let who = super::ssr::identity()?;
    let state = super::ssr::state()?;
    // Visibility first: another company's order is not found, whatever the provider.
    let mut conn = state.pool.acquire().await?;
    let (order, _) = super::ssr::visible_order(&mut conn, &who, id).await?;
    drop(conn);
    let Payments::Stripe(stripe) = &state.payments else {
        return Err(AppError::Conflict(Msg::ErrPaymentsUnavailable.into()));
    };
    let hosted = Hosted {
        pool: &state.pool,
        ledger: &state.ledger,
        stripe,
    };
    hosted.start(&order).await
}

/// The account's orders, newest first.
#[server(endpoint = "store/account_orders")]
pub async fn account_orders(account_id: i64) -> Result<Vec<Order>, AppError> {
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    super::ssr::visible_account(&mut conn, &who, account_id).await?;
    Ok(crate::db::orders::of_account(&mut conn, account_id, crate::clock::now_ms()).await?)
}

/// Every order: administrators only.
#[server(endpoint = "store/all_orders")]
pub async fn all_orders() -> Result<Vec<Order>, AppError> {
    super::ssr::admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    Ok(crate::db::orders::all(&mut conn, crate::clock::now_ms()).await?)
}
