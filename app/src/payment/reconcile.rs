//! No order left pending. An order goes pending when its payment starts; if crediting then
//! fails, or the process dies in between, it would stay pending for ever. The reconciler
//! settles every order pending longer than a round, at start and every round:
//!
//! - Demo provider: its answer is immediate, and its reference is recorded on the order
//!   before crediting. With a reference, the order is credited (idempotently, by that
//!   reference); without one, the charge never got an answer, and the order fails (the Demo
//!   provider charges nothing real).
//! - Stripe: the session is read back ([`Hosted::reconcile`]).

use crate::db;
use crate::error::AppError;
use crate::i18n::{Msg, t};
use crate::ledger::Ledger;
use crate::payment::Payments;
use crate::payment::demo::DemoProvider;
use crate::payment::hosted::Hosted;
use sqlx::AnyPool;

/// Pending orders settled per round and provider; the rest wait for the next round.
const BATCH: i64 = 100;

pub struct Reconciler<'a> {
    pub pool: &'a AnyPool,
    pub ledger: &'a Ledger,
    pub payments: &'a Payments,
}

impl Reconciler<'_> {
    /// Settles the orders pending since before `pending_before` (Unix ms); how many.
    #[tracing::instrument(skip_all)]
    pub async fn run(&self, pending_before: i64) -> Result<usize, AppError> {
        let mut settled = self.demo(pending_before).await?;
        if let Payments::Stripe(stripe) = self.payments {
            let hosted = Hosted {
                pool: self.pool,
                ledger: self.ledger,
                stripe,
            };
            settled += hosted.reconcile(pending_before).await?;
        }
        Ok(settled)
    }

    async fn demo(&self, pending_before: i64) -> Result<usize, AppError> {
        let mut conn = self.pool.acquire().await?;
        let pending =
            db::orders::pending_since_before(&mut conn, DemoProvider::CODE, pending_before, BATCH)
                .await?;
        let mut settled = 0;
        for (order, reference) in pending {
            match reference {
                Some(reference) => {
                    self.ledger
                        .payment_succeeded(order, DemoProvider::CODE, &reference)
                        .await?;
                    tracing::info!(order, "interrupted payment credited");
                }
                None => {
                    db::orders::fail(&mut conn, order, t(Msg::ErrPaymentNotCompleted)).await?;
                    tracing::info!(order, "payment that never got an answer failed");
                }
            }
            settled += 1;
        }
        Ok(settled)
    }
}
