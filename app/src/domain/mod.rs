//! Business rules in plain Rust: no framework, no database, unit-tested in place.

pub mod contact;
pub mod country;
pub mod throttle;
