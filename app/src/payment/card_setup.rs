//! Saving a card at Stripe for auto-recharge. Each account gets one Stripe customer,
//! created once (keyed by the account, so a retry after a lost answer finds the same one)
//! and kept; the administrator saves a card on Stripe's page (a Checkout Session in `setup`
//! mode), and iapd reads the session back when they return, or when its webhook arrives,
//! whichever comes first. Either saves the payment method through the ledger writer;
//! doing it twice saves the same card again.
//!
//! iapd keeps the customer, the payment method, and the card's brand and last four digits;
//! the number never reaches it.

use crate::db;
use crate::db::auto_recharge::SavedCard;
use crate::error::AppError;
use crate::ledger::{Ledger, RechargeChange};
use crate::payment::hosted::{StripeGateway, provider_error};
use crate::payment::stripe::CardSetupRequest;
use sqlx::AnyPool;

pub struct CardSetup<'a> {
    pub pool: &'a AnyPool,
    pub ledger: &'a Ledger,
    pub stripe: &'a StripeGateway,
}

impl CardSetup<'_> {
    /// Stripe's page where `user` saves the card of `account`'s auto-recharge.
    #[tracing::instrument(skip_all, fields(account))]
    pub async fn start(&self, account: i64, name: &str, user: i64) -> Result<String, AppError> {
        let mut conn = self.pool.acquire().await?;
        let stored = db::auto_recharge::get(&mut conn, account)
            .await?
            .and_then(|row| row.stripe_customer);
        let customer = match stored {
            Some(customer) => customer,
            None => {
                let customer = self
                    .stripe
                    .client
                    .create_customer(account, name)
                    .await
                    .map_err(provider_error)?;
                let now = crate::clock::now_ms();
                db::auto_recharge::set_customer(&mut conn, account, &customer, now).await?;
                customer
            }
        };
        drop(conn);
        let base = format!("{}/iap-accounts/{account}", self.stripe.public_url);
        let success_url = format!("{base}?card_session={{CHECKOUT_SESSION_ID}}#auto-recharge");
        let cancel_url = format!("{base}#auto-recharge");
        let request = CardSetupRequest {
            account,
            user,
            customer: &customer,
            success_url: &success_url,
            cancel_url: &cancel_url,
        };
        self.stripe
            .client
            .create_setup_session(&request)
            .await
            .map_err(provider_error)
    }

    /// Reads a setup session back and saves its card; `account` when the caller knows which
    /// account it must be for. `false` when the session saved nothing (not complete, or not
    /// one of iapd's).
    #[tracing::instrument(skip_all, fields(session = session_id))]
    pub async fn finish(&self, session_id: &str, account: Option<i64>) -> Result<bool, AppError> {
        let session = self
            .stripe
            .client
            .retrieve_setup_session(session_id)
            .await
            .map_err(provider_error)?;
        let (Some(for_account), Some(user), Some(customer), Some(card), true) = (
            session.account_id,
            session.user_id,
            session.customer,
            session.card,
            session.complete,
        ) else {
            return Ok(false);
        };
        if account.is_some_and(|a| a != for_account) {
            return Err(AppError::NotFound);
        }
        // Only the customer iapd made for this account: a session of another Stripe
        // integration, or another account's, saves nothing here.
        let mut conn = self.pool.acquire().await?;
        let ours = db::auto_recharge::get(&mut conn, for_account)
            .await?
            .and_then(|row| row.stripe_customer);
        drop(conn);
        if ours.as_deref() != Some(customer.as_str()) {
            tracing::warn!(
                account = for_account,
                "a setup session for another customer; ignored"
            );
            return Ok(false);
        }
        let saved = SavedCard::Stripe {
            brand: card.brand,
            last4: card.last4,
            customer,
            payment_method: card.payment_method,
        };
        self.ledger
            .change_recharge(
                for_account,
                RechargeChange::Card {
                    card: saved,
                    by: user,
                },
            )
            .await?;
        tracing::info!(account = for_account, "auto-recharge card saved at Stripe");
        Ok(true)
    }
}
