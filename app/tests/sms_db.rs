//! Sending SMS against a real SQLite database (a fresh one per test), the real ledger writer
//! and the real SMS worker, and for the HTTP gateway a real HTTP server on a local port:
//! what is charged, what is stored, and what happens when credits, numbers, the provider or
//! the clock misbehave. Every test ends with the ledger check.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use app::clock::{Clock, ManualClock};
use app::db::ledger as store;
use app::domain::contact::ValidContact;
use app::domain::credits::Credits;
use app::domain::ledger::EntryKind;
use app::error::AppError;
use app::ledger::{Ledger, SmsResult};
use app::models::{SmsBatchState, SmsBatchStatus, SmsQueued, SmsState};
use app::sms::{
    BuiltinProvider, GatewayConfig, HttpGateway, NoNumber, Recipient, SendRequest, Sender,
    SmsProvider, SmsQueue, WorkerSettings,
};
use app::tasks::Tasks;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::{credit_with, edit_with};
use sqlx::AnyPool;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Fixture {
    pool: AnyPool,
    ledger: Ledger,
    /// The ledger's tasks: they stop when dropped.
    tasks: Tasks,
    company: i64,
    user: i64,
}

/// A running SMS worker: its queue, and the tasks that stop it when dropped.
struct Worker {
    queue: SmsQueue,
    tasks: Tasks,
}

async fn fixture() -> Fixture {
    fixture_with_clock(app::clock::system_clock()).await
}

async fn fixture_with_clock(clock: Clock) -> Fixture {
    let (pool, _) = app::db::scratch("sms-test").await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    // Community: no trial credits, so every test starts from the balance it buys.
    app::db::settings::set(&mut conn, app::db::settings::EDITION, "community")
        .await
        .unwrap();
    let company = app::db::companies::insert(&mut conn, "SF").await.unwrap();
    let user = app::db::users::insert(
        &mut conn,
        app::db::users::NewUser {
            login: "mitchell",
            name: "Mitchell Admin",
            password_hash: "-",
            is_admin: true,
            default_company_id: company,
            now: 0,
        },
    )
    .await
    .unwrap()
    .unwrap();
    drop(conn);
    let (ledger, tasks) = common::start_ledger(&pool, clock).await;
    Fixture {
        pool,
        ledger,
        tasks,
        company,
        user,
    }
}

/// A Belgian mobile costs 0.12 credits per part.
const BE_PART: i64 = 1_200;

/// Long enough for any batch of these tests; a test that waits longer has failed.
const PATIENCE: Duration = Duration::from_secs(60);

fn quick() -> WorkerSettings {
    WorkerSettings {
        poll: Duration::from_millis(50),
        retry: Duration::from_millis(20),
        max_retry: Duration::from_millis(100),
        ..WorkerSettings::default()
    }
}

impl Fixture {
    /// Stops the ledger as a stopping server does, runs `while_down`, and starts the ledger
    /// again over the same database, as a restarted server does.
    async fn restart_ledger(self, clock: Clock, while_down: impl FnOnce()) -> Fixture {
        self.tasks.shutdown(Duration::from_secs(5)).await;
        while_down();
        let (ledger, tasks) = common::start_ledger(&self.pool, clock).await;
        Fixture {
            ledger,
            tasks,
            ..self
        }
    }

    async fn contact(&self, name: &str, mobile: &str, country: &str) -> Recipient {
        let mut conn = self.pool.acquire().await.unwrap();
        let id = app::db::contacts::insert(
            &mut conn,
            &ValidContact {
                name: name.into(),
                company_name: None,
                email: None,
                phone: None,
                mobile: Some(mobile.into()),
                country_code: Some(country.into()),
                owner_company_id: None,
            },
            0,
        )
        .await
        .unwrap();
        Recipient {
            contact_id: Some(id),
            name: name.into(),
            number: mobile.into(),
            country: Some(country.into()),
        }
    }

    async fn contact_without_number(&self, name: &str) -> i64 {
        let mut conn = self.pool.acquire().await.unwrap();
        app::db::contacts::insert(
            &mut conn,
            &ValidContact {
                name: name.into(),
                company_name: None,
                email: None,
                phone: None,
                mobile: None,
                country_code: None,
                owner_company_id: None,
            },
            0,
        )
        .await
        .unwrap()
    }

    async fn belgian(&self) -> Recipient {
        self.contact("Marc Demo", "0470 12 34 56", "BE").await
    }

    /// The SMS account, with `minor` credits bought.
    async fn account_with(&self, minor: i64) -> i64 {
        let account = self
            .ledger
            .resolve_account("sms", self.company)
            .await
            .unwrap();
        if minor > 0 {
            credit_with(
                &self.ledger,
                account,
                EntryKind::Purchase,
                Credits::from_minor(minor),
                "pack",
                None,
            )
            .await
            .unwrap();
        }
        account
    }

    async fn balance(&self, account: i64) -> (i64, i64) {
        sqlx::query_as("SELECT balance, held FROM iap_accounts WHERE id = $1")
            .bind(account)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn states(&self) -> Vec<(String, i64)> {
        sqlx::query_as("SELECT state, credits FROM sms_messages ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    async fn errors(&self) -> Vec<Option<String>> {
        sqlx::query_scalar("SELECT error FROM sms_messages ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    /// The batch hold's final state and what it captured.
    async fn hold_end(&self, batch: i64) -> (String, Option<i64>) {
        sqlx::query_as(
            "SELECT h.state, h.captured FROM holds h
             JOIN sms_batches b ON b.hold_token = h.token WHERE b.id = $1",
        )
        .bind(batch)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    fn request(&self, key: &str, body: &str, recipients: Vec<Recipient>) -> SendRequest {
        SendRequest {
            author_id: self.user,
            company_id: self.company,
            request_key: format!("test-key-{key}"),
            body: body.into(),
            recipients: recipients.into_iter().map(Ok).collect(),
        }
    }

    fn worker(&self, provider: Arc<dyn SmsProvider>, settings: WorkerSettings) -> Worker {
        let mut tasks = Tasks::new();
        let queue = app::sms::worker::start(
            &mut tasks,
            self.pool.clone(),
            self.ledger.clone(),
            provider,
            settings,
        );
        Worker { queue, tasks }
    }

    fn sender(&self, worker: &Worker) -> Sender {
        Sender {
            pool: self.pool.clone(),
            ledger: self.ledger.clone(),
            queue: worker.queue.clone(),
        }
    }

    async fn send(&self, worker: &Worker, request: SendRequest) -> Result<SmsQueued, AppError> {
        self.sender(worker).send(request).await
    }

    /// The batch as it stands.
    async fn status(&self, batch: i64) -> SmsBatchStatus {
        let mut conn = self.pool.acquire().await.unwrap();
        app::db::sms::batch_status(&mut conn, batch)
            .await
            .unwrap()
            .unwrap()
    }

    /// The batch once every message went out or failed.
    async fn done(&self, worker: &Worker, batch: i64) -> SmsBatchStatus {
        let status = worker
            .queue
            .wait_for(&self.pool, batch, PATIENCE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.state, SmsBatchState::Done, "{status:?}");
        status
    }

    async fn send_and_wait(&self, worker: &Worker, request: SendRequest) -> SmsBatchStatus {
        let queued = self.send(worker, request).await.unwrap();
        self.done(worker, queued.batch_id).await
    }

    async fn check(&self) {
        let mut conn = self.pool.acquire().await.unwrap();
        assert_eq!(store::check(&mut conn).await.unwrap(), vec![]);
    }
}

fn builtin() -> Arc<dyn SmsProvider> {
    Arc::new(BuiltinProvider)
}

#[tokio::test]
async fn a_send_is_queued_then_charged_exactly_its_cost_and_logged_in_the_chatter() {
    let f = fixture().await;
    let worker = f.worker(builtin(), quick());
    let account = f.account_with(10_000).await;
    let marc = f.belgian().await;
    let contact = marc.contact_id.unwrap();
    let long = "a".repeat(172); // two GSM-7 parts
    let queued = f
        .send(&worker, f.request("one", &long, vec![marc]))
        .await
        .unwrap();
    assert_eq!((queued.queued, queued.credits.minor()), (1, 2 * BE_PART));
    let done = f.done(&worker, queued.batch_id).await;
    assert_eq!(
        (done.sent, done.failed, done.queued, done.credits.minor()),
        (1, 0, 0, 2 * BE_PART)
    );
    assert_eq!(f.balance(account).await, (10_000 - 2 * BE_PART, 0));
    assert_eq!(f.states().await, vec![("sent".into(), 2 * BE_PART)]);
    assert_eq!(
        f.hold_end(queued.batch_id).await,
        ("captured".into(), Some(2 * BE_PART))
    );
    let mut conn = f.pool.acquire().await.unwrap();
    let chatter = app::db::messages::of_record(&mut conn, "contact", contact)
        .await
        .unwrap();
    assert_eq!(chatter.len(), 1);
    assert_eq!(chatter[0].author_name, "Mitchell Admin");
    let line = chatter[0].body.plain();
    assert!(
        line.starts_with("SMS to +32470123456 (2 SMS, 0.24 credits): aaa"),
        "{line}"
    );
    // The line is kept as its message, so a French reader reads it in French.
    let french = chatter[0].body.render(app::i18n::Locale::Fr);
    assert!(
        french.starts_with("SMS au +32470123456 (2 SMS, 0,24 crédit)\u{a0}: aaa"),
        "{french}"
    );
    let sms = chatter[0].sms.clone().expect("the line follows its SMS");
    assert_eq!((sms.state, sms.batch.sent), (SmsState::Sent, 1));
    let capture: (String, i64, i64) = sqlx::query_as(
        "SELECT description, amount, created_by FROM ledger_entries WHERE kind = 'capture'",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(
        capture,
        ("SMS to +32470123456 (2 SMS)".into(), -2 * BE_PART, f.user)
    );
    drop(conn);
    f.check().await;
}

#[tokio::test]
async fn without_enough_credits_nothing_is_queued_or_charged() {
    let f = fixture().await;
    let worker = f.worker(builtin(), quick());
    let account = f.account_with(BE_PART - 1).await;
    let marc = f.belgian().await;
    let err = f
        .send(&worker, f.request("poor", "Hello", vec![marc]))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AppError::InsufficientCredits {
            available: Credits::from_minor(BE_PART - 1),
            required: Credits::from_minor(BE_PART)
        }
    );
    assert_eq!(f.balance(account).await, (BE_PART - 1, 0));
    assert!(f.states().await.is_empty());
    f.check().await;
}

#[tokio::test]
async fn a_batch_that_does_not_fit_queues_nothing() {
    let f = fixture().await;
    let worker = f.worker(builtin(), quick());
    let account = f.account_with(2 * BE_PART).await;
    let mut recipients = vec![f.belgian().await];
    recipients.push(f.contact("Deco Addict", "+32 470 99 88 77", "BE").await);
    recipients.push(f.contact("Gemini", "+33 6 12 34 56 78", "FR").await);
    let err = f
        .send(&worker, f.request("batch", "Hi all", recipients.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::InsufficientCredits { required, .. } if required.minor() == 2 * BE_PART + 900)
    );
    assert!(f.states().await.is_empty());
    assert_eq!(f.balance(account).await, (2 * BE_PART, 0));

    f.account_with(900).await;
    let done = f
        .send_and_wait(&worker, f.request("batch-2", "Hi all", recipients))
        .await;
    assert_eq!((done.sent, done.credits.minor()), (3, 2 * BE_PART + 900));
    assert_eq!(f.balance(account).await, (0, 0));
    f.check().await;
}

#[tokio::test]
async fn sixty_four_concurrent_sends_against_credits_for_ten_send_exactly_ten() {
    let f = Arc::new(fixture().await);
    let worker = Arc::new(f.worker(builtin(), quick()));
    let account = f.account_with(10 * BE_PART + BE_PART / 2).await;
    let marc = f.belgian().await;
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let (f, worker, marc) = (f.clone(), worker.clone(), marc.clone());
            tokio::spawn(async move {
                f.send(&worker, f.request(&format!("race-{i}"), "Race", vec![marc]))
                    .await
            })
        })
        .collect();
    let mut batches = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(queued) => batches.push(queued.batch_id),
            Err(AppError::InsufficientCredits { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(batches.len(), 10);
    for batch in batches {
        f.done(&worker, batch).await;
    }
    assert_eq!(f.balance(account).await, (BE_PART / 2, 0));
    let states = f.states().await;
    assert_eq!(states.len(), 10);
    assert!(states.iter().all(|(s, c)| s == "sent" && *c == BE_PART));
    f.check().await;
}

#[tokio::test]
async fn a_retried_request_queues_once_and_gets_the_same_answer() {
    let f = fixture().await;
    let worker = f.worker(builtin(), quick());
    let account = f.account_with(10_000).await;
    let marc = f.belgian().await;
    let first = f
        .send(&worker, f.request("retry", "Once", vec![marc.clone()]))
        .await
        .unwrap();
    f.done(&worker, first.batch_id).await;
    let again = f
        .send(&worker, f.request("retry", "Once", vec![marc]))
        .await
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(f.states().await.len(), 1);
    assert_eq!(f.balance(account).await, (10_000 - BE_PART, 0));
    f.check().await;
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_held() {
    let f = fixture().await;
    let worker = f.worker(builtin(), quick());
    let account = f.account_with(10_000).await;
    let marc = f.belgian().await;
    let bad_number = f.contact("Typo", "0470 12", "BE").await;
    let sanctioned = f.contact("Pyongyang", "+850 2 381 2345", "BE").await;
    let field = |r: Result<_, AppError>| match r {
        Err(AppError::Validation(e)) => (e.field.clone(), e.text().to_string()),
        other => panic!("expected a validation error, got {other:?}"),
    };
    let (f1, _) = field(
        f.send(&worker, f.request("e1", "  ", vec![marc.clone()]))
            .await,
    );
    assert_eq!(f1, "body");
    let (f2, m2) = field(
        f.send(
            &worker,
            f.request("e2", &"a".repeat(1_531), vec![marc.clone()]),
        )
        .await,
    );
    assert_eq!(
        (f2.as_str(), m2.as_str()),
        ("body", "The message is too long: at most 1530 characters.")
    );
    let (f3, m3) = field(
        f.send(&worker, f.request("e3", "Hi", vec![bad_number]))
            .await,
    );
    assert_eq!(f3, "number");
    assert!(m3.contains("0470 12") && m3.contains("Typo"), "{m3}");
    let (_, m4) = field(
        f.send(&worker, f.request("e4", "Hi", vec![sanctioned]))
            .await,
    );
    assert_eq!(m4, "The destination country is not supported.");
    let (f5, _) = field(f.send(&worker, f.request("e5", "Hi", vec![])).await);
    assert_eq!(f5, "contact_ids");
    assert!(f.states().await.is_empty());
    assert_eq!(f.balance(account).await, (10_000, 0));
    f.check().await;
}

#[tokio::test]
async fn recipients_that_cannot_be_texted_are_left_out_and_recorded_and_the_others_go_out() {
    let f = fixture().await;
    let worker = f.worker(builtin(), quick());
    let account = f.account_with(10_000).await;
    let marc = f.belgian().await;
    let typo = f.contact("Typo", "0470 12", "BE").await;
    let sanctioned = f.contact("Pyongyang", "+850 2 381 2345", "BE").await;
    let request = SendRequest {
        recipients: vec![
            Ok(marc),
            Ok(typo.clone()),
            Err(NoNumber {
                contact_id: Some(f.contact_without_number("Nobody").await),
                name: "Nobody".into(),
            }),
            Ok(sanctioned),
        ],
        ..f.request("mixed", "Hi", vec![])
    };
    let queued = f.send(&worker, request.clone()).await.unwrap();
    assert_eq!((queued.queued, queued.credits.minor()), (1, BE_PART));
    let reasons: Vec<String> = queued
        .refused
        .iter()
        .map(|r| r.reason.to_string())
        .collect();
    assert_eq!(
        reasons,
        [
            "The number 0470 12 of Typo is not in a valid format.",
            "Nobody has no phone or mobile number.",
            "The destination country is not supported.",
        ]
    );
    let done = f.done(&worker, queued.batch_id).await;
    assert_eq!(
        (done.sent, done.failed, done.credits.minor()),
        (1, 3, BE_PART)
    );
    assert_eq!(f.balance(account).await, (10_000 - BE_PART, 0));
    let failures: Vec<(String, Option<String>, i64)> =
        sqlx::query_as("SELECT number, failure, cost FROM sms_messages ORDER BY id")
            .fetch_all(&f.pool)
            .await
            .unwrap();
    assert_eq!(
        failures,
        vec![
            ("+32470123456".into(), None, BE_PART),
            ("0470 12".into(), Some("wrong_number_format".into()), 0),
            (String::new(), Some("no_number".into()), 0),
            (
                "+850 2 381 2345".into(),
                Some("country_not_supported".into()),
                0
            ),
        ]
    );
    // The refused ones are in their contact's chatter too, as errors.
    let mut conn = f.pool.acquire().await.unwrap();
    let chatter = app::db::messages::of_record(&mut conn, "contact", typo.contact_id.unwrap())
        .await
        .unwrap();
    assert_eq!(chatter[0].body.plain(), "SMS not sent (1 SMS): Hi");
    assert_eq!(
        chatter[0].sms.as_ref().map(|s| s.state),
        Some(SmsState::Error)
    );
    drop(conn);
    // A retry of the same request answers the same, refusals included.
    assert_eq!(f.send(&worker, request).await.unwrap(), queued);
    f.check().await;
}

#[tokio::test]
async fn a_disabled_sms_account_queues_nothing() {
    let f = fixture().await;
    let worker = f.worker(builtin(), quick());
    let account = f.account_with(10_000).await;
    let token: String = sqlx::query_scalar("SELECT token FROM iap_accounts WHERE id = $1")
        .bind(account)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    edit_with(
        &f.ledger,
        app::domain::ledger::AccountEdit {
            account,
            name: "SMS".into(),
            token: format!("{token}+disabled"),
            companies: vec![],
        },
    )
    .await
    .unwrap();
    let marc = f.belgian().await;
    let err = f
        .send(&worker, f.request("off", "Hi", vec![marc]))
        .await
        .unwrap_err();
    assert_eq!(err, AppError::AccountDisabled);
    assert!(f.states().await.is_empty());
    assert_eq!(f.balance(account).await, (10_000, 0));
}

#[tokio::test]
async fn recording_a_message_twice_charges_it_once() {
    let f = fixture().await;
    // A worker that is never woken: this test records the answers itself.
    let idle = WorkerSettings {
        poll: Duration::from_secs(3_600),
        ..WorkerSettings::default()
    };
    let worker = f.worker(builtin(), idle);
    let account = f.account_with(10_000).await;
    let recipients = vec![
        f.belgian().await,
        f.contact("Deco", "0470 99 88 77", "BE").await,
    ];
    worker.tasks.shutdown(Duration::from_secs(5)).await;
    let queued = f
        .send(
            &Worker {
                queue: worker.queue.clone(),
                tasks: Tasks::new(),
            },
            f.request("twice", "Hi", recipients),
        )
        .await
        .unwrap();
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM sms_messages ORDER BY id")
        .fetch_all(&f.pool)
        .await
        .unwrap();
    let result = |message: i64, outcome: Result<String, String>| SmsResult {
        message,
        provider: "test".into(),
        outcome,
        description: "one SMS".into(),
        keep_alive: Duration::from_secs(3_600),
    };
    let sent = result(ids[0], Ok("ref-1".into()));
    assert_eq!(
        f.ledger.record_sms(sent.clone()).await.unwrap(),
        (SmsState::Sent, Credits::from_minor(BE_PART))
    );
    assert_eq!(
        f.ledger.record_sms(sent).await.unwrap(),
        (SmsState::Sent, Credits::from_minor(BE_PART))
    );
    // A later, different answer for the same message changes nothing either.
    assert_eq!(
        f.ledger
            .record_sms(result(ids[0], Err("late".into())))
            .await
            .unwrap(),
        (SmsState::Sent, Credits::from_minor(BE_PART))
    );
    assert_eq!(f.balance(account).await, (10_000 - BE_PART, BE_PART));
    f.check().await;
    f.ledger
        .record_sms(result(ids[1], Err("refused".into())))
        .await
        .unwrap();
    let token: String = sqlx::query_scalar("SELECT hold_token FROM sms_batches WHERE id = $1")
        .bind(queued.batch_id)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    f.ledger.close(&token).await.unwrap();
    f.ledger.close(&token).await.unwrap();
    assert_eq!(f.balance(account).await, (10_000 - BE_PART, 0));
    assert_eq!(
        f.hold_end(queued.batch_id).await,
        ("captured".into(), Some(BE_PART))
    );
    f.check().await;
}

/// A local gateway: what it received, how it answers (the statuses to return in turn, the
/// last one repeating), how long it takes, and what it does on each request.
#[derive(Clone, Default)]
struct Gateway {
    received: Arc<Mutex<Vec<(HeaderMap, serde_json::Value)>>>,
    statuses: Arc<Mutex<Vec<u16>>>,
    delay: Duration,
    /// Set: `delay` no longer applies.
    at_once: Arc<AtomicBool>,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
    on_request: Option<Arc<dyn Fn() + Send + Sync>>,
}

async fn gateway_handler(
    State(g): State<Gateway>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> (StatusCode, Json<serde_json::Value>) {
    g.received.lock().unwrap().push((headers, body.clone()));
    let now = g.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    g.most_in_flight.fetch_max(now, Ordering::SeqCst);
    if let Some(hook) = &g.on_request {
        hook();
    }
    if !g.at_once.load(Ordering::SeqCst) {
        tokio::time::sleep(g.delay).await;
    }
    g.in_flight.fetch_sub(1, Ordering::SeqCst);
    let status = {
        let mut statuses = g.statuses.lock().unwrap();
        if statuses.len() > 1 {
            statuses.remove(0)
        } else {
            statuses[0]
        }
    };
    let reference = format!("GW-{}", body["id"]);
    (
        StatusCode::from_u16(status).unwrap(),
        Json(serde_json::json!({ "reference": reference })),
    )
}

impl Gateway {
    /// Answers every later request without its delay.
    fn answer_at_once(&self) {
        self.at_once.store(true, Ordering::SeqCst);
    }
}

fn answering(statuses: &[u16]) -> Gateway {
    Gateway {
        statuses: Arc::new(Mutex::new(statuses.to_vec())),
        ..Gateway::default()
    }
}

/// Starts `gateway` on a free local port and returns a client for it.
async fn start_gateway(gateway: Gateway, attempts: u32, timeout: Duration) -> Arc<HttpGateway> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new()
        .route("/sms", axum::routing::post(gateway_handler))
        .with_state(gateway);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Arc::new(
        HttpGateway::new(GatewayConfig {
            url: format!("http://{addr}/sms"),
            token: Some("gw-secret".into()),
            timeout,
            attempts,
            backoff: Duration::from_millis(10),
        })
        .unwrap(),
    )
}

#[tokio::test]
async fn the_http_gateway_receives_each_message_as_json_and_its_reference_is_kept() {
    let f = fixture().await;
    let account = f.account_with(10_000).await;
    let gateway = answering(&[200]);
    let provider = start_gateway(gateway.clone(), 3, Duration::from_secs(5)).await;
    let worker = f.worker(provider, quick());
    let marc = f.belgian().await;
    let done = f
        .send_and_wait(&worker, f.request("gw", "Bonjour 👋", vec![marc]))
        .await;
    assert_eq!((done.sent, done.credits.minor()), (1, BE_PART));
    let received = gateway.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (headers, body) = &received[0];
    assert_eq!(headers["authorization"], "Bearer gw-secret");
    assert_eq!(
        headers["idempotency-key"],
        format!("iapd-sms-{}", body["id"])
    );
    assert_eq!(body["to"], "+32470123456");
    assert_eq!(body["body"], "Bonjour 👋");
    assert_eq!(body["encoding"], "UNICODE");
    assert_eq!(body["parts"], 1);
    let reference: String = sqlx::query_scalar("SELECT provider_reference FROM sms_messages")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(reference, format!("GW-{}", body["id"]));
    assert_eq!(f.balance(account).await, (10_000 - BE_PART, 0));
    f.check().await;
}

#[tokio::test]
async fn a_gateway_that_fails_then_recovers_gets_the_message_on_retry() {
    let f = fixture().await;
    f.account_with(10_000).await;
    let gateway = answering(&[503, 502, 200]);
    let provider = start_gateway(gateway.clone(), 3, Duration::from_secs(5)).await;
    let worker = f.worker(provider, quick());
    let done = f
        .send_and_wait(&worker, f.request("flaky", "Hi", vec![f.belgian().await]))
        .await;
    assert_eq!(done.sent, 1);
    assert_eq!(gateway.received.lock().unwrap().len(), 3);
    f.check().await;
}

/// Waits until `gateway` has received at least `n` requests.
async fn until_received(gateway: &Gateway, n: usize) {
    tokio::time::timeout(PATIENCE, async {
        while gateway.received.lock().unwrap().len() < n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_gateway_without_a_clear_answer_keeps_the_message_queued_and_held_until_it_has_one() {
    let f = fixture().await;
    let account = f.account_with(10_000).await;
    let gateway = answering(&[500]);
    let provider = start_gateway(gateway.clone(), 2, Duration::from_secs(5)).await;
    let worker = f.worker(provider, quick());
    let queued = f
        .send(&worker, f.request("down", "Hi", vec![f.belgian().await]))
        .await
        .unwrap();
    // Two rounds of two attempts, all 500: it may have gone out, so it is neither charged
    // nor freed; it waits, still held, and says why.
    until_received(&gateway, 4).await;
    let status = f.status(queued.batch_id).await;
    assert_eq!(
        (status.state, status.queued, status.sent, status.failed),
        (SmsBatchState::Pending, 1, 0, 0)
    );
    assert_eq!(f.balance(account).await, (10_000, BE_PART));
    assert_eq!(
        f.errors().await,
        vec![Some(
            "the SMS gateway answered 500 Internal Server Error".into()
        )]
    );
    // The gateway answers at last: charged once, the reason cleared.
    *gateway.statuses.lock().unwrap() = vec![200];
    let done = f.done(&worker, queued.batch_id).await;
    assert_eq!((done.sent, done.credits.minor()), (1, BE_PART));
    assert_eq!(f.balance(account).await, (10_000 - BE_PART, 0));
    assert_eq!(f.errors().await, vec![None]);
    let keys: std::collections::HashSet<String> = gateway
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|(headers, _)| headers["idempotency-key"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 1, "always the same key");
    assert_eq!(
        f.hold_end(queued.batch_id).await,
        ("captured".into(), Some(BE_PART))
    );
    f.check().await;
}

#[tokio::test]
async fn a_refusal_is_final_and_costs_nothing() {
    let f = fixture().await;
    let account = f.account_with(10_000).await;
    let refusing = answering(&[422]);
    let provider = start_gateway(refusing.clone(), 3, Duration::from_secs(5)).await;
    let worker = f.worker(provider, quick());
    let queued = f
        .send(&worker, f.request("refused", "Hi", vec![f.belgian().await]))
        .await
        .unwrap();
    let done = f.done(&worker, queued.batch_id).await;
    assert_eq!(
        (done.sent, done.failed, done.credits),
        (0, 1, Credits::ZERO)
    );
    assert_eq!(
        refusing.received.lock().unwrap().len(),
        1,
        "a 4xx is not retried"
    );
    assert_eq!(
        f.errors().await,
        vec![Some(
            "the SMS gateway answered 422 Unprocessable Entity".into()
        )]
    );
    assert_eq!(f.balance(account).await, (10_000, 0));
    assert_eq!(f.states().await, vec![("error".into(), 0)]);
    assert_eq!(f.hold_end(queued.batch_id).await, ("released".into(), None));
    f.check().await;
}

#[tokio::test]
async fn a_gateway_too_slow_to_answer_is_asked_again_by_the_same_key_and_charged_once() {
    let f = fixture().await;
    let account = f.account_with(10_000).await;
    // Answers after the client gave up, twice, then at once: the message may well have
    // gone out the first time, so it is only ever charged once, when the answer comes.
    let slow = Gateway {
        delay: Duration::from_secs(30),
        ..answering(&[200])
    };
    let provider = start_gateway(slow.clone(), 2, Duration::from_millis(200)).await;
    let worker = f.worker(provider, quick());
    let queued = f
        .send(&worker, f.request("slow", "Hi", vec![f.belgian().await]))
        .await
        .unwrap();
    // Two attempts, then a third: the first round gave up without an answer.
    until_received(&slow, 3).await;
    let waiting = f.status(queued.batch_id).await;
    assert_eq!((waiting.queued, waiting.credits), (1, Credits::ZERO));
    assert_eq!(f.balance(account).await, (10_000, BE_PART));
    assert_eq!(
        f.errors().await,
        vec![Some("the SMS gateway did not answer in time".into())]
    );
    slow.answer_at_once();
    let done = f.done(&worker, queued.batch_id).await;
    assert_eq!((done.sent, done.credits.minor()), (1, BE_PART));
    assert_eq!(f.balance(account).await, (10_000 - BE_PART, 0));
    assert_eq!(f.states().await, vec![("sent".into(), BE_PART)]);
    f.check().await;
}

#[tokio::test]
async fn a_batch_slower_than_its_hold_s_first_ttl_still_charges_every_message() {
    // Each message takes the gateway 25 minutes of ledger time: five of them outlive the
    // hour the hold was placed for, and each recorded one keeps it alive.
    let clock = ManualClock::at(1_700_000_000_000);
    let f = fixture_with_clock(clock.clock()).await;
    let account = f.account_with(10_000).await;
    let gateway = Gateway {
        on_request: Some(Arc::new(move || clock.advance(25 * 60_000))),
        ..answering(&[200])
    };
    let provider = start_gateway(gateway.clone(), 1, Duration::from_secs(5)).await;
    let one_at_a_time = WorkerSettings {
        concurrency: 1,
        ..quick()
    };
    let worker = f.worker(provider, one_at_a_time);
    let mut recipients = Vec::new();
    for i in 0..5 {
        recipients.push(
            f.contact(&format!("Slow {i}"), &format!("0470 12 34 5{i}"), "BE")
                .await,
        );
    }
    let queued = f
        .send(&worker, f.request("slow", "Hi", recipients))
        .await
        .unwrap();
    let done = f.done(&worker, queued.batch_id).await;
    assert_eq!((done.sent, done.credits.minor()), (5, 5 * BE_PART));
    assert_eq!(gateway.received.lock().unwrap().len(), 5);
    assert_eq!(f.balance(account).await, (10_000 - 5 * BE_PART, 0));
    assert_eq!(
        f.hold_end(queued.batch_id).await,
        ("captured".into(), Some(5 * BE_PART))
    );
    f.check().await;
}

#[tokio::test]
async fn five_hundred_recipients_go_out_eight_at_a_time_far_faster_than_one_by_one() {
    let f = fixture().await;
    let account = f.account_with(500 * BE_PART).await;
    let gateway = Gateway {
        delay: Duration::from_millis(200),
        ..answering(&[200])
    };
    let provider = start_gateway(gateway.clone(), 1, Duration::from_secs(5)).await;
    let worker = f.worker(provider, quick());
    let recipients: Vec<Recipient> = (0..500)
        .map(|i| Recipient {
            contact_id: None,
            name: format!("Recipient {i}"),
            number: format!(
                "+32 470 {:02} {:02} {:02}",
                i / 10_000,
                (i / 100) % 100,
                i % 100
            ),
            country: None,
        })
        .collect();
    let started = Instant::now();
    let queued = f
        .send(&worker, f.request("five-hundred", "Hello", recipients))
        .await
        .unwrap();
    let answered = started.elapsed();
    let done = f.done(&worker, queued.batch_id).await;
    let took = started.elapsed();
    eprintln!(
        "500 SMS with a 200 ms gateway, 8 at a time: queued in {answered:?}, done in {took:?}"
    );
    assert!(answered < Duration::from_secs(5), "queued in {answered:?}");
    assert_eq!((done.sent, done.credits.minor()), (500, 500 * BE_PART));
    assert_eq!(gateway.most_in_flight.load(Ordering::SeqCst), 8);
    // One by one would take 100 s.
    assert!(took < Duration::from_secs(30), "took {took:?}");
    assert_eq!(f.balance(account).await, (0, 0));
    f.check().await;
}

#[tokio::test]
async fn a_hold_that_expired_while_nothing_sent_is_placed_again_or_its_messages_fail() {
    let clock = ManualClock::at(1_700_000_000_000);
    let f = fixture_with_clock(clock.clock()).await;
    let account = f.account_with(10 * BE_PART).await;
    // The server stops right after queueing: nothing sends while the clock runs on.
    let stopped = f.worker(builtin(), quick());
    stopped.tasks.shutdown(Duration::from_secs(5)).await;
    let parked = Worker {
        queue: stopped.queue,
        tasks: Tasks::new(),
    };
    let first = f
        .send(
            &parked,
            f.request("parked-1", "Hi", vec![f.belgian().await]),
        )
        .await
        .unwrap();
    let second = f
        .send(
            &parked,
            f.request(
                "parked-2",
                "Hi",
                vec![f.contact("Deco", "0470 99 88 77", "BE").await],
            ),
        )
        .await
        .unwrap();
    clock.advance(2 * 3_600_000);
    f.ledger.sweep().await.unwrap();
    assert_eq!(
        f.balance(account).await,
        (10 * BE_PART, 0),
        "both holds expired"
    );
    // Meanwhile the account spends all but one message's worth elsewhere.
    credit_with(
        &f.ledger,
        account,
        EntryKind::Adjustment,
        Credits::from_minor(-9 * BE_PART),
        "spent elsewhere",
        None,
    )
    .await
    .unwrap();

    let worker = f.worker(builtin(), quick());
    let a = f.done(&worker, first.batch_id).await;
    let b = f.done(&worker, second.batch_id).await;
    let mut outcomes = [(a.sent, a.failed), (b.sent, b.failed)];
    outcomes.sort();
    assert_eq!(
        outcomes,
        [(0, 1), (1, 0)],
        "one held again and sent, one failed"
    );
    assert_eq!(f.balance(account).await, (0, 0));
    assert!(
        f.errors()
            .await
            .iter()
            .flatten()
            .any(|e| e.contains("can no longer cover it"))
    );
    f.check().await;
}

#[tokio::test]
async fn a_restart_long_after_the_hold_s_ttl_finds_the_batch_still_paid_for_and_sends_it() {
    let clock = ManualClock::at(1_700_000_000_000);
    let f = fixture_with_clock(clock.clock()).await;
    let account = f.account_with(10 * BE_PART).await;
    // The worker stops right after the batch is queued (the server goes down with it).
    let stopped = f.worker(builtin(), quick());
    stopped.tasks.shutdown(Duration::from_secs(5)).await;
    let parked = Worker {
        queue: stopped.queue,
        tasks: Tasks::new(),
    };
    let queued = f
        .send(&parked, f.request("down", "Hi", vec![f.belgian().await]))
        .await
        .unwrap();
    // Down for two hours, twice the hold's TTL: nothing could extend it meanwhile.
    let down = clock.clone();
    let f = f
        .restart_ledger(clock.clock(), move || down.advance(2 * 3_600_000))
        .await;
    f.ledger.sweep().await.unwrap();
    let expires_at: i64 = sqlx::query_scalar(
        "SELECT h.expires_at FROM holds h JOIN sms_batches b ON b.hold_token = h.token
         WHERE b.id = $1",
    )
    .bind(queued.batch_id)
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(
        expires_at,
        (clock.clock())() + 3_600_000,
        "a full TTL from the restart"
    );
    // Still reserved: the rest of the balance can be spent, not the batch's share.
    assert_eq!(f.balance(account).await, (10 * BE_PART, BE_PART));
    let everything = credit_with(
        &f.ledger,
        account,
        EntryKind::Adjustment,
        Credits::from_minor(-10 * BE_PART),
        "spent elsewhere",
        None,
    )
    .await;
    assert!(
        matches!(
            everything,
            Err(app::domain::ledger::LedgerError::InsufficientCredits { .. })
        ),
        "{everything:?}"
    );
    let worker = f.worker(builtin(), quick());
    let done = f.done(&worker, queued.batch_id).await;
    assert_eq!((done.sent, done.failed), (1, 0));
    assert_eq!(f.balance(account).await, (9 * BE_PART, 0));
    f.check().await;
}
