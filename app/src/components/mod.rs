//! Reusable view pieces.

pub mod field;
pub mod topbar;
