//! Business rules in plain Rust: no framework, no database, unit-tested in place.

pub mod contact;
pub mod country;
pub mod credits;
pub mod hosting;
pub mod ledger;
pub mod packs;
pub mod payment;
#[cfg(feature = "ssr")]
pub mod phone;
pub mod service;
pub mod sms;
pub mod throttle;
pub mod warning;
