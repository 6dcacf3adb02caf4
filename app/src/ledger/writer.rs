//! The single ledger writer: batches queued operations into one durable transaction.

use super::alerts::Alerts;
use super::{Command, Job, QueuedSms, RechargeChange, Reply, SmsBatch, SmsResult};
use crate::clock::Clock;
use crate::crypto;
use crate::db::ledger::{self as store, AccountRow, BatchRows, EntryRow, HoldRow, Wanted};
use crate::domain::FieldError;
use crate::domain::alert::NewThreshold;
use crate::domain::credits::Credits;
use crate::domain::ledger::{
    Account, AccountEdit, AccountId, Book, Conflict, Entry, EntryKind, HoldEnd, HoldId, HoldState,
    LedgerError, NewCredit, NewHold, NewReversal, OpenHold, Placement, hold_id_of, repeat_cancel,
    repeat_capture, repeat_reversal,
};
use crate::domain::order::{OrderState, order_reference};
use crate::domain::refund::{NewRefund, RefundState};
use crate::domain::warning::ValidWarning;
use crate::i18n::{Arg, Msg, Note, Text};
use crate::metrics::LedgerMetrics;
use crate::models::{SmsDelivery, SmsState};
use crate::tasks::CancellationToken;
use sqlx::{AnyConnection, AnyPool};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// The most operations one transaction carries.
pub const MAX_BATCH: usize = 512;

/// What the writer remembers about an account besides its figures: what chooses accounts,
/// and the stamp of the batch whose figures the book holds.
struct Meta {
    service: String,
    companies: Vec<i64>,
    stamp: i64,
}

impl Meta {
    /// Adds an account as storage has it to the book, and returns what to remember of it.
    fn load(book: &mut Book, row: AccountRow) -> Self {
        book.load_account(row.id, row.account());
        Meta {
            companies: row.company_ids(),
            service: row.service,
            stamp: row.ledger_version,
        }
    }
}

pub struct Writer {
    conn: AnyConnection,
    /// Shared with the `Ledger` handles: false while the book is stale.
    health: Arc<AtomicBool>,
    /// The last reload failed: the book may not match the database, so nothing is applied
    /// until a reload succeeds.
    stale: bool,
    clock: Clock,
    book: Book,
    meta: HashMap<AccountId, Meta>,
    /// What decides the alerts each operation fires.
    alerts: Alerts,
    /// The stamp of this writer's last batch that ran alone, or of its full load: accounts
    /// stamped after it may have changed behind the book.
    synced: i64,
    /// The alerts version the alerts' memory includes.
    alerts_seen: i64,
}

/// Everything a batch will write, accumulated while its operations are applied.
#[derive(Default)]
struct Pending {
    holds: BTreeMap<i64, HoldRow>,
    closed_by_token: HashMap<String, i64>,
    entries: Vec<EntryRow>,
    /// Idempotency keys used in this batch: key → (request digest, token).
    keys: HashMap<String, (String, String)>,
    /// Captures reversed in this batch: capture entry → credits given back.
    reversed: HashMap<i64, i64>,
    /// Accounts created or edited in this batch, whether or not an entry touched them.
    accounts: BTreeSet<AccountId>,
}

impl Pending {
    fn entry(&mut self, entry: Entry, by: Option<i64>, now: i64) {
        self.entries.push(EntryRow {
            entry,
            created_by: by,
            created_at: now,
            reverses: None,
            order: None,
        });
    }

    /// An entry of a refund of `order`.
    fn refund(&mut self, entry: Entry, order: i64, by: Option<i64>, now: i64) {
        self.entries.push(EntryRow {
            entry,
            created_by: by,
            created_at: now,
            reverses: None,
            order: Some(order),
        });
    }

    /// A reversal of capture entry `of`.
    fn reversal(&mut self, entry: Entry, of: i64, by: i64, now: i64) {
        self.reversed.insert(of, entry.amount);
        self.entries.push(EntryRow {
            entry,
            created_by: Some(by),
            created_at: now,
            reverses: Some(of),
            order: None,
        });
    }

    /// A hold still open after a partial capture or an extension, as it now stands.
    fn open(&mut self, hold: OpenHold, now: i64) {
        let captured = (hold.captured > 0).then_some(hold.captured);
        self.hold(hold, HoldState::Open, captured, now);
    }

    /// A hold that just ended, captured for what its parts spent or released.
    fn ended(&mut self, hold: OpenHold, state: HoldState, now: i64) {
        let captured = (hold.captured > 0).then_some(hold.captured);
        self.hold(hold, state, captured, now);
    }

    fn hold(&mut self, hold: OpenHold, state: HoldState, captured: Option<i64>, now: i64) {
        let closed_at = (state != HoldState::Open).then_some(now);
        if closed_at.is_some() {
            self.closed_by_token.insert(hold.token.clone(), hold.id);
        }
        self.holds.insert(
            hold.id,
            HoldRow {
                hold,
                state,
                captured,
                closed_at,
            },
        );
    }

    /// Every account this batch changes: its figures, or one of its holds, or the account
    /// itself. The batch writes each with its stamp, so other writers see it changed.
    fn touched(&self) -> BTreeSet<AccountId> {
        let mut touched = self.accounts.clone();
        touched.extend(self.entries.iter().map(|e| e.entry.account));
        touched.extend(self.holds.values().map(|h| h.hold.account));
        touched
    }

    /// A hold this batch already closed, as a repeat would need to see it.
    fn closed(&self, token: &str) -> Option<(i64, HoldEnd)> {
        let row = self.holds.get(self.closed_by_token.get(token)?)?;
        let end = row.state.end(row.hold.amount, row.captured)?;
        Some((row.hold.amount, end))
    }
}

impl Writer {
    /// A writer on a connection of its own from `pool`, with its book loaded.
    pub async fn open(
        pool: &AnyPool,
        clock: Clock,
        public_url: &str,
        health: Arc<AtomicBool>,
    ) -> Result<Self, sqlx::Error> {
        let mut conn = pool.acquire().await?.detach();
        crate::db::prepare_writer(&mut conn).await?;
        let mut writer = Writer {
            conn,
            health,
            stale: false,
            clock,
            book: Book::new(),
            meta: HashMap::new(),
            alerts: Alerts::new(public_url),
            synced: 0,
            alerts_seen: 0,
        };
        writer.reload().await?;
        writer.revive_job_holds().await?;
        Ok(writer)
    }

    /// Gives the holds of unfinished SMS batches a full TTL from now, before anything can
    /// expire them. Nothing extended them while iapd was stopped, and their batches resume
    /// now: a hold must not expire under its job because the server was down, or a message
    /// handed over before the stop, whose answer was lost, could go out unpaid.
    async fn revive_job_holds(&mut self) -> Result<(), sqlx::Error> {
        let Writer {
            conn,
            book,
            meta,
            alerts,
            synced,
            alerts_seen,
            clock,
            ..
        } = self;
        let known = Known {
            book,
            meta,
            alerts,
            alerts_seen,
        };
        let (mut tx, batch) = begin_batch(conn, known, *synced, None).await?;
        let tokens = crate::db::sms::pending_hold_tokens(&mut tx).await?;
        let now = clock();
        let until = now.saturating_add(crate::sms::HOLD_TTL_HOURS.saturating_mul(3_600_000));
        let mut pending = Pending::default();
        for token in tokens {
            if let Ok(hold) = book.extend(&token, until) {
                pending.open(hold, now);
            }
        }
        if pending.holds.is_empty() {
            // At once: a dropped transaction would keep the ledger locked, and every other
            // writer waiting, until this connection's next use.
            tx.rollback().await?;
            return Ok(());
        }
        let touched = pending.touched();
        let balances = balances(book, &touched);
        let holds: Vec<HoldRow> = pending.holds.into_values().collect();
        let rows = BatchRows {
            stamp: batch.stamp,
            holds: &holds,
            entries: &[],
            balances: &balances,
        };
        store::write_batch(&mut tx, rows).await?;
        tx.commit().await?;
        stamp(meta, &touched, batch.stamp);
        *synced = batch.stamp;
        tracing::info!(
            holds = holds.len(),
            "holds of unfinished SMS batches extended at start"
        );
        Ok(())
    }

    /// Rebuilds the book from the database, the authority after any failed batch. It loads
    /// in a batch that runs alone, so what it reads is one consistent state, and its stamp
    /// is where the next batch that runs alone reads changes from. It takes hold ids afresh.
    async fn reload(&mut self) -> Result<(), sqlx::Error> {
        let mut tx = crate::db::begin_write_on(&mut self.conn).await?;
        let opened = store::open_exclusive(&mut tx, i64::MAX, |_| None).await?;
        let mut book = Book::new();
        book.use_hold_ids(0..0);
        let mut meta = HashMap::new();
        for row in store::load_accounts(&mut tx).await? {
            meta.insert(row.id, Meta::load(&mut book, row));
        }
        for hold in store::load_open_holds(&mut tx).await? {
            book.load_hold(hold);
        }
        self.alerts.reload(&mut tx).await?;
        // Committed, not rolled back: on SQLite the stamp must stay taken.
        tx.commit().await?;
        self.book = book;
        self.meta = meta;
        self.synced = opened.stamp;
        self.alerts_seen = opened.alerts_version;
        Ok(())
    }

    /// Serves the queue until it closes or `cancel` fires; then answers what was already
    /// queued (the server stops taking requests before it cancels its tasks) and stops.
    /// While the book is stale it retries the reload every second.
    pub async fn run(
        mut self,
        queue: &mut mpsc::Receiver<Job>,
        cancel: CancellationToken,
        metrics: &LedgerMetrics,
    ) {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        loop {
            let first = tokio::select! {
                biased;
                job = queue.recv() => job,
                () = cancel.cancelled() => {
                    queue.close();
                    queue.recv().await
                }
                () = tokio::time::sleep(Duration::from_secs(1)), if self.stale => {
                    self.retry_reload().await;
                    continue;
                }
            };
            let Some(first) = first else { break };
            jobs.push(first);
            while jobs.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            self.batch(&mut jobs, metrics).await;
        }
        tracing::info!("ledger writer stopped");
    }

    /// Reloads a stale book; the writer serves again once it succeeds.
    async fn retry_reload(&mut self) {
        match self.reload().await {
            Ok(()) => {
                self.stale = false;
                self.health.store(true, Ordering::SeqCst);
                tracing::info!("ledger book reloaded; serving again");
            }
            Err(error) => tracing::error!(%error, "cannot reload the ledger; refusing changes"),
        }
    }

    #[tracing::instrument(skip_all, fields(size = jobs.len()))]
    async fn batch(&mut self, jobs: &mut Vec<Job>, metrics: &LedgerMetrics) {
        if self.stale {
            self.retry_reload().await;
        }
        let now = (self.clock)();
        let results = if self.stale {
            jobs.iter().map(|_| Err(LedgerError::Storage)).collect()
        } else {
            let started = std::time::Instant::now();
            let applied = self.apply(jobs, now).await;
            match applied {
                Ok(results) => {
                    metrics.batch_size.observe(jobs.len() as f64);
                    metrics
                        .commit_seconds
                        .observe(started.elapsed().as_secs_f64());
                    results
                }
                Err(error) => {
                    metrics.failed_batches.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(%error, "ledger batch failed; rolled back and reloading");
                    if let Err(error) = self.reload().await {
                        tracing::error!(%error, "cannot reload the ledger; refusing changes");
                        self.stale = true;
                        self.health.store(false, Ordering::SeqCst);
                    }
                    jobs.iter().map(|_| Err(LedgerError::Storage)).collect()
                }
            }
        };
        for (job, result) in jobs.drain(..).zip(results) {
            // A caller that gave up waiting is not an error.
            let _ = job.reply.send(result);
        }
    }

    /// Applies the jobs to the book and writes them in one transaction. Any database error
    /// aborts the transaction; the caller then reloads the book.
    async fn apply(
        &mut self,
        jobs: &[Job],
        now: i64,
    ) -> Result<Vec<Result<Reply, LedgerError>>, sqlx::Error> {
        let scope = Scope::of(jobs, &self.book, now);
        let Writer {
            conn,
            book,
            meta,
            alerts,
            synced,
            alerts_seen,
            ..
        } = self;
        let known = Known {
            book,
            meta,
            alerts,
            alerts_seen,
        };
        let (mut tx, batch) = begin_batch(conn, known, *synced, scope.as_ref()).await?;
        if book.hold_ids_left() < MAX_BATCH as i64 {
            book.use_hold_ids(store::reserve_hold_ids(&mut tx).await?);
        }
        let mut pending = Pending::default();
        let expired = match &batch.locked {
            Some(locked) => book.expire_due_in(now, |account| locked.contains(&account)),
            None => book.expire_due(now),
        };
        for (hold, entry) in expired {
            pending.ended(hold, HoldState::Expired, now);
            pending.entry(entry, None, now);
        }
        let mut results = Vec::with_capacity(jobs.len());
        for job in jobs {
            // Each operation is judged on its own, so a batch that crosses, recovers and
            // crosses again fires twice, as separate transactions would.
            let first_entry = pending.entries.len();
            let mut op = Op {
                conn: &mut tx,
                book,
                meta,
                alerts,
                pending: &mut pending,
                now,
            };
            results.push(op.run(&job.command).await?);
            alerts
                .after(&mut tx, book, &pending.entries[first_entry..], now)
                .await?;
        }
        let touched = pending.touched();
        if let Some(locked) = &batch.locked
            && let Some(stray) = touched.iter().find(|id| !locked.contains(id))
        {
            // A batch that runs beside others may change only what it locked.
            return Err(sqlx::Error::Protocol(format!(
                "a ledger batch changed account {stray}, which it had not locked"
            )));
        }
        let balances = balances(book, &touched);
        let holds: Vec<HoldRow> = pending.holds.into_values().collect();
        let rows = BatchRows {
            stamp: batch.stamp,
            holds: &holds,
            entries: &pending.entries,
            balances: &balances,
        };
        store::write_batch(&mut tx, rows).await?;
        let alerts_version = match alerts.take_changed() {
            true => Some(store::alerts_changed(&mut tx).await?),
            false => None,
        };
        tx.commit().await?;
        stamp(meta, &touched, batch.stamp);
        if batch.locked.is_none() {
            *synced = batch.stamp;
        }
        // Another batch that changed alerts since this one opened leaves the version further
        // on: the next batch then reloads them.
        if alerts_version == Some(*alerts_seen + 1) {
            *alerts_seen += 1;
        }
        Ok(results)
    }
}

/// What a writer knows, that opening a batch brings up to date.
struct Known<'a> {
    book: &'a mut Book,
    meta: &'a mut HashMap<AccountId, Meta>,
    alerts: &'a mut Alerts,
    alerts_seen: &'a mut i64,
}

/// What a batch locks to run beside other writers' batches: the accounts it touches, the
/// holds it names that the book does not know, and the idempotency keys it places holds
/// under. Only holds, captures, cancels, extensions and closes qualify (the IAP API's
/// traffic): every other operation reads or writes beyond its account, so its batch runs
/// alone.
struct Scope<'a> {
    accounts: BTreeSet<AccountId>,
    tokens: Vec<(HoldId, &'a str)>,
    keys: Vec<&'a str>,
}

impl<'a> Scope<'a> {
    /// The scope of `jobs`, or `None` if their batch must run alone.
    fn of(jobs: &'a [Job], book: &Book, now: i64) -> Option<Self> {
        let mut scope = Scope {
            accounts: book.due_accounts(now).into_iter().collect(),
            tokens: Vec::new(),
            keys: Vec::new(),
        };
        for job in jobs {
            match &job.command {
                Command::Hold(new) => {
                    scope.accounts.insert(new.account);
                    scope.keys.extend(new.idempotency_key.as_deref());
                }
                Command::Capture { token, .. }
                | Command::Cancel { token }
                | Command::Extend { token, .. }
                | Command::Close { token } => match book.open_hold(token) {
                    Some(hold) => {
                        scope.accounts.insert(hold.account);
                    }
                    None => scope
                        .tokens
                        .extend(hold_id_of(token).map(|id| (id, token.as_str()))),
                },
                _ => return None,
            }
        }
        Some(scope)
    }
}

/// A batch as opened.
struct Batch {
    stamp: i64,
    /// The accounts it locked, if it runs beside other writers' batches; `None` if alone.
    locked: Option<HashSet<AccountId>>,
}

/// Opens a batch's transaction: takes its locks (`scope`'s, or the whole ledger's when it
/// is `None`), which waits for the batches holding them to commit, and its stamp; then
/// reloads what another writer changed behind the book among what it locked (all of it for
/// a batch alone, read from `synced` on), and the alerts' memory if their version moved.
/// If the batch then rolls back, the book is still the database's.
async fn begin_batch<'c>(
    conn: &'c mut AnyConnection,
    known: Known<'_>,
    synced: i64,
    scope: Option<&Scope<'_>>,
) -> Result<(sqlx::Transaction<'c, sqlx::Any>, Batch), sqlx::Error> {
    let Known {
        book,
        meta,
        alerts,
        alerts_seen,
    } = known;
    let mut tx = crate::db::begin_write_on(conn).await?;
    let stamp_of = |id: &AccountId| meta.get(id).map(|m| m.stamp);
    let (opened, locked) = match scope {
        Some(scope) => {
            let accounts: Vec<(AccountId, i64)> = scope
                .accounts
                .iter()
                .map(|id| (*id, stamp_of(id).unwrap_or(-1)))
                .collect();
            let wanted = Wanted {
                known: &accounts,
                tokens: &scope.tokens,
                keys: &scope.keys,
            };
            let opened = store::open_shared(&mut tx, wanted).await?;
            let mut locked: HashSet<AccountId> = scope.accounts.iter().copied().collect();
            locked.extend(opened.accounts.iter().map(|row| row.id));
            (opened, Some(locked))
        }
        None => (
            store::open_exclusive(&mut tx, synced, |id| stamp_of(&id)).await?,
            None,
        ),
    };
    if !opened.accounts.is_empty() {
        tracing::debug!(
            accounts = opened.accounts.len(),
            holds = opened.holds.len(),
            "reloading accounts another ledger writer changed"
        );
        let stale: HashSet<AccountId> = opened.accounts.iter().map(|row| row.id).collect();
        book.forget_holds_of(&stale);
        for row in opened.accounts {
            meta.insert(row.id, Meta::load(book, row));
        }
        for hold in opened.holds {
            book.load_hold(hold);
        }
    }
    if opened.alerts_version != *alerts_seen {
        alerts.reload(&mut tx).await?;
        *alerts_seen = opened.alerts_version;
    }
    let batch = Batch {
        stamp: opened.stamp,
        locked,
    };
    Ok((tx, batch))
}

/// The figures of `accounts` to write.
fn balances(book: &Book, accounts: &BTreeSet<AccountId>) -> Vec<(AccountId, Account)> {
    accounts
        .iter()
        .filter_map(|id| book.account(*id).map(|a| (*id, *a)))
        .collect()
}

/// Remembers that the book's figures of `accounts` are those of batch `stamp`, committed.
fn stamp(meta: &mut HashMap<AccountId, Meta>, accounts: &BTreeSet<AccountId>, stamp: i64) {
    for id in accounts {
        if let Some(meta) = meta.get_mut(id) {
            meta.stamp = stamp;
        }
    }
}

/// One operation of a batch, with what it may touch.
struct Op<'a> {
    conn: &'a mut AnyConnection,
    book: &'a mut Book,
    meta: &'a mut HashMap<AccountId, Meta>,
    alerts: &'a mut Alerts,
    pending: &'a mut Pending,
    now: i64,
}

/// An operation's outcome: the outer `Result` is a database failure (the batch aborts),
/// the inner one this operation's answer.
type Outcome<T> = Result<Result<T, LedgerError>, sqlx::Error>;

impl Op<'_> {
    async fn run(&mut self, command: &Command) -> Outcome<Reply> {
        Ok(match command {
            Command::Hold(new) => self.hold(new).await?.map(Reply::Token),
            Command::Capture { token, amount } => {
                self.capture(token, *amount).await?.map(Reply::Captured)
            }
            Command::Cancel { token } => self.cancel(token).await?.map(|()| Reply::Done),
            Command::Extend { token, ttl } => self.extend(token, *ttl).await?.map(|()| Reply::Done),
            Command::Close { token } => self.close(token).await?.map(Reply::Ended),
            Command::RecordSms(result) => self
                .record_sms(result)
                .await?
                .map(|(state, charged)| Reply::Sms(state, charged)),
            Command::QueueSms(batch) => self.queue_sms(batch).await?.map(Reply::Queued),
            Command::FinishSmsBatch { batch, token } => self
                .finish_sms_batch(*batch, token)
                .await?
                .map(|()| Reply::Done),
            Command::Credit { credit, by } => self.credit(credit, *by).map(|()| Reply::Done),
            Command::Reverse { reversal, by } => {
                self.reverse(reversal, *by).await?.map(Reply::Reversed)
            }
            Command::Refund { refund, by } => self.refund(refund, *by).await?.map(Reply::Refund),
            Command::RefundRefused { order, reason } => self
                .refund_refused(*order, reason)
                .await?
                .map(|()| Reply::Done),
            Command::RefundReturned { order, reference } => self
                .refund_returned(*order, reference)
                .await?
                .map(|()| Reply::Done),
            Command::Resolve { service, company } => {
                self.resolve(service, *company).await?.map(Reply::Account)
            }
            Command::Edit(edit) => self.edit(edit).await?.map(|()| Reply::Done),
            Command::PaymentSucceeded {
                order,
                provider,
                reference,
            } => self
                .payment_succeeded(*order, provider, reference)
                .await?
                .map(|()| Reply::Done),
            Command::ConfigureWarning { account, settings } => self
                .configure_warning(*account, settings)
                .await?
                .map(|()| Reply::Done),
            Command::AddThreshold { account, threshold } => self
                .add_threshold(*account, threshold)
                .await?
                .map(Reply::Threshold),
            Command::RemoveThreshold { account, id } => self
                .remove_threshold(*account, *id)
                .await?
                .map(|()| Reply::Done),
            Command::ChangeRecharge { account, change } => self
                .change_recharge(*account, change)
                .await?
                .map(|()| Reply::Done),
            Command::Sweep => Ok(Reply::Done),
        })
    }

    async fn hold(&mut self, new: &NewHold) -> Outcome<String> {
        let idempotency = match &new.idempotency_key {
            None => None,
            Some(key) => {
                let digest = request_digest(new);
                let earlier = match self.pending.keys.get(key) {
                    Some((hash, token)) => Some((token.clone(), hash.clone())),
                    None => store::hold_by_key(self.conn, key).await?,
                };
                if let Some((token, hash)) = earlier {
                    return Ok(if hash == digest {
                        Ok(token)
                    } else {
                        Err(LedgerError::Conflict(Conflict::IdempotencyKeyReused))
                    });
                }
                Some((key.clone(), digest))
            }
        };
        let token = format!("{}.{}", self.book.next_hold_id(), crypto::random_token(16));
        let placement = Placement {
            token: token.clone(),
            now: self.now,
            idempotency: idempotency.clone(),
        };
        Ok(self.book.hold(new, placement).map(|(id, entry)| {
            if let Some((key, digest)) = idempotency {
                self.pending.keys.insert(key, (digest, token.clone()));
            }
            if let Some(hold) = self.book.open_hold(&token).cloned() {
                debug_assert_eq!(hold.id, id);
                self.pending.hold(hold, HoldState::Open, None, self.now);
            }
            self.pending.entry(entry, None, self.now);
            token
        }))
    }

    async fn capture(&mut self, token: &str, amount: Option<Credits>) -> Outcome<Credits> {
        if self.book.open_hold(token).is_some() {
            return Ok(self
                .book
                .capture(token, amount)
                .map(|(hold, taken, entry)| {
                    let total = hold.captured + taken;
                    self.pending
                        .hold(hold, HoldState::Captured, Some(total), self.now);
                    self.pending.entry(entry, None, self.now);
                    Credits::from_minor(taken)
                }));
        }
        Ok(match self.closed(token).await? {
            Some((held, end)) => repeat_capture(end, held, amount).map(Credits::from_minor),
            None => Err(LedgerError::UnknownHold),
        })
    }

    async fn cancel(&mut self, token: &str) -> Outcome<()> {
        if self.book.open_hold(token).is_some() {
            return Ok(self.book.cancel(token).map(|(hold, entry)| {
                let state = hold.closed_state();
                self.pending.ended(hold, state, self.now);
                self.pending.entry(entry, None, self.now);
            }));
        }
        Ok(match self.closed(token).await? {
            Some((_, end)) => repeat_cancel(end),
            None => Err(LedgerError::UnknownHold),
        })
    }

    async fn extend(&mut self, token: &str, ttl: std::time::Duration) -> Outcome<()> {
        let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        if self.book.open_hold(token).is_some() {
            return Ok(self
                .book
                .extend(token, self.now.saturating_add(ttl))
                .map(|hold| self.pending.open(hold, self.now)));
        }
        Ok(Err(match self.closed(token).await? {
            Some((_, HoldEnd::Expired)) => LedgerError::HoldExpired,
            Some((_, HoldEnd::Released)) => LedgerError::Conflict(Conflict::HoldCancelled),
            Some((_, HoldEnd::Captured(_))) => LedgerError::Conflict(Conflict::AlreadyCaptured),
            None => LedgerError::UnknownHold,
        }))
    }

    async fn close(&mut self, token: &str) -> Outcome<HoldEnd> {
        if self.book.open_hold(token).is_some() {
            return Ok(self.book.close(token).map(|(hold, entry)| {
                let state = hold.closed_state();
                let end = HoldEnd::from_closed(state, hold.captured);
                self.pending.ended(hold, state, self.now);
                if let Some(entry) = entry {
                    self.pending.entry(entry, None, self.now);
                }
                end
            }));
        }
        Ok(match self.closed(token).await? {
            Some((_, end)) => Ok(end),
            None => Err(LedgerError::UnknownHold),
        })
    }

    /// A batch of SMS, its hold, messages and chatter lines, in this batch's transaction.
    async fn queue_sms(&mut self, batch: &SmsBatch) -> Outcome<QueuedSms> {
        if let Some(id) = crate::db::sms::batch_by_key(self.conn, &batch.request_key).await? {
            return Ok(Ok(QueuedSms::AlreadyQueued(id)));
        }
        let uuids: Vec<&str> = batch
            .messages
            .iter()
            .filter_map(|(m, _)| m.uuid.as_deref())
            .collect();
        if !crate::db::sms::by_uuids(self.conn, &uuids)
            .await?
            .is_empty()
        {
            return Ok(Ok(QueuedSms::UuidTaken));
        }
        let hold = match &batch.hold {
            None => None,
            Some(new) => match self.hold(new).await? {
                Ok(token) => Some(token),
                Err(error) => return Ok(Err(error)),
            },
        };
        let new = crate::db::sms::NewBatch {
            request_key: &batch.request_key,
            source: batch.source,
            author_id: batch.author_id,
            account_id: batch.account_id,
            hold_token: hold.as_deref(),
            dbuuid: batch.dbuuid.as_deref(),
            webhook_url: batch.webhook_url.as_deref(),
            sender_name: batch.sender_name.as_deref(),
        };
        let Some(id) = crate::db::sms::insert_batch(self.conn, &new, self.now).await? else {
            return Ok(Ok(QueuedSms::AlreadyQueued(0)));
        };
        for (message, chatter) in &batch.messages {
            let chatter_id = match chatter {
                Some(line) => Some(
                    crate::db::messages::post(
                        self.conn,
                        line.model,
                        line.res_id,
                        line.author_id,
                        &line.body,
                        self.now,
                    )
                    .await?,
                ),
                None => None,
            };
            crate::db::sms::insert_message(self.conn, id, message, chatter_id, self.now).await?;
        }
        Ok(Ok(QueuedSms::Queued { batch: id, hold }))
    }

    /// Releases what a finished batch's hold still reserves and marks the batch done.
    async fn finish_sms_batch(&mut self, batch: i64, token: &str) -> Outcome<()> {
        match self.close(token).await? {
            Ok(_) | Err(LedgerError::UnknownHold) => {}
            Err(error) => return Ok(Err(error)),
        }
        crate::db::sms::finish_batch(self.conn, batch).await?;
        Ok(Ok(()))
    }

    /// One SMS's fate and its share of its batch's hold, in this batch's transaction.
    async fn record_sms(&mut self, result: &SmsResult) -> Outcome<(SmsState, Credits)> {
        let Some(message) = crate::db::sms::for_record(self.conn, result.message).await? else {
            return Ok(Err(LedgerError::UnknownMessage));
        };
        if message.state != SmsState::Outgoing {
            return Ok(Ok((message.state, Credits::from_minor(message.credits))));
        }
        let token = message.hold_token.as_deref().unwrap_or_default();
        let charged = match &result.outcome {
            Err(_) => 0,
            Ok(_) => match self.book.capture_part(
                token,
                Credits::from_minor(message.cost),
                result.description.clone(),
            ) {
                Ok((hold, entry)) => {
                    self.pending.open(hold, self.now);
                    self.pending.entry(entry, message.author_id, self.now);
                    message.cost
                }
                Err(error) => {
                    // Only possible if the hold was ended behind the job's back: the job
                    // extends it before every message it hands over.
                    tracing::error!(
                        message = result.message,
                        ?error,
                        "an SMS went out after its hold ended: recorded as sent, not charged"
                    );
                    0
                }
            },
        };
        let ttl = i64::try_from(result.keep_alive.as_millis()).unwrap_or(i64::MAX);
        if let Ok(hold) = self.book.extend(token, self.now.saturating_add(ttl)) {
            self.pending.open(hold, self.now);
        }
        let state = match &result.outcome {
            Ok(reference) => {
                crate::db::sms::mark_sent(
                    self.conn,
                    result.message,
                    &result.provider,
                    reference,
                    charged,
                    self.now,
                )
                .await?;
                SmsState::Sent
            }
            Err(error) => {
                crate::db::sms::mark_error(
                    self.conn,
                    result.message,
                    &result.provider,
                    error,
                    self.now,
                )
                .await?;
                SmsState::Error
            }
        };
        // The API answered "processing" for it: its sender hears what became of it, unless
        // the gateway already reported on it (a later status must not be overtaken).
        if let (true, None, Some(uuid), Some(url)) = (
            message.report_outcome,
            message.delivery,
            &message.uuid,
            &message.webhook_url,
        ) {
            let status = match state {
                SmsState::Sent => SmsDelivery::Sent,
                _ => SmsDelivery::NotDelivered,
            };
            crate::db::sms_reports::queue(self.conn, result.message, url, uuid, status, self.now)
                .await?;
        }
        Ok(Ok((state, Credits::from_minor(charged))))
    }

    async fn closed(&mut self, token: &str) -> Result<Option<(i64, HoldEnd)>, sqlx::Error> {
        match self.pending.closed(token) {
            Some(found) => Ok(Some(found)),
            None => store::closed_hold(self.conn, token).await,
        }
    }

    fn credit(&mut self, credit: &NewCredit, by: Option<i64>) -> Result<(), LedgerError> {
        let entry = self.book.credit(
            credit.account,
            credit.kind,
            credit.amount,
            credit.description.clone(),
        )?;
        self.pending.entry(entry, by, self.now);
        Ok(())
    }

    /// Gives back credits of one capture, once: a repeat (a retry, a double click, a second
    /// administrator) gets the first reversal's answer, from this batch or the database.
    async fn reverse(&mut self, reversal: &NewReversal, by: i64) -> Outcome<Credits> {
        let Some((entry, done)) = store::reversible_entry(self.conn, reversal.entry).await? else {
            return Ok(Err(LedgerError::UnknownEntry));
        };
        if entry.account != reversal.account {
            return Ok(Err(LedgerError::UnknownEntry));
        }
        if let Some(done) = self.pending.reversed.get(&entry.id).copied().or(done) {
            return Ok(repeat_reversal(&entry, done, reversal.amount));
        }
        Ok(self.book.reverse(&entry, reversal).map(|row| {
            let amount = Credits::from_minor(row.amount);
            self.pending.reversal(row, entry.id, by, self.now);
            amount
        }))
    }

    /// Refunds a paid order, once: its credits leave the account as a `refund` entry and the
    /// refund is recorded as pending, in one transaction; the money goes back afterwards. A
    /// repeat answers the first refund's state, even within one batch: its reads share the
    /// batch's transaction, so they see the refund row an earlier operation wrote.
    async fn refund(&mut self, refund: &NewRefund, by: i64) -> Outcome<RefundState> {
        let Some(found) = crate::db::refunds::order(self.conn, refund.order).await? else {
            return Ok(Err(LedgerError::UnknownOrder));
        };
        match crate::domain::refund::judge(&found.order) {
            Ok(Some(state)) => return Ok(Ok(state)),
            Ok(None) => {}
            Err(e) => return Ok(Err(e.into())),
        }
        let Some(provider) = found.provider else {
            return Ok(Err(LedgerError::UnknownOrder));
        };
        let order = &found.order;
        let description = Text::new(Msg::RefundEntry)
            .arg("order", order_reference(order.id))
            .arg("reason", refund.reason.clone());
        let entry = match self.book.refund(
            order.account,
            Credits::from_minor(order.credits),
            Note::from(description),
        ) {
            Ok(entry) => entry,
            Err(error) => return Ok(Err(error)),
        };
        crate::db::refunds::insert(self.conn, order.id, &refund.reason, &provider, by, self.now)
            .await?;
        self.pending.refund(entry, order.id, Some(by), self.now);
        Ok(Ok(RefundState::Pending))
    }

    /// The provider returned a pending refund's money. Every change of a refund's state
    /// goes through the writer, so a refusal and a return of the same refund never both win.
    async fn refund_returned(&mut self, order: i64, reference: &str) -> Outcome<()> {
        if crate::db::refunds::mark_refunded(self.conn, order, reference, self.now).await? {
            tracing::info!(order, reference, "refund returned");
        }
        Ok(Ok(()))
    }

    /// The provider refused a pending refund for good: it fails, and the order's credits
    /// come back, in one transaction. Nothing happens to a refund no longer pending.
    async fn refund_refused(&mut self, order: i64, reason: &str) -> Outcome<()> {
        let Some(found) = crate::db::refunds::order(self.conn, order).await? else {
            return Ok(Err(LedgerError::UnknownOrder));
        };
        if found.order.refund != Some(RefundState::Pending) {
            return Ok(Ok(()));
        }
        let description = Text::new(Msg::RefundRefusedEntry)
            .arg("order", order_reference(order))
            .arg("reason", reason.to_owned());
        let entry = match self.book.credit(
            found.order.account,
            EntryKind::Adjustment,
            Credits::from_minor(found.order.credits),
            Note::from(description),
        ) {
            Ok(entry) => entry,
            Err(error) => return Ok(Err(error)),
        };
        crate::db::refunds::mark_failed(self.conn, order, reason, self.now).await?;
        self.pending.refund(entry, order, None, self.now);
        tracing::warn!(
            order,
            reason,
            "refund refused by the provider; credits given back"
        );
        Ok(Ok(()))
    }

    /// Odoo's rule: among the service's accounts usable by `company`, one restricted to it
    /// beats a shared one, and the newest wins among equals; none means a new shared account.
    async fn resolve(&mut self, service: &str, company: i64) -> Outcome<AccountId> {
        let best = self
            .meta
            .iter()
            .filter(|(_, m)| {
                m.service == service && (m.companies.is_empty() || m.companies.contains(&company))
            })
            .max_by_key(|(id, m)| (m.companies.contains(&company), **id))
            .map(|(id, _)| *id);
        if let Some(id) = best {
            return Ok(Ok(id));
        }
        let Some(svc) = store::service(self.conn, service).await? else {
            return Ok(Err(LedgerError::Invalid(
                FieldError::new("service", Msg::ErrUnknownService).arg("service", service),
            )));
        };
        let token = crypto::random_token(16);
        let id = store::insert_account(self.conn, service, &svc.label, &token, self.now).await?;
        self.book.load_account(id, Default::default());
        self.pending.accounts.insert(id);
        self.meta.insert(
            id,
            Meta {
                service: service.to_owned(),
                companies: Vec::new(),
                // Stamped with the batch's own once it commits.
                stamp: -1,
            },
        );
        if svc.trial_credits > 0
            && store::grants_trials(self.conn).await?
            && store::claim_trial(self.conn, service, id, self.now).await?
        {
            let trial = self.book.credit(
                id,
                EntryKind::Trial,
                Credits::from_minor(svc.trial_credits),
                Note::from(Msg::KindTrial),
            );
            match trial {
                Ok(entry) => self.pending.entry(entry, None, self.now),
                Err(error) => tracing::error!(?error, service, "cannot grant trial credits"),
            }
        }
        tracing::info!(service, account = id, "created IAP account on first use");
        Ok(Ok(id))
    }

    /// Applies a checked edit; the rules that need the database (the companies exist, the
    /// token is free) are checked here, in the batch's transaction.
    async fn edit(&mut self, edit: &AccountEdit) -> Outcome<()> {
        if !self.meta.contains_key(&edit.account) {
            return Ok(Err(LedgerError::UnknownAccount));
        }
        if store::count_companies(self.conn, &edit.companies).await? != edit.companies.len() as i64
        {
            return Ok(Err(
                FieldError::new("companies", Msg::ErrCompanyMissing).into()
            ));
        }
        if store::token_taken(self.conn, &edit.token, edit.account).await? {
            return Ok(Err(FieldError::new("token", Msg::ErrTokenTaken).into()));
        }
        store::update_account(
            self.conn,
            edit.account,
            &edit.name,
            &edit.token,
            &edit.companies,
        )
        .await?;
        if let Err(error) = self.book.set_disabled(edit.account, edit.disabled()) {
            return Ok(Err(error));
        }
        if let Some(meta) = self.meta.get_mut(&edit.account) {
            meta.companies = edit.companies.clone();
        }
        self.pending.accounts.insert(edit.account);
        Ok(Ok(()))
    }

    async fn payment_succeeded(
        &mut self,
        order: i64,
        provider: &str,
        reference: &str,
    ) -> Outcome<()> {
        let Some(row) = store::order_for_payment(self.conn, order).await? else {
            return Ok(Err(LedgerError::UnknownOrder));
        };
        match row.state {
            OrderState::Paid
                if row.provider.as_deref() == Some(provider)
                    && row.provider_reference.as_deref() == Some(reference) =>
            {
                return Ok(Ok(()));
            }
            OrderState::Paid => return Ok(Err(LedgerError::Conflict(Conflict::OrderPaid))),
            OrderState::Failed => return Ok(Err(LedgerError::Conflict(Conflict::OrderFailed))),
            OrderState::Draft | OrderState::Pending => {}
        }
        if store::reference_used(self.conn, provider, reference, order).await? {
            return Ok(Err(LedgerError::Conflict(Conflict::PaymentReused)));
        }
        // The pack's catalogue name is a message of its own, so it is translated too.
        let pack = match crate::i18n::pack_text(&row.pack_name) {
            Some(msg) => Arg::Msg(msg),
            None => Arg::Text(row.pack_name.clone()),
        };
        let description = Text::new(Msg::OrderEntry)
            .arg("order", order_reference(order))
            .arg("pack", pack);
        let entry = match self.book.credit(
            row.account_id,
            EntryKind::Purchase,
            Credits::from_minor(row.credits),
            Note::from(description),
        ) {
            Ok(entry) => entry,
            Err(error) => return Ok(Err(error)),
        };
        store::mark_paid(self.conn, order, provider, reference, self.now).await?;
        // An auto-recharge order: the recharge waits for the next crossing again.
        crate::db::auto_recharge::settle(self.conn, row.account_id, order, self.now).await?;
        self.pending.entry(entry, Some(row.created_by), self.now);
        Ok(Ok(()))
    }

    /// Saves the settings and, when Warn Me now covers an account already below the line
    /// that had not been warned about it, queues that warning at once.
    async fn configure_warning(
        &mut self,
        account: AccountId,
        settings: &ValidWarning,
    ) -> Outcome<()> {
        let Some(available) = self.book.account(account).map(|a| a.available()) else {
            return Ok(Err(LedgerError::UnknownAccount));
        };
        self.alerts
            .configure_warning(self.conn, account, settings, available, self.now)
            .await?;
        Ok(Ok(()))
    }

    /// Adds a further alert threshold to an account.
    async fn add_threshold(&mut self, account: AccountId, new: &NewThreshold) -> Outcome<i64> {
        let Some(available) = self.book.account(account).map(|a| a.available()) else {
            return Ok(Err(LedgerError::UnknownAccount));
        };
        self.alerts
            .add_threshold(self.conn, account, new, available, self.now)
            .await
    }

    /// Changes an account's auto-recharge.
    async fn change_recharge(
        &mut self,
        account: AccountId,
        change: &RechargeChange,
    ) -> Outcome<()> {
        let Some(available) = self.book.account(account).map(|a| a.available()) else {
            return Ok(Err(LedgerError::UnknownAccount));
        };
        self.alerts
            .change_recharge(self.conn, account, change, available, self.now)
            .await?;
        Ok(Ok(()))
    }

    /// Removes one of an account's further thresholds.
    async fn remove_threshold(&mut self, account: AccountId, id: i64) -> Outcome<()> {
        let removed = self.alerts.remove_threshold(self.conn, account, id).await?;
        Ok(if removed {
            Ok(())
        } else {
            Err(LedgerError::UnknownEntry)
        })
    }
}

/// Identifies a hold request, so a reused idempotency key with other content is caught.
fn request_digest(new: &NewHold) -> String {
    crypto::sha256_hex(&format!(
        "{}\n{}\n{}\n{}",
        new.account,
        new.amount.minor(),
        new.ttl_hours,
        new.description.plain()
    ))
}
