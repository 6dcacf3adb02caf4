//! Companies and who belongs to them.

use crate::models::Company;
use sqlx::AnyConnection;

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(conn: &mut AnyConnection, name: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO companies (name) VALUES ($1) RETURNING id")
        .bind(name)
        .fetch_one(conn)
        .await
}

/// Every company, by name.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn all(conn: &mut AnyConnection) -> Result<Vec<Company>, sqlx::Error> {
    sqlx::query_as("SELECT id, name FROM companies ORDER BY name")
        .fetch_all(conn)
        .await
}

/// The company named `name`, whatever its case (the exact name first, should two differ
/// only by case).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn by_name(conn: &mut AnyConnection, name: &str) -> Result<Option<Company>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name FROM companies WHERE lower(name) = lower($1)
         ORDER BY CASE WHEN name = $1 THEN 0 ELSE 1 END LIMIT 1",
    )
    .bind(name)
    .fetch_optional(conn)
    .await
}

/// Which of `ids` are companies.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn existing(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM companies WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each($1)) ORDER BY id",
    )
    .bind(crate::db::id_list(ids))
    .fetch_all(conn)
    .await
}

/// The companies `user_id` belongs to, by name.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn of_user(conn: &mut AnyConnection, user_id: i64) -> Result<Vec<Company>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.name FROM companies c
         JOIN user_companies uc ON uc.company_id = c.id
         WHERE uc.user_id = $1 ORDER BY c.name",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn add_member(
    conn: &mut AnyConnection,
    user_id: i64,
    company_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO user_companies (user_id, company_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(company_id)
    .execute(conn)
    .await?;
    Ok(())
}
