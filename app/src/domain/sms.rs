//! What an SMS costs: how many parts a text takes on the network, and the price of a part
//! in each destination country.
//!
//! Compiled into both the server and the browser, so the pop-up's live counter and the
//! amount the server holds come from the same code.

use crate::domain::FieldError;
use crate::domain::credits::Credits;
use crate::i18n::Msg;

/// The longest message iapd accepts, in characters: ten concatenated GSM-7 parts.
pub const MESSAGE_MAX_CHARS: usize = 1_530;

/// How the network encodes a message, which decides how much fits in one part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// The GSM 03.38 7-bit alphabet: 160 characters alone, 153 per concatenated part.
    Gsm7,
    /// UTF-16 (UCS-2 on the network): 70 units alone, 67 per concatenated part.
    Ucs2,
}

impl Encoding {
    /// The label Odoo shows next to the count.
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM7",
            Encoding::Ucs2 => "UNICODE",
        }
    }

    /// Units that fit in a message sent as one part.
    const fn single(self) -> usize {
        match self {
            Encoding::Gsm7 => 160,
            Encoding::Ucs2 => 70,
        }
    }

    /// Units per part once a message is split: the rest of each part carries the header
    /// that tells the phone how to join them.
    const fn per_part(self) -> usize {
        match self {
            Encoding::Gsm7 => 153,
            Encoding::Ucs2 => 67,
        }
    }
}

/// A message's size as the network counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segments {
    pub encoding: Encoding,
    /// Characters as the user sees them.
    pub characters: usize,
    /// Parts billed; 0 for an empty message.
    pub parts: i64,
}

/// The GSM 03.38 basic alphabet (without the escape code itself).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table: each of these is sent as an escape plus a code, so it counts twice.
const GSM7_EXTENSION: &str = "{}[]~^|\\€\u{c}";

/// Septets a character takes in GSM-7, or `None` when it needs UCS-2.
fn gsm7_units(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Counts `text` the way SMS networks do. A character is never split across two parts, so
/// a long message is packed part by part rather than divided.
pub fn count(text: &str) -> Segments {
    let gsm7: Option<Vec<usize>> = text.chars().map(gsm7_units).collect();
    let (encoding, units) = match gsm7 {
        Some(units) => (Encoding::Gsm7, units),
        None => (Encoding::Ucs2, text.chars().map(char::len_utf16).collect()),
    };
    let total: usize = units.iter().sum();
    let parts = if total == 0 {
        0
    } else if total <= encoding.single() {
        1
    } else {
        let mut parts = 1;
        let mut used = 0;
        for unit in units {
            if used + unit > encoding.per_part() {
                parts += 1;
                used = 0;
            }
            used += unit;
        }
        parts
    };
    Segments {
        encoding,
        characters: text.chars().count(),
        parts,
    }
}

/// The message's size, if it may be sent: not blank, and at most [`MESSAGE_MAX_CHARS`];
/// otherwise the error to show next to the Message field (`body`).
pub fn check_body(body: &str) -> Result<Segments, FieldError> {
    if body.trim().is_empty() {
        return Err(FieldError::new("body", Msg::ErrSmsEmpty));
    }
    if super::text::has_control(body, true) {
        return Err(FieldError::new("body", Msg::ErrControlChars));
    }
    let segments = count(body);
    if segments.characters > MESSAGE_MAX_CHARS {
        return Err(FieldError::new("body", Msg::ErrSmsTooLong).arg("max", MESSAGE_MAX_CHARS));
    }
    Ok(segments)
}

/// Whether `id` is an id Odoo gives an SMS (a uuid4 in hex): 32 lowercase hexadecimal
/// digits, as its `/sms/status` route checks them.
pub fn is_odoo_uuid(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A sender name as Odoo and SMS networks accept it: 3 to 11 letters and digits.
pub fn check_sender_name(name: &str) -> Result<&str, FieldError> {
    if (3..=11).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(name)
    } else {
        Err(FieldError::new("sender_name", Msg::ErrSmsSenderName))
    }
}

/// The price of one part sent to a country, in credit minor units; `None` where iapd does
/// not deliver. Countries not listed pay [`DEFAULT_PRICE`].
const PRICES: &[(&str, Option<i64>)] = &[
    ("AT", Some(1_300)),
    ("AU", Some(700)),
    ("BE", Some(1_200)),
    ("BR", Some(500)),
    ("CA", Some(300)),
    ("CH", Some(900)),
    ("CN", Some(600)),
    ("CU", None),
    ("DE", Some(1_100)),
    ("DK", Some(600)),
    ("ES", Some(900)),
    ("FR", Some(900)),
    ("GB", Some(500)),
    ("IE", Some(800)),
    ("IN", Some(300)),
    ("IR", None),
    ("IT", Some(900)),
    ("JP", Some(800)),
    ("KP", None),
    ("LU", Some(1_000)),
    ("MX", Some(600)),
    ("NL", Some(1_100)),
    ("NO", Some(700)),
    ("PL", Some(400)),
    ("PT", Some(500)),
    ("SE", Some(700)),
    ("SY", None),
    ("US", Some(200)),
];

/// What a part costs in a country missing from the table.
pub const DEFAULT_PRICE: i64 = 1_500;

/// The destination is one iapd does not deliver to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unsupported;

/// The price of one part to `country` (ISO 3166-1 alpha-2), in credit minor units.
pub fn price_per_part(country: &str) -> Result<i64, Unsupported> {
    match PRICES.iter().find(|(code, _)| *code == country) {
        Some((_, Some(price))) => Ok(*price),
        Some((_, None)) => Err(Unsupported),
        None => Ok(DEFAULT_PRICE),
    }
}

/// The cost of a message of `segments` at `price` per part.
pub fn cost(segments: Segments, price: i64) -> Credits {
    Credits::from_minor(segments.parts.saturating_mul(price))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odoo_ids_are_32_lowercase_hexadecimal_digits() {
        assert!(is_odoo_uuid("0123456789abcdef0123456789abcdef"));
        assert!(!is_odoo_uuid("0123456789ABCDEF0123456789abcdef"));
        assert!(!is_odoo_uuid("0123456789abcdef0123456789abcde"));
        assert!(!is_odoo_uuid("0123456789abcdef0123456789abcdeg"));
        assert!(!is_odoo_uuid("01234567-89ab-cdef-0123-456789abcdef"));
    }

    #[test]
    fn a_sender_name_has_3_to_11_letters_and_digits() {
        assert_eq!(check_sender_name("Odoo"), Ok("Odoo"));
        assert_eq!(check_sender_name("ABC"), Ok("ABC"));
        assert_eq!(check_sender_name("Shop2024abc"), Ok("Shop2024abc"));
        for bad in ["", "AB", "Shop2024abcd", "My Shop", "Café", "shop-1"] {
            assert_eq!(
                check_sender_name(bad).map_err(|e| e.field),
                Err("sender_name".to_owned()),
                "{bad}"
            );
        }
    }

    fn parts(text: &str) -> (Encoding, i64) {
        let s = count(text);
        (s.encoding, s.parts)
    }

    #[test]
    fn an_empty_message_is_zero_parts_and_costs_nothing() {
        assert_eq!(
            count(""),
            Segments {
                encoding: Encoding::Gsm7,
                characters: 0,
                parts: 0
            }
        );
        assert_eq!(cost(count(""), 1_200), Credits::ZERO);
    }

    #[test]
    fn gsm7_fits_160_in_one_part_and_153_per_part_after() {
        assert_eq!(parts(&"a".repeat(160)), (Encoding::Gsm7, 1));
        assert_eq!(parts(&"a".repeat(161)), (Encoding::Gsm7, 2));
        assert_eq!(parts(&"a".repeat(306)), (Encoding::Gsm7, 2));
        assert_eq!(parts(&"a".repeat(307)), (Encoding::Gsm7, 3));
    }

    #[test]
    fn ucs2_fits_70_in_one_part_and_67_per_part_after() {
        assert_eq!(parts(&"ж".repeat(70)), (Encoding::Ucs2, 1));
        assert_eq!(parts(&"ж".repeat(71)), (Encoding::Ucs2, 2));
        assert_eq!(parts(&"ж".repeat(134)), (Encoding::Ucs2, 2));
        assert_eq!(parts(&"ж".repeat(135)), (Encoding::Ucs2, 3));
    }

    #[test]
    fn extension_characters_count_twice_but_stay_gsm7() {
        for c in ['{', '}', '[', ']', '~', '^', '|', '\\', '€'] {
            assert_eq!(
                parts(&format!("{}{c}", "a".repeat(158))),
                (Encoding::Gsm7, 1)
            );
            assert_eq!(
                parts(&format!("{}{c}", "a".repeat(159))),
                (Encoding::Gsm7, 2)
            );
        }
        assert_eq!(count("€€").characters, 2);
    }

    #[test]
    fn an_extension_character_is_never_split_across_two_parts() {
        // 152 plain characters leave one septet in the first part; the euro needs two.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(10));
        assert_eq!(parts(&text), (Encoding::Gsm7, 2));
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(parts(&text), (Encoding::Gsm7, 3));
    }

    #[test]
    fn newlines_and_accented_letters_of_the_gsm_alphabet_count_once() {
        assert_eq!(parts("Bonjour\nà demain, Éric"), (Encoding::Gsm7, 1));
        assert_eq!(count(&"\n".repeat(160)).parts, 1);
        assert_eq!(count(&"\n".repeat(161)).parts, 2);
    }

    #[test]
    fn one_character_outside_gsm7_makes_the_whole_message_unicode() {
        let text = format!("{}ç", "a".repeat(69));
        assert_eq!(parts(&text), (Encoding::Ucs2, 1));
        let text = format!("{}ç", "a".repeat(70));
        assert_eq!(parts(&text), (Encoding::Ucs2, 2));
    }

    #[test]
    fn emoji_count_as_two_utf16_units() {
        assert_eq!(count("👋").characters, 1);
        assert_eq!(parts(&"👋".repeat(35)), (Encoding::Ucs2, 1));
        assert_eq!(parts(&format!("{}👋", "a".repeat(69))), (Encoding::Ucs2, 2));
        // 134 units, but an emoji cannot straddle two parts: 2 + 32×2 units, then 33×2
        // would be 68 > 67, so a third part is needed.
        assert_eq!(
            parts(&format!("aa{}", "👋".repeat(66))),
            (Encoding::Ucs2, 3)
        );
    }

    #[test]
    fn blank_and_overlong_messages_are_refused() {
        let empty = Err(FieldError::new("body", Msg::ErrSmsEmpty));
        assert_eq!(check_body(""), empty);
        assert_eq!(check_body(" \n "), empty);
        assert_eq!(
            check_body(&"a".repeat(MESSAGE_MAX_CHARS)).map(|s| s.parts),
            Ok(10)
        );
        assert_eq!(
            check_body(&"a".repeat(MESSAGE_MAX_CHARS + 1)),
            Err(FieldError::new("body", Msg::ErrSmsTooLong).arg("max", MESSAGE_MAX_CHARS))
        );
    }

    #[test]
    fn the_label_names_the_encoding() {
        assert_eq!(count("hello").encoding.label(), "GSM7");
        assert_eq!(count("hello 👋").encoding.label(), "UNICODE");
    }

    #[test]
    fn listed_countries_have_their_price_and_others_the_default() {
        assert_eq!(price_per_part("BE"), Ok(1_200));
        assert_eq!(price_per_part("US"), Ok(200));
        assert_eq!(price_per_part("ZA"), Ok(DEFAULT_PRICE));
        assert_eq!(price_per_part("KP"), Err(Unsupported));
    }

    #[test]
    fn the_cost_is_parts_times_the_price_per_part() {
        let long = count(&"a".repeat(172));
        assert_eq!(long.parts, 2);
        assert_eq!(cost(long, 1_200), Credits::from_minor(2_400));
        assert_eq!(cost(count("hi"), 200), Credits::from_minor(200));
    }

    #[test]
    fn the_table_is_sorted_without_duplicates() {
        assert!(PRICES.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
