//! The SMS outbox: batches (one hold each) and their messages, with what each one cost.

use crate::models::{SmsBatchState, SmsOutboxLine, SmsState};
use sqlx::SqliteConnection;

/// A message about to be handed to the provider.
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

/// A batch and its messages, as a retried request finds them.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredMessage {
    pub id: i64,
    pub contact_id: Option<i64>,
    pub number: String,
    pub cost: i64,
    pub credits: i64,
    pub state: SmsState,
    pub error: Option<String>,
}

/// Records a batch and its messages as outgoing. Returns the batch id, or `None` when a
/// batch with this request key already exists (the request is a retry).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_batch(
    conn: &mut SqliteConnection,
    request_key: &str,
    author_id: i64,
    account_id: i64,
    hold_token: &str,
    messages: &[NewMessage],
    now: i64,
) -> Result<Option<(i64, Vec<i64>)>, sqlx::Error> {
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
    if inserted.rows_affected() == 0 {
        return Ok(None);
    }
    let batch = inserted.last_insert_rowid();
    let mut ids = Vec::with_capacity(messages.len());
    for m in messages {
        let row = sqlx::query(
            "INSERT INTO sms_messages
                 (batch_id, contact_id, number, country, body, encoding, parts, cost, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(batch)
        .bind(m.contact_id)
        .bind(&m.number)
        .bind(&m.country)
        .bind(&m.body)
        .bind(m.encoding)
        .bind(m.parts)
        .bind(m.cost)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        ids.push(row.last_insert_rowid());
    }
    Ok(Some((batch, ids)))
}

/// The messages of the batch with `request_key`, if that request was already made.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn batch_by_key(
    conn: &mut SqliteConnection,
    request_key: &str,
) -> Result<Option<(SmsBatchState, Vec<StoredMessage>)>, sqlx::Error> {
    let Some((id, state)): Option<(i64, SmsBatchState)> =
        sqlx::query_as("SELECT id, state FROM sms_batches WHERE request_key = ?")
            .bind(request_key)
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(None);
    };
    let messages = sqlx::query_as(
        "SELECT id, contact_id, number, cost, credits, state, error
         FROM sms_messages WHERE batch_id = ? ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some((state, messages)))
}

/// Marks a message accepted by `provider`: it cost what was held for it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_sent(
    conn: &mut SqliteConnection,
    id: i64,
    provider: &str,
    reference: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sms_messages SET state = 'sent', credits = cost, provider = ?,
             provider_reference = ?, sent_at = ?
         WHERE id = ? AND state = 'outgoing'",
    )
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
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sms_messages SET state = 'error', provider = ?, error = ?
         WHERE id = ? AND state = 'outgoing'",
    )
    .bind(provider)
    .bind(error)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn finish_batch(conn: &mut SqliteConnection, batch: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sms_batches SET state = 'done' WHERE id = ?")
        .bind(batch)
        .execute(conn)
        .await?;
    Ok(())
}

/// The newest messages first, as the Technical → SMS Outbox view lists them.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn outbox(
    conn: &mut SqliteConnection,
    limit: i64,
) -> Result<Vec<SmsOutboxLine>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.id, m.created_at, m.number, c.name AS contact_name, m.body, m.encoding, m.parts, m.cost, m.credits,
                m.state, m.provider, m.error, u.name AS author_name, a.name AS account_name,
                s.whole_number
         FROM sms_messages m
         JOIN sms_batches b ON b.id = m.batch_id
         JOIN users u ON u.id = b.author_id
         JOIN iap_accounts a ON a.id = b.account_id
         JOIN services s ON s.technical_name = a.service
         LEFT JOIN contacts c ON c.id = m.contact_id
         ORDER BY m.id DESC LIMIT ?",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}
