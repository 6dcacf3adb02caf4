//! One owner of the ledger. The serving process keeps every balance in memory and writes
//! absolute figures, so nothing else may write balances while it runs:
//!
//! - [`DatabaseLock`]: on SQLite an exclusive `flock` on `<database>.lock`, taken before the
//!   database is opened; on PostgreSQL an advisory lock held by a connection of its own.
//!   Either is held for the process's whole life: a second server on the same database
//!   refuses to start, and the lock goes with the process, even after `kill -9`.
//! - [`OperatorFile`]: while serving, `<database>.operator` (mode 0600; on PostgreSQL the
//!   `operator_access` setting) holds the address of the server's operator endpoint and a
//!   secret for it, so operator commands that change balances (`server adjust`) go through
//!   the running server instead of behind it. On PostgreSQL the secret is no secret from
//!   anyone who can read the database, who could change balances anyway.

use app::db::{Backend, OwnerLock};
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The database file behind a `sqlite:` URL, when it is one.
pub fn database_path(url: &str) -> Option<PathBuf> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

fn beside(database: &Path, suffix: &str) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another iapd process (a server, or an operator command changing balances) holds \
         {0}: two owners would each keep balances in memory and overwrite each other's"
    )]
    Held(String),
    #[error("cannot take the PostgreSQL database's owner lock: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot lock {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// The exclusive lock of one database; released when dropped (or when the process ends).
#[derive(Debug)]
pub enum DatabaseLock {
    File(File),
    Postgres(OwnerLock),
}

impl DatabaseLock {
    /// Takes the lock of the database at `url`; `None` for a SQLite database that is not a
    /// file.
    pub async fn acquire(url: &str) -> Result<Option<DatabaseLock>, LockError> {
        if Backend::of_url(url).ok() == Some(Backend::Postgres) {
            return match OwnerLock::try_acquire(url).await? {
                Some(lock) => Ok(Some(DatabaseLock::Postgres(lock))),
                None => Err(LockError::Held("the PostgreSQL database".into())),
            };
        }
        let Some(database) = database_path(url) else {
            return Ok(None);
        };
        let path = beside(&database, ".lock");
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| io_error(&path, source))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| io_error(&path, source))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(DatabaseLock::File(file))),
            Err(TryLockError::WouldBlock) => Err(LockError::Held(database.display().to_string())),
            Err(TryLockError::Error(source)) => Err(io_error(&path, source)),
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> LockError {
    LockError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Where a running server takes operator commands.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OperatorAccess {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Sent as `Authorization: Bearer <secret>`.
    pub secret: String,
}

/// The operator file of a running server: written at start, removed when dropped.
#[derive(Debug)]
pub struct OperatorFile {
    path: PathBuf,
}

impl OperatorFile {
    /// Writes `<database>.operator`, readable by this user only (`None` for a SQLite
    /// database that is not a file), or on PostgreSQL the `operator_access` setting, which
    /// the next owner overwrites.
    pub async fn write(
        url: &str,
        pool: &AnyPool,
        access: &OperatorAccess,
    ) -> std::io::Result<Option<OperatorFile>> {
        let json = serde_json::to_string(access).map_err(std::io::Error::other)?;
        if Backend::of_pool(pool) == Backend::Postgres {
            let mut conn = pool.acquire().await.map_err(std::io::Error::other)?;
            app::db::settings::set(&mut conn, app::db::settings::OPERATOR_ACCESS, &json)
                .await
                .map_err(std::io::Error::other)?;
            return Ok(None);
        }
        let Some(database) = database_path(url) else {
            return Ok(None);
        };
        let path = beside(&database, ".operator");
        let _ = std::fs::remove_file(&path);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path)?;
        file.write_all(json.as_bytes())?;
        file.sync_all()?;
        Ok(Some(OperatorFile { path }))
    }

    /// What a running server on the database at `url` wrote, if it did.
    pub async fn read(url: &str, pool: &AnyPool) -> Option<OperatorAccess> {
        if Backend::of_pool(pool) == Backend::Postgres {
            let mut conn = pool.acquire().await.ok()?;
            let json = app::db::settings::get(&mut conn, app::db::settings::OPERATOR_ACCESS)
                .await
                .ok()??;
            return serde_json::from_str(&json).ok();
        }
        let path = beside(&database_path(url)?, ".operator");
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }
}

impl Drop for OperatorFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_url(name: &str) -> String {
        let dir = std::env::temp_dir().join(format!("iapd-owner-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        format!("sqlite://{}/iapd.sqlite", dir.display())
    }

    #[test]
    fn only_file_databases_have_a_path() {
        assert_eq!(
            database_path("sqlite://data/iapd.sqlite?mode=rwc"),
            Some(PathBuf::from("data/iapd.sqlite"))
        );
        assert_eq!(database_path("sqlite::memory:"), None);
        assert_eq!(database_path("postgres://db"), None);
    }

    #[tokio::test]
    async fn a_second_lock_on_the_same_database_is_refused_until_the_first_is_dropped() {
        let url = temp_url("lock");
        let first = DatabaseLock::acquire(&url)
            .await
            .expect("first")
            .expect("a file");
        assert!(matches!(
            DatabaseLock::acquire(&url).await,
            Err(LockError::Held(_))
        ));
        drop(first);
        assert!(DatabaseLock::acquire(&url).await.expect("again").is_some());
    }

    #[tokio::test]
    async fn the_operator_file_is_private_and_gone_once_dropped() {
        let url = temp_url("operator");
        let _lock = DatabaseLock::acquire(&url).await.expect("lock");
        let pool = app::db::connect(&url).await.expect("pool");
        let access = OperatorAccess {
            url: "http://127.0.0.1:1".into(),
            secret: "s".into(),
        };
        let file = OperatorFile::write(&url, &pool, &access)
            .await
            .expect("write")
            .expect("a file");
        assert_eq!(OperatorFile::read(&url, &pool).await, Some(access));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = beside(&database_path(&url).expect("path"), ".operator");
            let mode = std::fs::metadata(path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        drop(file);
        assert_eq!(OperatorFile::read(&url, &pool).await, None);
    }
}
