//! Reusable view pieces.

pub mod accounts_table;
pub mod action_dialog;
pub mod alert_thresholds;
pub mod auto_recharge;
pub mod balance_at;
pub mod bell;
pub mod change_password;
pub mod field;
pub mod history_filters;
pub mod insufficient_credits;
pub mod language;
pub mod list_rows;
pub mod low_credit_warning;
pub mod modal;
pub mod orders_table;
pub mod refund_order;
pub mod reverse_capture;
pub mod sms_dialog;
pub mod sms_state;
pub mod status;
pub mod topbar;
pub mod usage_chart;
