//! The SMS worker: a background task that sends the queued messages of every unfinished
//! batch and records each answer through the ledger writer, which charges it.
//!
//! Batches are taken from the database, so a restarted server resumes the ones it left.
//! Several batches run at once; all of them share one gate of `concurrency` provider calls.
//! A batch whose round fails (the database is busy, the writer refuses) is logged and taken
//! up again at the next poll: whatever was recorded stays recorded, and a message whose
//! answer was not is handed over again under the same id.
//!
//! A provider that gives no clear answer for a message (a timeout, a 5xx) may have sent
//! it, so the message is neither charged nor freed: it stays queued, its batch's hold stays
//! in place, and the batch is taken up again after a wait that doubles each time (`retry`
//! up to `max_retry`), until the provider says yes (charged) or no (free). Only a message
//! still queued is ever handed over, so one the provider took is charged exactly once.
//!
//! Batches are taken up only on the node that leads the background work, but two nodes may
//! both run one for a moment (a leader cut from its lock connection finishes its round
//! while the next leader starts one). That is safe: a message goes to the gateway under the
//! same `Idempotency-Key` from both, and the ledger records only the first answer for it.
//!
//! At shutdown the worker stops handing over messages, waits for the ones with the
//! provider and records their answers, then stops; it runs among the tasks that
//! [`Tasks::shutdown`] stops before the ledger writer, so those answers still reach it.

use super::HOLD_TTL_HOURS;
use super::provider::{Delivery, NotTaken, Outgoing, SmsProvider};
use crate::db;
use crate::db::sms::{OutgoingMessage, PendingBatch};
use crate::domain::credits::Credits;
use crate::domain::ledger::{HoldRequest, LedgerError, NewHold};
use crate::i18n::{Msg, Text, t};
use crate::ledger::{Ledger, SmsResult};
use crate::models::{SmsBatchState, SmsBatchStatus};
use crate::tasks::{CancellationToken, Tasks};
use sqlx::AnyPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, broadcast};
use tokio::task::JoinSet;

/// Batches worked on at once; more wait for a free slot.
const MAX_ACTIVE_BATCHES: usize = 64;

/// How the worker runs.
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// Provider calls in flight at once, over all batches (`SMS_CONCURRENCY`).
    pub concurrency: usize,
    /// How often the worker looks for unfinished batches besides being woken.
    pub poll: Duration,
    /// How long a batch's hold must live after each sign of progress.
    pub keep_alive: Duration,
    /// How often a hold is extended while its messages are with the provider.
    pub heartbeat: Duration,
    /// The wait before a batch with messages the provider gave no clear answer for is
    /// taken up again; it doubles each time, up to `max_retry`.
    pub retry: Duration,
    pub max_retry: Duration,
    /// How long an SMS API call waits for its batch before it answers with what is still
    /// queued (`SMS_API_WAIT_MS`).
    pub answer_within: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            concurrency: 8,
            poll: Duration::from_secs(1),
            keep_alive: Duration::from_secs(3_600 * HOLD_TTL_HOURS.unsigned_abs()),
            heartbeat: Duration::from_secs(300),
            retry: Duration::from_secs(5),
            max_retry: Duration::from_secs(300),
            answer_within: Duration::from_secs(5),
        }
    }
}

/// How often a caller waiting for a batch looks at it in the database, for batches another
/// node sends.
const LOOK_EVERY: Duration = Duration::from_millis(200);

/// The handle senders and pages use: wakes the worker, and lets a caller wait for a batch.
pub struct SmsQueue {
    wake: Arc<Notify>,
    /// The id of each batch the worker finishes; closed when the worker stops.
    finished: broadcast::Receiver<i64>,
    answer_within: Duration,
}

impl Clone for SmsQueue {
    fn clone(&self) -> Self {
        SmsQueue {
            wake: self.wake.clone(),
            finished: self.finished.resubscribe(),
            answer_within: self.answer_within,
        }
    }
}

impl SmsQueue {
    /// How long an SMS API call waits for its batch before answering.
    pub fn answer_within(&self) -> Duration {
        self.answer_within
    }

    /// Tells the worker a batch was queued.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The batch's status once it is done, or as it stands after `limit`. `None` for a
    /// batch that does not exist.
    pub async fn wait_for(
        &self,
        pool: &AnyPool,
        batch: i64,
        limit: Duration,
    ) -> Result<Option<SmsBatchStatus>, sqlx::Error> {
        let deadline = tokio::time::Instant::now() + limit;
        // Listening before looking, so a batch finished in between is not missed.
        let mut finished = self.finished.resubscribe();
        loop {
            let status = {
                let mut conn = pool.acquire().await?;
                db::sms::batch_status(&mut conn, batch).await?
            };
            match status {
                Some(s) if s.state == SmsBatchState::Pending => {
                    if tokio::time::Instant::now() >= deadline {
                        return Ok(Some(s));
                    }
                }
                other => return Ok(other),
            }
            // Another node may run the batch (the one leading the background work), and its
            // announcements do not reach this one: look again at least every `LOOK_EVERY`.
            let look = deadline.min(tokio::time::Instant::now() + LOOK_EVERY);
            loop {
                match tokio::time::timeout_at(look, finished.recv()).await {
                    Ok(Ok(id)) if id != batch => continue,
                    // This batch, missed announcements, or time to look: look again.
                    Ok(Ok(_) | Err(broadcast::error::RecvError::Lagged(_))) | Err(_) => break,
                    // No worker any more (it stopped): another process may still finish
                    // the batch, so look again a little later.
                    Ok(Err(broadcast::error::RecvError::Closed)) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        break;
                    }
                }
            }
        }
    }
}

/// Starts the worker among `tasks`, in the stage stopped before the ledger writer.
pub fn start(
    tasks: &mut Tasks,
    pool: AnyPool,
    ledger: Ledger,
    provider: Arc<dyn SmsProvider>,
    settings: WorkerSettings,
) -> SmsQueue {
    let (finished, announced) = broadcast::channel(1_024);
    let wake = Arc::new(Notify::new());
    let answer_within = settings.answer_within;
    let worker = Arc::new(Worker {
        leader: tasks.leader(),
        pool,
        ledger,
        provider,
        gate: Arc::new(Semaphore::new(settings.concurrency.max(1))),
        settings,
        finished,
        wake: wake.clone(),
    });
    let cancel = tasks.feeder_token();
    tasks.spawn_feeder("sms worker", worker.run(cancel));
    SmsQueue {
        wake,
        finished: announced,
        answer_within,
    }
}

struct Worker {
    /// Batches are taken up only on the node that runs the background work.
    leader: crate::tasks::Leader,
    pool: AnyPool,
    ledger: Ledger,
    provider: Arc<dyn SmsProvider>,
    /// One permit per provider call in flight.
    gate: Arc<Semaphore>,
    settings: WorkerSettings,
    /// Announces each finished batch to those waiting for it.
    finished: broadcast::Sender<i64>,
    wake: Arc<Notify>,
}

/// Why a batch's round stopped early; it is taken up again at the next poll.
#[derive(Debug, thiserror::Error)]
enum RoundError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("ledger: {0:?}")]
    Ledger(LedgerError),
    #[error("a send task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// How a batch's round ended without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Round {
    /// Every message recorded; the rest of the hold released, the batch done.
    Finished,
    /// Some messages got no clear answer and wait for the next round.
    Unsure,
    /// The worker is stopping; what was with the provider is recorded.
    Stopped,
}

impl From<LedgerError> for RoundError {
    fn from(error: LedgerError) -> Self {
        RoundError::Ledger(error)
    }
}

impl Worker {
    /// Takes up unfinished batches until cancelled, then lets the running ones finish what
    /// is with the provider.
    async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let mut running: JoinSet<Result<Round, RoundError>> = JoinSet::new();
        let mut active: HashMap<tokio::task::Id, i64> = HashMap::new();
        // Batches whose last round failed or left messages unsure, and when they may be
        // tried again; and how many rounds in a row did so.
        let mut resting: HashMap<i64, tokio::time::Instant> = HashMap::new();
        let mut setbacks: HashMap<i64, u32> = HashMap::new();
        let mut stopping = false;
        loop {
            if !stopping && self.leader.leading() {
                let now = tokio::time::Instant::now();
                resting.retain(|_, until| *until > now);
                match self.unfinished().await {
                    Ok(batches) => {
                        for batch in batches {
                            if active.len() >= MAX_ACTIVE_BATCHES {
                                break;
                            }
                            if active.values().any(|id| *id == batch.id)
                                || resting.contains_key(&batch.id)
                            {
                                continue;
                            }
                            let id = batch.id;
                            let task = running.spawn(self.clone().run_batch(batch, cancel.clone()));
                            active.insert(task.id(), id);
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot read the SMS queue; trying again");
                    }
                }
            }
            tokio::select! {
                () = cancel.cancelled(), if !stopping => stopping = true,
                Some(done) = running.join_next_with_id() => {
                    let (task, outcome) = match done {
                        Ok((task, outcome)) => (task, outcome),
                        Err(error) => (error.id(), Err(RoundError::Task(error))),
                    };
                    let Some(batch) = active.remove(&task) else { continue };
                    let wait = match outcome {
                        Ok(Round::Finished | Round::Stopped) => {
                            setbacks.remove(&batch);
                            None
                        }
                        Ok(Round::Unsure) => Some(self.setback(&mut setbacks, batch)),
                        Err(error) => {
                            tracing::warn!(batch, %error, "SMS batch round failed; retrying");
                            Some(self.setback(&mut setbacks, batch).min(self.settings.poll))
                        }
                    };
                    if let Some(wait) = wait {
                        resting.insert(batch, tokio::time::Instant::now() + wait);
                    }
                }
                () = self.wake.notified(), if !stopping => {}
                () = tokio::time::sleep(self.settings.poll), if !stopping => {}
            }
            if stopping && running.is_empty() {
                break;
            }
        }
        tracing::info!("SMS worker stopped");
    }

    /// Counts one more round of `batch` that did not finish, and returns how long it rests.
    fn setback(&self, setbacks: &mut HashMap<i64, u32>, batch: i64) -> Duration {
        let rounds = setbacks.entry(batch).or_default();
        *rounds = rounds.saturating_add(1);
        crate::mail::worker::retry_delay(self.settings.retry, self.settings.max_retry, *rounds)
    }

    async fn unfinished(&self) -> Result<Vec<PendingBatch>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        let limit = i64::try_from(2 * MAX_ACTIVE_BATCHES).unwrap_or(i64::MAX);
        db::sms::pending_batches(&mut conn, limit).await
    }

    /// Sends the batch's waiting messages and records each answer; when none waits any
    /// more, releases the rest of its hold and marks it done. A message the provider gave
    /// no clear answer for is left queued for the next round. Stops handing over messages
    /// when cancelled.
    #[tracing::instrument(skip_all, fields(batch = batch.id))]
    async fn run_batch(
        self: Arc<Self>,
        batch: PendingBatch,
        cancel: CancellationToken,
    ) -> Result<Round, RoundError> {
        let token = self.ensure_hold(&batch).await?;
        let waiting = {
            let mut conn = self.pool.acquire().await?;
            db::sms::outgoing(&mut conn, batch.id).await?
        };
        let mut queue = waiting.into_iter();
        let mut with_provider: JoinSet<(OutgoingMessage, Delivery)> = JoinSet::new();
        let mut heartbeat = tokio::time::interval_at(
            tokio::time::Instant::now() + self.settings.heartbeat,
            self.settings.heartbeat,
        );
        let mut stopping = false;
        let mut failure = None;
        let mut unsure = 0usize;
        loop {
            let handing_over = !stopping && queue.len() > 0;
            if !handing_over && with_provider.is_empty() {
                break;
            }
            tokio::select! {
                biased;
                Some(done) = with_provider.join_next(), if !with_provider.is_empty() => {
                    let (message, delivery) = done?;
                    match delivery {
                        Err(NotTaken::Unsure(reason)) => {
                            // It may have gone out: neither charged nor freed until the
                            // provider answers clearly, in a later round.
                            unsure += 1;
                            if let Err(error) = self.note_unsure(&message, &reason.to_string()).await {
                                tracing::warn!(%error, "cannot note why an SMS waits");
                            }
                        }
                        delivery => {
                            if let Err(error) = self.record(&batch, &message, delivery).await {
                                // Left outgoing: handed over again (same id) at the next round.
                                stopping = true;
                                failure.get_or_insert(RoundError::from(error));
                            }
                        }
                    }
                }
                () = cancel.cancelled(), if !stopping => stopping = true,
                _ = heartbeat.tick() => {
                    if let Err(error) = self.ledger.extend(&token, self.settings.keep_alive).await {
                        tracing::warn!(?error, "cannot extend the hold of an SMS batch");
                    }
                }
                permit = self.gate.clone().acquire_owned(), if handing_over => {
                    let Ok(permit) = permit else { break };
                    if let Some(message) = queue.next() {
                        let provider = self.provider.clone();
                        let sender = batch.sender_name.clone();
                        with_provider.spawn(async move {
                            let outgoing = Outgoing {
                                id: message.id,
                                number: message.number.clone(),
                                body: message.body.clone(),
                                encoding: message.encoding.clone(),
                                parts: message.parts,
                                sender,
                            };
                            let delivery = provider.send(&outgoing).await;
                            drop(permit);
                            (message, delivery)
                        });
                    }
                }
            }
        }
        if let Some(error) = failure {
            return Err(error);
        }
        if stopping {
            return Ok(Round::Stopped);
        }
        if unsure > 0 {
            tracing::info!(
                unsure,
                "SMS provider gave no clear answer; the batch tries again later"
            );
            return Ok(Round::Unsure);
        }
        self.ledger.finish_sms_batch(batch.id, &token).await?;
        tracing::debug!("SMS batch done");
        let _ = self.finished.send(batch.id);
        Ok(Round::Finished)
    }

    /// Keeps why a queued message did not go out this time, for the outbox.
    async fn note_unsure(
        &self,
        message: &OutgoingMessage,
        reason: &str,
    ) -> Result<(), sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        db::sms::note_unsure(&mut conn, message.id, reason).await
    }

    /// The batch's hold, extended so it outlives this round. A hold that ended while the
    /// batch waited (the server was down longer than its TTL) is placed again for the
    /// messages still waiting; if the account cannot cover them any more, they fail.
    async fn ensure_hold(&self, batch: &PendingBatch) -> Result<String, RoundError> {
        let ended = match self
            .ledger
            .extend(&batch.hold_token, self.settings.keep_alive)
            .await
        {
            Ok(()) => return Ok(batch.hold_token.clone()),
            Err(LedgerError::HoldExpired | LedgerError::Conflict(_) | LedgerError::UnknownHold) => {
                &batch.hold_token
            }
            Err(error) => return Err(error.into()),
        };
        let mut conn = self.pool.acquire().await?;
        let waiting = db::sms::outgoing(&mut conn, batch.id).await?;
        drop(conn);
        let cost: i64 = waiting.iter().map(|m| m.cost).sum();
        if cost == 0 {
            return Ok(ended.clone());
        }
        let hold = NewHold::parse(HoldRequest {
            account: batch.account_id,
            amount: Credits::from_minor(cost),
            description: super::hold_description(waiting.len(), batch.dbuuid.as_deref()),
            ttl_hours: Some(HOLD_TTL_HOURS),
            idempotency_key: Some(format!("sms-again:{}:{ended}", batch.id)),
        })
        .map_err(LedgerError::Invalid)?;
        match self.ledger.hold(hold).await {
            Ok(token) => {
                let mut conn = self.pool.acquire().await?;
                db::sms::set_hold(&mut conn, batch.id, &token).await?;
                tracing::warn!("the hold of an unfinished SMS batch had ended; held again");
                Ok(token)
            }
            Err(
                error @ (LedgerError::InsufficientCredits { .. }
                | LedgerError::AccountDisabled
                | LedgerError::UnknownAccount),
            ) => {
                let mut conn = self.pool.acquire().await?;
                let now = crate::clock::now_ms();
                let failed =
                    db::sms::fail_outgoing(&mut conn, batch.id, t(Msg::SmsHoldLost), now).await?;
                tracing::warn!(
                    ?error,
                    failed,
                    "an unfinished SMS batch can no longer be paid for; its waiting messages failed"
                );
                Ok(ended.clone())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Records the provider's answer for one message: the ledger charges it if it went out.
    async fn record(
        &self,
        batch: &PendingBatch,
        message: &OutgoingMessage,
        delivery: Delivery,
    ) -> Result<(), LedgerError> {
        let description = match &batch.dbuuid {
            Some(dbuuid) => Text::new(Msg::SmsCaptureDescriptionApi).arg("dbuuid", dbuuid),
            None => Text::new(Msg::SmsCaptureDescription),
        }
        .arg("number", &message.number)
        .arg("parts", message.parts)
        .into();
        let result = SmsResult {
            message: message.id,
            provider: self.provider.code().to_owned(),
            outcome: delivery.map_err(|error| error.reason().to_string()),
            description,
            keep_alive: self.settings.keep_alive,
        };
        let (state, charged) = self.ledger.record_sms(result).await?;
        tracing::debug!(
            message = message.id,
            ?state,
            charged = charged.minor(),
            "SMS recorded"
        );
        Ok(())
    }
}
