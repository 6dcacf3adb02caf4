//! What every text a person or a caller types must be: trimmed, bounded, and free of
//! control characters (a NUL, an escape sequence or a C1 code has no meaning in a name, and
//! can corrupt logs, mails and terminals that show it). Multi-line texts (an SMS body, a
//! reason) may also hold line breaks and tabs.

use super::FieldError;
use crate::i18n::Msg;

/// Whether `text` holds a control character; with `lines`, tabs and line breaks are fine.
pub fn has_control(text: &str, lines: bool) -> bool {
    text.chars()
        .any(|c| c.is_control() && !(lines && matches!(c, '\t' | '\n' | '\r')))
}

/// A required one-line text of at most `max` characters, trimmed.
pub fn line(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    optional_line(field, value, max)?.ok_or_else(|| FieldError::new(field, Msg::ErrRequired))
}

/// An optional one-line text of at most `max` characters, trimmed; blank is `None`.
pub fn optional_line(field: &str, value: &str, max: usize) -> Result<Option<String>, FieldError> {
    checked(field, value, max, false)
}

/// An optional text that may span lines, of at most `max` characters, trimmed.
pub fn optional_lines(field: &str, value: &str, max: usize) -> Result<Option<String>, FieldError> {
    checked(field, value, max, true)
}

fn checked(
    field: &str,
    value: &str,
    max: usize,
    lines: bool,
) -> Result<Option<String>, FieldError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(FieldError::new(field, Msg::ErrTooLong).arg("max", max));
    }
    if has_control(value, lines) {
        return Err(FieldError::new(field, Msg::ErrControlChars));
    }
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(result: Result<impl std::fmt::Debug, FieldError>) -> Option<Msg> {
        result.err().map(|e| e.message)
    }

    #[test]
    fn a_line_is_trimmed_and_required() {
        assert_eq!(line("name", "  Ada  ", 10).unwrap(), "Ada");
        assert_eq!(refusal(line("name", "   ", 10)), Some(Msg::ErrRequired));
        assert_eq!(optional_line("name", " ", 10).unwrap(), None);
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        assert!(line("name", "短信短信短信", 6).is_ok());
        assert_eq!(
            refusal(line("name", "短信短信短信短", 6)),
            Some(Msg::ErrTooLong)
        );
    }

    #[test]
    fn control_characters_are_refused_and_line_breaks_only_where_lines_are_allowed() {
        for bad in [
            "a\u{0}b",
            "a\u{1b}[2Jb",
            "a\u{7f}b",
            "a\u{85}b",
            "a\nb",
            "a\tb",
        ] {
            assert_eq!(
                refusal(line("name", bad, 50)),
                Some(Msg::ErrControlChars),
                "{bad:?}"
            );
        }
        assert_eq!(
            optional_lines("body", "two\nlines\tand a tab", 50).unwrap(),
            Some("two\nlines\tand a tab".into())
        );
        assert_eq!(
            refusal(optional_lines("body", "bell\u{7}", 50)),
            Some(Msg::ErrControlChars)
        );
    }

    #[test]
    fn accents_and_other_scripts_are_ordinary_text() {
        assert!(line("name", "Zoë Ürümqi 张伟 ☎", 50).is_ok());
    }
}

/// `value` escaped for a URL's query string: unreserved characters as they are, every other
/// byte of its UTF-8 as `%XX`.
pub fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod query_tests {
    #[test]
    fn query_values_escape_everything_but_unreserved_characters() {
        assert_eq!(super::query_escape("a-b_c.d~1"), "a-b_c.d~1");
        assert_eq!(
            super::query_escape("SMS to +32&x=1"),
            "SMS%20to%20%2B32%26x%3D1"
        );
        assert_eq!(super::query_escape("短"), "%E7%9F%AD");
    }
}
