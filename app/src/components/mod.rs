//! Reusable view pieces.

pub mod field;
pub mod insufficient_credits;
pub mod status;
pub mod topbar;
