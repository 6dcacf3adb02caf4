//! Odoo's demo provider in spirit: validates like a real one and decides by test card,
//! at once. Allowed on demo databases only: it approves any valid card number.

use crate::domain::payment::{Card, DemoOutcome, demo_outcome};
use crate::i18n::Text;

/// What the Demo provider says about a charge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Charge {
    /// Paid now; `reference` identifies the payment.
    Approved { reference: String },
    /// Refused, with the reason to give the customer.
    Declined { reason: Text },
}

pub struct DemoProvider;

impl DemoProvider {
    /// Stored on the order; with the reference it makes a payment unique.
    pub const CODE: &'static str = "demo";

    pub fn charge(&self, order_reference: &str, card: &Card) -> Charge {
        match demo_outcome(card) {
            DemoOutcome::Approved => Charge::Approved {
                reference: format!("DEMO-{order_reference}-{}", crate::crypto::random_token(16)),
            },
            DemoOutcome::Declined(reason) => Charge::Declined {
                reason: reason.into(),
            },
        }
    }
}
