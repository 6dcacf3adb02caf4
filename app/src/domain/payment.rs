//! Card checks a payment form makes before anything is charged, and the Demo provider's
//! test cards. Only the brand and last four digits of a card are ever kept.

use crate::domain::FieldError;
use crate::i18n::Msg;

/// A card that passed the form's checks: what may be kept, plus the number for the provider.
#[derive(Clone, PartialEq, Eq)]
pub struct Card {
    pub holder: String,
    /// Digits only; handed to the provider, never stored or logged.
    number: String,
    pub brand: &'static str,
    pub last4: String,
}

impl std::fmt::Debug for Card {
    /// Never prints the number.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Card({} •••• {})", self.brand, self.last4)
    }
}

impl Card {
    /// Checks every field against `today` as (year, month), naming the field at fault.
    pub fn parse(
        holder: &str,
        number: &str,
        expiry: &str,
        cvc: &str,
        today: (i32, u32),
    ) -> Result<Card, FieldError> {
        let holder = holder.trim();
        if holder.is_empty()
            || holder.chars().count() > 128
            || super::text::has_control(holder, false)
        {
            return Err(FieldError::new("cardholder", Msg::ErrCardholder));
        }
        let digits: String = number
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if !(12..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new("card_number", Msg::ErrCardDigits));
        }
        if !luhn(&digits) {
            return Err(FieldError::new("card_number", Msg::ErrCardLuhn));
        }
        let (year, month) =
            parse_expiry(expiry).ok_or_else(|| FieldError::new("expiry", Msg::ErrExpiryFormat))?;
        if (year, month) < today {
            return Err(FieldError::new("expiry", Msg::ErrCardExpired));
        }
        let cvc = cvc.trim();
        if !(3..=4).contains(&cvc.len()) || !cvc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new("cvc", Msg::ErrCvc));
        }
        Ok(Card {
            holder: holder.to_owned(),
            brand: brand(&digits),
            last4: digits[digits.len() - 4..].to_owned(),
            number: digits,
        })
    }

    pub fn number(&self) -> &str {
        &self.number
    }
}

/// The Luhn checksum every card number carries.
pub fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum % 10 == 0
}

fn brand(digits: &str) -> &'static str {
    let prefix2: u32 = digits[..2].parse().unwrap_or(0);
    let prefix4: u32 = digits[..4].parse().unwrap_or(0);
    match () {
        _ if digits.starts_with('4') => "Visa",
        _ if (51..=55).contains(&prefix2) || (2221..=2720).contains(&prefix4) => "Mastercard",
        _ if prefix2 == 34 || prefix2 == 37 => "American Express",
        _ => "Card",
    }
}

/// `MM/YY` (or `MM/YYYY`) as (year, month).
fn parse_expiry(text: &str) -> Option<(i32, u32)> {
    let (month, year) = text.trim().split_once('/')?;
    let month: u32 = month.trim().parse().ok().filter(|m| (1..=12).contains(m))?;
    let year = year.trim();
    let year: i32 = match year.len() {
        2 => 2000 + year.parse::<i32>().ok()?,
        4 => year.parse().ok()?,
        _ => return None,
    };
    Some((year, month))
}

/// What the Demo provider answers for a card, like a real provider's test mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DemoOutcome {
    Approved,
    /// Declined, with the reason the customer is shown.
    Declined(Msg),
}

pub fn demo_outcome(card: &Card) -> DemoOutcome {
    match card.number() {
        "4000000000000002" => DemoOutcome::Declined(Msg::DemoDeclined),
        "4000000000009995" => DemoOutcome::Declined(Msg::DemoInsufficientFunds),
        _ => DemoOutcome::Approved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: (i32, u32) = (2026, 11);

    fn field(result: Result<Card, FieldError>) -> String {
        match result {
            Err(error) => error.field,
            Ok(card) => panic!("expected a validation error, got {card:?}"),
        }
    }

    #[test]
    fn the_luhn_check_accepts_test_cards_and_catches_typos() {
        for good in [
            "4242424242424242",
            "4000000000000002",
            "4000000000009995",
            "5555555555554444",
            "378282246310005",
        ] {
            assert!(luhn(good), "{good}");
        }
        for bad in ["4242424242424241", "1234567812345678", ""] {
            assert!(!luhn(bad), "{bad}");
        }
    }

    #[test]
    fn a_valid_card_keeps_only_brand_and_last_four_visible() {
        let card = Card::parse(" Ada ", "4242 4242 4242 4242", "12/27", "123", TODAY).unwrap();
        assert_eq!(
            (card.holder.as_str(), card.brand, card.last4.as_str()),
            ("Ada", "Visa", "4242")
        );
        assert_eq!(format!("{card:?}"), "Card(Visa •••• 4242)");
        assert_eq!(
            Card::parse("A", "5555555555554444", "01/2030", "1234", TODAY)
                .unwrap()
                .brand,
            "Mastercard"
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(
            field(Card::parse("", "4242424242424242", "12/27", "123", TODAY)),
            "cardholder"
        );
        assert_eq!(
            field(Card::parse("A", "4242", "12/27", "123", TODAY)),
            "card_number"
        );
        assert_eq!(
            field(Card::parse("A", "4242424242424241", "12/27", "123", TODAY)),
            "card_number"
        );
        assert_eq!(
            field(Card::parse("A", "4242x42424242424", "12/27", "123", TODAY)),
            "card_number"
        );
        assert_eq!(
            field(Card::parse("A", "4242424242424242", "13/27", "123", TODAY)),
            "expiry"
        );
        assert_eq!(
            field(Card::parse("A", "4242424242424242", "1227", "123", TODAY)),
            "expiry"
        );
        assert_eq!(
            field(Card::parse("A", "4242424242424242", "12/27", "12", TODAY)),
            "cvc"
        );
        assert_eq!(
            field(Card::parse(
                "A",
                "4242424242424242",
                "12/27",
                "12345",
                TODAY
            )),
            "cvc"
        );
        assert_eq!(
            field(Card::parse("A", "4242424242424242", "12/27", "12a", TODAY)),
            "cvc"
        );
    }

    #[test]
    fn the_expiry_must_not_be_in_the_past() {
        assert_eq!(
            field(Card::parse("A", "4242424242424242", "10/26", "123", TODAY)),
            "expiry"
        );
        assert!(Card::parse("A", "4242424242424242", "11/26", "123", TODAY).is_ok());
    }

    #[test]
    fn the_demo_provider_decides_by_test_card() {
        let card = |n: &str| Card::parse("A", n, "12/30", "123", TODAY).unwrap();
        assert_eq!(
            demo_outcome(&card("4242424242424242")),
            DemoOutcome::Approved
        );
        assert_eq!(
            demo_outcome(&card("4000000000000002")),
            DemoOutcome::Declined(Msg::DemoDeclined)
        );
        assert_eq!(
            demo_outcome(&card("4000 0000 0000 9995")),
            DemoOutcome::Declined(Msg::DemoInsufficientFunds)
        );
    }
}
