//! The credit ledger as a service: every balance change goes through one writer task.
//!
//! SQLite allows one writer at a time, and a transaction per operation tops out near 2,000
//! operations a second here. So a single task owns the [`Book`](crate::domain::ledger::Book),
//! takes whatever operations are queued (up to [`writer::MAX_BATCH`]), applies them in memory,
//! writes the whole batch in one transaction with a few multi-row statements, and answers
//! each caller only after the commit is durable (`synchronous=FULL`). A failed commit rolls
//! back the batch and reloads the book from the database, so nothing half-done survives.
//!
//! # Layout
//! - this file: [`Ledger`], the handle callers use, and the clock;
//! - `writer`: the task, batching and idempotency;
//! - `store`: the SQL the writer runs, and [`store::check`], which recomputes every account
//!   from its ledger.

pub mod store;
mod writer;

use crate::domain::credits::Credits;
pub use crate::domain::ledger::LedgerError;
use crate::domain::ledger::{AccountId, EntryKind};
use crate::domain::warning::WarningSettings;
use sqlx::SqlitePool;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::sync::{mpsc, oneshot};

/// Odoo's default hold lifetime: 4,320 hours (180 days).
pub const DEFAULT_TTL_HOURS: i64 = 4_320;
/// Longer TTLs are refused as mistakes: ten years.
pub const MAX_TTL_HOURS: i64 = 87_600;
pub const DESCRIPTION_MAX: usize = 256;
/// Where iapd is reached when nobody says otherwise; warning mails link to its pack store.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:3000";

/// Unix milliseconds; tests replace the system clock with one they advance.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(now_ms)
}

/// The wall clock in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A clock that only moves when told to.
#[derive(Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn at(ms: i64) -> Self {
        ManualClock(Arc::new(AtomicI64::new(ms)))
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn clock(&self) -> Clock {
        let now = self.0.clone();
        Arc::new(move || now.load(Ordering::SeqCst))
    }
}

/// What a service asks to reserve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldRequest {
    pub account: AccountId,
    pub amount: Credits,
    pub description: String,
    /// Hours; `None` is [`DEFAULT_TTL_HOURS`].
    pub ttl_hours: Option<i64>,
    /// A retried request with the same key gets the first answer instead of a second hold.
    pub idempotency_key: Option<String>,
}

/// An administrator's edit of an account, applied by the writer so that disabling takes
/// effect for the very next hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountEdit {
    pub account: AccountId,
    pub name: String,
    pub token: String,
    pub companies: Vec<i64>,
}

#[derive(Debug)]
enum Command {
    Hold(HoldRequest),
    Capture {
        token: String,
        amount: Option<Credits>,
    },
    Cancel {
        token: String,
    },
    Credit {
        account: AccountId,
        kind: EntryKind,
        amount: Credits,
        description: String,
        by: Option<i64>,
    },
    Resolve {
        service: String,
        company: i64,
    },
    Edit(AccountEdit),
    PaymentSucceeded {
        order: i64,
        provider: String,
        reference: String,
    },
    ConfigureWarning {
        account: AccountId,
        settings: WarningSettings,
    },
    Sweep,
}

#[derive(Debug)]
enum Reply {
    Token(String),
    Captured(Credits),
    Account(AccountId),
    Done,
}

struct Job {
    command: Command,
    reply: oneshot::Sender<Result<Reply, LedgerError>>,
}

/// The handle to the ledger writer; cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    jobs: mpsc::Sender<Job>,
}

impl Ledger {
    /// Loads the book from `pool` and starts the writer on a connection of its own; warning
    /// mails link to [`DEFAULT_PUBLIC_URL`].
    pub async fn start(pool: &SqlitePool, clock: Clock) -> Result<Ledger, sqlx::Error> {
        Self::start_with(pool, clock, DEFAULT_PUBLIC_URL).await
    }

    /// [`Ledger::start`], with the URL users reach iapd at, for the links in warning mails.
    pub async fn start_with(
        pool: &SqlitePool,
        clock: Clock,
        public_url: &str,
    ) -> Result<Ledger, sqlx::Error> {
        let mut conn = pool.acquire().await?.detach();
        // The writer touches index pages all over the ledger; keep them in memory (128 MiB).
        sqlx::query("PRAGMA cache_size = -131072")
            .execute(&mut conn)
            .await?;
        // Copying the WAL back into the database must not happen inside the writer's commits:
        // a background task checkpoints instead (see `spawn_checkpointer`).
        sqlx::query("PRAGMA wal_autocheckpoint = 0")
            .execute(&mut conn)
            .await?;
        spawn_checkpointer(pool.clone());
        let (jobs, queue) = mpsc::channel(4 * writer::MAX_BATCH);
        let task = writer::Writer::load(conn, clock, public_url).await?;
        tokio::spawn(task.run(queue));
        Ok(Ledger { jobs })
    }

    /// Starts a task that releases expired holds every `every`, even when nothing else
    /// happens.
    pub fn spawn_sweeper(&self, every: std::time::Duration) {
        let ledger = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if ledger.sweep().await.is_err() {
                    break;
                }
            }
        });
    }

    async fn call(&self, command: Command) -> Result<Reply, LedgerError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { command, reply })
            .await
            .map_err(|_| LedgerError::Storage)?;
        answer.await.map_err(|_| LedgerError::Storage)?
    }

    /// Reserves credits; returns the transaction token to capture or cancel with.
    pub async fn hold(&self, request: HoldRequest) -> Result<String, LedgerError> {
        match self.call(Command::Hold(request)).await? {
            Reply::Token(token) => Ok(token),
            _ => Err(LedgerError::Storage),
        }
    }

    /// Spends `amount` of the hold (all of it when `None`); returns what was spent.
    pub async fn capture(
        &self,
        token: &str,
        amount: Option<Credits>,
    ) -> Result<Credits, LedgerError> {
        match self
            .call(Command::Capture {
                token: token.to_owned(),
                amount,
            })
            .await?
        {
            Reply::Captured(taken) => Ok(taken),
            _ => Err(LedgerError::Storage),
        }
    }

    pub async fn cancel(&self, token: &str) -> Result<(), LedgerError> {
        self.call(Command::Cancel {
            token: token.to_owned(),
        })
        .await
        .map(|_| ())
    }

    /// Adds a trial, purchase or (signed) adjustment; `by` is the user responsible.
    pub async fn credit(
        &self,
        account: AccountId,
        kind: EntryKind,
        amount: Credits,
        description: &str,
        by: Option<i64>,
    ) -> Result<(), LedgerError> {
        let command = Command::Credit {
            account,
            kind,
            amount,
            description: description.to_owned(),
            by,
        };
        self.call(command).await.map(|_| ())
    }

    /// The account a user working in `company` uses for `service`, created (with trial
    /// credits where the edition grants them) on first use.
    pub async fn resolve_account(
        &self,
        service: &str,
        company: i64,
    ) -> Result<AccountId, LedgerError> {
        match self
            .call(Command::Resolve {
                service: service.to_owned(),
                company,
            })
            .await?
        {
            Reply::Account(id) => Ok(id),
            _ => Err(LedgerError::Storage),
        }
    }

    pub async fn edit_account(&self, edit: AccountEdit) -> Result<(), LedgerError> {
        self.call(Command::Edit(edit)).await.map(|_| ())
    }

    /// The payment-succeeded event: marks the order paid and credits its pack in one
    /// transaction. Idempotent by the provider's reference: a replay, a double click or a
    /// concurrent duplicate credits nothing more and answers the same.
    pub async fn payment_succeeded(
        &self,
        order: i64,
        provider: &str,
        reference: &str,
    ) -> Result<(), LedgerError> {
        let command = Command::PaymentSucceeded {
            order,
            provider: provider.to_owned(),
            reference: reference.to_owned(),
        };
        self.call(command).await.map(|_| ())
    }

    /// Saves an account's low-credit warning settings (Warn Me, Threshold, Warning Email).
    /// Through the writer, so that turning Warn Me on while the account is already below the
    /// threshold queues its one warning in the same transaction as the settings, and no
    /// concurrent change can slip between the check and the save.
    pub async fn configure_warning(
        &self,
        account_id: AccountId,
        settings: WarningSettings,
    ) -> Result<(), LedgerError> {
        let command = Command::ConfigureWarning {
            account: account_id,
            settings,
        };
        self.call(command).await.map(|_| ())
    }

    /// Releases every hold past its TTL now.
    pub async fn sweep(&self) -> Result<(), LedgerError> {
        self.call(Command::Sweep).await.map(|_| ())
    }
}

/// Checkpoints the WAL every half second from a pool connection, without blocking the
/// writer (PASSIVE never waits for it), so the WAL stays small.
fn spawn_checkpointer(pool: SqlitePool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        loop {
            tick.tick().await;
            if pool.is_closed() {
                break;
            }
            if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                tracing::warn!(%error, "WAL checkpoint failed");
            }
        }
    });
}

/// Whether a token marks its account as disabled.
pub fn is_disabled_token(token: &str) -> bool {
    token.ends_with("+disabled")
}

/// A new account or transaction token: 128 random bits, URL-safe.
pub fn new_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
