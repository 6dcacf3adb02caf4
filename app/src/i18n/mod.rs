//! Every user-visible string, looked up through one mechanism, and rendered at the edge.
//!
//! Messages are an enum, so a missing translation is a compile error rather than a blank
//! label. Templates name their placeholders (`{max}`), so a translation may put them in any
//! order, and a word that agrees with a number names it with its forms
//! (`{count:record|records}`), chosen by the locale's plural rule.
//!
//! Code below the pages never builds user-visible strings: it returns a [`Msg`] with named
//! [`Arg`]s (see [`Text`] and `domain::FieldError`), and the page, mail or API answer that
//! shows it renders it in its reader's locale.
//!
//! # Layout
//! - this module: [`Locale`], [`Arg`], [`Text`], [`Note`] (stored history) and [`render`],
//!   which fills a template.
//! - `table`: the message table, one entry per key with its English, French and Chinese text.
//! - `catalogue`: keys for catalogue data the database stores in English (services, units,
//!   packs, hosting types, countries), looked up by their stored value.
//! - `format`: numbers, credits, money and dates as each locale writes them.
//! - `negotiate`: the locale an HTTP `Accept-Language` header asks for.

mod catalogue;
mod format;
mod negotiate;
mod table;

pub use catalogue::{
    country_text, hosting_text, pack_text, service_text, unit_amount_text, unit_text,
};
pub use format::{credits, date_time, money, money_with_decimals, number};
pub use negotiate::negotiate;
pub use table::Msg;

use serde::{Deserialize, Serialize};
use std::fmt;

/// A language the interface can be shown in. Serialized as its [`code`](Locale::code), so a
/// cookie or a column holds "en", "fr" or "zh-CN".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "fr")]
    Fr,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

/// The longest language tag [`Locale::parse`] looks at; real tags are far shorter.
const MAX_TAG_LEN: usize = 64;

impl Locale {
    /// Every locale, in the order a language switcher lists them.
    pub const ALL: [Locale; 3] = [Locale::En, Locale::Fr, Locale::ZhCn];

    /// The BCP 47 tag, for `<html lang>`, cookies and storage.
    pub const fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Fr => "fr",
            Locale::ZhCn => "zh-CN",
        }
    }

    /// The language's name in itself, so a reader finds their language in a switcher
    /// whatever the current one is.
    pub const fn name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::Fr => "Français",
            Locale::ZhCn => "简体中文",
        }
    }

    /// The locale a language tag asks for: any region of English or French ("fr-BE"), and
    /// Chinese unless the tag names Traditional script or a region that writes it ("zh",
    /// "zh-CN", "zh-Hans", "zh_SG"; not "zh-TW" or "zh-Hant"). Case and `_` or `-` do not
    /// matter; a malformed tag is `None`.
    pub fn parse(tag: &str) -> Option<Locale> {
        let tag = tag.trim();
        if tag.is_empty() || tag.len() > MAX_TAG_LEN {
            return None;
        }
        let well_formed = tag
            .split(['-', '_'])
            .all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !well_formed {
            return None;
        }
        let mut subtags = tag.split(['-', '_']);
        let language = subtags.next()?;
        if language.eq_ignore_ascii_case("en") {
            Some(Locale::En)
        } else if language.eq_ignore_ascii_case("fr") {
            Some(Locale::Fr)
        } else if language.eq_ignore_ascii_case("zh") {
            let subtags: Vec<&str> = subtags.collect();
            let has = |wanted: &str| subtags.iter().any(|s| s.eq_ignore_ascii_case(wanted));
            let traditional = ["hant", "tw", "hk", "mo"].into_iter().any(has);
            (has("hans") || !traditional).then_some(Locale::ZhCn)
        } else {
            None
        }
    }

    /// The CLDR cardinal plural category of a number, from its integer digits and whether
    /// it shows a fraction: English "1 credit" but "1.5 credits", French "1,5 crédit" and
    /// "0 crédit" (0 ≤ n < 2), Chinese never inflects.
    const fn plural(self, integer: u64, fraction: bool) -> Plural {
        let one = match self {
            Locale::En => integer == 1 && !fraction,
            Locale::Fr => integer <= 1,
            Locale::ZhCn => false,
        };
        if one { Plural::One } else { Plural::Other }
    }
}

/// The plural categories iapd's languages need: `{name:one|other}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plural {
    One,
    Other,
}

/// A value for a named placeholder. Kept typed until it is shown, so numbers and amounts
/// can be written the way the reader's locale writes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arg {
    /// Shown as is: names, numbers as typed, free text. Takes the "other" plural form.
    Text(String),
    /// A count or a limit, written with plain digits ("1530 characters").
    Int(i64),
    /// An amount of credits in minor units (1/10,000); whole-number services show no decimals.
    Credits { minor: i64, whole: bool },
    /// Another message, shown in the same locale. Takes the "other" plural form.
    Msg(Msg),
}

impl Arg {
    /// The plural category of the value as `locale` shows it.
    fn plural(&self, locale: Locale) -> Plural {
        match self {
            Arg::Int(n) => locale.plural(n.unsigned_abs(), false),
            Arg::Credits { minor, whole } => {
                let abs = minor.unsigned_abs();
                locale.plural(abs / 10_000, !whole && abs % 10_000 != 0)
            }
            Arg::Text(_) | Arg::Msg(_) => Plural::Other,
        }
    }
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

    /// The message in `locale`, arguments and nested messages included.
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
    /// In English: for logs, and for callers not yet given the reader's locale.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Locale::default()))
    }
}

/// A line of stored history: a ledger entry's description, a chatter line. What a person
/// or a calling service typed stays as typed; what iapd wrote is kept as its message and
/// arguments, so two people reading the same history each see it in their own language.
///
/// The database keeps both forms of iapd's lines: the English text in the description or
/// body column (what API callers, logs and the CLI read, and the fallback should a stored
/// message no longer parse), and the message in a `note` column (see [`Note::stored`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Note {
    Typed(String),
    Said(Text),
}

impl Note {
    /// The line in `locale`: typed text as typed, a message translated.
    pub fn render(&self, locale: Locale) -> String {
        match self {
            Note::Typed(text) => text.clone(),
            Note::Said(text) => text.render(locale),
        }
    }

    /// The line as the description or body column keeps it: typed text, or the message in
    /// English.
    pub fn plain(&self) -> String {
        self.render(Locale::En)
    }

    /// The message as the `note` column keeps it (JSON); `None` for typed text.
    #[cfg(feature = "ssr")]
    pub fn stored(&self) -> Option<String> {
        match self {
            Note::Typed(_) => None,
            Note::Said(text) => serde_json::to_string(text).ok(),
        }
    }

    /// The line from its two columns: the message when `note` holds one this build knows,
    /// else the plain text.
    #[cfg(feature = "ssr")]
    pub fn from_stored(plain: String, note: Option<&str>) -> Note {
        note.and_then(|json| serde_json::from_str(json).ok())
            .map_or(Note::Typed(plain), Note::Said)
    }
}

impl From<Text> for Note {
    fn from(text: Text) -> Self {
        Note::Said(text)
    }
}

impl From<Msg> for Note {
    fn from(msg: Msg) -> Self {
        Note::Said(Text::new(msg))
    }
}

impl From<&str> for Note {
    fn from(typed: &str) -> Self {
        Note::Typed(typed.to_owned())
    }
}

impl From<String> for Note {
    fn from(typed: String) -> Self {
        Note::Typed(typed)
    }
}

impl Default for Note {
    fn default() -> Self {
        Note::Typed(String::new())
    }
}

/// The message in English, for callers not yet given the reader's locale.
pub fn t(msg: Msg) -> &'static str {
    tl(Locale::default(), msg)
}

/// The message in English with its placeholders filled.
pub fn tf(msg: Msg, args: &[(&str, Arg)]) -> String {
    tfl(Locale::default(), msg, args)
}

/// The message in `locale`; for labels, which have no placeholders.
pub fn tl(locale: Locale, msg: Msg) -> &'static str {
    msg.text(locale)
}

/// The message in `locale` with its placeholders filled.
pub fn tfl(locale: Locale, msg: Msg, args: &[(&str, Arg)]) -> String {
    fill(locale, msg, args)
}

/// Fills the placeholders of `msg` in `locale`: `{name}` with the argument written as the
/// locale writes it, `{name:one|other}` with the form the argument's number takes. A
/// placeholder without a value is left empty (a plural takes its "other" form); a `{` that
/// starts no placeholder is kept.
pub fn render(locale: Locale, msg: Msg, args: &[(String, Arg)]) -> String {
    fill(locale, msg, args)
}

fn fill<N: AsRef<str>>(locale: Locale, msg: Msg, args: &[(N, Arg)]) -> String {
    let template = msg.text(locale);
    let value = |name: &str| {
        args.iter()
            .find(|(n, _)| n.as_ref() == name)
            .map(|(_, value)| value)
    };
    let mut out = String::with_capacity(template.len() + 16);
    for segment in segments(template) {
        match segment {
            Segment::Literal(text) => out.push_str(text),
            Segment::Value(name) => {
                if let Some(value) = value(name) {
                    write_arg(&mut out, locale, value);
                }
            }
            Segment::Plural { name, forms } => {
                let plural = value(name).map_or(Plural::Other, |v| v.plural(locale));
                let mut forms = forms.split('|');
                let form = match plural {
                    Plural::One => forms.next(),
                    Plural::Other => forms.next_back(),
                };
                out.push_str(form.unwrap_or_default());
            }
        }
    }
    out
}

fn write_arg(out: &mut String, locale: Locale, value: &Arg) {
    match value {
        Arg::Text(text) => out.push_str(text),
        Arg::Int(n) => out.push_str(&n.to_string()),
        Arg::Credits { minor, whole } => out.push_str(&credits(locale, *minor, *whole)),
        Arg::Msg(msg) => out.push_str(msg.text(locale)),
    }
}

/// A piece of a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Segment<'a> {
    Literal(&'a str),
    /// `{name}`
    Value(&'a str),
    /// `{name:one|other}`
    Plural {
        name: &'a str,
        forms: &'a str,
    },
}

/// The pieces of a template, in order. The one parser of the placeholder syntax, shared by
/// rendering and the table's tests.
fn segments(template: &str) -> impl Iterator<Item = Segment<'_>> {
    let mut rest = template;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut from = 0;
        while let Some(offset) = rest[from..].find('{') {
            let open = from + offset;
            if let Some((placeholder, len)) = placeholder(&rest[open..]) {
                if open > 0 {
                    let literal = &rest[..open];
                    rest = &rest[open..];
                    return Some(Segment::Literal(literal));
                }
                rest = &rest[len..];
                return Some(placeholder);
            }
            from = open + 1;
        }
        let literal = rest;
        rest = "";
        Some(Segment::Literal(literal))
    })
}

/// The placeholder `text` starts with, and its length, if `text` starts with one.
fn placeholder(text: &str) -> Option<(Segment<'_>, usize)> {
    let close = text.find('}')?;
    let body = text.get(1..close)?;
    let segment = match body.split_once(':') {
        None => is_name(body).then_some(Segment::Value(body))?,
        Some((name, forms)) => {
            (is_name(name) && !forms.contains('{')).then_some(Segment::Plural { name, forms })?
        }
    };
    Some((segment, close + 1))
}

fn is_name(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credits_arg(minor: i64) -> Arg {
        Arg::Credits {
            minor,
            whole: false,
        }
    }

    #[test]
    fn a_note_keeps_typed_text_as_typed_and_iapds_lines_as_messages() {
        let typed = Note::from("geste commercial");
        assert_eq!(typed.render(Locale::ZhCn), "geste commercial");
        assert_eq!(typed.stored(), None);

        let said = Note::from(
            Text::new(Msg::ContactChangedLog)
                .arg("field", Msg::ColName)
                .arg("old", "Ada")
                .arg("new", "Ada King"),
        );
        assert_eq!(said.plain(), "Name changed from “Ada” to “Ada King”");
        assert_eq!(
            said.render(Locale::Fr),
            "Nom\u{a0}: «\u{a0}Ada\u{a0}» devient «\u{a0}Ada King\u{a0}»"
        );
        // Stored and read back, it is the same message, for every reader's language.
        let stored = said.stored().expect("a message is stored");
        assert_eq!(Note::from_stored(said.plain(), Some(&stored)), said);
        assert_eq!(
            Note::from_stored("as typed".into(), None),
            Note::from("as typed")
        );
    }

    #[test]
    fn a_note_this_build_cannot_read_falls_back_to_its_english_text() {
        let renamed = r#"{"msg":"NoSuchMessage","args":[]}"#;
        assert_eq!(
            Note::from_stored("Free trial credits".into(), Some(renamed)),
            Note::from("Free trial credits")
        );
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
    fn a_translation_may_put_the_placeholders_in_another_order() {
        let args = [("number", "+32 470".into()), ("name", "Ann".into())];
        assert_eq!(
            tfl(Locale::ZhCn, Msg::ErrSmsNumber, &args),
            "Ann 的号码 +32 470 格式无效。"
        );
    }

    #[test]
    fn missing_arguments_leave_the_placeholder_empty_and_take_the_other_form() {
        assert_eq!(tf(Msg::RecordCount, &[]), " records");
        assert_eq!(tfl(Locale::Fr, Msg::RecordCount, &[]), " enregistrements");
    }

    #[test]
    fn a_brace_that_starts_no_placeholder_is_kept() {
        let parts: Vec<_> = segments("a {b c} {x:y|z} {} {Name} {n}").collect();
        assert_eq!(
            parts,
            [
                Segment::Literal("a {b c} "),
                Segment::Plural {
                    name: "x",
                    forms: "y|z"
                },
                Segment::Literal(" {} {Name} "),
                Segment::Value("n"),
            ]
        );
        assert_eq!(segments("{").collect::<Vec<_>>(), [Segment::Literal("{")]);
        assert_eq!(segments("").count(), 0);
    }

    #[test]
    fn english_uses_the_singular_for_exactly_one() {
        let en = |arg: Arg| tf(Msg::RecordCount, &[("count", arg)]);
        assert_eq!(en(0.into()), "0 records");
        assert_eq!(en(1.into()), "1 record");
        assert_eq!(en(2.into()), "2 records");
        assert_eq!(en((-1).into()), "-1 record");
        assert_eq!(en(1_000_000.into()), "1000000 records");
        let sent = |minor| {
            tf(
                Msg::SmsSentNotice,
                &[("sent", 1.into()), ("credits", credits_arg(minor))],
            )
        };
        assert_eq!(sent(10_000), "1 SMS sent, 1 credit charged.");
        assert_eq!(sent(15_000), "1 SMS sent, 1.5 credits charged.");
        assert_eq!(sent(5_000), "1 SMS sent, 0.5 credits charged.");
        assert_eq!(sent(0), "1 SMS sent, 0 credits charged.");
    }

    #[test]
    fn french_uses_the_singular_below_two() {
        let fr = |arg: Arg| tfl(Locale::Fr, Msg::AmountCredits, &[("amount", arg)]);
        assert_eq!(fr(credits_arg(0)), "0 crédit");
        assert_eq!(fr(credits_arg(5_000)), "0,5 crédit");
        assert_eq!(fr(credits_arg(10_000)), "1 crédit");
        assert_eq!(fr(credits_arg(15_000)), "1,5 crédit");
        assert_eq!(fr(credits_arg(19_999)), "1,9999 crédit");
        assert_eq!(fr(credits_arg(20_000)), "2 crédits");
        assert_eq!(fr(credits_arg(30_000)), "3 crédits");
        assert_eq!(fr(credits_arg(-15_000)), "-1,5 crédit");
        assert_eq!(
            fr(credits_arg(12_345_670_000)),
            "1\u{202f}234\u{202f}567 crédits"
        );
        let records = |n: i64| tfl(Locale::Fr, Msg::RecordCount, &[("count", n.into())]);
        assert_eq!(records(0), "0 enregistrement");
        assert_eq!(records(1), "1 enregistrement");
        assert_eq!(records(2), "2 enregistrements");
        assert_eq!(records(i64::MIN), format!("{} enregistrements", i64::MIN));
    }

    #[test]
    fn a_whole_number_service_takes_the_form_of_the_number_it_shows() {
        let documents = |minor| {
            let arg = Arg::Credits { minor, whole: true };
            (
                tf(Msg::AmountDocuments, &[("amount", arg.clone())]),
                tfl(Locale::Fr, Msg::AmountDocuments, &[("amount", arg)]),
            )
        };
        assert_eq!(
            documents(15_000),
            ("1 Document".into(), "1 document".into())
        );
        assert_eq!(
            documents(25_000),
            ("2 Documents".into(), "2 documents".into())
        );
    }

    #[test]
    fn chinese_has_no_plural_forms() {
        for n in [0, 1, 2, 1_000_000] {
            assert_eq!(
                tfl(Locale::ZhCn, Msg::RecordCount, &[("count", n.into())]),
                format!("{n} 条记录")
            );
        }
        assert_eq!(
            tfl(
                Locale::ZhCn,
                Msg::AmountCredits,
                &[("amount", credits_arg(15_000))]
            ),
            "1.5 点数"
        );
    }

    #[test]
    fn text_and_message_arguments_take_the_other_form() {
        assert_eq!(tf(Msg::RecordCount, &[("count", "1".into())]), "1 records");
        assert_eq!(Arg::Msg(Msg::Buy).plural(Locale::Fr), Plural::Other);
    }

    #[test]
    fn a_text_renders_its_message_with_its_arguments() {
        let text = Text::new(Msg::ErrInsufficientCredits)
            .arg("required", credits_arg(25_000))
            .arg("available", credits_arg(10_000));
        assert_eq!(
            text.to_string(),
            "Insufficient credit to perform this service: 2.5 needed, 1 available."
        );
        assert_eq!(
            text.render(Locale::Fr),
            "Crédits insuffisants pour effectuer ce service\u{a0}: 2,5 nécessaires, 1 disponible."
        );
        assert_eq!(
            text.render(Locale::ZhCn),
            "点数不足，无法执行此服务：需要 2.5，可用 1。"
        );
        assert_eq!(Text::from(Msg::Buy).to_string(), "Buy");
        assert_eq!(Text::from(Msg::Buy).render(Locale::Fr), "Acheter");
    }

    #[test]
    fn a_nested_message_is_shown_in_the_same_locale() {
        let text = Text::new(Msg::ErrSmsNotSent).arg("error", Msg::SmsGatewayTimeout);
        assert_eq!(
            text.render(Locale::Fr),
            "Le SMS n'a pas été envoyé et rien n'a été débité\u{a0}: la passerelle SMS n'a pas répondu à temps"
        );
    }

    #[test]
    fn t_and_tf_stay_english() {
        assert_eq!(t(Msg::ViewMyServices), "View My Services");
        assert_eq!(tl(Locale::Fr, Msg::ViewMyServices), "Voir mes services");
        assert_eq!(tl(Locale::ZhCn, Msg::ViewMyServices), "查看我的服务");
    }

    #[test]
    fn locales_read_back_from_their_code() {
        for locale in Locale::ALL {
            assert_eq!(Locale::parse(locale.code()), Some(locale));
            let json = serde_json::to_string(&locale).expect("a locale serializes");
            assert_eq!(json, format!("\"{}\"", locale.code()));
        }
        assert_eq!(Locale::default(), Locale::En);
        assert_eq!(Locale::ZhCn.name(), "简体中文");
        assert_eq!(Locale::Fr.name(), "Français");
    }

    #[test]
    fn language_tags_are_parsed_by_language_case_and_separator_aside() {
        for tag in ["fr", "fr-BE", "FR-be", "fr_CA", " fr-CH "] {
            assert_eq!(Locale::parse(tag), Some(Locale::Fr), "{tag}");
        }
        for tag in [
            "zh",
            "zh-CN",
            "zh-Hans",
            "zh_CN",
            "ZH-cn",
            "zh-Hans-TW",
            "zh-SG",
        ] {
            assert_eq!(Locale::parse(tag), Some(Locale::ZhCn), "{tag}");
        }
        for tag in ["en", "en-US", "EN_gb"] {
            assert_eq!(Locale::parse(tag), Some(Locale::En), "{tag}");
        }
        for tag in [
            "",
            "*",
            "de",
            "zh-TW",
            "zh-Hant",
            "zh_HK",
            "fr-",
            "fr--BE",
            "f r",
            "fr;q=1",
            "français",
            "frx",
        ] {
            assert_eq!(Locale::parse(tag), None, "{tag}");
        }
        assert_eq!(Locale::parse(&"fr-a".repeat(100)), None);
    }
}
