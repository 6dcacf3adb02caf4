//! Alerts and webhooks over the real router (issue 17): further thresholds set by
//! administrators, the bell, and webhook deliveries posted to a receiver on a local port,
//! signed, retried while the receiver is down, and refused to private addresses.

use crate::helpers::{Reply, TestApp, spawn_app, spawn_app_from, test_config};
use app::error::AppError;
use app::models::{
    AccountAlerts, DeliveryState, IapAccount, Notifications, Webhook, WebhookDelivery,
};
use axum::http::{HeaderMap, StatusCode};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A webhook receiver on a local port: records every request, answers 200.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<(HeaderMap, String)>>>,
}

impl Receiver {
    /// Serves on `listener` until the test ends.
    fn serve(listener: tokio::net::TcpListener) -> Receiver {
        let receiver = Receiver::default();
        let state = receiver.clone();
        let router = axum::Router::new().route(
            "/hook",
            axum::routing::post(
                |axum::extract::State(r): axum::extract::State<Receiver>,
                 headers: HeaderMap,
                 body: String| async move {
                    r.received.lock().expect("lock").push((headers, body));
                    StatusCode::OK
                },
            )
            .with_state(state),
        );
        tokio::spawn(async move { axum::serve(listener, router).await });
        receiver
    }

    async fn start() -> (Receiver, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("address"));
        (Receiver::serve(listener), url)
    }

    fn received(&self) -> Vec<(HeaderMap, String)> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits for `n` requests, for at most ten seconds.
    async fn wait_for(&self, n: usize) -> Vec<(HeaderMap, String)> {
        for _ in 0..200 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the receiver got {} requests, not {n}",
            self.received().len()
        );
    }
}

/// iapd with webhooks to loopback allowed (the receiver is on one) and quick retries.
async fn app_for_webhooks() -> TestApp {
    let mut config = test_config().await;
    config.webhook_allow_private = true;
    config.webhook_retry_seconds = 1;
    spawn_app_from(config, app::clock::system_clock()).await
}

async fn add_webhook(app: &TestApp, cookie: &str, url: &str) -> Reply {
    app.call("admin/webhooks/add", &[("url", url)], Some(cookie))
        .await
}

async fn webhook(app: &TestApp, cookie: &str, id: i64) -> (Webhook, Vec<WebhookDelivery>) {
    let reply = app
        .call("admin/webhook", &[("id", &id.to_string())], Some(cookie))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    serde_json::from_str(&reply.body).expect("webhook")
}

fn id_of(reply: &Reply) -> i64 {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body.parse().expect("an id")
}

async fn sms_account(app: &TestApp, cookie: &str) -> IapAccount {
    let reply = app.call("iap/accounts", &[], Some(cookie)).await;
    let list: Vec<IapAccount> = serde_json::from_str(&reply.body).expect("accounts");
    list.into_iter()
        .find(|a| a.service == "sms")
        .expect("an SMS account")
}

async fn add_threshold(
    app: &TestApp,
    cookie: &str,
    account: i64,
    threshold: &str,
    emails: &str,
    (in_app, webhook): (bool, bool),
) -> Reply {
    app.call(
        "iap/alerts/add",
        &[
            ("id", &account.to_string()),
            ("threshold", threshold),
            ("emails", emails),
            ("in_app", &in_app.to_string()),
            ("webhook", &webhook.to_string()),
        ],
        Some(cookie),
    )
    .await
}

async fn bell(app: &TestApp, cookie: &str) -> Notifications {
    let reply = app.call("notifications", &[], Some(cookie)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    serde_json::from_str(&reply.body).expect("notifications")
}

/// Waits until the webhook's newest delivery satisfies `done`, for at most fifteen seconds.
async fn wait_for_delivery(
    app: &TestApp,
    cookie: &str,
    id: i64,
    done: impl Fn(&WebhookDelivery) -> bool,
) -> WebhookDelivery {
    for _ in 0..300 {
        let (_, log) = webhook(app, cookie, id).await;
        if let Some(newest) = log.first().filter(|d| done(d)) {
            return newest.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the delivery never got there: {:?}",
        webhook(app, cookie, id).await.1
    );
}

#[tokio::test]
async fn a_test_event_arrives_signed_with_the_webhooks_secret() {
    let app = app_for_webhooks().await;
    let admin = app.login("admin", "admin").await;
    let (receiver, url) = Receiver::start().await;
    let id = id_of(&add_webhook(&app, &admin, &url).await);
    let (hook, log) = webhook(&app, &admin, id).await;
    assert!(hook.active && hook.secret.starts_with("whsec_") && log.is_empty());
    let sent = app
        .call(
            "admin/webhooks/test",
            &[("id", &id.to_string())],
            Some(&admin),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let got = receiver.wait_for(1).await;
    let (headers, body) = &got[0];
    let signature = headers
        .get("iapd-signature")
        .and_then(|v| v.to_str().ok())
        .expect("a signature header");
    let now = app::clock::now_ms() / 1000;
    assert!(app::domain::webhook::verify(
        signature,
        body.as_bytes(),
        &hook.secret,
        now,
        300
    ));
    assert!(!app::domain::webhook::verify(
        signature,
        body.as_bytes(),
        "whsec_wrong",
        now,
        300
    ));
    let event: serde_json::Value = serde_json::from_str(body).expect("JSON");
    assert_eq!(event["type"], "webhook.test");
    assert_eq!(headers["content-type"], "application/json");
    let delivered =
        wait_for_delivery(&app, &admin, id, |d| d.state == DeliveryState::Delivered).await;
    assert_eq!((delivered.attempts, delivered.last_status), (1, Some(200)));
    // Posted once: a delivered event is not sent again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_crossing_reaches_a_receiver_that_was_down_once_it_is_back_and_only_once() {
    let app = app_for_webhooks().await;
    let admin = app.login("admin", "admin").await;
    // A port nobody listens on, for now.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let url = format!("http://127.0.0.1:{port}/hook");
    let id = id_of(&add_webhook(&app, &admin, &url).await);
    let account = sms_account(&app, &admin).await;
    // A threshold above the balance fires at once, to the bell and to the webhook.
    let added = add_threshold(&app, &admin, account.id, "1000000", "", (true, true)).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let failed = wait_for_delivery(&app, &admin, id, |d| {
        d.attempts >= 1 && d.last_error.is_some()
    })
    .await;
    assert_eq!(failed.state, DeliveryState::Pending, "tried again later");
    assert_eq!(failed.event_type, "credits.below_threshold");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("the port is free again");
    let receiver = Receiver::serve(listener);
    let delivered =
        wait_for_delivery(&app, &admin, id, |d| d.state == DeliveryState::Delivered).await;
    assert!(delivered.attempts >= 2, "{delivered:?}");
    let got = receiver.wait_for(1).await;
    let event: serde_json::Value = serde_json::from_str(&got[0].1).expect("JSON");
    assert_eq!(event["type"], "credits.below_threshold");
    assert_eq!(event["data"]["account"]["id"], account.id);
    assert_eq!(event["data"]["threshold"], "1000000");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(receiver.received().len(), 1, "delivered once");
    // The same crossing is on the bell, unread until opened.
    let notifications = bell(&app, &admin).await;
    assert_eq!(notifications.unread, 1);
    let newest = notifications.items[0].id;
    let read = app
        .call(
            "notifications/read",
            &[("up_to", &newest.to_string())],
            Some(&admin),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(bell(&app, &admin).await.unread, 0);
}

#[tokio::test]
async fn private_targets_are_refused_when_saved_and_when_posted() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]/x",
        "http://10.0.0.8/x",
    ] {
        let refused = add_webhook(&app, &admin, url).await;
        match refused.app_error() {
            AppError::Validation(e) => assert_eq!(e.field, "url", "{url}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    for url in [
        "ftp://example.com/x",
        "https://user:pw@example.com/",
        "not a url",
    ] {
        assert!(matches!(
            add_webhook(&app, &admin, url).await.app_error(),
            AppError::Validation(_)
        ));
    }
    // One that became private after it was saved (its name now points inside) is not
    // posted to either: the address is checked again at each delivery.
    let (receiver, url) = Receiver::start().await;
    let mut conn = app.pool.acquire().await.expect("conn");
    let id = app::db::webhooks::insert(&mut conn, &url, "whsec_x", None, 0)
        .await
        .expect("insert");
    drop(conn);
    app.call(
        "admin/webhooks/test",
        &[("id", &id.to_string())],
        Some(&admin),
    )
    .await;
    let refused = wait_for_delivery(&app, &admin, id, |d| d.attempts >= 1).await;
    assert!(
        refused
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("private address")),
        "{refused:?}"
    );
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn thresholds_are_checked_and_only_administrators_change_them_or_webhooks() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let demo = app.login("demo", "demo").await;
    let account = sms_account(&app, &admin).await.id;
    for (threshold, emails, channels, field) in [
        ("0", "", (true, false), "alert_threshold"),
        ("abc", "", (false, true), "alert_threshold"),
        ("5", "not-an-address", (true, true), "alert_emails"),
        // No address, no bell, no webhook: nobody would hear of it.
        ("5", "", (false, false), "alert_emails"),
    ] {
        let reply = add_threshold(&app, &admin, account, threshold, emails, channels).await;
        match reply.app_error() {
            AppError::Validation(e) => assert_eq!(e.field, field, "{threshold} {emails}"),
            other => panic!("{other:?}"),
        }
    }
    let id = id_of(
        &add_threshold(
            &app,
            &admin,
            account,
            "2",
            "ops@example.com",
            (false, false),
        )
        .await,
    );
    let read = app
        .call("iap/alerts", &[("id", &account.to_string())], Some(&demo))
        .await;
    let alerts: AccountAlerts = serde_json::from_str(&read.body).expect("alerts");
    assert!(!alerts.editable);
    assert_eq!(alerts.thresholds.len(), 1);
    assert_eq!(alerts.thresholds[0].emails, ["ops@example.com"]);
    // A user reads them, and cannot change them or see webhooks.
    let forbidden = [
        add_threshold(&app, &demo, account, "3", "", (true, false)).await,
        app.call(
            "iap/alerts/remove",
            &[("id", &account.to_string()), ("threshold", &id.to_string())],
            Some(&demo),
        )
        .await,
        app.call("admin/webhooks", &[], Some(&demo)).await,
        add_webhook(&app, &demo, "https://hooks.example.com/x").await,
    ];
    for reply in forbidden {
        assert_eq!(reply.app_error(), AppError::Forbidden, "{}", reply.body);
    }
    let removed = app
        .call(
            "iap/alerts/remove",
            &[("id", &account.to_string()), ("threshold", &id.to_string())],
            Some(&admin),
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    let again = app
        .call(
            "iap/alerts/remove",
            &[("id", &account.to_string()), ("threshold", &id.to_string())],
            Some(&admin),
        )
        .await;
    assert_eq!(again.app_error(), AppError::NotFound);
}
