//! Payment providers. The order logic only sees [`PaymentProvider`]: a provider answers at
//! once (the Demo provider) or asks for a redirect and confirms later through a signed
//! webhook. Either way the order is credited by one event, `Ledger::payment_succeeded`, keyed
//! by the provider's reference, so a replayed confirmation credits nothing more.

use crate::domain::payment::{Card, DemoOutcome, demo_outcome};
use std::future::Future;
use std::pin::Pin;

/// What a provider says about a charge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Charge {
    /// Paid now; `reference` identifies the payment at the provider.
    Approved {
        reference: String,
    },
    Declined {
        reason: String,
    },
    /// A hosted provider: send the customer to `url`; its webhook confirms `reference` later.
    Redirect {
        url: String,
        reference: String,
    },
}

/// The order facts a provider needs.
#[derive(Clone, Debug)]
pub struct ChargeRequest {
    pub order_reference: String,
    pub amount: i64,
    pub currency: String,
}

pub trait PaymentProvider: Send + Sync {
    /// Stored on the order; with the provider's reference it makes a payment unique.
    fn code(&self) -> &'static str;
    fn charge<'a>(
        &'a self,
        request: &'a ChargeRequest,
        card: &'a Card,
    ) -> Pin<Box<dyn Future<Output = Charge> + Send + 'a>>;
}

/// Odoo's demo provider in spirit: validates like a real one and decides by test card.
pub struct DemoProvider;

impl PaymentProvider for DemoProvider {
    fn code(&self) -> &'static str {
        "demo"
    }

    fn charge<'a>(
        &'a self,
        request: &'a ChargeRequest,
        card: &'a Card,
    ) -> Pin<Box<dyn Future<Output = Charge> + Send + 'a>> {
        Box::pin(async move {
            match demo_outcome(card) {
                DemoOutcome::Approved => Charge::Approved {
                    reference: format!(
                        "DEMO-{}-{}",
                        request.order_reference,
                        crate::ledger::new_token()
                    ),
                },
                DemoOutcome::Declined(reason) => Charge::Declined {
                    reason: reason.to_owned(),
                },
            }
        })
    }
}
