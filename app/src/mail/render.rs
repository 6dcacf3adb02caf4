//! The mails iapd writes, rendered from their facts into a subject, a plain-text body and
//! an HTML body saying the same. Rendering happens when the mail is queued, in the same
//! transaction as the change that caused it, so the outbox shows exactly what is sent.

pub use crate::db::outbox::Mail;
use crate::domain::credits::Credits;
use crate::domain::warning::WarningFacts;
use crate::i18n::{Msg, t, tf};

/// The pack store of an account, as linked from mails.
pub fn store_url(public_url: &str, account_id: i64) -> String {
    format!(
        "{}/iap-accounts/{account_id}/buy",
        public_url.trim_end_matches('/')
    )
}

/// The low-credit warning: what is left, the threshold, and a link to the pack store.
pub fn low_credit_warning(facts: &WarningFacts, public_url: &str, recipients: Vec<String>) -> Mail {
    let amount = |minor: i64| {
        let amount = Credits::from_minor(minor).display(facts.whole_number);
        format!("{amount} {}", facts.unit_name.to_lowercase())
    };
    let available = amount(facts.available);
    let threshold = amount(facts.threshold);
    let url = store_url(public_url, facts.account_id);
    let subject = tf(
        Msg::WarningSubject,
        &[
            ("service", facts.service_label.as_str().into()),
            ("available", available.as_str().into()),
        ],
    );
    let intro = tf(
        Msg::WarningIntro,
        &[
            ("service", facts.service_label.as_str().into()),
            ("account", facts.account_name.as_str().into()),
            ("available", available.into()),
            ("threshold", threshold.into()),
        ],
    );
    let text = format!(
        "{}\n\n{intro}\n\n{}\n\n{}\n{url}\n",
        t(Msg::WarningGreeting),
        t(Msg::WarningAvailableHelp),
        t(Msg::WarningBuyText),
    );
    let html = format!(
        "<!DOCTYPE html>\n<html><body style=\"font-family:sans-serif;color:#212529\">\n\
         <p>{}</p>\n<p>{}</p>\n<p style=\"color:#6c757d\">{}</p>\n\
         <p><a href=\"{}\" style=\"background:#714b67;color:#fff;padding:8px 14px;\
         border-radius:4px;text-decoration:none\">{}</a></p>\n</body></html>\n",
        escape(t(Msg::WarningGreeting)),
        escape(&intro),
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

    #[test]
    fn the_mail_names_service_account_figures_and_links_to_the_store() {
        let facts = WarningFacts {
            account_id: 7,
            account_name: "SMS <Ops>".into(),
            service_label: "SMS".into(),
            unit_name: "Credits".into(),
            whole_number: false,
            available: 35_000,
            threshold: 200_000,
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
        assert!(mail.text.contains("SMS <Ops>"));
        assert!(mail.html.contains("SMS &lt;Ops&gt;"));
        assert!(!mail.html.contains("<Ops>"));
    }
}
