//! Alerts against a real SQLite database, a fresh one per test: further thresholds, the
//! depleted and recovered events, their webhook deliveries and the bell. Everything that
//! fires is written by the ledger writer in the transaction of the change that caused it.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use app::clock::ManualClock;
use app::domain::alert::{MAX_THRESHOLDS, NewThreshold};
use app::domain::credits::Credits;
use app::domain::ledger::{EntryKind, HoldRequest, LedgerError};
use app::domain::warning::{MAIL_INTERVAL_MS, WarningSettings};
use app::ledger::Ledger;
use app::tasks::Tasks;
use common::{configure_with, credit_with, hold_with, start_ledger};
use sqlx::AnyPool;

const CREDIT: i64 = 10_000;

struct Fixture {
    pool: AnyPool,
    ledger: Ledger,
    _tasks: Tasks,
    clock: ManualClock,
    account: i64,
    company: i64,
}

/// A Community database (no trial credits) with one SMS account holding `credits`.
async fn fixture(credits: i64) -> Fixture {
    let clock = ManualClock::at(1_800_000_000_000);
    let common::SmsAccount {
        pool,
        ledger,
        tasks,
        company,
        account,
    } = common::sms_account("alerts-test", clock.clock(), "http://127.0.0.1:3000").await;
    let f = Fixture {
        pool,
        ledger,
        _tasks: tasks,
        clock,
        account,
        company,
    };
    if credits > 0 {
        f.buy(credits).await;
    }
    f
}

#[derive(Debug, PartialEq, Eq, sqlx::FromRow)]
struct Event {
    kind: String,
    threshold: Option<i64>,
    available: i64,
    #[sqlx(try_from = "app::db::Flag")]
    in_app: bool,
}

impl Fixture {
    async fn buy(&self, credits: i64) {
        credit_with(
            &self.ledger,
            self.account,
            EntryKind::Purchase,
            Credits::whole(credits).unwrap(),
            "pack",
            None,
        )
        .await
        .unwrap();
    }

    async fn hold(&self, credits: i64) -> Result<String, LedgerError> {
        hold_with(
            &self.ledger,
            HoldRequest {
                account: self.account,
                amount: Credits::whole(credits).unwrap(),
                description: "SMS".into(),
                ttl_hours: None,
                idempotency_key: None,
            },
        )
        .await
    }

    async fn spend(&self, credits: i64) {
        let token = self.hold(credits).await.unwrap();
        self.ledger.capture(&token, None).await.unwrap();
    }

    async fn add(&self, credits: i64, emails: &str, in_app: bool, webhook: bool) -> i64 {
        let new = NewThreshold::parse(&credits.to_string(), emails, in_app, webhook).unwrap();
        self.ledger.add_threshold(self.account, new).await.unwrap()
    }

    async fn events(&self) -> Vec<Event> {
        sqlx::query_as("SELECT kind, threshold, available, in_app FROM alert_events ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    async fn deliveries(&self) -> Vec<(i64, String, String)> {
        sqlx::query_as("SELECT webhook_id, event_type, body FROM webhook_deliveries ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    async fn webhook(&self, active: bool) -> i64 {
        let mut conn = self.pool.acquire().await.unwrap();
        let id =
            app::db::webhooks::insert(&mut conn, "https://hooks.example.com/x", "whsec_t", None, 0)
                .await
                .unwrap();
        app::db::webhooks::set_active(&mut conn, id, active)
            .await
            .unwrap();
        id
    }

    async fn mails(&self) -> Vec<(Option<i64>, String)> {
        sqlx::query_as("SELECT account_id, recipients FROM mail_outbox ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }
}

fn threshold_event(threshold: i64, available: i64, in_app: bool) -> Event {
    Event {
        kind: "threshold".into(),
        threshold: Some(threshold * CREDIT),
        available: available * CREDIT,
        in_app,
    }
}

fn event(kind: &str, available: i64) -> Event {
    Event {
        kind: kind.into(),
        threshold: None,
        available: available * CREDIT,
        in_app: true,
    }
}

#[tokio::test]
async fn one_spend_crossing_two_thresholds_fires_both_and_they_rearm_above() {
    let f = fixture(120).await;
    f.add(100, "", true, false).await;
    f.add(50, "ops@example.com", false, false).await;
    f.spend(90).await; // 120 → 30: both
    f.spend(10).await; // 30 → 20: already below both
    assert_eq!(
        f.events().await,
        vec![
            threshold_event(100, 30, true),
            threshold_event(50, 30, false)
        ]
    );
    // The mail of the second went to its own recipients, and is not Warn Me's.
    assert_eq!(
        f.mails().await,
        vec![(None, r#"["ops@example.com"]"#.to_owned())]
    );
    // Back above both re-arms them; an hour later a new crossing fires them again.
    f.buy(100).await; // 120
    f.clock.advance(MAIL_INTERVAL_MS);
    f.spend(80).await; // 120 → 40
    assert_eq!(f.events().await.len(), 4);
    let mut conn = f.pool.acquire().await.unwrap();
    assert_eq!(app::db::ledger::check(&mut conn).await.unwrap(), vec![]);
}

#[tokio::test]
async fn a_threshold_crossed_twice_within_the_hour_fires_once() {
    let f = fixture(100).await;
    f.add(50, "", true, false).await;
    f.spend(60).await; // 40
    f.buy(30).await; // 70: re-armed
    f.spend(30).await; // 40: crossed again, within the hour
    assert_eq!(f.events().await, vec![threshold_event(50, 40, true)]);
}

#[tokio::test]
async fn sixty_four_concurrent_spends_crossing_together_fire_each_threshold_exactly_once() {
    let f = fixture(100).await;
    f.add(50, "", true, true).await;
    f.add(40, "", true, true).await;
    let hook = f.webhook(true).await;
    let spends = (0..64).map(|_| {
        let ledger = f.ledger.clone();
        let account = f.account;
        async move {
            let token = hold_with(
                &ledger,
                HoldRequest {
                    account,
                    amount: Credits::whole(1).unwrap(),
                    description: "SMS".into(),
                    ttl_hours: None,
                    idempotency_key: None,
                },
            )
            .await
            .unwrap();
            ledger.capture(&token, None).await.unwrap();
        }
    });
    futures::future::join_all(spends).await;
    let events = f.events().await;
    let crossed: Vec<Option<i64>> = events.iter().map(|e| e.threshold).collect();
    assert_eq!(crossed, vec![Some(50 * CREDIT), Some(40 * CREDIT)]);
    let deliveries = f.deliveries().await;
    assert_eq!(deliveries.len(), 2);
    assert!(
        deliveries
            .iter()
            .all(|(w, t, _)| *w == hook && t == "credits.below_threshold")
    );
}

#[tokio::test]
async fn depleted_once_at_zero_and_recovered_only_when_credits_come_in() {
    let f = fixture(10).await;
    let hook = f.webhook(true).await;
    let _paused = f.webhook(false).await;
    f.spend(10).await; // 0: depleted
    assert_eq!(f.events().await, vec![event("depleted", 0)]);
    // A released hold does not recover it, and taking it back to zero is no new event.
    f.buy(5).await; // recovered: credits came in
    let token = f.hold(5).await.unwrap(); // 0 again: depleted again
    f.ledger.cancel(&token).await.unwrap(); // 5, by a release: not recovered
    let token = f.hold(5).await.unwrap(); // 0: still depleted, no event
    f.ledger.capture(&token, None).await.unwrap();
    f.buy(20).await; // recovered
    assert_eq!(
        f.events().await,
        vec![
            event("depleted", 0),
            event("recovered", 5),
            event("depleted", 0),
            event("recovered", 20),
        ]
    );
    // Only the active webhook gets them, each as a signed-ready JSON body.
    let deliveries = f.deliveries().await;
    assert_eq!(deliveries.len(), 4);
    assert!(deliveries.iter().all(|(w, _, _)| *w == hook));
    let body: serde_json::Value = serde_json::from_str(&deliveries[0].2).unwrap();
    assert_eq!(body["type"], "credits.depleted");
    assert_eq!(body["data"]["account"]["id"], f.account);
    assert_eq!(body["data"]["available"], "0");
    assert!(body["id"].as_str().unwrap().starts_with("evt_"));
}

#[tokio::test]
async fn depletion_survives_a_restart_so_it_fires_no_second_time() {
    let f = fixture(10).await;
    f.spend(10).await;
    // A new writer reads the flag back: without it, credits coming in would recover
    // nothing, and the next zero would be a second "depleted" in a row.
    let (ledger, _tasks) = start_ledger(&f.pool, f.clock.clock()).await;
    credit_with(
        &ledger,
        f.account,
        EntryKind::Adjustment,
        Credits::whole(3).unwrap(),
        "goodwill",
        None,
    )
    .await
    .unwrap();
    let kinds: Vec<String> = f.events().await.into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["depleted", "recovered"]);
    let mut conn = f.pool.acquire().await.unwrap();
    assert_eq!(
        app::db::alerts::depleted_accounts(&mut conn).await.unwrap(),
        Vec::<i64>::new()
    );
}

#[tokio::test]
async fn warn_me_is_the_first_threshold_on_the_bell_and_webhooks_too() {
    let f = fixture(100).await;
    f.webhook(true).await;
    let warn = WarningSettings {
        enabled: true,
        threshold: 50 * CREDIT,
        emails: vec!["boss@example.com".into()],
    };
    configure_with(&f.ledger, f.account, warn).await.unwrap();
    f.spend(60).await;
    assert_eq!(f.events().await, vec![threshold_event(50, 40, true)]);
    assert_eq!(f.deliveries().await.len(), 1);
    // Its mail is filed under the account: the one-an-hour cap counts it.
    assert_eq!(
        f.mails().await,
        vec![(Some(f.account), r#"["boss@example.com"]"#.to_owned())]
    );
}

#[tokio::test]
async fn adding_a_threshold_above_the_credits_fires_it_at_once_and_at_most_ten() {
    let f = fixture(30).await;
    f.add(50, "", true, false).await;
    assert_eq!(f.events().await, vec![threshold_event(50, 30, true)]);
    for n in 1..MAX_THRESHOLDS {
        f.add(i64::try_from(n).unwrap(), "", true, false).await;
    }
    let eleventh = NewThreshold::parse("1", "", true, false).unwrap();
    let refused = f.ledger.add_threshold(f.account, eleventh).await;
    assert!(matches!(refused, Err(LedgerError::Invalid(e)) if e.field == "alert_threshold"));
    assert_eq!(
        f.ledger.remove_threshold(f.account, 999_999).await,
        Err(LedgerError::UnknownEntry)
    );
    let mut conn = f.pool.acquire().await.unwrap();
    let listed = app::db::alerts::thresholds(&mut conn, f.account)
        .await
        .unwrap();
    assert_eq!(listed.len(), MAX_THRESHOLDS);
    assert_eq!(listed[0].threshold, Credits::whole(50).unwrap());
    drop(conn);
    f.ledger
        .remove_threshold(f.account, listed[0].id)
        .await
        .unwrap();
    let mut conn = f.pool.acquire().await.unwrap();
    assert_eq!(
        app::db::alerts::thresholds(&mut conn, f.account)
            .await
            .unwrap()
            .len(),
        MAX_THRESHOLDS - 1
    );
}

#[tokio::test]
async fn the_bell_shows_what_the_reader_may_see_and_counts_what_they_have_not_read() {
    let f = fixture(100).await;
    f.add(80, "", true, false).await;
    f.add(60, "", false, true).await; // webhooks only: not on the bell
    f.spend(50).await;
    let mut conn = f.pool.acquire().await.unwrap();
    let other = app::db::companies::insert(&mut conn, "NY").await.unwrap();
    // The account is San Francisco's only.
    sqlx::query("INSERT INTO iap_account_companies (account_id, company_id) VALUES ($1, $2)")
        .bind(f.account)
        .bind(f.company)
        .execute(&mut *conn)
        .await
        .unwrap();
    let user = |login: &'static str, company: i64| app::db::users::NewUser {
        login,
        name: login,
        password_hash: "x",
        is_admin: false,
        default_company_id: company,
        now: 0,
    };
    let mut ids = Vec::new();
    for (login, company) in [("admin", f.company), ("sf", f.company), ("ny", other)] {
        let id = app::db::users::insert(&mut conn, user(login, company))
            .await
            .unwrap();
        ids.push(id.unwrap());
    }
    let [admin, me, them] = ids[..] else {
        unreachable!("three users")
    };
    let (items, unread) = app::db::alerts::notifications(&mut conn, admin, None, 20)
        .await
        .unwrap();
    assert_eq!((items.len(), unread), (1, 1));
    assert!(items[0].unread);
    assert_eq!(items[0].threshold, Some(Credits::whole(80).unwrap()));
    let (mine, _) = app::db::alerts::notifications(&mut conn, me, Some(&[f.company]), 20)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    let (theirs, none) = app::db::alerts::notifications(&mut conn, them, Some(&[other]), 20)
        .await
        .unwrap();
    assert_eq!((theirs.len(), none), (0, 0));
    // Reading is per reader, and never goes back.
    app::db::alerts::mark_read(&mut conn, admin, items[0].id)
        .await
        .unwrap();
    app::db::alerts::mark_read(&mut conn, admin, 0)
        .await
        .unwrap();
    let (items, unread) = app::db::alerts::notifications(&mut conn, admin, None, 20)
        .await
        .unwrap();
    assert_eq!(unread, 0);
    assert!(!items[0].unread);
    let (_, still) = app::db::alerts::notifications(&mut conn, me, Some(&[f.company]), 20)
        .await
        .unwrap();
    assert_eq!(still, 1);
}
