//! Two ledger writers sharing one database, as two processes or two nodes do: each has its
//! own book in memory and its own connection, and the database arbitrates between them
//! (locks taken as each batch opens). Whatever one writer did, the other sees before its next batch: no
//! overdraft, no double expiry, no second warning mail, no hold or account it does not know.
//! Runs on SQLite, and on PostgreSQL when `IAPD_TEST_POSTGRES` is set.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use app::clock::ManualClock;
use app::domain::credits::Credits;
use app::domain::ledger::{AccountEdit, Conflict, EntryKind, HoldRequest, LedgerError};
use app::domain::warning::WarningSettings;
use app::i18n::{Msg, Note, Text};
use app::ledger::Ledger;
use app::tasks::Tasks;
use common::{
    assert_consistent, configure_with, credit_with, edit_with, figures, hold_request, hold_with,
    start_ledger,
};
use sqlx::AnyPool;

const CREDIT: i64 = 10_000;
const HOUR: i64 = 3_600_000;

struct Fixture {
    pool: AnyPool,
    /// Two writers over the same database.
    a: Ledger,
    b: Ledger,
    _tasks: (Tasks, Tasks),
    clock: ManualClock,
    company: i64,
}

async fn fixture() -> Fixture {
    let (pool, _) = app::db::scratch("writers-test").await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    app::db::settings::set(&mut conn, app::db::settings::EDITION, "Community")
        .await
        .unwrap();
    let company = app::db::companies::insert(&mut conn, "SF").await.unwrap();
    drop(conn);
    let clock = ManualClock::at(1_800_000_000_000);
    let (a, tasks_a) = start_ledger(&pool, clock.clock()).await;
    let (b, tasks_b) = start_ledger(&pool, clock.clock()).await;
    Fixture {
        pool,
        a,
        b,
        _tasks: (tasks_a, tasks_b),
        clock,
        company,
    }
}

impl Fixture {
    /// Writer A for even `i`, B for odd.
    fn either(&self, i: usize) -> &Ledger {
        if i.is_multiple_of(2) {
            &self.a
        } else {
            &self.b
        }
    }

    /// The SMS account, resolved on A, brought to exactly `credits` on B.
    async fn account_with(&self, credits: i64) -> i64 {
        let id = self.a.resolve_account("sms", self.company).await.unwrap();
        let delta = credits * CREDIT - figures(&self.pool, id).await.0;
        if delta != 0 {
            credit_with(
                &self.b,
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

    /// An account with 10 credits, all held on A for one hour: (account, hold token).
    async fn one_hour_hold_of_everything(&self) -> (i64, String) {
        let account = self.account_with(10).await;
        let request = HoldRequest {
            ttl_hours: Some(1),
            ..hold_request(account, 10)
        };
        (account, hold_with(&self.a, request).await.unwrap())
    }

    async fn count(&self, sql: &'static str, account: i64) -> i64 {
        sqlx::query_scalar(sql)
            .bind(account)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn holds_raced_over_two_writers_never_overdraw_the_account() {
    let f = fixture().await;
    let (mut account, mut placed) = (0, 0);
    for iteration in 0..30 {
        let covered = (iteration * 7) % 65; // 0 to 64 holds fit
        account = f.account_with(covered).await;
        let attempts = (0..64).map(|i| {
            let ledger = f.either(i).clone();
            tokio::spawn(async move { hold_with(&ledger, hold_request(account, 1)).await })
        });
        let results = futures::future::join_all(attempts).await;
        let mut tokens = Vec::new();
        for result in results {
            match result.unwrap() {
                Ok(token) => tokens.push(token),
                Err(error) => assert!(
                    matches!(error, LedgerError::InsufficientCredits { .. }),
                    "{error:?}"
                ),
            }
        }
        assert_eq!(tokens.len(), covered as usize, "iteration {iteration}");
        placed += covered;
        assert_eq!(
            figures(&f.pool, account).await,
            (covered * CREDIT, covered * CREDIT)
        );
        // Each hold ends on the writer that did not place it (hold ids alternate too).
        for (i, token) in tokens.iter().enumerate() {
            f.either(i + 1).cancel(token).await.unwrap();
        }
        assert_eq!(figures(&f.pool, account).await, (covered * CREDIT, 0));
    }
    let holds = f
        .count("SELECT COUNT(*) FROM holds WHERE account_id = $1", account)
        .await;
    assert_eq!(holds, placed, "every hold granted is stored, and no other");
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn a_hold_placed_on_one_writer_is_captured_once_on_the_other() {
    let f = fixture().await;
    let account = f.account_with(100).await;
    let token = hold_with(&f.a, hold_request(account, 30)).await.unwrap();
    let twelve = Credits::whole(12).unwrap();
    assert_eq!(f.b.capture(&token, Some(twelve)).await, Ok(twelve));
    assert_eq!(
        f.a.capture(&token, Some(twelve)).await,
        Ok(twelve),
        "a repeat"
    );
    assert_eq!(
        f.a.cancel(&token).await,
        Err(LedgerError::Conflict(Conflict::AlreadyCaptured))
    );
    assert_eq!(figures(&f.pool, account).await, (88 * CREDIT, 0));
    let captures = f
        .count(
            "SELECT COUNT(*) FROM ledger_entries WHERE account_id = $1 AND kind = 'capture'",
            account,
        )
        .await;
    assert_eq!(captures, 1);
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn one_idempotency_key_sent_to_both_writers_at_once_makes_one_hold() {
    let f = fixture().await;
    let account = f.account_with(100).await;
    let attempts = (0..16).map(|i| {
        let ledger = f.either(i).clone();
        tokio::spawn(async move {
            let request = HoldRequest {
                idempotency_key: Some("order-7".into()),
                ..hold_request(account, 10)
            };
            hold_with(&ledger, request).await
        })
    });
    let tokens: Vec<String> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert!(tokens.iter().all(|t| *t == tokens[0]), "{tokens:?}");
    assert_eq!(figures(&f.pool, account).await, (100 * CREDIT, 10 * CREDIT));
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn a_hold_expires_exactly_once_when_both_writers_sweep() {
    let f = fixture().await;
    let (account, token) = f.one_hour_hold_of_everything().await;
    f.clock.advance(HOUR);
    let (a, b) = tokio::join!(f.a.sweep(), f.b.sweep());
    a.unwrap();
    b.unwrap();
    let expiries = f
        .count(
            "SELECT COUNT(*) FROM ledger_entries WHERE account_id = $1 AND kind = 'expiry'",
            account,
        )
        .await;
    assert_eq!(expiries, 1);
    assert_eq!(figures(&f.pool, account).await, (10 * CREDIT, 0));
    assert_eq!(
        f.b.capture(&token, None).await,
        Err(LedgerError::HoldExpired)
    );
    assert_eq!(
        f.a.capture(&token, None).await,
        Err(LedgerError::HoldExpired)
    );
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn an_extension_on_one_writer_keeps_the_hold_alive_on_the_other() {
    let f = fixture().await;
    let (account, token) = f.one_hour_hold_of_everything().await;
    f.b.extend(&token, std::time::Duration::from_secs(5 * 3_600))
        .await
        .unwrap();
    f.clock.advance(2 * HOUR);
    f.a.sweep().await.unwrap();
    assert_eq!(figures(&f.pool, account).await, (10 * CREDIT, 10 * CREDIT));
    let all = Credits::whole(10).unwrap();
    assert_eq!(f.a.capture(&token, None).await, Ok(all));
    assert_eq!(figures(&f.pool, account).await, (0, 0));
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn an_account_made_or_edited_on_one_writer_is_the_same_on_the_other() {
    let f = fixture().await;
    let on_a = f.a.resolve_account("sms", f.company).await.unwrap();
    assert_eq!(f.b.resolve_account("sms", f.company).await, Ok(on_a));
    let token: String = sqlx::query_scalar("SELECT token FROM iap_accounts WHERE id = $1")
        .bind(on_a)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    let disabled = AccountEdit {
        account: on_a,
        name: "SMS".into(),
        token: format!("{token}+disabled"),
        companies: vec![f.company],
    };
    edit_with(&f.b, disabled).await.unwrap();
    credit_with(
        &f.b,
        on_a,
        EntryKind::Adjustment,
        Credits::whole(5).unwrap(),
        "setup",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        hold_with(&f.a, hold_request(on_a, 1)).await,
        Err(LedgerError::AccountDisabled)
    );
    assert_consistent(&f.pool).await;
}

fn warn_below(credits: i64) -> WarningSettings {
    WarningSettings {
        enabled: true,
        threshold: credits * CREDIT,
        emails: vec!["ops@example.com".into()],
    }
}

/// A hold then its capture, as a service spends.
async fn spend(ledger: &Ledger, account: i64, credits: i64) {
    let token = hold_with(ledger, hold_request(account, credits))
        .await
        .unwrap();
    ledger.capture(&token, None).await.unwrap();
}

#[tokio::test]
async fn a_warning_crossed_over_two_writers_is_mailed_once_an_hour() {
    let f = fixture().await;
    let account = f.account_with(100).await;
    configure_with(&f.a, account, warn_below(50)).await.unwrap();
    let mails = "SELECT COUNT(*) FROM mail_outbox WHERE account_id = $1";
    let spends = (0..64).map(|i| {
        let ledger = f.either(i).clone();
        tokio::spawn(async move { spend(&ledger, account, 1).await })
    });
    for result in futures::future::join_all(spends).await {
        result.unwrap();
    }
    assert_eq!(f.count(mails, account).await, 1, "one crossing, one mail");
    // Back above the line on A, below again on B within the hour: no second mail.
    let thirty = Credits::whole(30).unwrap();
    credit_with(&f.a, account, EntryKind::Purchase, thirty, "pack", None)
        .await
        .unwrap();
    spend(&f.b, account, 30).await;
    assert_eq!(f.count(mails, account).await, 1, "at most one an hour");
    f.clock.advance(HOUR);
    credit_with(&f.b, account, EntryKind::Purchase, thirty, "pack", None)
        .await
        .unwrap();
    spend(&f.a, account, 30).await;
    assert_eq!(f.count(mails, account).await, 2, "an hour later, again");
    assert_consistent(&f.pool).await;
}

#[tokio::test]
async fn a_hold_placed_and_closed_on_one_writer_keeps_its_id_from_the_other() {
    let f = fixture().await;
    let account = f.account_with(100).await;
    let first = hold_with(&f.a, hold_request(account, 10)).await.unwrap();
    f.a.capture(&first, None).await.unwrap();
    // B last saw the ledger before that hold existed; by now it is already closed. Each
    // writer takes hold ids from a block of its own, so their order says nothing.
    let second = hold_with(&f.b, hold_request(account, 10)).await.unwrap();
    let id = |token: &str| token.split('.').next().unwrap().to_owned();
    assert_ne!(id(&first), id(&second));
    let states: Vec<(String, String)> =
        sqlx::query_as("SELECT token, state FROM holds WHERE account_id = $1 ORDER BY state")
            .bind(account)
            .fetch_all(&f.pool)
            .await
            .unwrap();
    assert_eq!(
        states,
        [(first, "captured".to_owned()), (second, "open".to_owned())]
    );
    assert_consistent(&f.pool).await;
}

/// A hold's text crosses from one writer to the other through the database (on PostgreSQL,
/// as JSON both ways: the batch's rows go in as JSON, and the other writer's catch-up reads
/// them back as JSON), so quotes, backslashes, new lines, any script, and a stored message
/// must come back exactly as they went in.
#[tokio::test]
async fn a_holds_text_crosses_writers_exactly() {
    let f = fixture().await;
    let account = f.account_with(100).await;
    let typed = "Scan «reçu» #7 — it's \"quoted\", a back\\slash,\na second line, 中文 📨";
    let request = HoldRequest {
        description: typed.into(),
        idempotency_key: Some("scan-7 \"€\"".into()),
        ..hold_request(account, 10)
    };
    let token = hold_with(&f.a, request.clone()).await.unwrap();
    assert_eq!(
        hold_with(&f.b, request.clone()).await,
        Ok(token.clone()),
        "the same request under the key, on the other writer"
    );
    let other = HoldRequest {
        description: "another request".into(),
        ..request
    };
    assert_eq!(
        hold_with(&f.b, other).await,
        Err(LedgerError::Conflict(Conflict::IdempotencyKeyReused))
    );
    let said = Text::new(Msg::SmsHoldDescriptionApi)
        .arg("count", 3)
        .arg("dbuuid", "db-'\"\\-中");
    let sms = HoldRequest {
        description: said.clone().into(),
        ..hold_request(account, 5)
    };
    let sms = hold_with(&f.a, sms).await.unwrap();
    // B captures both: it knows them only from A's rows.
    let four = Credits::whole(4).unwrap();
    assert_eq!(f.b.capture(&token, Some(four)).await, Ok(four));
    assert_eq!(
        f.b.capture(&sms, None).await,
        Ok(Credits::whole(5).unwrap())
    );
    let entries: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT kind, description, note FROM ledger_entries
         WHERE account_id = $1 AND hold_id IS NOT NULL ORDER BY id",
    )
    .bind(account)
    .fetch_all(&f.pool)
    .await
    .unwrap();
    let stored = Note::from(said).stored();
    let rendered = Note::from(Text::new(Msg::SmsHoldDescriptionApi)).plain();
    assert!(stored.is_some());
    let typed_entry = |kind: &str| (kind.to_owned(), typed.to_owned(), None);
    assert_eq!(entries[0], typed_entry("hold"));
    assert_eq!(entries[2], typed_entry("capture"));
    for (i, kind) in [(1, "hold"), (3, "capture")] {
        assert_eq!((entries[i].0.as_str(), &entries[i].2), (kind, &stored));
        assert_ne!(entries[i].1, rendered, "the arguments are rendered");
    }
    assert_eq!(entries.len(), 4);
    // Description, note, idempotency key, captured.
    type StoredHold = (String, Option<String>, Option<String>, Option<i64>);
    let holds: Vec<StoredHold> = sqlx::query_as(
        "SELECT description, note, idempotency_key, captured FROM holds
         WHERE account_id = $1 ORDER BY id",
    )
    .bind(account)
    .fetch_all(&f.pool)
    .await
    .unwrap();
    assert_eq!(
        holds[0],
        (
            typed.to_owned(),
            None,
            Some("scan-7 \"€\"".to_owned()),
            Some(4 * CREDIT)
        )
    );
    assert_eq!((&holds[1].1, holds[1].3), (&stored, Some(5 * CREDIT)));
    assert_consistent(&f.pool).await;
}

/// One idempotency key sent at once to both writers for two accounts: the writers lock the
/// key, not only the account, so exactly one hold is placed, requests for its account get
/// its token, the others a conflict, and no batch fails on the unique key.
#[tokio::test]
async fn one_idempotency_key_for_two_accounts_at_once_makes_one_hold() {
    let f = fixture().await;
    let first = f.account_with(100).await;
    let second = f.a.resolve_account("reveal", f.company).await.unwrap();
    credit_with(
        &f.b,
        second,
        EntryKind::Adjustment,
        Credits::from_minor(100 * CREDIT),
        "test setup",
        None,
    )
    .await
    .unwrap();
    let attempts = (0..32).map(|i| {
        let ledger = f.either(i).clone();
        let account = if i % 4 < 2 { first } else { second };
        tokio::spawn(async move {
            let request = HoldRequest {
                idempotency_key: Some("order-8".into()),
                ..hold_request(account, 10)
            };
            (account, hold_with(&ledger, request).await)
        })
    });
    let answers: Vec<(i64, Result<String, LedgerError>)> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let placed: Vec<(i64, String)> =
        sqlx::query_as("SELECT account_id, token FROM holds WHERE idempotency_key = 'order-8'")
            .fetch_all(&f.pool)
            .await
            .unwrap();
    assert_eq!(placed.len(), 1, "{placed:?}");
    let (winner, token) = &placed[0];
    for (account, answer) in &answers {
        if account == winner {
            assert_eq!(answer.as_ref(), Ok(token), "{answers:?}");
        } else {
            assert_eq!(
                answer,
                &Err(LedgerError::Conflict(Conflict::IdempotencyKeyReused)),
                "{answers:?}"
            );
        }
    }
    assert_eq!(figures(&f.pool, *winner).await.1, 10 * CREDIT);
    assert_consistent(&f.pool).await;
}

/// How batches of two writers wait for each other on PostgreSQL, through the functions that
/// open them: batches on different accounts open at once, one on an account another batch
/// has locked waits for its commit, and a batch that runs alone waits for every batch. On
/// SQLite every batch is serial (one writer at a time), so there is nothing to show.
#[tokio::test]
async fn batches_wait_only_for_the_accounts_they_share() {
    use app::db::ledger::{Wanted, open_exclusive, open_shared};
    use std::time::Duration;
    let f = fixture().await;
    if app::db::Backend::of_pool(&f.pool) != app::db::Backend::Postgres {
        return;
    }
    let first = f.account_with(10).await;
    let mut conn = f.pool.acquire().await.unwrap();
    let second = app::db::ledger::insert_account(
        &mut conn,
        "reveal",
        "Leads",
        &app::crypto::random_token(16),
        1,
    )
    .await
    .unwrap();
    drop(conn);
    let opens = |account: i64| {
        let pool = f.pool.clone();
        async move {
            let mut conn = pool.acquire().await.unwrap().detach();
            let mut tx = app::db::begin_write_on(&mut conn).await.unwrap();
            let wanted = Wanted {
                known: &[(account, -1)],
                tokens: &[],
                keys: &[],
            };
            let opened = open_shared(&mut tx, wanted).await.unwrap();
            assert_eq!(
                opened.accounts.len(),
                1,
                "an account it did not know is loaded"
            );
            tx.commit().await.unwrap();
        }
    };
    let mut holder = f.pool.acquire().await.unwrap().detach();
    let mut held = app::db::begin_write_on(&mut holder).await.unwrap();
    let wanted = Wanted {
        known: &[(first, -1)],
        tokens: &[],
        keys: &[],
    };
    open_shared(&mut held, wanted).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), opens(second))
        .await
        .expect("another account's batch opens at once");
    let same = tokio::spawn(opens(first));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!same.is_finished(), "the same account's batch waits");
    let alone = tokio::spawn({
        let pool = f.pool.clone();
        async move {
            let mut conn = pool.acquire().await.unwrap().detach();
            let mut tx = app::db::begin_write_on(&mut conn).await.unwrap();
            open_exclusive(&mut tx, i64::MAX, |_| None).await.unwrap();
            tx.commit().await.unwrap();
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!alone.is_finished(), "a batch that runs alone waits");
    held.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), same)
        .await
        .expect("it opens once the first commits")
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), alone)
        .await
        .expect("so does the batch that runs alone")
        .unwrap();
}

/// Writers place holds at the same time, so each takes hold ids from a block of its own,
/// above every hold stored, and a block is never handed out twice.
#[tokio::test]
async fn each_writer_takes_hold_ids_from_a_block_of_its_own() {
    use app::db::ledger::{HOLD_ID_BLOCK, reserve_hold_ids};
    let f = fixture().await;
    let account = f.account_with(100).await;
    let on_a = hold_with(&f.a, hold_request(account, 1)).await.unwrap();
    let on_b = hold_with(&f.b, hold_request(account, 1)).await.unwrap();
    let again_on_a = hold_with(&f.a, hold_request(account, 1)).await.unwrap();
    let id = |token: &str| app::domain::ledger::hold_id_of(token).unwrap();
    assert_ne!(id(&on_a) / HOLD_ID_BLOCK, id(&on_b) / HOLD_ID_BLOCK);
    assert_eq!(id(&again_on_a), id(&on_a) + 1, "A keeps to its block");
    let mut conn = f.pool.acquire().await.unwrap();
    let next = reserve_hold_ids(&mut conn).await.unwrap();
    assert!(next.start > id(&on_a).max(id(&on_b)));
    assert_eq!(next.end - next.start, HOLD_ID_BLOCK);
    assert_eq!(reserve_hold_ids(&mut conn).await.unwrap().start, next.end);
}
