//! Companies and who belongs to them.

use crate::models::Company;
use sqlx::SqliteConnection;

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(conn: &mut SqliteConnection, name: &str) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("INSERT INTO companies (name) VALUES (?)")
        .bind(name)
        .execute(conn)
        .await?;
    Ok(row.last_insert_rowid())
}

/// The companies `user_id` belongs to, by name.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn of_user(
    conn: &mut SqliteConnection,
    user_id: i64,
) -> Result<Vec<Company>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.name FROM companies c
         JOIN user_companies uc ON uc.company_id = c.id
         WHERE uc.user_id = ? ORDER BY c.name",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn add_member(
    conn: &mut SqliteConnection,
    user_id: i64,
    company_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT OR IGNORE INTO user_companies (user_id, company_id) VALUES (?, ?)")
        .bind(user_id)
        .bind(company_id)
        .execute(conn)
        .await?;
    Ok(())
}
