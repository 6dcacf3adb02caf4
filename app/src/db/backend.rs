//! The two database backends behind one pool type.
//!
//! iapd reaches SQLite (the embedded default) and PostgreSQL (for several nodes on one
//! database) through sqlx's `Any` driver, so the rest of the code holds one `AnyPool` and
//! one `AnyConnection` whichever backend serves. Queries are written once, in the SQL both
//! accept (`$1` placeholders, `ON CONFLICT`, `RETURNING`, `CAST(… AS BIGINT)`); where the
//! dialects differ, the persistence function asks [`Backend::of`] and picks its statement.
//! Each backend has its own migrations folder with the same schema meaning.

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::MigrateError;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Transaction};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

/// Which database serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a `DATABASE_URL` names: `sqlite:` or `postgres:` / `postgresql:`. Any
    /// other scheme (or none) is refused, never taken as a file name.
    pub fn of_url(url: &str) -> Result<Backend, sqlx::Error> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme);
        match scheme {
            Some("sqlite") => Ok(Backend::Sqlite),
            Some("postgres" | "postgresql") => Ok(Backend::Postgres),
            _ => Err(sqlx::Error::Configuration(
                format!(
                    "DATABASE_URL must start with sqlite:// (e.g. sqlite://data/iapd.sqlite) \
                     or postgres:// (e.g. postgres://iapd@db.example/iapd), not {:?}",
                    redact(url)
                )
                .into(),
            )),
        }
    }

    /// The backend serving `conn`.
    pub fn of(conn: &AnyConnection) -> Backend {
        if conn.backend_name() == "PostgreSQL" {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// The backend serving `pool`.
    pub fn of_pool(pool: &AnyPool) -> Backend {
        Backend::of_url(pool.connect_options().database_url.as_str()).unwrap_or(Backend::Sqlite)
    }
}

/// `url` without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// How many connections one node keeps to PostgreSQL unless told otherwise.
pub const DEFAULT_POOL_SIZE: u32 = 16;

/// How long a node waits for PostgreSQL's first answer at start-up.
const FIRST_CONNECT_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens (creating a SQLite file if needed) the database `url` names.
///
/// SQLite gets the durability settings iapd relies on: WAL, `synchronous=FULL` (a commit
/// survives power loss) and foreign keys. Temporary storage (the statement journal of the
/// ledger's multi-row upserts, sorts) stays in memory: as files, each batch created and
/// deleted one, about 5% of the server's CPU under the API benchmark (issue 16).
/// PostgreSQL gets `pool_size` connections (SQLite 8, since it has one writer anyway).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn connect_sized(url: &str, pool_size: u32) -> Result<AnyPool, sqlx::Error> {
    sqlx::any::install_default_drivers();
    match Backend::of_url(url)? {
        Backend::Sqlite => {
            let url = if url.contains("mode=") {
                url.to_string()
            } else if url.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            AnyPoolOptions::new()
                .max_connections(8)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                             PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;
                             PRAGMA busy_timeout = 10000;",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .connect_with(AnyConnectOptions::from_str(&url)?)
                .await
        }
        Backend::Postgres => {
            let options = AnyConnectOptions::from_str(url)?;
            // One attempt first, so a wrong address or a server that is down is an error
            // within seconds: the pool would retry it until its 30 s acquire timeout.
            match tokio::time::timeout(FIRST_CONNECT_WITHIN, AnyConnection::connect_with(&options))
                .await
            {
                Ok(Ok(first)) => first.close().await?,
                Ok(Err(error)) => return Err(error),
                Err(_) => {
                    return Err(sqlx::Error::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no answer within {} s", FIRST_CONNECT_WITHIN.as_secs()),
                    )));
                }
            }
            AnyPoolOptions::new()
                .max_connections(pool_size)
                .connect_with(options)
                .await
        }
    }
}

/// [`connect_sized`] with the default pool size.
pub async fn connect(url: &str) -> Result<AnyPool, sqlx::Error> {
    connect_sized(url, DEFAULT_POOL_SIZE).await
}

/// Applies the backend's embedded migrations.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn migrate(pool: &AnyPool) -> Result<(), MigrateError> {
    match Backend::of_pool(pool) {
        Backend::Sqlite => sqlx::migrate!("../migrations/sqlite").run(pool).await,
        Backend::Postgres => sqlx::migrate!("../migrations/postgres").run(pool).await,
    }
}

/// Starts a write transaction. On SQLite it takes the write lock up front: a deferred
/// `BEGIN` that reads first can fail to upgrade when another writer committed in between.
/// PostgreSQL's writers lock rows, not the database: a plain `BEGIN`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn begin_write(pool: &AnyPool) -> Result<Transaction<'static, Any>, sqlx::Error> {
    match Backend::of_pool(pool) {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    }
}

/// [`begin_write`] on a connection the caller holds.
pub async fn begin_write_on(conn: &mut AnyConnection) -> Result<Transaction<'_, Any>, sqlx::Error> {
    match Backend::of(conn) {
        Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => conn.begin().await,
    }
}

/// The clause that ends a claim's `SELECT`: on PostgreSQL `FOR UPDATE [OF alias] SKIP
/// LOCKED`, so claims running at once take different rows; nothing on SQLite, whose single
/// writer makes each claiming statement atomic on its own.
pub fn skip_locked(conn: &AnyConnection, alias: Option<&str>) -> String {
    match (Backend::of(conn), alias) {
        (Backend::Sqlite, _) => String::new(),
        (Backend::Postgres, None) => "FOR UPDATE SKIP LOCKED".into(),
        (Backend::Postgres, Some(alias)) => format!("FOR UPDATE OF {alias} SKIP LOCKED"),
    }
}

/// Prepares the ledger writer's own connection. On SQLite: the writer touches index pages
/// all over the ledger, so they stay in memory (32 MiB; more cost more than they saved, as
/// SQLite sweeps the whole cache's hash table at each commit, and the server is to stay
/// within 80 MB, issue 16), and copying the WAL back into the database never happens inside
/// its commits ([`checkpoint`] does it beside the writer). Nothing to do on PostgreSQL.
pub async fn prepare_writer(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    if Backend::of(conn) == Backend::Sqlite {
        conn.execute("PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 0")
            .await?;
    }
    Ok(())
}

/// Copies SQLite's WAL back into the database without blocking the writer (PASSIVE never
/// waits for it), so the WAL stays small. PostgreSQL checkpoints by itself.
pub async fn checkpoint(pool: &AnyPool) -> Result<(), sqlx::Error> {
    if Backend::of_pool(pool) == Backend::Sqlite {
        pool.execute("PRAGMA wal_checkpoint(PASSIVE)").await?;
    }
    Ok(())
}

/// The key of the PostgreSQL advisory lock the node running the background work holds.
const BACKGROUND_LOCK: i64 = 0x1a9d_0001;

/// A connection of its own that campaigns for, and then holds, the background work of a
/// PostgreSQL database: a session-level advisory lock, which PostgreSQL releases when the
/// connection ends, even if the node is killed. See [`crate::tasks::Leader`].
pub struct BackgroundLock {
    conn: AnyConnection,
    held: bool,
}

impl BackgroundLock {
    pub async fn connect(url: &str) -> Result<BackgroundLock, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let conn = AnyConnection::connect(url).await?;
        Ok(BackgroundLock { conn, held: false })
    }

    /// Takes the lock if no other node holds it; while held, checks the connection still
    /// lives (if it died, PostgreSQL released the lock, and an error says so). True while
    /// this node holds it.
    pub async fn hold(&mut self) -> Result<bool, sqlx::Error> {
        self.held = if self.held {
            sqlx::query_scalar::<_, i32>("SELECT 1")
                .fetch_one(&mut self.conn)
                .await?;
            true
        } else {
            sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(BACKGROUND_LOCK)
                .fetch_one(&mut self.conn)
                .await?
        };
        Ok(self.held)
    }

    /// Ends the connection, and so the lock, at once.
    pub async fn release(self) {
        let _ = self.conn.close().await;
    }
}

/// The variable naming a PostgreSQL server (its admin URL) that tests create their
/// databases on; without it they use SQLite files.
pub const TEST_POSTGRES: &str = "IAPD_TEST_POSTGRES";

/// A fresh, migrated database for tests, on the backend the environment picks: a SQLite
/// file `iapd-<label>-<pid>-<n>.sqlite` under the temporary folder (cleared first if a
/// crashed run left one), or, with [`TEST_POSTGRES`] set, a PostgreSQL database copied from
/// a migrated template. Returns the pool and its URL (for code that opens the database
/// itself).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn scratch(label: &str) -> Result<(AnyPool, String), MigrateError> {
    static N: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "iapd_{}_{}_{}",
        label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            })
            .collect::<String>(),
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let url = match std::env::var(TEST_POSTGRES) {
        Ok(admin) if !admin.is_empty() => postgres_copy(&admin, &name).await?,
        _ => {
            let path = std::env::temp_dir().join(format!("{name}.sqlite"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            format!("sqlite://{}", path.display())
        }
    };
    let pool = connect_sized(&url, 8)
        .await
        .map_err(MigrateError::Execute)?;
    migrate(&pool).await?;
    Ok((pool, url))
}

/// Creates database `name` on the PostgreSQL server `admin` names, as a copy of a template
/// holding every migration (built once per set of migrations, under an advisory lock so
/// concurrent test processes build it once), and returns its URL.
async fn postgres_copy(admin: &str, name: &str) -> Result<String, MigrateError> {
    sqlx::any::install_default_drivers();
    let migrations = sqlx::migrate!("../migrations/postgres");
    let digest: String = migrations
        .iter()
        .map(|m| crate::crypto::hex(&m.checksum))
        .collect();
    let template = format!(
        "iapd_template_{}",
        &crate::crypto::sha256_hex(&digest)[..16]
    );
    let mut conn = AnyConnection::connect(admin).await?;
    conn.execute("SELECT pg_advisory_lock(74201180)").await?;
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT CAST(1 AS BIGINT) FROM pg_database WHERE datname = $1")
            .bind(&template)
            .fetch_optional(&mut conn)
            .await?;
    if exists.is_none() {
        // Built under another name and renamed, so a crash never leaves a half-built template.
        let building = format!("{template}_building");
        conn.execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {building}"
        )))
        .await?;
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {building}")))
            .await?;
        let pool = connect_sized(&database_url(admin, &building), 2).await?;
        migrations.run(&pool).await?;
        pool.close().await;
        conn.execute(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {building} RENAME TO {template}"
        )))
        .await?;
    }
    conn.execute("SELECT pg_advisory_unlock(74201180)").await?;
    // A run that died (its process id since reused) may have left one of the same name.
    conn.execute(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .await?;
    conn.execute(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {name} TEMPLATE {template}"
    )))
    .await?;
    conn.close().await?;
    Ok(database_url(admin, name))
}

/// `admin` (a PostgreSQL URL) naming database `name` instead.
fn database_url(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin, String::new()),
    };
    let authority = base
        .strip_prefix("postgres://")
        .or_else(|| base.strip_prefix("postgresql://"))
        .unwrap_or(base);
    let host = authority
        .split_once('/')
        .map_or(authority, |(host, _)| host);
    format!("postgres://{host}/{name}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_scheme_picks_the_backend_and_anything_else_is_refused() {
        assert_eq!(
            Backend::of_url("sqlite://data/iapd.sqlite").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::of_url("sqlite::memory:").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::of_url("postgres://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::of_url("postgresql://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        for bad in ["mysql://u@h/db", "data/iapd.sqlite", "", "postgres"] {
            let err = Backend::of_url(bad).expect_err(bad).to_string();
            assert!(err.contains("must start with sqlite://"), "{bad}: {err}");
        }
        let err = Backend::of_url("mysql://u:secret@h/db")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn a_test_database_url_keeps_the_server_and_options() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5999/postgres", "t_1"),
            "postgres://postgres@127.0.0.1:5999/t_1"
        );
        assert_eq!(
            database_url("postgresql://u:p@h/postgres?sslmode=disable", "t_2"),
            "postgres://u:p@h/t_2?sslmode=disable"
        );
    }
}
