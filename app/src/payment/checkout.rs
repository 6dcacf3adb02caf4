//! Paying an order by card, with the Demo provider. Card fields are checked first (nothing
//! changes if one is wrong); the order then goes pending, and paid (with its credits, in
//! one ledger transaction) or failed with the provider's reason. Only a draft can start
//! paying, and that step is conditional, so a double click or a resubmitted form never
//! pays twice.

use crate::clock::now_ms;
use crate::db;
use crate::domain::payment::Card;
use crate::domain::time::Timestamp;
use crate::error::AppError;
use crate::i18n::Msg;
use crate::ledger::Ledger;
use crate::models::Order;
use crate::payment::demo::{Charge, DemoProvider};
use sqlx::AnyPool;

/// The checkout form, as typed.
#[derive(Clone, Debug)]
pub struct CardForm {
    pub holder: String,
    pub number: String,
    pub expiry: String,
    pub cvc: String,
}

/// What paying by card needs: where orders are, the ledger that credits them, the provider.
pub struct Checkout<'a> {
    pub pool: &'a AnyPool,
    pub ledger: &'a Ledger,
    pub provider: &'a DemoProvider,
}

impl Checkout<'_> {
    #[tracing::instrument(skip_all, fields(order = order.id))]
    pub async fn pay_by_card(&self, order: &Order, form: &CardForm) -> Result<(), AppError> {
        order
            .state
            .payable()
            .map_err(|reason| AppError::Conflict(reason.into()))?;
        let today = Timestamp::from_ms(now_ms()).year_month();
        let card = Card::parse(&form.holder, &form.number, &form.expiry, &form.cvc, today)?;
        let mut conn = self.pool.acquire().await?;
        let started = db::orders::start_payment(
            &mut conn,
            order.id,
            DemoProvider::CODE,
            card.brand,
            &card.last4,
            now_ms(),
        )
        .await?;
        if !started {
            return Err(AppError::Conflict(Msg::ErrOrderPending.into()));
        }
        match self.provider.charge(&order.reference(), &card) {
            Charge::Approved { reference } => {
                // Recorded first: if crediting fails now, the reconciler credits it later.
                db::orders::record_reference(&mut conn, order.id, &reference).await?;
                self.ledger
                    .payment_succeeded(order.id, DemoProvider::CODE, &reference)
                    .await?;
                tracing::info!(card = ?card, "order paid");
                Ok(())
            }
            Charge::Declined { reason } => {
                db::orders::fail(&mut conn, order.id, &reason.to_string()).await?;
                tracing::info!(card = ?card, %reason, "payment declined");
                Err(AppError::PaymentDeclined(reason))
            }
        }
    }
}
