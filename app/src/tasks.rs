//! The server's background tasks, owned in one place: each runs until the shared
//! cancellation token fires, and shutting down waits for all of them, so a stopping server
//! finishes its ledger batch, its mail and its SMS rather than dropping them mid-way.
//!
//! Shutdown goes in two stages. Feeders (the SMS worker) hand results to other tasks (the
//! ledger writer); they are stopped and awaited first, so what they finish still reaches a
//! running writer. Then the rest.
//!
//! Periodic work (outboxes, sweeps, reconciliation) runs on one node of a database at a
//! time: the [`Leader`]. On SQLite there is one process per database, always leading; on
//! PostgreSQL the nodes campaign for it (`crate::leader`).

use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::task::JoinSet;
pub use tokio_util::sync::CancellationToken;

/// Whether this node runs its database's background work now. Cheap to clone and to ask.
#[derive(Clone, Debug)]
pub struct Leader(Arc<AtomicBool>);

impl Leader {
    /// Always leading: the only process on its database.
    pub fn alone() -> Self {
        Leader(Arc::new(AtomicBool::new(true)))
    }

    /// Not leading until [`Leader::set`] says so.
    pub fn follower() -> Self {
        Leader(Arc::new(AtomicBool::new(false)))
    }

    pub fn leading(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    pub fn set(&self, leading: bool) {
        self.0.store(leading, Ordering::SeqCst);
    }
}

impl Default for Leader {
    fn default() -> Self {
        Leader::alone()
    }
}

#[derive(Default)]
pub struct Tasks {
    set: JoinSet<()>,
    cancel: CancellationToken,
    /// Tasks stopped in the first stage, with their own token.
    feeders: JoinSet<()>,
    feeders_cancel: CancellationToken,
    /// Whether periodic steps run on this node.
    leader: Leader,
}

impl Tasks {
    pub fn new() -> Self {
        Tasks::default()
    }

    /// The token every task watches; cancelled by [`Tasks::shutdown`].
    pub fn token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Whether this node runs the background work.
    pub fn leader(&self) -> Leader {
        self.leader.clone()
    }

    /// Makes periodic steps (and the feeders that ask) run only while `leader` leads. Set
    /// it before starting them.
    pub fn follow(&mut self, leader: Leader) {
        self.leader = leader;
    }

    /// The token feeders watch; cancelled first by [`Tasks::shutdown`].
    pub fn feeder_token(&self) -> CancellationToken {
        self.feeders_cancel.clone()
    }

    /// Runs `task`, which feeds other tasks, until it returns; it should return soon after
    /// [`Tasks::feeder_token`] is cancelled. Shutdown waits for it before stopping the rest.
    pub fn spawn_feeder<F>(&mut self, name: &'static str, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.feeders.spawn(async move {
            task.await;
            tracing::debug!(task = name, "background task stopped");
        });
    }

    /// Runs `task` until it returns; it should return soon after the token is cancelled.
    pub fn spawn<F>(&mut self, name: &'static str, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.set.spawn(async move {
            task.await;
            tracing::debug!(task = name, "background task stopped");
        });
    }

    /// Runs `step` every `every` until cancelled, on the node that leads (a node that does
    /// not skips its turns). A failing step is the step's own business (it logs); the loop
    /// goes on.
    pub fn every<F, Fut>(&mut self, name: &'static str, every: Duration, mut step: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let cancel = self.token();
        let leader = self.leader();
        self.spawn(name, async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = cancel.cancelled() => break,
                    _ = tick.tick() => if leader.leading() {
                        step().await;
                    },
                }
            }
        });
    }

    /// Runs the future `make` returns, and makes a new one whenever it panics, until one
    /// returns: a task that must not die quietly (the ledger writer). `on_panic` runs after
    /// each panic, before the restart, which waits a second so a crash loop cannot spin.
    pub fn spawn_restarting<F, Fut>(
        &mut self,
        name: &'static str,
        mut make: F,
        on_panic: impl Fn() + Send + 'static,
    ) where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.spawn(name, async move {
            loop {
                match AssertUnwindSafe(make()).catch_unwind().await {
                    Ok(()) => break,
                    Err(_) => {
                        tracing::error!(task = name, "background task panicked; restarting it");
                        on_panic();
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
    }

    /// Cancels the feeders and waits for them, then every other task, at most `grace` in
    /// all; stragglers are aborted.
    pub async fn shutdown(mut self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        self.feeders_cancel.cancel();
        drain(&mut self.feeders, deadline).await;
        self.cancel.cancel();
        drain(&mut self.set, deadline).await;
    }
}

/// Waits for every task of `set` until `deadline`; aborts those still running then.
async fn drain(set: &mut JoinSet<()>, deadline: tokio::time::Instant) {
    let drained = tokio::time::timeout_at(deadline, async {
        while let Some(result) = set.join_next().await {
            if let Err(error) = result
                && error.is_panic()
            {
                tracing::error!(%error, "a background task panicked");
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(left = set.len(), "background tasks did not stop in time");
        set.abort_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[tokio::test(start_paused = true)]
    async fn a_restarting_task_comes_back_after_a_panic_and_stops_when_it_returns() {
        let mut tasks = Tasks::new();
        let starts = Arc::new(AtomicU32::new(0));
        let panics = Arc::new(AtomicU32::new(0));
        let (counted, seen) = (starts.clone(), panics.clone());
        tasks.spawn_restarting(
            "flaky",
            move || {
                let run = counted.fetch_add(1, Ordering::SeqCst);
                async move {
                    assert!(run >= 2, "a bug in run {run}");
                }
            },
            move || {
                seen.fetch_add(1, Ordering::SeqCst);
            },
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(starts.load(Ordering::SeqCst), 3);
        assert_eq!(panics.load(Ordering::SeqCst), 2);
        tasks.shutdown(Duration::from_secs(1)).await;
    }

    /// A periodic step every second among `tasks` that counts its runs.
    fn count_every_second(tasks: &mut Tasks) -> Arc<AtomicU32> {
        let runs = Arc::new(AtomicU32::new(0));
        let counted = runs.clone();
        tasks.every("count", Duration::from_secs(1), move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        runs
    }

    #[tokio::test(start_paused = true)]
    async fn periodic_steps_run_only_while_the_node_leads() {
        let mut tasks = Tasks::new();
        let leader = Leader::follower();
        tasks.follow(leader.clone());
        let runs = count_every_second(&mut tasks);
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 0, "a follower skips its turns");
        leader.set(true);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        leader.set(false);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            runs.load(Ordering::SeqCst),
            2,
            "and stops when it no longer leads"
        );
        tasks.shutdown(Duration::from_secs(1)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn periodic_tasks_run_until_shutdown_and_shutdown_waits_for_them() {
        let mut tasks = Tasks::new();
        let runs = count_every_second(&mut tasks);
        let finished = Arc::new(AtomicU32::new(0));
        let done = finished.clone();
        let token = tasks.token();
        tasks.spawn("drain", async move {
            token.cancelled().await;
            done.fetch_add(1, Ordering::SeqCst);
        });
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        tasks.shutdown(Duration::from_secs(5)).await;
        assert_eq!(finished.load(Ordering::SeqCst), 1);
        let after = runs.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(runs.load(Ordering::SeqCst), after);
    }

    #[tokio::test(start_paused = true)]
    async fn feeders_stop_before_the_tasks_they_feed() {
        let mut tasks = Tasks::new();
        let (order, seen) = tokio::sync::mpsc::unbounded_channel();
        let (fed, feeder) = (tasks.token(), tasks.feeder_token());
        let log = order.clone();
        tasks.spawn("writer", async move {
            fed.cancelled().await;
            let _ = log.send("writer");
        });
        tasks.spawn_feeder("worker", async move {
            feeder.cancelled().await;
            // Still finishing its last message: the writer must not stop meanwhile.
            tokio::time::sleep(Duration::from_secs(2)).await;
            let _ = order.send("worker");
        });
        tasks.shutdown(Duration::from_secs(10)).await;
        let mut seen = seen;
        assert_eq!(seen.recv().await, Some("worker"));
        assert_eq!(seen.recv().await, Some("writer"));
    }
}
