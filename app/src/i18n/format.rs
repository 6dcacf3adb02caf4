//! Numbers and amounts as each locale writes them.

use super::Locale;

/// An amount of credits as `locale` writes it: thousands grouped, up to 4 decimals without
/// trailing zeros, none for whole-number services (truncated towards zero).
pub fn credits(locale: Locale, minor: i64, whole: bool) -> String {
    let scale = 10_000_i128;
    let value = i128::from(minor);
    let (int, frac) = (value / scale, (value % scale).abs());
    let sign = if value < 0 && (int == 0) && !whole && frac != 0 {
        "-"
    } else {
        ""
    };
    let mut text = format!("{sign}{}", number(locale, int));
    if !whole && frac != 0 {
        let digits = format!("{frac:04}");
        text.push_str(decimal_mark(locale));
        text.push_str(digits.trim_end_matches('0'));
    }
    text
}

/// An integer as `locale` writes it, thousands grouped.
pub fn number(locale: Locale, n: i128) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = group_separator(locale);
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * sep.len() + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

const fn group_separator(locale: Locale) -> &'static str {
    match locale {
        Locale::En => ",",
    }
}

const fn decimal_mark(locale: Locale) -> &'static str {
    match locale {
        Locale::En => ".",
    }
}
