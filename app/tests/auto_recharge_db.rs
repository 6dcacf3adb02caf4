//! Auto-recharge against a real SQLite database, a fresh one per test: the ledger writer
//! marks a crossing due, the worker places and charges the order with the Demo provider's
//! saved card, and a decline backs off 1 h, 6 h, 24 h, then gives up until the next
//! crossing. Crashes are replayed by leaving the rows as a dead process would.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use app::clock::ManualClock;
use app::db::Flag;
use app::db::auto_recharge::SavedCard;
use app::domain::auto_recharge::{DemoCard, RechargeState, Settings};
use app::domain::credits::Credits;
use app::domain::ledger::{EntryKind, HoldRequest};
use app::domain::time::{DAY, HOUR};
use app::domain::warning::WarningSettings;
use app::ledger::{Ledger, RechargeChange};
use app::payment::auto_recharge::Recharger;
use app::payment::{DemoProvider, Payments};
use app::tasks::Tasks;
use common::{configure_with, credit_with, hold_with};
use sqlx::AnyPool;
use std::sync::Arc;

const CREDIT: i64 = 10_000;
/// The SMS Starter Pack: 10 credits for €10.00.
const STARTER: i64 = 1;
const STARTER_PRICE: i64 = 1_000;

struct Fixture {
    pool: AnyPool,
    ledger: Ledger,
    _tasks: Tasks,
    clock: ManualClock,
    account: i64,
    user: i64,
    recharger: Recharger,
}

#[derive(Debug, PartialEq, Eq, sqlx::FromRow)]
struct Recharge {
    state: RechargeState,
    declines: i64,
    next_attempt_at: Option<i64>,
    order_id: Option<i64>,
    last_error: Option<String>,
}

/// An SMS account holding `credits`, with auto-recharge below 5 credits buying the Starter
/// Pack, within `cap` cents a month, paid by a saved Demo card of `card`'s kind.
async fn fixture(credits: i64, cap: i64, card: DemoCard) -> Fixture {
    // 2027-01-15: mid-month, so a day or two of back-off stays in the month.
    let clock = ManualClock::at(1_800_000_000_000);
    let common::SmsAccount {
        pool,
        ledger,
        tasks,
        company,
        account,
    } = common::sms_account("auto-recharge", clock.clock(), "http://127.0.0.1:3000").await;
    let mut conn = pool.acquire().await.unwrap();
    let user = app::db::users::insert(
        &mut conn,
        app::db::users::NewUser {
            login: "admin",
            name: "Mitchell Admin",
            password_hash: "x",
            is_admin: true,
            default_company_id: company,
            now: 0,
        },
    )
    .await
    .unwrap()
    .unwrap();
    drop(conn);
    let recharger = Recharger {
        pool: pool.clone(),
        ledger: ledger.clone(),
        payments: Payments::Demo(Arc::new(DemoProvider)),
        public_url: "http://127.0.0.1:3000".into(),
        clock: clock.clock(),
    };
    let f = Fixture {
        pool,
        ledger,
        _tasks: tasks,
        clock,
        account,
        user,
        recharger,
    };
    if credits > 0 {
        f.buy(credits).await;
    }
    f.settings(5, cap).await;
    f.card(card).await;
    f
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

    async fn spend(&self, credits: i64) {
        let token = hold_with(
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
        .unwrap();
        self.ledger.capture(&token, None).await.unwrap();
    }

    async fn settings(&self, threshold: i64, cap: i64) {
        let settings = Settings {
            threshold: threshold * CREDIT,
            pack: STARTER,
            monthly_cap: cap,
        };
        self.ledger
            .change_recharge(self.account, RechargeChange::Settings(settings))
            .await
            .unwrap();
    }

    async fn card(&self, outcome: DemoCard) {
        let card = SavedCard::Demo {
            brand: "Visa".into(),
            last4: "4242".into(),
            outcome,
        };
        let change = RechargeChange::Card {
            card,
            by: self.user,
        };
        self.ledger
            .change_recharge(self.account, change)
            .await
            .unwrap();
    }

    async fn recharge(&self) -> Recharge {
        sqlx::query_as(
            "SELECT state, declines, next_attempt_at, order_id, last_error FROM auto_recharges
             WHERE account_id = $1",
        )
        .bind(self.account)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    /// (state, amount, auto_recharge) of every order, oldest first.
    async fn orders(&self) -> Vec<(String, i64, bool)> {
        let rows: Vec<(String, i64, Flag)> =
            sqlx::query_as("SELECT state, amount, auto_recharge FROM orders ORDER BY id")
                .fetch_all(&self.pool)
                .await
                .unwrap();
        rows.into_iter().map(|(s, a, f)| (s, a, f.into())).collect()
    }

    async fn available(&self) -> i64 {
        let (available,): (i64,) =
            sqlx::query_as("SELECT balance - held FROM iap_accounts WHERE id = $1")
                .bind(self.account)
                .fetch_one(&self.pool)
                .await
                .unwrap();
        available / CREDIT
    }

    async fn events(&self) -> Vec<String> {
        sqlx::query_scalar("SELECT kind FROM alert_events ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    /// Places the due recharge's order and starts paying it, as the worker does, and stops
    /// there, as a process killed at that point would. Returns the order.
    async fn pending_order(&self) -> i64 {
        let mut conn = self.pool.acquire().await.unwrap();
        let pack = app::db::orders::pack(&mut conn, STARTER)
            .await
            .unwrap()
            .unwrap();
        let now = (self.recharger.clock)();
        let order =
            app::db::auto_recharge::place_order(&mut conn, self.account, &pack, self.user, now)
                .await
                .unwrap()
                .unwrap();
        let started = app::db::orders::start_payment(&mut conn, order, "demo", "Visa", "4242", now)
            .await
            .unwrap();
        assert!(started);
        order
    }

    async fn run(&self) -> usize {
        self.recharger.run().await.unwrap()
    }
}

#[tokio::test]
async fn a_crossing_buys_the_pack_once_with_the_saved_card() {
    let f = fixture(8, 10_000, DemoCard::Approves).await;
    assert_eq!(f.run().await, 0, "nothing is due above the threshold");
    f.spend(2).await;
    assert_eq!(f.run().await, 0, "6 left: still above 5");
    f.spend(2).await;
    assert_eq!(f.recharge().await.state, RechargeState::Due);
    assert_eq!(f.run().await, 1);
    assert_eq!(f.orders().await, vec![("paid".into(), STARTER_PRICE, true)]);
    assert_eq!(f.available().await, 4 + 10);
    let after = f.recharge().await;
    assert_eq!((after.state, after.order_id), (RechargeState::Idle, None));
    assert_eq!(f.run().await, 0, "paid once: nothing left to do");
    // Still above the threshold after the pack: spending below it again is a new crossing.
    f.spend(10).await;
    f.run().await;
    assert_eq!(f.orders().await.len(), 2);
    assert_eq!(f.available().await, 4 + 10);
}

#[tokio::test]
async fn concurrent_spends_across_the_threshold_place_one_order() {
    let f = fixture(70, 100_000, DemoCard::Approves).await;
    let spends = (0..64).map(|_| f.spend(1));
    futures::future::join_all(spends).await;
    assert_eq!(f.available().await, 6);
    // The crossing happened on exactly one of them; below it, no further one.
    futures::future::join_all((0..4).map(|_| f.spend(1))).await;
    let (first, second) = tokio::join!(f.recharger.run(), f.recharger.run());
    assert!(first.unwrap() + second.unwrap() >= 1);
    f.run().await;
    assert_eq!(f.orders().await, vec![("paid".into(), STARTER_PRICE, true)]);
    assert_eq!(f.available().await, 2 + 10);
}

#[tokio::test]
async fn the_monthly_cap_stops_an_order_that_would_pass_it() {
    // Room for one Starter Pack a month.
    let f = fixture(6, STARTER_PRICE, DemoCard::Approves).await;
    f.spend(2).await;
    f.run().await;
    assert_eq!(f.available().await, 14);
    f.spend(10).await;
    f.run().await;
    assert_eq!(f.orders().await.len(), 1, "the second would pass the cap");
    let capped = f.recharge().await;
    assert_eq!(capped.state, RechargeState::Capped);
    assert_eq!(capped.order_id, None);
    assert!(capped.last_error.unwrap().contains("monthly cap"));
    assert_eq!(f.events().await, vec!["recharge_failed"]);
    // Next month, the next crossing buys again.
    f.clock.advance(31 * DAY);
    f.buy(10).await;
    f.spend(10).await;
    f.run().await;
    assert_eq!(f.orders().await.len(), 2);
    assert_eq!(f.recharge().await.state, RechargeState::Idle);
}

#[tokio::test]
async fn declines_back_off_then_give_up_until_the_next_crossing() {
    let f = fixture(6, 100_000, DemoCard::InsufficientFunds).await;
    let warning = WarningSettings {
        enabled: true,
        threshold: 1,
        emails: vec!["finance@example.com".into()],
    };
    configure_with(&f.ledger, f.account, warning).await.unwrap();
    let mut conn = f.pool.acquire().await.unwrap();
    app::db::webhooks::insert(&mut conn, "https://hooks.example.com/x", "whsec_t", None, 0)
        .await
        .unwrap();
    drop(conn);
    let start = (f.recharger.clock)();
    f.spend(2).await;
    f.run().await;
    let first = f.recharge().await;
    assert_eq!(first.state, RechargeState::Retrying);
    assert_eq!(first.declines, 1);
    assert_eq!(first.next_attempt_at, Some(start + HOUR));
    assert_eq!(
        first.last_error.as_deref(),
        Some("Your card has insufficient funds.")
    );
    assert_eq!(
        f.orders().await,
        vec![("failed".into(), STARTER_PRICE, true)]
    );
    let mails: Vec<(Option<i64>, String, String)> =
        sqlx::query_as("SELECT account_id, recipients, subject FROM mail_outbox ORDER BY id")
            .fetch_all(&f.pool)
            .await
            .unwrap();
    let failure = mails.last().unwrap();
    assert_eq!(failure.0, None, "not filed as a Warn Me mail");
    assert!(failure.1.contains("finance@example.com"));
    assert!(
        failure.2.starts_with("Auto-recharge failed"),
        "{}",
        failure.2
    );
    let (kind, body): (String, String) =
        sqlx::query_as("SELECT event_type, body FROM webhook_deliveries ORDER BY id DESC")
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!(kind, "credits.auto_recharge_failed");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["data"]["reason"], "Your card has insufficient funds.");
    assert_eq!(body["data"]["amount"], "10.00");
    assert_eq!(body["data"]["available"], "4");
    assert_eq!(body["data"]["next_attempt"], (start + HOUR) / 1_000);
    assert_eq!(f.run().await, 0, "not before its hour");
    for (wait, declines) in [(HOUR, 2), (6 * HOUR, 3)] {
        f.clock.advance(wait);
        f.run().await;
        let now = (f.recharger.clock)();
        let retry = f.recharge().await;
        assert_eq!(
            (retry.state, retry.declines),
            (RechargeState::Retrying, declines)
        );
        let expected = if declines == 2 { 6 * HOUR } else { DAY };
        assert_eq!(retry.next_attempt_at, Some(now + expected));
    }
    f.clock.advance(DAY);
    f.run().await;
    let gave_up = f.recharge().await;
    assert_eq!(
        (gave_up.state, gave_up.declines),
        (RechargeState::GaveUp, 4)
    );
    assert_eq!(gave_up.next_attempt_at, None);
    f.clock.advance(7 * DAY);
    assert_eq!(f.run().await, 0, "given up: no more attempts");
    assert_eq!(f.orders().await.len(), 4);
    let failures = f
        .events()
        .await
        .iter()
        .filter(|k| *k == "recharge_failed")
        .count();
    assert_eq!(failures, 4);
    // A new card, saved while the account is still below the threshold, buys at once.
    f.card(DemoCard::Approves).await;
    f.run().await;
    assert_eq!(f.available().await, 14);
    assert_eq!(f.orders().await.last().unwrap().0, "paid");
    assert_eq!(f.recharge().await.state, RechargeState::Idle);
}

#[tokio::test]
async fn a_new_card_retries_a_declined_recharge_at_once() {
    let f = fixture(6, 100_000, DemoCard::Declines).await;
    f.spend(2).await;
    f.run().await;
    assert_eq!(f.recharge().await.state, RechargeState::Retrying);
    f.card(DemoCard::Approves).await;
    f.run().await;
    assert_eq!(
        f.orders().await,
        vec![
            ("failed".into(), STARTER_PRICE, true),
            ("paid".into(), STARTER_PRICE, true)
        ]
    );
    assert_eq!(f.available().await, 14);
}

#[tokio::test]
async fn turned_on_below_the_threshold_it_buys_at_once_and_off_it_does_nothing() {
    let f = fixture(0, 100_000, DemoCard::Approves).await;
    // 0 credits, below 5: the card made it due.
    f.run().await;
    assert_eq!(f.available().await, 10);
    f.ledger
        .change_recharge(f.account, RechargeChange::Off)
        .await
        .unwrap();
    f.spend(8).await;
    f.run().await;
    assert_eq!(f.orders().await.len(), 1, "off: the crossing buys nothing");
    // Odoo turns it on again with a threshold; 2 credits left are below it.
    let odoo = RechargeChange::Odoo {
        threshold: 5 * CREDIT,
        pack: Some(STARTER),
    };
    f.ledger.change_recharge(f.account, odoo).await.unwrap();
    f.run().await;
    assert_eq!(f.orders().await.len(), 2);
    assert_eq!(f.available().await, 12);
}

#[tokio::test]
async fn a_charge_interrupted_after_approval_is_credited_once() {
    let f = fixture(6, 100_000, DemoCard::Approves).await;
    f.spend(2).await;
    assert_eq!(f.recharge().await.state, RechargeState::Due);
    // The process died after the provider approved and the reference was recorded, before
    // the ledger credited it: the order is pending with its reference.
    let order = f.pending_order().await;
    let mut conn = f.pool.acquire().await.unwrap();
    app::db::orders::record_reference(&mut conn, order, "DEMO-IAP-crashed")
        .await
        .unwrap();
    let pack = app::db::orders::pack(&mut conn, STARTER)
        .await
        .unwrap()
        .unwrap();
    let now = (f.recharger.clock)();
    drop(conn);
    // A second placement while it is tied is refused.
    let mut conn = f.pool.acquire().await.unwrap();
    let again = app::db::auto_recharge::place_order(&mut conn, f.account, &pack, f.user, now)
        .await
        .unwrap();
    assert_eq!(again, None);
    drop(conn);
    f.run().await;
    f.run().await;
    assert_eq!(f.orders().await, vec![("paid".into(), STARTER_PRICE, true)]);
    assert_eq!(f.available().await, 14);
    assert_eq!(f.recharge().await.state, RechargeState::Idle);
}

#[tokio::test]
async fn a_charge_that_never_got_an_answer_fails_and_is_retried() {
    let f = fixture(6, 100_000, DemoCard::Approves).await;
    f.spend(2).await;
    // The process died after the order went pending, before the provider answered.
    f.pending_order().await;
    // The payment reconciler leaves it to the worker.
    let reconciler = app::payment::reconcile::Reconciler {
        pool: &f.pool,
        ledger: &f.ledger,
        payments: &f.recharger.payments,
    };
    assert_eq!(reconciler.run(i64::MAX).await.unwrap(), 0);
    f.run().await;
    let retry = f.recharge().await;
    assert_eq!((retry.state, retry.declines), (RechargeState::Retrying, 1));
    f.clock.advance(HOUR);
    f.run().await;
    assert_eq!(
        f.orders().await,
        vec![
            ("failed".into(), STARTER_PRICE, true),
            ("paid".into(), STARTER_PRICE, true)
        ]
    );
    assert_eq!(f.available().await, 14);
}

#[tokio::test]
async fn nothing_is_charged_without_a_card_or_a_cap() {
    let clock = ManualClock::at(1_800_000_000_000);
    let common::SmsAccount {
        pool,
        ledger,
        tasks: _tasks,
        account,
        ..
    } = common::sms_account("auto-recharge-off", clock.clock(), "http://127.0.0.1:3000").await;
    let odoo = RechargeChange::Odoo {
        threshold: 5 * CREDIT,
        pack: Some(STARTER),
    };
    ledger.change_recharge(account, odoo).await.unwrap();
    let recharger = Recharger {
        pool: pool.clone(),
        ledger: ledger.clone(),
        payments: Payments::Demo(Arc::new(DemoProvider)),
        public_url: String::new(),
        clock: clock.clock(),
    };
    assert_eq!(recharger.run().await.unwrap(), 0);
    let (state, orders): (RechargeState, i64) = sqlx::query_as(
        "SELECT state, (SELECT count(*) FROM orders) FROM auto_recharges WHERE account_id = $1",
    )
    .bind(account)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((state, orders), (RechargeState::Idle, 0));
}

#[tokio::test]
async fn turned_off_during_a_charge_that_fails_it_is_not_retried() {
    let f = fixture(6, 100_000, DemoCard::Approves).await;
    f.spend(2).await;
    f.pending_order().await;
    f.ledger
        .change_recharge(f.account, RechargeChange::Off)
        .await
        .unwrap();
    assert_eq!(
        f.recharge().await.state,
        RechargeState::Due,
        "its charge finishes"
    );
    f.run().await;
    let after = f.recharge().await;
    assert_eq!(
        (after.state, after.next_attempt_at),
        (RechargeState::Idle, None)
    );
    f.clock.advance(2 * DAY);
    assert_eq!(f.run().await, 0);
    assert_eq!(
        f.orders().await,
        vec![("failed".into(), STARTER_PRICE, true)]
    );
}
