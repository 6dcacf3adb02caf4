//! Credits as integers: 1 credit = 10,000 minor units, so SMS prices like 0.0536 are exact.
//! Parsing lives here and nowhere else; display is `i18n`'s number formatting, in English
//! here and in the reader's locale on pages.

use crate::domain::FieldError;
use crate::i18n::{Arg, Locale, Msg};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Minor units per credit.
pub const SCALE: i64 = 10_000;
/// The largest amount one operation may move: a trillion credits. Sums of many such amounts
/// still fit in an `i64`, and every sum is checked anyway.
pub const MAX: Credits = Credits(1_000_000_000_000 * SCALE);

/// An amount of credits, in minor units. Signed, because ledger entries are deltas.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Credits(i64);

/// Why a typed amount is not a valid amount of credits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreditsError {
    Empty,
    NotANumber,
    TooManyDecimals,
    NotPositive,
    TooLarge,
    Negative,
}

impl CreditsError {
    pub const fn msg(self) -> Msg {
        match self {
            CreditsError::Empty => Msg::ErrAmountEmpty,
            CreditsError::NotANumber => Msg::ErrAmountNotNumber,
            CreditsError::TooManyDecimals => Msg::ErrAmountDecimals,
            CreditsError::NotPositive => Msg::ErrAmountNotPositive,
            CreditsError::TooLarge => Msg::ErrAmountTooLarge,
            CreditsError::Negative => Msg::ErrAmountNegative,
        }
    }

    /// The error as the validation error of `field`.
    pub fn at(self, field: &str) -> FieldError {
        FieldError::new(field, self.msg())
    }
}

impl Credits {
    pub const ZERO: Credits = Credits(0);

    pub const fn from_minor(minor: i64) -> Self {
        Credits(minor)
    }

    pub const fn minor(self) -> i64 {
        self.0
    }

    /// Whole credits, e.g. a pack of 100.
    pub fn whole(credits: i64) -> Option<Self> {
        credits.checked_mul(SCALE).map(Credits)
    }

    /// Parses a typed amount: digits with an optional `.` and up to 4 decimals, optionally
    /// signed. Thousands separators and exponents are refused rather than guessed at.
    pub fn parse_signed(text: &str) -> Result<Self, CreditsError> {
        let text = text.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        if digits.is_empty() {
            return Err(if text.is_empty() {
                CreditsError::Empty
            } else {
                CreditsError::NotANumber
            });
        }
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(CreditsError::NotANumber);
        }
        if frac.len() > 4 {
            return Err(CreditsError::TooManyDecimals);
        }
        let int: i64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| CreditsError::TooLarge)?
        };
        let frac: i64 = format!("{frac:0<4}")
            .parse()
            .map_err(|_| CreditsError::NotANumber)?;
        let minor = int
            .checked_mul(SCALE)
            .and_then(|m| m.checked_add(frac))
            .ok_or(CreditsError::TooLarge)?;
        if minor > MAX.0 {
            return Err(CreditsError::TooLarge);
        }
        Ok(Credits(if negative { -minor } else { minor }))
    }

    /// Parses an amount that must be above zero (holds, purchases, thresholds).
    pub fn parse_positive(text: &str) -> Result<Self, CreditsError> {
        let amount = Self::parse_signed(text)?;
        if amount.0 <= 0 {
            return Err(CreditsError::NotPositive);
        }
        Ok(amount)
    }

    /// Checks an amount that arrived as a number: above zero and not above [`MAX`].
    pub fn positive(self) -> Result<Self, CreditsError> {
        match self.0 {
            m if m <= 0 => Err(CreditsError::NotPositive),
            m if m > MAX.0 => Err(CreditsError::TooLarge),
            _ => Ok(self),
        }
    }

    /// Converts a credit amount that arrived as a JSON number (Odoo's IAP protocol sends
    /// floats) exactly: the float's shortest decimal form must have at most 4 decimals, so
    /// `0.1` is 1,000 minor units and never 999. NaN, infinities and negatives are refused
    /// rather than rounded or clamped.
    pub fn from_json_number(value: f64) -> Result<Self, CreditsError> {
        if !value.is_finite() {
            return Err(CreditsError::NotANumber);
        }
        if value < 0.0 {
            return Err(CreditsError::Negative);
        }
        // `Display` for f64 prints the shortest decimal that reads back as the same float,
        // and never uses an exponent.
        Self::parse_signed(&value.to_string())
    }

    /// The amount as a JSON number: the nearest float to the exact decimal, whose shortest
    /// form is that decimal (exact for every amount below 2^53 minor units).
    pub fn to_json_number(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }

    pub fn checked_add(self, other: Credits) -> Option<Credits> {
        self.0.checked_add(other.0).map(Credits)
    }

    pub fn checked_sub(self, other: Credits) -> Option<Credits> {
        self.0.checked_sub(other.0).map(Credits)
    }

    /// For display in a service's unit, in English: whole-number services never show
    /// decimals (amounts are truncated towards zero, which only matters for fractional
    /// adjustments); the others show up to 4 decimals without trailing zeros. Thousands are
    /// separated by commas.
    pub fn display(self, whole_number: bool) -> String {
        crate::i18n::credits(Locale::En, self.0, whole_number)
    }

    /// The exact amount as a plain decimal for machines (CSV, logs): a `.` before up to 4
    /// decimals without trailing zeros, no thousands separator, `-` when negative.
    pub fn decimal(self) -> String {
        let (sign, abs) = (if self.0 < 0 { "-" } else { "" }, self.0.unsigned_abs());
        let (whole, fraction) = (abs / SCALE as u64, abs % SCALE as u64);
        if fraction == 0 {
            return format!("{sign}{whole}");
        }
        let digits = format!("{fraction:04}");
        format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
    }

    /// The amount as a message argument, shown in the reader's locale.
    pub fn arg(self, whole_number: bool) -> Arg {
        Arg::Credits {
            minor: self.0,
            whole: whole_number,
        }
    }
}

impl From<Credits> for Arg {
    fn from(value: Credits) -> Self {
        value.arg(false)
    }
}

impl fmt::Display for Credits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_gives_exact_minor_units() {
        assert_eq!(Credits::parse_signed("10"), Ok(Credits(100_000)));
        assert_eq!(Credits::parse_signed("2.5"), Ok(Credits(25_000)));
        assert_eq!(Credits::parse_signed("0.0001"), Ok(Credits(1)));
        assert_eq!(Credits::parse_signed(".5"), Ok(Credits(5_000)));
        assert_eq!(Credits::parse_signed("7."), Ok(Credits(70_000)));
        assert_eq!(Credits::parse_signed(" -3.25 "), Ok(Credits(-32_500)));
        assert_eq!(Credits::parse_signed("+1"), Ok(Credits(10_000)));
    }

    #[test]
    fn decimals_are_exact_and_read_back() {
        for (minor, text) in [
            (0, "0"),
            (1, "0.0001"),
            (-536, "-0.0536"),
            (25_000, "2.5"),
            (1_234_567_890_000, "123456789"),
            (i64::MIN, "-922337203685477.5808"),
        ] {
            assert_eq!(Credits(minor).decimal(), text);
        }
        assert_eq!(
            Credits::parse_signed(&Credits(-536).decimal()),
            Ok(Credits(-536))
        );
    }

    #[test]
    fn malformed_amounts_are_refused_with_a_reason() {
        assert_eq!(Credits::parse_signed(""), Err(CreditsError::Empty));
        assert_eq!(Credits::parse_signed("-"), Err(CreditsError::NotANumber));
        assert_eq!(Credits::parse_signed("."), Err(CreditsError::NotANumber));
        assert_eq!(Credits::parse_signed("abc"), Err(CreditsError::NotANumber));
        assert_eq!(Credits::parse_signed("1e3"), Err(CreditsError::NotANumber));
        assert_eq!(
            Credits::parse_signed("1,000"),
            Err(CreditsError::NotANumber)
        );
        assert_eq!(Credits::parse_signed("NaN"), Err(CreditsError::NotANumber));
        assert_eq!(
            Credits::parse_signed("1.00001"),
            Err(CreditsError::TooManyDecimals)
        );
        assert_eq!(
            Credits::parse_signed("99999999999999999999"),
            Err(CreditsError::TooLarge)
        );
        assert_eq!(
            Credits::parse_signed("1000000000001"),
            Err(CreditsError::TooLarge)
        );
    }

    #[test]
    fn positive_amounts_exclude_zero_and_negatives() {
        assert_eq!(Credits::parse_positive("0"), Err(CreditsError::NotPositive));
        assert_eq!(
            Credits::parse_positive("-1"),
            Err(CreditsError::NotPositive)
        );
        assert_eq!(Credits::parse_positive("0.0001"), Ok(Credits(1)));
        assert_eq!(Credits(0).positive(), Err(CreditsError::NotPositive));
        assert_eq!(Credits(MAX.0 + 1).positive(), Err(CreditsError::TooLarge));
    }

    #[test]
    fn display_respects_the_whole_number_flag() {
        assert_eq!(Credits(35_000).display(false), "3.5");
        assert_eq!(Credits(35_000).display(true), "3");
        assert_eq!(Credits(1).display(false), "0.0001");
        assert_eq!(Credits(10_000_000).display(false), "1,000");
        assert_eq!(Credits(-12_345_670_000).display(false), "-1,234,567");
        assert_eq!(Credits(0).display(true), "0");
    }

    #[test]
    fn display_and_parse_round_trip() {
        for minor in [0, 1, 9_999, 10_000, 123_456_789, -5_000] {
            let shown = Credits(minor).display(false).replace(',', "");
            assert_eq!(Credits::parse_signed(&shown), Ok(Credits(minor)), "{shown}");
        }
    }

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(Credits(i64::MAX).checked_add(Credits(1)), None);
        assert_eq!(Credits(5).checked_sub(Credits(7)), Some(Credits(-2)));
        assert_eq!(Credits::whole(100), Some(Credits(1_000_000)));
        assert_eq!(Credits::whole(i64::MAX), None);
    }

    #[test]
    fn json_numbers_convert_exactly_to_minor_units() {
        assert_eq!(Credits::from_json_number(0.1), Ok(Credits(1_000)));
        assert_eq!(Credits::from_json_number(0.0536), Ok(Credits(536)));
        assert_eq!(Credits::from_json_number(0.0001), Ok(Credits(1)));
        assert_eq!(Credits::from_json_number(12.0), Ok(Credits(120_000)));
        assert_eq!(Credits::from_json_number(0.3), Ok(Credits(3_000)));
        assert_eq!(Credits::from_json_number(0.0), Ok(Credits(0)));
        assert_eq!(Credits::from_json_number(-0.0), Ok(Credits(0)));
        assert_eq!(Credits::from_json_number(1e12), Ok(MAX));
    }

    #[test]
    fn json_numbers_with_more_than_four_decimals_or_no_value_are_refused() {
        assert_eq!(
            Credits::from_json_number(0.00001),
            Err(CreditsError::TooManyDecimals)
        );
        assert_eq!(
            Credits::from_json_number(0.1 + 0.2),
            Err(CreditsError::TooManyDecimals)
        );
        assert_eq!(
            Credits::from_json_number(5e-324),
            Err(CreditsError::TooManyDecimals)
        );
        assert_eq!(
            Credits::from_json_number(f64::NAN),
            Err(CreditsError::NotANumber)
        );
        assert_eq!(
            Credits::from_json_number(f64::INFINITY),
            Err(CreditsError::NotANumber)
        );
        assert_eq!(
            Credits::from_json_number(f64::NEG_INFINITY),
            Err(CreditsError::NotANumber)
        );
        assert_eq!(Credits::from_json_number(-1.0), Err(CreditsError::Negative));
        assert_eq!(Credits::from_json_number(1e13), Err(CreditsError::TooLarge));
        assert_eq!(
            Credits::from_json_number(1e300),
            Err(CreditsError::TooLarge)
        );
    }

    #[test]
    fn minor_units_round_trip_through_json_numbers() {
        for minor in [0, 1, 536, 9_999, 10_000, 123_456_789, MAX.0] {
            let float = Credits(minor).to_json_number();
            assert_eq!(
                Credits::from_json_number(float),
                Ok(Credits(minor)),
                "{float}"
            );
        }
        assert_eq!(Credits(1_000).to_json_number().to_string(), "0.1");
    }
}
