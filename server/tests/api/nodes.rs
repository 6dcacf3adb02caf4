//! Several iapd nodes serving one PostgreSQL database: each is a whole server of its own
//! (router, ledger writer, caches, background tasks), and they share nothing but the
//! database. The overdraft race spread over two nodes, a hold expiring once, a payment
//! confirmation delivered to both, a key rotated behind one node's back, and the background
//! work passing to the other node when its leader stops or crashes.
//!
//! On SQLite a database has one process (`owner`), so the tests that need two nodes check
//! that only on PostgreSQL (`make test` runs them there).

use crate::helpers::{TestApp, spawn_app_from, test_config};
use crate::iap_api::{ACCESS, INSUFFICIENT, USER, error_of, fails, key_for, ok, rpc, token_of};
use crate::mail::{Behaviour, SmtpServer};
use crate::payments::shop_with;
use serde_json::{Value, json};
use server::cli::{Command, run};
use server::config::Config;
use std::time::{Duration, Instant};

fn on_postgres(config: &Config) -> bool {
    config.database_url.starts_with("postgres")
}

async fn health(app: &TestApp) -> Value {
    let reply = app.get("/healthz", None).await;
    assert_eq!(reply.status, http::StatusCode::OK, "{}", reply.body);
    serde_json::from_str(&reply.body).expect("JSON")
}

/// The node's health once it runs the background work, or as it is after ten seconds.
pub(crate) async fn health_once_leading(app: &TestApp) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = health(app).await;
        if body["background"] == json!(true) || Instant::now() > deadline {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Two nodes on one fresh PostgreSQL database started from `config`, the first leading;
/// `None` on SQLite.
async fn two_nodes_from(config: Config, clock: app::clock::Clock) -> Option<(TestApp, TestApp)> {
    if !on_postgres(&config) {
        return None;
    }
    let a = spawn_app_from(config.clone(), clock.clone()).await;
    assert_eq!(health_once_leading(&a).await["background"], json!(true));
    let b = spawn_app_from(config, clock).await;
    Some((a, b))
}

async fn two_nodes(clock: app::clock::Clock) -> Option<(TestApp, TestApp, String)> {
    let config = test_config().await;
    let url = config.database_url.clone();
    let (a, b) = two_nodes_from(config, clock).await?;
    Some((a, b, url))
}

#[tokio::test]
async fn the_background_work_runs_on_one_node_and_passes_on_when_it_stops_or_crashes() {
    let Some((a, b, url)) = two_nodes(app::clock::system_clock()).await else {
        return;
    };
    // Two campaign rounds: the second node stays a follower while the first holds the lock.
    tokio::time::sleep(app::leader::CAMPAIGN_EVERY * 2).await;
    assert_eq!(health(&b).await["background"], json!(false));
    assert_eq!(health(&a).await["background"], json!(true));
    assert_eq!(b.get("/login", None).await.status, http::StatusCode::OK);

    a.stop().await;
    let taken = Instant::now();
    assert_eq!(health_once_leading(&b).await["background"], json!(true));
    assert!(
        taken.elapsed() < Duration::from_secs(5),
        "{:?}",
        taken.elapsed()
    );

    // A third node; the second crashes (no shutdown, its connections simply dropped).
    let config = Config {
        database_url: url,
        ..test_config().await
    };
    let c = spawn_app_from(config, app::clock::system_clock()).await;
    assert_eq!(health(&c).await["background"], json!(false));
    b.crash().await;
    assert_eq!(health_once_leading(&c).await["background"], json!(true));
}

/// Brings the account to exactly `credits` available through `server adjust`, which on
/// PostgreSQL writes through a ledger writer of its own while the nodes run.
async fn set_available(url: &str, node: &TestApp, token: &str, credits: i64) {
    let balance = ok(
        node,
        "/iap/1/balance",
        json!({"dbuuid": "x", "account_token": token, "service_name": "sms"}),
    )
    .await;
    let delta = credits as f64 - balance.as_f64().expect("a number");
    if delta == 0.0 {
        return;
    }
    let adjust = Command::Adjust {
        token: token.to_owned(),
        amount: format!("{delta}"),
        reason: "test reset".into(),
    };
    run(&adjust, url, &mut std::io::empty(), &mut Vec::new())
        .await
        .expect("adjusted");
}

async fn authorize(node: &TestApp, key: &str, token: &str, credit: i64) -> Value {
    rpc(
        node,
        "/iap/1/authorize",
        json!({"key": key, "account_token": token, "credit": credit}),
    )
    .await
}

#[tokio::test]
async fn the_overdraft_race_spread_over_two_nodes_never_spends_twice() {
    let Some((a, b, url)) = two_nodes(app::clock::system_clock()).await else {
        return;
    };
    let key = key_for(&a, "sms").await;
    let token = token_of(&a, "sms").await;
    let nodes = [&a, &b];
    for iteration in 0..100 {
        let covered = (iteration * 7) % 65; // 0 to 64 holds fit
        set_available(&url, nodes[iteration as usize % 2], &token, covered).await;
        let calls = (0..64).map(|i| authorize(nodes[i % 2], &key, &token, 1));
        let mut holds = Vec::new();
        for reply in futures::future::join_all(calls).await {
            match reply["result"].as_str() {
                Some(hold) => holds.push(hold.to_owned()),
                None => {
                    error_of(&reply, INSUFFICIENT);
                }
            }
        }
        assert_eq!(holds.len(), covered as usize, "iteration {iteration}");
        // Each hold ends on a node other than the one that placed it, or the same.
        let cancels = holds.iter().enumerate().map(|(i, hold)| {
            let params = json!({"key": key, "token": hold});
            ok(nodes[(i / 2) % 2], "/iap/1/cancel", params)
        });
        futures::future::join_all(cancels).await;
    }
    let held: i64 = sqlx::query_scalar("SELECT held FROM iap_accounts WHERE token = $1")
        .bind(&token)
        .fetch_one(&a.pool)
        .await
        .expect("held");
    assert_eq!(held, 0);
    let mut out = Vec::new();
    run(&Command::Check, &url, &mut std::io::empty(), &mut out)
        .await
        .expect("consistent");
    assert!(String::from_utf8_lossy(&out).starts_with("consistent"));
}

#[tokio::test]
async fn a_hold_placed_on_one_node_expires_once_for_both() {
    let clock = app::clock::ManualClock::at(app::clock::now_ms());
    let Some((a, b, _)) = two_nodes(clock.clock()).await else {
        return;
    };
    let key = key_for(&a, "sms").await;
    let token = token_of(&a, "sms").await;
    let params = json!({"key": key, "account_token": token, "credit": 2, "ttl": 1});
    let hold = ok(&a, "/iap/1/authorize", params).await;
    clock.advance(2 * 3_600_000);
    for node in [&b, &a] {
        let params = json!({"token": hold, "key": key});
        let message = fails(node, "/iap/1/capture", params, USER).await;
        assert!(message.contains("expired"), "{message}");
    }
    let expiries: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'expiry'")
            .fetch_one(&a.pool)
            .await
            .expect("count");
    assert_eq!(expiries, 1);
}

/// Whether `key` may charge the account on `node`: a hold of one credit, given back at
/// once. `Err` is the refusal.
async fn key_works(node: &TestApp, key: &str, token: &str) -> Result<(), Value> {
    let reply = authorize(node, key, token, 1).await;
    let Some(hold) = reply["result"].as_str() else {
        return Err(reply);
    };
    ok(node, "/iap/1/cancel", json!({"key": key, "token": hold})).await;
    Ok(())
}

#[tokio::test]
async fn a_key_replaced_behind_a_node_stops_working_there_within_the_cache_ttl() {
    let Some((a, b, _)) = two_nodes(app::clock::system_clock()).await else {
        return;
    };
    let old = key_for(&a, "sms").await;
    let token = token_of(&a, "sms").await;
    for node in [&a, &b] {
        key_works(node, &old, &token).await.expect("the key works");
    }
    // A new key, written to the database as another node's page would.
    let new = key_for(&a, "sms").await;
    let replaced = Instant::now();
    while let Ok(()) = key_works(&b, &old, &token).await {
        assert!(
            replaced.elapsed() < app::api_cache::TTL + Duration::from_secs(1),
            "the old key still works after {:?}",
            replaced.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = key_works(&b, &old, &token).await.expect_err("refused");
    error_of(&refused, ACCESS);
    key_works(&b, &new, &token)
        .await
        .expect("the new key works");
}

#[tokio::test]
async fn a_payment_confirmed_to_two_nodes_at_once_credits_once() {
    let mut config = None;
    let shop = shop_with(|c| config = Some(c.clone())).await;
    let config = config.expect("the shop's configuration");
    if !on_postgres(&config) {
        return;
    }
    let other = spawn_app_from(config, app::clock::system_clock()).await;
    let before = shop.balance().await;
    let (order, session) = shop.paid_without_webhook().await;
    let (body, signature) = shop
        .stripe
        .signed_event("checkout.session.completed", &session)
        .expect("event");
    let deliveries = (0..32).map(|i| {
        let node = if i % 2 == 0 { &shop.app } else { &other };
        reqwest::Client::new()
            .post(format!("{}/payment/stripe/webhook", node.address))
            .header("stripe-signature", signature.clone())
            .body(body.clone())
            .send()
    });
    for delivery in futures::future::join_all(deliveries).await {
        assert_eq!(delivery.expect("answer").status(), http::StatusCode::OK);
    }
    assert_eq!(shop.balance().await, before + 1_000_000);
    assert_eq!(shop.purchases_of(order).await, 1);
}

#[tokio::test]
async fn an_sms_sent_through_a_follower_is_sent_by_the_leader_and_answered_once_done() {
    let mut config = test_config().await;
    config.sms_api_wait_ms = 20_000;
    let Some((a, b)) = two_nodes_from(config, app::clock::system_clock()).await else {
        return;
    };
    let token = token_of(&a, "sms").await;
    let messages = json!([{"content": "Your order has shipped.",
                           "numbers": [{"uuid": format!("{:032x}", 1), "number": "+32470123456"}]}]);
    let params = json!({"account_token": token, "dbuuid": "6f8d1c2e-4b5a-4e3f-9a7b-0c1d2e3f4a5b",
                        "webhook_url": false, "messages": messages});
    let sent = Instant::now();
    let answer = ok(&b, "/api/sms/3/send", params).await;
    assert_eq!(
        answer,
        json!([{"uuid": format!("{:032x}", 1), "state": "success", "credit": 0.12}])
    );
    // The leader sent it within its poll; the follower saw it done long before its wait.
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(health(&b).await["background"], json!(false));
}

/// Both nodes spend from one account at once, across its Warn Me threshold: whichever
/// writer crosses it queues the mail, the other knows it was crossed, and the leader's
/// mail pass hands it to the SMTP server once.
#[tokio::test]
async fn a_threshold_crossed_by_spends_on_both_nodes_is_mailed_once() {
    let smtp = SmtpServer::start(Behaviour::Accept).await;
    let mut config = test_config().await;
    config.smtp_host = Some("127.0.0.1".into());
    config.smtp_port = Some(smtp.port);
    config.smtp_tls = app::mail::SmtpTls::None;
    let url = config.database_url.clone();
    let Some((a, b)) = two_nodes_from(config, app::clock::system_clock()).await else {
        return;
    };
    let key = key_for(&a, "sms").await;
    let token = token_of(&a, "sms").await;
    set_available(&url, &b, &token, 100).await;
    let admin = a.login("admin", "admin").await;
    let account = crate::warnings::sms(&a, &admin).await;
    let saved = crate::warnings::save(&a, &admin, account, true, "50", "ops@example.com").await;
    assert_eq!(saved.status, http::StatusCode::OK, "{}", saved.body);

    // 64 clients, half on each node, each spend one credit: from 100 down to 36.
    let nodes = [&a, &b];
    let spends = (0..64).map(|i| {
        let (node, key, token) = (nodes[i % 2], key.clone(), token.clone());
        async move {
            let hold = authorize(node, &key, &token, 1).await;
            let hold = hold["result"].as_str().expect("covered").to_owned();
            let params = json!({"key": key, "token": hold, "credit_to_capture": 1});
            ok(nodes[(i / 2) % 2], "/iap/1/capture", params).await;
        }
    });
    futures::future::join_all(spends).await;

    let deadline = Instant::now() + Duration::from_secs(20);
    while smtp.received().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Time for a second mail to arrive, if one were queued: the mail pass runs every second.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = smtp.received();
    assert_eq!(received.len(), 1, "one warning mail");
    assert_eq!(received[0].recipients, ["<ops@example.com>"]);
    assert!(
        received[0].data.contains("Low credits: SMS has"),
        "{}",
        received[0].data
    );
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox")
        .fetch_one(&a.pool)
        .await
        .expect("count");
    assert_eq!(queued, 1);
}
