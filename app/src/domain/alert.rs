//! Alerts beyond Warn Me: an account's further thresholds, each with its own recipients and
//! channels, and the "depleted" and "recovered" events. Plain rules, free of I/O.
//!
//! Warn Me (`warning.rs`) stays the account's first threshold, as Odoo sets it. Every
//! threshold fires once per downward crossing of the *available* credits and re-arms when
//! they rise to it again; like Warn Me's mail, a threshold fires at most once an hour, so
//! credits moving back and forth across it (a hold and its cancel, over and over) cannot
//! flood anyone.

use crate::domain::FieldError;
use crate::domain::warning::{MAIL_INTERVAL_MS, parse_emails, parse_threshold};
use crate::i18n::Msg;
use serde::{Deserialize, Serialize};

/// The most further thresholds an account has, besides Warn Me.
pub const MAX_THRESHOLDS: usize = 10;
/// The form's fields, as validation errors name them.
pub const LEVEL_FIELD: &str = "alert_threshold";
pub const EMAILS_FIELD: &str = "alert_emails";

/// What happened to an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlertKind {
    /// Available credits fell below a threshold.
    Threshold,
    /// Available credits reached zero.
    Depleted,
    /// Credits came in after the account was depleted.
    Recovered,
    /// Auto-recharge could not buy credits: declined, given up, or stopped by its cap.
    RechargeFailed,
}

impl AlertKind {
    pub const ALL: [AlertKind; 4] = [
        AlertKind::Threshold,
        AlertKind::Depleted,
        AlertKind::Recovered,
        AlertKind::RechargeFailed,
    ];

    /// The name stored in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertKind::Threshold => "threshold",
            AlertKind::Depleted => "depleted",
            AlertKind::Recovered => "recovered",
            AlertKind::RechargeFailed => "recharge_failed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The type of the webhook event it sends.
    pub const fn event_type(self) -> &'static str {
        match self {
            AlertKind::Threshold => "credits.below_threshold",
            AlertKind::Depleted => "credits.depleted",
            AlertKind::Recovered => "credits.recovered",
            AlertKind::RechargeFailed => "credits.auto_recharge_failed",
        }
    }

    /// What the bell says, with the account's name, the credits and the threshold.
    pub const fn message(self) -> Msg {
        match self {
            AlertKind::Threshold => Msg::AlertBelowThreshold,
            AlertKind::Depleted => Msg::AlertDepleted,
            AlertKind::Recovered => Msg::AlertRecovered,
            AlertKind::RechargeFailed => Msg::AlertRechargeFailed,
        }
    }
}

/// One of an account's further thresholds, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    pub id: i64,
    /// Minor units, positive.
    pub level: i64,
    /// Who gets a mail; may be empty when another channel is on.
    pub emails: Vec<String>,
    /// Shown in the bell of everyone who may see the account.
    pub in_app: bool,
    /// Sent to every active webhook.
    pub webhook: bool,
    /// When it last fired.
    pub fired_at: Option<i64>,
}

impl Threshold {
    /// Whether a change of available credits from `before` to `after` crosses it downwards.
    pub fn crossed(&self, before: i64, after: i64) -> bool {
        before >= self.level && after < self.level
    }

    /// Whether it may fire at `now`: at most once an hour. A clock that went back counts
    /// as too soon.
    pub fn may_fire(&self, now: i64) -> bool {
        self.fired_at
            .is_none_or(|last| now.saturating_sub(last) >= MAIL_INTERVAL_MS)
    }
}

/// A threshold as an administrator asks for it, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewThreshold {
    pub level: i64,
    pub emails: Vec<String>,
    pub in_app: bool,
    pub webhook: bool,
}

impl NewThreshold {
    /// Parses the form: a threshold in the service's unit, addresses (comma-separated,
    /// optional when the bell or webhooks are chosen), and the channels. At least one
    /// channel must be on. Errors name [`LEVEL_FIELD`] or [`EMAILS_FIELD`], the form's own
    /// fields beside Warn Me's on the same page.
    pub fn parse(
        level: &str,
        emails: &str,
        in_app: bool,
        webhook: bool,
    ) -> Result<NewThreshold, FieldError> {
        let rename = |field: &str| {
            let field = field.to_owned();
            move |mut error: FieldError| {
                error.field = field;
                error
            }
        };
        let level = parse_threshold(level).map_err(rename(LEVEL_FIELD))?;
        let emails = if emails.trim().is_empty() {
            if !in_app && !webhook {
                return Err(FieldError::new(EMAILS_FIELD, Msg::ErrAlertNoChannel));
            }
            Vec::new()
        } else {
            parse_emails(emails).map_err(rename(EMAILS_FIELD))?
        };
        Ok(NewThreshold {
            level,
            emails,
            in_app,
            webhook,
        })
    }

    /// Whether adding it while the account has `available` credits fires it at once, as
    /// ticking Warn Me does below the line.
    pub fn fires_on_add(&self, available: i64) -> bool {
        available < self.level
    }
}

/// Whether a change of available credits from `before` to `after` depletes or recovers an
/// account. `credited` says the change brought credits in (a purchase, an adjustment, a
/// reversal); `depleted` whether the account was depleted before it. An account is depleted
/// when its available credits reach zero from above; it recovers only when credits come in
/// and leave it above zero, so a released hold does not make it flap.
pub fn depletion(before: i64, after: i64, credited: bool, depleted: bool) -> Option<AlertKind> {
    if !depleted && before > 0 && after <= 0 {
        Some(AlertKind::Depleted)
    } else if depleted && credited && after > 0 {
        Some(AlertKind::Recovered)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(level: i64) -> Threshold {
        Threshold {
            id: 1,
            level,
            emails: vec![],
            in_app: true,
            webhook: false,
            fired_at: None,
        }
    }

    #[test]
    fn one_change_can_cross_several_thresholds_and_only_those_it_passes() {
        let thresholds = [at(100), at(50), at(10)];
        let fired: Vec<i64> = thresholds
            .iter()
            .filter(|t| t.crossed(120, 30))
            .map(|t| t.level)
            .collect();
        assert_eq!(fired, [100, 50]);
        let fired: Vec<i64> = thresholds
            .iter()
            .filter(|t| t.crossed(30, 5))
            .map(|t| t.level)
            .collect();
        assert_eq!(fired, [10]);
    }

    #[test]
    fn a_threshold_fires_once_per_crossing_and_rearms_above_it() {
        let threshold = at(50);
        let changes = [(100, 40), (40, 30), (30, 49), (49, 60), (60, 45), (45, 50)];
        let fired = changes
            .iter()
            .filter(|(before, after)| threshold.crossed(*before, *after))
            .count();
        assert_eq!(fired, 2);
        // Landing exactly on it is not below it.
        assert!(!threshold.crossed(60, 50));
        assert!(threshold.crossed(50, 49));
    }

    #[test]
    fn a_threshold_fires_at_most_once_an_hour() {
        let mut threshold = at(50);
        assert!(threshold.may_fire(0));
        threshold.fired_at = Some(1_000);
        assert!(!threshold.may_fire(1_000 + MAIL_INTERVAL_MS - 1));
        assert!(threshold.may_fire(1_000 + MAIL_INTERVAL_MS));
        assert!(!threshold.may_fire(500));
    }

    #[test]
    fn the_form_needs_a_positive_threshold_and_a_channel() {
        let ok = NewThreshold::parse("20", "a@example.com, b@example.com", false, false).unwrap();
        assert_eq!(ok.level, 200_000);
        assert_eq!(ok.emails.len(), 2);
        let bell_only = NewThreshold::parse("5", " ", true, false).unwrap();
        assert!(bell_only.emails.is_empty());
        assert!(NewThreshold::parse("5", "", false, true).is_ok());
        assert_eq!(
            NewThreshold::parse("5", "", false, false)
                .unwrap_err()
                .message,
            Msg::ErrAlertNoChannel
        );
        assert_eq!(
            NewThreshold::parse("0", "a@example.com", true, true)
                .unwrap_err()
                .field,
            LEVEL_FIELD
        );
        assert_eq!(
            NewThreshold::parse("5", "nope", true, true)
                .unwrap_err()
                .field,
            EMAILS_FIELD
        );
    }

    #[test]
    fn adding_a_threshold_above_the_available_credits_fires_it_at_once() {
        let new = NewThreshold::parse("20", "", true, false).unwrap();
        assert!(new.fires_on_add(199_999));
        assert!(!new.fires_on_add(200_000));
    }

    #[test]
    fn depleted_when_reaching_zero_recovered_only_when_credits_come_in() {
        use AlertKind::*;
        assert_eq!(depletion(10, 0, false, false), Some(Depleted));
        assert_eq!(depletion(10, 3, false, false), None);
        // Already depleted: no second event, however it moves without credits coming in.
        assert_eq!(depletion(5, 0, false, true), None);
        assert_eq!(depletion(0, 5, false, true), None);
        // A purchase (or any credit) that leaves it above zero recovers it.
        assert_eq!(depletion(0, 100, true, true), Some(Recovered));
        assert_eq!(depletion(5, 100, true, true), Some(Recovered));
        // Credits that leave it at zero (a hold still takes everything) do not.
        assert_eq!(depletion(0, 0, true, true), None);
        // A new, empty account was never depleted.
        assert_eq!(depletion(0, 0, false, false), None);
        assert_eq!(depletion(0, 100, true, false), None);
    }

    #[test]
    fn kinds_are_stored_and_sent_by_name() {
        for kind in AlertKind::ALL {
            assert_eq!(AlertKind::parse(kind.as_str()), Some(kind));
            assert!(kind.event_type().starts_with("credits."));
        }
        assert_eq!(AlertKind::parse("other"), None);
    }
}
