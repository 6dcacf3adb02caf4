//! Returning the money of refunded orders. The ledger has already taken the credits back and
//! recorded the refund as pending ([`Ledger::refund`]); this asks the order's provider to
//! return the payment, right after the refund and then every round until it answers:
//!
//! - Demo provider: it charged nothing real, so the refund is recorded at once.
//! - Stripe: the order's Checkout Session gives its PaymentIntent, which is refunded in full
//!   under the idempotency key `iapd-refund-<order>`, so asking again after a timeout, a
//!   crash or from a second round returns the same refund.
//!
//! No answer, or a provider this server is not set up for: asked again later, with back-off.
//! A refusal: the refund fails and the ledger gives the credits back.

use crate::db;
use crate::db::refunds::DueRefund;
use crate::domain::refund::RefundState;
use crate::error::AppError;
use crate::i18n::{Msg, t};
use crate::ledger::Ledger;
use crate::payment::Payments;
use crate::payment::demo::DemoProvider;
use crate::payment::hosted::PROVIDER as STRIPE;
use crate::payment::stripe::{RefundOutcome, StripeError};
use sqlx::AnyPool;

/// Refunds attempted per round; the rest wait for the next.
const BATCH: i64 = 50;

pub struct Refunder<'a> {
    pub pool: &'a AnyPool,
    pub ledger: &'a Ledger,
    pub payments: &'a Payments,
}

/// What the provider said about one refund.
enum Answer {
    Returned(String),
    Refused(String),
    Later(String),
}

impl Refunder<'_> {
    /// Asks the providers about every refund due at `now`; how many were attempted.
    #[tracing::instrument(skip_all)]
    pub async fn run(&self, now: i64) -> Result<usize, AppError> {
        let due = {
            let mut conn = self.pool.acquire().await?;
            db::refunds::due(&mut conn, now, None, BATCH).await?
        };
        for refund in &due {
            self.attempt(refund, now).await?;
        }
        Ok(due.len())
    }

    /// Asks at once about the refund of `order` while it is pending, whatever its back-off
    /// (an administrator asking again), and answers where it stands.
    #[tracing::instrument(skip(self, now))]
    pub async fn run_one(&self, order: i64, now: i64) -> Result<RefundState, AppError> {
        let due = {
            let mut conn = self.pool.acquire().await?;
            db::refunds::due(&mut conn, i64::MAX, Some(order), 1).await?
        };
        for refund in &due {
            self.attempt(refund, now).await?;
        }
        let mut conn = self.pool.acquire().await?;
        let found = db::refunds::order(&mut conn, order).await?;
        found.and_then(|o| o.order.refund).ok_or(AppError::NotFound)
    }

    async fn attempt(&self, refund: &DueRefund, now: i64) -> Result<(), AppError> {
        let order = refund.order_id;
        match self.ask(refund).await {
            Answer::Returned(reference) => self.ledger.refund_returned(order, &reference).await?,
            Answer::Refused(reason) => self.ledger.refund_refused(order, &reason).await?,
            Answer::Later(why) => {
                tracing::warn!(
                    order,
                    why,
                    attempts = refund.attempts + 1,
                    "refund not answered; asked again later"
                );
                let mut conn = self.pool.acquire().await?;
                db::refunds::postpone(&mut conn, order, &why, now).await?;
            }
        }
        Ok(())
    }

    async fn ask(&self, refund: &DueRefund) -> Answer {
        let order = refund.order_id;
        match (refund.provider.as_str(), self.payments) {
            (DemoProvider::CODE, _) => Answer::Returned(format!(
                "DEMO-RE-{}",
                crate::domain::order::order_reference(order)
            )),
            (STRIPE, Payments::Stripe(stripe)) => {
                let Some(session) = refund.payment_reference.as_deref() else {
                    return Answer::Refused("the order has no Stripe payment".into());
                };
                let intent = match stripe.client.retrieve_checkout_session(session).await {
                    Ok(session) => session.payment_intent,
                    Err(error) => return from_error(error),
                };
                let Some(intent) = intent else {
                    return Answer::Refused("the Checkout Session has no PaymentIntent".into());
                };
                match stripe.client.create_refund(order, &intent).await {
                    Ok(refund) => match refund.status.outcome() {
                        RefundOutcome::Returned => Answer::Returned(refund.id),
                        RefundOutcome::Refused => Answer::Refused(format!(
                            "Stripe refund {} {:?}",
                            refund.id, refund.status
                        )),
                        RefundOutcome::Waiting => Answer::Later(format!(
                            "Stripe refund {} {:?}",
                            refund.id, refund.status
                        )),
                    },
                    Err(error) => from_error(error),
                }
            }
            _ => Answer::Later(t(Msg::ErrRefundNoProvider).to_owned()),
        }
    }
}

/// A failed call: retried when Stripe may answer later; a charge Stripe already refunded
/// (by an operator in its dashboard) counts as returned; any other refusal is final.
fn from_error(error: StripeError) -> Answer {
    match error {
        StripeError::Api {
            code: Some(code), ..
        } if code == "charge_already_refunded" => Answer::Returned(code),
        error if error.is_retryable() => Answer::Later(error.to_string()),
        error => Answer::Refused(error.to_string()),
    }
}
