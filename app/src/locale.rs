//! The reader's language on pages. The server chooses the locale of each request (the
//! user's preference, else the language cookie, else `Accept-Language`, else English) and
//! provides it as context; the page states it in `<html lang>`, where the browser picks it
//! up when it hydrates. Pages and components render through these helpers, never through
//! the English-only `i18n::t`, so everything on a page speaks one language.

use crate::domain::credits::Credits;
use crate::domain::time::Timestamp;
use crate::error::AppError;
use crate::i18n::{self, Arg, Locale, Msg, Text};
use leptos::prelude::*;

/// The name of the cookie that keeps the language chosen before signing in.
pub const COOKIE: &str = "iapd_lang";

#[cfg(feature = "hydrate")]
thread_local! {
    /// The page's locale in the browser, read once from `<html lang>`; event handlers,
    /// which run outside any reactive owner, find it here.
    static PAGE: std::cell::Cell<Option<Locale>> = const { std::cell::Cell::new(None) };
}

/// The locale of the page being rendered.
pub fn current() -> Locale {
    if let Some(locale) = use_context::<Locale>() {
        return locale;
    }
    #[cfg(feature = "hydrate")]
    {
        PAGE.with(|page| {
            page.get().unwrap_or_else(|| {
                let locale = document()
                    .document_element()
                    .and_then(|root| root.get_attribute("lang"))
                    .and_then(|lang| Locale::parse(&lang))
                    .unwrap_or_default();
                page.set(Some(locale));
                locale
            })
        })
    }
    #[cfg(not(feature = "hydrate"))]
    Locale::default()
}

/// A label in the page's language.
pub fn t(msg: Msg) -> &'static str {
    i18n::tl(current(), msg)
}

/// A message in the page's language with its placeholders filled.
pub fn tf(msg: Msg, args: &[(&str, Arg)]) -> String {
    i18n::tfl(current(), msg, args)
}

/// A message key with its arguments (an error, a chatter line), rendered.
pub fn text(text: &Text) -> String {
    text.render(current())
}

/// A line of stored history (a ledger description, a chatter line) in the page's language.
pub fn note(note: &crate::i18n::Note) -> String {
    note.render(current())
}

/// What to tell the reader about an error.
pub fn error(error: &AppError) -> String {
    text(&error.text())
}

/// The message to show next to `field`, when `error` is about that field.
pub fn field_error(error: &AppError, field: &str) -> Option<String> {
    error.field(field).map(|e| text(&e.text()))
}

/// An amount of credits as the reader writes numbers (see [`i18n::credits`]).
pub fn credits(amount: Credits, whole_number: bool) -> String {
    i18n::credits(current(), amount.minor(), whole_number)
}

/// A moment as the reader writes dates and times.
pub fn date_time(at: Timestamp) -> String {
    i18n::date_time(current(), at.ms())
}

/// A catalogue value the database stores in English, in the page's language when the
/// catalogue knows it, and as stored otherwise (a third-party service's own words).
fn catalogue(key: Option<Msg>, stored: &str) -> String {
    key.map_or_else(|| stored.to_owned(), |msg| t(msg).to_owned())
}

/// A service's name ("SMS", "短信").
pub fn service_name(technical_name: &str, stored: &str) -> String {
    catalogue(
        i18n::service_text(technical_name).map(|(name, _)| name),
        stored,
    )
}

/// A service's description.
pub fn service_description(technical_name: &str, stored: &str) -> String {
    catalogue(
        i18n::service_text(technical_name).map(|(_, about)| about),
        stored,
    )
}

/// A service's unit ("Credits", "Pages").
pub fn unit(stored: &str) -> String {
    catalogue(i18n::unit_text(stored), stored)
}

/// A pack's name ("Starter Pack", "入门套餐").
pub fn pack(stored: &str) -> String {
    catalogue(i18n::pack_text(stored), stored)
}

/// A hosting type as stored ("Odoo.sh").
pub fn hosting(stored: &str) -> String {
    catalogue(i18n::hosting_text(stored), stored)
}

/// A country by its ISO code, or as stored when the catalogue lacks it.
pub fn country(code: &str, stored: &str) -> String {
    catalogue(i18n::country_text(code), stored)
}

/// An amount in a service's unit, agreeing with its number ("1 credit", "2,5 crédits");
/// a unit the catalogue does not know follows the number as stored.
pub fn amount(credits: Credits, whole_number: bool, unit_name: &str) -> String {
    match i18n::unit_amount_text(unit_name) {
        Some(msg) => tf(msg, &[("amount", credits.arg(whole_number))]),
        None => format!("{} {unit_name}", self::credits(credits, whole_number)),
    }
}

/// The `Set-Cookie` value that keeps `locale` for a year, or forgets the choice.
#[cfg(feature = "ssr")]
pub fn cookie(locale: Option<Locale>, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match locale {
        Some(locale) => format!(
            "{COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000{secure}",
            locale.code()
        ),
        None => format!("{COOKIE}=; Path=/; SameSite=Lax; Max-Age=0{secure}"),
    }
}

/// The locale a request is answered in: the user's choice, else the language cookie, else
/// the best of `Accept-Language`, else English.
#[cfg(feature = "ssr")]
pub fn of_request(user_choice: Option<Locale>, headers: &http::HeaderMap) -> Locale {
    let cookie = || crate::auth::session::cookie_value(headers, COOKIE).and_then(Locale::parse);
    user_choice.or_else(cookie).unwrap_or_else(|| {
        let accept = headers
            .get(http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        i18n::negotiate(accept)
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue, header};

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name, HeaderValue::from_str(value).expect("a header value"));
        }
        map
    }

    #[test]
    fn the_users_choice_wins_then_the_cookie_then_the_browser() {
        let all = headers(&[
            (header::COOKIE, "iapd_session=x; iapd_lang=zh-CN"),
            (header::ACCEPT_LANGUAGE, "fr-BE,fr;q=0.9"),
        ]);
        assert_eq!(of_request(Some(Locale::En), &all), Locale::En);
        assert_eq!(of_request(None, &all), Locale::ZhCn);
        let browser = headers(&[(header::ACCEPT_LANGUAGE, "fr-BE,fr;q=0.9")]);
        assert_eq!(of_request(None, &browser), Locale::Fr);
        assert_eq!(of_request(None, &HeaderMap::new()), Locale::En);
    }

    #[test]
    fn a_bad_cookie_falls_back_to_the_browser() {
        let map = headers(&[
            (header::COOKIE, "iapd_lang=klingon"),
            (header::ACCEPT_LANGUAGE, "zh-Hans"),
        ]);
        assert_eq!(of_request(None, &map), Locale::ZhCn);
    }

    #[test]
    fn the_cookie_keeps_the_choice_for_a_year_or_forgets_it() {
        assert_eq!(
            cookie(Some(Locale::Fr), true),
            "iapd_lang=fr; Path=/; SameSite=Lax; Max-Age=31536000; Secure"
        );
        assert_eq!(
            cookie(None, false),
            "iapd_lang=; Path=/; SameSite=Lax; Max-Age=0"
        );
    }
}
