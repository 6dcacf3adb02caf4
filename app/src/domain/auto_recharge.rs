//! Auto-recharge: when an account's available credits fall below its threshold, one order
//! for its pack is placed and charged to the saved card. Plain rules, free of I/O.
//!
//! - **Once per crossing.** Like the alert thresholds, it triggers when the available
//!   credits go from at or above the threshold to below it; while one charge is under way
//!   (or waiting to be retried) a further crossing places nothing more.
//! - **Monthly cap.** What auto-recharge spends on an account in a calendar month (UTC),
//!   counting orders paid or still being paid, never goes beyond the cap: an order that
//!   would pass it is not placed.
//! - **Declines.** After the first decline it tries again in 1 hour, then 6, then 24; after
//!   the fourth it gives up until the next crossing.
//! - **Odoo.** Odoo sets only the threshold and the pack; a threshold of 0 turns it off, as
//!   in Odoo. The cap and the card are set on Account Information; until both are, nothing
//!   is charged.

use crate::domain::FieldError;
use crate::domain::credits::Credits;
use crate::domain::payment::{Card, DemoOutcome, demo_outcome};
use crate::domain::time::{DAY, HOUR, Timestamp};
use crate::i18n::Msg;
use serde::{Deserialize, Serialize};

/// The form's fields, as validation errors name them.
pub const THRESHOLD_FIELD: &str = "auto_threshold";
pub const PACK_FIELD: &str = "auto_pack";
pub const CAP_FIELD: &str = "auto_cap";

/// The waits after the first, second and third decline; the fourth gives up.
pub const BACKOFF_MS: [i64; 3] = [HOUR, 6 * HOUR, DAY];

/// Where an account's auto-recharge stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RechargeState {
    /// Waiting for the next crossing.
    #[default]
    Idle,
    /// Crossed: an order is to be placed and charged now.
    Due,
    /// Declined; charged again at the next attempt.
    Retrying,
    /// Declined too often; waits for the next crossing.
    GaveUp,
    /// Not placed: the monthly cap would have been passed. Waits for the next crossing.
    Capped,
}

impl RechargeState {
    pub const ALL: [RechargeState; 5] = [
        RechargeState::Idle,
        RechargeState::Due,
        RechargeState::Retrying,
        RechargeState::GaveUp,
        RechargeState::Capped,
    ];

    /// The name stored in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            RechargeState::Idle => "idle",
            RechargeState::Due => "due",
            RechargeState::Retrying => "retrying",
            RechargeState::GaveUp => "gave_up",
            RechargeState::Capped => "capped",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether a charge is under way or waiting to be retried: a crossing now places nothing.
    pub const fn busy(self) -> bool {
        matches!(self, RechargeState::Due | RechargeState::Retrying)
    }
}

/// A Demo test card as saved: its outcome class, never its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DemoCard {
    Approves,
    Declines,
    InsufficientFunds,
}

impl DemoCard {
    pub const ALL: [DemoCard; 3] = [
        DemoCard::Approves,
        DemoCard::Declines,
        DemoCard::InsufficientFunds,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DemoCard::Approves => "approves",
            DemoCard::Declines => "declines",
            DemoCard::InsufficientFunds => "insufficient_funds",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// What the Demo provider will answer to charges on this card.
    pub fn of(card: &Card) -> Self {
        match demo_outcome(card) {
            DemoOutcome::Approved => DemoCard::Approves,
            DemoOutcome::Declined(Msg::DemoInsufficientFunds) => DemoCard::InsufficientFunds,
            DemoOutcome::Declined(_) => DemoCard::Declines,
        }
    }

    pub const fn outcome(self) -> DemoOutcome {
        match self {
            DemoCard::Approves => DemoOutcome::Approved,
            DemoCard::Declines => DemoOutcome::Declined(Msg::DemoDeclined),
            DemoCard::InsufficientFunds => DemoOutcome::Declined(Msg::DemoInsufficientFunds),
        }
    }
}

/// The settings an administrator saves on Account Information: all three required.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Minor units of credits, above zero.
    pub threshold: i64,
    pub pack: i64,
    /// Cents of the pack's currency, above zero.
    pub monthly_cap: i64,
}

impl Settings {
    /// Checks the form. `pack` is the chosen pack's id and price, `None` when none was
    /// chosen; the cap must allow at least one pack.
    pub fn parse(
        threshold: &str,
        pack: Option<(i64, i64)>,
        cap: &str,
    ) -> Result<Settings, FieldError> {
        let threshold = Credits::parse_positive(threshold)
            .map_err(|e| e.at(THRESHOLD_FIELD))?
            .minor();
        let Some((pack, price)) = pack else {
            return Err(FieldError::new(PACK_FIELD, Msg::ErrAutoPack));
        };
        let monthly_cap =
            parse_money(cap).map_err(|message| FieldError::new(CAP_FIELD, message))?;
        if monthly_cap < price {
            return Err(FieldError::new(CAP_FIELD, Msg::ErrAutoCapBelowPack));
        }
        Ok(Settings {
            threshold,
            pack,
            monthly_cap,
        })
    }
}

/// What Odoo's `update-auto-refill-settings` sets: the threshold in credits (0 or less turns
/// auto-recharge off, and forgets the pack, as Odoo does) and the pack (0 for none).
pub fn from_odoo(threshold: Credits, pack: i64) -> (i64, Option<i64>) {
    if threshold.minor() <= 0 {
        return (0, None);
    }
    (threshold.minor(), (pack > 0).then_some(pack))
}

/// An amount of money typed with at most two decimals ("50", "49.90"), in cents, above zero.
pub fn parse_money(text: &str) -> Result<i64, Msg> {
    let credits = Credits::parse_positive(text.trim()).map_err(|_| Msg::ErrMoney)?;
    // Credits have four decimals; money two.
    let minor = credits.minor();
    if minor % 100 != 0 {
        return Err(Msg::ErrMoney);
    }
    Ok(minor / 100)
}

/// Whether a change of available credits from `before` to `after` crosses `threshold`
/// downwards. A threshold of 0 is off.
pub fn crossed(threshold: i64, before: i64, after: i64) -> bool {
    threshold > 0 && before >= threshold && after < threshold
}

/// Whether an order of `price` fits in the month's cap, `spent` already spent or being paid.
pub fn within_cap(spent: i64, price: i64, cap: i64) -> bool {
    spent.checked_add(price).is_some_and(|total| total <= cap)
}

/// The month whose spending counts against the cap at `now`: from its first moment.
pub fn month_start(now: i64) -> i64 {
    Timestamp::from_ms(now).start_of_month().ms()
}

/// What follows a decline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterDecline {
    /// Charge again at this moment (Unix ms).
    RetryAt(i64),
    /// Stop until the next crossing.
    GiveUp,
}

/// What follows the `declines`th decline in a row (1 for the first), at `now`.
pub fn after_decline(declines: u32, now: i64) -> AfterDecline {
    let index = usize::try_from(declines.saturating_sub(1)).unwrap_or(usize::MAX);
    match BACKOFF_MS.get(index) {
        Some(wait) if declines > 0 => AfterDecline::RetryAt(now.saturating_add(*wait)),
        _ => AfterDecline::GiveUp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_is_downward_through_the_threshold_only() {
        let t = 100_000;
        assert!(crossed(t, 100_000, 99_999));
        assert!(crossed(t, 500_000, 0));
        assert!(
            !crossed(t, 99_999, 50_000),
            "already below: not a new crossing"
        );
        assert!(
            !crossed(t, 200_000, 100_000),
            "down to the threshold is not below it"
        );
        assert!(!crossed(t, 50_000, 200_000), "upwards");
        assert!(!crossed(0, 100, -100), "0 is off");
    }

    #[test]
    fn the_cap_counts_what_is_spent_and_the_new_order() {
        assert!(within_cap(0, 5_000, 5_000));
        assert!(within_cap(5_000, 5_000, 10_000));
        assert!(!within_cap(5_001, 5_000, 10_000));
        assert!(!within_cap(0, 5_000, 4_999));
        assert!(
            !within_cap(i64::MAX, 1, i64::MAX),
            "no overflow into a pass"
        );
    }

    #[test]
    fn declines_back_off_an_hour_six_hours_a_day_then_give_up() {
        let now = 1_000_000;
        assert_eq!(after_decline(1, now), AfterDecline::RetryAt(now + HOUR));
        assert_eq!(after_decline(2, now), AfterDecline::RetryAt(now + 6 * HOUR));
        assert_eq!(after_decline(3, now), AfterDecline::RetryAt(now + DAY));
        assert_eq!(after_decline(4, now), AfterDecline::GiveUp);
        assert_eq!(after_decline(u32::MAX, now), AfterDecline::GiveUp);
        assert_eq!(after_decline(0, now), AfterDecline::GiveUp);
    }

    #[test]
    fn the_month_starts_on_the_first_utc() {
        let now = Timestamp::parse_date_time("2026-12-02T16:30").unwrap().ms();
        let first = Timestamp::parse_date("2026-12-01").unwrap().ms();
        assert_eq!(month_start(now), first);
    }

    #[test]
    fn settings_need_a_threshold_a_pack_and_a_cap_that_allows_it() {
        let ok = Settings::parse("10", Some((3, 4_500)), "90").unwrap();
        assert_eq!(
            ok,
            Settings {
                threshold: 100_000,
                pack: 3,
                monthly_cap: 9_000
            }
        );
        let field = |r: Result<Settings, FieldError>| r.unwrap_err().field;
        assert_eq!(
            field(Settings::parse("0", Some((3, 1)), "9")),
            THRESHOLD_FIELD
        );
        assert_eq!(
            field(Settings::parse("ten", Some((3, 1)), "9")),
            THRESHOLD_FIELD
        );
        assert_eq!(field(Settings::parse("10", None, "9")), PACK_FIELD);
        assert_eq!(field(Settings::parse("10", Some((3, 1)), "")), CAP_FIELD);
        assert_eq!(
            field(Settings::parse("10", Some((3, 1)), "9.999")),
            CAP_FIELD
        );
        let below = Settings::parse("10", Some((3, 4_500)), "44.99").unwrap_err();
        assert_eq!(
            (below.field.as_str(), below.message),
            (CAP_FIELD, Msg::ErrAutoCapBelowPack)
        );
    }

    #[test]
    fn money_has_at_most_two_decimals() {
        assert_eq!(parse_money("50"), Ok(5_000));
        assert_eq!(parse_money(" 49.9 "), Ok(4_990));
        assert_eq!(parse_money("0.01"), Ok(1));
        assert_eq!(parse_money("0.001"), Err(Msg::ErrMoney));
        assert_eq!(parse_money("0"), Err(Msg::ErrMoney));
        assert_eq!(parse_money("-5"), Err(Msg::ErrMoney));
        assert_eq!(parse_money("5e3"), Err(Msg::ErrMoney));
    }

    #[test]
    fn odoo_turns_it_off_with_zero_as_odoo_does() {
        assert_eq!(from_odoo(Credits::from_minor(0), 7), (0, None));
        assert_eq!(from_odoo(Credits::from_minor(-5), 7), (0, None));
        assert_eq!(from_odoo(Credits::from_minor(50_000), 7), (50_000, Some(7)));
        assert_eq!(from_odoo(Credits::from_minor(50_000), 0), (50_000, None));
    }

    #[test]
    fn a_saved_demo_card_keeps_its_outcome_class() {
        for kind in DemoCard::ALL {
            assert_eq!(DemoCard::parse(kind.as_str()), Some(kind));
        }
        for state in RechargeState::ALL {
            assert_eq!(RechargeState::parse(state.as_str()), Some(state));
        }
        assert!(RechargeState::Due.busy() && RechargeState::Retrying.busy());
        assert!(!RechargeState::GaveUp.busy() && !RechargeState::Capped.busy());
        assert_eq!(
            DemoCard::InsufficientFunds.outcome(),
            DemoOutcome::Declined(Msg::DemoInsufficientFunds)
        );
        assert_eq!(DemoCard::Approves.outcome(), DemoOutcome::Approved);
    }
}
