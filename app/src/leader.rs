//! Which node of a PostgreSQL database runs the background work: mail and webhook
//! outboxes, SMS batches and delivery reports, hold expiry, auto-recharge, payment
//! reconciliation, session cleanup.
//!
//! Every node campaigns on a connection of its own for one advisory lock
//! ([`BackgroundLock`]); the node holding it leads, the others serve requests and try again
//! every [`CAMPAIGN_EVERY`]. PostgreSQL releases the lock when the leader's connection ends
//! (a stop, a crash, `kill -9`, a lost network), so another node takes over within about a
//! second. The leader checks its connection at the same pace: if it was cut, it stops
//! leading. A step already under way when that happens may overlap the new leader's first
//! one, which is why every step is idempotent on its own (outbox rows are claimed, ledger
//! changes go through the arbitrated writer, charges carry idempotency keys, an SMS goes to
//! the gateway under its own key and is recorded once).
//!
//! SQLite needs none of this: its file lock keeps one process per database, which always
//! leads ([`Leader::alone`]).

use crate::db::{Backend, BackgroundLock};
use crate::tasks::{Leader, Tasks};
use std::time::Duration;

/// How often a node tries for the lead, and the leader checks it still holds it.
pub const CAMPAIGN_EVERY: Duration = Duration::from_secs(1);

/// Makes `tasks` follow a campaign for the background work of the database at `url`, when
/// it is PostgreSQL; on SQLite this process leads alone. Call it before starting any
/// periodic task.
pub fn campaign(tasks: &mut Tasks, url: &str) -> Leader {
    if Backend::of_url(url).ok() != Some(Backend::Postgres) {
        return tasks.leader();
    }
    let leader = Leader::follower();
    tasks.follow(leader.clone());
    let (url, cancel, leading) = (url.to_owned(), tasks.token(), leader.clone());
    tasks.spawn("background leadership", async move {
        let mut lock: Option<BackgroundLock> = None;
        loop {
            if lock.is_none() {
                match BackgroundLock::connect(&url).await {
                    Ok(connected) => lock = Some(connected),
                    Err(error) => tracing::warn!(%error, "cannot campaign for the background work"),
                }
            }
            let now = match lock.as_mut() {
                None => false,
                Some(held) => match held.hold().await {
                    Ok(now) => now,
                    Err(error) => {
                        tracing::warn!(%error, "lost the background lock's connection");
                        lock = None;
                        false
                    }
                },
            };
            if now != leading.leading() {
                leading.set(now);
                if now {
                    tracing::info!("this node now runs the background work");
                } else {
                    tracing::warn!("this node no longer runs the background work");
                }
            }
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(CAMPAIGN_EVERY) => {}
            }
        }
        leading.set(false);
        if let Some(held) = lock {
            held.release().await;
        }
    });
    leader
}
