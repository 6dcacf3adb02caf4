//! The ledger service against a real SQLite database, a fresh one per test: races,
//! idempotency, expiry, account resolution, disabling and bad input. Every test ends with
//! the ledger check, which recomputes each account from its entries.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use app::clock::ManualClock;
use app::db::ledger as store;
use app::domain::credits::Credits;
use app::domain::ledger::{
    AccountEdit, Conflict, EntryKind, HoldRequest, LedgerError, NewReversal,
};
use app::domain::refund::{NewRefund, RefundState};
use app::ledger::Ledger;
use app::tasks::Tasks;
use common::{
    assert_consistent, credit_with, edit_with, figures, hold_request, hold_with, start_ledger,
};
use sqlx::AnyPool;

const HOUR: i64 = 3_600_000;

struct Fixture {
    pool: AnyPool,
    ledger: Ledger,
    _tasks: Tasks,
    clock: ManualClock,
    sf: i64,
    chicago: i64,
}

async fn fixture(edition: &str) -> Fixture {
    let (pool, _) = app::db::scratch("ledger-test").await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    app::db::settings::set(&mut conn, app::db::settings::EDITION, edition)
        .await
        .unwrap();
    let sf = app::db::companies::insert(&mut conn, "SF").await.unwrap();
    let chicago = app::db::companies::insert(&mut conn, "Chicago")
        .await
        .unwrap();
    drop(conn);
    let clock = ManualClock::at(1_800_000_000_000);
    let (ledger, tasks) = start_ledger(&pool, clock.clock()).await;
    Fixture {
        pool,
        ledger,
        _tasks: tasks,
        clock,
        sf,
        chicago,
    }
}

impl Fixture {
    /// A fresh SMS account with `credits` purchased.
    async fn account_with(&self, credits: i64) -> i64 {
        let id = self.ledger.resolve_account("sms", self.sf).await.unwrap();
        let figures = figures(&self.pool, id).await;
        // Bring the account to exactly `credits`, whatever trial it got.
        let delta = credits * 10_000 - figures.0;
        if delta != 0 {
            credit_with(
                &self.ledger,
                id,
                EntryKind::Adjustment,
                Credits::from_minor(delta),
                "test setup",
                None,
            )
            .await
            .unwrap();
        }
        id
    }

    async fn entries(&self, account: i64) -> Vec<(String, i64, i64)> {
        sqlx::query_as(
            "SELECT kind, amount, held_delta FROM ledger_entries WHERE account_id = $1 ORDER BY id",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }
}

#[tokio::test]
async fn a_hold_then_a_smaller_capture_spends_only_what_was_captured() {
    let f = fixture("Community").await;
    let account = f.account_with(100).await;
    let token = hold_with(&f.ledger, hold_request(account, 30))
        .await
        .unwrap();
    assert_eq!(figures(&f.pool, account).await, (1_000_000, 300_000));
    let taken = f
        .ledger
        .capture(&token, Some(Credits::whole(12).unwrap()))
        .await
        .unwrap();
    assert_eq!(taken, Credits::whole(12).unwrap());
    assert_eq!(figures(&f.pool, account).await, (880_000, 0));
    let kinds: Vec<String> = f.entries(account).await.into_iter().map(|e| e.0).collect();
    assert_eq!(kinds, ["adjustment", "hold", "capture"]);
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn concurrent_holds_never_overdraw_the_account() {
    let f = fixture("Community").await;
    for iteration in 0..100 {
        let covered = (iteration * 7) % 65; // 0 to 64 holds fit
        let account = f.account_with(covered).await;
        let attempts = (0..64).map(|_| {
            let ledger = f.ledger.clone();
            tokio::spawn(async move { hold_with(&ledger, hold_request(account, 1)).await })
        });
        let results = futures::future::join_all(attempts).await;
        let granted = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
        assert_eq!(granted, covered as usize, "iteration {iteration}");
        for result in results {
            if let Ok(Err(error)) = result {
                assert!(
                    matches!(error, LedgerError::InsufficientCredits { .. }),
                    "{error:?}"
                );
            }
        }
        assert_eq!(
            figures(&f.pool, account).await,
            (covered * 10_000, covered * 10_000)
        );
        // Reset for the next iteration: cancel everything.
        let tokens: Vec<String> =
            sqlx::query_scalar("SELECT token FROM holds WHERE account_id = $1 AND state = 'open'")
                .bind(account)
                .fetch_all(&f.pool)
                .await
                .unwrap();
        for token in tokens {
            f.ledger.cancel(&token).await.unwrap();
        }
    }
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn the_same_idempotency_key_sent_concurrently_makes_one_hold() {
    let f = fixture("Community").await;
    let account = f.account_with(100).await;
    let request = HoldRequest {
        idempotency_key: Some("order-42".into()),
        ..hold_request(account, 5)
    };
    let calls = (0..64).map(|_| {
        let (ledger, request) = (f.ledger.clone(), request.clone());
        tokio::spawn(async move { hold_with(&ledger, request).await.unwrap() })
    });
    let tokens: Vec<String> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    let holds: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'hold'")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(holds, 1);
    // A later retry still gets the first answer; other content under the same key conflicts.
    assert_eq!(
        hold_with(&f.ledger, request.clone()).await.unwrap(),
        tokens[0]
    );
    let different = HoldRequest {
        amount: Credits::whole(6).unwrap(),
        ..request
    };
    assert!(matches!(
        hold_with(&f.ledger, different).await,
        Err(LedgerError::Conflict(_))
    ));
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn capture_and_cancel_are_idempotent_and_conflicting_repeats_are_refused() {
    let f = fixture("Community").await;
    let account = f.account_with(100).await;
    let five_credits = Credits::whole(5).unwrap();
    let five = Some(five_credits);

    let captured = hold_with(&f.ledger, hold_request(account, 10))
        .await
        .unwrap();
    assert_eq!(
        f.ledger.capture(&captured, five).await.unwrap(),
        five_credits
    );
    assert_eq!(
        f.ledger.capture(&captured, five).await.unwrap(),
        five_credits
    );
    assert!(matches!(
        f.ledger.capture(&captured, None).await,
        Err(LedgerError::Conflict(_))
    ));
    assert!(matches!(
        f.ledger.cancel(&captured).await,
        Err(LedgerError::Conflict(_))
    ));

    let cancelled = hold_with(&f.ledger, hold_request(account, 10))
        .await
        .unwrap();
    f.ledger.cancel(&cancelled).await.unwrap();
    f.ledger.cancel(&cancelled).await.unwrap();
    assert!(matches!(
        f.ledger.capture(&cancelled, None).await,
        Err(LedgerError::Conflict(_))
    ));

    assert_eq!(figures(&f.pool, account).await, (950_000, 0));
    assert_eq!(f.entries(account).await.len(), 5);
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn a_hold_past_its_ttl_is_released_and_cannot_be_captured() {
    let f = fixture("Community").await;
    let account = f.account_with(10).await;
    let token = hold_with(
        &f.ledger,
        HoldRequest {
            ttl_hours: Some(1),
            ..hold_request(account, 10)
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        hold_with(&f.ledger, hold_request(account, 1)).await,
        Err(LedgerError::InsufficientCredits { .. })
    ));
    f.clock.advance(HOUR);
    f.ledger.sweep().await.unwrap();
    assert_eq!(figures(&f.pool, account).await, (100_000, 0));
    assert_eq!(
        f.entries(account).await.last().unwrap(),
        &("expiry".to_owned(), 0, -100_000)
    );
    assert_eq!(
        f.ledger.capture(&token, None).await,
        Err(LedgerError::HoldExpired)
    );
    assert_eq!(f.ledger.cancel(&token).await, Ok(()));
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn an_expired_hold_no_longer_counts_even_before_the_sweeper_runs() {
    let f = fixture("Community").await;
    let account = f.account_with(10).await;
    hold_with(
        &f.ledger,
        HoldRequest {
            ttl_hours: Some(1),
            ..hold_request(account, 10)
        },
    )
    .await
    .unwrap();
    f.clock.advance(HOUR + 1);
    // The next operation's batch releases the expired hold first.
    assert!(
        hold_with(&f.ledger, hold_request(account, 10))
            .await
            .is_ok()
    );
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn first_use_creates_one_shared_account_with_trial_credits_once_per_service() {
    let f = fixture("Enterprise").await;
    let first = f.ledger.resolve_account("sms", f.sf).await.unwrap();
    assert_eq!(
        f.ledger.resolve_account("sms", f.chicago).await.unwrap(),
        first
    );
    assert_eq!(figures(&f.pool, first).await, (100_000, 0)); // SMS grants 10 trial credits
    assert_eq!(
        f.entries(first).await,
        vec![("trial".to_owned(), 100_000, 0)]
    );

    // Restricting it to SF makes Chicago's first use create a new shared account, without a
    // second trial.
    let token: String = sqlx::query_scalar("SELECT token FROM iap_accounts WHERE id = $1")
        .bind(first)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    edit_with(
        &f.ledger,
        AccountEdit {
            account: first,
            name: "SMS (SF)".into(),
            token,
            companies: vec![f.sf],
        },
    )
    .await
    .unwrap();
    let chicago = f.ledger.resolve_account("sms", f.chicago).await.unwrap();
    assert_ne!(chicago, first);
    assert_eq!(figures(&f.pool, chicago).await, (0, 0));
    // SF still prefers its own restricted account over the newer shared one.
    assert_eq!(f.ledger.resolve_account("sms", f.sf).await.unwrap(), first);
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn community_databases_get_no_trial_credits() {
    let f = fixture("Community").await;
    let id = f.ledger.resolve_account("invoice_ocr", f.sf).await.unwrap();
    assert_eq!(figures(&f.pool, id).await, (0, 0));
}

#[tokio::test]
async fn a_disabled_token_refuses_holds_and_reenabling_keeps_the_balance() {
    let f = fixture("Community").await;
    let account = f.account_with(50).await;
    let token: String = sqlx::query_scalar("SELECT token FROM iap_accounts WHERE id = $1")
        .bind(account)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    let edit = |token: String| AccountEdit {
        account,
        name: "SMS".into(),
        token,
        companies: vec![],
    };
    edit_with(&f.ledger, edit(format!("{token}+disabled")))
        .await
        .unwrap();
    assert_eq!(
        hold_with(&f.ledger, hold_request(account, 1)).await,
        Err(LedgerError::AccountDisabled)
    );
    assert_eq!(figures(&f.pool, account).await, (500_000, 0));
    edit_with(&f.ledger, edit(token)).await.unwrap();
    assert!(hold_with(&f.ledger, hold_request(account, 1)).await.is_ok());
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let f = fixture("Community").await;
    let account = f.account_with(10).await;
    let before = f.entries(account).await.len();
    let invalid = |r: Result<String, LedgerError>, field: &str| {
        assert!(
            matches!(&r, Err(LedgerError::Invalid(e)) if e.field == field),
            "{field}: {r:?}"
        );
    };
    invalid(
        hold_with(
            &f.ledger,
            HoldRequest {
                amount: Credits::ZERO,
                ..hold_request(account, 1)
            },
        )
        .await,
        "amount",
    );
    invalid(
        hold_with(
            &f.ledger,
            HoldRequest {
                amount: Credits::from_minor(-5),
                ..hold_request(account, 1)
            },
        )
        .await,
        "amount",
    );
    invalid(
        hold_with(
            &f.ledger,
            HoldRequest {
                amount: Credits::from_minor(i64::MAX),
                ..hold_request(account, 1)
            },
        )
        .await,
        "amount",
    );
    for ttl in [0, -1, 10_000_000] {
        invalid(
            hold_with(
                &f.ledger,
                HoldRequest {
                    ttl_hours: Some(ttl),
                    ..hold_request(account, 1)
                },
            )
            .await,
            "ttl",
        );
    }
    invalid(
        hold_with(
            &f.ledger,
            HoldRequest {
                description: "x".repeat(300).into(),
                ..hold_request(account, 1)
            },
        )
        .await,
        "description",
    );
    assert_eq!(
        hold_with(&f.ledger, hold_request(9_999, 1)).await,
        Err(LedgerError::UnknownAccount)
    );
    assert_eq!(
        f.ledger.capture("no-such-token", None).await,
        Err(LedgerError::UnknownHold)
    );
    assert_eq!(f.ledger.cancel("").await, Err(LedgerError::UnknownHold));

    let token = hold_with(&f.ledger, hold_request(account, 5))
        .await
        .unwrap();
    let above = f
        .ledger
        .capture(&token, Some(Credits::whole(6).unwrap()))
        .await;
    assert!(matches!(
        above,
        Err(LedgerError::Invalid(ref e)) if e.field == "amount"
    ));
    f.ledger.cancel(&token).await.unwrap();

    for reason in ["", "   ", &"r".repeat(300)] {
        let r = credit_with(
            &f.ledger,
            account,
            EntryKind::Adjustment,
            Credits::whole(1).unwrap(),
            reason,
            None,
        )
        .await;
        assert!(
            matches!(
                r,
                Err(LedgerError::Invalid(ref e)) if e.field == "reason"
            ),
            "{reason:?}"
        );
    }
    let r = f.ledger.resolve_account("telepathy", f.sf).await;
    assert!(matches!(
        r,
        Err(LedgerError::Invalid(ref e)) if e.field == "service"
    ));
    let edit = AccountEdit {
        account,
        name: "SMS".into(),
        token: app::crypto::random_token(16),
        companies: vec![4242],
    };
    assert!(matches!(
        edit_with(&f.ledger, edit).await,
        Err(LedgerError::Invalid(ref e)) if e.field == "companies"
    ));

    // Only the valid hold and its cancel were recorded.
    assert_eq!(f.entries(account).await.len(), before + 2);
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn a_restarted_ledger_picks_up_where_it_left_off() {
    let f = fixture("Community").await;
    let account = f.account_with(20).await;
    let token = hold_with(&f.ledger, hold_request(account, 8))
        .await
        .unwrap();
    let (again, _again_tasks) = start_ledger(&f.pool, f.clock.clock()).await;
    assert!(matches!(
        hold_with(&again, hold_request(account, 13)).await,
        Err(LedgerError::InsufficientCredits { .. })
    ));
    assert_eq!(
        again.capture(&token, None).await.unwrap(),
        Credits::whole(8).unwrap()
    );
    assert!(hold_with(&again, hold_request(account, 12)).await.is_ok());
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn an_extended_hold_outlives_its_ttl_and_a_restart_keeps_its_new_expiry() {
    let f = fixture("Community").await;
    let account = f.account_with(20).await;
    let request = HoldRequest {
        ttl_hours: Some(1),
        ..hold_request(account, 8)
    };
    let token = hold_with(&f.ledger, request).await.unwrap();
    f.clock.advance(HOUR / 2);
    f.ledger
        .extend(&token, std::time::Duration::from_secs(3_600))
        .await
        .unwrap();
    // Extending is idempotent and never shortens the hold.
    f.ledger
        .extend(&token, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    f.clock.advance(HOUR / 2 + HOUR / 3);
    // A restarted writer reads the new expiry back: 80 minutes in, the one-hour hold still
    // reserves, until 90.
    let (again, _again_tasks) = start_ledger(&f.pool, f.clock.clock()).await;
    again.sweep().await.unwrap();
    assert_eq!(figures(&f.pool, account).await, (200_000, 80_000));
    f.clock.advance(HOUR / 6);
    again.sweep().await.unwrap();
    assert_eq!(figures(&f.pool, account).await, (200_000, 0));
    assert_eq!(
        again
            .extend(&token, std::time::Duration::from_secs(3_600))
            .await,
        Err(LedgerError::HoldExpired)
    );
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn closing_a_hold_is_idempotent_and_answers_how_it_ended() {
    let f = fixture("Community").await;
    let account = f.account_with(20).await;
    let token = hold_with(&f.ledger, hold_request(account, 8))
        .await
        .unwrap();
    assert_eq!(
        f.ledger.close(&token).await.unwrap(),
        app::ledger::HoldEnd::Released
    );
    assert_eq!(
        f.ledger.close(&token).await.unwrap(),
        app::ledger::HoldEnd::Released
    );
    assert!(matches!(
        f.ledger
            .extend(&token, std::time::Duration::from_secs(60))
            .await,
        Err(LedgerError::Conflict(_))
    ));
    assert_eq!(
        f.ledger.close("1.unknown").await,
        Err(LedgerError::UnknownHold)
    );
    assert_eq!(figures(&f.pool, account).await, (200_000, 0));
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn the_ledger_is_append_only() {
    let f = fixture("Community").await;
    f.account_with(1).await;
    assert!(
        sqlx::query("UPDATE ledger_entries SET amount = 0")
            .execute(&f.pool)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("DELETE FROM ledger_entries")
            .execute(&f.pool)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_check_reports_a_balance_that_disagrees_with_its_ledger() {
    let f = fixture("Community").await;
    let account = f.account_with(3).await;
    sqlx::query("UPDATE iap_accounts SET balance = balance + 1 WHERE id = $1")
        .bind(account)
        .execute(&f.pool)
        .await
        .unwrap();
    let mut conn = f.pool.acquire().await.unwrap();
    let found = store::check(&mut conn).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].balance, found[0].ledger_balance),
        (30_001, 30_000)
    );
}

async fn draft_order(f: &Fixture, account: i64) -> i64 {
    let mut conn = f.pool.acquire().await.unwrap();
    let user = app::db::users::insert(
        &mut conn,
        app::db::users::NewUser {
            login: "buyer",
            name: "Buyer",
            password_hash: "x",
            is_admin: false,
            default_company_id: f.sf,
            now: 0,
        },
    )
    .await
    .ok()
    .flatten()
    .unwrap_or(1);
    let pack = app::db::orders::packs_of(&mut conn, "sms")
        .await
        .unwrap()
        .remove(1); // Standard Pack
    app::db::orders::create(&mut conn, account, &pack, user, 0)
        .await
        .unwrap()
}

async fn order_state(f: &Fixture, order: i64) -> String {
    sqlx::query_scalar("SELECT state FROM orders WHERE id = $1")
        .bind(order)
        .fetch_one(&f.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_same_payment_confirmed_64_times_at_once_credits_once() {
    let f = fixture("Community").await;
    let account = f.account_with(0).await;
    let order = draft_order(&f, account).await;
    let confirmations = (0..64).map(|_| {
        let ledger = f.ledger.clone();
        tokio::spawn(async move { ledger.payment_succeeded(order, "demo", "DEMO-REF-1").await })
    });
    for result in futures::future::join_all(confirmations).await {
        assert_eq!(result.unwrap(), Ok(()));
    }
    assert_eq!(figures(&f.pool, account).await, (1_000_000, 0));
    assert_eq!(order_state(&f, order).await, "paid");
    let purchases: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'purchase'")
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!(purchases, 1);
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn an_order_is_paid_once_and_a_reference_credits_one_order_only() {
    let f = fixture("Community").await;
    let account = f.account_with(0).await;
    let first = draft_order(&f, account).await;
    let second = draft_order(&f, account).await;
    f.ledger
        .payment_succeeded(first, "demo", "REF-A")
        .await
        .unwrap();
    // A different payment for an already paid order is a conflict.
    assert!(matches!(
        f.ledger.payment_succeeded(first, "demo", "REF-B").await,
        Err(LedgerError::Conflict(_))
    ));
    // The same payment cannot pay another order.
    assert!(matches!(
        f.ledger.payment_succeeded(second, "demo", "REF-A").await,
        Err(LedgerError::Conflict(_))
    ));
    assert_eq!(order_state(&f, second).await, "draft");

    // A failed order is never credited.
    let mut conn = f.pool.acquire().await.unwrap();
    assert!(
        app::db::orders::start_payment(&mut conn, second, "demo", "Visa", "0002", 0)
            .await
            .unwrap()
    );
    assert!(
        !app::db::orders::start_payment(&mut conn, second, "demo", "Visa", "0002", 0)
            .await
            .unwrap()
    );
    app::db::orders::fail(&mut conn, second, "declined")
        .await
        .unwrap();
    drop(conn);
    assert!(matches!(
        f.ledger.payment_succeeded(second, "demo", "REF-C").await,
        Err(LedgerError::Conflict(_))
    ));
    assert_eq!(figures(&f.pool, account).await, (1_000_000, 0));
    assert_eq!(
        f.ledger.payment_succeeded(9_999, "demo", "REF-D").await,
        Err(LedgerError::UnknownOrder)
    );
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn orders_left_pending_are_settled_by_the_reconciler() {
    use app::payment::Payments;
    use app::payment::reconcile::Reconciler;
    let f = fixture("Community").await;
    let account = f.account_with(0).await;
    let interrupted = draft_order(&f, account).await;
    let unanswered = draft_order(&f, account).await;
    let fresh = draft_order(&f, account).await;
    let mut conn = f.pool.acquire().await.unwrap();
    for (order, started) in [(interrupted, 1_000), (unanswered, 1_000), (fresh, 9_000)] {
        assert!(
            app::db::orders::start_payment(&mut conn, order, "demo", "Visa", "4242", started)
                .await
                .unwrap()
        );
    }
    // The provider answered, but the server stopped before crediting.
    app::db::orders::record_reference(&mut conn, interrupted, "DEMO-REF-9")
        .await
        .unwrap();
    drop(conn);
    let reconciler = Reconciler {
        pool: &f.pool,
        ledger: &f.ledger,
        payments: &Payments::Unconfigured,
    };
    assert_eq!(reconciler.run(5_000).await.unwrap(), 2);
    assert_eq!(order_state(&f, interrupted).await, "paid");
    assert_eq!(order_state(&f, unanswered).await, "failed");
    assert_eq!(order_state(&f, fresh).await, "pending");
    assert_eq!(figures(&f.pool, account).await, (1_000_000, 0));
    // A second round finds nothing more to do.
    assert_eq!(reconciler.run(5_000).await.unwrap(), 0);
    assert_eq!(figures(&f.pool, account).await, (1_000_000, 0));
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn a_failed_batch_changes_nothing_and_the_next_one_serves() {
    let f = fixture("Community").await;
    let account = f.account_with(10).await;
    refuse_ledger_inserts(&f.pool, true).await;
    assert_eq!(
        hold_with(&f.ledger, hold_request(account, 3)).await,
        Err(LedgerError::Storage)
    );
    assert!(f.ledger.healthy());
    refuse_ledger_inserts(&f.pool, false).await;
    assert!(hold_with(&f.ledger, hold_request(account, 3)).await.is_ok());
    assert_eq!(figures(&f.pool, account).await, (100_000, 30_000));
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn a_writer_that_cannot_reload_refuses_changes_at_once_until_it_can() {
    let f = fixture("Community").await;
    let account = f.account_with(10).await;
    // A batch fails, and so does the reload that follows it.
    refuse_ledger_inserts(&f.pool, true).await;
    sqlx::query("ALTER TABLE iap_account_warnings RENAME TO hidden_warnings")
        .execute(&f.pool)
        .await
        .unwrap();
    assert_eq!(
        hold_with(&f.ledger, hold_request(account, 3)).await,
        Err(LedgerError::Storage)
    );
    assert!(!f.ledger.healthy());
    // Refused without waiting for the writer: nothing is queued behind a stale book.
    let refused = tokio::time::timeout(
        std::time::Duration::from_millis(200),
        hold_with(&f.ledger, hold_request(account, 1)),
    )
    .await
    .expect("answered at once");
    assert_eq!(refused, Err(LedgerError::Storage));

    refuse_ledger_inserts(&f.pool, false).await;
    sqlx::query("ALTER TABLE hidden_warnings RENAME TO iap_account_warnings")
        .execute(&f.pool)
        .await
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while !f.ledger.healthy() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the writer reloads its book");
    assert!(hold_with(&f.ledger, hold_request(account, 3)).await.is_ok());
    assert_eq!(figures(&f.pool, account).await, (100_000, 30_000));
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn the_benchmarks_preload_leaves_every_balance_and_the_check_unchanged() {
    let f = fixture("enterprise").await;
    let first = f.account_with(7).await;
    let second = f.ledger.resolve_account("invoice_ocr", f.sf).await.unwrap();
    let before = (
        figures(&f.pool, first).await,
        figures(&f.pool, second).await,
    );
    let rows_before = f.entries(first).await.len() + f.entries(second).await.len();

    let mut conn = f.pool.acquire().await.unwrap();
    assert_eq!(
        store::append_cancelling_pairs(&mut conn, 1_000)
            .await
            .unwrap(),
        2
    );
    drop(conn);

    assert_eq!(
        (
            figures(&f.pool, first).await,
            figures(&f.pool, second).await
        ),
        before
    );
    let rows_after = f.entries(first).await.len() + f.entries(second).await.len();
    assert_eq!(rows_after, rows_before + 1_000);
    assert_consistent(&f.pool).await;
}

/// An administrator, for the entries they cause.
async fn admin(f: &Fixture) -> i64 {
    let mut conn = f.pool.acquire().await.unwrap();
    app::db::users::insert(
        &mut conn,
        app::db::users::NewUser {
            login: "root",
            name: "Root",
            password_hash: "x",
            is_admin: true,
            default_company_id: f.sf,
            now: 0,
        },
    )
    .await
    .unwrap()
    .unwrap()
}

/// A capture of `credits` on `account`, and its ledger entry.
async fn captured(f: &Fixture, account: i64, credits: i64) -> i64 {
    let token = hold_with(&f.ledger, hold_request(account, credits))
        .await
        .unwrap();
    f.ledger.capture(&token, None).await.unwrap();
    sqlx::query_scalar("SELECT MAX(id) FROM ledger_entries WHERE kind = 'capture'")
        .fetch_one(&f.pool)
        .await
        .unwrap()
}

fn reversal(account: i64, entry: i64, credits: Option<i64>) -> NewReversal {
    let amount = credits.map(|c| Credits::whole(c).unwrap());
    NewReversal::parse(account, entry, amount, "sent twice").unwrap()
}

#[tokio::test]
async fn the_same_reversal_asked_64_times_at_once_gives_back_once() {
    let f = fixture("Community").await;
    let account = f.account_with(100).await;
    let by = admin(&f).await;
    let entry = captured(&f, account, 30).await;
    let requests = (0..64).map(|_| {
        let ledger = f.ledger.clone();
        tokio::spawn(async move { ledger.reverse(reversal(account, entry, Some(12)), by).await })
    });
    for result in futures::future::join_all(requests).await {
        assert_eq!(result.unwrap(), Ok(Credits::whole(12).unwrap()));
    }
    assert_eq!(figures(&f.pool, account).await, (820_000, 0));
    let reversals: Vec<(i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT amount, reverses, created_by FROM ledger_entries WHERE kind = 'reversal'",
    )
    .fetch_all(&f.pool)
    .await
    .unwrap();
    assert_eq!(reversals, vec![(120_000, entry, Some(by))]);
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn a_reversal_is_refused_twice_for_another_amount_and_beyond_or_off_a_capture() {
    let f = fixture("Community").await;
    let account = f.account_with(100).await;
    let other = f.ledger.resolve_account("snailmail", f.sf).await.unwrap();
    let by = admin(&f).await;
    let entry = captured(&f, account, 30).await;
    let before = figures(&f.pool, account).await;
    let refused = |r: Result<Credits, LedgerError>| r.unwrap_err();
    assert!(matches!(
        refused(f.ledger.reverse(reversal(account, entry, Some(31)), by).await),
        LedgerError::Invalid(e) if e.field == "amount"
    ));
    assert_eq!(
        refused(f.ledger.reverse(reversal(other, entry, None), by).await),
        LedgerError::UnknownEntry
    );
    assert_eq!(
        refused(
            f.ledger
                .reverse(reversal(account, entry + 1_000, None), by)
                .await
        ),
        LedgerError::UnknownEntry
    );
    let first: i64 = sqlx::query_scalar("SELECT MIN(id) FROM ledger_entries WHERE account_id = $1")
        .bind(account)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert!(matches!(
        refused(f.ledger.reverse(reversal(account, first, None), by).await),
        LedgerError::Invalid(e) if e.field == "entry"
    ));
    assert_eq!(figures(&f.pool, account).await, before, "nothing changed");

    // The whole capture back, then a repeat for a part is a conflict naming the first.
    assert_eq!(
        f.ledger.reverse(reversal(account, entry, None), by).await,
        Ok(Credits::whole(30).unwrap())
    );
    assert_eq!(
        f.ledger
            .reverse(reversal(account, entry, Some(5)), by)
            .await,
        Err(LedgerError::Conflict(Conflict::ReversedFor(
            Credits::whole(30).unwrap()
        )))
    );
    assert_eq!(figures(&f.pool, account).await, (1_000_000, 0));
    // A reversal is not itself a capture.
    let again: i64 = sqlx::query_scalar("SELECT MAX(id) FROM ledger_entries")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert!(
        f.ledger
            .reverse(reversal(account, again, None), by)
            .await
            .is_err()
    );
    let mut conn = f.pool.acquire().await.unwrap();
    let report = store::check_reversals(&mut conn).await.unwrap();
    assert_eq!((report.count, report.wrong), (1, vec![]));
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn the_check_names_a_reversal_written_beyond_its_capture() {
    let f = fixture("Community").await;
    let account = f.account_with(100).await;
    let entry = captured(&f, account, 3).await;
    // Written behind the writer's back, as a bug or a hand-edited database would.
    sqlx::query(
        "INSERT INTO ledger_entries (account_id, kind, amount, held_delta, description, created_at, reverses)
         VALUES ($1, 'reversal', 40000, 0, 'too much', 0, $2)",
    )
    .bind(account)
    .bind(entry)
    .execute(&f.pool)
    .await
    .unwrap();
    let duplicate = sqlx::query(
        "INSERT INTO ledger_entries (account_id, kind, amount, held_delta, description, created_at, reverses)
         VALUES ($1, 'reversal', 1, 0, 'again', 0, $2)",
    )
    .bind(account)
    .bind(entry)
    .execute(&f.pool)
    .await;
    assert!(duplicate.is_err(), "a capture is reversed at most once");
    let mut conn = f.pool.acquire().await.unwrap();
    let report = store::check_reversals(&mut conn).await.unwrap();
    assert_eq!(report.count, 1);
    assert_eq!(report.wrong.len(), 1);
}

/// A paid Standard Pack order (100 credits) on `account`.
async fn paid_order(f: &Fixture, account: i64) -> i64 {
    let order = draft_order(f, account).await;
    f.ledger
        .payment_succeeded(order, "demo", &format!("DEMO-REF-{order}"))
        .await
        .unwrap();
    order
}

fn refund_of(order: i64) -> NewRefund {
    NewRefund::parse(order, "wrong pack").unwrap()
}

#[tokio::test]
async fn the_same_refund_asked_64_times_at_once_takes_the_credits_once() {
    let f = fixture("Community").await;
    let account = f.account_with(0).await;
    let by = admin(&f).await;
    let order = paid_order(&f, account).await;
    let requests = (0..64).map(|_| {
        let ledger = f.ledger.clone();
        tokio::spawn(async move { ledger.refund(refund_of(order), by).await })
    });
    for result in futures::future::join_all(requests).await {
        assert_eq!(result.unwrap(), Ok(RefundState::Pending));
    }
    assert_eq!(figures(&f.pool, account).await, (0, 0));
    let entries: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT amount, order_id FROM ledger_entries WHERE kind = 'refund'")
            .fetch_all(&f.pool)
            .await
            .unwrap();
    assert_eq!(entries, vec![(-1_000_000, Some(order))]);
    let mut conn = f.pool.acquire().await.unwrap();
    assert_eq!(app::db::refunds::check(&mut conn).await.unwrap().count, 1);
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn a_refused_refund_gives_the_credits_back_once_and_a_draft_is_not_refunded() {
    let f = fixture("Community").await;
    let account = f.account_with(5).await;
    let by = admin(&f).await;
    let draft = draft_order(&f, account).await;
    assert!(matches!(
        f.ledger.refund(refund_of(draft), by).await,
        Err(LedgerError::Invalid(e)) if e.field == "order"
    ));
    let order = paid_order(&f, account).await;
    f.ledger.refund(refund_of(order), by).await.unwrap();
    assert_eq!(figures(&f.pool, account).await, (50_000, 0));
    for _ in 0..3 {
        f.ledger.refund_refused(order, "card closed").await.unwrap();
    }
    assert_eq!(figures(&f.pool, account).await, (1_050_000, 0));
    let state: String = sqlx::query_scalar("SELECT state FROM refunds WHERE order_id = $1")
        .bind(order)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(state, "failed");
    // Once failed, the order answers its refund's state and takes nothing again.
    assert_eq!(
        f.ledger.refund(refund_of(order), by).await,
        Ok(RefundState::Failed)
    );
    assert_eq!(figures(&f.pool, account).await, (1_050_000, 0));
    let mut conn = f.pool.acquire().await.unwrap();
    assert_eq!(
        app::db::refunds::check(&mut conn).await.unwrap().wrong,
        Vec::<i64>::new()
    );
    assert_consistent(&f.pool).await;
}

/// Makes every insert into the ledger fail (a storage failure in the middle of a batch), or
/// stops doing so, in the dialect of the backend under test.
async fn refuse_ledger_inserts(pool: &sqlx::AnyPool, on: bool) {
    let sql = match (app::db::Backend::of_pool(pool), on) {
        (app::db::Backend::Sqlite, true) => {
            "CREATE TRIGGER refuse BEFORE INSERT ON ledger_entries
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        }
        (app::db::Backend::Sqlite, false) => "DROP TRIGGER refuse",
        (app::db::Backend::Postgres, true) => {
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql
                 AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
             CREATE TRIGGER refuse BEFORE INSERT ON ledger_entries
                 FOR EACH ROW EXECUTE FUNCTION refuse();"
        }
        (app::db::Backend::Postgres, false) => {
            "DROP TRIGGER refuse ON ledger_entries; DROP FUNCTION refuse();"
        }
    };
    sqlx::raw_sql(sql).execute(pool).await.unwrap();
}
