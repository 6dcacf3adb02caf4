//! The chatter: a log of what happened to a record, newest last.

use crate::models::ChatterMessage;
use sqlx::SqliteConnection;

#[tracing::instrument(level = "debug", skip_all)]
pub async fn post(
    conn: &mut SqliteConnection,
    model: &str,
    res_id: i64,
    author_id: i64,
    body: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO messages (model, res_id, author_id, body, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(model)
    .bind(res_id)
    .bind(author_id)
    .bind(body)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The record's messages, newest first, as Odoo's chatter shows them.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn of_record(
    conn: &mut SqliteConnection,
    model: &str,
    res_id: i64,
) -> Result<Vec<ChatterMessage>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.id, COALESCE(u.name, 'System') AS author_name, m.body, m.created_at
         FROM messages m LEFT JOIN users u ON u.id = m.author_id
         WHERE m.model = ? AND m.res_id = ? ORDER BY m.id DESC LIMIT 200",
    )
    .bind(model)
    .bind(res_id)
    .fetch_all(conn)
    .await
}
