//! Auto-recharge over the real router: Odoo's `update-auto-refill-settings` and what
//! `get-accounts-information` reads back, the settings and card saved through the server
//! functions, and a spend over the service API that crosses the threshold and makes the
//! running server buy the pack with the saved card.

use crate::helpers::{PUBLIC_URL, TestApp, spawn_app};
use crate::iap_api::{ACCESS, USER, fails, key_for, ok, token_of};
use http::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

const ROUTE: &str = "/iap/1/update-auto-refill-settings";

async fn information(app: &TestApp, token: &str) -> Value {
    let result = ok(
        app,
        "/iap/1/get-accounts-information",
        json!({"dbuuid": "x", "iap_accounts": [{"token": token, "service": "sms"}]}),
    )
    .await;
    result[token].clone()
}

async fn account_id(app: &TestApp, token: &str) -> String {
    let id: i64 = sqlx::query_scalar("SELECT id FROM iap_accounts WHERE token = $1")
        .bind(token)
        .fetch_one(&app.pool)
        .await
        .expect("id");
    id.to_string()
}

/// Auto-recharge below 5 credits buying the SMS Starter Pack (€10) within `cap` euros.
async fn save_settings(app: &TestApp, admin: &str, id: &str, cap: &str) -> crate::helpers::Reply {
    let form = [
        ("id", id),
        ("threshold", "5"),
        ("pack", "1"),
        ("monthly_cap", cap),
    ];
    app.call("iap/auto-recharge/save", &form, Some(admin)).await
}

async fn orders(app: &TestApp) -> Vec<(String, i64, bool)> {
    let rows: Vec<(String, i64, app::db::Flag)> =
        sqlx::query_as("SELECT state, amount, auto_recharge FROM orders ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .expect("orders");
    rows.into_iter().map(|(s, a, f)| (s, a, f.into())).collect()
}

#[tokio::test]
async fn odoo_sets_the_auto_refill_and_reads_it_back() {
    let app = spawn_app().await;
    let sms = token_of(&app, "sms").await;
    let set = json!({"account_token": sms, "auto_refill_threshold": 5.5, "auto_refill_pack_id": 2});
    assert_eq!(ok(&app, ROUTE, set).await, json!({"status": "success"}));
    let info = information(&app, &sms).await;
    assert_eq!(info["auto_refill_threshold"], 5.5);
    assert_eq!(info["auto_refill_pack_id"], 2);

    // A pack of another service is refused in Odoo's terms, and nothing changes.
    let ocr_pack =
        json!({"account_token": sms, "auto_refill_threshold": 8, "auto_refill_pack_id": 5});
    let refused = ok(&app, ROUTE, ocr_pack).await;
    assert_eq!(refused["status"], "error");
    assert!(
        refused["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{refused}"
    );
    assert_eq!(information(&app, &sms).await["auto_refill_threshold"], 5.5);

    // 0 turns it off and forgets the pack, as Odoo does.
    let off = json!({"account_token": sms, "auto_refill_threshold": 0, "auto_refill_pack_id": 2});
    assert_eq!(ok(&app, ROUTE, off).await, json!({"status": "success"}));
    let info = information(&app, &sms).await;
    assert_eq!(info["auto_refill_threshold"], 0.0);
    assert_eq!(info["auto_refill_pack_id"], false);

    // Odoo sends 0 (or false) for "no pack".
    let no_pack =
        json!({"account_token": sms, "auto_refill_threshold": 3, "auto_refill_pack_id": false});
    assert_eq!(ok(&app, ROUTE, no_pack).await, json!({"status": "success"}));
    assert_eq!(information(&app, &sms).await["auto_refill_pack_id"], false);

    for (params, name) in [
        (
            json!({"account_token": "unknown-token-1234567890", "auto_refill_threshold": 3}),
            ACCESS,
        ),
        (json!({"auto_refill_threshold": 3}), ACCESS),
        (
            json!({"account_token": sms, "auto_refill_threshold": "lots"}),
            USER,
        ),
        (
            json!({"account_token": sms, "auto_refill_threshold": 3, "auto_refill_pack_id": "x"}),
            USER,
        ),
        (
            json!({"account_token": sms, "auto_refill_threshold": -1}),
            USER,
        ),
    ] {
        fails(&app, ROUTE, params, name).await;
    }
    assert_eq!(information(&app, &sms).await["auto_refill_threshold"], 3.0);
    // Without a card and a cap from Account Information, nothing is ever charged, even
    // with a threshold above the balance.
    let high = json!({"account_token": sms, "auto_refill_threshold": 50, "auto_refill_pack_id": 1});
    assert_eq!(ok(&app, ROUTE, high).await, json!({"status": "success"}));
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(orders(&app).await.is_empty());
}

#[tokio::test]
async fn a_spend_across_the_threshold_buys_the_pack_with_the_saved_card() {
    let app = spawn_app().await;
    let sms = token_of(&app, "sms").await;
    let id = account_id(&app, &sms).await;
    let admin = app.login("admin", "admin").await;
    // The cap must allow one pack: €5 is below the Starter Pack's €10.
    let low = save_settings(&app, &admin, &id, "5").await;
    assert_eq!(low.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", low.body);
    assert!(low.body.contains("auto_cap"), "{}", low.body);
    let saved = save_settings(&app, &admin, &id, "50").await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let card = app
        .call(
            "iap/auto-recharge/card",
            &[
                ("id", &id),
                ("cardholder", "Mitchell Admin"),
                ("card_number", "4242 4242 4242 4242"),
                ("expiry", "12/39"),
                ("cvc", "123"),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(card.status, StatusCode::OK, "{}", card.body);
    let stored: (String, String, Option<String>) = sqlx::query_as(
        "SELECT card_brand, card_last4, stripe_customer FROM auto_recharges WHERE account_id = $1",
    )
    .bind(id.parse::<i64>().expect("account id"))
    .fetch_one(&app.pool)
    .await
    .expect("card");
    assert_eq!(
        stored,
        ("Visa".into(), "4242".into(), None),
        "only brand and last digits"
    );

    // An SMS service spends 6 of the 10 credits: 4 left, below 5.
    let key = key_for(&app, "sms").await;
    let hold = ok(
        &app,
        "/iap/1/authorize",
        json!({"key": key, "account_token": sms, "credit": 6, "description": "SMS"}),
    )
    .await;
    ok(
        &app,
        "/iap/1/capture",
        json!({"token": hold, "key": key, "credit_to_capture": 6}),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while orders(&app).await.first().map(|o| o.0.as_str()) != Some("paid") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no purchase: {:?}",
            orders(&app).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(orders(&app).await, vec![("paid".into(), 1_000, true)]);
    assert_eq!(information(&app, &sms).await["balance"], 14.0);
    let view = app
        .call("iap/auto-recharge", &[("id", &id)], Some(&admin))
        .await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    let view: Value = serde_json::from_str(&view.body).expect("JSON");
    assert_eq!(view["state"], "Idle");
    assert_eq!(view["spent"], 1_000);
    assert_eq!(view["card"], json!(["Visa", "4242"]));

    // Turned off, the next crossing buys nothing.
    let off = app
        .call("iap/auto-recharge/off", &[("id", &id)], Some(&admin))
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    let hold = ok(
        &app,
        "/iap/1/authorize",
        json!({"key": key, "account_token": sms, "credit": 12, "description": "SMS"}),
    )
    .await;
    ok(&app, "/iap/1/capture", json!({"token": hold, "key": key})).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(orders(&app).await.len(), 1);
}

/// Opens the fake Stripe page of a setup session with `card`, as the administrator's browser
/// would; returns where Stripe sends them back.
async fn save_card_at_stripe(url: &str, card: &str) -> String {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = browser
        .get(format!("{url}?card={card}"))
        .send()
        .await
        .expect("Stripe page");
    assert_eq!(page.status(), reqwest::StatusCode::SEE_OTHER);
    page.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned()
}

async fn spend(app: &TestApp, key: &str, token: &str, credits: i64) {
    let hold = ok(
        app,
        "/iap/1/authorize",
        json!({"key": key, "account_token": token, "credit": credits, "description": "SMS"}),
    )
    .await;
    ok(app, "/iap/1/capture", json!({"token": hold, "key": key})).await;
}

async fn wait_for_orders(app: &TestApp, count: usize, last: &str) -> Vec<(String, i64, bool)> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let now = orders(app).await;
        if now.len() == count && now.last().is_some_and(|o| o.0 == last) {
            return now;
        }
        assert!(tokio::time::Instant::now() < deadline, "orders: {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_card_saved_at_stripe_is_charged_off_session_and_a_declined_one_backs_off() {
    let shop = crate::payments::shop_with(|_| {}).await;
    let app = &shop.app;
    let admin = app.login("admin", "admin").await;
    let id = shop.sms().await.to_string();
    let token = token_of(app, "sms").await;
    let saved = save_settings(app, &admin, &id, "50").await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    // A Demo card cannot be saved with Stripe configured.
    let demo = app
        .call(
            "iap/auto-recharge/card",
            &[
                ("id", &id),
                ("cardholder", "A"),
                ("card_number", "4242424242424242"),
                ("expiry", "12/39"),
                ("cvc", "123"),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(demo.status, StatusCode::CONFLICT, "{}", demo.body);

    let start = app
        .call(
            "iap/auto-recharge/stripe-card",
            &[("id", &id)],
            Some(&admin),
        )
        .await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.body);
    let url: String = serde_json::from_str(&start.body).expect("a URL");
    assert!(
        url.starts_with(&format!("{}/pay/cs_test_", shop.stripe.base_url())),
        "{url}"
    );
    let back = save_card_at_stripe(&url, "4242424242424242").await;
    let session = back
        .split("card_session=")
        .nth(1)
        .and_then(|rest| rest.split('#').next())
        .expect("the session in the return address")
        .to_owned();
    assert!(
        back.starts_with(&format!("{PUBLIC_URL}/iap-accounts/{id}?")),
        "{back}"
    );
    // The webhook saved it already; reading it back on return saves the same card again.
    let finish = app
        .call(
            "iap/auto-recharge/stripe-card/finish",
            &[("id", &id), ("session", &session)],
            Some(&admin),
        )
        .await;
    assert_eq!(finish.status, StatusCode::OK, "{}", finish.body);
    assert_eq!(finish.body, "true");
    let card: (String, String, String, String) = sqlx::query_as(
        "SELECT card_provider, card_brand || ' ' || card_last4, stripe_customer, stripe_payment_method
         FROM auto_recharges WHERE account_id = $1",
    )
    .bind(id.parse::<i64>().expect("account id"))
    .fetch_one(&app.pool)
    .await
    .expect("card");
    assert_eq!((card.0.as_str(), card.1.as_str()), ("stripe", "Visa 4242"));
    assert!(
        card.2.starts_with("cus_test_") && card.3.starts_with("pm_test_"),
        "{card:?}"
    );

    // 10 - 6 = 4 credits, below 5: charged off session, once, keyed by the order.
    let key = key_for(app, "sms").await;
    spend(app, &key, &token, 6).await;
    wait_for_orders(app, 1, "paid").await;
    assert_eq!(information(app, &token).await["balance"], 14.0);
    let charges: Vec<_> = shop
        .stripe
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/payment_intents")
        .collect();
    assert_eq!(charges.len(), 1);
    let form = |name: &str| {
        charges[0]
            .form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(form("amount").as_deref(), Some("1000"));
    assert_eq!(form("currency").as_deref(), Some("eur"));
    assert_eq!(form("off_session").as_deref(), Some("true"));
    assert_eq!(form("confirm").as_deref(), Some("true"));
    assert_eq!(form("customer"), Some(card.2.clone()));
    assert_eq!(form("payment_method"), Some(card.3.clone()));
    let order: i64 = sqlx::query_scalar("SELECT id FROM orders")
        .fetch_one(&app.pool)
        .await
        .expect("order");
    assert_eq!(
        charges[0].header("idempotency-key"),
        Some(format!("iapd-auto-{order}").as_str())
    );

    // A card whose charges are declined (Stripe's 4000 0000 0000 0341), saved for the same
    // customer, which is not created twice.
    let start = app
        .call(
            "iap/auto-recharge/stripe-card",
            &[("id", &id)],
            Some(&admin),
        )
        .await;
    let url: String = serde_json::from_str(&start.body).expect("a URL");
    save_card_at_stripe(&url, "4000000000000341").await;
    let customers = shop
        .stripe
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/customers")
        .count();
    assert_eq!(customers, 1);
    spend(app, &key, &token, 10).await;
    wait_for_orders(app, 2, "failed").await;
    let (state, declines, error): (String, i64, String) = sqlx::query_as(
        "SELECT state, declines, last_error FROM auto_recharges WHERE account_id = $1",
    )
    .bind(id.parse::<i64>().expect("account id"))
    .fetch_one(&app.pool)
    .await
    .expect("recharge");
    assert_eq!((state.as_str(), declines), ("retrying", 1));
    assert_eq!(error, "Your card was declined.");
    assert_eq!(information(app, &token).await["balance"], 4.0);
}
