//! Sending SMS against a real SQLite database (a fresh one per test) and, for the HTTP
//! gateway, a real HTTP server on a local port: what is charged, what is stored, and what
//! happens when credits, numbers or the provider fail.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use app::db::ledger as store;
use app::domain::contact::ValidContact;
use app::domain::credits::Credits;
use app::domain::ledger::EntryKind;
use app::error::AppError;
use app::ledger::Ledger;
use app::sms::{
    BuiltinProvider, GatewayConfig, HttpGateway, Recipient, SendRequest, Sender, SmsProvider,
};
use app::tasks::Tasks;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::{credit_with, edit_with};
use sqlx::SqlitePool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Fixture {
    pool: SqlitePool,
    ledger: Ledger,
    _tasks: Tasks,
    company: i64,
    user: i64,
}

async fn fixture() -> Fixture {
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
    let (ledger, tasks) = common::start_ledger(&pool, app::clock::system_clock()).await;
    Fixture {
        pool,
        ledger,
        _tasks: tasks,
        company,
        user,
    }
}

/// A Belgian mobile costs 0.12 credits per part.
const BE_PART: i64 = 1_200;

impl Fixture {
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
        sqlx::query_as("SELECT balance, held FROM iap_accounts WHERE id = ?")
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

    fn request(&self, key: &str, body: &str, recipients: Vec<Recipient>) -> SendRequest {
        SendRequest {
            author_id: self.user,
            company_id: self.company,
            request_key: format!("test-key-{key}"),
            body: body.into(),
            recipients,
        }
    }

    async fn send(
        &self,
        provider: &dyn SmsProvider,
        request: SendRequest,
    ) -> Result<app::models::SmsSent, AppError> {
        Sender {
            pool: &self.pool,
            ledger: &self.ledger,
            provider,
        }
        .send(request)
        .await
    }

    async fn check(&self) {
        let mut conn = self.pool.acquire().await.unwrap();
        store::check(&mut conn).await.unwrap();
    }
}

#[tokio::test]
async fn a_send_deducts_exactly_the_cost_and_logs_it_in_the_chatter() {
    let f = fixture().await;
    let account = f.account_with(10_000).await;
    let marc = f.belgian().await;
    let contact = marc.contact_id.unwrap();
    let long = "a".repeat(172); // two GSM-7 parts
    let sent = f
        .send(&BuiltinProvider, f.request("one", &long, vec![marc]))
        .await
        .unwrap();
    assert_eq!(
        (sent.sent, sent.failed, sent.credits.minor()),
        (1, 0, 2 * BE_PART)
    );
    assert_eq!(f.balance(account).await, (10_000 - 2 * BE_PART, 0));
    assert_eq!(f.states().await, vec![("sent".into(), 2 * BE_PART)]);
    let mut conn = f.pool.acquire().await.unwrap();
    let chatter = app::db::messages::of_record(&mut conn, "contact", contact)
        .await
        .unwrap();
    assert_eq!(chatter.len(), 1);
    assert_eq!(chatter[0].author_name, "Mitchell Admin");
    assert!(
        chatter[0]
            .body
            .starts_with("SMS to +32470123456 (2 SMS, 0.24 credits): aaa"),
        "{}",
        chatter[0].body
    );
    drop(conn);
    f.check().await;
}

#[tokio::test]
async fn without_enough_credits_nothing_is_sent_or_charged() {
    let f = fixture().await;
    let account = f.account_with(BE_PART - 1).await;
    let marc = f.belgian().await;
    let err = f
        .send(&BuiltinProvider, f.request("poor", "Hello", vec![marc]))
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
async fn a_batch_that_does_not_fit_sends_nothing() {
    let f = fixture().await;
    let account = f.account_with(2 * BE_PART).await;
    let mut recipients = vec![f.belgian().await];
    recipients.push(f.contact("Deco Addict", "+32 470 99 88 77", "BE").await);
    recipients.push(f.contact("Gemini", "+33 6 12 34 56 78", "FR").await);
    let err = f
        .send(
            &BuiltinProvider,
            f.request("batch", "Hi all", recipients.clone()),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::InsufficientCredits { required, .. } if required.minor() == 2 * BE_PART + 900)
    );
    assert!(f.states().await.is_empty());
    assert_eq!(f.balance(account).await, (2 * BE_PART, 0));

    f.account_with(900).await;
    let sent = f
        .send(&BuiltinProvider, f.request("batch-2", "Hi all", recipients))
        .await
        .unwrap();
    assert_eq!((sent.sent, sent.credits.minor()), (3, 2 * BE_PART + 900));
    assert_eq!(f.balance(account).await, (0, 0));
    f.check().await;
}

#[tokio::test]
async fn sixty_four_concurrent_sends_against_credits_for_ten_send_exactly_ten() {
    let f = Arc::new(fixture().await);
    let account = f.account_with(10 * BE_PART + BE_PART / 2).await;
    let marc = f.belgian().await;
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let f = f.clone();
            let marc = marc.clone();
            tokio::spawn(async move {
                f.send(
                    &BuiltinProvider,
                    f.request(&format!("race-{i}"), "Race", vec![marc]),
                )
                .await
            })
        })
        .collect();
    let mut sent = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(s) => sent += s.sent,
            Err(AppError::InsufficientCredits { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(sent, 10);
    assert_eq!(f.balance(account).await, (BE_PART / 2, 0));
    let states = f.states().await;
    assert_eq!(states.len(), 10);
    assert!(states.iter().all(|(s, c)| s == "sent" && *c == BE_PART));
    f.check().await;
}

#[tokio::test]
async fn a_retried_request_sends_once_and_gets_the_same_answer() {
    let f = fixture().await;
    let account = f.account_with(10_000).await;
    let marc = f.belgian().await;
    let first = f
        .send(
            &BuiltinProvider,
            f.request("retry", "Once", vec![marc.clone()]),
        )
        .await
        .unwrap();
    let again = f
        .send(&BuiltinProvider, f.request("retry", "Once", vec![marc]))
        .await
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(f.states().await.len(), 1);
    assert_eq!(f.balance(account).await, (10_000 - BE_PART, 0));
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_held() {
    let f = fixture().await;
    let account = f.account_with(10_000).await;
    let marc = f.belgian().await;
    let bad_number = f.contact("Typo", "0470 12", "BE").await;
    let sanctioned = f.contact("Pyongyang", "+850 2 381 2345", "BE").await;
    let field = |r: Result<_, AppError>| match r {
        Err(AppError::Validation(e)) => (e.field.clone(), e.text().to_string()),
        other => panic!("expected a validation error, got {other:?}"),
    };
    let (f1, _) = field(
        f.send(&BuiltinProvider, f.request("e1", "  ", vec![marc.clone()]))
            .await,
    );
    assert_eq!(f1, "body");
    let (f2, m2) = field(
        f.send(
            &BuiltinProvider,
            f.request("e2", &"a".repeat(1_531), vec![marc.clone()]),
        )
        .await,
    );
    assert_eq!(
        (f2.as_str(), m2.as_str()),
        ("body", "The message is too long: at most 1530 characters.")
    );
    let (f3, m3) = field(
        f.send(
            &BuiltinProvider,
            f.request("e3", "Hi", vec![marc.clone(), bad_number]),
        )
        .await,
    );
    assert_eq!(f3, "number");
    assert!(m3.contains("0470 12") && m3.contains("Typo"), "{m3}");
    let (_, m4) = field(
        f.send(&BuiltinProvider, f.request("e4", "Hi", vec![sanctioned]))
            .await,
    );
    assert_eq!(m4, "The destination country is not supported.");
    let (f5, _) = field(
        f.send(&BuiltinProvider, f.request("e5", "Hi", vec![]))
            .await,
    );
    assert_eq!(f5, "contact_ids");
    assert!(f.states().await.is_empty());
    assert_eq!(f.balance(account).await, (10_000, 0));
}

#[tokio::test]
async fn a_disabled_sms_account_sends_nothing() {
    let f = fixture().await;
    let account = f.account_with(10_000).await;
    let token: String = sqlx::query_scalar("SELECT token FROM iap_accounts WHERE id = ?")
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
        .send(&BuiltinProvider, f.request("off", "Hi", vec![marc]))
        .await
        .unwrap_err();
    assert_eq!(err, AppError::AccountDisabled);
    assert!(f.states().await.is_empty());
    assert_eq!(f.balance(account).await, (10_000, 0));
}

/// What a local gateway received, and how it answers: the statuses to return in turn
/// (the last one repeats), and an optional delay before answering.
#[derive(Clone, Default)]
struct Gateway {
    received: Arc<Mutex<Vec<(HeaderMap, serde_json::Value)>>>,
    statuses: Arc<Mutex<Vec<u16>>>,
    delay: Duration,
}

async fn gateway_handler(
    State(g): State<Gateway>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> (StatusCode, Json<serde_json::Value>) {
    g.received.lock().unwrap().push((headers, body.clone()));
    tokio::time::sleep(g.delay).await;
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

/// Starts `gateway` on a free local port and returns a client for it.
async fn start_gateway(gateway: Gateway, attempts: u32, timeout: Duration) -> HttpGateway {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new()
        .route("/sms", axum::routing::post(gateway_handler))
        .with_state(gateway);
    tokio::spawn(async move { axum::serve(listener, router).await });
    HttpGateway::new(GatewayConfig {
        url: format!("http://{addr}/sms"),
        token: Some("gw-secret".into()),
        timeout,
        attempts,
        backoff: Duration::from_millis(10),
    })
    .unwrap()
}

#[tokio::test]
async fn the_http_gateway_receives_each_message_as_json_and_its_reference_is_kept() {
    let f = fixture().await;
    let account = f.account_with(10_000).await;
    let gateway = Gateway {
        statuses: Arc::new(Mutex::new(vec![200])),
        ..Gateway::default()
    };
    let provider = start_gateway(gateway.clone(), 3, Duration::from_secs(5)).await;
    let marc = f.belgian().await;
    let sent = f
        .send(&provider, f.request("gw", "Bonjour 👋", vec![marc]))
        .await
        .unwrap();
    assert_eq!((sent.sent, sent.credits.minor()), (1, BE_PART));
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
}

#[tokio::test]
async fn a_gateway_that_fails_then_recovers_gets_the_message_on_retry() {
    let f = fixture().await;
    f.account_with(10_000).await;
    let gateway = Gateway {
        statuses: Arc::new(Mutex::new(vec![503, 502, 200])),
        ..Gateway::default()
    };
    let provider = start_gateway(gateway.clone(), 3, Duration::from_secs(5)).await;
    let sent = f
        .send(&provider, f.request("flaky", "Hi", vec![f.belgian().await]))
        .await
        .unwrap();
    assert_eq!(sent.sent, 1);
    assert_eq!(gateway.received.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_provider_failure_charges_nothing_and_keeps_the_message_as_an_error() {
    let f = fixture().await;
    let account = f.account_with(10_000).await;
    let gateway = Gateway {
        statuses: Arc::new(Mutex::new(vec![500])),
        ..Gateway::default()
    };
    let provider = start_gateway(gateway.clone(), 2, Duration::from_secs(5)).await;
    let err = f
        .send(&provider, f.request("down", "Hi", vec![f.belgian().await]))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "The SMS was not sent, and nothing was charged: the SMS gateway answered 500 Internal Server Error"
    );
    assert_eq!(gateway.received.lock().unwrap().len(), 2);
    assert_eq!(f.balance(account).await, (10_000, 0));
    assert_eq!(f.states().await, vec![("error".into(), 0)]);
    f.check().await;
}

#[tokio::test]
async fn a_refusal_is_final_and_a_silent_gateway_times_out() {
    let f = fixture().await;
    let account = f.account_with(10_000).await;
    let refusing = Gateway {
        statuses: Arc::new(Mutex::new(vec![422])),
        ..Gateway::default()
    };
    let provider = start_gateway(refusing.clone(), 3, Duration::from_secs(5)).await;
    f.send(
        &provider,
        f.request("refused", "Hi", vec![f.belgian().await]),
    )
    .await
    .unwrap_err();
    assert_eq!(
        refusing.received.lock().unwrap().len(),
        1,
        "a 4xx is not retried"
    );

    let silent = Gateway {
        statuses: Arc::new(Mutex::new(vec![200])),
        delay: Duration::from_secs(30),
        ..Gateway::default()
    };
    let provider = start_gateway(silent.clone(), 2, Duration::from_millis(200)).await;
    let err = f
        .send(
            &provider,
            f.request("silent", "Hi", vec![f.belgian().await]),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("the SMS gateway did not answer in time"),
        "{err}"
    );
    assert_eq!(silent.received.lock().unwrap().len(), 2);
    assert_eq!(f.balance(account).await, (10_000, 0));
    assert_eq!(
        f.states().await,
        vec![("error".into(), 0), ("error".into(), 0)]
    );
}
