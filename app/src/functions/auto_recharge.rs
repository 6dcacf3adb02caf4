//! Auto-recharge on Account Information: reading it, and (administrators) its settings,
//! its card and turning it off.

use crate::error::AppError;
use crate::models::AutoRechargeView;
use leptos::prelude::*;

/// The account's auto-recharge, for everyone who may see the account.
#[server(endpoint = "iap/auto-recharge")]
pub async fn get_auto_recharge(id: i64) -> Result<AutoRechargeView, AppError> {
    use crate::domain::auto_recharge::month_start;
    use crate::domain::credits::Credits;
    use crate::domain::time::Timestamp;
    let who = super::ssr::identity()?;
    let state = super::ssr::state()?;
    let mut conn = state.pool.acquire().await?;
    let account = super::ssr::visible_account(&mut conn, &who, id).await?;
    let packs = crate::db::orders::packs_of(&mut conn, &account.service).await?;
    let row = crate::db::auto_recharge::get(&mut conn, id).await?;
    let pack = row
        .as_ref()
        .and_then(|r| r.pack_id)
        .and_then(|p| packs.iter().find(|pack| pack.id == p));
    let spent = match pack {
        Some(pack) => {
            let since = month_start(crate::clock::now_ms());
            crate::db::auto_recharge::spent_since(&mut conn, id, &pack.currency, since).await?
        }
        None => 0,
    };
    let row = row.unwrap_or_else(|| crate::db::auto_recharge::AutoRechargeRow::off(id));
    Ok(AutoRechargeView {
        threshold: (row.threshold > 0).then(|| Credits::from_minor(row.threshold)),
        pack: row.pack_id,
        monthly_cap: row.monthly_cap,
        card: row.card_brand.clone().zip(row.card_last4.clone()),
        state: row.state,
        declines: row.declines,
        next_attempt: row.next_attempt_at.map(Timestamp::from_ms),
        last_error: row.last_error,
        spent,
        packs,
        editable: who.is_admin,
        payments: state.payments.mode(),
    })
}

/// Saves the threshold, the pack and the monthly cap: administrators only. Invalid fields
/// come back as validation errors naming the field.
#[server(endpoint = "iap/auto-recharge/save")]
pub async fn save_auto_recharge(
    id: i64,
    threshold: String,
    pack: Option<i64>,
    monthly_cap: String,
) -> Result<(), AppError> {
    use crate::domain::auto_recharge::Settings;
    use crate::ledger::RechargeChange;
    let who = super::ssr::admin()?;
    let state = super::ssr::state()?;
    let mut conn = state.pool.acquire().await?;
    let account = super::ssr::visible_account(&mut conn, &who, id).await?;
    let chosen = match pack {
        Some(pack) => crate::db::orders::pack(&mut conn, pack)
            .await?
            .filter(|p| p.service == account.service)
            .map(|p| (p.id, p.price)),
        None => None,
    };
    drop(conn);
    let settings = Settings::parse(&threshold, chosen, &monthly_cap)?;
    state
        .ledger
        .change_recharge(id, RechargeChange::Settings(settings))
        .await?;
    tracing::info!(account = id, by = who.login, "auto-recharge saved");
    Ok(())
}

/// Saves the Demo provider's test card that pays auto-recharge: administrators only. Only
/// its brand, last four digits and outcome are kept.
#[server(endpoint = "iap/auto-recharge/card")]
pub async fn save_auto_recharge_card(
    id: i64,
    cardholder: String,
    card_number: String,
    expiry: String,
    cvc: String,
) -> Result<(), AppError> {
    use crate::db::auto_recharge::SavedCard;
    use crate::domain::auto_recharge::DemoCard;
    use crate::domain::payment::Card;
    use crate::domain::time::Timestamp;
    use crate::i18n::Msg;
    use crate::ledger::RechargeChange;
    use crate::payment::Payments;
    let who = super::ssr::admin()?;
    let state = super::ssr::state()?;
    if !matches!(state.payments, Payments::Demo(_)) {
        return Err(AppError::Conflict(Msg::ErrPaymentsUnavailable.into()));
    }
    let mut conn = state.pool.acquire().await?;
    super::ssr::visible_account(&mut conn, &who, id).await?;
    drop(conn);
    let today = Timestamp::from_ms(crate::clock::now_ms()).year_month();
    let card = Card::parse(&cardholder, &card_number, &expiry, &cvc, today)?;
    let saved = SavedCard::Demo {
        brand: card.brand.to_owned(),
        last4: card.last4.clone(),
        outcome: DemoCard::of(&card),
    };
    state
        .ledger
        .change_recharge(
            id,
            RechargeChange::Card {
                card: saved,
                by: who.user_id,
            },
        )
        .await?;
    tracing::info!(account = id, by = who.login, card = ?card, "auto-recharge card saved");
    Ok(())
}

/// Turns auto-recharge off, keeping its settings and card: administrators only.
#[server(endpoint = "iap/auto-recharge/off")]
pub async fn turn_off_auto_recharge(id: i64) -> Result<(), AppError> {
    let who = super::ssr::admin()?;
    let state = super::ssr::state()?;
    state
        .ledger
        .change_recharge(id, crate::ledger::RechargeChange::Off)
        .await?;
    tracing::info!(account = id, by = who.login, "auto-recharge turned off");
    Ok(())
}

/// Starts saving a card at Stripe: administrators only. Returns Stripe's page, where the
/// browser goes; it comes back to Account Information with `card_session`.
#[server(endpoint = "iap/auto-recharge/stripe-card")]
pub async fn start_stripe_card(id: i64) -> Result<String, AppError> {
    use crate::i18n::Msg;
    use crate::payment::Payments;
    use crate::payment::card_setup::CardSetup;
    let who = super::ssr::admin()?;
    let state = super::ssr::state()?;
    let Payments::Stripe(stripe) = &state.payments else {
        return Err(AppError::Conflict(Msg::ErrPaymentsUnavailable.into()));
    };
    let mut conn = state.pool.acquire().await?;
    let account = super::ssr::visible_account(&mut conn, &who, id).await?;
    drop(conn);
    let setup = CardSetup {
        pool: &state.pool,
        ledger: &state.ledger,
        stripe,
    };
    setup.start(id, &account.name, who.user_id).await
}

/// Back from Stripe's page: reads the setup session and saves its card: administrators
/// only. True when a card was saved.
#[server(endpoint = "iap/auto-recharge/stripe-card/finish")]
pub async fn finish_stripe_card(id: i64, session: String) -> Result<bool, AppError> {
    use crate::i18n::Msg;
    use crate::payment::Payments;
    use crate::payment::card_setup::CardSetup;
    super::ssr::admin()?;
    let state = super::ssr::state()?;
    let Payments::Stripe(stripe) = &state.payments else {
        return Err(AppError::Conflict(Msg::ErrPaymentsUnavailable.into()));
    };
    let setup = CardSetup {
        pool: &state.pool,
        ledger: &state.ledger,
        stripe,
    };
    setup.finish(&session, Some(id)).await
}
