//! Delivery reports: the statuses an SMS gateway reports for the messages it took, and
//! their way on to the Odoo database that sent each message.
//!
//! [`record`] stores each reported status on its message and, when the status changed and
//! the message came from an Odoo database with a webhook, queues a report in the same
//! transaction. The forwarder ([`start`]) posts the due reports of each webhook together,
//! as Odoo's `/sms/status` expects them: a JSON-RPC call whose `message_statuses` group
//! the uuids by status. A report that does not arrive (the database is down, answers an
//! error) is tried again after a wait that doubles each time, for days, so a database that
//! was away gets every report once it is back; as soon as one call to a database gets
//! through, everything else waiting for it is sent at the next pass. A newer status of a
//! message replaces one still waiting, so a database never gets an older status after a
//! newer one. Delivery is at least once: a report whose answer was lost is sent again, and
//! Odoo applies the same status twice harmlessly.

use crate::clock::now_ms;
use crate::db;
use crate::db::sms_reports::DueReport;
use crate::models::{SmsDelivery, SmsState};
use crate::tasks::Tasks;
use serde_json::{Value, json};
use sqlx::AnyPool;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Reports posted per pass; the rest wait for the next one.
const BATCH: i64 = 1_000;
/// Databases posted to at once: one that does not answer must not hold up the others.
const WEBHOOKS_AT_ONCE: usize = 8;

/// One status a gateway reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GatewayReport {
    /// iapd's id of the message (the `id` the gateway received it with).
    pub message: i64,
    pub status: SmsDelivery,
}

/// What [`record`] made of a call's reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Reports about messages iapd has (a repeated status included).
    pub accepted: usize,
    /// Reports about messages iapd does not know; ignored.
    pub unknown: usize,
    /// Status changes queued for an Odoo database.
    pub forwarded: usize,
}

/// Stores `reports` in one transaction, and queues a report for each status change of a
/// message an Odoo database sent with a webhook.
#[tracing::instrument(skip_all, fields(reports = reports.len()))]
pub async fn record(pool: &AnyPool, reports: &[GatewayReport]) -> Result<Recorded, sqlx::Error> {
    let now = now_ms();
    let mut outcome = Recorded::default();
    let mut tx = db::begin_write(pool).await?;
    for report in reports {
        match db::sms::set_delivery(&mut tx, report.message, report.status, now).await? {
            Some(change) => {
                outcome.accepted += 1;
                if change.state == SmsState::Error
                    && matches!(report.status, SmsDelivery::Sent | SmsDelivery::Delivered)
                {
                    // It answered no, so the message cost nothing; say so loudly.
                    tracing::error!(
                        message = report.message,
                        status = report.status.as_str(),
                        "the SMS gateway reports sending a message it refused; it was not charged"
                    );
                }
                if let (Some(uuid), Some(url)) = (change.uuid, change.webhook_url) {
                    db::sms_reports::queue(
                        &mut tx,
                        report.message,
                        &url,
                        &uuid,
                        report.status,
                        now,
                    )
                    .await?;
                    outcome.forwarded += 1;
                }
            }
            None if db::sms::exists(&mut tx, report.message).await? => outcome.accepted += 1,
            None => outcome.unknown += 1,
        }
    }
    tx.commit().await?;
    if outcome.unknown > 0 {
        tracing::warn!(
            unknown = outcome.unknown,
            "the SMS gateway reported on messages iapd does not have"
        );
    }
    Ok(outcome)
}

/// How the forwarder works.
#[derive(Clone, Debug)]
pub struct ForwarderSettings {
    /// How often it looks for due reports.
    pub poll: Duration,
    /// The wait after the first failed attempt; it doubles after each further one.
    pub first_retry: Duration,
    /// The longest wait between two attempts.
    pub max_retry: Duration,
    /// How long a report is tried before it is marked failed.
    pub give_up_after: Duration,
    /// How long a database has to answer one call.
    pub timeout: Duration,
}

impl Default for ForwarderSettings {
    fn default() -> Self {
        ForwarderSettings {
            poll: Duration::from_secs(1),
            first_retry: Duration::from_secs(10),
            max_retry: Duration::from_secs(3_600),
            give_up_after: Duration::from_secs(3 * 24 * 3_600),
            timeout: Duration::from_secs(15),
        }
    }
}

/// Starts the forwarder among `tasks`: a pass every `settings.poll`. A pass that fails is
/// logged and tried again at the next one.
pub fn start(
    tasks: &mut Tasks,
    pool: AnyPool,
    settings: ForwarderSettings,
) -> Result<(), reqwest::Error> {
    let client = reqwest::Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let settings = Arc::new(settings);
    tasks.every("sms delivery reports", settings.poll, move || {
        let (pool, client, settings) = (pool.clone(), client.clone(), settings.clone());
        async move {
            if let Err(error) = forward_due(&pool, &client, &settings).await {
                tracing::warn!(%error, "forwarding SMS delivery reports failed; trying again");
            }
        }
    });
    Ok(())
}

/// One pass: posts every due report once, grouped by webhook. Returns how many arrived.
#[tracing::instrument(skip_all)]
pub async fn forward_due(
    pool: &AnyPool,
    client: &reqwest::Client,
    settings: &ForwarderSettings,
) -> Result<usize, sqlx::Error> {
    let due = {
        let mut conn = pool.acquire().await?;
        db::sms_reports::due(&mut conn, now_ms(), BATCH).await?
    };
    let mut by_webhook: BTreeMap<String, Vec<DueReport>> = BTreeMap::new();
    for report in due {
        by_webhook
            .entry(report.webhook_url.clone())
            .or_default()
            .push(report);
    }
    let gate = Arc::new(tokio::sync::Semaphore::new(WEBHOOKS_AT_ONCE));
    let mut posting = tokio::task::JoinSet::new();
    for (url, reports) in by_webhook {
        let (client, gate) = (client.clone(), gate.clone());
        posting.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let result = post(&client, &url, &reports).await;
            (url, reports, result)
        });
    }
    let mut posted = Vec::new();
    while let Some(done) = posting.join_next().await {
        match done {
            Ok(done) => posted.push(done),
            // Not recorded: those reports are posted again at the next pass.
            Err(error) => tracing::error!(%error, "posting SMS delivery reports failed"),
        }
    }
    let mut arrived = 0;
    let mut conn = pool.acquire().await?;
    for (url, reports, result) in posted {
        let now = now_ms();
        match result {
            Ok(()) => {
                let ids: Vec<i64> = reports.iter().map(|r| r.id).collect();
                db::sms_reports::mark_sent(&mut conn, &ids, now).await?;
                db::sms_reports::due_now_for(&mut conn, &url, now).await?;
                tracing::info!(reports = ids.len(), "SMS delivery reports forwarded");
                arrived += ids.len();
            }
            Err(error) => {
                tracing::warn!(reports = reports.len(), %error, "SMS delivery reports not forwarded; will retry");
                for report in &reports {
                    let attempts = u32::try_from(report.attempts)
                        .unwrap_or(u32::MAX)
                        .saturating_add(1);
                    let age = Duration::from_millis(
                        u64::try_from(now.saturating_sub(report.created_at)).unwrap_or(0),
                    );
                    let retry_at = (age < settings.give_up_after).then(|| {
                        let wait = crate::mail::worker::retry_delay(
                            settings.first_retry,
                            settings.max_retry,
                            attempts,
                        );
                        now.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
                    });
                    db::sms_reports::mark_attempt_failed(&mut conn, report.id, &error, retry_at)
                        .await?;
                }
            }
        }
    }
    Ok(arrived)
}

/// The JSON-RPC call Odoo's `/sms/status` route takes: the uuids grouped by status.
pub fn body(reports: &[DueReport]) -> Value {
    let mut by_status: BTreeMap<&'static str, Vec<&str>> = BTreeMap::new();
    for report in reports {
        by_status
            .entry(report.status.as_str())
            .or_default()
            .push(report.uuid.as_str());
    }
    let statuses: Vec<Value> = by_status
        .into_iter()
        .map(|(status, uuids)| json!({ "sms_status": status, "uuids": uuids }))
        .collect();
    json!({
        "jsonrpc": "2.0",
        "method": "call",
        "params": { "message_statuses": statuses },
    })
}

/// Posts `reports` to `url`; any answer but a 2xx without a JSON-RPC error is a failure,
/// described for the outbox.
async fn post(client: &reqwest::Client, url: &str, reports: &[DueReport]) -> Result<(), String> {
    let response = client
        .post(url)
        .json(&body(reports))
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "the database did not answer in time".to_owned()
            } else {
                "the database could not be reached".to_owned()
            }
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the database answered {status}"));
    }
    let answer: Value = response
        .json()
        .await
        .map_err(|_| "the database's answer is not JSON".to_owned())?;
    match answer.get("error") {
        None => Ok(()),
        Some(error) => {
            let message = error
                .pointer("/data/message")
                .or_else(|| error.get("message"))
                .and_then(Value::as_str)
                .unwrap_or("an error");
            Err(format!("the database answered with an error: {message}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(id: i64, uuid: &str, status: SmsDelivery) -> DueReport {
        DueReport {
            id,
            webhook_url: "https://odoo.example/sms/status".into(),
            uuid: uuid.into(),
            status,
            attempts: 0,
            created_at: 0,
        }
    }

    #[test]
    fn reports_go_to_odoo_grouped_by_status() {
        let reports = [
            report(1, "a", SmsDelivery::Delivered),
            report(2, "b", SmsDelivery::Sent),
            report(3, "c", SmsDelivery::Delivered),
        ];
        assert_eq!(
            body(&reports),
            json!({
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"message_statuses": [
                    {"sms_status": "delivered", "uuids": ["a", "c"]},
                    {"sms_status": "sent", "uuids": ["b"]},
                ]},
            })
        );
    }
}
