//! `StripeClient` against the fake Stripe over real HTTP: the exact form and headers it
//! sends, one session per order whatever the retries, and how Stripe's refusals, outages
//! and silences reach the caller.

use crate::fake_stripe::{FakeStripe, Trouble, WebhookInbox};
use app::payment::stripe::{
    CheckoutRequest, PaymentStatus, SessionStatus, StripeClient, StripeConfig, StripeError,
};
use serde_json::json;
use std::time::Duration;

const SECRET_KEY: &str = "sk_test_51FakeKeyForTests";

fn request(order_id: i64) -> CheckoutRequest {
    CheckoutRequest {
        order_id,
        order_reference: format!("IAP{order_id:05}"),
        product_name: "Starter Pack".into(),
        amount_minor: 1000,
        currency: "EUR".into(),
        success_url: format!("http://iapd.test/orders/{order_id}?session={{CHECKOUT_SESSION_ID}}"),
        cancel_url: format!("http://iapd.test/orders/{order_id}"),
    }
}

fn client_for(fake: &FakeStripe, key: &str, timeout: Duration) -> StripeClient {
    StripeClient::new(StripeConfig {
        secret_key: key.into(),
        api_base: fake.base_url().to_owned(),
        timeout,
    })
    .expect("client")
}

async fn fake_and_client() -> (FakeStripe, StripeClient) {
    let fake = FakeStripe::start(None, "whsec_unused".into()).await;
    let client = client_for(&fake, SECRET_KEY, Duration::from_secs(5));
    (fake, client)
}

#[tokio::test]
async fn creating_a_session_sends_stripes_form_with_the_order_key_and_the_secret_key() {
    let (fake, client) = fake_and_client().await;
    let session = client
        .create_checkout_session(&request(42))
        .await
        .expect("session");
    assert_eq!(session.status, SessionStatus::Open);
    assert_eq!(session.payment_status, PaymentStatus::Unpaid);
    assert_eq!(session.order_id, Some(42));
    assert_eq!(session.amount_total, Some(1000));
    assert_eq!(session.currency.as_deref(), Some("eur"));
    assert_eq!(
        session.url,
        Some(format!("{}/pay/{}", fake.base_url(), session.id))
    );

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/checkout/sessions")
    );
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {SECRET_KEY}").as_str())
    );
    assert_eq!(sent.header("idempotency-key"), Some("iapd-order-42"));
    assert_eq!(
        sent.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form: Vec<(&str, &str)> = sent
        .form
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        form,
        [
            ("mode", "payment"),
            ("line_items[0][price_data][currency]", "eur"),
            ("line_items[0][price_data][unit_amount]", "1000"),
            (
                "line_items[0][price_data][product_data][name]",
                "Starter Pack"
            ),
            ("line_items[0][quantity]", "1"),
            ("client_reference_id", "IAP00042"),
            ("metadata[order_id]", "42"),
            (
                "success_url",
                "http://iapd.test/orders/42?session={CHECKOUT_SESSION_ID}"
            ),
            ("cancel_url", "http://iapd.test/orders/42"),
        ]
    );
}

#[tokio::test]
async fn creating_again_for_the_same_order_returns_the_same_session() {
    let (fake, client) = fake_and_client().await;
    let first = client
        .create_checkout_session(&request(7))
        .await
        .expect("first");
    let again = client
        .create_checkout_session(&request(7))
        .await
        .expect("again");
    let other = client
        .create_checkout_session(&request(8))
        .await
        .expect("other");
    assert_eq!(first, again);
    assert_ne!(first.id, other.id);
    assert_eq!(fake.session_count(), 2);
}

#[tokio::test]
async fn a_session_paid_on_the_hosted_page_reads_back_as_paid_with_its_webhook_sent() {
    let inbox = WebhookInbox::start().await;
    let fake = FakeStripe::start(Some(inbox.url.clone()), "whsec_test".into()).await;
    let client = client_for(&fake, SECRET_KEY, Duration::from_secs(5));
    let session = client
        .create_checkout_session(&request(5))
        .await
        .expect("session");

    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser");
    let landing = browser
        .get(session.url.as_deref().expect("url"))
        .send()
        .await
        .expect("hosted page");
    assert_eq!(
        landing.headers()["location"],
        format!("http://iapd.test/orders/5?session={}", session.id).as_str()
    );

    let now = client
        .retrieve_checkout_session(&session.id)
        .await
        .expect("retrieved");
    assert_eq!(now.status, SessionStatus::Complete);
    assert!(now.is_paid());
    assert!(now.url.is_none());
    assert!(now.payment_intent.is_some_and(|pi| pi.starts_with("pi_")));
    assert_eq!(inbox.deliveries().len(), 1);
    assert_eq!(
        fake.requests().last().map(|r| r.path.clone()),
        Some(format!("/v1/checkout/sessions/{}", session.id))
    );
}

#[tokio::test]
async fn a_declined_or_invalid_request_is_a_final_api_error() {
    let (fake, client) = fake_and_client().await;
    fake.push_trouble(Trouble::Answer(
        402,
        json!({"error": {"type": "card_error", "code": "card_declined",
            "decline_code": "insufficient_funds", "message": "Your card has insufficient funds."}}),
    ));
    fake.push_trouble(Trouble::Answer(
        400,
        json!({"error": {"type": "invalid_request_error", "code": "parameter_invalid_integer",
            "param": "line_items[0][price_data][unit_amount]", "message": "Invalid integer: -1"}}),
    ));
    let declined = client.create_checkout_session(&request(1)).await;
    assert_eq!(
        declined,
        Err(StripeError::Api {
            status: 402,
            kind: "card_error".into(),
            code: Some("card_declined".into()),
            message: "Your card has insufficient funds.".into(),
        })
    );
    let invalid = client
        .create_checkout_session(&request(1))
        .await
        .unwrap_err();
    let StripeError::Api { status, code, .. } = &invalid else {
        panic!("{invalid:?}");
    };
    assert_eq!(
        (*status, code.as_deref()),
        (400, Some("parameter_invalid_integer"))
    );
    assert!(!invalid.is_retryable());
}

#[tokio::test]
async fn a_wrong_key_or_an_unknown_session_is_refused_for_good() {
    let (fake, client) = fake_and_client().await;
    let publishable = client_for(&fake, "pk_test_123", Duration::from_secs(5));
    let refused = publishable.create_checkout_session(&request(1)).await;
    assert!(
        matches!(refused, Err(StripeError::Api { status: 401, .. })),
        "{refused:?}"
    );
    let missing = client.retrieve_checkout_session("cs_test_nope").await;
    let Err(StripeError::Api { status, code, .. }) = &missing else {
        panic!("{missing:?}");
    };
    assert_eq!((*status, code.as_deref()), (404, Some("resource_missing")));
    let odd = client
        .retrieve_checkout_session("cs_1/../../v1/charges")
        .await;
    assert!(matches!(odd, Err(StripeError::Malformed(_))), "{odd:?}");
    assert_eq!(fake.requests().len(), 2, "the odd id never left iapd");
}

#[tokio::test]
async fn a_stripe_outage_is_retryable_and_the_retry_makes_no_second_session() {
    let (fake, client) = fake_and_client().await;
    fake.push_trouble(Trouble::Answer(
        500,
        json!({"error": {"type": "api_error", "message": "An unknown error occurred"}}),
    ));
    let outage = client
        .create_checkout_session(&request(3))
        .await
        .unwrap_err();
    assert!(outage.is_retryable(), "{outage:?}");
    let retried = client
        .create_checkout_session(&request(3))
        .await
        .expect("retry");
    let again = client
        .create_checkout_session(&request(3))
        .await
        .expect("again");
    assert_eq!(retried.id, again.id);
    assert_eq!(fake.session_count(), 1);
}

#[tokio::test]
async fn a_silent_stripe_times_out_as_retryable() {
    let fake = FakeStripe::start(None, "whsec_unused".into()).await;
    let client = client_for(&fake, SECRET_KEY, Duration::from_millis(300));
    fake.push_trouble(Trouble::Stall(Duration::from_secs(3)));
    let started = std::time::Instant::now();
    let silent = client.create_checkout_session(&request(9)).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(&silent, Err(StripeError::Transient(m)) if m.contains("no answer")),
        "{silent:?}"
    );
}

#[tokio::test]
async fn an_unreachable_stripe_is_retryable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let client = StripeClient::new(StripeConfig {
        secret_key: SECRET_KEY.into(),
        api_base: format!("http://127.0.0.1:{port}"),
        timeout: Duration::from_secs(2),
    })
    .expect("client");
    let error = client
        .retrieve_checkout_session("cs_test_1")
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
}
