//! Odoo's SMS API over the real router: the exact answers of Odoo 16 and 17+ sends, mixed
//! batches, credit, replays, tokens, the sender name, and delivery reports travelling from
//! the gateway through iapd to a stand-in for Odoo's `/sms/status`.

use crate::fake_sms_gateway::FakeGateway;
use crate::helpers::{TestApp, spawn_app, spawn_app_from, test_config};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DBUUID: &str = "6f8d1c2e-4b5a-4e3f-9a7b-0c1d2e3f4a5b";
/// A Belgian mobile: 0.12 credits per part.
const BE: &str = "+32470123456";
const BE_2: &str = "+32470998877";
const FR: &str = "+33612345678";
/// No US number starts with 355: not a valid number.
const BAD: &str = "+13556873262";
/// North Korea: iapd does not deliver there.
const KP: &str = "+85023812345";

/// Long enough for anything here; a test that waits longer has failed.
const PATIENCE: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(20);

fn uuid(n: u32) -> String {
    format!("{n:032x}")
}

/// Calls `path` as Odoo's `iap_jsonrpc` does and returns the whole answer, checking its
/// envelope.
async fn call(app: &TestApp, path: &str, params: Value) -> Value {
    let reply = reqwest::Client::new()
        .post(format!("{}{path}", app.address))
        .json(&json!({"jsonrpc": "2.0", "method": "call", "params": params, "id": 7}))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(reply.status(), reqwest::StatusCode::OK);
    let reply: Value = reply.json().await.expect("JSON");
    assert_eq!(
        (&reply["jsonrpc"], &reply["id"]),
        (&json!("2.0"), &json!(7))
    );
    reply
}

/// The result of a call that must succeed.
async fn result(app: &TestApp, path: &str, params: Value) -> Value {
    let reply = call(app, path, params).await;
    assert!(reply.get("error").is_none(), "unexpected error: {reply}");
    reply["result"].clone()
}

async fn sms_token(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT token FROM iap_accounts WHERE service = 'sms'")
        .fetch_one(&app.pool)
        .await
        .expect("sms account")
}

/// Balance and held amount of the SMS account.
async fn sms_figures(app: &TestApp) -> (i64, i64) {
    sqlx::query_as("SELECT balance, held FROM iap_accounts WHERE service = 'sms'")
        .fetch_one(&app.pool)
        .await
        .expect("sms account")
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

async fn check(app: &TestApp) {
    let mut conn = app.pool.acquire().await.expect("conn");
    assert_eq!(
        app::db::ledger::check(&mut conn).await.expect("check"),
        vec![]
    );
}

/// Odoo 17's parameters: `messages` grouped by content.
fn v3(token: &str, webhook: Value, messages: Value) -> Value {
    json!({
        "account_token": token,
        "dbuuid": DBUUID,
        "webhook_url": webhook,
        "messages": messages,
    })
}

fn numbers(list: &[(u32, &str)]) -> Value {
    Value::Array(
        list.iter()
            .map(|(n, number)| json!({"uuid": uuid(*n), "number": number}))
            .collect(),
    )
}

#[tokio::test]
async fn odoo_17_gets_one_entry_per_number_with_its_uuid_state_and_credit() {
    let app = spawn_app().await;
    let token = sms_token(&app).await;
    let before = sms_figures(&app).await;
    let answer = result(
        &app,
        "/api/sms/3/send",
        v3(
            &token,
            json!(false),
            json!([
                {"content": "Your order has shipped.", "numbers": numbers(&[(1, BE), (2, FR)])},
                {"content": "ж".repeat(71), "numbers": numbers(&[(3, BE_2)])},
            ]),
        ),
    )
    .await;
    assert_eq!(
        answer,
        json!([
            {"uuid": uuid(1), "state": "success", "credit": 0.12},
            {"uuid": uuid(2), "state": "success", "credit": 0.09},
            {"uuid": uuid(3), "state": "success", "credit": 0.24},
        ])
    );
    assert_eq!(sms_figures(&app).await, (before.0 - 4_500, 0));
    // The older route answers the same way.
    let again = result(
        &app,
        "/iap/sms/3/send",
        v3(
            &token,
            json!(false),
            json!([{"content": "Hi", "numbers": numbers(&[(4, BE)])}]),
        ),
    )
    .await;
    assert_eq!(
        again,
        json!([{"uuid": uuid(4), "state": "success", "credit": 0.12}])
    );
    check(&app).await;
}

#[tokio::test]
async fn odoo_16_gets_one_entry_per_message_with_its_res_id() {
    let app = spawn_app().await;
    let token = sms_token(&app).await;
    let answer = result(
        &app,
        "/iap/sms/2/send",
        json!({
            "account_token": token,
            "messages": [
                {"res_id": 41, "number": BE, "content": "Hello"},
                {"res_id": 42, "number": BAD, "content": "Hello"},
            ],
        }),
    )
    .await;
    assert_eq!(
        answer,
        json!([
            {"res_id": 41, "state": "success", "credit": 0.12},
            {"res_id": 42, "state": "wrong_number_format", "credit": 0.0},
        ])
    );
    check(&app).await;
}

#[tokio::test]
async fn a_mixed_batch_sends_the_good_numbers_and_answers_each_bad_one() {
    let app = spawn_app().await;
    let token = sms_token(&app).await;
    let before = sms_figures(&app).await;
    let chatter_before = count(&app, "SELECT COUNT(*) FROM messages").await;
    let answer = result(
        &app,
        "/api/sms/3/send",
        v3(
            &token,
            json!(false),
            json!([{"content": "Mixed", "numbers": numbers(&[(1, BE), (2, BAD), (3, KP), (4, FR)])}]),
        ),
    )
    .await;
    let states: Vec<&str> = answer
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["state"].as_str().expect("state"))
        .collect();
    assert_eq!(
        states,
        [
            "success",
            "wrong_number_format",
            "country_not_supported",
            "success"
        ]
    );
    assert_eq!(sms_figures(&app).await, (before.0 - 2_100, 0));
    // Kept in the SMS Outbox with the database and the number, not in any chatter.
    let rows: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT m.number, m.state, m.failure, b.dbuuid FROM sms_messages m
         JOIN sms_batches b ON b.id = m.batch_id ORDER BY m.id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("rows");
    assert_eq!(
        rows,
        vec![
            (BE.into(), "sent".into(), None, DBUUID.into()),
            (
                BAD.into(),
                "error".into(),
                Some("wrong_number_format".into()),
                DBUUID.into()
            ),
            (
                KP.into(),
                "error".into(),
                Some("country_not_supported".into()),
                DBUUID.into()
            ),
            (FR.into(), "sent".into(), None, DBUUID.into()),
        ]
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM messages").await,
        chatter_before
    );
    // The account's history names the database.
    let captures: Vec<String> = sqlx::query_scalar(
        "SELECT description FROM ledger_entries WHERE kind = 'capture' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("entries");
    assert_eq!(
        captures,
        [
            format!("SMS to {BE} (1 SMS) for database {DBUUID}"),
            format!("SMS to {FR} (1 SMS) for database {DBUUID}"),
        ]
    );
    check(&app).await;
}

#[tokio::test]
async fn a_batch_the_account_cannot_cover_is_refused_whole_and_charges_nothing() {
    let app = spawn_app().await;
    let token = sms_token(&app).await;
    let before = sms_figures(&app).await;
    // 10 trial credits; 23 UNICODE parts to Belgium cost 2.76: four numbers need 11.04.
    let long = "ж".repeat(1_530);
    let answer = result(
        &app,
        "/api/sms/3/send",
        v3(
            &token,
            json!(false),
            json!([{"content": long, "numbers": numbers(&[(1, BE), (2, BE_2), (3, BE), (4, BE_2), (5, BAD)])}]),
        ),
    )
    .await;
    let answer = answer.as_array().expect("list");
    assert_eq!(answer.len(), 5);
    assert!(
        answer
            .iter()
            .all(|e| e["state"] == "insufficient_credit" && e["credit"] == 0.0),
        "{answer:?}"
    );
    assert_eq!(sms_figures(&app).await, before);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sms_messages").await, 0);
    check(&app).await;
}

#[tokio::test]
async fn a_uuid_already_accepted_is_neither_sent_nor_charged_again() {
    let app = spawn_app().await;
    let token = sms_token(&app).await;
    let before = sms_figures(&app).await;
    let first = result(
        &app,
        "/api/sms/3/send",
        v3(
            &token,
            json!(false),
            json!([{"content": "Once", "numbers": numbers(&[(1, BE), (2, BAD)])}]),
        ),
    )
    .await;
    // Odoo retries the batch with one new number; the same id twice in a call counts once.
    let again = result(
        &app,
        "/api/sms/3/send",
        v3(
            &token,
            json!(false),
            json!([{"content": "Once", "numbers": numbers(&[(1, BE), (2, BAD), (3, FR), (3, FR)])}]),
        ),
    )
    .await;
    assert_eq!(again[0], first[0]);
    assert_eq!(again[1], first[1]);
    assert_eq!(
        again[2],
        json!({"uuid": uuid(3), "state": "success", "credit": 0.09})
    );
    assert_eq!(again[3], again[2]);
    assert_eq!(sms_figures(&app).await, (before.0 - 1_200 - 900, 0));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sms_messages").await, 3);
    check(&app).await;
}

#[tokio::test]
async fn an_unknown_or_disabled_token_is_unregistered_for_every_entry() {
    let app = spawn_app().await;
    let token = sms_token(&app).await;
    let batch = json!([{"content": "Hi", "numbers": numbers(&[(1, BE), (2, BAD)])}]);
    let unregistered = json!([
        {"uuid": uuid(1), "state": "unregistered", "credit": 0.0},
        {"uuid": uuid(2), "state": "unregistered", "credit": 0.0},
    ]);
    let unknown = result(
        &app,
        "/api/sms/3/send",
        v3("not-a-token", json!(false), batch.clone()),
    )
    .await;
    assert_eq!(unknown, unregistered);
    sqlx::query("UPDATE iap_accounts SET token = token || '+disabled' WHERE service = 'sms'")
        .execute(&app.pool)
        .await
        .expect("disable");
    for token in [token.clone(), format!("{token}+disabled")] {
        let disabled = result(
            &app,
            "/api/sms/3/send",
            v3(&token, json!(false), batch.clone()),
        )
        .await;
        assert_eq!(disabled, unregistered);
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sms_messages").await, 0);
}

#[tokio::test]
async fn malformed_batches_are_refused_whole_with_a_user_error() {
    let app = spawn_app().await;
    let token = sms_token(&app).await;
    for messages in [
        json!("not a list"),
        json!([{"numbers": numbers(&[(1, BE)])}]),
        json!([{"content": "Hi", "numbers": [{"uuid": "ABC", "number": BE}]}]),
        json!([{"content": "", "numbers": numbers(&[(1, BE)])}]),
        json!([{"content": "a".repeat(1_531), "numbers": numbers(&[(1, BE)])}]),
    ] {
        let reply = call(&app, "/api/sms/3/send", v3(&token, json!(false), messages)).await;
        assert_eq!(
            reply["error"]["data"]["name"], "odoo.exceptions.UserError",
            "{reply}"
        );
    }
    let reply = call(
        &app,
        "/api/sms/3/send",
        v3(
            &token,
            json!("ftp://odoo.example/sms/status"),
            json!([{"content": "Hi", "numbers": numbers(&[(1, BE)])}]),
        ),
    )
    .await;
    assert_eq!(reply["error"]["data"]["name"], "odoo.exceptions.UserError");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sms_messages").await, 0);
}

#[tokio::test]
async fn the_sender_name_is_checked_stored_reported_and_passed_to_the_gateway() {
    let gateway = FakeGateway::start().await;
    let mut config = test_config().await;
    config.sms_gateway_url = Some(gateway.url.clone());
    let app = spawn_app_from(config, app::clock::system_clock()).await;
    let token = sms_token(&app).await;
    let update = |name: &str| json!({"account_token": token, "sender_name": name});
    for bad in ["AB", "TwelveChars1", "My Shop", "Café"] {
        assert_eq!(
            result(&app, "/api/sms/1/account/update_sender", update(bad)).await,
            json!({"state": "format_error"}),
            "{bad}"
        );
    }
    assert_eq!(
        result(
            &app,
            "/api/sms/1/account/update_sender",
            json!({"account_token": "unknown", "sender_name": "Shop"})
        )
        .await,
        json!({"state": "unregistered_account"})
    );
    assert_eq!(
        result(&app, "/api/sms/1/account/update_sender", update("MyShop2")).await,
        json!({"state": "success"})
    );
    let info = result(
        &app,
        "/iap/1/get-accounts-information",
        json!({"dbuuid": DBUUID, "iap_accounts": [{"token": token, "service": "sms"}]}),
    )
    .await;
    assert_eq!(info[&token]["sender_name"], "MyShop2");
    result(
        &app,
        "/api/sms/3/send",
        v3(
            &token,
            json!(false),
            json!([{"content": "From the shop", "numbers": numbers(&[(1, BE)])}]),
        ),
    )
    .await;
    let received = gateway.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body["sender"], "MyShop2");
    assert_eq!(received[0].body["to"], BE);
}

/// A stand-in for an Odoo database's `/sms/status`: what it received, and how many calls
/// it refuses (503) before it is back.
#[derive(Clone, Default)]
struct Odoo {
    received: Arc<Mutex<Vec<Value>>>,
    down_for: Arc<Mutex<usize>>,
}

async fn sms_status(
    State(odoo): State<Odoo>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    {
        let mut down = odoo.down_for.lock().expect("lock");
        if *down > 0 {
            *down -= 1;
            return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({})));
        }
    }
    odoo.received.lock().expect("lock").push(body);
    (
        StatusCode::OK,
        Json(json!({"jsonrpc": "2.0", "id": null, "result": "OK"})),
    )
}

async fn start_odoo(odoo: Odoo) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let router = axum::Router::new()
        .route("/sms/status", axum::routing::post(sms_status))
        .with_state(odoo);
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/sms/status")
}

const SECRET: &str = "gateway-webhook-secret";

/// The gateway reports `reports` (`[{id, status}]`) with `secret`; returns the status.
async fn report(app: &TestApp, secret: &str, reports: Value) -> (reqwest::StatusCode, Value) {
    let reply = reqwest::Client::new()
        .post(format!("{}/sms/gateway/status", app.address))
        .bearer_auth(secret)
        .json(&reports)
        .send()
        .await
        .expect("the server answers");
    let status = reply.status();
    (status, reply.json().await.unwrap_or(Value::Null))
}

async fn message_id(app: &TestApp, n: u32) -> i64 {
    sqlx::query_scalar("SELECT id FROM sms_messages WHERE uuid = $1")
        .bind(uuid(n))
        .fetch_one(&app.pool)
        .await
        .expect("message")
}

/// Waits until Odoo has received `n` calls, and returns them.
async fn odoo_receives(odoo: &Odoo, n: usize) -> Vec<Value> {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let received = odoo.received.lock().expect("lock").clone();
            if received.len() >= n {
                return received;
            }
            tokio::time::sleep(POLL).await;
        }
    })
    .await
    .expect("Odoo receives its reports in time")
}

#[tokio::test]
async fn delivery_reports_reach_odoo_batched_by_status_even_after_it_was_down() {
    let odoo = Odoo {
        // Down for the first two calls: the reports wait and come again.
        down_for: Arc::new(Mutex::new(2)),
        ..Odoo::default()
    };
    let webhook = start_odoo(odoo.clone()).await;
    let mut config = test_config().await;
    config.sms_gateway_webhook_secret = Some(SECRET.parse().expect("secret"));
    config.sms_report_retry_seconds = 1;
    let app = spawn_app_from(config, app::clock::system_clock()).await;
    let token = sms_token(&app).await;
    let answer = result(
        &app,
        "/api/sms/3/send",
        v3(
            &token,
            json!(webhook),
            json!([{"content": "Tracked", "numbers": numbers(&[(1, BE), (2, BE_2), (3, FR)])}]),
        ),
    )
    .await;
    assert!(
        answer
            .as_array()
            .expect("list")
            .iter()
            .all(|e| e["state"] == "success")
    );
    let (one, two, three) = (
        message_id(&app, 1).await,
        message_id(&app, 2).await,
        message_id(&app, 3).await,
    );

    // Refused: no secret, a wrong one, or a status Odoo does not know.
    let good = json!([{"id": one, "status": "delivered"}]);
    assert_eq!(
        report(&app, "", good.clone()).await.0,
        reqwest::StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        report(&app, "guess", good.clone()).await.0,
        reqwest::StatusCode::UNAUTHORIZED
    );
    let (status, _) = report(&app, SECRET, json!([{"id": one, "status": "lost"}])).await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sms_reports").await, 0);

    let (status, body) = report(
        &app,
        SECRET,
        json!([
            {"id": one, "status": "delivered"},
            {"id": two, "status": "not_delivered"},
            {"id": three, "status": "delivered"},
            {"id": 999_999, "status": "delivered"},
        ]),
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_eq!(body, json!({"accepted": 3, "unknown": 1}));
    let received = odoo_receives(&odoo, 1).await;
    assert_eq!(
        received[0],
        json!({
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"message_statuses": [
                {"sms_status": "delivered", "uuids": [uuid(1), uuid(3)]},
                {"sms_status": "not_delivered", "uuids": [uuid(2)]},
            ]},
        })
    );
    // Odoo has it; iapd records so once the call returns.
    tokio::time::timeout(PATIENCE, async {
        while count(
            &app,
            "SELECT COUNT(*) FROM sms_reports WHERE state = 'queued'",
        )
        .await
            > 0
        {
            tokio::time::sleep(POLL).await;
        }
    })
    .await
    .expect("the reports are marked sent in time");
    let (attempts, state): (i64, String) =
        sqlx::query_as("SELECT MAX(attempts), MIN(state) FROM sms_reports")
            .fetch_one(&app.pool)
            .await
            .expect("reports");
    assert_eq!(
        (attempts, state.as_str()),
        (3, "sent"),
        "two refusals, then through"
    );

    // The same status again is no change; a new one is forwarded once.
    report(&app, SECRET, json!({"id": one, "status": "delivered"})).await;
    report(&app, SECRET, json!({"id": two, "status": "expired"})).await;
    let received = odoo_receives(&odoo, 2).await;
    assert_eq!(
        received[1]["params"]["message_statuses"],
        json!([{"sms_status": "expired", "uuids": [uuid(2)]}])
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sms_reports").await, 4);
}

/// Every status Odoo has received so far, by uuid, in the order received.
fn statuses(received: &[Value]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for call in received {
        for group in call["params"]["message_statuses"]
            .as_array()
            .expect("statuses")
        {
            for uuid in group["uuids"].as_array().expect("uuids") {
                out.push((
                    uuid.as_str().expect("uuid").to_owned(),
                    group["sms_status"].as_str().expect("status").to_owned(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// Waits until Odoo has received a status for `n` numbers, and returns them by uuid.
async fn odoo_hears_of(odoo: &Odoo, n: usize) -> Vec<(String, String)> {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let heard = statuses(&odoo.received.lock().expect("lock"));
            if heard.len() >= n {
                return heard;
            }
            tokio::time::sleep(POLL).await;
        }
    })
    .await
    .expect("Odoo hears of every number in time")
}

#[tokio::test]
async fn a_number_still_queued_is_answered_processing_and_its_outcome_reported_later() {
    let odoo = Odoo::default();
    let webhook = start_odoo(odoo.clone()).await;
    let gateway = FakeGateway::start().await;
    // The gateway keeps its answers until told to go on; the call does not wait for them.
    gateway.answer_only_first(0);
    gateway.refuse(BE_2);
    let mut config = test_config().await;
    config.sms_gateway_url = Some(gateway.url.clone());
    config.sms_gateway_attempts = 1;
    config.sms_api_wait_ms = 0;
    let app = spawn_app_from(config, app::clock::system_clock()).await;
    let token = sms_token(&app).await;
    let before = sms_figures(&app).await;
    let answer = result(
        &app,
        "/api/sms/3/send",
        v3(
            &token,
            json!(webhook),
            json!([{"content": "Later", "numbers": numbers(&[(1, BE), (2, BE_2)])}]),
        ),
    )
    .await;
    assert_eq!(
        answer,
        json!([
            {"uuid": uuid(1), "state": "processing", "credit": 0.0},
            {"uuid": uuid(2), "state": "processing", "credit": 0.0},
        ])
    );
    assert_eq!(
        sms_figures(&app).await,
        (before.0, 2_400),
        "held, not charged"
    );
    gateway.go_on();
    // One went out and is charged; the gateway refused the other, which is free.
    assert_eq!(
        odoo_hears_of(&odoo, 2).await,
        [
            (uuid(1), "sent".to_owned()),
            (uuid(2), "not_delivered".to_owned())
        ]
    );
    let settled = tokio::time::timeout(PATIENCE, async {
        loop {
            let figures = sms_figures(&app).await;
            if figures.1 == 0 {
                return figures;
            }
            tokio::time::sleep(POLL).await;
        }
    })
    .await
    .expect("the batch settles in time");
    assert_eq!(settled, (before.0 - 1_200, 0));
    // Asked again, the same ids answer what became of them, and cost nothing more.
    let again = result(
        &app,
        "/api/sms/3/send",
        v3(
            &token,
            json!(webhook),
            json!([{"content": "Later", "numbers": numbers(&[(1, BE), (2, BE_2)])}]),
        ),
    )
    .await;
    assert_eq!(
        again,
        json!([
            {"uuid": uuid(1), "state": "success", "credit": 0.12},
            {"uuid": uuid(2), "state": "server_error", "credit": 0.0},
        ])
    );
    assert_eq!(sms_figures(&app).await, settled);
    assert_eq!(gateway.delivered().len(), 1);
    check(&app).await;
}

#[tokio::test]
async fn without_a_webhook_a_number_still_queued_is_answered_success_and_charged_when_it_goes_out()
{
    let gateway = FakeGateway::start().await;
    gateway.answer_only_first(0);
    let mut config = test_config().await;
    config.sms_gateway_url = Some(gateway.url.clone());
    config.sms_api_wait_ms = 0;
    let app = spawn_app_from(config, app::clock::system_clock()).await;
    let token = sms_token(&app).await;
    let before = sms_figures(&app).await;
    let answer = result(
        &app,
        "/api/sms/3/send",
        v3(
            &token,
            json!(false),
            json!([{"content": "No webhook", "numbers": numbers(&[(1, BE)])}]),
        ),
    )
    .await;
    // Nothing could tell the database later: iapd has taken it, and answers so.
    assert_eq!(
        answer,
        json!([{"uuid": uuid(1), "state": "success", "credit": 0.0}])
    );
    gateway.go_on();
    let settled = tokio::time::timeout(PATIENCE, async {
        loop {
            let figures = sms_figures(&app).await;
            if figures.1 == 0 {
                return figures;
            }
            tokio::time::sleep(POLL).await;
        }
    })
    .await
    .expect("the batch settles in time");
    assert_eq!(settled, (before.0 - 1_200, 0));
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM sms_reports").await,
        0,
        "no report without a webhook"
    );
    check(&app).await;
}

#[tokio::test]
async fn a_client_that_hangs_up_mid_call_is_charged_once_and_its_retry_answers_the_same() {
    let gateway = FakeGateway::start().await;
    gateway.answer_only_first(0);
    let mut config = test_config().await;
    config.sms_gateway_url = Some(gateway.url.clone());
    config.sms_api_wait_ms = 30_000;
    let app = spawn_app_from(config, app::clock::system_clock()).await;
    let token = sms_token(&app).await;
    let before = sms_figures(&app).await;
    let params = v3(
        &token,
        json!(false),
        json!([{"content": "Hang up", "numbers": numbers(&[(1, BE), (2, FR)])}]),
    );
    let address = app.address.clone();
    let body = json!({"jsonrpc": "2.0", "method": "call", "params": params.clone(), "id": 7});
    let caller = tokio::spawn(async move {
        reqwest::Client::new()
            .post(format!("{address}/api/sms/3/send"))
            .json(&body)
            .send()
            .await
    });
    // Both messages are with the gateway, the call still waiting: Odoo gives up.
    tokio::time::timeout(PATIENCE, async {
        while gateway.held() < 2 {
            tokio::time::sleep(POLL).await;
        }
    })
    .await
    .expect("both messages reach the gateway in time");
    caller.abort();
    let _ = caller.await;
    gateway.go_on();
    let settled = tokio::time::timeout(PATIENCE, async {
        loop {
            let figures = sms_figures(&app).await;
            if figures.1 == 0 {
                return figures;
            }
            tokio::time::sleep(POLL).await;
        }
    })
    .await
    .expect("the batch settles in time");
    assert_eq!(settled, (before.0 - 1_200 - 900, 0));
    // Odoo sends the batch again: nothing more goes out or is charged.
    let again = result(&app, "/api/sms/3/send", params).await;
    assert_eq!(
        again,
        json!([
            {"uuid": uuid(1), "state": "success", "credit": 0.12},
            {"uuid": uuid(2), "state": "success", "credit": 0.09},
        ])
    );
    assert_eq!(sms_figures(&app).await, settled);
    assert_eq!(gateway.received().len(), 2, "each handed over once");
    check(&app).await;
}

#[tokio::test]
async fn a_gateway_that_answers_too_late_is_asked_again_by_the_same_key_and_charged_once() {
    let gateway = FakeGateway::start().await;
    // It sends the message at once but answers after iapd gave up waiting: the message
    // went out, so it must be charged, once.
    gateway.answer_late(1, Duration::from_secs(3));
    let mut config = test_config().await;
    config.sms_gateway_url = Some(gateway.url.clone());
    config.sms_gateway_timeout = 1;
    config.sms_gateway_attempts = 1;
    config.sms_api_wait_ms = 0;
    let app = spawn_app_from(config, app::clock::system_clock()).await;
    let token = sms_token(&app).await;
    let before = sms_figures(&app).await;
    let answer = result(
        &app,
        "/api/sms/3/send",
        v3(
            &token,
            json!(false),
            json!([{"content": "Late", "numbers": numbers(&[(1, BE)])}]),
        ),
    )
    .await;
    assert_eq!(answer[0]["state"], "success");
    let settled = tokio::time::timeout(PATIENCE, async {
        loop {
            let figures = sms_figures(&app).await;
            if figures.1 == 0 {
                return figures;
            }
            tokio::time::sleep(POLL).await;
        }
    })
    .await
    .expect("the batch settles in time");
    assert_eq!(settled, (before.0 - 1_200, 0), "charged once");
    let id = message_id(&app, 1).await;
    let key = format!("iapd-sms-{id}");
    assert_eq!(gateway.times_asked(&key), 2, "asked again by the same key");
    assert_eq!(gateway.delivered().len(), 1, "delivered once");
    let (state, credits, error): (String, i64, Option<String>) =
        sqlx::query_as("SELECT state, credits, error FROM sms_messages WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .expect("message");
    assert_eq!((state.as_str(), credits, error), ("sent", 1_200, None));
    check(&app).await;
}

#[tokio::test]
async fn a_newer_status_replaces_one_still_waiting_so_odoo_never_goes_back() {
    let odoo = Odoo {
        down_for: Arc::new(Mutex::new(usize::MAX)),
        ..Odoo::default()
    };
    let webhook = start_odoo(odoo.clone()).await;
    let mut config = test_config().await;
    config.sms_gateway_webhook_secret = Some(SECRET.parse().expect("secret"));
    config.sms_report_retry_seconds = 1;
    let app = spawn_app_from(config, app::clock::system_clock()).await;
    let token = sms_token(&app).await;
    result(
        &app,
        "/api/sms/3/send",
        v3(
            &token,
            json!(webhook),
            json!([{"content": "Tracked", "numbers": numbers(&[(1, BE)])}]),
        ),
    )
    .await;
    let id = message_id(&app, 1).await;
    report(&app, SECRET, json!({"id": id, "status": "sent"})).await;
    // Odoo is down: the report fails and waits for its next attempt.
    tokio::time::timeout(PATIENCE, async {
        while count(&app, "SELECT COUNT(*) FROM sms_reports WHERE attempts > 0").await == 0 {
            tokio::time::sleep(POLL).await;
        }
    })
    .await
    .expect("a first attempt in time");
    report(&app, SECRET, json!({"id": id, "status": "delivered"})).await;
    *odoo.down_for.lock().expect("lock") = 0;
    tokio::time::timeout(PATIENCE, async {
        while count(
            &app,
            "SELECT COUNT(*) FROM sms_reports WHERE state = 'sent'",
        )
        .await
            == 0
        {
            tokio::time::sleep(POLL).await;
        }
    })
    .await
    .expect("the report arrives in time");
    assert_eq!(
        statuses(&odoo.received.lock().expect("lock")),
        [(uuid(1), "delivered".to_owned())],
        "only the newest status, once"
    );
    let states: Vec<String> = sqlx::query_scalar("SELECT state FROM sms_reports ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .expect("reports");
    assert_eq!(states, ["superseded", "sent"]);
}

#[tokio::test]
async fn five_hundred_personalised_messages_fit_in_one_call_and_a_thousand_and_one_do_not() {
    let app = spawn_app().await;
    let token = sms_token(&app).await;
    // As Odoo sends a personalised mailing: one text per number, non-ASCII escaped.
    let messages: Vec<Value> = (0..500u32)
        .map(|n| {
            json!({
                "content": format!("Bonjour n°{n}, votre commande est expédiée. Merci et à bientôt ! {}", "é".repeat(100)),
                "numbers": numbers(&[(n, BE)]),
            })
        })
        .collect();
    let body = serde_json::to_string(&json!({
        "jsonrpc": "2.0", "method": "call", "id": 7,
        "params": v3(&token, json!(false), Value::Array(messages)),
    }))
    .expect("json");
    let escaped = body.replace('é', "\\u00e9").replace('°', "\\u00b0");
    assert!(escaped.len() > 200 * 1024, "{}", escaped.len());
    let reply: Value = reqwest::Client::new()
        .post(format!("{}/api/sms/3/send", app.address))
        .header("Content-Type", "application/json")
        .body(escaped)
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("JSON");
    let answers = reply["result"].as_array().expect("a result");
    assert_eq!(answers.len(), 500);
    // Ten trial credits do not cover 500 messages: none is sent, each is answered.
    assert!(answers.iter().all(|a| a["state"] == "insufficient_credit"));

    let too_many: Vec<(u32, &str)> = (0..1_001).map(|n| (n, BE)).collect();
    let reply = call(
        &app,
        "/api/sms/3/send",
        v3(
            &token,
            json!(false),
            json!([{"content": "Hi", "numbers": numbers(&too_many)}]),
        ),
    )
    .await;
    assert_eq!(reply["error"]["data"]["name"], "odoo.exceptions.UserError");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sms_messages").await, 0);
    check(&app).await;
}

#[tokio::test]
async fn sixteen_concurrent_copies_of_a_call_send_and_charge_each_number_once() {
    let app = spawn_app().await;
    let token = sms_token(&app).await;
    let before = sms_figures(&app).await;
    let params = v3(
        &token,
        json!(false),
        json!([{"content": "Once only", "numbers": numbers(&[(1, BE), (2, FR), (3, BAD)])}]),
    );
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let (address, params) = (app.address.clone(), params.clone());
            tokio::spawn(async move {
                let reply: Value = reqwest::Client::new()
                    .post(format!("{address}/api/sms/3/send"))
                    .json(&json!({"jsonrpc": "2.0", "method": "call", "params": params, "id": 1}))
                    .send()
                    .await
                    .expect("the server answers")
                    .json()
                    .await
                    .expect("JSON");
                reply["result"].clone()
            })
        })
        .collect();
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.expect("caller"));
    }
    // Whoever stored the batch saw its outcome; the others repeat it, as it stood then
    // (taken, and charged once it went out).
    for answer in &answers {
        let states: Vec<&str> = answer
            .as_array()
            .expect("a result")
            .iter()
            .map(|a| a["state"].as_str().expect("state"))
            .collect();
        assert_eq!(
            states,
            ["success", "success", "wrong_number_format"],
            "{answer}"
        );
    }
    let settled = tokio::time::timeout(PATIENCE, async {
        loop {
            let figures = sms_figures(&app).await;
            if figures.1 == 0 {
                return figures;
            }
            tokio::time::sleep(POLL).await;
        }
    })
    .await
    .expect("the batch settles in time");
    assert_eq!(settled, (before.0 - 1_200 - 900, 0));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sms_messages").await, 3);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sms_batches").await, 1);
    check(&app).await;
}
