//! The Odoo-compatible JSON-RPC service API, over the real router: exact answer shapes,
//! Odoo's `iap_charge` sequence, every bad input, and concurrent holds.

use crate::helpers::{PUBLIC_URL, TestApp, spawn_app, spawn_app_with_clock};
use app::auth::service_key::{key_hash, new_key};
use app::db::service_api::odoo_token_hash;
use app::domain::hosting::HostingType;
use app::domain::service::{NewPack, NewService};
use axum::body::Body;
use http::{Request, StatusCode, header};
use serde_json::{Value, json};

pub(crate) const INSUFFICIENT: &str = "odoo.addons.iap.tools.iap_tools.InsufficientCreditError";
pub(crate) const ACCESS: &str = "odoo.exceptions.AccessError";
pub(crate) const USER: &str = "odoo.exceptions.UserError";

pub(crate) async fn post_raw(
    app: &TestApp,
    path: &str,
    body: impl Into<Body>,
) -> (StatusCode, Value) {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .expect("request");
    let reply = app.send(req).await;
    let json = serde_json::from_str(&reply.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", reply.body));
    (reply.status, json)
}

/// Sends a JSON-RPC call as Odoo's `iap_jsonrpc` does; checks the envelope and the status.
pub(crate) async fn rpc(app: &TestApp, path: &str, params: Value) -> Value {
    let envelope = json!({"jsonrpc": "2.0", "method": "call", "params": params, "id": "abc123"});
    let (status, reply) = post_raw(app, path, envelope.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["jsonrpc"], "2.0");
    assert_eq!(reply["id"], "abc123");
    reply
}

/// The result of a call that must succeed.
pub(crate) async fn ok(app: &TestApp, path: &str, params: Value) -> Value {
    let reply = rpc(app, path, params).await;
    assert!(reply.get("error").is_none(), "unexpected error: {reply}");
    let object = reply.as_object().expect("object");
    assert_eq!(object.len(), 3, "exactly jsonrpc, id and result: {reply}");
    reply["result"].clone()
}

/// Checks the error member's exact shape; returns `data.message`.
pub(crate) fn error_of(reply: &Value, name: &str) -> String {
    assert!(reply.get("result").is_none(), "unexpected result: {reply}");
    let error = reply["error"].as_object().expect("error object");
    assert_eq!(error.len(), 3, "code, message, data: {reply}");
    assert_eq!(error["code"], 200);
    assert!(error["message"].is_string());
    let data = error["data"].as_object().expect("data");
    assert_eq!(data.len(), 2, "name and message: {reply}");
    assert_eq!(data["name"], name, "{reply}");
    data["message"].as_str().expect("message string").to_owned()
}

pub(crate) async fn fails(app: &TestApp, path: &str, params: Value, name: &str) -> String {
    let reply = rpc(app, path, params).await;
    error_of(&reply, name)
}

pub(crate) async fn key_for(app: &TestApp, service: &str) -> String {
    let key = new_key();
    let mut conn = app.pool.acquire().await.expect("conn");
    assert!(
        app::db::services::set_key_hash(&mut conn, service, &key_hash(&key))
            .await
            .expect("key")
    );
    key
}

pub(crate) async fn token_of(app: &TestApp, service: &str) -> String {
    sqlx::query_scalar("SELECT token FROM iap_accounts WHERE service = $1 ORDER BY id LIMIT 1")
        .bind(service)
        .fetch_one(&app.pool)
        .await
        .expect("token")
}

async fn balance(app: &TestApp, token: &str, service: &str) -> f64 {
    let result = ok(
        app,
        "/iap/1/balance",
        json!({"dbuuid": "x", "account_token": token, "service_name": service}),
    )
    .await;
    result.as_f64().expect("a number")
}

/// Everything the ledger holds, to show a refused call changed nothing.
async fn ledger_state(app: &TestApp) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM ledger_entries), (SELECT COUNT(*) FROM holds),
                (SELECT COALESCE(CAST(SUM(balance) AS BIGINT), 0) FROM iap_accounts),
                (SELECT COALESCE(CAST(SUM(held) AS BIGINT), 0) FROM iap_accounts)",
    )
    .fetch_one(&app.pool)
    .await
    .expect("state")
}

async fn register_fax(app: &TestApp, trial_credits: i64) -> String {
    let mut conn = app.pool.acquire().await.expect("conn");
    let fax = NewService {
        technical_name: "fax".into(),
        label: "Fax".into(),
        unit_name: "Pages".into(),
        trial_credits,
        packs: vec![NewPack {
            name: "Starter".into(),
            credits: 1_000_000,
            price: 900,
        }],
    };
    assert!(
        app::db::services::insert_third_party(&mut conn, &fax)
            .await
            .expect("fax")
    );
    drop(conn);
    key_for(app, "fax").await
}

#[tokio::test]
async fn odoo_iap_charge_sequence_authorize_then_capture_less_spends_exactly_that() {
    let app = spawn_app().await;
    let key = key_for(&app, "sms").await;
    let account = token_of(&app, "sms").await;
    assert_eq!(balance(&app, &account, "sms").await, 10.0);

    let transaction = ok(
        &app,
        "/iap/1/authorize",
        json!({"key": key, "account_token": account, "credit": 2.5,
               "description": "SMS to +32 470 12 34 56", "dbuuid": "db-1", "ttl": 4320}),
    )
    .await;
    let transaction = transaction.as_str().expect("a token string").to_owned();
    assert!(transaction.len() > 20);
    assert_eq!(balance(&app, &account, "sms").await, 7.5);

    let captured = ok(
        &app,
        "/iap/1/capture",
        json!({"token": transaction, "key": key, "credit_to_capture": 0.0536}),
    )
    .await;
    assert_eq!(captured, json!(0.0536));
    assert_eq!(balance(&app, &account, "sms").await, 9.9464);

    // A retried capture answers the same and spends nothing more.
    let again = ok(
        &app,
        "/iap/1/capture",
        json!({"token": transaction, "key": key, "credit_to_capture": 0.0536}),
    )
    .await;
    assert_eq!(again, json!(0.0536));
    assert_eq!(balance(&app, &account, "sms").await, 9.9464);
    let stored: i64 = sqlx::query_scalar("SELECT balance FROM iap_accounts WHERE token = $1")
        .bind(&account)
        .fetch_one(&app.pool)
        .await
        .expect("balance");
    assert_eq!(stored, 99_464);
}

#[tokio::test]
async fn authorize_then_cancel_leaves_the_balance_unchanged_and_cancel_is_idempotent() {
    let app = spawn_app().await;
    let key = key_for(&app, "sms").await;
    let account = token_of(&app, "sms").await;
    let transaction = ok(
        &app,
        "/iap/1/authorize",
        json!({"key": key, "account_token": account, "credit": 3, "description": null}),
    )
    .await;
    assert_eq!(balance(&app, &account, "sms").await, 7.0);
    for _ in 0..2 {
        let result = ok(
            &app,
            "/iap/1/cancel",
            json!({"token": transaction, "key": key}),
        )
        .await;
        assert_eq!(result, json!(true));
    }
    assert_eq!(balance(&app, &account, "sms").await, 10.0);
    let message = fails(
        &app,
        "/iap/1/capture",
        json!({"token": transaction, "key": key}),
        USER,
    )
    .await;
    assert!(message.contains("cancel"), "{message}");
}

#[tokio::test]
async fn capturing_without_an_amount_spends_the_whole_hold() {
    let app = spawn_app().await;
    let key = key_for(&app, "sms").await;
    let account = token_of(&app, "sms").await;
    let transaction = ok(
        &app,
        "/iap/1/authorize",
        json!({"key": key, "account_token": account, "credit": 4}),
    )
    .await;
    let captured = ok(
        &app,
        "/iap/1/capture",
        json!({"token": transaction, "key": key, "credit_to_capture": null}),
    )
    .await;
    assert_eq!(captured, json!(4.0));
    assert_eq!(balance(&app, &account, "sms").await, 6.0);
}

#[tokio::test]
async fn asking_for_more_than_the_balance_is_an_insufficient_credit_error_odoo_can_read() {
    let app = spawn_app().await;
    let key = key_for(&app, "sms").await;
    let account = token_of(&app, "sms").await;
    let before = ledger_state(&app).await;
    let message = fails(
        &app,
        "/iap/1/authorize",
        json!({"key": key, "account_token": account, "credit": 10.5}),
        INSUFFICIENT,
    )
    .await;
    let info: Value = serde_json::from_str(&message).expect("data.message is a JSON string");
    assert_eq!(
        info,
        json!({
            "credit": 10.5,
            "service_name": "sms",
            "base_url": format!("{PUBLIC_URL}/iap/1/credit"),
            "message": "You don't have enough credits on your account to use this service.",
        })
    );
    assert_eq!(ledger_state(&app).await, before);
}

#[tokio::test]
async fn an_unknown_account_of_a_service_still_in_trial_is_told_to_start_its_trial() {
    let app = spawn_app().await;
    let key = register_fax(&app, 50_000).await;
    let message = fails(
        &app,
        "/iap/1/authorize",
        json!({"key": key, "account_token": "no-such-account-token-xyz", "credit": 1}),
        INSUFFICIENT,
    )
    .await;
    let info: Value = serde_json::from_str(&message).expect("JSON");
    assert_eq!(info["trial"], true);
    assert_eq!(info["service_name"], "fax");
    assert_eq!(info["credit"], 1.0);

    // Without trial credits, an unknown account is an access error.
    let sms = key_for(&app, "sms").await;
    fails(
        &app,
        "/iap/1/authorize",
        json!({"key": sms, "account_token": "no-such-account-token-xyz", "credit": 1}),
        ACCESS,
    )
    .await;
}

#[tokio::test]
async fn every_bad_input_gets_its_error_name_and_leaves_the_ledger_unchanged() {
    let app = spawn_app().await;
    let key = key_for(&app, "sms").await;
    let snailmail = key_for(&app, "snailmail").await;
    let account = token_of(&app, "sms").await;
    let other_account = token_of(&app, "snailmail").await;
    let before = ledger_state(&app).await;

    let authorize = |extra: Value| {
        let mut params = json!({"key": key, "account_token": account, "credit": 1});
        for (k, v) in extra.as_object().expect("object") {
            if v.is_null() {
                params.as_object_mut().expect("object").remove(k);
            } else {
                params[k] = v.clone();
            }
        }
        params
    };
    let cases: Vec<(Value, &str)> = vec![
        (authorize(json!({"credit": "1"})), USER),
        (authorize(json!({"credit": null})), USER),
        (authorize(json!({"credit": 0})), USER),
        (authorize(json!({"credit": -1})), USER),
        (authorize(json!({"credit": 0.00001})), USER),
        (authorize(json!({"credit": 1e300})), USER),
        (authorize(json!({"ttl": "long"})), USER),
        (authorize(json!({"ttl": 0})), USER),
        (authorize(json!({"description": 42})), USER),
        (authorize(json!({"dbuuid": ["x"]})), USER),
        (authorize(json!({"account_token": 42})), USER),
        (authorize(json!({"key": null})), ACCESS),
        (authorize(json!({"key": ""})), ACCESS),
        (authorize(json!({"key": "not-a-key"})), ACCESS),
        (authorize(json!({"key": snailmail})), ACCESS),
        (authorize(json!({"account_token": null})), ACCESS),
        (
            authorize(json!({"account_token": "unknown-token-1234567890"})),
            ACCESS,
        ),
        (authorize(json!({"account_token": other_account})), ACCESS),
    ];
    for (params, name) in cases {
        let reply = rpc(&app, "/iap/1/authorize", params.clone()).await;
        error_of(&reply, name);
        assert_eq!(ledger_state(&app).await, before, "{params}");
    }

    let raw_cases: Vec<(String, Value)> = vec![
        ("{not json".into(), Value::Null),
        ("[1, 2]".into(), Value::Null),
        (
            r#"{"jsonrpc": "2.0", "method": "call", "id": 7}"#.into(),
            json!(7),
        ),
        (
            r#"{"jsonrpc": "2.0", "method": "call", "params": [1], "id": 8}"#.into(),
            json!(8),
        ),
        (
            r#"{"jsonrpc": "1.0", "params": {}, "id": 9}"#.into(),
            json!(9),
        ),
        ("x".repeat(100 * 1024), Value::Null),
    ];
    for (body, id) in raw_cases {
        let (status, reply) = post_raw(&app, "/iap/1/authorize", body.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(reply["id"], id);
        error_of(&reply, USER);
        assert_eq!(
            ledger_state(&app).await,
            before,
            "{}",
            &body[..body.len().min(60)]
        );
    }
    // A large but well-formed envelope is refused the same way, before it is parsed.
    let huge = json!({"jsonrpc": "2.0", "params": {"key": key, "account_token": account,
                      "credit": 1, "description": "y".repeat(100 * 1024)}, "id": 1});
    let (status, reply) = post_raw(&app, "/iap/1/authorize", huge.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(error_of(&reply, USER).contains("too large"));
    assert_eq!(ledger_state(&app).await, before);
}

#[tokio::test]
async fn captures_and_cancels_refuse_strangers_and_amounts_above_the_hold() {
    let app = spawn_app().await;
    let key = key_for(&app, "sms").await;
    let snailmail = key_for(&app, "snailmail").await;
    let account = token_of(&app, "sms").await;
    let transaction = ok(
        &app,
        "/iap/1/authorize",
        json!({"key": key, "account_token": account, "credit": 2}),
    )
    .await;
    let before = ledger_state(&app).await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/iap/1/capture",
            json!({"token": transaction, "key": key, "credit_to_capture": 2.0001}),
            USER,
        ),
        (
            "/iap/1/capture",
            json!({"token": transaction, "key": key, "credit_to_capture": -1}),
            USER,
        ),
        (
            "/iap/1/capture",
            json!({"token": transaction, "key": key, "credit_to_capture": "2"}),
            USER,
        ),
        (
            "/iap/1/capture",
            json!({"token": transaction, "key": snailmail}),
            ACCESS,
        ),
        ("/iap/1/capture", json!({"token": transaction}), ACCESS),
        ("/iap/1/capture", json!({"key": key}), ACCESS),
        (
            "/iap/1/capture",
            json!({"token": "1.nope", "key": key}),
            ACCESS,
        ),
        (
            "/iap/1/capture",
            json!({"token": "garbage", "key": key}),
            ACCESS,
        ),
        (
            "/iap/1/cancel",
            json!({"token": transaction, "key": snailmail}),
            ACCESS,
        ),
        (
            "/iap/1/cancel",
            json!({"token": "99999.nope", "key": key}),
            ACCESS,
        ),
        ("/iap/1/cancel", json!({"token": 5, "key": key}), USER),
    ];
    for (path, params, name) in cases {
        let reply = rpc(&app, path, params.clone()).await;
        error_of(&reply, name);
        assert_eq!(ledger_state(&app).await, before, "{path} {params}");
    }
    // The hold survived every refusal.
    let captured = ok(
        &app,
        "/iap/1/capture",
        json!({"token": transaction, "key": key, "credit_to_capture": 2}),
    )
    .await;
    assert_eq!(captured, json!(2.0));
    // A different amount on a captured hold is a conflict, and changes nothing.
    let before = ledger_state(&app).await;
    fails(
        &app,
        "/iap/1/capture",
        json!({"token": transaction, "key": key, "credit_to_capture": 1}),
        USER,
    )
    .await;
    fails(
        &app,
        "/iap/1/cancel",
        json!({"token": transaction, "key": key}),
        USER,
    )
    .await;
    assert_eq!(ledger_state(&app).await, before);
}

#[tokio::test]
async fn capturing_after_the_hold_expired_is_refused() {
    let clock = app::clock::ManualClock::at(app::clock::now_ms());
    let app = spawn_app_with_clock(clock.clock()).await;
    let key = key_for(&app, "sms").await;
    let account = token_of(&app, "sms").await;
    let transaction = ok(
        &app,
        "/iap/1/authorize",
        json!({"key": key, "account_token": account, "credit": 2, "ttl": 1}),
    )
    .await;
    clock.advance(2 * 3_600_000);
    let message = fails(
        &app,
        "/iap/1/capture",
        json!({"token": transaction, "key": key}),
        USER,
    )
    .await;
    assert!(message.contains("expired"), "{message}");
    let held: i64 = sqlx::query_scalar("SELECT held FROM iap_accounts WHERE token = $1")
        .bind(&account)
        .fetch_one(&app.pool)
        .await
        .expect("held");
    assert_eq!(held, 0);
    // Cancelling an expired hold is harmless.
    let result = ok(
        &app,
        "/iap/1/cancel",
        json!({"token": transaction, "key": key}),
    )
    .await;
    assert_eq!(result, json!(true));
}

#[tokio::test]
async fn a_disabled_account_is_refused_with_an_access_error() {
    let app = spawn_app().await;
    let key = key_for(&app, "sms").await;
    let account = token_of(&app, "sms").await;
    let admin = app.login("admin", "admin").await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM iap_accounts WHERE token = $1")
        .bind(&account)
        .fetch_one(&app.pool)
        .await
        .expect("id");
    let disabled = format!("{account}+disabled");
    let saved = app
        .call(
            "iap/admin/save",
            &[
                ("id", &id.to_string()),
                ("name", "SMS"),
                ("token", &disabled),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let before = ledger_state(&app).await;
    for token in [&account, &disabled] {
        let message = fails(
            &app,
            "/iap/1/authorize",
            json!({"key": key, "account_token": token, "credit": 1}),
            ACCESS,
        )
        .await;
        assert!(message.contains("disabled"), "{message}");
    }
    fails(
        &app,
        "/iap/1/balance",
        json!({"dbuuid": "x", "account_token": account, "service_name": "sms"}),
        ACCESS,
    )
    .await;
    assert_eq!(ledger_state(&app).await, before);
}

#[tokio::test]
async fn concurrent_authorizes_against_a_balance_for_ten_give_exactly_ten_tokens() {
    let app = spawn_app().await;
    let key = key_for(&app, "sms").await;
    let account = token_of(&app, "sms").await;
    let mut calls = Vec::new();
    for i in 0..64 {
        let url = format!("{}/iap/1/authorize", app.address);
        let body = json!({"jsonrpc": "2.0", "method": "call", "id": i,
                          "params": {"key": key, "account_token": account, "credit": 1}});
        calls.push(tokio::spawn(async move {
            let res = reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .expect("the server answers");
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.expect("JSON")
        }));
    }
    let mut tokens = 0;
    let mut refused = 0;
    for call in calls {
        let reply = call.await.expect("task");
        if reply["result"].is_string() {
            tokens += 1;
        } else {
            error_of(&reply, INSUFFICIENT);
            refused += 1;
        }
    }
    assert_eq!((tokens, refused), (10, 54));
    assert_eq!(balance(&app, &account, "sms").await, 0.0);
}

#[tokio::test]
async fn balance_is_a_number_and_refuses_unknown_accounts_and_wrong_services() {
    let app = spawn_app().await;
    let account = token_of(&app, "sms").await;
    let result = ok(
        &app,
        "/iap/1/balance",
        json!({"dbuuid": "x", "account_token": account, "service_name": "sms"}),
    )
    .await;
    assert_eq!(result, json!(10.0));
    let before = ledger_state(&app).await;
    for (params, name) in [
        (
            json!({"dbuuid": "x", "account_token": account, "service_name": "snailmail"}),
            ACCESS,
        ),
        (
            json!({"dbuuid": "x", "account_token": "unknown-token-1234567890", "service_name": "sms"}),
            ACCESS,
        ),
        (json!({"dbuuid": "x", "service_name": "sms"}), ACCESS),
        (json!({"dbuuid": "x", "account_token": account}), USER),
        (
            json!({"dbuuid": 5, "account_token": account, "service_name": "sms"}),
            USER,
        ),
    ] {
        fails(&app, "/iap/1/balance", params, name).await;
    }
    assert_eq!(ledger_state(&app).await, before);
}

#[tokio::test]
async fn accounts_information_answers_each_known_token_with_its_balance() {
    let app = spawn_app().await;
    let sms = token_of(&app, "sms").await;
    let ocr = token_of(&app, "invoice_ocr").await;
    let result = ok(
        &app,
        "/iap/1/get-accounts-information",
        json!({"dbuuid": "x", "iap_accounts": [
            {"token": sms, "service": "sms"},
            {"token": ocr, "service": "invoice_ocr"},
            {"token": "unknown-token-1234567890", "service": "sms"},
            {"token": sms, "service": "snailmail"},
        ]}),
    )
    .await;
    let accounts = result.as_object().expect("an object by token");
    assert_eq!(accounts.len(), 2, "{result}");
    for token in [&sms, &ocr] {
        let info = &result[token.as_str()];
        assert_eq!(info["balance"], 10.0);
        assert_eq!(info["registered"], "registered");
        assert_eq!(info["warning_threshold"], 0.0);
        assert_eq!(info["auto_refill_threshold"], 0.0);
        assert_eq!(info["auto_refill_pack_id"], false);
        assert_eq!(info["service"]["packs"].as_array().map(Vec::len), Some(4));
    }
    // Odoo lists the packs to choose the auto-refill pack from: the SMS Starter Pack first.
    assert_eq!(
        result[sms.as_str()]["service"]["packs"][0],
        json!({"id": 1, "name": "Starter Pack", "credit": 10.0, "price": 10.0})
    );
    for bad in [
        json!({"dbuuid": "x"}),
        json!({"dbuuid": "x", "iap_accounts": {"token": sms}}),
        json!({"dbuuid": "x", "iap_accounts": [{"token": sms}]}),
        json!({"dbuuid": "x", "iap_accounts": [{"token": 1, "service": "sms"}]}),
    ] {
        fails(&app, "/iap/1/get-accounts-information", bad, USER).await;
    }
}

#[tokio::test]
async fn an_online_database_refuses_third_party_services_everywhere() {
    let app = spawn_app().await;
    let key = register_fax(&app, 0).await;
    let admin = app.login("admin", "admin").await;
    let store = app.call("iap/accounts", &[], Some(&admin)).await;
    assert!(!store.body.contains("\"fax\""));
    // An account for fax, as an operator would open it.
    let token = "fax-account-token-0123456789";
    sqlx::query("INSERT INTO iap_accounts (service, name, token, balance, created_at) VALUES ('fax', 'Fax', $1, 0, 0)")
        .bind(token)
        .execute(&app.pool)
        .await
        .expect("account");
    assert_eq!(balance(&app, token, "fax").await, 0.0);

    // Changing the hosting type takes effect at once: the API's cache is told.
    app.get("/?debug=1", Some(&admin)).await;
    let hosting = app
        .call(
            "services/hosting_type",
            &[("hosting", HostingType::Online.as_str())],
            Some(&admin),
        )
        .await;
    assert_eq!(hosting.status, StatusCode::OK, "{}", hosting.body);
    let message = fails(
        &app,
        "/iap/1/authorize",
        json!({"key": key, "account_token": token, "credit": 1}),
        ACCESS,
    )
    .await;
    assert!(message.contains("not offered"), "{message}");
    fails(
        &app,
        "/iap/1/balance",
        json!({"dbuuid": "x", "account_token": token, "service_name": "fax"}),
        ACCESS,
    )
    .await;
    let info = ok(
        &app,
        "/iap/1/get-accounts-information",
        json!({"dbuuid": "x", "iap_accounts": [{"token": token, "service": "fax"}]}),
    )
    .await;
    assert_eq!(info, json!({}));
    let listed = app.call("iap/accounts", &[], Some(&admin)).await;
    assert!(!listed.body.contains("\"fax\""), "{}", listed.body);
    // First-party services still work.
    let sms = token_of(&app, "sms").await;
    assert_eq!(balance(&app, &sms, "sms").await, 10.0);
}

#[tokio::test]
async fn the_api_ignores_cookies_and_other_sites_origins() {
    let app = spawn_app().await;
    let account = token_of(&app, "sms").await;
    let body = json!({"jsonrpc": "2.0", "method": "call", "id": 1,
                      "params": {"dbuuid": "x", "account_token": account, "service_name": "sms"}});
    let req = Request::post("/iap/1/balance")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ORIGIN, "https://odoo.example")
        .header("sec-fetch-site", "cross-site")
        .header(header::COOKIE, "iapd_session=forged")
        .body(Body::from(body.to_string()))
        .expect("request");
    let reply = app.send(req).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let json: Value = serde_json::from_str(&reply.body).expect("JSON");
    assert_eq!(json["result"], json!(10.0));
    assert!(reply.headers.get(header::SET_COOKIE).is_none());
}

async fn account_id(app: &TestApp, token: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM iap_accounts WHERE token = $1")
        .bind(token)
        .fetch_one(&app.pool)
        .await
        .expect("id")
}

#[tokio::test]
async fn the_credit_link_sends_a_signed_in_user_to_the_store_asking_for_the_amount() {
    let app = spawn_app().await;
    let token = token_of(&app, "sms").await;
    let id = account_id(&app, &token).await;
    let demo = app.login("demo", "demo").await;
    let link = format!("/iap/1/credit?dbuuid=x&service_name=sms&account_token={token}&credit=12.5");
    let reply = app.get(&link, Some(&demo)).await;
    assert!(reply.status.is_redirection(), "{}", reply.status);
    assert_eq!(
        reply.location(),
        Some(format!("/iap-accounts/{id}/buy?credit=12.5").as_str())
    );
    // A credit that is not an amount is dropped rather than passed on.
    let odd = format!("/iap/1/credit?service_name=sms&account_token={token}&credit=%3Cscript%3E");
    let reply = app.get(&odd, Some(&demo)).await;
    assert_eq!(
        reply.location(),
        Some(format!("/iap-accounts/{id}/buy").as_str())
    );
}

#[tokio::test]
async fn the_credit_link_accepts_odoo_19s_sha1_of_the_token() {
    let app = spawn_app().await;
    let token = token_of(&app, "sms").await;
    let id = account_id(&app, &token).await;
    let admin = app.login("admin", "admin").await;
    let link = format!(
        "/iap/1/credit?dbuuid=x&service_name=sms&account_token={}&hashed=1",
        odoo_token_hash(&token)
    );
    let reply = app.get(&link, Some(&admin)).await;
    assert_eq!(
        reply.location(),
        Some(format!("/iap-accounts/{id}/buy").as_str())
    );
    // The plain token is not a hash.
    let wrong = format!("/iap/1/credit?service_name=sms&account_token={token}&hashed=1");
    assert_eq!(
        app.get(&wrong, Some(&admin)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_credit_link_makes_a_visitor_log_in_first_and_comes_back() {
    let app = spawn_app().await;
    let token = token_of(&app, "sms").await;
    let link = format!("/iap/1/credit?service_name=sms&account_token={token}&credit=3");
    let reply = app.get(&link, None).await;
    assert!(reply.status.is_redirection());
    let location = reply.location().expect("location");
    assert!(
        location.starts_with("/login?next=%2Fiap%2F1%2Fcredit")
            || location.starts_with("/login?next=/iap/1/credit"),
        "{location}"
    );
    assert!(location.contains(&token), "{location}");
}

#[tokio::test]
async fn an_unknown_or_foreign_account_gets_a_clear_page_not_a_crash() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    for link in [
        "/iap/1/credit?service_name=sms&account_token=nope-nope-nope-nope-nope".to_owned(),
        "/iap/1/credit".to_owned(),
        format!(
            "/iap/1/credit?service_name=snailmail&account_token={}",
            token_of(&app, "sms").await
        ),
    ] {
        let reply = app.get(&link, Some(&demo)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{link}");
        assert!(reply.body.contains("Unknown IAP account"), "{}", reply.body);
        assert!(reply.body.contains("href=\"/iap-accounts\""));
    }
}

async fn outbox_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox")
        .fetch_one(&app.pool)
        .await
        .expect("outbox")
}

async fn accounts_information(app: &TestApp, token: &str) -> Value {
    let result = ok(
        app,
        "/iap/1/get-accounts-information",
        json!({"dbuuid": "x", "iap_accounts": [{"token": token, "service": "sms"}]}),
    )
    .await;
    result[token].clone()
}

#[tokio::test]
async fn odoo_18_sets_the_email_alert_and_reads_its_threshold_back() {
    let app = spawn_app().await;
    let sms = token_of(&app, "sms").await;
    let params = json!({
        "account_token": sms,
        "warning_threshold": 25.5,
        "warning_emails": [
            {"email": "ops@example.com", "lang_code": "en_US"},
            {"email": "boss@example.com", "lang_code": "fr_FR"},
        ],
    });
    assert_eq!(
        ok(&app, "/iap/1/update-warning-email-alerts", params).await,
        json!(true)
    );
    assert_eq!(
        accounts_information(&app, &sms).await["warning_threshold"],
        25.5
    );
    // 10 credits is already below 25.5: turning the alert on warns at once, once, each
    // address in its user's language (one mail per language).
    assert_eq!(outbox_count(&app).await, 2);
    let recipients: Vec<String> =
        sqlx::query_scalar("SELECT recipients FROM mail_outbox ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .expect("mail");
    assert_eq!(
        recipients,
        [r#"["ops@example.com"]"#, r#"["boss@example.com"]"#]
    );

    // Clearing the recipients turns it off; Odoo reads 0 as "no alert".
    let off = json!({"account_token": sms, "warning_threshold": 25.5, "warning_emails": []});
    assert_eq!(
        ok(&app, "/iap/1/update-warning-email-alerts", off).await,
        json!(true)
    );
    assert_eq!(
        accounts_information(&app, &sms).await["warning_threshold"],
        0.0
    );
    assert_eq!(outbox_count(&app).await, 2, "turning it off mails nobody");
}

#[tokio::test]
async fn odoo_17_updates_only_the_fields_it_sends_and_lists_its_services() {
    let app = spawn_app().await;
    let sms = token_of(&app, "sms").await;
    let set = json!({
        "account_token": sms, "dbuuid": "x",
        "warn_me": true, "warning_threshold": 3, "warning_email": "ops@example.com",
    });
    assert_eq!(ok(&app, "/iap/update-warning-odoo", set).await, json!(true));
    // Only the threshold changes; Warn Me and the address stay.
    let raise = json!({"account_token": sms, "dbuuid": "x", "warn_me": null, "warning_threshold": 4.5, "warning_email": null});
    assert_eq!(
        ok(&app, "/iap/update-warning-odoo", raise).await,
        json!(true)
    );

    let services = ok(
        &app,
        "/iap/services-token",
        json!({"dbuuid": "x", "iap_accounts": [sms, "unknown-token-1234567890"]}),
    )
    .await;
    let list = services.as_array().expect("a list");
    assert_eq!(list.len(), 1);
    let info = list[0].as_object().expect("an object");
    assert_eq!(info["account_token"], sms.as_str());
    assert_eq!(info["service_name"], "sms");
    assert_eq!(info["balance"], 10.0);
    assert_eq!(info["warn_me"], true);
    assert_eq!(info["warning_threshold"], 4.5);
    assert_eq!(info["warning_email"], "ops@example.com");
    assert_eq!(info["unit_name"], "Credits");
    assert_eq!(info["account_uuid_hashed"], odoo_token_hash(&sms).as_str());
    assert!(
        info["description"]
            .as_str()
            .is_some_and(|d| d.contains("SMS"))
    );
    assert_eq!(info.len(), 9);
}

#[tokio::test]
async fn warning_updates_with_bad_input_change_nothing() {
    let app = spawn_app().await;
    let sms = token_of(&app, "sms").await;
    let bad_address = json!({"account_token": sms, "warning_threshold": 5, "warning_emails": [{"email": "not-an-address"}]});
    let message = fails(
        &app,
        "/iap/1/update-warning-email-alerts",
        bad_address,
        USER,
    )
    .await;
    assert!(message.contains("not-an-address"), "{message}");
    let negative = json!({"account_token": sms, "warn_me": true, "warning_threshold": -1, "warning_email": "a@example.com"});
    fails(&app, "/iap/update-warning-odoo", negative, USER).await;
    let zero = json!({"account_token": sms, "warn_me": true, "warning_threshold": 0, "warning_email": "a@example.com"});
    fails(&app, "/iap/update-warning-odoo", zero, USER).await;
    let wrong_type = json!({"account_token": sms, "warn_me": "yes"});
    fails(&app, "/iap/update-warning-odoo", wrong_type, USER).await;
    let unknown = json!({"account_token": "unknown-token-1234567890", "warning_threshold": 5, "warning_emails": []});
    fails(&app, "/iap/1/update-warning-email-alerts", unknown, ACCESS).await;
    fails(
        &app,
        "/iap/services-token",
        json!({"iap_accounts": "nope"}),
        USER,
    )
    .await;
    assert_eq!(
        accounts_information(&app, &sms).await["warning_threshold"],
        0.0
    );
    assert_eq!(outbox_count(&app).await, 0);
}

#[tokio::test]
async fn the_token_only_warning_calls_are_rate_limited_and_mail_at_most_once_an_hour() {
    let app = spawn_app().await;
    let sms = token_of(&app, "sms").await;
    let on = json!({"account_token": sms, "warning_threshold": 50, "warning_emails": [{"email": "a@example.com"}]});
    let off = json!({"account_token": sms, "warning_threshold": 0, "warning_emails": []});
    let limit = app::domain::throttle::MAX_WARNING_CHANGES;
    for i in 0..limit {
        let params = if i % 2 == 0 { on.clone() } else { off.clone() };
        assert_eq!(
            ok(&app, "/iap/1/update-warning-email-alerts", params).await,
            json!(true)
        );
    }
    // The next call, on either route, is refused with a clear message and changes nothing.
    let message = fails(&app, "/iap/1/update-warning-email-alerts", on.clone(), USER).await;
    assert!(message.contains("wait a minute"), "{message}");
    let odoo_17 = json!({"account_token": sms, "warn_me": true});
    fails(&app, "/iap/update-warning-odoo", odoo_17, USER).await;
    assert_eq!(
        accounts_information(&app, &sms).await["warning_threshold"],
        0.0,
        "the last accepted call turned the warning off"
    );
    // Five toggles on below the threshold queued one mail.
    assert_eq!(outbox_count(&app).await, 1);
    // Another account is not affected.
    let ocr = token_of(&app, "invoice_ocr").await;
    let other = json!({"account_token": ocr, "warning_threshold": 0, "warning_emails": []});
    assert_eq!(
        ok(&app, "/iap/1/update-warning-email-alerts", other).await,
        json!(true)
    );
}
