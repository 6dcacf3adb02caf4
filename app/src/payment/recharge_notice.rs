//! Telling people an auto-recharge bought nothing: an alert event (the bell shows it to
//! everyone who may see the account, administrators included), a
//! `credits.auto_recharge_failed` event to every active webhook, and a mail to the
//! account's Warning Email recipients, in their languages. Written in the caller's
//! transaction, with the failure itself.

use crate::db;
use crate::db::alerts::NewEvent;
use crate::db::auto_recharge::AutoRechargeRow;
use crate::domain::alert::AlertKind;
use crate::domain::credits::Credits;
use crate::domain::warning::recipients_by_language;
use crate::mail::render::{RechargeFailure, auto_recharge_failed};
use sqlx::AnyConnection;

pub async fn notify(
    conn: &mut AnyConnection,
    row: &AutoRechargeRow,
    reason: &str,
    next_attempt: Option<i64>,
    public_url: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let account = row.account_id;
    let Some(about) = db::ledger::warning_subject(conn, account, now).await? else {
        return Ok(());
    };
    let Some(facts) = db::auto_recharge::notice_facts(conn, account).await? else {
        return Ok(());
    };
    let event = NewEvent {
        account,
        kind: AlertKind::RechargeFailed,
        threshold: None,
        available: facts.available,
        in_app: true,
    };
    let id = db::alerts::insert_event(conn, &event, now).await?;
    let decimal = |minor: i64| Credits::from_minor(minor).decimal();
    let data = serde_json::json!({
        "account": {
            "id": account,
            "name": about.name,
            "service": about.service,
            "unit": about.unit_name,
        },
        "available": decimal(facts.available),
        "threshold": decimal(row.threshold),
        "pack": facts.pack_name,
        "amount": facts.price.map(|cents| format!("{}.{:02}", cents / 100, cents % 100)),
        "currency": facts.currency,
        "reason": reason,
        "next_attempt": next_attempt.map(|ms| ms / 1_000),
    });
    let kind = AlertKind::RechargeFailed.event_type();
    let body = crate::domain::webhook::event_body(&format!("evt_{id}"), kind, now, data);
    let webhooks = db::webhooks::enqueue_all(conn, kind, &body, now).await?;
    let emails = db::warnings::get(conn, account).await?.emails;
    let mut mails = 0;
    if !emails.is_empty() {
        let fallback = about
            .locale
            .as_deref()
            .and_then(crate::i18n::Locale::parse)
            .unwrap_or_default();
        let known = db::warnings::recipient_locales(conn, account, &emails).await?;
        let mut failure = RechargeFailure {
            account_id: account,
            account_name: about.name.clone(),
            pack_name: facts.pack_name.clone().unwrap_or_default(),
            price: facts.price.unwrap_or_default(),
            currency: facts.currency.clone().unwrap_or_default(),
            reason: reason.to_owned(),
            next_attempt,
            locale: fallback,
        };
        for (locale, recipients) in recipients_by_language(&emails, &known, fallback) {
            failure.locale = locale;
            let mail = auto_recharge_failed(&failure, public_url, recipients);
            // Filed under no account: mails filed under one count as its Warn Me mails.
            db::outbox::insert(conn, None, &mail, now).await?;
            mails += 1;
        }
    }
    tracing::info!(account, event = id, webhooks, mails, %reason, "auto-recharge failure notified");
    Ok(())
}
