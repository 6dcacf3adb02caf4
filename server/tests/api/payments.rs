//! Paying through Stripe Checkout against a fake Stripe on loopback: the session iapd asks
//! for, the signed webhook (valid, tampered, stale, missing, replayed), the reconciler that
//! settles a lost webhook, an expired session, and a server without a provider.

use crate::fake_stripe::FakeStripe;
use crate::helpers::{TestApp, spawn_app_from, test_config};
use app::domain::order::OrderState;
use app::domain::stripe::signature_header;
use app::error::AppError;
use app::i18n::Msg;
use app::models::{IapAccount, Order, PaymentMode, Store};
use http::StatusCode;
use serde_json::{Value, json};
use server::config::{Config, ProviderKind};
use std::time::Duration;

const SECRET_KEY: &str = "sk_test_iapd";
const WEBHOOK_SECRET: &str = "whsec_test_iapd";

pub(crate) struct Shop {
    pub(crate) app: TestApp,
    pub(crate) stripe: FakeStripe,
    pub(crate) demo: String,
}

/// iapd configured for Stripe, the fake Stripe it talks to (which sends its webhooks back
/// to iapd), and the demo user signed in.
pub(crate) async fn shop_with(tune: impl FnOnce(&mut Config)) -> Shop {
    let stripe = FakeStripe::start(None, WEBHOOK_SECRET.into()).await;
    let mut config = test_config().await;
    config.payment_provider = Some(ProviderKind::Stripe);
    config.stripe_secret_key = Some(SECRET_KEY.parse().expect("secret"));
    config.stripe_webhook_secret = Some(WEBHOOK_SECRET.parse().expect("secret"));
    config.stripe_api_base = stripe.base_url().to_owned();
    tune(&mut config);
    let app = spawn_app_from(config, app::clock::system_clock()).await;
    stripe.set_webhook_target(&format!("{}/payment/stripe/webhook", app.address));
    let demo = app.login("demo", "demo").await;
    Shop { app, stripe, demo }
}

async fn shop() -> Shop {
    shop_with(|_| {}).await
}

impl Shop {
    pub(crate) async fn sms(&self) -> i64 {
        sqlx::query_scalar("SELECT id FROM iap_accounts WHERE service = 'sms'")
            .fetch_one(&self.app.pool)
            .await
            .expect("account")
    }

    /// A new order, paid at the fake Stripe, whose webhook was never sent: its id and
    /// Checkout Session.
    pub(crate) async fn paid_without_webhook(&self) -> (i64, String) {
        let order = self.order().await;
        self.pay(order).await;
        let session = self.session_of(order).await;
        assert!(self.stripe.pay_without_webhook(&session));
        (order, session)
    }

    /// How many purchase entries the ledger holds for `order`.
    pub(crate) async fn purchases_of(&self, order: i64) -> i64 {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'purchase' AND description LIKE $1",
        )
        .bind(format!("Order IAP{order:05}%"))
        .fetch_one(&self.app.pool)
        .await
        .expect("count")
    }

    pub(crate) async fn balance(&self) -> i64 {
        sqlx::query_scalar("SELECT balance FROM iap_accounts WHERE service = 'sms'")
            .fetch_one(&self.app.pool)
            .await
            .expect("balance")
    }

    /// An order of the 100-credit SMS pack (€90.00).
    pub(crate) async fn order(&self) -> i64 {
        let pack: i64 = sqlx::query_scalar(
            "SELECT id FROM packs WHERE service = 'sms' AND name = 'Standard Pack'",
        )
        .fetch_one(&self.app.pool)
        .await
        .expect("pack");
        let sms = self.sms().await.to_string();
        let reply = self
            .app
            .call(
                "store/order",
                &[("account_id", &sms), ("pack_id", &pack.to_string())],
                Some(&self.demo),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body.parse().expect("order id")
    }

    /// Starts paying on the hosted page; the page's URL.
    pub(crate) async fn pay(&self, order: i64) -> String {
        let reply = self
            .app
            .call(
                "store/pay_hosted",
                &[("id", &order.to_string())],
                Some(&self.demo),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        serde_json::from_str(&reply.body).expect("a URL")
    }

    pub(crate) async fn order_state(&self, order: i64) -> OrderState {
        let reply = self
            .app
            .call(
                "store/get_order",
                &[("id", &order.to_string())],
                Some(&self.demo),
            )
            .await;
        let (order, _): (Order, IapAccount) = serde_json::from_str(&reply.body).expect("order");
        order.state
    }

    pub(crate) async fn session_of(&self, order: i64) -> String {
        sqlx::query_scalar("SELECT provider_reference FROM orders WHERE id = $1")
            .bind(order)
            .fetch_one(&self.app.pool)
            .await
            .expect("reference")
    }

    async fn post_webhook(&self, body: &[u8], signature: Option<&str>) -> StatusCode {
        let mut request = reqwest::Client::new()
            .post(format!("{}/payment/stripe/webhook", self.app.address))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header("stripe-signature", signature);
        }
        request.send().await.expect("the server answers").status()
    }

    /// Waits (at most ten seconds) until the order is in `state`.
    pub(crate) async fn until(&self, order: i64, state: OrderState) {
        tokio::time::timeout(Duration::from_secs(10), async {
            while self.order_state(order).await != state {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("order {order} never became {state:?}"));
    }
}

fn unix_now() -> i64 {
    app::clock::now_ms() / 1_000
}

#[tokio::test]
async fn the_checkout_session_carries_the_orders_exact_fields_and_one_session_per_order() {
    let shop = shop().await;
    let order = shop.order().await;
    let url = shop.pay(order).await;
    assert!(
        url.starts_with(&format!("{}/pay/cs_", shop.stripe.base_url())),
        "{url}"
    );
    let calls: Vec<_> = shop
        .stripe
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/checkout/sessions")
        .collect();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.method, "POST");
    assert_eq!(
        call.header("authorization"),
        Some(format!("Bearer {SECRET_KEY}").as_str())
    );
    assert_eq!(
        call.header("idempotency-key"),
        Some(format!("iapd-order-{order}").as_str())
    );
    let field = |name: &str| {
        call.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(field("mode"), Some("payment"));
    assert_eq!(field("line_items[0][price_data][currency]"), Some("eur"));
    assert_eq!(
        field("line_items[0][price_data][unit_amount]"),
        Some("9000")
    );
    assert_eq!(
        field("line_items[0][price_data][product_data][name]"),
        Some("SMS – Standard Pack")
    );
    assert_eq!(field("line_items[0][quantity]"), Some("1"));
    assert_eq!(
        field("client_reference_id"),
        Some(format!("IAP{order:05}").as_str())
    );
    assert_eq!(
        field("metadata[order_id]"),
        Some(order.to_string().as_str())
    );
    assert_eq!(
        field("success_url"),
        Some(
            format!("http://iapd.test/orders/{order}?session_id={{CHECKOUT_SESSION_ID}}").as_str()
        )
    );
    assert_eq!(
        field("cancel_url"),
        Some(format!("http://iapd.test/orders/{order}/checkout").as_str())
    );
    assert_eq!(shop.order_state(order).await, OrderState::Pending);
    // A second click, or a customer back from the page, gets the same page.
    assert_eq!(shop.pay(order).await, url);
    assert_eq!(shop.stripe.session_count(), 1);
}

#[tokio::test]
async fn a_signed_webhook_credits_the_order_once_even_replayed_64_times_at_once() {
    let shop = shop().await;
    let before = shop.balance().await;
    let order = shop.order().await;
    shop.pay(order).await;
    let session = shop.session_of(order).await;
    assert_eq!(shop.stripe.pay(&session).await, Some(200));
    assert_eq!(shop.order_state(order).await, OrderState::Paid);
    assert_eq!(shop.balance().await, before + 1_000_000);

    let (body, signature) = shop
        .stripe
        .signed_event("checkout.session.completed", &session)
        .expect("event");
    let replays: Vec<_> = (0..64)
        .map(|_| {
            let (url, body, signature) = (
                format!("{}/payment/stripe/webhook", shop.app.address),
                body.clone(),
                signature.clone(),
            );
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(url)
                    .header("stripe-signature", signature)
                    .body(body)
                    .send()
                    .await
                    .expect("answer")
                    .status()
            })
        })
        .collect();
    for replay in replays {
        assert_eq!(replay.await.expect("task"), StatusCode::OK);
    }
    assert_eq!(shop.balance().await, before + 1_000_000);
    assert_eq!(shop.purchases_of(order).await, 1);
}

#[tokio::test]
async fn only_a_valid_fresh_signature_over_the_exact_body_is_accepted() {
    let shop = shop().await;
    let before = shop.balance().await;
    let (order, session) = shop.paid_without_webhook().await;
    let (body, signature) = shop
        .stripe
        .signed_event("checkout.session.completed", &session)
        .expect("event");

    let mut tampered = body.clone();
    let at = tampered
        .windows(4)
        .position(|w| w == b"9000")
        .expect("the amount is in the body");
    tampered[at] = b'1';
    assert_eq!(
        shop.post_webhook(&tampered, Some(&signature)).await,
        StatusCode::BAD_REQUEST
    );
    let wrong_secret = signature_header(&body, "whsec_someone_else", unix_now());
    assert_eq!(
        shop.post_webhook(&body, Some(&wrong_secret)).await,
        StatusCode::BAD_REQUEST
    );
    let stale = signature_header(&body, WEBHOOK_SECRET, unix_now() - 301);
    assert_eq!(
        shop.post_webhook(&body, Some(&stale)).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        shop.post_webhook(&body, None).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        shop.post_webhook(b"{}", Some("t=1,v1=00")).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(shop.order_state(order).await, OrderState::Pending);
    assert_eq!(shop.balance().await, before);

    assert_eq!(
        shop.post_webhook(&body, Some(&signature)).await,
        StatusCode::OK
    );
    assert_eq!(shop.order_state(order).await, OrderState::Paid);
    assert_eq!(shop.balance().await, before + 1_000_000);
}

#[tokio::test]
async fn a_lost_webhook_is_settled_by_the_reconciler_once() {
    let shop = shop_with(|c| c.payment_reconcile_seconds = 1).await;
    let before = shop.balance().await;
    let (order, session) = shop.paid_without_webhook().await;
    shop.until(order, OrderState::Paid).await;
    assert_eq!(shop.balance().await, before + 1_000_000);
    // Later rounds and a late webhook credit nothing more.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (body, signature) = shop
        .stripe
        .signed_event("checkout.session.completed", &session)
        .expect("event");
    assert_eq!(
        shop.post_webhook(&body, Some(&signature)).await,
        StatusCode::OK
    );
    assert_eq!(shop.balance().await, before + 1_000_000);
}

/// Reconciliation rounds on two nodes at once (a leader cut from its lock still finishing
/// its round while the next one starts its own), each with a ledger writer of its own, read
/// the same paid session back: the order is credited once.
#[tokio::test]
async fn reconcilers_of_two_nodes_settling_one_lost_webhook_at_once_credit_it_once() {
    let shop = shop().await;
    let before = shop.balance().await;
    let (order, _session) = shop.paid_without_webhook().await;

    let mut tasks = app::tasks::Tasks::new();
    let mut writers = Vec::new();
    for _ in 0..2 {
        let ledger = app::ledger::Ledger::start(
            &shop.app.pool,
            app::clock::system_clock(),
            &shop.app.address,
            &mut tasks,
        )
        .await
        .expect("a writer");
        writers.push(ledger);
    }
    let client = app::payment::stripe::StripeClient::new(app::payment::stripe::StripeConfig {
        secret_key: SECRET_KEY.into(),
        api_base: shop.stripe.base_url().to_owned(),
        timeout: Duration::from_secs(5),
    })
    .expect("client");
    let payments =
        app::payment::Payments::Stripe(std::sync::Arc::new(app::payment::StripeGateway {
            client,
            webhook_secret: WEBHOOK_SECRET.parse().expect("secret"),
            public_url: shop.app.address.clone(),
        }));
    let everything_pending = app::clock::now_ms() + 60_000;
    let rounds = (0..8).map(|i| {
        let reconciler = app::payment::reconcile::Reconciler {
            pool: &shop.app.pool,
            ledger: &writers[i % 2],
            payments: &payments,
        };
        async move { reconciler.run(everything_pending).await.expect("a round") }
    });
    let settled: usize = futures::future::join_all(rounds).await.into_iter().sum();
    assert!(settled >= 1, "some round settled it");
    assert_eq!(shop.order_state(order).await, OrderState::Paid);
    assert_eq!(shop.balance().await, before + 1_000_000);
    assert_eq!(shop.purchases_of(order).await, 1);
    tasks.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn an_expired_session_fails_the_order_and_adds_nothing() {
    let shop = shop().await;
    let before = shop.balance().await;
    let order = shop.order().await;
    shop.pay(order).await;
    let session = shop.session_of(order).await;
    assert_eq!(shop.stripe.expire(&session).await, Some(200));
    assert_eq!(shop.order_state(order).await, OrderState::Failed);
    assert_eq!(shop.balance().await, before);
    let again = shop
        .app
        .call(
            "store/pay_hosted",
            &[("id", &order.to_string())],
            Some(&shop.demo),
        )
        .await;
    assert!(matches!(again.app_error(), AppError::Conflict(_)));
}

#[tokio::test]
async fn a_payment_of_another_amount_is_not_credited() {
    let shop = shop().await;
    let before = shop.balance().await;
    let order = shop.order().await;
    shop.pay(order).await;
    let session = shop.session_of(order).await;
    let event = json!({
        "id": "evt_test_mismatch",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": {
            "id": session, "object": "checkout.session", "status": "complete",
            "payment_status": "paid", "amount_total": 1, "currency": "eur",
            "client_reference_id": format!("IAP{order:05}"),
            "metadata": {"order_id": order.to_string()},
        }},
    });
    let body = serde_json::to_vec(&event).expect("JSON");
    let signature = signature_header(&body, WEBHOOK_SECRET, unix_now());
    assert_eq!(
        shop.post_webhook(&body, Some(&signature)).await,
        StatusCode::OK
    );
    assert_eq!(shop.order_state(order).await, OrderState::Failed);
    assert_eq!(shop.balance().await, before);
}

#[tokio::test]
async fn events_of_other_types_and_unreachable_stripe_change_nothing() {
    let shop = shop().await;
    let body = serde_json::to_vec(&json!({
        "id": "evt_other", "object": "event", "type": "customer.created",
        "data": {"object": {"id": "cus_1", "object": "customer"}},
    }))
    .expect("JSON");
    let signature = signature_header(&body, WEBHOOK_SECRET, unix_now());
    assert_eq!(
        shop.post_webhook(&body, Some(&signature)).await,
        StatusCode::OK
    );

    let order = shop.order().await;
    shop.stripe
        .push_trouble(crate::fake_stripe::Trouble::Answer(
            500,
            json!({"error": {"type": "api_error", "message": "down"}}),
        ));
    let reply = shop
        .app
        .call(
            "store/pay_hosted",
            &[("id", &order.to_string())],
            Some(&shop.demo),
        )
        .await;
    assert_eq!(
        reply.app_error(),
        AppError::Conflict(Msg::ErrProviderUnavailable.into())
    );
    assert_eq!(shop.order_state(order).await, OrderState::Draft);
    // Once Stripe answers again, the same order goes to its page.
    assert!(shop.pay(order).await.contains("/pay/cs_"));
}

#[tokio::test]
async fn without_a_provider_the_store_shows_its_packs_and_sells_nothing() {
    let mut config = test_config().await;
    config.payment_provider = None;
    let app = spawn_app_from(config, app::clock::system_clock()).await;
    let demo = app.login("demo", "demo").await;
    let sms: i64 = sqlx::query_scalar("SELECT id FROM iap_accounts WHERE service = 'sms'")
        .fetch_one(&app.pool)
        .await
        .expect("account");
    let store = app
        .call("store", &[("account_id", &sms.to_string())], Some(&demo))
        .await;
    let store: Store = serde_json::from_str(&store.body).expect("store");
    assert_eq!(store.payments, PaymentMode::Unavailable);
    assert_eq!(store.packs.len(), 4);
    let pack = store.packs[0].id.to_string();
    let refused = app
        .call(
            "store/order",
            &[("account_id", &sms.to_string()), ("pack_id", &pack)],
            Some(&demo),
        )
        .await;
    assert_eq!(
        refused.app_error(),
        AppError::Conflict(Msg::ErrPaymentsUnavailable.into())
    );
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(orders, 0);
    assert_eq!(
        app.get("/payment/stripe/webhook", None).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn the_demo_provider_runs_only_on_a_demo_database_and_stripe_needs_its_secrets() {
    let mut config = test_config().await;
    config.demo = false;
    config.payment_provider = Some(ProviderKind::Demo);
    let refused = server::startup::Application::build(&config).await;
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("demo database"), "{message}");

    let mut config = test_config().await;
    config.payment_provider = Some(ProviderKind::Stripe);
    config.stripe_secret_key = Some(SECRET_KEY.parse().expect("secret"));
    let refused = server::startup::Application::build(&config).await;
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("STRIPE_WEBHOOK_SECRET"), "{message}");
}

#[tokio::test]
async fn the_webhook_needs_no_session_and_ignores_cross_site_headers() {
    let shop = shop().await;
    let (order, session) = shop.paid_without_webhook().await;
    let (body, signature) = shop
        .stripe
        .signed_event("checkout.session.completed", &session)
        .expect("event");
    let status = reqwest::Client::new()
        .post(format!("{}/payment/stripe/webhook", shop.app.address))
        .header("stripe-signature", signature)
        .header("origin", "https://stripe.com")
        .header("sec-fetch-site", "cross-site")
        .body(body)
        .send()
        .await
        .expect("answer")
        .status();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shop.order_state(order).await, OrderState::Paid);
    let _: Option<Value> = shop.stripe.session(&session);
}
