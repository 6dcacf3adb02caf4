//! Payment providers, and paying an order. The order logic only sees [`PaymentProvider`],
//! which answers a charge at once (the Demo provider). Whatever the provider, an order is
//! credited by one event, `Ledger::payment_succeeded`, keyed by the provider's reference, so
//! a replayed confirmation credits nothing more.
//!
//! # Layout
//! - this file: the provider interface;
//! - [`demo`]: the built-in Demo provider and its test cards;
//! - [`checkout`]: paying an order by card, from the checkout form.

pub mod checkout;
pub mod demo;

use crate::domain::payment::Card;
use crate::i18n::Text;
use std::future::Future;
use std::pin::Pin;

pub use demo::DemoProvider;

/// What a provider says about a charge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Charge {
    /// Paid now; `reference` identifies the payment at the provider.
    Approved { reference: String },
    /// Refused, with the reason to give the customer.
    Declined { reason: Text },
}

/// The order facts a provider needs.
#[derive(Clone, Debug)]
pub struct ChargeRequest {
    pub order_reference: String,
    /// In cents of `currency`.
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
