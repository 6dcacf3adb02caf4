//! Odoo's demo provider in spirit: validates like a real one and decides by test card.

use super::{Charge, ChargeRequest, PaymentProvider};
use crate::domain::payment::{Card, DemoOutcome, demo_outcome};
use std::future::Future;
use std::pin::Pin;

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
                        crate::crypto::random_token(16)
                    ),
                },
                DemoOutcome::Declined(reason) => Charge::Declined {
                    reason: reason.into(),
                },
            }
        })
    }
}
