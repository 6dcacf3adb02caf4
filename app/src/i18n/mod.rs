//! Every user-visible string, looked up through one mechanism, and rendered at the edge.
//!
//! Messages are an enum, so a missing translation is a compile error rather than a blank
//! label. Each locale is one `match` arm of [`Msg::text`]. Templates name their placeholders
//! (`{max}`), so a translation may put them in any order.
//!
//! Code below the pages never builds user-visible strings: it returns a [`Msg`] with named
//! [`Arg`]s (see [`Text`] and `domain::FieldError`), and the page, mail or API answer that
//! shows it renders it in its reader's locale.

mod format;
mod table;

pub use format::{credits, number};
pub use table::Msg;

use serde::{Deserialize, Serialize};
use std::fmt;

/// A language the interface can be shown in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    En,
}

/// A value for a named placeholder. Kept typed until it is shown, so numbers and amounts
/// can be written the way the reader's locale writes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arg {
    /// Shown as is: names, numbers as typed, free text.
    Text(String),
    /// A count or a limit, written with plain digits ("1530 characters").
    Int(i64),
    /// An amount of credits in minor units (1/10,000); whole-number services show no decimals.
    Credits { minor: i64, whole: bool },
    /// Another message, shown in the same locale.
    Msg(Msg),
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::Text(value.to_owned())
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Text(value)
    }
}

impl From<&String> for Arg {
    fn from(value: &String) -> Self {
        Arg::Text(value.clone())
    }
}

impl From<Msg> for Arg {
    fn from(value: Msg) -> Self {
        Arg::Msg(value)
    }
}

macro_rules! int_args {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(value: $t) -> Self {
                Arg::Int(i64::try_from(value).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_args!(i64, i32, u32, u64, usize);

/// Named arguments, in the order they were given.
pub type Args = Vec<(String, Arg)>;

/// A message with its arguments: what code below the pages hands up instead of a string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub msg: Msg,
    pub args: Args,
}

impl Text {
    pub fn new(msg: Msg) -> Self {
        Text {
            msg,
            args: Vec::new(),
        }
    }

    /// Adds the value of the placeholder `{name}`.
    pub fn arg(mut self, name: &str, value: impl Into<Arg>) -> Self {
        self.args.push((name.to_owned(), value.into()));
        self
    }

    pub fn render(&self, locale: Locale) -> String {
        render(locale, self.msg, &self.args)
    }
}

impl From<Msg> for Text {
    fn from(msg: Msg) -> Self {
        Text::new(msg)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Locale::default()))
    }
}

/// The message in the current locale.
pub fn t(msg: Msg) -> &'static str {
    msg.text(Locale::default())
}

/// The message in the current locale with its placeholders filled.
pub fn tf(msg: Msg, args: &[(&str, Arg)]) -> String {
    let args: Vec<(String, Arg)> = args
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect();
    render(Locale::default(), msg, &args)
}

/// Fills `{name}` placeholders of `msg` in `locale`. A placeholder without a value is left
/// empty; a `{` that starts no placeholder is kept.
pub fn render(locale: Locale, msg: Msg, args: &[(String, Arg)]) -> String {
    let template = msg.text(locale);
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_name(&after[..close]) => {
                let name = &after[..close];
                if let Some((_, value)) = args.iter().find(|(n, _)| n == name) {
                    write_arg(&mut out, locale, value);
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_name(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

fn write_arg(out: &mut String, locale: Locale, value: &Arg) {
    match value {
        Arg::Text(text) => out.push_str(text),
        Arg::Int(n) => out.push_str(&n.to_string()),
        Arg::Credits { minor, whole } => out.push_str(&credits(locale, *minor, *whole)),
        Arg::Msg(msg) => out.push_str(msg.text(locale)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_english_message_is_non_empty() {
        for msg in Msg::ALL {
            assert!(!t(*msg).trim().is_empty(), "{msg:?} has no English text");
        }
    }

    #[test]
    fn placeholders_are_filled_by_name() {
        assert_eq!(
            tf(Msg::ErrTooLong, &[("max", 128.into())]),
            "At most 128 characters."
        );
        assert_eq!(
            tf(
                Msg::ContactChangedLog,
                &[
                    ("new", "2".into()),
                    ("field", "Phone".into()),
                    ("old", "1".into())
                ]
            ),
            "Phone changed from “1” to “2”"
        );
    }

    #[test]
    fn missing_arguments_leave_the_placeholder_empty() {
        assert_eq!(tf(Msg::RecordCount, &[]), " records");
    }

    #[test]
    fn every_placeholder_is_a_lowercase_name() {
        for msg in Msg::ALL {
            let text = t(*msg);
            let mut rest = text;
            while let Some(open) = rest.find('{') {
                let after = &rest[open + 1..];
                let close = after.find('}').unwrap_or(after.len());
                assert!(is_name(&after[..close]), "{msg:?}: {text}");
                rest = &after[close.min(after.len())..];
            }
        }
    }

    #[test]
    fn numbers_and_credits_are_grouped_and_trimmed() {
        assert_eq!(number(Locale::En, 1_234_567), "1,234,567");
        assert_eq!(number(Locale::En, -1_000), "-1,000");
        assert_eq!(credits(Locale::En, 10_005_000, false), "1,000.5");
        assert_eq!(credits(Locale::En, 35_000, true), "3");
        assert_eq!(credits(Locale::En, -5_000, false), "-0.5");
        assert_eq!(credits(Locale::En, -12_345_670_000, false), "-1,234,567");
    }

    #[test]
    fn a_text_renders_its_message_with_its_arguments() {
        let text = Text::new(Msg::ErrInsufficientCredits)
            .arg(
                "required",
                Arg::Credits {
                    minor: 25_000,
                    whole: false,
                },
            )
            .arg(
                "available",
                Arg::Credits {
                    minor: 10_000,
                    whole: false,
                },
            );
        assert_eq!(
            text.to_string(),
            "Insufficient credit to perform this service: 2.5 needed, 1 available."
        );
        assert_eq!(Text::from(Msg::Buy).to_string(), "Buy");
    }
}
