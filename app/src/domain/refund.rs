//! Refunds of paid orders: the rules, free of I/O.
//!
//! An administrator refunds a paid order, with a reason. The order's credits leave the
//! account at once, in the transaction that records the refund, so they cannot be spent while
//! the money goes back; the order's provider is then asked to return the payment, again and
//! again until it answers. A provider that refuses for good leaves the refund failed and the
//! credits are given back, so neither the money nor the credits are lost.

use crate::domain::FieldError;
use crate::domain::order::OrderState;
use crate::i18n::Msg;
use serde::{Deserialize, Serialize};

/// The longest reason a refund keeps, in characters.
pub const REASON_MAX: usize = 256;

/// Where a refund stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RefundState {
    /// The credits are gone; the money is on its way back.
    Pending,
    /// The provider returned the payment.
    Refunded,
    /// The provider refused; the credits were given back.
    Failed,
}

impl RefundState {
    pub const ALL: [RefundState; 3] = [
        RefundState::Pending,
        RefundState::Refunded,
        RefundState::Failed,
    ];

    /// The name stored in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            RefundState::Pending => "pending",
            RefundState::Refunded => "refunded",
            RefundState::Failed => "failed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    pub const fn label(self) -> Msg {
        match self {
            RefundState::Pending => Msg::RefundPending,
            RefundState::Refunded => Msg::RefundRefunded,
            RefundState::Failed => Msg::RefundFailed,
        }
    }
}

/// An administrator's request to refund order `order`, for a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRefund {
    pub order: i64,
    pub reason: String,
}

impl NewRefund {
    pub fn parse(order: i64, reason: &str) -> Result<Self, FieldError> {
        let reason = super::text::optional_lines("reason", reason, REASON_MAX)?
            .ok_or_else(|| FieldError::new("reason", Msg::ErrRefundReason))?;
        Ok(NewRefund { order, reason })
    }
}

/// What refunding an order needs to know about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundableOrder {
    pub id: i64,
    pub account: i64,
    /// The credits the order bought, in minor units.
    pub credits: i64,
    pub state: OrderState,
    /// Its refund, if one was asked for already.
    pub refund: Option<RefundState>,
}

/// Whether `order` may be refunded now (`Ok(None)`), was already (`Ok(Some(state))`: a
/// double click, a retry, a second administrator get the first refund's state), or why not.
pub fn judge(order: &RefundableOrder) -> Result<Option<RefundState>, FieldError> {
    if let Some(state) = order.refund {
        return Ok(Some(state));
    }
    match order.state {
        OrderState::Paid => Ok(None),
        OrderState::Draft | OrderState::Pending | OrderState::Failed => {
            Err(FieldError::new("order", Msg::ErrRefundNotPaid))
        }
    }
}

/// How long to wait before asking the provider again after `attempts` attempts that did not
/// get an answer: a minute, then five, then thirty, then every two hours.
pub const fn retry_delay_ms(attempts: u32) -> i64 {
    const MINUTE: i64 = 60_000;
    match attempts {
        0 | 1 => MINUTE,
        2 => 5 * MINUTE,
        3 => 30 * MINUTE,
        _ => 120 * MINUTE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(state: OrderState, refund: Option<RefundState>) -> RefundableOrder {
        RefundableOrder {
            id: 42,
            account: 1,
            credits: 1_000_000,
            state,
            refund,
        }
    }

    #[test]
    fn only_a_paid_order_is_refunded_and_a_repeat_answers_the_first_refund() {
        assert_eq!(judge(&order(OrderState::Paid, None)), Ok(None));
        for state in [OrderState::Draft, OrderState::Pending, OrderState::Failed] {
            assert_eq!(judge(&order(state, None)).unwrap_err().field, "order");
        }
        for refund in RefundState::ALL {
            assert_eq!(
                judge(&order(OrderState::Paid, Some(refund))),
                Ok(Some(refund))
            );
        }
    }

    #[test]
    fn a_refund_needs_a_reason_of_at_most_256_characters() {
        assert_eq!(
            NewRefund::parse(7, "  customer asked  ").map(|r| r.reason),
            Ok("customer asked".to_owned())
        );
        assert_eq!(NewRefund::parse(7, "   ").unwrap_err().field, "reason");
        assert_eq!(
            NewRefund::parse(7, &"x".repeat(257)).unwrap_err().field,
            "reason"
        );
    }

    #[test]
    fn retries_back_off_to_every_two_hours() {
        let delays: Vec<i64> = (1..=6).map(|n| retry_delay_ms(n) / 60_000).collect();
        assert_eq!(delays, [1, 5, 30, 120, 120, 120]);
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for state in RefundState::ALL {
            assert_eq!(RefundState::parse(state.as_str()), Some(state));
        }
        assert_eq!(RefundState::parse("done"), None);
    }
}
