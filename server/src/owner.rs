//! One owner of a SQLite database's ledger. The serving process keeps every balance in
//! memory; the database arbitrates between writers (`app::ledger`), but SQLite is the
//! embedded, one-process backend, and its background work assumes one process:
//!
//! - [`DatabaseLock`]: an exclusive `flock` on `<database>.lock`, taken before the database
//!   is opened and held for the process's whole life: a second server on the same database
//!   refuses to start, and the lock goes with the process, even after `kill -9`.
//! - [`OperatorFile`]: while serving, `<database>.operator` (mode 0600) holds the address of
//!   the server's operator endpoint and a secret for it, so operator commands that change
//!   balances (`server adjust`) go through the running server instead of beside it.
//!
//! PostgreSQL needs neither: any number of nodes serve one database, one of them runs the
//! background work (`app::leader`), and `server adjust` writes through a ledger writer of
//! its own, which the database arbitrates like any node's.

use serde::{Deserialize, Serialize};
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
    #[error("cannot lock {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// The exclusive lock of one SQLite database; released when dropped (or when the process
/// ends).
#[derive(Debug)]
pub struct DatabaseLock(#[allow(dead_code)] File);

impl DatabaseLock {
    /// Takes the lock of the database at `url`; `None` for a SQLite database that is not a
    /// file, and for PostgreSQL, which any number of processes share.
    pub async fn acquire(url: &str) -> Result<Option<DatabaseLock>, LockError> {
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
            Ok(()) => Ok(Some(DatabaseLock(file))),
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
    /// Writes `<database>.operator`, readable by this user only; `None` for a database that
    /// is not a SQLite file.
    pub fn write(url: &str, access: &OperatorAccess) -> std::io::Result<Option<OperatorFile>> {
        let json = serde_json::to_string(access).map_err(std::io::Error::other)?;
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
    pub fn read(url: &str) -> Option<OperatorAccess> {
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
        assert!(
            OperatorFile::write(
                "postgres://db",
                &OperatorAccess {
                    url: "http://127.0.0.1:1".into(),
                    secret: "s".into(),
                }
            )
            .expect("nothing to write")
            .is_none()
        );
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
        let access = OperatorAccess {
            url: "http://127.0.0.1:1".into(),
            secret: "s".into(),
        };
        let file = OperatorFile::write(&url, &access)
            .expect("write")
            .expect("a file");
        assert_eq!(OperatorFile::read(&url), Some(access));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = beside(&database_path(&url).expect("path"), ".operator");
            let mode = std::fs::metadata(path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        drop(file);
        assert_eq!(OperatorFile::read(&url), None);
    }
}
