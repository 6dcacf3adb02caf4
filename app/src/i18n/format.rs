//! Numbers, credits, money and dates as each locale writes them. Integer arithmetic only:
//! amounts arrive in minor units and leave as text.
//!
//! | | English | French | Chinese (zh-CN) |
//! |---|---|---|---|
//! | number | `1,000.5` | `1 000,5` (U+202F, comma) | `1,000.5` |
//! | money | `€90.00` | `90,00 €` (U+00A0) | `€90.00` |
//! | date and time (UTC) | `2026-12-01 15:04` | `01/12/2026 15:04` | `2026-12-01 15:04` |
//!
//! Chinese dates use the ISO order rather than `2026年12月1日`: it is how Chinese business
//! software shows a timestamp in a table, keeps every row the same width, and sorts as text.

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

/// An amount of money in cents of `currency` (an ISO 4217 code, e.g. "EUR"), as `locale`
/// writes prices: `€90.00`, `90,00 €`.
pub fn money(locale: Locale, cents: i64, currency: &str) -> String {
    money_with_decimals(locale, cents, 2, currency)
}

/// An amount of money in units of 10^-`decimals` of `currency`, all decimals shown: for
/// prices finer than a cent, such as a price per credit in thousandths (`€0.090`).
pub fn money_with_decimals(locale: Locale, minor: i64, decimals: u32, currency: &str) -> String {
    let decimals = decimals.min(18);
    let scale = 10_u128.pow(decimals);
    let abs = u128::from(minor.unsigned_abs());
    let mut amount = grouped(locale, abs / scale);
    if decimals > 0 {
        amount.push_str(decimal_mark(locale));
        amount.push_str(&format!(
            "{:0width$}",
            abs % scale,
            width = decimals as usize
        ));
    }
    let sign = if minor < 0 { "-" } else { "" };
    let symbol = currency_symbol(locale, currency);
    match locale {
        Locale::Fr => format!("{sign}{amount}\u{a0}{symbol}"),
        Locale::En | Locale::ZhCn => {
            // A letter symbol ("CHF", "US$") is kept apart from the digits.
            let gap = if symbol.ends_with(|c: char| c.is_alphabetic()) {
                "\u{a0}"
            } else {
                ""
            };
            format!("{sign}{symbol}{gap}{amount}")
        }
    }
}

/// The symbol `locale` writes for a currency, after CLDR; the code itself for the others.
fn currency_symbol(locale: Locale, currency: &str) -> &str {
    match (currency, locale) {
        ("EUR", _) => "€",
        ("USD", Locale::En) => "$",
        ("USD", Locale::Fr) => "$US",
        ("USD", Locale::ZhCn) => "US$",
        ("GBP", Locale::Fr) => "£GB",
        ("GBP", _) => "£",
        ("CNY", Locale::En) => "CN¥",
        ("CNY", Locale::ZhCn) => "¥",
        (code, _) => code,
    }
}

/// A moment (Unix milliseconds) as `locale` writes a date and time, in UTC, to the minute.
pub fn date_time(locale: Locale, unix_ms: i64) -> String {
    let days = unix_ms.div_euclid(DAY_MS);
    let minutes = unix_ms.rem_euclid(DAY_MS) / 60_000;
    let (y, mo, d) = civil_from_days(days);
    let (h, mi) = (minutes / 60, minutes % 60);
    match locale {
        Locale::En | Locale::ZhCn => format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}"),
        Locale::Fr => format!("{d:02}/{mo:02}/{y:04} {h:02}:{mi:02}"),
    }
}

const DAY_MS: i64 = 86_400_000;

/// Howard Hinnant's civil-from-days: (year, month, day) of a day count since 1970-01-01.
/// The same calendar as `domain::time`, repeated because i18n sits below the domain.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
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

    #[test]
    fn money_puts_the_symbol_where_the_locale_does() {
        assert_eq!(money(En, 9_000, "EUR"), "€90.00");
        assert_eq!(money(Fr, 9_000, "EUR"), "90,00\u{a0}€");
        assert_eq!(money(ZhCn, 9_000, "EUR"), "€90.00");
        assert_eq!(money(En, 123_456_705, "USD"), "$1,234,567.05");
        assert_eq!(
            money(Fr, 123_456_705, "USD"),
            "1\u{202f}234\u{202f}567,05\u{a0}$US"
        );
        assert_eq!(money(ZhCn, 1_050, "CNY"), "¥10.50");
        assert_eq!(money(En, 1_050, "CHF"), "CHF\u{a0}10.50");
        assert_eq!(money(Fr, 1_050, "CHF"), "10,50\u{a0}CHF");
        assert_eq!(money(En, -5, "EUR"), "-€0.05");
        assert_eq!(money(Fr, -5, "EUR"), "-0,05\u{a0}€");
    }

    #[test]
    fn money_can_show_fractions_of_a_cent() {
        assert_eq!(money_with_decimals(En, 90, 3, "EUR"), "€0.090");
        assert_eq!(money_with_decimals(Fr, 90, 3, "EUR"), "0,090\u{a0}€");
        assert_eq!(money_with_decimals(En, 12, 0, "EUR"), "€12");
        assert!(money_with_decimals(En, i64::MAX, u32::MAX, "EUR").starts_with("€9.2"));
    }

    #[test]
    fn dates_are_shown_in_utc_to_the_minute() {
        // 2026-12-01 15:04:59.999 UTC
        let ms = 1_796_137_499_999;
        assert_eq!(date_time(En, ms), "2026-12-01 15:04");
        assert_eq!(date_time(Fr, ms), "01/12/2026 15:04");
        assert_eq!(date_time(ZhCn, ms), "2026-12-01 15:04");
        assert_eq!(date_time(En, 0), "1970-01-01 00:00");
        assert_eq!(date_time(Fr, 951_782_400_000), "29/02/2000 00:00");
        assert_eq!(date_time(En, -1), "1969-12-31 23:59");
    }

    #[test]
    fn dates_never_panic_at_the_ends_of_time() {
        for ms in [i64::MIN, i64::MAX] {
            for locale in Locale::ALL {
                assert!(!date_time(locale, ms).is_empty());
            }
        }
    }
}
