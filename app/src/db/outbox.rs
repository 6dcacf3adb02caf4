//! The mail outbox: mails are inserted in the transaction of the change that causes them,
//! and a worker delivers them. A mail is `queued` until it is `sent`, or `failed` after the
//! worker's last attempt; `attempts`, `next_attempt_at` and `last_error` record the retries.

use crate::models::OutboxMail;
use sqlx::AnyConnection;

/// A rendered mail, ready for the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub recipients: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Queues `mail`, due at once.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    conn: &mut AnyConnection,
    account: Option<i64>,
    mail: &Mail,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO mail_outbox (account_id, recipients, subject, text_body, html_body,
                                  next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(account)
    .bind(serde_json::to_string(&mail.recipients).unwrap_or_else(|_| "[]".into()))
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(&mail.html)
    .bind(now)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// When each account was last sent a warning about it (mails about an account are its
/// low-credit warnings), for the one-per-hour cap.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn last_mail_by_account(
    conn: &mut AnyConnection,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT account_id, MAX(created_at) FROM mail_outbox
         WHERE account_id IS NOT NULL GROUP BY account_id",
    )
    .fetch_all(conn)
    .await
}

/// A queued mail as the worker sends it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DueMail {
    pub id: i64,
    /// JSON array of addresses.
    pub recipients: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub attempts: i64,
}

impl DueMail {
    pub fn recipient_list(&self) -> Vec<String> {
        serde_json::from_str(&self.recipients).unwrap_or_default()
    }
}

/// Claims up to `limit` queued mails whose next attempt is due at `now`, oldest first: their
/// next attempt moves to `until`, so no other pass takes them meanwhile, and a pass that
/// dies before recording its attempt leaves them due again then; claims never overlap
/// ([`crate::db::skip_locked`]). With nothing due it only reads: on SQLite a pass over an
/// empty outbox does not queue for the write lock behind the ledger's batches.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn claim_due(
    conn: &mut AnyConnection,
    now: i64,
    until: i64,
    limit: i64,
) -> Result<Vec<DueMail>, sqlx::Error> {
    let any_due: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM mail_outbox WHERE state = 'queued' AND next_attempt_at <= $1 LIMIT 1",
    )
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    if any_due.is_none() {
        return Ok(Vec::new());
    }
    let skip_locked = crate::db::skip_locked(conn, None);
    let sql = format!(
        "UPDATE mail_outbox SET next_attempt_at = $1
         WHERE id IN (SELECT id FROM mail_outbox
                      WHERE state = 'queued' AND next_attempt_at <= $2
                      ORDER BY next_attempt_at, id LIMIT $3 {skip_locked})
         RETURNING id, recipients, subject, text_body, html_body, attempts"
    );
    let mut due: Vec<DueMail> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(until)
        .bind(now)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    due.sort_by_key(|mail| mail.id);
    Ok(due)
}

/// Queued mails created after mail `after`, for logging them when no SMTP server is set.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn queued_after(
    conn: &mut AnyConnection,
    after: i64,
) -> Result<Vec<DueMail>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, recipients, subject, text_body, html_body, attempts FROM mail_outbox
         WHERE state = 'queued' AND id > $1 ORDER BY id LIMIT 100",
    )
    .bind(after)
    .fetch_all(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_sent(conn: &mut AnyConnection, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mail_outbox SET state = 'sent', attempts = attempts + 1, sent_at = $1,
                last_error = NULL
         WHERE id = $2 AND state = 'queued'",
    )
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a failed attempt: retried at `retry_at`, or `failed` for good when `None`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_attempt_failed(
    conn: &mut AnyConnection,
    id: i64,
    error: &str,
    retry_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $1,
                state = CASE WHEN $2 IS NULL THEN 'failed' ELSE 'queued' END,
                next_attempt_at = COALESCE($3, next_attempt_at)
         WHERE id = $4 AND state = 'queued'",
    )
    .bind(error)
    .bind(retry_at)
    .bind(retry_at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The newest mails, for Settings → Technical → Emails.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn newest(conn: &mut AnyConnection, limit: i64) -> Result<Vec<OutboxMail>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.id, m.account_id,
                COALESCE((SELECT string_agg(value, ', ') FROM json_each(m.recipients)), '')
                    AS recipients,
                m.subject, m.text_body, m.html_body, m.state, m.attempts, m.last_error,
                m.created_at, m.sent_at
         FROM mail_outbox m ORDER BY m.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn two_passes_claiming_at_once_never_take_the_same_mail_until_their_claim_lapses() {
        let (pool, _) = crate::db::scratch("outbox-claims").await.unwrap();
        let mut conn = pool.acquire().await.unwrap();
        for i in 0..30 {
            let mail = Mail {
                recipients: vec![format!("ops{i}@example.com")],
                subject: "Low credits".into(),
                text: "t".into(),
                html: "h".into(),
            };
            insert(&mut conn, None, &mail, 1_000).await.unwrap();
        }
        drop(conn);
        let claim = |pool: sqlx::AnyPool| async move {
            let mut conn = pool.acquire().await.unwrap();
            claim_due(&mut conn, 2_000, 5_000, 20).await.unwrap()
        };
        let (first, second) = tokio::join!(claim(pool.clone()), claim(pool.clone()));
        let mut ids: Vec<i64> = first.iter().chain(&second).map(|m| m.id).collect();
        assert_eq!(first.len().max(second.len()), 20, "oldest first, 20 a pass");
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 30, "every mail once, none twice");
        let mut conn = pool.acquire().await.unwrap();
        // Nothing due: answered without waiting for another writer's lock.
        let mut writer = pool.acquire().await.unwrap();
        let other_writer = crate::db::begin_write_on(&mut writer).await.unwrap();
        assert!(
            claim_due(&mut conn, 4_999, 9_000, 20)
                .await
                .unwrap()
                .is_empty()
        );
        other_writer.rollback().await.unwrap();
        drop(writer);
        mark_sent(&mut conn, first[0].id, 4_000).await.unwrap();
        let lapsed = claim_due(&mut conn, 5_000, 9_000, 50).await.unwrap();
        assert_eq!(
            lapsed.len(),
            29,
            "claims lapse; a sent mail is not sent again"
        );
    }
}
