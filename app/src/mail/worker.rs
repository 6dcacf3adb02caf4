//! The outbox worker: every `poll`, sends the due mails one by one. A failed attempt is
//! retried after an exponentially growing wait, until `max_attempts`; then the mail is
//! marked failed. Each attempt's error is kept on the row. Without an SMTP server the worker
//! only logs new mails, which stay queued.

use super::{MailSettings, Mailer};
use crate::clock::now_ms;
use crate::db::outbox;
use crate::tasks::Tasks;
use sqlx::AnyPool;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Mails sent per pass; the rest wait for the next one.
const BATCH: i64 = 20;
/// How long a pass keeps the mails it took from other passes: far longer than sending
/// [`BATCH`] mails takes, however slow the SMTP server.
const CLAIM_MS: i64 = 10 * 60 * 1000;

/// The running worker, as far as an observer can see it.
pub struct MailWorker {
    logged_up_to: Arc<AtomicI64>,
}

impl MailWorker {
    /// Without an SMTP server: the last mail the worker has logged.
    pub fn logged_up_to(&self) -> i64 {
        self.logged_up_to.load(Ordering::Relaxed)
    }
}

/// Starts the worker among `tasks`: a pass every `settings.poll` until shutdown. A pass
/// that fails (the database is busy, say) is logged and tried again at the next one.
pub fn start(
    tasks: &mut Tasks,
    pool: AnyPool,
    settings: MailSettings,
    mailer: Option<Mailer>,
) -> MailWorker {
    let logged_up_to = Arc::new(AtomicI64::new(0));
    let worker = MailWorker {
        logged_up_to: logged_up_to.clone(),
    };
    let settings = Arc::new(settings);
    let mailer = Arc::new(mailer);
    tasks.every("mail outbox", settings.poll, move || {
        let (pool, settings, mailer, logged) = (
            pool.clone(),
            settings.clone(),
            mailer.clone(),
            logged_up_to.clone(),
        );
        async move {
            let pass = match mailer.as_ref() {
                Some(mailer) => deliver_due(&pool, mailer, &settings).await.map(|_| ()),
                None => log_queued(&pool, &logged).await,
            };
            if let Err(error) = pass {
                tracing::warn!(%error, "mail outbox pass failed; trying again");
            }
        }
    });
    worker
}

/// The wait before the next attempt, after `attempts` failed ones: `first`, doubling each
/// time, never more than `max`.
pub fn retry_delay(first: Duration, max: Duration, attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(30);
    first.saturating_mul(1 << doublings).min(max)
}

/// One pass: tries every due mail once. Returns how many were sent.
#[tracing::instrument(skip_all)]
pub async fn deliver_due(
    pool: &AnyPool,
    mailer: &Mailer,
    settings: &MailSettings,
) -> Result<usize, sqlx::Error> {
    let due = {
        let mut conn = pool.acquire().await?;
        let now = now_ms();
        outbox::claim_due(&mut conn, now, now.saturating_add(CLAIM_MS), BATCH).await?
    };
    let mut sent = 0;
    for mail in due {
        let result = mailer.send(&mail).await;
        let now = now_ms();
        let mut conn = pool.acquire().await?;
        match result {
            Ok(()) => {
                outbox::mark_sent(&mut conn, mail.id, now).await?;
                tracing::info!(mail = mail.id, subject = mail.subject, "mail sent");
                sent += 1;
            }
            Err(error) => {
                let attempts = u32::try_from(mail.attempts)
                    .unwrap_or(u32::MAX)
                    .saturating_add(1);
                let retry_at =
                    (!error.is_permanent() && attempts < settings.max_attempts).then(|| {
                        let wait = retry_delay(settings.first_retry, settings.max_retry, attempts);
                        now.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
                    });
                outbox::mark_attempt_failed(&mut conn, mail.id, &error.to_string(), retry_at)
                    .await?;
                if retry_at.is_some() {
                    tracing::warn!(mail = mail.id, attempts, %error, "mail not sent; will retry");
                } else {
                    tracing::error!(mail = mail.id, attempts, %error, "mail failed for good");
                }
            }
        }
    }
    Ok(sent)
}

/// Logs mails queued since the last pass, when there is no SMTP server to send them.
async fn log_queued(pool: &AnyPool, logged_up_to: &AtomicI64) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    for mail in outbox::queued_after(&mut conn, logged_up_to.load(Ordering::Relaxed)).await? {
        tracing::info!(
            mail = mail.id,
            to = mail.recipient_list().join(", "),
            subject = mail.subject,
            body = mail.text_body,
            "mail queued; SMTP_HOST is not set, so it stays in the outbox"
        );
        logged_up_to.store(mail.id, Ordering::Relaxed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_the_cap() {
        let first = Duration::from_secs(30);
        let max = Duration::from_secs(3600);
        let waits: Vec<u64> = (1..=9)
            .map(|n| retry_delay(first, max, n).as_secs())
            .collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(retry_delay(first, max, u32::MAX), max);
    }
}
