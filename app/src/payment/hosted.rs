//! Paying on Stripe's hosted page (Checkout), confirmed by Stripe's signed webhook and read
//! back by a reconciler when a webhook is late, lost or duplicated.
//!
//! 1. [`Hosted::start`] creates the order's Checkout Session (idempotent per order, at
//!    Stripe and here), records its id on the order as it goes pending, and returns the
//!    page to send the customer to. A second click gets the same page.
//! 2. [`Hosted::webhook`] verifies the `Stripe-Signature` over the raw body, keeps the event
//!    as a row (a replay is recognised), and settles the order.
//! 3. [`Hosted::reconcile`] reads back the sessions of orders pending longer than a while,
//!    and settles them the same way.
//!
//! Settling ([`Hosted::settle`]) credits a paid session once, through the ledger's
//! idempotent `payment_succeeded` keyed by the session id, after checking that Stripe
//! collected the order's amount in its currency; a session that can never be paid fails
//! the order.

use crate::clock::now_ms;
use crate::db;
use crate::db::orders::OrderPayment;
use crate::db::payments::NewEvent;
use crate::domain::ledger::{Conflict, LedgerError};
use crate::domain::order::OrderState;
use crate::domain::stripe::{
    DEFAULT_TOLERANCE_SECS, SessionStatus, Settlement, WebhookEvent, collected_matches,
    verify_signature,
};
use crate::error::AppError;
use crate::i18n::{Msg, Text, t};
use crate::ledger::Ledger;
use crate::models::Order;
use crate::payment::stripe::{CheckoutRequest, StripeClient, StripeError};
use crate::secret::Secret;
use sqlx::AnyPool;

/// The provider code stored on orders paid through Stripe.
pub const PROVIDER: &str = "stripe";

/// Pending orders read back per reconciler round; the rest wait for the next round.
const RECONCILE_BATCH: i64 = 100;

/// Stripe, as this server is configured for it.
pub struct StripeGateway {
    pub client: StripeClient,
    /// The endpoint's signing secret (`whsec_…`).
    pub webhook_secret: Secret,
    /// Where customers come back to, without a trailing slash.
    pub public_url: String,
}

/// What a webhook delivery did, for its answer and the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Acted on, with the outcome kept on the event row.
    Processed(&'static str),
    /// Already processed before: nothing done again.
    Replay,
}

/// Why a webhook delivery is refused; Stripe retries only a failure that is not the
/// caller's fault.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// Missing, malformed, wrong or stale signature: answered 400, nothing changes.
    #[error("bad signature: {0}")]
    Signature(String),
    /// A signed body that is not an event iapd can read: answered 400.
    #[error("unreadable event: {0}")]
    Malformed(String),
    /// The database failed: answered 500, and Stripe delivers again later.
    #[error("cannot store the event")]
    Storage,
}

/// The hosted flow over one database and ledger.
pub struct Hosted<'a> {
    pub pool: &'a AnyPool,
    pub ledger: &'a Ledger,
    pub stripe: &'a StripeGateway,
}

impl Hosted<'_> {
    /// The Stripe page that pays `order`, created on first use. A pending order's open
    /// session is given again; anything else that cannot be paid is a conflict.
    #[tracing::instrument(skip_all, fields(order = order.id))]
    pub async fn start(&self, order: &Order) -> Result<String, AppError> {
        match order.state {
            OrderState::Draft => {}
            OrderState::Pending => return self.resume(order.id).await,
            OrderState::Paid | OrderState::Failed => {
                return Err(AppError::Conflict(
                    order
                        .state
                        .payable()
                        .err()
                        .unwrap_or(Msg::ErrOrderPaid)
                        .into(),
                ));
            }
        }
        let request = CheckoutRequest {
            order_id: order.id,
            order_reference: order.reference(),
            product_name: format!("{} – {}", order.service_label, order.pack_name),
            amount_minor: order.amount,
            currency: order.currency.clone(),
            success_url: format!(
                "{}/orders/{}?session_id={{CHECKOUT_SESSION_ID}}",
                self.stripe.public_url, order.id
            ),
            cancel_url: format!("{}/orders/{}/checkout", self.stripe.public_url, order.id),
        };
        let session = self
            .stripe
            .client
            .create_checkout_session(&request)
            .await
            .map_err(provider_error)?;
        let mut conn = self.pool.acquire().await?;
        let started =
            db::orders::start_hosted(&mut conn, order.id, PROVIDER, &session.id, now_ms()).await?;
        drop(conn);
        if !started {
            // Another request started this order first; Stripe's idempotency key gave both
            // the same session, so its page is the one to go to.
            return self.resume(order.id).await;
        }
        tracing::info!(session = session.id, "checkout session created");
        session
            .url
            .ok_or_else(|| AppError::Conflict(Msg::ErrPaymentNotCompleted.into()))
    }

    /// The page of a pending order's open session; settles it instead when it is over.
    async fn resume(&self, order: i64) -> Result<String, AppError> {
        let mut conn = self.pool.acquire().await?;
        let payment = db::orders::payment_of(&mut conn, order)
            .await?
            .ok_or(AppError::NotFound)?;
        drop(conn);
        let Some(reference) = payment.provider_reference.filter(|_| {
            payment.state == OrderState::Pending && payment.provider.as_deref() == Some(PROVIDER)
        }) else {
            return Err(AppError::Conflict(Msg::ErrOrderPending.into()));
        };
        let session = self
            .stripe
            .client
            .retrieve_checkout_session(&reference)
            .await
            .map_err(provider_error)?;
        match (&session.status, session.url.clone()) {
            (SessionStatus::Open, Some(url)) => Ok(url),
            _ => {
                self.settle(order, session.settlement()).await?;
                Err(AppError::Conflict(Msg::ErrOrderPending.into()))
            }
        }
    }

    /// One webhook delivery: verified, kept, then acted on.
    #[tracing::instrument(skip_all)]
    pub async fn webhook(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now_unix: i64,
    ) -> Result<Delivery, WebhookError> {
        let signature = signature.unwrap_or_default();
        verify_signature(
            signature,
            body,
            self.stripe.webhook_secret.expose(),
            now_unix,
            DEFAULT_TOLERANCE_SECS,
        )
        .map_err(|e| WebhookError::Signature(e.to_string()))?;
        let event =
            WebhookEvent::parse(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        let settlement = event.settlement();
        let order = settlement.as_ref().and_then(|(order, _)| *order);
        let kind = event.kind();
        let storage = |error: sqlx::Error| {
            tracing::error!(%error, "cannot store a Stripe event");
            WebhookError::Storage
        };
        let mut conn = self.pool.acquire().await.map_err(storage)?;
        let new = NewEvent {
            provider: PROVIDER,
            event_id: event.event_id(),
            kind,
            order_id: order,
            now: now_ms(),
        };
        if !db::payments::record_event(&mut conn, &new)
            .await
            .map_err(storage)?
        {
            return Ok(Delivery::Replay);
        }
        drop(conn);
        // A setup session names no order: it saved a card for auto-recharge.
        let setup_session = match &event {
            WebhookEvent::CheckoutCompleted {
                session_id,
                order_id: None,
                ..
            } => Some(session_id.clone()),
            _ => None,
        };
        let outcome = match settlement {
            None => "ignored",
            Some((None, _)) if setup_session.is_some() => {
                let setup = super::card_setup::CardSetup {
                    pool: self.pool,
                    ledger: self.ledger,
                    stripe: self.stripe,
                };
                let session = setup_session.as_deref().unwrap_or_default();
                match setup.finish(session, None).await {
                    Ok(true) => "card saved",
                    Ok(false) => "no order",
                    // The administrator's return reads it back too.
                    Err(error) => {
                        tracing::warn!(?error, "cannot read a setup session back");
                        "card not saved"
                    }
                }
            }
            Some((None, _)) => {
                tracing::warn!(
                    event = event.event_id(),
                    "a Stripe event names no order of this database"
                );
                "no order"
            }
            Some((Some(order), settlement)) => self
                .settle(order, settlement)
                .await
                .map_err(|_| WebhookError::Storage)?,
        };
        let mut conn = self.pool.acquire().await.map_err(storage)?;
        db::payments::mark_processed(&mut conn, PROVIDER, event.event_id(), outcome, now_ms())
            .await
            .map_err(storage)?;
        tracing::info!(
            event = event.event_id(),
            kind,
            outcome,
            "Stripe event processed"
        );
        Ok(Delivery::Processed(outcome))
    }

    /// Reads back every order pending at Stripe since before `pending_before` (Unix ms) and
    /// settles it. Returns how many were settled one way or the other.
    #[tracing::instrument(skip_all)]
    pub async fn reconcile(&self, pending_before: i64) -> Result<usize, AppError> {
        let mut conn = self.pool.acquire().await?;
        let pending =
            db::orders::pending_since_before(&mut conn, PROVIDER, pending_before, RECONCILE_BATCH)
                .await?;
        drop(conn);
        let mut settled = 0;
        for (order, reference) in pending {
            let Some(reference) = reference else {
                continue;
            };
            match self
                .stripe
                .client
                .retrieve_checkout_session(&reference)
                .await
            {
                Ok(session) => {
                    let outcome = self.settle(order, session.settlement()).await?;
                    if outcome != "waiting" {
                        tracing::info!(order, outcome, "pending payment reconciled");
                        settled += 1;
                    }
                }
                Err(error) => {
                    tracing::warn!(order, %error, "cannot read a Checkout Session back; next round");
                }
            }
        }
        Ok(settled)
    }

    /// Acts on what a session means for its order; returns what it did.
    pub async fn settle(
        &self,
        order: i64,
        settlement: Settlement,
    ) -> Result<&'static str, AppError> {
        let mut conn = self.pool.acquire().await?;
        let Some(payment) = db::orders::payment_of(&mut conn, order).await? else {
            return Ok("no order");
        };
        match settlement {
            Settlement::Waiting => Ok("waiting"),
            Settlement::Paid {
                session_id,
                amount_total,
                currency,
            } => {
                drop(conn);
                self.credit(
                    order,
                    &payment,
                    &session_id,
                    amount_total,
                    currency.as_deref(),
                )
                .await
            }
            Settlement::Failed { session_id } => {
                if payment.state != OrderState::Pending
                    || payment.provider_reference.as_deref() != Some(session_id.as_str())
                {
                    return Ok("ignored");
                }
                db::orders::fail(&mut conn, order, t(Msg::ErrPaymentNotCompleted)).await?;
                Ok("failed")
            }
        }
    }

    async fn credit(
        &self,
        order: i64,
        payment: &OrderPayment,
        session_id: &str,
        amount_total: Option<i64>,
        currency: Option<&str>,
    ) -> Result<&'static str, AppError> {
        if !collected_matches(amount_total, currency, payment.amount, &payment.currency) {
            tracing::error!(
                order,
                session = session_id,
                ?amount_total,
                ?currency,
                "Stripe collected another amount than the order's; not credited"
            );
            if payment.state == OrderState::Pending {
                let mut conn = self.pool.acquire().await?;
                db::orders::fail(&mut conn, order, t(Msg::ErrPaymentAmountMismatch)).await?;
            }
            return Ok("amount mismatch");
        }
        match self
            .ledger
            .payment_succeeded(order, PROVIDER, session_id)
            .await
        {
            Ok(()) => Ok("credited"),
            Err(LedgerError::Conflict(Conflict::OrderPaid | Conflict::OrderFailed)) => {
                tracing::error!(
                    order,
                    session = session_id,
                    "a second payment for an order already settled; refund it at Stripe"
                );
                Ok("already settled")
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// What a Stripe failure means to the customer: refused for good, or try again later.
pub(crate) fn provider_error(error: StripeError) -> AppError {
    tracing::warn!(%error, "Stripe call failed");
    if error.is_retryable() {
        AppError::Conflict(Msg::ErrProviderUnavailable.into())
    } else {
        AppError::Conflict(Text::new(Msg::ErrProviderRefused))
    }
}
