//! Business rules in plain Rust: no framework, no database, unit-tested in place.

pub mod contact;
pub mod country;
pub mod credits;
pub mod hosting;
pub mod ledger;
pub mod packs;
pub mod payment;
pub mod service;
pub mod throttle;
