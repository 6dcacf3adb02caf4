//! The SMS outbox: batches (one hold each) and their messages, with what each one cost.
//!
//! A batch and all its messages are committed before anything is sent; the SMS worker then
//! takes the `outgoing` messages of `pending` batches, and the ledger writer records each
//! one's fate (`sent` with its share of the capture, or `error`) in the transaction of that
//! capture ([`for_record`], [`mark_sent`], [`mark_error`]). A recipient that cannot be
//! texted is stored as an `error` at once, with its [`SmsFailure`], and costs nothing.
//! Batches an Odoo database sends carry its uuid for each message and where its delivery
//! reports go.

use crate::models::{
    SmsBatchState, SmsBatchStatus, SmsDelivery, SmsFailure, SmsOutboxLine, SmsSource, SmsState,
};
use sqlx::AnyConnection;

/// A batch about to be queued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBatch<'a> {
    pub request_key: &'a str,
    pub source: SmsSource,
    /// The user who sent it from a page; `None` for the API.
    pub author_id: Option<i64>,
    pub account_id: i64,
    /// `None` when none of its messages can be sent, so nothing was held.
    pub hold_token: Option<&'a str>,
    pub dbuuid: Option<&'a str>,
    pub webhook_url: Option<&'a str>,
    pub sender_name: Option<&'a str>,
}

/// A message about to be queued, or recorded as not sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    pub contact_id: Option<i64>,
    /// Odoo's id for it (API).
    pub uuid: Option<String>,
    pub number: String,
    pub country: Option<String>,
    pub body: String,
    pub encoding: &'static str,
    pub parts: i64,
    /// Minor units held for it; 0 when it is refused.
    pub cost: i64,
    /// Why it cannot be sent, and the reason as users read it; `None` to queue it.
    pub refused: Option<(SmsFailure, String)>,
}

/// Records a batch: pending, or done at once when it has nothing to send. Returns its id,
/// or `None` when a batch with this request key already exists (the request is a retry).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_batch(
    conn: &mut AnyConnection,
    batch: &NewBatch<'_>,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let state = if batch.hold_token.is_some() {
        SmsBatchState::Pending
    } else {
        SmsBatchState::Done
    };
    sqlx::query_scalar(
        "INSERT INTO sms_batches (request_key, source, author_id, account_id, hold_token, state,
                                  dbuuid, webhook_url, sender_name, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (request_key) DO NOTHING RETURNING id",
    )
    .bind(batch.request_key)
    .bind(batch.source)
    .bind(batch.author_id)
    .bind(batch.account_id)
    .bind(batch.hold_token)
    .bind(state)
    .bind(batch.dbuuid)
    .bind(batch.webhook_url)
    .bind(batch.sender_name)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
}

/// Stores one message of `batch`, queued or refused; `chatter_id` is the chatter line that
/// shows it, if any.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_message(
    conn: &mut AnyConnection,
    batch: i64,
    message: &NewMessage,
    chatter_id: Option<i64>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let (state, failure, error) = match &message.refused {
        None => (SmsState::Outgoing, None, None),
        Some((failure, error)) => (SmsState::Error, Some(*failure), Some(error.as_str())),
    };
    sqlx::query_scalar(
        "INSERT INTO sms_messages
             (batch_id, contact_id, uuid, number, country, body, encoding, parts, cost, state,
              failure, error, chatter_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
    )
    .bind(batch)
    .bind(message.contact_id)
    .bind(&message.uuid)
    .bind(&message.number)
    .bind(&message.country)
    .bind(&message.body)
    .bind(message.encoding)
    .bind(message.parts)
    .bind(message.cost)
    .bind(state)
    .bind(failure)
    .bind(error)
    .bind(chatter_id)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// A message as the SMS API answers about it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiMessage {
    pub id: i64,
    pub uuid: Option<String>,
    pub account_id: i64,
    pub state: SmsState,
    pub failure: Option<SmsFailure>,
    pub credits: i64,
    /// Its batch names a webhook: what becomes of it can be reported later.
    #[sqlx(try_from = "crate::db::Flag")]
    pub has_webhook: bool,
}

const API_MESSAGE: &str = "SELECT m.id, m.uuid, b.account_id, m.state, m.failure, m.credits,
            b.webhook_url IS NOT NULL AS has_webhook
     FROM sms_messages m JOIN sms_batches b ON b.id = m.batch_id";

/// The messages already stored under any of `uuids`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn by_uuids(
    conn: &mut AnyConnection,
    uuids: &[&str],
) -> Result<Vec<ApiMessage>, sqlx::Error> {
    if uuids.is_empty() {
        return Ok(Vec::new());
    }
    let list = serde_json::to_string(uuids).unwrap_or_else(|_| "[]".into());
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{API_MESSAGE} WHERE m.uuid IN (SELECT value FROM json_each($1))"
    )))
    .bind(list)
    .fetch_all(conn)
    .await
}

/// The messages of `batch`, in the order they were stored.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn of_batch(
    conn: &mut AnyConnection,
    batch: i64,
) -> Result<Vec<ApiMessage>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{API_MESSAGE} WHERE m.batch_id = $1 ORDER BY m.id"
    )))
    .bind(batch)
    .fetch_all(conn)
    .await
}

/// The messages with these ids.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn by_ids(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<ApiMessage>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{API_MESSAGE} WHERE m.id IN (SELECT CAST(value AS BIGINT) FROM json_each($1))"
    )))
    .bind(super::id_list(ids))
    .fetch_all(conn)
    .await
}

/// Marks those of `ids` still waiting, in a batch with a webhook, as answered
/// "processing": what becomes of them is reported to the webhook when the ledger records
/// it. Returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn report_outcomes(conn: &mut AnyConnection, ids: &[i64]) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sms_messages SET report_outcome = 1
         WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each($1)) AND state = 'outgoing'
           AND uuid IS NOT NULL AND report_outcome = 0
           AND (SELECT webhook_url FROM sms_batches b WHERE b.id = batch_id) IS NOT NULL",
    )
    .bind(super::id_list(ids))
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// A delivery status that changed, and where to report it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryChange {
    pub uuid: Option<String>,
    pub webhook_url: Option<String>,
    /// Where the message stands in iapd: a report of delivery for one recorded as refused
    /// is a gateway that broke its word.
    pub state: SmsState,
}

/// Stores the delivery status a gateway reported for `message`. `None` when the message
/// does not exist or already had this status (nothing changed).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_delivery(
    conn: &mut AnyConnection,
    message: i64,
    status: SmsDelivery,
    now: i64,
) -> Result<Option<DeliveryChange>, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE sms_messages SET delivery = $1, delivery_at = $2
         WHERE id = $3 AND delivery IS DISTINCT FROM $4",
    )
    .bind(status)
    .bind(now)
    .bind(message)
    .bind(status)
    .execute(&mut *conn)
    .await?;
    if changed.rows_affected() == 0 {
        return Ok(None);
    }
    sqlx::query_as(
        "SELECT m.uuid, b.webhook_url, m.state
         FROM sms_messages m JOIN sms_batches b ON b.id = m.batch_id WHERE m.id = $1",
    )
    .bind(message)
    .fetch_optional(conn)
    .await
}

/// Whether `message` exists.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn exists(conn: &mut AnyConnection, message: i64) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM sms_messages WHERE id = $1")
        .bind(message)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// The sender name of an SMS account, if its database chose one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn sender_name(
    conn: &mut AnyConnection,
    account: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT sender_name FROM sms_senders WHERE account_id = $1")
        .bind(account)
        .fetch_optional(conn)
        .await
}

/// Sets the sender name of an SMS account (already checked).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_sender_name(
    conn: &mut AnyConnection,
    account: i64,
    name: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sms_senders (account_id, sender_name, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (account_id) DO UPDATE SET sender_name = excluded.sender_name,
                                                updated_at = excluded.updated_at",
    )
    .bind(account)
    .bind(name)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The batch made with `request_key`, if that request was already made.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn batch_by_key(
    conn: &mut AnyConnection,
    request_key: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM sms_batches WHERE request_key = $1")
        .bind(request_key)
        .fetch_optional(conn)
        .await
}

/// A recipient a batch left out, as a retried send names it again.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Refused {
    /// The contact's name; empty for a message sent through the API.
    pub name: String,
    pub number: String,
    pub failure: SmsFailure,
}

/// The messages of `batch` refused because their recipient cannot be texted.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn refused_in(conn: &mut AnyConnection, batch: i64) -> Result<Vec<Refused>, sqlx::Error> {
    sqlx::query_as(
        "SELECT COALESCE(c.name, '') AS name, m.number, m.failure FROM sms_messages m
         LEFT JOIN contacts c ON c.id = m.contact_id
         WHERE m.batch_id = $1
           AND m.failure IN ('no_number', 'wrong_number_format', 'country_not_supported')
         ORDER BY m.id",
    )
    .bind(batch)
    .fetch_all(conn)
    .await
}

/// Where a batch stands: how many of its messages wait, went out or failed, and what was
/// charged so far. `None` for a batch that does not exist.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn batch_status(
    conn: &mut AnyConnection,
    batch: i64,
) -> Result<Option<SmsBatchStatus>, sqlx::Error> {
    sqlx::query_as(
        "SELECT b.id AS batch_id, b.state,
                CAST(SUM(CASE WHEN m.state = 'outgoing' THEN 1 ELSE 0 END) AS BIGINT) AS queued, CAST(SUM(CASE WHEN m.state = 'sent' THEN 1 ELSE 0 END) AS BIGINT) AS sent,
                CAST(SUM(CASE WHEN m.state = 'error' THEN 1 ELSE 0 END) AS BIGINT) AS failed, CAST(SUM(m.cost) AS BIGINT) AS held, CAST(SUM(m.credits) AS BIGINT) AS credits
         FROM sms_batches b JOIN sms_messages m ON m.batch_id = b.id
         WHERE b.id = $1 GROUP BY b.id",
    )
    .bind(batch)
    .fetch_optional(conn)
    .await
}

/// Who sent `batch` (`None` inside for the API), if it exists.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn batch_author(
    conn: &mut AnyConnection,
    batch: i64,
) -> Result<Option<Option<i64>>, sqlx::Error> {
    sqlx::query_scalar("SELECT author_id FROM sms_batches WHERE id = $1")
        .bind(batch)
        .fetch_optional(conn)
        .await
}

/// What the ledger writer needs to record a message's fate.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct MessageToRecord {
    pub state: SmsState,
    pub cost: i64,
    pub credits: i64,
    /// The hold of its batch, which pays for it.
    pub hold_token: Option<String>,
    /// Who sent it: the ledger entry of its capture names them.
    pub author_id: Option<i64>,
    /// Odoo's id for it, and where its outcome goes when the API answered "processing".
    pub uuid: Option<String>,
    pub webhook_url: Option<String>,
    #[sqlx(try_from = "crate::db::Flag")]
    pub report_outcome: bool,
    /// What the gateway already reported for it, if anything.
    pub delivery: Option<SmsDelivery>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn for_record(
    conn: &mut AnyConnection,
    message: i64,
) -> Result<Option<MessageToRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.state, m.cost, m.credits, b.hold_token, b.author_id, m.uuid, b.webhook_url,
                m.report_outcome, m.delivery
         FROM sms_messages m JOIN sms_batches b ON b.id = m.batch_id WHERE m.id = $1",
    )
    .bind(message)
    .fetch_optional(conn)
    .await
}

/// Marks a message accepted by `provider`, charged `credits` (its cost; 0 only when its
/// hold had ended, which the job prevents).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_sent(
    conn: &mut AnyConnection,
    id: i64,
    provider: &str,
    reference: &str,
    credits: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sms_messages SET state = 'sent', credits = $1, provider = $2,
             provider_reference = $3, sent_at = $4, error = NULL
         WHERE id = $5 AND state = 'outgoing'",
    )
    .bind(credits)
    .bind(provider)
    .bind(reference)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a message refused by `provider`: it cost nothing, and the reason is kept.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_error(
    conn: &mut AnyConnection,
    id: i64,
    provider: &str,
    error: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sms_messages SET state = 'error', failure = 'provider', provider = $1, error = $2,
             sent_at = $3
         WHERE id = $4 AND state = 'outgoing'",
    )
    .bind(provider)
    .bind(error)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Keeps why a queued message did not go out this time (its provider gave no clear
/// answer): it stays queued, and the outbox shows the reason until it is recorded.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn note_unsure(
    conn: &mut AnyConnection,
    id: i64,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sms_messages SET error = $1 WHERE id = $2 AND state = 'outgoing'")
        .bind(reason)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The holds that pay for unfinished batches.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn pending_hold_tokens(conn: &mut AnyConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT hold_token FROM sms_batches WHERE state = 'pending' AND hold_token IS NOT NULL",
    )
    .fetch_all(conn)
    .await
}

/// Marks every message of `batch` still waiting as not sent, for `error`: its batch can no
/// longer pay for it. They cost nothing.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn fail_outgoing(
    conn: &mut AnyConnection,
    batch: i64,
    error: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sms_messages SET state = 'error', failure = 'not_paid', error = $1, sent_at = $2
         WHERE batch_id = $3 AND state = 'outgoing'",
    )
    .bind(error)
    .bind(now)
    .bind(batch)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// A batch the worker has yet to finish.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingBatch {
    pub id: i64,
    pub account_id: i64,
    /// A pending batch always has a hold (see [`insert_batch`]).
    pub hold_token: String,
    /// The Odoo database that sent it, named in its ledger entries.
    pub dbuuid: Option<String>,
    /// Passed to the gateway with each message.
    pub sender_name: Option<String>,
}

/// Pending batches, oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn pending_batches(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<PendingBatch>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, account_id, hold_token, dbuuid, sender_name FROM sms_batches
         WHERE state = 'pending' AND hold_token IS NOT NULL ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A queued message as the worker hands it to the provider.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OutgoingMessage {
    pub id: i64,
    pub number: String,
    pub body: String,
    pub encoding: String,
    pub parts: i64,
    pub cost: i64,
}

/// The messages of `batch` still waiting, in the order they were queued.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn outgoing(
    conn: &mut AnyConnection,
    batch: i64,
) -> Result<Vec<OutgoingMessage>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, number, body, encoding, parts, cost FROM sms_messages
         WHERE batch_id = $1 AND state = 'outgoing' ORDER BY id",
    )
    .bind(batch)
    .fetch_all(conn)
    .await
}

/// Points `batch` at the hold that now pays for its waiting messages.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_hold(
    conn: &mut AnyConnection,
    batch: i64,
    hold_token: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sms_batches SET hold_token = $1 WHERE id = $2")
        .bind(hold_token)
        .bind(batch)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks a batch done once none of its messages waits any more.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn finish_batch(conn: &mut AnyConnection, batch: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sms_batches SET state = 'done' WHERE id = $1 AND state = 'pending'
             AND NOT EXISTS (SELECT 1 FROM sms_messages WHERE batch_id = $2 AND state = 'outgoing')",
    )
    .bind(batch)
    .bind(batch)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The newest messages first, as the Technical → SMS Outbox view lists them, each with its
/// batch's progress.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn outbox(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<SmsOutboxLine>, sqlx::Error> {
    sqlx::query_as(
        "WITH page AS (SELECT * FROM sms_messages ORDER BY id DESC LIMIT $1),
              progress AS (
                  SELECT batch_id, CAST(SUM(CASE WHEN state = 'outgoing' THEN 1 ELSE 0 END) AS BIGINT) AS batch_queued,
                         CAST(SUM(CASE WHEN state = 'sent' THEN 1 ELSE 0 END) AS BIGINT) AS batch_sent, CAST(SUM(CASE WHEN state = 'error' THEN 1 ELSE 0 END) AS BIGINT) AS batch_failed
                  FROM sms_messages WHERE batch_id IN (SELECT batch_id FROM page)
                  GROUP BY batch_id)
         SELECT m.id, m.created_at, m.number, c.name AS contact_name, m.body, m.encoding,
                m.parts, m.cost, m.credits, m.state, m.delivery, m.provider, m.error,
                u.name AS author_name, b.dbuuid, a.name AS account_name, s.whole_number,
                m.batch_id, p.batch_queued, p.batch_sent, p.batch_failed
         FROM page m
         JOIN sms_batches b ON b.id = m.batch_id
         JOIN progress p ON p.batch_id = m.batch_id
         LEFT JOIN users u ON u.id = b.author_id
         JOIN iap_accounts a ON a.id = b.account_id
         JOIN services s ON s.technical_name = a.service
         LEFT JOIN contacts c ON c.id = m.contact_id
         ORDER BY m.id DESC",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}
