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
