//! Low-credit warnings: the settings an administrator gives an account (Warn Me, Threshold,
//! Warning Email), when a change of credits must send a warning, and the facts the warning
//! mail states (the mail worker renders them in the recipient's language).
//!
//! The rule compares *available* credits (balance minus open holds), because that is what
//! a user can still spend. A warning goes out when a change takes the account from at or
//! above the threshold to below it. The rule needs no stored "already warned" flag: the
//! ledger writer sees every change with the figures before and after it, and writes the
//! mail in the same transaction as the change, so each crossing yields exactly one mail.

use crate::domain::FieldError;
use crate::domain::contact::is_email;
use crate::domain::credits::Credits;
use crate::i18n::{Locale, Msg};
use serde::{Deserialize, Serialize};

/// Addresses longer than this are refused, as are lists of more than [`MAX_EMAILS`].
pub const EMAIL_MAX: usize = 254;
/// Enough for a team; more is likely a pasted list by mistake.
pub const MAX_EMAILS: usize = 20;

/// At most one low-credit warning mail per account in this long (one hour): the token-only
/// API can toggle Warn Me, and must not turn iapd into a mail relay.
pub const MAIL_INTERVAL_MS: i64 = 3_600_000;

/// An account's warning settings. Unticking Warn Me keeps the threshold and addresses, so
/// they are still there when it is ticked again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningSettings {
    /// Warn Me: warnings are only sent while this is on.
    pub enabled: bool,
    /// Available credits below this send a warning; minor units, positive when enabled
    /// (zero only means "never set" on a disabled warning).
    pub threshold: i64,
    /// Warning Email: who receives the warning.
    pub emails: Vec<String>,
}

impl WarningSettings {
    /// Parses the form: a threshold in the service's unit and a comma-separated list of
    /// addresses. While Warn Me is off, empty fields are accepted (nothing to keep), but a
    /// value that is there must still be valid.
    pub fn parse(enabled: bool, threshold: &str, emails: &str) -> Result<ValidWarning, FieldError> {
        let threshold = if !enabled && threshold.trim().is_empty() {
            0
        } else {
            parse_threshold(threshold)?
        };
        let emails = if !enabled && emails.trim().is_empty() {
            Vec::new()
        } else {
            parse_emails(emails)?
        };
        Ok(ValidWarning(WarningSettings {
            enabled,
            threshold,
            emails,
        }))
    }

    /// Checks settings that arrived already typed (from the API): the same rules as
    /// [`WarningSettings::parse`], and addresses trimmed.
    pub fn validate(mut self) -> Result<ValidWarning, FieldError> {
        if self.threshold < 0 || (self.enabled && self.threshold == 0) {
            return Err(FieldError::new("threshold", Msg::ErrAmountNotPositive));
        }
        if self.threshold > crate::domain::credits::MAX.minor() {
            return Err(FieldError::new("threshold", Msg::ErrAmountTooLarge));
        }
        if self.enabled || !self.emails.is_empty() {
            self.emails = parse_emails(&self.emails.join(","))?;
        }
        Ok(ValidWarning(self))
    }

    /// Whether a change of available credits from `before` to `after` crosses the line.
    pub fn crossed(&self, before: i64, after: i64) -> bool {
        self.enabled && before >= self.threshold && after < self.threshold
    }

    /// Whether saving `self` over `old` must warn at once: Warn Me is on, the account is
    /// below the (new) threshold, and the old settings had not already warned about it.
    pub fn warns_on_save(&self, old: &WarningSettings, available: i64) -> bool {
        let below_now = self.enabled && available < self.threshold;
        let already_warned = old.enabled && available < old.threshold;
        below_now && !already_warned
    }

    /// Whether a warning may go out at `now` when the account's last one went at `last`:
    /// at most one per [`MAIL_INTERVAL_MS`], however often Warn Me is toggled or the
    /// balance crosses the line. A clock that went back counts as too soon.
    pub fn mail_allowed(last: Option<i64>, now: i64) -> bool {
        last.is_none_or(|last| now.saturating_sub(last) >= MAIL_INTERVAL_MS)
    }

    /// The addresses as the form shows them.
    pub fn email_list(&self) -> String {
        self.emails.join(", ")
    }
}

/// Settings that passed [`WarningSettings::parse`] or [`WarningSettings::validate`]: the only
/// kind the ledger saves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidWarning(WarningSettings);

impl ValidWarning {
    pub fn into_inner(self) -> WarningSettings {
        self.0
    }
}

impl std::ops::Deref for ValidWarning {
    type Target = WarningSettings;

    fn deref(&self) -> &WarningSettings {
        &self.0
    }
}

/// A threshold: a positive amount of credits, as typed in the service's unit.
pub fn parse_threshold(text: &str) -> Result<i64, FieldError> {
    Credits::parse_positive(text)
        .map(Credits::minor)
        .map_err(|e| e.at("threshold"))
}

/// One or more addresses separated by commas (or semicolons, as mail clients paste them).
/// One bad address refuses the whole list, and the message names it. Duplicates are dropped.
pub fn parse_emails(text: &str) -> Result<Vec<String>, FieldError> {
    let mut emails: Vec<String> = Vec::new();
    for part in text.split([',', ';']) {
        let email = part.trim();
        if email.is_empty() {
            continue;
        }
        if email.chars().count() > EMAIL_MAX || !is_email(email) || email.contains(['<', '>', '"'])
        {
            return Err(FieldError::new("emails", Msg::ErrWarningEmail).arg("email", email));
        }
        if !emails.iter().any(|e| e.eq_ignore_ascii_case(email)) {
            emails.push(email.to_owned());
        }
    }
    if emails.is_empty() {
        return Err(FieldError::new("emails", Msg::ErrWarningEmailEmpty));
    }
    if emails.len() > MAX_EMAILS {
        return Err(FieldError::new("emails", Msg::ErrWarningEmailMany).arg("max", MAX_EMAILS));
    }
    Ok(emails)
}

/// Who reads the warning in which language: each address in its own when it is known
/// (`known` is keyed by lower-case address), the account's `fallback` otherwise. One mail
/// per language, in the order the languages first appear; addresses keep their order.
pub fn recipients_by_language(
    emails: &[String],
    known: &std::collections::HashMap<String, Locale>,
    fallback: Locale,
) -> Vec<(Locale, Vec<String>)> {
    let mut mails: Vec<(Locale, Vec<String>)> = Vec::new();
    for email in emails {
        let locale = known
            .get(&email.to_lowercase())
            .copied()
            .unwrap_or(fallback);
        match mails.iter_mut().find(|(l, _)| *l == locale) {
            Some((_, to)) => to.push(email.clone()),
            None => mails.push((locale, vec![email.clone()])),
        }
    }
    mails
}

/// What the warning mail says about its account: stored with the queued mail, rendered by
/// the mail worker in each recipient's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningFacts {
    pub account_id: i64,
    pub account_name: String,
    /// The service's technical name (its catalogue key) and its stored label.
    pub service: String,
    pub service_label: String,
    pub unit_name: String,
    pub whole_number: bool,
    /// Minor units.
    pub available: i64,
    /// Minor units.
    pub threshold: i64,
    /// Minor units captured over the last seven days, the forecast's rate.
    pub used_last_week: i64,
    /// The language the mail is written in.
    pub locale: crate::i18n::Locale,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(threshold: i64) -> WarningSettings {
        WarningSettings {
            enabled: true,
            threshold,
            emails: vec!["ops@example.com".into()],
        }
    }

    #[test]
    fn falling_from_above_to_below_the_threshold_warns() {
        assert!(on(50).crossed(60, 40));
    }

    #[test]
    fn falling_from_exactly_the_threshold_warns_and_landing_on_it_does_not() {
        assert!(on(50).crossed(50, 49));
        assert!(!on(50).crossed(60, 50));
    }

    #[test]
    fn staying_below_the_threshold_does_not_warn_again() {
        assert!(!on(50).crossed(40, 30));
        assert!(!on(50).crossed(40, 45));
    }

    #[test]
    fn going_back_above_rearms_so_crossing_twice_warns_twice() {
        let settings = on(50);
        let changes = [(100, 40), (40, 140), (140, 20), (20, 10)];
        let warnings = changes
            .iter()
            .filter(|(before, after)| settings.crossed(*before, *after))
            .count();
        assert_eq!(warnings, 2);
    }

    #[test]
    fn no_warning_while_warn_me_is_off() {
        let mut settings = on(50);
        settings.enabled = false;
        assert!(!settings.crossed(60, 40));
    }

    #[test]
    fn enabling_while_below_warns_once_at_once() {
        let off = WarningSettings {
            enabled: false,
            ..on(50)
        };
        assert!(on(50).warns_on_save(&off, 30));
        assert!(on(50).warns_on_save(&WarningSettings::default(), 30));
        // Saving again changes nothing: the warning was already sent.
        assert!(!on(50).warns_on_save(&on(50), 30));
        // Enabling while at or above waits for the crossing.
        assert!(!on(50).warns_on_save(&off, 50));
    }

    #[test]
    fn raising_the_threshold_above_the_available_credits_warns_lowering_it_does_not() {
        assert!(on(80).warns_on_save(&on(50), 60));
        assert!(!on(40).warns_on_save(&on(50), 30));
        assert!(!on(20).warns_on_save(&on(50), 30));
    }

    #[test]
    fn thresholds_are_positive_amounts_in_the_service_unit() {
        assert_eq!(parse_threshold("3.5"), Ok(35_000));
        assert_eq!(parse_threshold(" 20 "), Ok(200_000));
        for bad in ["0", "-5", "abc", "", "1e3", "0.00001"] {
            let error = parse_threshold(bad).unwrap_err();
            assert_eq!(error.field, "threshold", "{bad}");
            assert!(!error.text().to_string().is_empty());
        }
        assert_eq!(
            parse_threshold("0").unwrap_err().message,
            Msg::ErrAmountNotPositive
        );
    }

    #[test]
    fn email_lists_are_split_on_commas_trimmed_and_deduplicated() {
        assert_eq!(
            parse_emails(" a@example.com,b@example.org ; A@example.com,"),
            Ok(vec!["a@example.com".to_owned(), "b@example.org".to_owned()])
        );
    }

    #[test]
    fn one_bad_address_refuses_the_whole_list_and_is_named() {
        let error = parse_emails("a@example.com, not-an-address, b@example.com").unwrap_err();
        assert_eq!(error.field, "emails");
        let shown = error.text().to_string();
        assert!(shown.contains("not-an-address"), "{shown}");
        assert!(parse_emails("x <x@example.com>").is_err());
        assert!(parse_emails(" , ").is_err());
    }

    #[test]
    fn the_form_allows_empty_fields_only_while_warn_me_is_off() {
        assert_eq!(
            WarningSettings::parse(false, "", "").map(ValidWarning::into_inner),
            Ok(WarningSettings::default())
        );
        assert_eq!(
            WarningSettings::parse(false, "5", "a@example.com").map(ValidWarning::into_inner),
            Ok(WarningSettings {
                enabled: false,
                threshold: 50_000,
                emails: vec!["a@example.com".into()]
            })
        );
        assert_eq!(
            WarningSettings::parse(true, "", "a@example.com")
                .unwrap_err()
                .field,
            "threshold"
        );
        assert_eq!(
            WarningSettings::parse(true, "5", "").unwrap_err().field,
            "emails"
        );
        assert_eq!(
            WarningSettings::parse(false, "x", "").unwrap_err().field,
            "threshold"
        );
    }

    #[test]
    fn typed_settings_are_checked_like_the_form() {
        assert!(on(1).validate().is_ok());
        assert_eq!(on(0).validate().unwrap_err().field, "threshold");
        assert_eq!(on(-1).validate().unwrap_err().field, "threshold");
        let mut no_one = on(5);
        no_one.emails.clear();
        assert_eq!(no_one.validate().unwrap_err().field, "emails");
        assert!(WarningSettings::default().validate().is_ok());
    }

    #[test]
    fn each_address_reads_the_warning_in_its_language_else_the_accounts() {
        let emails: Vec<String> = ["Compta@example.fr", "boss@example.cn", "it@example.com"]
            .map(String::from)
            .into();
        let known = std::collections::HashMap::from([
            ("compta@example.fr".to_owned(), Locale::Fr),
            ("boss@example.cn".to_owned(), Locale::ZhCn),
        ]);
        assert_eq!(
            recipients_by_language(&emails, &known, Locale::Fr),
            vec![
                (
                    Locale::Fr,
                    vec!["Compta@example.fr".to_owned(), "it@example.com".to_owned()]
                ),
                (Locale::ZhCn, vec!["boss@example.cn".to_owned()]),
            ]
        );
        let nobody_known = std::collections::HashMap::new();
        assert_eq!(
            recipients_by_language(&emails, &nobody_known, Locale::En),
            vec![(Locale::En, emails.clone())]
        );
        assert!(recipients_by_language(&[], &known, Locale::En).is_empty());
    }

    #[test]
    fn one_warning_mail_per_account_per_hour() {
        let at = 10 * MAIL_INTERVAL_MS;
        assert!(WarningSettings::mail_allowed(None, at));
        assert!(!WarningSettings::mail_allowed(Some(at), at));
        assert!(!WarningSettings::mail_allowed(
            Some(at),
            at + MAIL_INTERVAL_MS - 1
        ));
        assert!(WarningSettings::mail_allowed(
            Some(at),
            at + MAIL_INTERVAL_MS
        ));
        // A clock that went back is treated as too soon, never as a free pass.
        assert!(!WarningSettings::mail_allowed(Some(at), at - 5));
    }
}
