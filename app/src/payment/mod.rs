//! Payment providers, and paying an order. Whatever the provider, an order is credited by
//! one event, `Ledger::payment_succeeded`, keyed by the provider's reference, so a replayed
//! confirmation credits nothing more.
//!
//! The operator chooses one provider ([`Payments`]): the built-in Demo provider (test cards,
//! demo databases only), Stripe Checkout (a hosted page, confirmed by a signed webhook and
//! read back by a reconciler), or none, in which case nothing can be bought.
//!
//! # Layout
//! - this file: the choice of provider;
//! - [`demo`] and [`checkout`]: the Demo provider's test cards, and paying by card;
//! - [`stripe`] and [`hosted`]: the Stripe REST client, and the hosted flow built on it;
//! - [`reconcile`]: settling orders left pending, whatever the provider;
//! - [`auto_recharge`] and [`recharge_notice`]: charging saved cards when credits run low,
//!   and telling people when that bought nothing; [`card_setup`]: saving a card at Stripe.

pub mod auto_recharge;
pub mod card_setup;
pub mod checkout;
pub mod demo;
pub mod hosted;
pub mod recharge_notice;
pub mod reconcile;
pub mod refund;
pub mod stripe;

use crate::models::PaymentMode;
use std::sync::Arc;

pub use demo::DemoProvider;
pub use hosted::StripeGateway;

/// The payment provider this server uses.
#[derive(Clone)]
pub enum Payments {
    /// None configured: the store shows its packs but nothing can be bought.
    Unconfigured,
    /// The built-in Demo provider, which decides by test card. Demo databases only.
    Demo(Arc<DemoProvider>),
    /// Stripe Checkout.
    Stripe(Arc<StripeGateway>),
}

impl Payments {
    /// How the checkout page pays with this provider.
    pub fn mode(&self) -> PaymentMode {
        match self {
            Payments::Unconfigured => PaymentMode::Unavailable,
            Payments::Demo(_) => PaymentMode::Card,
            Payments::Stripe(_) => PaymentMode::Hosted,
        }
    }
}
