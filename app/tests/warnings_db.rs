//! Low-credit warnings against a real SQLite database, a fresh one per test: the warning
//! mail is written by the ledger writer in the transaction of the change that crossed the
//! threshold, so racing operations produce exactly one mail per crossing.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use app::clock::ManualClock;
use app::db::ledger as store;
use app::domain::credits::Credits;
use app::domain::ledger::{EntryKind, HoldRequest, LedgerError};
use app::domain::warning::{MAIL_INTERVAL_MS, WarningSettings};
use app::ledger::Ledger;
use app::tasks::Tasks;
use common::{configure_with, credit_with, hold_with, start_ledger, start_ledger_at};
use sqlx::AnyPool;

const CREDIT: i64 = 10_000;

struct Fixture {
    pool: AnyPool,
    ledger: Ledger,
    _tasks: Tasks,
    clock: ManualClock,
    account: i64,
}

/// A Community database (no trial credits) with one SMS account holding `credits`.
async fn fixture(credits: i64) -> Fixture {
    let clock = ManualClock::at(1_800_000_000_000);
    let common::SmsAccount {
        pool,
        ledger,
        tasks,
        account,
        ..
    } = common::sms_account("warnings-test", clock.clock(), "https://iap.example").await;
    if credits > 0 {
        credit_with(
            &ledger,
            account,
            EntryKind::Purchase,
            Credits::whole(credits).unwrap(),
            "setup",
            None,
        )
        .await
        .unwrap();
    }
    Fixture {
        pool,
        ledger,
        _tasks: tasks,
        clock,
        account,
    }
}

fn warn_below(credits: i64, emails: &[&str]) -> WarningSettings {
    WarningSettings {
        enabled: true,
        threshold: credits * CREDIT,
        emails: emails.iter().map(|e| (*e).to_owned()).collect(),
    }
}

#[derive(Debug, sqlx::FromRow)]
struct OutboxRow {
    account_id: Option<i64>,
    recipients: String,
    subject: String,
    text_body: String,
    html_body: String,
    state: String,
}

impl Fixture {
    async fn outbox(&self) -> Vec<OutboxRow> {
        sqlx::query_as(
            "SELECT account_id, recipients, subject, text_body, html_body, state
             FROM mail_outbox ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    /// Spends `credits` as a service does: a hold, then its capture.
    async fn spend(&self, credits: i64) -> Result<(), LedgerError> {
        spend(&self.ledger, self.account, credits).await
    }

    async fn assert_consistent(&self) {
        let mut conn = self.pool.acquire().await.unwrap();
        assert_eq!(store::check(&mut conn).await.unwrap(), vec![]);
    }
}

async fn spend(ledger: &Ledger, account: i64, credits: i64) -> Result<(), LedgerError> {
    let token = hold_with(
        ledger,
        HoldRequest {
            account,
            amount: Credits::whole(credits).unwrap(),
            description: "SMS to a contact".into(),
            ttl_hours: None,
            idempotency_key: None,
        },
    )
    .await?;
    ledger.capture(&token, None).await.map(|_| ())
}

#[tokio::test]
async fn sixty_four_concurrent_spends_crossing_the_threshold_together_queue_exactly_one_mail() {
    let f = fixture(100).await;
    configure_with(&f.ledger, f.account, warn_below(50, &["ops@example.com"]))
        .await
        .unwrap();
    assert!(f.outbox().await.is_empty(), "100 credits are not below 50");
    let spends = (0..64).map(|_| {
        let ledger = f.ledger.clone();
        let account = f.account;
        tokio::spawn(async move { spend(&ledger, account, 1).await })
    });
    for result in futures::future::join_all(spends).await {
        assert_eq!(result.unwrap(), Ok(()));
    }
    let outbox = f.outbox().await;
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(outbox[0].account_id, Some(f.account));
    assert_eq!(outbox[0].state, "queued");
    f.assert_consistent().await;
}

#[tokio::test]
async fn staying_below_sends_nothing_more_and_a_purchase_rearms_the_warning() {
    let f = fixture(60).await;
    configure_with(&f.ledger, f.account, warn_below(50, &["ops@example.com"]))
        .await
        .unwrap();
    f.spend(15).await.unwrap(); // 60 → 45: crosses
    f.spend(5).await.unwrap(); // 45 → 40: still below
    assert_eq!(f.outbox().await.len(), 1);
    credit_with(
        &f.ledger,
        f.account,
        EntryKind::Purchase,
        Credits::whole(100).unwrap(),
        "Order IAP00001: Standard Pack",
        None,
    )
    .await
    .unwrap(); // 140: back above
    assert_eq!(f.outbox().await.len(), 1, "going up sends nothing");
    f.clock.advance(MAIL_INTERVAL_MS);
    f.spend(95).await.unwrap(); // 140 → 45: crosses again
    let outbox = f.outbox().await;
    assert_eq!(outbox.len(), 2, "{outbox:?}");
    assert!(
        outbox[1].subject.contains("45 credits"),
        "{}",
        outbox[1].subject
    );
    f.assert_consistent().await;
}

#[tokio::test]
async fn a_hold_counts_against_the_threshold_and_its_cancellation_rearms() {
    let f = fixture(60).await;
    configure_with(&f.ledger, f.account, warn_below(50, &["ops@example.com"]))
        .await
        .unwrap();
    let token = hold_with(
        &f.ledger,
        HoldRequest {
            account: f.account,
            amount: Credits::whole(20).unwrap(),
            description: "pending scan".into(),
            ttl_hours: None,
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    let outbox = f.outbox().await;
    assert_eq!(
        outbox.len(),
        1,
        "the balance is 60 but only 40 are available"
    );
    assert!(outbox[0].text_body.contains("40 credits available"));
    f.ledger.cancel(&token).await.unwrap();
    f.clock.advance(MAIL_INTERVAL_MS);
    f.spend(11).await.unwrap();
    assert_eq!(f.outbox().await.len(), 2);
}

#[tokio::test]
async fn one_warning_mail_per_account_per_hour_whatever_the_toggles_even_after_a_restart() {
    let f = fixture(10).await;
    let on = warn_below(20, &["a@example.com"]);
    let off = WarningSettings {
        enabled: false,
        ..on.clone()
    };
    for _ in 0..10 {
        configure_with(&f.ledger, f.account, on.clone())
            .await
            .unwrap();
        configure_with(&f.ledger, f.account, off.clone())
            .await
            .unwrap();
    }
    assert_eq!(f.outbox().await.len(), 1, "ten toggles, one mail");
    configure_with(&f.ledger, f.account, on.clone())
        .await
        .unwrap();
    credit_with(
        &f.ledger,
        f.account,
        EntryKind::Purchase,
        Credits::whole(100).unwrap(),
        "top-up",
        None,
    )
    .await
    .unwrap();
    f.spend(105).await.unwrap(); // 110 → 5: crosses, but within the hour
    assert_eq!(
        f.outbox().await.len(),
        1,
        "a crossing within the hour is capped too"
    );

    // A restarted writer remembers the last mail from the outbox.
    f.clock.advance(MAIL_INTERVAL_MS - 1);
    let (ledger, _tasks) = start_ledger_at(&f.pool, f.clock.clock(), "https://iap.example").await;
    configure_with(&ledger, f.account, off.clone())
        .await
        .unwrap();
    configure_with(&ledger, f.account, on.clone())
        .await
        .unwrap();
    assert_eq!(
        f.outbox().await.len(),
        1,
        "still within the hour after a restart"
    );

    f.clock.advance(1);
    configure_with(&ledger, f.account, off).await.unwrap();
    configure_with(&ledger, f.account, on).await.unwrap();
    assert_eq!(
        f.outbox().await.len(),
        2,
        "an hour later the next warning goes out"
    );
    f.assert_consistent().await;
}

#[tokio::test]
async fn enabling_while_below_queues_one_warning_at_once_and_saving_again_none() {
    let f = fixture(10).await;
    let settings = warn_below(20, &["ops@example.com", "cfo@example.com"]);
    configure_with(&f.ledger, f.account, settings.clone())
        .await
        .unwrap();
    let outbox = f.outbox().await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(
        outbox[0].recipients,
        r#"["ops@example.com","cfo@example.com"]"#
    );
    assert_eq!(outbox[0].subject, "Low credits: SMS has 10 credits left");
    for body in [&outbox[0].text_body, &outbox[0].html_body] {
        assert!(body.contains("20 credits"), "{body}");
        assert!(
            body.contains(&format!(
                "https://iap.example/iap-accounts/{}/buy",
                f.account
            )),
            "{body}"
        );
    }
    configure_with(&f.ledger, f.account, settings)
        .await
        .unwrap();
    f.spend(1).await.unwrap();
    assert_eq!(f.outbox().await.len(), 1);
}

#[tokio::test]
async fn unticking_warn_me_stops_warnings_and_keeps_the_values() {
    let f = fixture(100).await;
    let mut settings = warn_below(50, &["ops@example.com"]);
    configure_with(&f.ledger, f.account, settings.clone())
        .await
        .unwrap();
    settings.enabled = false;
    configure_with(&f.ledger, f.account, settings.clone())
        .await
        .unwrap();
    f.spend(80).await.unwrap();
    assert!(f.outbox().await.is_empty());
    let mut conn = f.pool.acquire().await.unwrap();
    assert_eq!(
        app::db::warnings::get(&mut conn, f.account).await.unwrap(),
        settings
    );
    drop(conn);
    // Ticking it again while below warns at once.
    settings.enabled = true;
    configure_with(&f.ledger, f.account, settings)
        .await
        .unwrap();
    assert_eq!(f.outbox().await.len(), 1);
}

#[tokio::test]
async fn invalid_settings_are_refused_and_change_nothing() {
    let f = fixture(10).await;
    let zero = warn_below(0, &["ops@example.com"]);
    assert!(matches!(
        configure_with(&f.ledger, f.account, zero).await,
        Err(LedgerError::Invalid(ref e)) if e.field == "threshold"
    ));
    let bad_address = warn_below(20, &["ops@example.com", "nobody"]);
    match configure_with(&f.ledger, f.account, bad_address).await {
        Err(LedgerError::Invalid(e)) => {
            assert_eq!(e.field, "emails");
            let message = e.text().to_string();
            assert!(message.contains("nobody"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        configure_with(&f.ledger, 999, warn_below(20, &["ops@example.com"])).await,
        Err(LedgerError::UnknownAccount)
    );
    assert!(f.outbox().await.is_empty());
    let mut conn = f.pool.acquire().await.unwrap();
    assert_eq!(
        app::db::warnings::get(&mut conn, f.account).await.unwrap(),
        WarningSettings::default()
    );
}

#[tokio::test]
async fn a_restarted_ledger_still_knows_the_warning_settings() {
    let f = fixture(100).await;
    configure_with(&f.ledger, f.account, warn_below(50, &["ops@example.com"]))
        .await
        .unwrap();
    let (restarted, _restarted_tasks) = start_ledger(&f.pool, app::clock::system_clock()).await;
    spend(&restarted, f.account, 60).await.unwrap();
    assert_eq!(f.outbox().await.len(), 1);
}
