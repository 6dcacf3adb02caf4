//! The alerts the ledger writer fires: Warn Me (the account's first threshold), its further
//! thresholds, and the "depleted" and "recovered" events; and the crossings that make an
//! auto-recharge due (the auto-recharge worker then places and charges its order).
//!
//! The writer sees every change with the figures before and after it, and writes what fires
//! in the same transaction as the change: the mails into the outbox, an alert event (the
//! bell reads those), and one webhook delivery per active webhook. So each crossing fires
//! exactly once, whatever crashes: a change that did not commit fired nothing. What fired
//! is remembered here (the last mail, each threshold's last firing, the depleted accounts);
//! after a failed batch the writer reloads all of it from the database with the book.

use crate::db::alerts::NewEvent;
use crate::db::ledger::{self as store, EntryRow, WarningSubject};
use crate::domain::alert::{AlertKind, NewThreshold, Threshold, depletion};
use crate::domain::auto_recharge;
use crate::domain::ledger::{AccountId, Book, LedgerError};
use crate::domain::warning::{ValidWarning, WarningFacts, WarningSettings, recipients_by_language};
use crate::ledger::RechargeChange;
use sqlx::AnyConnection;
use std::collections::{HashMap, HashSet};

/// What the writer remembers to decide which alerts fire.
pub(super) struct Alerts {
    /// Warn Me, by account.
    warnings: HashMap<AccountId, WarningSettings>,
    /// When each account's last Warn Me mail was queued: at most one an hour.
    last_warned: HashMap<AccountId, i64>,
    /// Further thresholds, by account.
    thresholds: HashMap<AccountId, Vec<Threshold>>,
    /// Accounts depleted and not recovered since.
    depleted: HashSet<AccountId>,
    /// The threshold of each account whose auto-recharge is on.
    recharges: HashMap<AccountId, i64>,
    /// Where iapd is reached, for the pack store link in mails.
    public_url: String,
    /// Something above changed since [`Alerts::take_changed`]: other writers must reload.
    changed: bool,
}

/// One account's change in one operation.
struct Change {
    account: AccountId,
    /// Available credits after minus before.
    delta: i64,
    /// Credits came in (a purchase, an adjustment, a reversal).
    credited: bool,
}

/// Something that fired, and whom it goes to.
struct Firing<'a> {
    account: AccountId,
    kind: AlertKind,
    threshold: Option<i64>,
    available: i64,
    emails: &'a [String],
    in_app: bool,
    webhook: bool,
    /// Warn Me's mails count for its one-an-hour cap, so they are filed under the account.
    warn_me: bool,
}

impl Alerts {
    pub(super) fn new(public_url: &str) -> Self {
        Alerts {
            warnings: HashMap::new(),
            last_warned: HashMap::new(),
            thresholds: HashMap::new(),
            depleted: HashSet::new(),
            recharges: HashMap::new(),
            public_url: public_url.trim_end_matches('/').to_owned(),
            changed: false,
        }
    }

    /// Reads everything back from the database, the authority after a failed batch.
    pub(super) async fn reload(&mut self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        let warnings = crate::db::warnings::all(conn).await?;
        let last_warned = crate::db::outbox::last_mail_by_account(conn).await?;
        let mut thresholds: HashMap<AccountId, Vec<Threshold>> = HashMap::new();
        for (account, threshold) in crate::db::alerts::all_thresholds(conn).await? {
            thresholds.entry(account).or_default().push(threshold);
        }
        let depleted = crate::db::alerts::depleted_accounts(conn).await?;
        let recharges = crate::db::auto_recharge::active_thresholds(conn).await?;
        self.warnings = warnings.into_iter().collect();
        self.last_warned = last_warned.into_iter().collect();
        self.thresholds = thresholds;
        self.depleted = depleted.into_iter().collect();
        self.recharges = recharges.into_iter().collect();
        self.changed = false;
        Ok(())
    }

    /// Whether this batch changed what decides alerts, so other writers sharing the database
    /// reload it; the flag is cleared.
    pub(super) fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// Fires what one operation's `entries` set off, the book already changed by them.
    pub(super) async fn after(
        &mut self,
        conn: &mut AnyConnection,
        book: &Book,
        entries: &[EntryRow],
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let mut changes: Vec<Change> = Vec::new();
        for row in entries {
            let (account, amount) = (row.entry.account, row.entry.amount);
            let delta = amount - row.entry.held_delta;
            match changes.iter_mut().find(|c| c.account == account) {
                Some(change) => {
                    change.delta += delta;
                    change.credited |= amount > 0;
                }
                None => changes.push(Change {
                    account,
                    delta,
                    credited: amount > 0,
                }),
            }
        }
        for change in changes {
            if change.delta == 0 && !change.credited {
                continue;
            }
            let Some(after) = book.account(change.account).map(|a| a.available()) else {
                continue;
            };
            self.judge(conn, &change, after - change.delta, after, now)
                .await?;
        }
        Ok(())
    }

    async fn judge(
        &mut self,
        conn: &mut AnyConnection,
        change: &Change,
        before: i64,
        after: i64,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let account = change.account;
        let was_depleted = self.depleted.contains(&account);
        if let Some(kind) = depletion(before, after, change.credited, was_depleted) {
            let depleted = kind == AlertKind::Depleted;
            crate::db::alerts::set_depleted(conn, account, depleted).await?;
            self.changed = true;
            if depleted {
                self.depleted.insert(account);
            } else {
                self.depleted.remove(&account);
            }
            let firing = Firing {
                account,
                kind,
                threshold: None,
                available: after,
                emails: &[],
                in_app: true,
                webhook: true,
                warn_me: false,
            };
            self.fire(conn, firing, now).await?;
        }
        if self
            .warnings
            .get(&account)
            .is_some_and(|w| w.crossed(before, after))
        {
            self.warn_me(conn, account, after, now).await?;
        }
        let due: Vec<usize> = self
            .thresholds
            .get(&account)
            .map(|all| {
                (0..all.len())
                    .filter(|&i| all[i].crossed(before, after) && all[i].may_fire(now))
                    .collect()
            })
            .unwrap_or_default();
        for i in due {
            self.fire_threshold(conn, account, i, after, now).await?;
        }
        if self
            .recharges
            .get(&account)
            .is_some_and(|&threshold| auto_recharge::crossed(threshold, before, after))
        {
            self.recharge_due(conn, account, after, now).await?;
        }
        Ok(())
    }

    /// Marks an account's auto-recharge due: the worker places and charges its order.
    async fn recharge_due(
        &self,
        conn: &mut AnyConnection,
        account: AccountId,
        available: i64,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        if crate::db::auto_recharge::mark_due(conn, account, now).await? {
            tracing::info!(account, available, "auto-recharge due");
        } else {
            tracing::info!(
                account,
                available,
                "auto-recharge crossing: a charge is already under way"
            );
        }
        Ok(())
    }

    /// Applies a change to an account's auto-recharge; when it is on and the account is
    /// already below its threshold, the recharge is due at once.
    pub(super) async fn change_recharge(
        &mut self,
        conn: &mut AnyConnection,
        account: AccountId,
        change: &RechargeChange,
        available: i64,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        use crate::db::auto_recharge as store;
        self.changed = true;
        match change {
            RechargeChange::Settings(settings) => {
                store::save_settings(conn, account, settings, now).await?;
            }
            RechargeChange::Odoo { threshold, pack } => {
                store::save_odoo(conn, account, *threshold, *pack, now).await?;
            }
            RechargeChange::Card { card, by } => {
                store::save_card(conn, account, card, *by, now).await?;
            }
            RechargeChange::Off => store::turn_off(conn, account, now).await?,
        }
        let row = store::get(conn, account).await?;
        match row.filter(store::AutoRechargeRow::active) {
            Some(row) => {
                self.recharges.insert(account, row.threshold);
                if available < row.threshold {
                    self.recharge_due(conn, account, available, now).await?;
                }
            }
            None => {
                self.recharges.remove(&account);
            }
        }
        Ok(())
    }

    /// Fires Warn Me: its mail, and the bell and webhooks, at most once an hour.
    async fn warn_me(
        &mut self,
        conn: &mut AnyConnection,
        account: AccountId,
        available: i64,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        if !WarningSettings::mail_allowed(self.last_warned.get(&account).copied(), now) {
            tracing::info!(
                account,
                available,
                "low-credit warning skipped: one per hour"
            );
            return Ok(());
        }
        let Some(settings) = self.warnings.get(&account).cloned() else {
            return Ok(());
        };
        let firing = Firing {
            account,
            kind: AlertKind::Threshold,
            threshold: Some(settings.threshold),
            available,
            emails: &settings.emails,
            in_app: true,
            webhook: true,
            warn_me: true,
        };
        if self.fire(conn, firing, now).await? {
            self.last_warned.insert(account, now);
            self.changed = true;
        }
        Ok(())
    }

    /// Fires the `index`th further threshold of `account`.
    async fn fire_threshold(
        &mut self,
        conn: &mut AnyConnection,
        account: AccountId,
        index: usize,
        available: i64,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let Some(threshold) = self
            .thresholds
            .get(&account)
            .and_then(|all| all.get(index))
            .cloned()
        else {
            return Ok(());
        };
        let firing = Firing {
            account,
            kind: AlertKind::Threshold,
            threshold: Some(threshold.level),
            available,
            emails: &threshold.emails,
            in_app: threshold.in_app,
            webhook: threshold.webhook,
            warn_me: false,
        };
        self.fire(conn, firing, now).await?;
        crate::db::alerts::mark_fired(conn, threshold.id, now).await?;
        self.changed = true;
        if let Some(stored) = self
            .thresholds
            .get_mut(&account)
            .and_then(|all| all.get_mut(index))
        {
            stored.fired_at = Some(now);
        }
        Ok(())
    }

    /// Writes what fired: the mails, the event, the webhook deliveries. False when the
    /// account is gone.
    async fn fire(
        &self,
        conn: &mut AnyConnection,
        firing: Firing<'_>,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let Some(about) = store::warning_subject(conn, firing.account, now).await? else {
            return Ok(false);
        };
        if let Some(threshold) = firing.threshold.filter(|_| !firing.emails.is_empty()) {
            self.mail(conn, &firing, threshold, &about, now).await?;
        }
        let event = NewEvent {
            account: firing.account,
            kind: firing.kind,
            threshold: firing.threshold,
            available: firing.available,
            in_app: firing.in_app,
        };
        let id = crate::db::alerts::insert_event(conn, &event, now).await?;
        let mut webhooks = 0;
        if firing.webhook {
            let body = webhook_body(id, &event, &about, now);
            webhooks = crate::db::webhooks::enqueue_all(conn, firing.kind.event_type(), &body, now)
                .await?;
        }
        tracing::info!(
            account = firing.account,
            event = id,
            kind = firing.kind.as_str(),
            available = firing.available,
            threshold = firing.threshold,
            webhooks,
            "alert fired"
        );
        Ok(true)
    }

    /// Queues the low-credit mail to `firing`'s addresses, one per language.
    async fn mail(
        &self,
        conn: &mut AnyConnection,
        firing: &Firing<'_>,
        threshold: i64,
        about: &WarningSubject,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let fallback = about
            .locale
            .as_deref()
            .and_then(crate::i18n::Locale::parse)
            .unwrap_or_default();
        let known =
            crate::db::warnings::recipient_locales(conn, firing.account, firing.emails).await?;
        let mut facts = WarningFacts {
            account_id: firing.account,
            account_name: about.name.clone(),
            service: about.service.clone(),
            service_label: about.service_label.clone(),
            unit_name: about.unit_name.clone(),
            whole_number: about.whole_number,
            available: firing.available,
            threshold,
            used_last_week: about.used_last_week,
            locale: fallback,
        };
        for (locale, recipients) in recipients_by_language(firing.emails, &known, fallback) {
            facts.locale = locale;
            let mail =
                crate::mail::render::low_credit_warning(&facts, &self.public_url, recipients);
            let filed_under = firing.warn_me.then_some(firing.account);
            let id = crate::db::outbox::insert(conn, filed_under, &mail, now).await?;
            tracing::info!(
                account = firing.account,
                mail = id,
                locale = locale.code(),
                available = firing.available,
                threshold,
                "low-credit warning queued"
            );
        }
        Ok(())
    }

    /// Saves Warn Me and, when it now covers an account already below the line that had not
    /// been warned about it, fires it at once.
    pub(super) async fn configure_warning(
        &mut self,
        conn: &mut AnyConnection,
        account: AccountId,
        settings: &ValidWarning,
        available: i64,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let old = self.warnings.get(&account).cloned().unwrap_or_default();
        crate::db::warnings::save(conn, account, settings, now).await?;
        self.changed = true;
        self.warnings.insert(account, (**settings).clone());
        if settings.warns_on_save(&old, available) {
            self.warn_me(conn, account, available, now).await?;
        }
        Ok(())
    }

    /// Adds a further threshold, firing it at once when the account is already below it.
    pub(super) async fn add_threshold(
        &mut self,
        conn: &mut AnyConnection,
        account: AccountId,
        new: &NewThreshold,
        available: i64,
        now: i64,
    ) -> Result<Result<i64, LedgerError>, sqlx::Error> {
        let count = self.thresholds.get(&account).map_or(0, Vec::len);
        let max = crate::domain::alert::MAX_THRESHOLDS;
        if count >= max {
            let error = crate::domain::FieldError::new(
                crate::domain::alert::LEVEL_FIELD,
                crate::i18n::Msg::ErrAlertTooMany,
            )
            .arg("max", max);
            return Ok(Err(LedgerError::Invalid(error)));
        }
        let id = crate::db::alerts::insert_threshold(conn, account, new, now).await?;
        self.changed = true;
        let list = self.thresholds.entry(account).or_default();
        list.push(Threshold {
            id,
            level: new.level,
            emails: new.emails.clone(),
            in_app: new.in_app,
            webhook: new.webhook,
            fired_at: None,
        });
        let index = list.len() - 1;
        if new.fires_on_add(available) {
            self.fire_threshold(conn, account, index, available, now)
                .await?;
        }
        Ok(Ok(id))
    }

    /// Removes a further threshold; false when the account has no such threshold.
    pub(super) async fn remove_threshold(
        &mut self,
        conn: &mut AnyConnection,
        account: AccountId,
        id: i64,
    ) -> Result<bool, sqlx::Error> {
        let removed = crate::db::alerts::delete_threshold(conn, account, id).await?;
        self.changed = true;
        if let Some(list) = self.thresholds.get_mut(&account) {
            list.retain(|t| t.id != id);
        }
        Ok(removed)
    }
}

/// The webhook event of an alert. Credits are exact decimal strings in the service's unit.
fn webhook_body(id: i64, event: &NewEvent, about: &WarningSubject, now: i64) -> String {
    use crate::domain::credits::Credits;
    let decimal = |minor: i64| Credits::from_minor(minor).decimal();
    let data = serde_json::json!({
        "account": {
            "id": event.account,
            "name": about.name,
            "service": about.service,
            "unit": about.unit_name,
        },
        "available": decimal(event.available),
        "threshold": event.threshold.map(decimal),
    });
    crate::domain::webhook::event_body(&format!("evt_{id}"), event.kind.event_type(), now, data)
}
