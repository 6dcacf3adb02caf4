//! Reusable view pieces.

pub mod field;
pub mod insufficient_credits;
pub mod low_credit_warning;
pub mod status;
pub mod topbar;
