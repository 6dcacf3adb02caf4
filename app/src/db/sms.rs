//! The SMS outbox: batches (one hold each) and their messages, with what each one cost.
//!
//! A batch and all its messages are committed before anything is sent; the SMS worker then
//! takes the `outgoing` messages of `pending` batches, and the ledger writer records each
//! one's fate (`sent` with its share of the capture, or `error`) in the transaction of that
//! capture ([`for_record`], [`mark_sent`], [`mark_error`]).

use crate::models::{SmsBatchStatus, SmsOutboxLine, SmsState};
use sqlx::SqliteConnection;

/// A message about to be queued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    pub contact_id: Option<i64>,
    pub number: String,
    pub country: String,
    pub body: String,
    pub encoding: &'static str,
    pub parts: i64,
    /// Minor units held for it.
    pub cost: i64,
}

/// Records a batch as pending. Returns its id, or `None` when a batch with this request
/// key already exists (the request is a retry).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_batch(
    conn: &mut SqliteConnection,
    request_key: &str,
    author_id: i64,
    account_id: i64,
    hold_token: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO sms_batches (request_key, author_id, account_id, hold_token, created_at)
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (request_key) DO NOTHING",
    )
    .bind(request_key)
    .bind(author_id)
    .bind(account_id)
    .bind(hold_token)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok((inserted.rows_affected() == 1).then(|| inserted.last_insert_rowid()))
}

/// Queues one message of `batch`; `chatter_id` is the chatter line that shows it, if any.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_message(
    conn: &mut SqliteConnection,
    batch: i64,
    message: &NewMessage,
    chatter_id: Option<i64>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO sms_messages
             (batch_id, contact_id, number, country, body, encoding, parts, cost, chatter_id,
              created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(batch)
    .bind(message.contact_id)
    .bind(&message.number)
    .bind(&message.country)
    .bind(&message.body)
    .bind(message.encoding)
    .bind(message.parts)
    .bind(message.cost)
    .bind(chatter_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(row.last_insert_rowid())
}

/// The batch made with `request_key`, if that request was already made.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn batch_by_key(
    conn: &mut SqliteConnection,
    request_key: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM sms_batches WHERE request_key = ?")
        .bind(request_key)
        .fetch_optional(conn)
        .await
}

/// Where a batch stands: how many of its messages wait, went out or failed, and what was
/// charged so far. `None` for a batch that does not exist.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn batch_status(
    conn: &mut SqliteConnection,
    batch: i64,
) -> Result<Option<SmsBatchStatus>, sqlx::Error> {
    sqlx::query_as(
        "SELECT b.id AS batch_id, b.state,
                SUM(m.state = 'outgoing') AS queued, SUM(m.state = 'sent') AS sent,
                SUM(m.state = 'error') AS failed, SUM(m.cost) AS held, SUM(m.credits) AS credits
         FROM sms_batches b JOIN sms_messages m ON m.batch_id = b.id
         WHERE b.id = ? GROUP BY b.id",
    )
    .bind(batch)
    .fetch_optional(conn)
    .await
}

/// Who sent `batch`, if it exists.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn batch_author(
    conn: &mut SqliteConnection,
    batch: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT author_id FROM sms_batches WHERE id = ?")
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
    pub hold_token: String,
    /// Who sent it: the ledger entry of its capture names them.
    pub author_id: Option<i64>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn for_record(
    conn: &mut SqliteConnection,
    message: i64,
) -> Result<Option<MessageToRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.state, m.cost, m.credits, b.hold_token, b.author_id
         FROM sms_messages m JOIN sms_batches b ON b.id = m.batch_id WHERE m.id = ?",
    )
    .bind(message)
    .fetch_optional(conn)
    .await
}

/// Marks a message accepted by `provider`, charged `credits` (its cost; 0 only when its
/// hold had ended, which the job prevents).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_sent(
    conn: &mut SqliteConnection,
    id: i64,
    provider: &str,
    reference: &str,
    credits: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sms_messages SET state = 'sent', credits = ?, provider = ?,
             provider_reference = ?, sent_at = ?
         WHERE id = ? AND state = 'outgoing'",
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
    conn: &mut SqliteConnection,
    id: i64,
    provider: &str,
    error: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sms_messages SET state = 'error', provider = ?, error = ?, sent_at = ?
         WHERE id = ? AND state = 'outgoing'",
    )
    .bind(provider)
    .bind(error)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks every message of `batch` still waiting as not sent, for `error`: its batch can no
/// longer pay for it. They cost nothing.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn fail_outgoing(
    conn: &mut SqliteConnection,
    batch: i64,
    error: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sms_messages SET state = 'error', error = ?, sent_at = ?
         WHERE batch_id = ? AND state = 'outgoing'",
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
    pub hold_token: String,
}

/// Pending batches, oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn pending_batches(
    conn: &mut SqliteConnection,
    limit: i64,
) -> Result<Vec<PendingBatch>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, account_id, hold_token FROM sms_batches WHERE state = 'pending'
         ORDER BY id LIMIT ?",
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
    conn: &mut SqliteConnection,
    batch: i64,
) -> Result<Vec<OutgoingMessage>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, number, body, encoding, parts, cost FROM sms_messages
         WHERE batch_id = ? AND state = 'outgoing' ORDER BY id",
    )
    .bind(batch)
    .fetch_all(conn)
    .await
}

/// Points `batch` at the hold that now pays for its waiting messages.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_hold(
    conn: &mut SqliteConnection,
    batch: i64,
    hold_token: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sms_batches SET hold_token = ? WHERE id = ?")
        .bind(hold_token)
        .bind(batch)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks a batch done once none of its messages waits any more.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn finish_batch(conn: &mut SqliteConnection, batch: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sms_batches SET state = 'done' WHERE id = ? AND state = 'pending'
             AND NOT EXISTS (SELECT 1 FROM sms_messages WHERE batch_id = ? AND state = 'outgoing')",
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
    conn: &mut SqliteConnection,
    limit: i64,
) -> Result<Vec<SmsOutboxLine>, sqlx::Error> {
    sqlx::query_as(
        "WITH page AS (SELECT * FROM sms_messages ORDER BY id DESC LIMIT ?),
              progress AS (
                  SELECT batch_id, SUM(state = 'outgoing') AS batch_queued,
                         SUM(state = 'sent') AS batch_sent, SUM(state = 'error') AS batch_failed
                  FROM sms_messages WHERE batch_id IN (SELECT batch_id FROM page)
                  GROUP BY batch_id)
         SELECT m.id, m.created_at, m.number, c.name AS contact_name, m.body, m.encoding,
                m.parts, m.cost, m.credits, m.state, m.provider, m.error,
                u.name AS author_name, a.name AS account_name, s.whole_number,
                m.batch_id, p.batch_queued, p.batch_sent, p.batch_failed
         FROM page m
         JOIN sms_batches b ON b.id = m.batch_id
         JOIN progress p ON p.batch_id = m.batch_id
         JOIN users u ON u.id = b.author_id
         JOIN iap_accounts a ON a.id = b.account_id
         JOIN services s ON s.technical_name = a.service
         LEFT JOIN contacts c ON c.id = m.contact_id
         ORDER BY m.id DESC",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}
