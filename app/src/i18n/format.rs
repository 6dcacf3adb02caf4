//! Numbers and credits as each locale writes them. Integer arithmetic only: amounts arrive
//! in minor units and leave as text.
//!
//! | | English | French | Chinese (zh-CN) |
//! |---|---|---|---|
//! | number | `1,000.5` | `1 000,5` (U+202F, comma) | `1,000.5` |

use super::Locale;

/// Credits have 4 decimals: 10,000 minor units make one credit.
const CREDIT_SCALE: u64 = 10_000;

/// An amount of credits as `locale` writes it: thousands grouped, up to 4 decimals without
/// trailing zeros, none for whole-number services (truncated towards zero).
pub fn credits(locale: Locale, minor: i64, whole: bool) -> String {
    let abs = minor.unsigned_abs();
    let (int, frac) = (abs / CREDIT_SCALE, abs % CREDIT_SCALE);
    let shows_fraction = !whole && frac != 0;
    let sign = if minor < 0 && (int != 0 || shows_fraction) {
        "-"
    } else {
        ""
    };
    let mut text = format!("{sign}{}", grouped(locale, u128::from(int)));
    if shows_fraction {
        let digits = format!("{frac:04}");
        text.push_str(decimal_mark(locale));
        text.push_str(digits.trim_end_matches('0'));
    }
    text
}

/// An integer as `locale` writes it, thousands grouped.
pub fn number(locale: Locale, n: i128) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", grouped(locale, n.unsigned_abs()))
}

/// The digits of `n` in groups of three, joined by the locale's separator.
fn grouped(locale: Locale, n: u128) -> String {
    let digits = n.to_string();
    let sep = group_separator(locale);
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * sep.len());
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

/// French groups with a narrow no-break space (U+202F), as CLDR and the Imprimerie
/// nationale do, so a number never breaks across lines.
const fn group_separator(locale: Locale) -> &'static str {
    match locale {
        Locale::En | Locale::ZhCn => ",",
        Locale::Fr => "\u{202f}",
    }
}

const fn decimal_mark(locale: Locale) -> &'static str {
    match locale {
        Locale::En | Locale::ZhCn => ".",
        Locale::Fr => ",",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Locale::{En, Fr, ZhCn};

    #[test]
    fn numbers_are_grouped_by_thousands_in_each_locale() {
        assert_eq!(number(En, 1_234_567), "1,234,567");
        assert_eq!(number(Fr, 1_234_567), "1\u{202f}234\u{202f}567");
        assert_eq!(number(ZhCn, 1_234_567), "1,234,567");
        assert_eq!(number(En, -1_000), "-1,000");
        assert_eq!(number(Fr, -1_000), "-1\u{202f}000");
        assert_eq!(number(Fr, 999), "999");
        assert_eq!(number(En, 0), "0");
        assert_eq!(
            number(En, i128::MIN),
            "-170,141,183,460,469,231,731,687,303,715,884,105,728"
        );
    }

    #[test]
    fn credits_show_up_to_four_decimals_without_trailing_zeros() {
        assert_eq!(credits(En, 10_005_000, false), "1,000.5");
        assert_eq!(credits(Fr, 10_005_000, false), "1\u{202f}000,5");
        assert_eq!(credits(ZhCn, 10_005_000, false), "1,000.5");
        assert_eq!(credits(En, 12_345, false), "1.2345");
        assert_eq!(credits(Fr, 12_345, false), "1,2345");
        assert_eq!(credits(En, 1, false), "0.0001");
        assert_eq!(credits(En, 1_200, false), "0.12");
        assert_eq!(credits(Fr, 0, false), "0");
    }

    #[test]
    fn negative_credits_keep_their_sign() {
        assert_eq!(credits(En, -5_000, false), "-0.5");
        assert_eq!(credits(Fr, -5_000, false), "-0,5");
        assert_eq!(credits(En, -12_345_670_000, false), "-1,234,567");
        assert_eq!(
            credits(Fr, -12_345_675_000, false),
            "-1\u{202f}234\u{202f}567,5"
        );
        assert_eq!(credits(En, i64::MIN, false), "-922,337,203,685,477.5808");
    }

    #[test]
    fn whole_number_services_show_no_decimals() {
        assert_eq!(credits(En, 35_000, true), "3");
        assert_eq!(credits(Fr, 12_345_675_000, true), "1\u{202f}234\u{202f}567");
        assert_eq!(credits(En, -35_000, true), "-3");
        assert_eq!(credits(En, -5_000, true), "0");
    }
}
