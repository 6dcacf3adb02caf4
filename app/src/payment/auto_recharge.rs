//! The auto-recharge worker: places and charges the orders of recharges the ledger writer
//! marked due, and retries declined ones on their back-off.
//!
//! Each step is recorded before the next, so a crash anywhere resumes where it stopped and
//! charges at most once:
//!
//! 1. **Place.** The order is inserted and tied to the recharge in one transaction, only
//!    while the recharge is due and has no order, and only within the monthly cap (counted
//!    from this month's auto-recharge orders, paid or being paid).
//! 2. **Charge.** The order goes pending first (conditional on it being a draft), then the
//!    provider is asked. Demo: the saved card's outcome, at once. Stripe: an off-session
//!    PaymentIntent keyed `iapd-auto-<order>`, so asking again after a lost answer or a
//!    crash returns the same charge.
//! 3. **Credit.** The provider's reference is recorded on the order, then the ledger credits
//!    it (`payment_succeeded`, idempotent by that reference), which in the same transaction
//!    puts the recharge back to waiting for the next crossing.
//! 4. **Decline.** The order fails, the recharge backs off (1 h, 6 h, 24 h, then it waits for
//!    the next crossing) and the failure goes to the bell, the webhooks and the Warn Me
//!    recipients, all in one transaction.
//!
//! On resuming an order left pending: Demo with a reference was approved and is credited;
//! without one it never got an answer and charged nothing, so it fails like a decline (and
//! is retried on the back-off). Stripe asks again with the same key, or reads the
//! PaymentIntent back once its id is recorded. The payment reconciler leaves these orders
//! to this worker.

use crate::clock::Clock;
use crate::db;
use crate::db::auto_recharge::{AutoRechargeRow, DueRecharge, SavedCard, Stop};
use crate::domain::auto_recharge::{
    AfterDecline, RechargeState, after_decline, month_start, within_cap,
};
use crate::domain::order::{OrderState, order_reference};
use crate::domain::payment::DemoOutcome;
use crate::domain::time::MINUTE;
use crate::error::AppError;
use crate::i18n::{Msg, t};
use crate::ledger::Ledger;
use crate::payment::Payments;
use crate::payment::demo::DemoProvider;
use crate::payment::hosted::PROVIDER as STRIPE;
use crate::payment::stripe::{IntentStatus, OffSessionCharge, StripeError};
use crate::tasks::Tasks;
use sqlx::{AnyPool, Connection};
use std::time::Duration;

/// Recharges worked on per pass; the rest wait for the next one.
const BATCH: i64 = 20;
/// How long a charge whose outcome is not known yet waits before it is asked again.
const UNSETTLED_WAIT_MS: i64 = MINUTE;

/// What the worker needs.
#[derive(Clone)]
pub struct Recharger {
    pub pool: AnyPool,
    pub ledger: Ledger,
    pub payments: Payments,
    /// Where iapd is reached, for the link in mails.
    pub public_url: String,
    /// The ledger's clock: the crossings it marks due and the back-off share one time.
    pub clock: Clock,
}

/// Starts the worker among `tasks`: a pass every `every` until shutdown.
pub fn start(tasks: &mut Tasks, recharger: Recharger, every: Duration) {
    tasks.every("auto-recharge", every, move || {
        let recharger = recharger.clone();
        async move {
            if let Err(error) = recharger.run().await {
                tracing::warn!(?error, "auto-recharge pass failed; next pass");
            }
        }
    });
}

/// A placed order, as charging it needs.
struct Placed {
    id: i64,
    amount: i64,
    currency: String,
    reference: Option<String>,
}

/// How a charge ended.
enum Charged {
    /// Paid, with the provider's reference.
    Paid(String),
    /// Refused by the provider, with its reason.
    Declined(String),
    /// Not known yet: ask again after a while (a PaymentIntent's id is kept on the order).
    Unsettled,
}

impl Recharger {
    fn now(&self) -> i64 {
        (self.clock)()
    }

    /// One pass: works on every recharge due now. Returns how many it worked on.
    #[tracing::instrument(skip_all)]
    pub async fn run(&self) -> Result<usize, AppError> {
        let now = self.now();
        let due = {
            let mut conn = self.pool.acquire().await?;
            db::auto_recharge::due(&mut conn, now, BATCH).await?
        };
        let count = due.len();
        for recharge in due {
            let account = recharge.row.account_id;
            if let Err(error) = self.work(recharge).await {
                tracing::warn!(account, ?error, "auto-recharge step failed; next pass");
            }
        }
        Ok(count)
    }

    async fn work(&self, due: DueRecharge) -> Result<(), AppError> {
        let row = &due.row;
        let account = row.account_id;
        let placed = match (row.order_id, due.order_state) {
            (Some(order), Some(OrderState::Paid)) => {
                // Credited, but the recharge was not put back (an older crash): do it now.
                let mut conn = self.pool.acquire().await?;
                db::auto_recharge::settle(&mut conn, account, order, self.now()).await?;
                return Ok(());
            }
            (Some(order), Some(OrderState::Draft | OrderState::Pending)) => Placed {
                id: order,
                amount: due.order_amount.unwrap_or_default(),
                currency: due.order_currency.clone().unwrap_or_default(),
                reference: due.order_reference.clone(),
            },
            (Some(order), _) => {
                // Failed without the recharge knowing: place a new order.
                let mut conn = self.pool.acquire().await?;
                db::auto_recharge::release_order(&mut conn, account, order).await?;
                return Ok(());
            }
            (None, _) => match self.place(row).await? {
                Some(placed) => placed,
                None => return Ok(()),
            },
        };
        let pending = due.order_state == Some(OrderState::Pending);
        let outcome = self.charge(row, &placed, pending).await?;
        self.settle(row, &placed, outcome).await
    }

    /// Places the order for the recharge's pack, within the monthly cap; `None` when it
    /// was not placed (the cap, a pack no longer offered, another pass first).
    async fn place(&self, row: &AutoRechargeRow) -> Result<Option<Placed>, AppError> {
        let account = row.account_id;
        let now = self.now();
        let mut conn = self.pool.acquire().await?;
        let pack = match row.pack_id {
            Some(id) => db::orders::pack(&mut conn, id).await?,
            None => None,
        };
        let (Some(pack), Some(cap), Some(by)) = (pack, row.monthly_cap, row.card_saved_by) else {
            drop(conn);
            self.stop(
                row,
                None,
                Stop::Wait(RechargeState::GaveUp),
                t(Msg::AutoPackGone),
                now,
            )
            .await?;
            return Ok(None);
        };
        let spent =
            db::auto_recharge::spent_since(&mut conn, account, &pack.currency, month_start(now))
                .await?;
        if !within_cap(spent, pack.price, cap) {
            drop(conn);
            tracing::info!(
                account,
                spent,
                price = pack.price,
                cap,
                "auto-recharge capped"
            );
            self.stop(
                row,
                None,
                Stop::Wait(RechargeState::Capped),
                t(Msg::AutoCapped),
                now,
            )
            .await?;
            return Ok(None);
        }
        let Some(order) =
            db::auto_recharge::place_order(&mut conn, account, &pack, by, now).await?
        else {
            return Ok(None);
        };
        tracing::info!(account, order, pack = pack.id, "auto-recharge order placed");
        Ok(Some(Placed {
            id: order,
            amount: pack.price,
            currency: pack.currency,
            reference: None,
        }))
    }

    /// Charges the order to the saved card; `resumed` when it was already pending.
    async fn charge(
        &self,
        row: &AutoRechargeRow,
        order: &Placed,
        resumed: bool,
    ) -> Result<Charged, AppError> {
        let Some(card) = row.card() else {
            return Ok(Charged::Declined(t(Msg::NoSavedCard).to_owned()));
        };
        let (provider, brand, last4) = match &card {
            SavedCard::Demo { brand, last4, .. } => (DemoProvider::CODE, brand, last4),
            SavedCard::Stripe { brand, last4, .. } => (STRIPE, brand, last4),
        };
        let mut conn = self.pool.acquire().await?;
        if !resumed {
            let started =
                db::orders::start_payment(&mut conn, order.id, provider, brand, last4, self.now())
                    .await?;
            if !started {
                return Ok(Charged::Unsettled);
            }
        }
        match (&card, &self.payments) {
            (SavedCard::Demo { outcome, .. }, Payments::Demo(_)) => {
                if resumed {
                    // Pending from before a crash: with a reference it was approved; without
                    // one it never got an answer, and the Demo provider charged nothing.
                    return Ok(match &order.reference {
                        Some(reference) => Charged::Paid(reference.clone()),
                        None => Charged::Declined(t(Msg::ErrPaymentNotCompleted).to_owned()),
                    });
                }
                Ok(match outcome.outcome() {
                    DemoOutcome::Approved => {
                        let reference = format!(
                            "DEMO-{}-{}",
                            order_reference(order.id),
                            crate::crypto::random_token(16)
                        );
                        db::orders::record_reference(&mut conn, order.id, &reference).await?;
                        Charged::Paid(reference)
                    }
                    DemoOutcome::Declined(reason) => Charged::Declined(t(reason).to_owned()),
                })
            }
            (
                SavedCard::Stripe {
                    customer,
                    payment_method,
                    ..
                },
                Payments::Stripe(stripe),
            ) => {
                let answer = match &order.reference {
                    Some(id) => stripe.client.retrieve_payment_intent(id).await,
                    None => {
                        let description = order_reference(order.id);
                        let charge = OffSessionCharge {
                            order: order.id,
                            amount: order.amount,
                            currency: &order.currency,
                            customer,
                            payment_method,
                            description: &description,
                        };
                        stripe.client.charge_saved_card(&charge).await
                    }
                };
                let intent = match answer {
                    Ok(intent) => intent,
                    Err(StripeError::Api { message, .. }) => return Ok(Charged::Declined(message)),
                    Err(StripeError::Transient(error)) => {
                        tracing::warn!(order = order.id, %error, "auto-recharge charge not answered");
                        return Ok(Charged::Unsettled);
                    }
                    Err(StripeError::Malformed(error)) => return Ok(Charged::Declined(error)),
                };
                db::orders::record_reference(&mut conn, order.id, &intent.id).await?;
                Ok(match intent.status {
                    IntentStatus::Succeeded => Charged::Paid(intent.id),
                    IntentStatus::Refused(status) => {
                        Charged::Declined(intent.error.unwrap_or(status))
                    }
                    IntentStatus::Waiting(_) => Charged::Unsettled,
                })
            }
            // The card was saved with another provider than the one configured now.
            _ => Ok(Charged::Declined(t(Msg::ErrRefundNoProvider).to_owned())),
        }
    }

    async fn settle(
        &self,
        row: &AutoRechargeRow,
        order: &Placed,
        outcome: Charged,
    ) -> Result<(), AppError> {
        let account = row.account_id;
        match outcome {
            Charged::Paid(reference) => {
                let provider = match row.card() {
                    Some(SavedCard::Stripe { .. }) => STRIPE,
                    _ => DemoProvider::CODE,
                };
                // Also puts the recharge back to waiting, in the same transaction.
                self.ledger
                    .payment_succeeded(order.id, provider, &reference)
                    .await?;
                tracing::info!(account, order = order.id, "auto-recharge paid");
                Ok(())
            }
            Charged::Declined(reason) => {
                let declines = row.declines.saturating_add(1);
                let now = self.now();
                let stop = match after_decline(u32::try_from(declines).unwrap_or(u32::MAX), now) {
                    // Turned off while this charge was under way: nothing is retried.
                    _ if !row.active() => Stop::Wait(RechargeState::Idle),
                    AfterDecline::RetryAt(at) => Stop::Retry { declines, at },
                    AfterDecline::GiveUp => Stop::GiveUp { declines },
                };
                tracing::info!(account, order = order.id, declines, %reason, "auto-recharge declined");
                self.stop(row, Some(order.id), stop, &reason, now).await
            }
            Charged::Unsettled => {
                let mut conn = self.pool.acquire().await?;
                let at = self.now() + UNSETTLED_WAIT_MS;
                db::auto_recharge::postpone(&mut conn, account, order.id, at).await?;
                Ok(())
            }
        }
    }

    /// Records that the recharge bought nothing, and tells the people concerned: the order
    /// failed, the back-off, the alert event, the webhooks and the mails, in one transaction.
    async fn stop(
        &self,
        row: &AutoRechargeRow,
        order: Option<i64>,
        stop: Stop,
        reason: &str,
        now: i64,
    ) -> Result<(), AppError> {
        let account = row.account_id;
        let mut conn = self.pool.acquire().await?;
        let mut tx = conn.begin().await?;
        if let Some(order) = order {
            db::orders::fail(&mut tx, order, reason).await?;
        }
        if !db::auto_recharge::stop(&mut tx, account, order, stop, reason, now).await? {
            // Another pass recorded it first.
            tx.rollback().await?;
            return Ok(());
        }
        let next_attempt = match stop {
            Stop::Retry { at, .. } => Some(at),
            Stop::GiveUp { .. } | Stop::Wait(_) => None,
        };
        super::recharge_notice::notify(&mut tx, row, reason, next_attempt, &self.public_url, now)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
