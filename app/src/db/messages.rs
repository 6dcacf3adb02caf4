//! The chatter: a log of what happened to a record, newest last. A line that logs an SMS
//! shows the message's progress, read from the outbox each time.

use crate::domain::credits::Credits;
use crate::domain::time::Timestamp;
use crate::i18n::Note;
use crate::models::{ChatterMessage, ChatterSms, SmsBatchState, SmsBatchStatus, SmsState};
use sqlx::AnyConnection;

/// Adds a line to the record's chatter; returns its id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn post(
    conn: &mut AnyConnection,
    model: &str,
    res_id: i64,
    author_id: i64,
    body: &Note,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO messages (model, res_id, author_id, body, note, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(model)
    .bind(res_id)
    .bind(author_id)
    .bind(body.plain())
    .bind(body.stored())
    .bind(now)
    .fetch_one(conn)
    .await
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    author_name: String,
    body: String,
    note: Option<String>,
    created_at: Timestamp,
    sms_state: Option<SmsState>,
    sms_error: Option<String>,
    batch_id: Option<i64>,
    batch_state: Option<SmsBatchState>,
    batch_queued: Option<i64>,
    batch_sent: Option<i64>,
    batch_failed: Option<i64>,
    batch_held: Option<i64>,
    batch_credits: Option<i64>,
}

impl Row {
    fn into_message(self) -> ChatterMessage {
        let count = |n: Option<i64>| u32::try_from(n.unwrap_or(0)).unwrap_or(u32::MAX);
        let sms = match (self.sms_state, self.batch_id, self.batch_state) {
            (Some(state), Some(batch_id), Some(batch_state)) => Some(ChatterSms {
                state,
                error: self.sms_error,
                batch: SmsBatchStatus {
                    batch_id,
                    state: batch_state,
                    queued: count(self.batch_queued),
                    sent: count(self.batch_sent),
                    failed: count(self.batch_failed),
                    held: Credits::from_minor(self.batch_held.unwrap_or(0)),
                    credits: Credits::from_minor(self.batch_credits.unwrap_or(0)),
                },
            }),
            _ => None,
        };
        ChatterMessage {
            id: self.id,
            author_name: self.author_name,
            body: Note::from_stored(self.body, self.note.as_deref()),
            created_at: self.created_at,
            sms,
        }
    }
}

/// The record's messages, newest first, as Odoo's chatter shows them.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn of_record(
    conn: &mut AnyConnection,
    model: &str,
    res_id: i64,
) -> Result<Vec<ChatterMessage>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "WITH page AS (SELECT * FROM messages WHERE model = $1 AND res_id = $2
                       ORDER BY id DESC LIMIT 200)
         SELECT m.id, COALESCE(u.name, 'System') AS author_name, m.body, m.note,
                m.created_at,
                s.state AS sms_state, s.error AS sms_error, b.id AS batch_id,
                b.state AS batch_state,
                (SELECT CAST(SUM(CASE WHEN x.state = 'outgoing' THEN 1 ELSE 0 END) AS BIGINT) FROM sms_messages x WHERE x.batch_id = b.id)
                    AS batch_queued,
                (SELECT CAST(SUM(CASE WHEN x.state = 'sent' THEN 1 ELSE 0 END) AS BIGINT) FROM sms_messages x WHERE x.batch_id = b.id)
                    AS batch_sent,
                (SELECT CAST(SUM(CASE WHEN x.state = 'error' THEN 1 ELSE 0 END) AS BIGINT) FROM sms_messages x WHERE x.batch_id = b.id)
                    AS batch_failed,
                (SELECT CAST(SUM(x.cost) AS BIGINT) FROM sms_messages x WHERE x.batch_id = b.id)
                    AS batch_held,
                (SELECT CAST(SUM(x.credits) AS BIGINT) FROM sms_messages x WHERE x.batch_id = b.id)
                    AS batch_credits
         FROM page m
         LEFT JOIN users u ON u.id = m.author_id
         LEFT JOIN sms_messages s ON s.chatter_id = m.id
         LEFT JOIN sms_batches b ON b.id = s.batch_id
         ORDER BY m.id DESC",
    )
    .bind(model)
    .bind(res_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Row::into_message).collect())
}
