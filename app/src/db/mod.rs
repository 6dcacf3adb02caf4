//! Persistence. Every function takes a connection or transaction (`&mut SqliteConnection`),
//! so callers compose several into one transaction; only [`connect`] knows about the pool.

pub mod accounts;
pub mod companies;
pub mod contacts;
pub mod demo;
pub mod messages;
pub mod orders;
pub mod outbox;
pub mod service_api;
pub mod services;
pub mod sessions;
pub mod settings;
pub mod sms;
pub mod users;
pub mod warnings;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Opens (creating if needed) the database with the durability settings iapd relies on:
/// WAL, `synchronous=FULL` (a commit survives power loss) and foreign keys.
pub async fn connect(url: &str) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
}

/// Applies the embedded migrations.
pub async fn migrate(pool: &SqlitePool) -> Result<(), sqlx::migrate::MigrateError> {
    sqlx::migrate!("../migrations").run(pool).await
}

/// A fresh, migrated database in its own file under the temporary folder, for tests: each
/// call gets `iapd-<label>-<pid>-<n>.sqlite`, cleared first if a crashed run left one.
/// Returns the pool and its URL (for code that opens the database itself).
pub async fn scratch(label: &str) -> Result<(SqlitePool, String), sqlx::migrate::MigrateError> {
    static N: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "iapd-{label}-{}-{}.sqlite",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let url = format!("sqlite://{}", path.display());
    let pool = connect(&url)
        .await
        .map_err(sqlx::migrate::MigrateError::Execute)?;
    migrate(&pool).await?;
    Ok((pool, url))
}

/// Starts a write transaction that takes SQLite's write lock up front. A deferred `BEGIN`
/// that reads first can fail to upgrade when another writer committed in between.
pub async fn begin_write(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// Company ids as the JSON array that queries read back with `json_each`.
pub(crate) fn id_list(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A fresh, migrated database per test.
    use sqlx::SqlitePool;
    use std::sync::atomic::{AtomicU64, Ordering};

    pub async fn fresh_db() -> SqlitePool {
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "iapd-app-test-{}-{}.sqlite",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let pool = super::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("open");
        super::migrate(&pool).await.expect("migrate");
        pool
    }
}
