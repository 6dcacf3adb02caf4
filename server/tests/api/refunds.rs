//! Refunding paid orders (issue 17) over the real router: with the Demo provider, and with
//! Stripe's Refunds API on a fake Stripe that answers, fails for a while, or refuses.

use crate::fake_stripe::Trouble;
use crate::helpers::{Reply, TestApp, spawn_app};
use crate::payments::{Shop, shop_with};
use crate::store::balance;
use app::domain::refund::RefundState;
use app::i18n::Msg;
use app::models::{IapAccount, Order};
use http::StatusCode;
use serde_json::json;
use std::time::Duration;

async fn refund(app: &TestApp, cookie: &str, order: i64) -> Reply {
    app.call(
        "iap/admin/refund",
        &[
            ("order", &order.to_string()),
            ("reason", "Bought the wrong pack"),
        ],
        Some(cookie),
    )
    .await
}

fn state(reply: &Reply) -> RefundState {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    serde_json::from_str(&reply.body).expect("a refund state")
}

/// The order as its buyer sees it.
async fn seen(app: &TestApp, cookie: &str, order: i64) -> Order {
    let reply = app
        .call(
            "store/get_order",
            &[("id", &order.to_string())],
            Some(cookie),
        )
        .await;
    let (order, _): (Order, IapAccount) = serde_json::from_str(&reply.body).expect("order");
    order
}

async fn consistent(app: &TestApp) {
    let mut conn = app.pool.acquire().await.expect("conn");
    assert_eq!(
        app::db::ledger::check(&mut conn).await.expect("check"),
        vec![]
    );
    assert_eq!(
        app::db::refunds::check(&mut conn)
            .await
            .expect("check")
            .wrong,
        Vec::<i64>::new()
    );
}

/// A Starter Pack (10 credits) paid with the Demo provider's test card on the demo's SMS
/// account, and who is signed in.
struct DemoOrder {
    app: TestApp,
    admin: String,
    demo: String,
    account: i64,
    id: i64,
}

async fn demo_order() -> DemoOrder {
    use crate::store::{order, pack, pay};
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let demo = app.login("demo", "demo").await;
    let account: i64 =
        sqlx::query_scalar("SELECT id FROM iap_accounts WHERE service = 'sms' ORDER BY id")
            .fetch_one(&app.pool)
            .await
            .expect("account");
    let starter = pack(&app, "sms", "Starter Pack").await;
    let id = order(&app, &demo, account, starter).await;
    let paid = pay(&app, &demo, &id, "4242 4242 4242 4242").await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    let id = id.parse().expect("order id");
    DemoOrder {
        app,
        admin,
        demo,
        account,
        id,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_order_is_refunded_once_and_only_by_an_administrator() {
    let DemoOrder {
        app,
        admin,
        demo,
        account,
        id,
    } = demo_order().await;
    let before = balance(&app, account).await;

    assert_eq!(
        refund(&app, &demo, id).await.status,
        StatusCode::FORBIDDEN,
        "only administrators refund"
    );
    let no_reason = app
        .call(
            "iap/admin/refund",
            &[("order", &id.to_string()), ("reason", " ")],
            Some(&admin),
        )
        .await;
    assert_eq!(
        no_reason.app_error().for_field("reason"),
        Some(Msg::ErrRefundReason.text(Default::default()).to_string())
    );

    assert_eq!(
        state(&refund(&app, &admin, id).await),
        RefundState::Refunded
    );
    // A double click answers the same and takes nothing more.
    assert_eq!(
        state(&refund(&app, &admin, id).await),
        RefundState::Refunded
    );
    assert_eq!(balance(&app, account).await, before - 100_000);
    let order = seen(&app, &demo, id).await;
    assert_eq!(order.refund, Some(RefundState::Refunded));
    assert!(!order.refundable());
    let reference: String =
        sqlx::query_scalar("SELECT provider_reference FROM refunds WHERE order_id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .expect("refund");
    assert_eq!(reference, format!("DEMO-RE-IAP{id:05}"));
    let entry: (i64, String) = sqlx::query_as(
        "SELECT amount, description FROM ledger_entries WHERE kind = 'refund' AND order_id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .expect("entry");
    assert_eq!(
        entry,
        (
            -100_000,
            format!("Refund of IAP{id:05}: Bought the wrong pack")
        )
    );
    consistent(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_needs_the_credits_still_available_and_changes_nothing_otherwise() {
    let DemoOrder {
        app,
        admin,
        demo,
        account,
        id,
    } = demo_order().await;
    // Spend all but one credit.
    let left = balance(&app, account).await;
    let spend = app
        .call(
            "iap/admin/adjust",
            &[
                ("id", &account.to_string()),
                ("amount", &format!("-{}", (left - 10_000) / 10_000)),
                ("reason", "used"),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(spend.status, StatusCode::OK, "{}", spend.body);
    let refused = refund(&app, &admin, id).await;
    assert_eq!(
        refused.status,
        StatusCode::PAYMENT_REQUIRED,
        "{}",
        refused.body
    );
    assert_eq!(balance(&app, account).await, 10_000);
    assert_eq!(seen(&app, &demo, id).await.refund, None);
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM refunds")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(rows, 0);
    consistent(&app).await;
}

/// A paid Stripe order of the 100-credit pack, and the signed-in administrator.
async fn paid_stripe_order(shop: &Shop) -> (i64, String) {
    let order = shop.order().await;
    shop.pay(order).await;
    let session = shop.session_of(order).await;
    assert_eq!(shop.stripe.pay(&session).await, Some(200));
    let admin = shop.app.login("admin", "admin").await;
    (order, admin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stripe_order_is_refunded_through_the_refunds_api_with_one_idempotency_key() {
    let shop = shop_with(|_| {}).await;
    let (order, admin) = paid_stripe_order(&shop).await;
    let before = shop.balance().await;
    assert_eq!(
        state(&refund(&shop.app, &admin, order).await),
        RefundState::Refunded
    );
    assert_eq!(
        state(&refund(&shop.app, &admin, order).await),
        RefundState::Refunded
    );
    assert_eq!(shop.balance().await, before - 1_000_000);
    let refunds = shop.stripe.refunds();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["metadata"]["order_id"], json!(order.to_string()));
    let calls: Vec<_> = shop
        .stripe
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/refunds")
        .collect();
    assert_eq!(calls.len(), 1, "a repeat asks Stripe nothing");
    assert_eq!(
        calls[0].header("idempotency-key"),
        Some(format!("iapd-refund-{order}").as_str())
    );
    consistent(&shop.app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_stripe_could_not_answer_is_retried_by_the_rounds_once() {
    let shop = shop_with(|c| c.payment_reconcile_seconds = 1).await;
    let (order, admin) = paid_stripe_order(&shop).await;
    let before = shop.balance().await;
    // Stripe is down for the immediate attempt: the credits are gone, the money not yet.
    shop.stripe.push_trouble(Trouble::Answer(
        503,
        json!({"error": {"type": "api_error", "message": "down"}}),
    ));
    assert_eq!(
        state(&refund(&shop.app, &admin, order).await),
        RefundState::Pending
    );
    assert_eq!(shop.balance().await, before - 1_000_000);
    let seen_pending = seen(&shop.app, &shop.demo, order).await;
    assert!(
        seen_pending
            .refund_failure
            .as_deref()
            .is_some_and(|why| why.contains("503")),
        "{seen_pending:?}"
    );
    // Its back-off over, the next round returns the money, once.
    sqlx::query("UPDATE refunds SET next_attempt_at = 0 WHERE order_id = $1")
        .bind(order)
        .execute(&shop.app.pool)
        .await
        .expect("due now");
    tokio::time::timeout(Duration::from_secs(10), async {
        while seen(&shop.app, &shop.demo, order).await.refund != Some(RefundState::Refunded) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("refunded by a round");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(shop.stripe.refunds().len(), 1);
    assert_eq!(shop.balance().await, before - 1_000_000);
    consistent(&shop.app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_stripe_refuses_fails_and_gives_the_credits_back() {
    let shop = shop_with(|_| {}).await;
    let (order, admin) = paid_stripe_order(&shop).await;
    let before = shop.balance().await;
    shop.stripe.push_trouble(Trouble::Answer(
        400,
        json!({"error": {"type": "invalid_request_error", "code": "resource_missing",
                         "message": "No such checkout.session"}}),
    ));
    assert_eq!(
        state(&refund(&shop.app, &admin, order).await),
        RefundState::Failed
    );
    assert_eq!(shop.balance().await, before, "the credits came back");
    let order_seen = seen(&shop.app, &shop.demo, order).await;
    assert_eq!(order_seen.refund, Some(RefundState::Failed));
    assert!(
        order_seen
            .refund_failure
            .is_some_and(|why| why.contains("No such checkout.session"))
    );
    assert!(shop.stripe.refunds().is_empty());
    consistent(&shop.app).await;
}
