//! The locale an HTTP `Accept-Language` header (RFC 9110 §12.5.4) asks for.
//!
//! The header comes from anyone, so reading it never fails and its cost is bounded: only
//! the first [`MAX_RANGES`] language ranges count, and a range that is not understood is
//! skipped.

use super::Locale;

/// Browsers send a handful of ranges; a longer list is cut rather than read to its end.
const MAX_RANGES: usize = 32;

/// A q-value in thousandths (`q=0.8` is 800); a range without one has 1000.
type Quality = u16;

/// The supported locale the reader prefers, by q-value and then by the order the header
/// lists them; `*` stands for every locale the header does not name. Without a header, or
/// when nothing acceptable is supported, English.
pub fn negotiate(accept_language: Option<&str>) -> Locale {
    let Some(header) = accept_language else {
        return Locale::default();
    };
    // Per locale, the best q-value of the ranges naming it and where the first one stood.
    let mut named: [Option<(Quality, usize)>; Locale::ALL.len()] = [None; Locale::ALL.len()];
    let mut wildcard: Option<Quality> = None;
    for (position, range) in header.split(',').take(MAX_RANGES).enumerate() {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let Some(quality) = quality(parts) else {
            continue;
        };
        if tag == "*" {
            wildcard = wildcard.max(Some(quality));
        } else if let Some(locale) = Locale::parse(tag) {
            let slot = &mut named[index(locale)];
            *slot = match *slot {
                Some((best, first)) => Some((best.max(quality), first)),
                None => Some((quality, position)),
            };
        }
    }
    let mut best: Option<(Quality, usize, Locale)> = None;
    for locale in Locale::ALL {
        // A locale only the wildcard accepts ranks after the named ones of equal q-value,
        // and among those, in the order of `Locale::ALL` (English first).
        let Some((quality, position)) = named[index(locale)].or(wildcard.map(|q| (q, usize::MAX)))
        else {
            continue;
        };
        let better = match best {
            None => true,
            Some((q, p, _)) => quality > q || (quality == q && position < p),
        };
        if quality > 0 && better {
            best = Some((quality, position, locale));
        }
    }
    best.map_or(Locale::default(), |(_, _, locale)| locale)
}

const fn index(locale: Locale) -> usize {
    match locale {
        Locale::En => 0,
        Locale::Fr => 1,
        Locale::ZhCn => 2,
    }
}

/// The q-value among a range's parameters: 1 without one, `None` when it is malformed.
fn quality<'a>(params: impl Iterator<Item = &'a str>) -> Option<Quality> {
    let mut quality = 1_000;
    for param in params.take(4) {
        let (name, value) = param.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("q") {
            quality = parse_q(value.trim())?;
        }
    }
    Some(quality)
}

/// `0`, `0.5`, `0.125`, `1`, `1.000`: at most 3 decimals, never above 1.
fn parse_q(value: &str) -> Option<Quality> {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0, |acc, b| acc * 10 + Quality::from(b - b'0'));
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1_000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Locale::{En, Fr, ZhCn};

    fn pick(header: &str) -> Locale {
        negotiate(Some(header))
    }

    #[test]
    fn no_header_means_english() {
        assert_eq!(negotiate(None), En);
        assert_eq!(pick(""), En);
    }

    #[test]
    fn the_highest_q_value_wins() {
        assert_eq!(pick("fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5"), Fr);
        assert_eq!(pick("en;q=0.8, zh-CN;q=0.9"), ZhCn);
        assert_eq!(pick("de-DE, de;q=0.9, fr;q=0.3, en;q=0.2"), Fr);
        assert_eq!(pick("fr;q=0.5, zh;q=0.501"), ZhCn);
    }

    #[test]
    fn equal_q_values_keep_the_order_of_the_header() {
        assert_eq!(pick("zh, fr, en"), ZhCn);
        assert_eq!(pick("fr;q=0.5, en;q=0.5"), Fr);
        assert_eq!(pick("en-GB, fr-FR"), En);
    }

    #[test]
    fn a_region_or_script_still_finds_its_language() {
        assert_eq!(pick("fr-BE"), Fr);
        assert_eq!(pick("zh-Hans-CN"), ZhCn);
        assert_eq!(pick("zh_CN"), ZhCn);
    }

    #[test]
    fn case_does_not_matter() {
        assert_eq!(pick("FR-ch"), Fr);
        assert_eq!(pick("ZH-cn;Q=0.9, EN;q=0.1"), ZhCn);
    }

    #[test]
    fn traditional_chinese_is_not_taken_for_simplified() {
        assert_eq!(pick("zh-TW"), En);
        assert_eq!(pick("zh-TW, zh;q=0.9, en;q=0.8"), ZhCn);
    }

    #[test]
    fn unsupported_languages_fall_back_to_english() {
        assert_eq!(pick("de"), En);
        assert_eq!(pick("de, ja;q=0.5"), En);
    }

    #[test]
    fn the_wildcard_stands_for_the_locales_not_named() {
        assert_eq!(pick("de, *;q=0.5"), En);
        assert_eq!(pick("*"), En);
        assert_eq!(pick("en;q=0, *"), Fr);
        assert_eq!(pick("en;q=0, fr;q=0, *;q=0.1"), ZhCn);
        assert_eq!(pick("de, *;q=0.5, zh;q=0.6"), ZhCn);
    }

    #[test]
    fn q_zero_refuses_a_language() {
        assert_eq!(pick("fr;q=0, zh;q=0.1"), ZhCn);
        assert_eq!(pick("fr;q=0"), En);
        assert_eq!(pick("*;q=0"), En);
        assert_eq!(pick("en;q=0, fr;q=0, zh;q=0"), En);
    }

    #[test]
    fn malformed_ranges_are_skipped() {
        assert_eq!(pick("fr;q=2, zh;q=0.5"), ZhCn);
        assert_eq!(pick("fr;q=abc, zh;q=0.5"), ZhCn);
        assert_eq!(pick("fr;q=0.1234, zh;q=0.5"), ZhCn);
        assert_eq!(pick("fr;q=-1, zh;q=0.5"), ZhCn);
        assert_eq!(pick("fr;q, zh;q=0.5"), ZhCn);
        assert_eq!(pick("fr;level=1, en;q=0.5"), Fr);
        assert_eq!(pick("fr ; q = 0.7 , en;q=0.5"), Fr);
    }

    #[test]
    fn garbage_never_panics_and_means_english() {
        for header in [
            ",,,",
            ";;;",
            "q=1",
            "=",
            ";q=1",
            "*;",
            "fr-",
            "\u{0}",
            "é;q=0.5",
            "🦀, 中文",
            "fr;q=1.",
            "fr;q=.5",
            "fr;q=",
            "zh-\u{301}",
        ] {
            let _ = pick(header);
        }
        assert_eq!(pick(",,, ;q=1, 🦀"), En);
    }

    #[test]
    fn a_huge_header_is_read_only_up_to_its_first_ranges() {
        let noise = "xx-YY;q=0.1, ".repeat(800);
        assert!(noise.len() > 10_000);
        assert_eq!(pick(&format!("{noise}fr")), En);
        assert_eq!(pick(&format!("fr;q=0.5, {noise}")), Fr);
        let long_tag = format!("fr-{}", "a".repeat(10_000));
        assert_eq!(pick(&long_tag), En);
        let many_params = format!("fr{}", ";a=b".repeat(3_000));
        assert_eq!(pick(&many_params), Fr);
    }

    #[test]
    fn q_values_are_read_as_thousandths() {
        assert_eq!(parse_q("1"), Some(1_000));
        assert_eq!(parse_q("1.000"), Some(1_000));
        assert_eq!(parse_q("0.8"), Some(800));
        assert_eq!(parse_q("0.125"), Some(125));
        assert_eq!(parse_q("0"), Some(0));
        assert_eq!(parse_q("1.001"), None);
        assert_eq!(parse_q("00.5"), None);
        assert_eq!(parse_q(""), None);
    }
}
