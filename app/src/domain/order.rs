//! Orders of credit packs: their states and the rule for paying one.
//!
//! draft → pending (payment started) → paid (credited, once) or failed. Only a draft can be
//! paid; every other state answers a second attempt with why it cannot.

use crate::i18n::Msg;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderState {
    Draft,
    Pending,
    Paid,
    Failed,
}

impl OrderState {
    pub const ALL: [OrderState; 4] = [
        OrderState::Draft,
        OrderState::Pending,
        OrderState::Paid,
        OrderState::Failed,
    ];

    /// The name stored in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderState::Draft => "draft",
            OrderState::Pending => "pending",
            OrderState::Paid => "paid",
            OrderState::Failed => "failed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    pub const fn label(self) -> Msg {
        match self {
            OrderState::Draft => Msg::StateDraft,
            OrderState::Pending => Msg::StatePending,
            OrderState::Paid => Msg::StatePaid,
            OrderState::Failed => Msg::StateFailed,
        }
    }

    /// Whether a payment may start now; otherwise the reason to give the customer. A double
    /// click, a resubmitted form or a second tab lands here.
    pub const fn payable(self) -> Result<(), Msg> {
        match self {
            OrderState::Draft => Ok(()),
            OrderState::Pending => Err(Msg::ErrOrderPending),
            OrderState::Paid => Err(Msg::ErrOrderPaid),
            OrderState::Failed => Err(Msg::ErrOrderFailedRetry),
        }
    }
}

/// The reference customers see for an order, e.g. `IAP00042`.
pub fn order_reference(id: i64) -> String {
    format!("IAP{id:05}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_states_round_trip_through_their_names() {
        for state in OrderState::ALL {
            assert_eq!(OrderState::parse(state.as_str()), Some(state));
        }
        assert_eq!(OrderState::parse("refunded"), None);
    }

    #[test]
    fn only_a_draft_can_be_paid() {
        assert_eq!(OrderState::Draft.payable(), Ok(()));
        assert_eq!(OrderState::Pending.payable(), Err(Msg::ErrOrderPending));
        assert_eq!(OrderState::Paid.payable(), Err(Msg::ErrOrderPaid));
        assert_eq!(OrderState::Failed.payable(), Err(Msg::ErrOrderFailedRetry));
    }

    #[test]
    fn references_are_zero_padded() {
        assert_eq!(order_reference(42), "IAP00042");
        assert_eq!(order_reference(123_456), "IAP123456");
    }
}
