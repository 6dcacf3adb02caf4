//! The mails iapd writes, rendered from their facts into a subject, a plain-text body and
//! an HTML body saying the same. Rendering happens when the mail is queued, in the same
//! transaction as the change that caused it, so the outbox shows exactly what is sent.

pub use crate::db::outbox::Mail;
use crate::domain::credits::Credits;
use crate::domain::usage::Forecast;
use crate::domain::warning::WarningFacts;
use crate::i18n::{self, Msg, service_text, tfl, tl, unit_amount_text};

/// The pack store of an account, as linked from mails.
pub fn store_url(public_url: &str, account_id: i64) -> String {
    format!(
        "{}/iap-accounts/{account_id}/buy",
        public_url.trim_end_matches('/')
    )
}

/// The low-credit warning: what is left, the threshold, and a link to the pack store, in
/// the language of `facts.locale`.
pub fn low_credit_warning(facts: &WarningFacts, public_url: &str, recipients: Vec<String>) -> Mail {
    let locale = facts.locale;
    let t = |msg: Msg| tl(locale, msg);
    // Amounts sit inside sentences here, so their unit is lower case ("3.5 credits").
    let amount = |minor: i64| {
        let credits = Credits::from_minor(minor);
        let phrase = match unit_amount_text(&facts.unit_name) {
            Some(msg) => tfl(locale, msg, &[("amount", credits.arg(facts.whole_number))]),
            None => format!(
                "{} {}",
                i18n::credits(locale, minor, facts.whole_number),
                facts.unit_name
            ),
        };
        phrase.to_lowercase()
    };
    let service = service_text(&facts.service).map_or_else(
        || facts.service_label.clone(),
        |(name, _)| t(name).to_owned(),
    );
    let available = amount(facts.available);
    let threshold = amount(facts.threshold);
    let url = store_url(public_url, facts.account_id);
    let subject = tfl(
        locale,
        Msg::WarningSubject,
        &[
            ("service", service.as_str().into()),
            ("available", available.as_str().into()),
        ],
    );
    let intro = tfl(
        locale,
        Msg::WarningIntro,
        &[
            ("service", service.as_str().into()),
            ("account", facts.account_name.as_str().into()),
            ("available", available.into()),
            ("threshold", threshold.into()),
        ],
    );
    let forecast = Forecast::new(
        Credits::from_minor(facts.available),
        Credits::from_minor(facts.used_last_week),
    )
    .text(false)
    .render(locale);
    let text = format!(
        "{}\n\n{intro}\n{forecast}\n\n{}\n\n{}\n{url}\n",
        t(Msg::WarningGreeting),
        t(Msg::WarningAvailableHelp),
        t(Msg::WarningBuyText),
    );
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><body style=\"font-family:sans-serif;color:#212529\">\n\
         <p>{}</p>\n<p>{}<br>{}</p>\n<p style=\"color:#6c757d\">{}</p>\n\
         <p><a href=\"{}\" style=\"background:#714b67;color:#fff;padding:8px 14px;\
         border-radius:4px;text-decoration:none\">{}</a></p>\n</body></html>\n",
        locale.code(),
        escape(t(Msg::WarningGreeting)),
        escape(&intro),
        escape(&forecast),
        escape(t(Msg::WarningAvailableHelp)),
        escape(&url),
        escape(t(Msg::BuyCredit)),
    );
    Mail {
        recipients,
        subject,
        text,
        html,
    }
}

/// What a failed auto-recharge mail says.
#[derive(Clone, Debug)]
pub struct RechargeFailure {
    pub account_id: i64,
    pub account_name: String,
    pub pack_name: String,
    /// Cents of `currency`.
    pub price: i64,
    pub currency: String,
    /// Why nothing was bought, as the provider or iapd said it (English).
    pub reason: String,
    /// When it is tried again; `None` when it waits for the next crossing.
    pub next_attempt: Option<i64>,
    pub locale: i18n::Locale,
}

/// The mail after an auto-recharge that bought nothing: why, what happens next, and a link
/// to the account, where the card and the settings are.
pub fn auto_recharge_failed(
    facts: &RechargeFailure,
    public_url: &str,
    recipients: Vec<String>,
) -> Mail {
    let locale = facts.locale;
    let t = |msg: Msg| tl(locale, msg);
    let pack = i18n::pack_text(&facts.pack_name)
        .map_or_else(|| facts.pack_name.clone(), |msg| t(msg).to_owned());
    let price = crate::domain::packs::money(facts.price, &facts.currency);
    let subject = tfl(
        locale,
        Msg::AutoMailSubject,
        &[("account", facts.account_name.as_str().into())],
    );
    let intro = tfl(
        locale,
        Msg::AutoMailIntro,
        &[
            ("account", facts.account_name.as_str().into()),
            ("pack", pack.into()),
            ("price", price.into()),
            ("reason", facts.reason.as_str().into()),
        ],
    );
    let next = match facts.next_attempt {
        Some(at) => tfl(
            locale,
            Msg::NextAttemptAt,
            &[("time", i18n::date_time(locale, at).into())],
        ),
        None => t(Msg::AutoWaitsForCrossing).to_owned(),
    };
    let url = format!(
        "{}/iap-accounts/{}#auto-recharge",
        public_url.trim_end_matches('/'),
        facts.account_id
    );
    let text = format!(
        "{}\n\n{intro}\n{next}\n\n{}\n{url}\n",
        t(Msg::WarningGreeting),
        t(Msg::AutoMailUpdate),
    );
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><body style=\"font-family:sans-serif;color:#212529\">\n\
         <p>{}</p>\n<p>{}<br>{}</p>\n<p>{} <a href=\"{}\">{}</a></p>\n</body></html>\n",
        locale.code(),
        escape(t(Msg::WarningGreeting)),
        escape(&intro),
        escape(&next),
        escape(t(Msg::AutoMailUpdate)),
        escape(&url),
        escape(&facts.account_name),
    );
    Mail {
        recipients,
        subject,
        text,
        html,
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    #[test]
    fn the_mail_names_service_account_figures_and_links_to_the_store() {
        let facts = WarningFacts {
            account_id: 7,
            account_name: "SMS <Ops>".into(),
            service: "sms".into(),
            service_label: "SMS".into(),
            unit_name: "Credits".into(),
            whole_number: false,
            available: 35_000,
            threshold: 200_000,
            used_last_week: 7_000,
            locale: Locale::En,
        };
        let mail = low_credit_warning(
            &facts,
            "https://iap.example/",
            vec!["ops@example.com".into()],
        );
        assert_eq!(mail.subject, "Low credits: SMS has 3.5 credits left");
        for part in [&mail.text, &mail.html] {
            assert!(part.contains("3.5 credits"), "{part}");
            assert!(part.contains("20 credits"), "{part}");
            assert!(
                part.contains("https://iap.example/iap-accounts/7/buy"),
                "{part}"
            );
        }
        // 3.5 credits at 0.7 a week.
        for part in [&mail.text, &mail.html] {
            assert!(
                part.contains("At the current rate, credits last about 35 days."),
                "{part}"
            );
        }
        assert!(mail.text.contains("SMS <Ops>"));
        assert!(mail.html.contains("SMS &lt;Ops&gt;"));
        assert!(!mail.html.contains("<Ops>"));
    }

    #[test]
    fn the_mail_speaks_the_language_it_was_set_in() {
        let facts = |locale| WarningFacts {
            account_id: 7,
            account_name: "Compte".into(),
            service: "sms".into(),
            service_label: "SMS".into(),
            unit_name: "Credits".into(),
            whole_number: false,
            available: 10_005_000,
            threshold: 20_000_000,
            used_last_week: 0,
            locale,
        };
        let fr = low_credit_warning(&facts(Locale::Fr), "https://iap.example", vec![]);
        assert!(fr.text.contains("1\u{202f}000,5 crédits"), "{}", fr.text);
        assert!(fr.html.contains("lang=\"fr\""));
        assert!(
            fr.text
                .contains("Aucun crédit consommé ces 7 derniers jours.")
        );
        let zh = low_credit_warning(&facts(Locale::ZhCn), "https://iap.example", vec![]);
        assert!(zh.subject.contains("短信"), "{}", zh.subject);
        assert!(zh.text.contains("1,000.5 点数"), "{}", zh.text);
        assert!(!zh.text.contains("Low credits"), "{}", zh.text);
    }
}
