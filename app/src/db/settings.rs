//! Database-wide facts kept as key/value pairs (the edition, the database UUID), and the
//! figures the Settings page shows.

use crate::models::SettingsOverview;
use sqlx::AnyConnection;

pub const EDITION: &str = "edition";
pub const DATABASE_UUID: &str = "database_uuid";
/// Set by the demo seed: this database holds demo data (and demo logins).
pub const DEMO_DATA: &str = "demo_data";

/// Whether this database was created with demo data.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn is_demo(conn: &mut AnyConnection) -> Result<bool, sqlx::Error> {
    Ok(get(conn, DEMO_DATA).await?.is_some())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(conn: &mut AnyConnection, key: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set(conn: &mut AnyConnection, key: &str, value: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many companies and active users there are.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn overview(conn: &mut AnyConnection) -> Result<SettingsOverview, sqlx::Error> {
    let (companies, users): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM companies), (SELECT COUNT(*) FROM users WHERE active = 1)",
    )
    .fetch_one(conn)
    .await?;
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(SettingsOverview {
        companies: count(companies),
        users: count(users),
    })
}
