//! The credit ledger as a service: every balance change goes through one writer task.
//!
//! SQLite allows one writer at a time, and a transaction per operation tops out near 2,000
//! operations a second here. So a single task owns the [`Book`](crate::domain::ledger::Book),
//! takes whatever operations are queued (up to [`writer::MAX_BATCH`]), applies them in memory,
//! writes the whole batch in one transaction with a few multi-row statements (`db::ledger`),
//! and answers each caller only after the commit is durable (`synchronous=FULL`). A failed
//! commit rolls back the batch and reloads the book from the database, so nothing half-done
//! survives.
//!
//! # Several writers, one database
//!
//! More than one writer may share a database: two processes on one SQLite file, or nodes
//! serving one PostgreSQL database. Their books live in separate memories, so the database
//! arbitrates, with locks taken at the start of each batch, before anything is decided:
//!
//! - A batch of holds, captures, cancels, extensions and closes (the IAP API's traffic)
//!   locks what it touches: the ledger lock shared, one advisory lock per idempotency key it
//!   places a hold under, then its accounts' rows by id (the accounts of its holds, of the
//!   holds it names, found in the database for holds its book does not know, and of its
//!   holds past their TTL). Always in that order, so two batches never wait on each other in
//!   a circle. Batches of two nodes on different accounts then commit at the same time, and
//!   PostgreSQL's group commit shares their flushes.
//! - Every other batch (payments, refunds, SMS, account and alert settings, the periodic
//!   sweep) takes the ledger lock exclusively: it waits for every batch in flight and runs
//!   alone, as every batch did before. These are rare beside the API's traffic, and many of
//!   them read or write beyond one account (an order, an SMS batch, the choice of account).
//!
//! Every batch stamps the rows it writes with a number from one sequence, and a writer
//! remembers the stamp of each account as its book has it. When a batch locks an account
//! whose stamp moved, another writer changed it: still under the lock, the writer reloads
//! that account and its open holds, so its book is exactly the database's for everything the
//! batch may change (the writer refuses a batch that would change an account it did not
//! lock). A batch that runs alone reloads every account stamped after its writer's last
//! batch that ran alone, since every batch with a smaller stamp has then finished. Hold ids
//! come in blocks of 4,096 reserved per writer; the alerts' memory is reloaded whole when
//! the alerts version (bumped by any batch that changes it) moved. On SQLite, writers take
//! turns anyway (one writer at a time), and the same protocol runs without the locks
//! (`db::ledger::open_shared`, `open_exclusive`; PostgreSQL migration 0004).
//!
//! The alternative of conditional updates per operation (`UPDATE … SET balance = balance -
//! $1 WHERE balance - held >= $1`) was set aside: holds, idempotency, expiry and alert
//! crossings all judge the figures before and after an operation, which the book gives for
//! free and a conditional update would have to re-derive, statement by statement, in SQL.
//! A writer alone (the common case) reloads nothing; two writers on one hot account reload
//! it, with its open holds, in most batches.
//!
//! Callers hand in checked requests ([`NewHold`], [`NewCredit`], [`AccountEdit`],
//! [`ValidWarning`]): the writer applies rules that depend on the balances, nothing else.
//!
//! Work paid for in parts (a batch of SMS) holds its whole cost once, then spends it part
//! by part. [`Ledger::queue_sms`] places a batch's hold and stores the batch and every
//! message in one transaction; [`Ledger::record_sms`] captures one message's share of its
//! batch's hold and records the message's fate in the same transaction, so a message is
//! sent exactly when it is charged; [`Ledger::extend`] keeps such a hold alive while its job
//! runs, and [`Ledger::finish_sms_batch`] releases what is left when the job ends.
//!
//! The writer does not die quietly. It runs under a supervisor that restarts it from the
//! database after a panic; while it cannot serve (restarting, or its book could not be
//! reloaded after a failed batch), [`Ledger::healthy`] is false, money operations are
//! refused at once with [`LedgerError::Storage`] instead of queueing, and `/healthz` says
//! so. A writer whose reload failed retries it every second and answers nothing from a
//! stale book.
//!
//! # Layout
//! - this file: [`Ledger`], the handle callers use, and the tasks it runs;
//! - `writer`: the task, batching and idempotency.

mod alerts;
mod writer;

use crate::clock::Clock;
use crate::db::sms::NewMessage;
use crate::domain::alert::NewThreshold;
use crate::domain::credits::Credits;
use crate::domain::ledger::{AccountEdit, AccountId, NewCredit, NewHold, NewReversal};
pub use crate::domain::ledger::{HoldEnd, HoldRequest, LedgerError};
use crate::domain::refund::{NewRefund, RefundState};
use crate::domain::warning::ValidWarning;
use crate::models::{SmsSource, SmsState};
use crate::tasks::Tasks;
use sqlx::AnyPool;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How often holds past their TTL are released when nothing else happens.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How often the WAL is copied back into the database, beside the writer.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug)]
enum Command {
    Hold(NewHold),
    Capture {
        token: String,
        amount: Option<Credits>,
    },
    Cancel {
        token: String,
    },
    Extend {
        token: String,
        ttl: Duration,
    },
    Close {
        token: String,
    },
    RecordSms(SmsResult),
    QueueSms(SmsBatch),
    FinishSmsBatch {
        batch: i64,
        token: String,
    },
    Credit {
        credit: NewCredit,
        by: Option<i64>,
    },
    Reverse {
        reversal: NewReversal,
        by: i64,
    },
    Refund {
        refund: NewRefund,
        by: i64,
    },
    RefundRefused {
        order: i64,
        reason: String,
    },
    RefundReturned {
        order: i64,
        reference: String,
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
        settings: ValidWarning,
    },
    AddThreshold {
        account: AccountId,
        threshold: NewThreshold,
    },
    RemoveThreshold {
        account: AccountId,
        id: i64,
    },
    ChangeRecharge {
        account: AccountId,
        change: RechargeChange,
    },
    Sweep,
}

/// A change to an account's auto-recharge, for [`Ledger::change_recharge`].
#[derive(Clone, Debug)]
pub enum RechargeChange {
    /// Threshold, pack and monthly cap, from Account Information.
    Settings(crate::domain::auto_recharge::Settings),
    /// Threshold (0 is off) and pack, from Odoo's `update-auto-refill-settings`.
    Odoo { threshold: i64, pack: Option<i64> },
    /// The card that pays, saved by `by`.
    Card {
        card: crate::db::auto_recharge::SavedCard,
        by: i64,
    },
    /// Off; the pack, the cap and the card are kept.
    Off,
}

#[derive(Debug)]
enum Reply {
    Token(String),
    Captured(Credits),
    Reversed(Credits),
    Refund(RefundState),
    Account(AccountId),
    Ended(HoldEnd),
    Sms(SmsState, Credits),
    Queued(QueuedSms),
    Threshold(i64),
    Done,
}

/// A batch of SMS to store with its hold, for [`Ledger::queue_sms`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsBatch {
    /// What its queued messages cost; `None` when every one was refused.
    pub hold: Option<NewHold>,
    /// A retried request finds its batch by this key instead of queueing another.
    pub request_key: String,
    pub source: SmsSource,
    pub author_id: Option<i64>,
    pub account_id: AccountId,
    pub dbuuid: Option<String>,
    pub webhook_url: Option<String>,
    pub sender_name: Option<String>,
    pub messages: Vec<(NewMessage, Option<ChatterLine>)>,
}

/// The chatter line that logs a message, on its contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatterLine {
    pub model: &'static str,
    pub res_id: i64,
    pub author_id: i64,
    pub body: crate::i18n::Note,
}

/// What [`Ledger::queue_sms`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueuedSms {
    /// Stored, with its hold (none when nothing was to be paid for).
    Queued { batch: i64, hold: Option<String> },
    /// A batch with this request key already exists: nothing was done.
    AlreadyQueued(i64),
    /// A message with one of these uuids already exists: nothing was done.
    UuidTaken,
}

/// What the provider made of one SMS, for [`Ledger::record_sms`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsResult {
    /// The message (`sms_messages.id`); its batch names the hold that pays for it.
    pub message: i64,
    /// The provider's code, stored on the message.
    pub provider: String,
    /// Accepted with the provider's reference, or refused with the reason.
    pub outcome: Result<String, String>,
    /// The ledger entry of its capture: what was delivered.
    pub description: crate::i18n::Note,
    /// How long the batch's hold must live from now on: a result shows the job is running.
    pub keep_alive: Duration,
}

struct Job {
    command: Command,
    reply: oneshot::Sender<Result<Reply, LedgerError>>,
}

/// The handle to the ledger writer; cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    jobs: mpsc::Sender<Job>,
    health: Arc<AtomicBool>,
    metrics: Arc<crate::metrics::LedgerMetrics>,
}

impl Ledger {
    /// Loads the book from `pool` and starts, among `tasks`, the writer (on a connection of
    /// its own), the WAL checkpointer and the expiry sweeper. Warning mails link to
    /// `public_url`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn start(
        pool: &AnyPool,
        clock: Clock,
        public_url: &str,
        tasks: &mut Tasks,
    ) -> Result<Ledger, sqlx::Error> {
        let health = Arc::new(AtomicBool::new(true));
        let metrics = Arc::new(crate::metrics::LedgerMetrics::default());
        let writer_metrics = metrics.clone();
        let first = writer::Writer::open(pool, clock.clone(), public_url, health.clone()).await?;
        let (jobs, queue) = mpsc::channel(4 * writer::MAX_BATCH);
        let queue = Arc::new(tokio::sync::Mutex::new(queue));
        let mut first = Some(first);
        let (pool_, public_url_, cancel, health_) = (
            pool.clone(),
            public_url.to_owned(),
            tasks.token(),
            health.clone(),
        );
        let down = health.clone();
        tasks.spawn_restarting(
            "ledger writer",
            move || {
                let first = first.take();
                let (pool, clock, public_url, cancel, health, queue, metrics) = (
                    pool_.clone(),
                    clock.clone(),
                    public_url_.clone(),
                    cancel.clone(),
                    health_.clone(),
                    queue.clone(),
                    writer_metrics.clone(),
                );
                async move {
                    let writer = match first {
                        Some(writer) => writer,
                        None => loop {
                            match writer::Writer::open(&pool, clock.clone(), &public_url, health.clone()).await {
                                Ok(writer) => break writer,
                                Err(error) => {
                                    tracing::error!(%error, "cannot restart the ledger writer; retrying");
                                    tokio::select! {
                                        () = cancel.cancelled() => return,
                                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                                    }
                                }
                            }
                        },
                    };
                    health.store(true, Ordering::SeqCst);
                    let mut queue = queue.lock().await;
                    writer.run(&mut queue, cancel, &metrics).await;
                }
            },
            move || down.store(false, Ordering::SeqCst),
        );
        let checkpoint_pool = pool.clone();
        tasks.every("WAL checkpoint", CHECKPOINT_EVERY, move || {
            checkpoint(checkpoint_pool.clone())
        });
        let ledger = Ledger {
            jobs,
            health,
            metrics,
        };
        let sweeper = ledger.clone();
        tasks.every("hold expiry", SWEEP_EVERY, move || {
            let ledger = sweeper.clone();
            async move {
                if let Err(error) = ledger.sweep().await {
                    tracing::warn!(?error, "expiry sweep failed; trying again next round");
                }
            }
        });
        Ok(ledger)
    }

    /// Whether the writer serves: false while it restarts or cannot reload its book.
    /// Batch sizes, commit latency and failed batches, for `/metrics`.
    pub fn metrics(&self) -> &crate::metrics::LedgerMetrics {
        &self.metrics
    }

    pub fn healthy(&self) -> bool {
        self.health.load(Ordering::SeqCst) && !self.jobs.is_closed()
    }

    async fn call(&self, command: Command) -> Result<Reply, LedgerError> {
        if !self.healthy() {
            return Err(LedgerError::Storage);
        }
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { command, reply })
            .await
            .map_err(|_| LedgerError::Storage)?;
        answer.await.map_err(|_| LedgerError::Storage)?
    }

    /// Reserves credits; returns the transaction token to capture or cancel with.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn hold(&self, hold: NewHold) -> Result<String, LedgerError> {
        match self.call(Command::Hold(hold)).await? {
            Reply::Token(token) => Ok(token),
            _ => Err(LedgerError::Storage),
        }
    }

    /// Spends `amount` of the hold (all of it when `None`); returns what was spent.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn capture(
        &self,
        token: &str,
        amount: Option<Credits>,
    ) -> Result<Credits, LedgerError> {
        let command = Command::Capture {
            token: token.to_owned(),
            amount,
        };
        match self.call(command).await? {
            Reply::Captured(taken) => Ok(taken),
            _ => Err(LedgerError::Storage),
        }
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn cancel(&self, token: &str) -> Result<(), LedgerError> {
        self.call(Command::Cancel {
            token: token.to_owned(),
        })
        .await
        .map(|_| ())
    }

    /// Keeps an open hold alive at least `ttl` from now; repeating it changes nothing. A hold
    /// that already ended is refused: expired (`HoldExpired`), or closed (a conflict).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn extend(&self, token: &str, ttl: Duration) -> Result<(), LedgerError> {
        let command = Command::Extend {
            token: token.to_owned(),
            ttl,
        };
        self.call(command).await.map(|_| ())
    }

    /// Ends a hold, releasing what its partial captures did not spend. Idempotent: a hold
    /// that already ended answers how it ended.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn close(&self, token: &str) -> Result<HoldEnd, LedgerError> {
        let command = Command::Close {
            token: token.to_owned(),
        };
        match self.call(command).await? {
            Reply::Ended(end) => Ok(end),
            _ => Err(LedgerError::Storage),
        }
    }

    /// Records what became of one SMS in one transaction: sent, it is charged its cost from
    /// its batch's hold (the rest stays held); refused, it costs nothing. Either way the hold
    /// is kept alive for `keep_alive`. Idempotent by message: a message already recorded
    /// answers its state and what it was charged, and changes nothing.
    #[tracing::instrument(level = "debug", skip_all, fields(message = result.message))]
    pub async fn record_sms(&self, result: SmsResult) -> Result<(SmsState, Credits), LedgerError> {
        match self.call(Command::RecordSms(result)).await? {
            Reply::Sms(state, charged) => Ok((state, charged)),
            _ => Err(LedgerError::Storage),
        }
    }

    /// Holds a batch's cost and stores the batch, every message (queued or refused) and their
    /// chatter lines, all in one transaction: a batch exists exactly when its hold does.
    /// Refused like a hold when the account cannot pay; nothing is done when the request key
    /// or one of the uuids was already used.
    #[tracing::instrument(level = "debug", skip_all, fields(messages = batch.messages.len()))]
    pub async fn queue_sms(&self, batch: SmsBatch) -> Result<QueuedSms, LedgerError> {
        match self.call(Command::QueueSms(batch)).await? {
            Reply::Queued(queued) => Ok(queued),
            _ => Err(LedgerError::Storage),
        }
    }

    /// Ends a batch whose messages were all recorded: releases what its hold still reserves
    /// and marks it done, in one transaction. Idempotent.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn finish_sms_batch(&self, batch: i64, token: &str) -> Result<(), LedgerError> {
        let command = Command::FinishSmsBatch {
            batch,
            token: token.to_owned(),
        };
        self.call(command).await.map(|_| ())
    }

    /// Adds a trial, purchase or (signed) adjustment; `by` is the user responsible.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn credit(&self, credit: NewCredit, by: Option<i64>) -> Result<(), LedgerError> {
        self.call(Command::Credit { credit, by }).await.map(|_| ())
    }

    /// Gives back credits of one capture entry, once; `by` is the administrator. A repeat of
    /// the same request answers what the first gave back.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reverse(&self, reversal: NewReversal, by: i64) -> Result<Credits, LedgerError> {
        match self.call(Command::Reverse { reversal, by }).await? {
            Reply::Reversed(amount) => Ok(amount),
            _ => Err(LedgerError::Storage),
        }
    }

    /// Refunds a paid order, once: its credits leave the account and the refund waits for
    /// its money to go back ([`crate::payment::refund`]). A repeat answers the refund's state.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn refund(&self, refund: NewRefund, by: i64) -> Result<RefundState, LedgerError> {
        match self.call(Command::Refund { refund, by }).await? {
            Reply::Refund(state) => Ok(state),
            _ => Err(LedgerError::Storage),
        }
    }

    /// The provider refused a pending refund for good: it fails and the credits come back.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn refund_refused(&self, order: i64, reason: &str) -> Result<(), LedgerError> {
        let command = Command::RefundRefused {
            order,
            reason: reason.to_owned(),
        };
        self.call(command).await.map(|_| ())
    }

    /// The provider returned a pending refund's money, under its `reference`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn refund_returned(&self, order: i64, reference: &str) -> Result<(), LedgerError> {
        let command = Command::RefundReturned {
            order,
            reference: reference.to_owned(),
        };
        self.call(command).await.map(|_| ())
    }

    /// The account a user working in `company` uses for `service`, created (with trial
    /// credits where the edition grants them) on first use.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn resolve_account(
        &self,
        service: &str,
        company: i64,
    ) -> Result<AccountId, LedgerError> {
        let command = Command::Resolve {
            service: service.to_owned(),
            company,
        };
        match self.call(command).await? {
            Reply::Account(id) => Ok(id),
            _ => Err(LedgerError::Storage),
        }
    }

    /// Renames, restricts, or (by its token) disables an account, so that disabling takes
    /// effect for the very next hold.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn edit_account(&self, edit: AccountEdit) -> Result<(), LedgerError> {
        self.call(Command::Edit(edit)).await.map(|_| ())
    }

    /// The payment-succeeded event: marks the order paid and credits its pack in one
    /// transaction. Idempotent by the provider's reference: a replay, a double click or a
    /// concurrent duplicate credits nothing more and answers the same.
    #[tracing::instrument(level = "debug", skip_all)]
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

    /// Saves an account's low-credit warning settings (Warn Me, Threshold, Warning Email),
    /// already checked. Through the writer, so that turning Warn Me on while the account is
    /// already below the threshold queues its one warning in the same transaction as the
    /// settings, and no concurrent change can slip between the check and the save.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn configure_warning(
        &self,
        account: AccountId,
        settings: ValidWarning,
    ) -> Result<(), LedgerError> {
        self.call(Command::ConfigureWarning { account, settings })
            .await
            .map(|_| ())
    }

    /// Adds a further alert threshold to an account (at most
    /// [`MAX_THRESHOLDS`](crate::domain::alert::MAX_THRESHOLDS)); through the writer, so one
    /// added below the account's available credits fires at once, in the same transaction.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_threshold(
        &self,
        account: AccountId,
        threshold: NewThreshold,
    ) -> Result<i64, LedgerError> {
        match self
            .call(Command::AddThreshold { account, threshold })
            .await?
        {
            Reply::Threshold(id) => Ok(id),
            _ => Err(LedgerError::Storage),
        }
    }

    /// Removes one of an account's further thresholds; `UnknownEntry` when it has none such.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn remove_threshold(&self, account: AccountId, id: i64) -> Result<(), LedgerError> {
        self.call(Command::RemoveThreshold { account, id })
            .await
            .map(|_| ())
    }

    /// Changes an account's auto-recharge. Through the writer, which watches the crossings:
    /// turning it on while the account is already below the threshold makes it due at once,
    /// in the same transaction, and no change of credits slips between.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn change_recharge(
        &self,
        account: AccountId,
        change: RechargeChange,
    ) -> Result<(), LedgerError> {
        self.call(Command::ChangeRecharge { account, change })
            .await
            .map(|_| ())
    }

    /// Releases every hold past its TTL now.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn sweep(&self) -> Result<(), LedgerError> {
        self.call(Command::Sweep).await.map(|_| ())
    }
}

/// Copies the WAL back into the database from a pool connection, without blocking the
/// writer (PASSIVE never waits for it), so the WAL stays small.
async fn checkpoint(pool: AnyPool) {
    if let Err(error) = crate::db::checkpoint(&pool).await {
        tracing::warn!(%error, "WAL checkpoint failed");
    }
}
