//! Business rules in plain Rust: no framework, no database, unit-tested in place.
//!
//! The domain depends on nothing above it: only on [`crate::i18n`] for message keys. Its
//! validation errors are one [`FieldError`]; the rules that refuse an operation have their
//! own enums (such as [`ledger::LedgerError`]), turned into what users see in one place
//! above the domain (the `error` module).

pub mod alert;
pub mod auto_recharge;
pub mod company;
pub mod contact;
pub mod country;
pub mod credits;
pub mod csv;
pub mod error;
pub mod hosting;
pub mod ledger;
pub mod order;
pub mod packs;
pub mod password;
pub mod payment;
#[cfg(feature = "ssr")]
pub mod phone;
pub mod refund;
pub mod service;
pub mod sms;
#[cfg(feature = "ssr")]
pub mod stripe;
pub mod text;
pub mod throttle;
pub mod time;
pub mod usage;
pub mod user;
pub mod warning;
#[cfg(feature = "ssr")]
pub mod webhook;

pub use error::FieldError;
