use crate::helpers::{TestApp, spawn_app};
use app::domain::order::OrderState;
use app::error::AppError;
use app::i18n::Msg;
use app::models::{IapAccount, Order, Store};
use http::StatusCode;

async fn account(app: &TestApp, service: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM iap_accounts WHERE service = $1")
        .bind(service)
        .fetch_one(&app.pool)
        .await
        .expect("account")
}

pub(crate) async fn pack(app: &TestApp, service: &str, name: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM packs WHERE service = $1 AND name = $2")
        .bind(service)
        .bind(name)
        .fetch_one(&app.pool)
        .await
        .expect("pack")
}

pub(crate) async fn order(app: &TestApp, cookie: &str, account: i64, pack: i64) -> String {
    let reply = app
        .call(
            "store/order",
            &[
                ("account_id", &account.to_string()),
                ("pack_id", &pack.to_string()),
            ],
            Some(cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

pub(crate) async fn pay(
    app: &TestApp,
    cookie: &str,
    order: &str,
    number: &str,
) -> crate::helpers::Reply {
    app.call(
        "store/pay",
        &[
            ("id", order),
            ("cardholder", "Ada Lovelace"),
            ("card_number", number),
            ("expiry", "12/35"),
            ("cvc", "123"),
        ],
        Some(cookie),
    )
    .await
}

pub(crate) async fn balance(app: &TestApp, account: i64) -> i64 {
    sqlx::query_scalar("SELECT balance FROM iap_accounts WHERE id = $1")
        .bind(account)
        .fetch_one(&app.pool)
        .await
        .expect("balance")
}

#[tokio::test]
async fn the_store_suggests_the_smallest_pack_covering_the_wanted_credits() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let sms = account(&app, "sms").await;
    let reply = app
        .call(
            "store",
            &[("account_id", &sms.to_string()), ("credit", "42")],
            Some(&demo),
        )
        .await;
    let store: Store = serde_json::from_str(&reply.body).expect("store");
    let names: Vec<&str> = store.packs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Starter Pack",
            "Standard Pack",
            "Advanced Pack",
            "Expert Pack"
        ]
    );
    let credits: Vec<i64> = store.packs.iter().map(|p| p.credits / 10_000).collect();
    assert_eq!(credits, [10, 100, 500, 1_000]);
    assert_eq!(
        store.suggested,
        Some(pack(&app, "sms", "Standard Pack").await)
    );
}

#[tokio::test]
async fn paying_with_the_approved_test_card_credits_the_pack_once() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let sms = account(&app, "sms").await;
    // A price sent by the client is ignored: the order costs what the pack costs.
    let reply = app
        .call(
            "store/order",
            &[
                ("account_id", &sms.to_string()),
                (
                    "pack_id",
                    &pack(&app, "sms", "Standard Pack").await.to_string(),
                ),
                ("price", "1"),
            ],
            Some(&demo),
        )
        .await;
    let id = reply.body;
    assert_eq!(
        pay(&app, &demo, &id, "4242 4242 4242 4242").await.status,
        StatusCode::OK
    );
    assert_eq!(balance(&app, sms).await, 1_100_000);
    let (order, account): (Order, IapAccount) = serde_json::from_str(
        &app.call("store/get_order", &[("id", &id)], Some(&demo))
            .await
            .body,
    )
    .expect("order");
    assert_eq!(
        (order.state, order.amount, order.buyer.as_str()),
        (OrderState::Paid, 9_000, "Marc Demo")
    );
    assert_eq!(
        (order.card_brand.as_deref(), order.card_last4.as_deref()),
        (Some("Visa"), Some("4242"))
    );
    assert_eq!(account.balance.minor(), 1_100_000);

    // Paying again is refused and credits nothing.
    let again = pay(&app, &demo, &id, "4242424242424242").await.app_error();
    assert_eq!(again, AppError::Conflict(Msg::ErrOrderPaid.into()));
    assert_eq!(balance(&app, sms).await, 1_100_000);
    // The full number is stored nowhere.
    let leaked: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE card_last4 <> '4242' OR provider_reference LIKE '%4242424242424242%'")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(leaked, 0);
}

#[tokio::test]
async fn a_declined_card_fails_the_order_with_its_reason_and_adds_nothing() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let sms = account(&app, "sms").await;
    for (number, reason) in [
        ("4000 0000 0000 0002", Msg::DemoDeclined),
        ("4000000000009995", Msg::DemoInsufficientFunds),
    ] {
        let id = order(&app, &demo, sms, pack(&app, "sms", "Starter Pack").await).await;
        assert_eq!(
            pay(&app, &demo, &id, number).await.app_error(),
            AppError::PaymentDeclined(reason.into())
        );
        let (order, _): (Order, IapAccount) = serde_json::from_str(
            &app.call("store/get_order", &[("id", &id)], Some(&demo))
                .await
                .body,
        )
        .expect("order");
        assert_eq!(order.state, OrderState::Failed);
        let retry = pay(&app, &demo, &id, "4242424242424242").await.app_error();
        assert!(matches!(retry, AppError::Conflict(_)));
    }
    assert_eq!(balance(&app, sms).await, 100_000);
}

#[tokio::test]
async fn invalid_card_fields_are_named_and_leave_the_order_a_draft() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let sms = account(&app, "sms").await;
    let id = order(&app, &demo, sms, pack(&app, "sms", "Starter Pack").await).await;
    let cases = [
        ("", "4242424242424242", "12/35", "123", "cardholder"),
        ("A", "4242424242424241", "12/35", "123", "card_number"),
        ("A", "4242424242424242", "01/20", "123", "expiry"),
        ("A", "4242424242424242", "12/35", "1", "cvc"),
    ];
    for (holder, number, expiry, cvc, field) in cases {
        let reply = app
            .call(
                "store/pay",
                &[
                    ("id", &id),
                    ("cardholder", holder),
                    ("card_number", number),
                    ("expiry", expiry),
                    ("cvc", cvc),
                ],
                Some(&demo),
            )
            .await;
        assert!(
            matches!(reply.app_error(), AppError::Validation(e) if e.field == field),
            "{field}"
        );
    }
    let state: String = sqlx::query_scalar("SELECT state FROM orders WHERE id = $1")
        .bind(id.parse::<i64>().expect("order id"))
        .fetch_one(&app.pool)
        .await
        .expect("state");
    assert_eq!(state, "draft");
    assert_eq!(balance(&app, sms).await, 100_000);
}

#[tokio::test]
async fn packs_of_other_services_and_unknown_packs_are_refused() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let sms = account(&app, "sms").await.to_string();
    let snailmail_pack = pack(&app, "snailmail", "Starter Pack").await.to_string();
    for pack_id in [snailmail_pack.as_str(), "99999"] {
        let reply = app
            .call(
                "store/order",
                &[("account_id", &sms), ("pack_id", pack_id)],
                Some(&demo),
            )
            .await;
        assert!(matches!(reply.app_error(), AppError::Validation(e) if e.field == "pack"));
    }
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(orders, 0);
}

#[tokio::test]
async fn nobody_buys_for_or_sees_orders_of_an_account_of_another_company() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let demo = app.login("demo", "demo").await;
    let sms = account(&app, "sms").await;
    let chicago: i64 = sqlx::query_scalar("SELECT id FROM companies WHERE name LIKE '%Chicago%'")
        .fetch_one(&app.pool)
        .await
        .expect("chicago");
    let id = order(&app, &admin, sms, pack(&app, "sms", "Starter Pack").await).await;
    let token: String = sqlx::query_scalar("SELECT token FROM iap_accounts WHERE id = $1")
        .bind(sms)
        .fetch_one(&app.pool)
        .await
        .expect("token");
    let saved = app
        .call(
            "iap/admin/save",
            &[
                ("id", &sms.to_string()),
                ("name", "SMS"),
                ("token", &token),
                ("companies[0]", &chicago.to_string()),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK);

    let sms = sms.to_string();
    assert_eq!(
        app.call("store", &[("account_id", &sms)], Some(&demo))
            .await
            .app_error(),
        AppError::NotFound
    );
    let starter = pack(&app, "sms", "Starter Pack").await.to_string();
    assert_eq!(
        app.call(
            "store/order",
            &[("account_id", &sms), ("pack_id", &starter)],
            Some(&demo)
        )
        .await
        .app_error(),
        AppError::NotFound
    );
    assert_eq!(
        app.call("store/get_order", &[("id", &id)], Some(&demo))
            .await
            .app_error(),
        AppError::NotFound
    );
    assert_eq!(
        pay(&app, &demo, &id, "4242424242424242").await.app_error(),
        AppError::NotFound
    );
    assert_eq!(
        app.call("store/all_orders", &[], Some(&demo))
            .await
            .app_error(),
        AppError::Forbidden
    );
    let all: Vec<Order> =
        serde_json::from_str(&app.call("store/all_orders", &[], Some(&admin)).await.body)
            .expect("orders");
    assert_eq!(all.len(), 1);
}
