//! Stripe Checkout through its REST API: create a hosted payment page for an order, and read
//! a session back to reconcile when its webhook is late or lost. A thin client on reqwest;
//! what Stripe's answers mean is decided in [`crate::domain::stripe`], and whether a failure
//! may be retried in [`StripeError`].

pub use crate::domain::stripe::{
    CheckoutSession, IntentStatus, PaymentIntent, PaymentStatus, RefundOutcome, SessionStatus,
    SetupSession, StripeRefund,
};
use std::time::Duration;

/// Where Stripe's API lives; tests point [`StripeConfig::api_base`] at a fake instead.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// How to reach Stripe.
#[derive(Clone)]
pub struct StripeConfig {
    /// `sk_live_…` or `sk_test_…` (a restricted `rk_…` key works too). Never logged.
    pub secret_key: String,
    /// Scheme and host without a trailing slash: [`DEFAULT_API_BASE`] in production.
    pub api_base: String,
    /// For each request, connection included: a checkout must not hang on Stripe.
    pub timeout: Duration,
}

impl StripeConfig {
    /// The production API with a ten-second timeout.
    pub fn new(secret_key: impl Into<String>) -> StripeConfig {
        StripeConfig {
            secret_key: secret_key.into(),
            api_base: DEFAULT_API_BASE.to_owned(),
            timeout: Duration::from_secs(10),
        }
    }
}

impl std::fmt::Debug for StripeConfig {
    /// Never prints the key: configs end up in startup logs and panic messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field("secret_key", &"<redacted>")
            .field("api_base", &self.api_base)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The order facts a Checkout Session is made from. The amount always comes from the order
/// in the database, never from the browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// Sent as `metadata[order_id]`: how a webhook finds its order again.
    pub order_id: i64,
    /// `IAP00042`: sent as `client_reference_id`, what an operator searches for in Stripe's
    /// Dashboard, and the fallback way back to the order.
    pub order_reference: String,
    /// The line item's name on Stripe's page and receipt.
    pub product_name: String,
    /// In the currency's minor unit (cents), like every price in iapd.
    pub amount_minor: i64,
    /// ISO code in any case; Stripe is sent it lowercase.
    pub currency: String,
    /// Where Stripe sends the customer after paying; `{CHECKOUT_SESSION_ID}` is filled in.
    pub success_url: String,
    /// Where Stripe's back link leads.
    pub cancel_url: String,
}

impl CheckoutRequest {
    /// The form Stripe's `POST /v1/checkout/sessions` takes, in a fixed order: one line
    /// item priced inline (no Product or Price objects to keep in sync with the packs).
    pub fn form(&self) -> Vec<(&'static str, String)> {
        vec![
            ("mode", "payment".to_owned()),
            (
                "line_items[0][price_data][currency]",
                self.currency.to_lowercase(),
            ),
            (
                "line_items[0][price_data][unit_amount]",
                self.amount_minor.to_string(),
            ),
            (
                "line_items[0][price_data][product_data][name]",
                self.product_name.clone(),
            ),
            ("line_items[0][quantity]", "1".to_owned()),
            ("client_reference_id", self.order_reference.clone()),
            ("metadata[order_id]", self.order_id.to_string()),
            ("success_url", self.success_url.clone()),
            ("cancel_url", self.cancel_url.clone()),
        ]
    }

    /// One key per order: a retried create (a timeout, a double click, a restart) returns
    /// the session Stripe already made instead of a second one. Stripe keeps keys for 24
    /// hours, and answers `idempotency_error` if the same key comes with other parameters.
    pub fn idempotency_key(&self) -> String {
        format!("iapd-order-{}", self.order_id)
    }
}

/// A setup-mode Checkout Session to save a card for an account's auto-recharge.
#[derive(Clone, Debug)]
pub struct CardSetupRequest<'a> {
    pub account: i64,
    /// Who saves it: the buyer of the orders it pays.
    pub user: i64,
    pub customer: &'a str,
    /// Back to Account Information; `{CHECKOUT_SESSION_ID}` is filled in by Stripe.
    pub success_url: &'a str,
    pub cancel_url: &'a str,
}

/// An off-session charge of an auto-recharge order to a saved card.
#[derive(Clone, Debug)]
pub struct OffSessionCharge<'a> {
    pub order: i64,
    /// Cents of `currency`.
    pub amount: i64,
    pub currency: &'a str,
    pub customer: &'a str,
    pub payment_method: &'a str,
    /// What the card statement and Stripe's Dashboard show, e.g. the order's reference.
    pub description: &'a str,
}

/// Why a call to Stripe failed, sorted by what the caller may do about it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StripeError {
    /// Stripe refused the request (a 4xx, or any answer with `Stripe-Should-Retry: false`):
    /// final, the same request will be refused again. `kind` is Stripe's error `type`
    /// (`invalid_request_error`, `card_error`, `idempotency_error`, `api_error`).
    #[error("Stripe refused the request ({status} {kind}): {message}")]
    Api {
        status: u16,
        kind: String,
        code: Option<String>,
        message: String,
    },
    /// Stripe could not answer now: a 5xx, a 409 or 429 (a concurrent request on the same
    /// idempotency key, a rate limit), a timeout, a refused connection. Retrying with the same
    /// idempotency key is safe.
    #[error("Stripe is unavailable: {0}")]
    Transient(String),
    /// An answer iapd cannot read (or a request it refused to build): not retried, logged
    /// for an operator.
    #[error("unexpected exchange with Stripe: {0}")]
    Malformed(String),
}

impl StripeError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, StripeError::Transient(_))
    }
}

/// Stripe's error body: `{"error": {"type", "code", "message", …}}`.
#[derive(serde::Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(serde::Deserialize)]
struct ErrorDetail {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// What one answer from Stripe means: a session, or a [`StripeError`] by the rules on it.
/// `should_retry` is Stripe's `Stripe-Should-Retry` header, which overrides the status code
/// when present, as in Stripe's own libraries.
pub fn read_answer(
    status: u16,
    should_retry: Option<bool>,
    body: &[u8],
) -> Result<CheckoutSession, StripeError> {
    read_object(
        status,
        should_retry,
        body,
        "session",
        CheckoutSession::from_json,
    )
}

/// [`read_answer`] for any object: `what` names it in errors, `parse` reads it.
fn read_object<T, E: std::fmt::Display>(
    status: u16,
    should_retry: Option<bool>,
    body: &[u8],
    what: &str,
    parse: fn(serde_json::Value) -> Result<T, E>,
) -> Result<T, StripeError> {
    if (200..300).contains(&status) {
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| StripeError::Malformed(format!("{what} is not JSON: {e}")))?;
        return parse(value).map_err(|e| StripeError::Malformed(format!("{what}: {e}")));
    }
    let detail = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|b| b.error);
    let retryable = should_retry.unwrap_or(status == 409 || status == 429 || status >= 500);
    if retryable {
        let message = detail.and_then(|d| d.message).unwrap_or_default();
        return Err(StripeError::Transient(
            format!("HTTP {status} {message}").trim_end().to_owned(),
        ));
    }
    match detail {
        Some(detail) => Err(StripeError::Api {
            status,
            kind: detail.kind,
            code: detail.code,
            message: detail.message.unwrap_or_default(),
        }),
        None => Err(StripeError::Malformed(format!(
            "HTTP {status} without a Stripe error body"
        ))),
    }
}

/// Stripe's ids are letters, digits and underscores; anything else would change the path.
fn is_stripe_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The Checkout Sessions API, authenticated with the secret key.
pub struct StripeClient {
    client: reqwest::Client,
    config: StripeConfig,
}

impl StripeClient {
    pub fn new(config: StripeConfig) -> Result<StripeClient, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // Stripe's API never redirects; following one would carry the key elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("iapd/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(StripeClient { client, config })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.api_base.trim_end_matches('/'))
    }

    /// `POST /v1/checkout/sessions` for one order, keyed `iapd-order-<id>`.
    #[tracing::instrument(skip_all, fields(order = request.order_id))]
    pub async fn create_checkout_session(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutSession, StripeError> {
        let call = self
            .client
            .post(self.url("/v1/checkout/sessions"))
            .bearer_auth(&self.config.secret_key)
            .header("Idempotency-Key", request.idempotency_key())
            .form(&request.form());
        let session = self.exchange(call).await?;
        tracing::info!(session = %session.id, "Stripe Checkout Session created");
        Ok(session)
    }

    /// `GET /v1/checkout/sessions/{id}`: the session as Stripe sees it now.
    #[tracing::instrument(skip_all, fields(session = id))]
    pub async fn retrieve_checkout_session(
        &self,
        id: &str,
    ) -> Result<CheckoutSession, StripeError> {
        if !is_stripe_id(id) {
            return Err(StripeError::Malformed(format!(
                "{id:?} is not a Checkout Session id"
            )));
        }
        let call = self
            .client
            .get(self.url(&format!("/v1/checkout/sessions/{id}")))
            .bearer_auth(&self.config.secret_key);
        self.exchange(call).await
    }

    async fn exchange(
        &self,
        call: reqwest::RequestBuilder,
    ) -> Result<CheckoutSession, StripeError> {
        self.exchange_for(call, "session", CheckoutSession::from_json)
            .await
    }

    async fn exchange_for<T, E: std::fmt::Display>(
        &self,
        call: reqwest::RequestBuilder,
        what: &str,
        parse: fn(serde_json::Value) -> Result<T, E>,
    ) -> Result<T, StripeError> {
        let response = call.send().await.map_err(|e| self.transport(e))?;
        let status = response.status().as_u16();
        let should_retry = response
            .headers()
            .get("stripe-should-retry")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<bool>().ok());
        let body = response.bytes().await.map_err(|e| self.transport(e))?;
        let answer = read_object(status, should_retry, &body, what, parse);
        if let Err(error) = &answer {
            tracing::warn!(%error, "Stripe call failed");
        }
        answer
    }

    /// `POST /v1/refunds` for the whole of `payment_intent`, keyed `iapd-refund-<order>`:
    /// asking again after a lost answer returns the same refund, never a second one.
    #[tracing::instrument(skip_all, fields(order))]
    pub async fn create_refund(
        &self,
        order: i64,
        payment_intent: &str,
    ) -> Result<StripeRefund, StripeError> {
        if !is_stripe_id(payment_intent) {
            return Err(StripeError::Malformed(format!(
                "{payment_intent:?} is not a PaymentIntent id"
            )));
        }
        let form = [
            ("payment_intent", payment_intent.to_owned()),
            ("reason", "requested_by_customer".to_owned()),
            ("metadata[order_id]", order.to_string()),
        ];
        let call = self
            .client
            .post(self.url("/v1/refunds"))
            .bearer_auth(&self.config.secret_key)
            .header("Idempotency-Key", format!("iapd-refund-{order}"))
            .form(&form);
        let refund = self
            .exchange_for(call, "refund", StripeRefund::from_json)
            .await?;
        tracing::info!(refund = %refund.id, status = ?refund.status, "Stripe refund created");
        Ok(refund)
    }

    /// `POST /v1/customers` for an account's auto-recharge, keyed `iapd-customer-<account>`:
    /// a retry after a lost answer returns the same customer. Returns its id.
    #[tracing::instrument(skip_all, fields(account))]
    pub async fn create_customer(&self, account: i64, name: &str) -> Result<String, StripeError> {
        let form = [
            ("name", name.to_owned()),
            ("description", format!("iapd account {account}")),
            ("metadata[account_id]", account.to_string()),
        ];
        let call = self
            .client
            .post(self.url("/v1/customers"))
            .bearer_auth(&self.config.secret_key)
            .header("Idempotency-Key", format!("iapd-customer-{account}"))
            .form(&form);
        let id = self
            .exchange_for(call, "customer", |value: serde_json::Value| {
                value
                    .get("id")
                    .and_then(|id| id.as_str())
                    .filter(|id| is_stripe_id(id))
                    .map(str::to_owned)
                    .ok_or("no customer id")
            })
            .await?;
        tracing::info!(customer = %id, "Stripe customer created");
        Ok(id)
    }

    /// `POST /v1/checkout/sessions` in `setup` mode: Stripe's page where an administrator
    /// saves the card auto-recharge charges. Returns the page's address.
    #[tracing::instrument(skip_all, fields(account = setup.account))]
    pub async fn create_setup_session(
        &self,
        setup: &CardSetupRequest<'_>,
    ) -> Result<String, StripeError> {
        if !is_stripe_id(setup.customer) {
            return Err(StripeError::Malformed(format!(
                "{:?} is not a customer id",
                setup.customer
            )));
        }
        let form = [
            ("mode", "setup".to_owned()),
            ("customer", setup.customer.to_owned()),
            ("payment_method_types[0]", "card".to_owned()),
            ("success_url", setup.success_url.to_owned()),
            ("cancel_url", setup.cancel_url.to_owned()),
            ("metadata[account_id]", setup.account.to_string()),
            ("metadata[user_id]", setup.user.to_string()),
            ("metadata[purpose]", "auto_recharge_card".to_owned()),
        ];
        let call = self
            .client
            .post(self.url("/v1/checkout/sessions"))
            .bearer_auth(&self.config.secret_key)
            .form(&form);
        let session = self
            .exchange_for(call, "setup session", |value: serde_json::Value| {
                value
                    .get("url")
                    .and_then(|url| url.as_str())
                    .map(str::to_owned)
                    .ok_or("no url")
            })
            .await?;
        Ok(session)
    }

    /// `GET /v1/checkout/sessions/{id}` of a setup session, with the SetupIntent's payment
    /// method expanded: the card it saved.
    #[tracing::instrument(skip_all, fields(session = id))]
    pub async fn retrieve_setup_session(&self, id: &str) -> Result<SetupSession, StripeError> {
        if !is_stripe_id(id) {
            return Err(StripeError::Malformed(format!(
                "{id:?} is not a Checkout Session id"
            )));
        }
        let call = self
            .client
            .get(self.url(&format!("/v1/checkout/sessions/{id}")))
            .query(&[("expand[]", "setup_intent.payment_method")])
            .bearer_auth(&self.config.secret_key);
        self.exchange_for(call, "setup session", SetupSession::from_json)
            .await
    }

    /// `POST /v1/payment_intents`: charges an auto-recharge order to a saved card, off
    /// session and confirmed at once, keyed `iapd-auto-<order>`: asking again after a lost
    /// answer or a crash returns the same PaymentIntent, never a second charge.
    #[tracing::instrument(skip_all, fields(order = charge.order))]
    pub async fn charge_saved_card(
        &self,
        charge: &OffSessionCharge<'_>,
    ) -> Result<PaymentIntent, StripeError> {
        for id in [charge.customer, charge.payment_method] {
            if !is_stripe_id(id) {
                return Err(StripeError::Malformed(format!("{id:?} is not a Stripe id")));
            }
        }
        let form = [
            ("amount", charge.amount.to_string()),
            ("currency", charge.currency.to_ascii_lowercase()),
            ("customer", charge.customer.to_owned()),
            ("payment_method", charge.payment_method.to_owned()),
            ("off_session", "true".to_owned()),
            ("confirm", "true".to_owned()),
            ("description", charge.description.to_owned()),
            ("metadata[order_id]", charge.order.to_string()),
        ];
        let call = self
            .client
            .post(self.url("/v1/payment_intents"))
            .bearer_auth(&self.config.secret_key)
            .header("Idempotency-Key", format!("iapd-auto-{}", charge.order))
            .form(&form);
        let intent = self
            .exchange_for(call, "payment intent", PaymentIntent::from_json)
            .await?;
        tracing::info!(intent = %intent.id, status = ?intent.status, "Stripe PaymentIntent created");
        Ok(intent)
    }

    /// `GET /v1/payment_intents/{id}`: a charge that was not settled when it was made.
    #[tracing::instrument(skip_all, fields(intent = id))]
    pub async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, StripeError> {
        if !is_stripe_id(id) {
            return Err(StripeError::Malformed(format!(
                "{id:?} is not a PaymentIntent id"
            )));
        }
        let call = self
            .client
            .get(self.url(&format!("/v1/payment_intents/{id}")))
            .bearer_auth(&self.config.secret_key);
        self.exchange_for(call, "payment intent", PaymentIntent::from_json)
            .await
    }

    fn transport(&self, error: reqwest::Error) -> StripeError {
        if error.is_builder() {
            StripeError::Malformed(format!("request not built: {error}"))
        } else if error.is_timeout() {
            StripeError::Transient(format!("no answer within {:?}", self.config.timeout))
        } else {
            StripeError::Transient(format!("unreachable: {error}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request() -> CheckoutRequest {
        CheckoutRequest {
            order_id: 42,
            order_reference: "IAP00042".into(),
            product_name: "Starter Pack".into(),
            amount_minor: 1000,
            currency: "EUR".into(),
            success_url: "http://iapd.test/orders/42?session={CHECKOUT_SESSION_ID}".into(),
            cancel_url: "http://iapd.test/orders/42".into(),
        }
    }

    #[test]
    fn the_form_carries_one_inline_priced_line_and_the_order_in_two_places() {
        let form = request().form();
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            fields,
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
        assert_eq!(request().idempotency_key(), "iapd-order-42");
    }

    #[test]
    fn the_config_never_prints_its_secret_key() {
        let config = StripeConfig::new("sk_test_51Hsecretvalue");
        let printed = format!("{config:?}");
        assert!(!printed.contains("51Hsecretvalue"), "{printed}");
        assert!(printed.contains("api.stripe.com"), "{printed}");
    }

    #[test]
    fn a_session_answer_is_read_as_a_session() {
        let body = json!({
            "id": "cs_test_1", "object": "checkout.session", "status": "open",
            "payment_status": "unpaid", "url": "https://checkout.stripe.com/c/pay/cs_test_1",
            "metadata": {"order_id": "42"}, "amount_total": 1000, "currency": "eur"
        });
        let session = read_answer(200, None, body.to_string().as_bytes()).unwrap();
        assert_eq!(session.order_id, Some(42));
        assert_eq!(session.status, SessionStatus::Open);
        assert!(matches!(
            read_answer(200, None, b"<html>"),
            Err(StripeError::Malformed(_))
        ));
        assert!(matches!(
            read_answer(200, None, br#"{"id":"cs_1","object":"checkout.session"}"#),
            Err(StripeError::Malformed(_))
        ));
    }

    #[test]
    fn refusals_are_final_and_outages_are_retryable() {
        let declined = json!({"error": {"type": "card_error", "code": "card_declined",
            "decline_code": "generic_decline", "message": "Your card was declined."}});
        let answer = read_answer(402, None, declined.to_string().as_bytes());
        assert_eq!(
            answer,
            Err(StripeError::Api {
                status: 402,
                kind: "card_error".into(),
                code: Some("card_declined".into()),
                message: "Your card was declined.".into(),
            })
        );
        assert!(!answer.unwrap_err().is_retryable());

        let outage = json!({"error": {"type": "api_error", "message": "Something went wrong."}});
        for status in [500, 503, 409, 429] {
            let answer = read_answer(status, None, outage.to_string().as_bytes());
            assert!(answer.unwrap_err().is_retryable(), "{status}");
        }
        assert_eq!(
            read_answer(502, None, b"Bad Gateway"),
            Err(StripeError::Transient("HTTP 502".into()))
        );
        assert!(matches!(
            read_answer(404, None, b"Not Found"),
            Err(StripeError::Malformed(_))
        ));
    }

    #[test]
    fn stripe_should_retry_overrides_the_status_code() {
        let body = json!({"error": {"type": "api_error", "message": "Lock timeout."}});
        let bytes = body.to_string();
        assert!(
            read_answer(400, Some(true), bytes.as_bytes())
                .unwrap_err()
                .is_retryable()
        );
        assert!(matches!(
            read_answer(500, Some(false), bytes.as_bytes()),
            Err(StripeError::Api { status: 500, .. })
        ));
    }

    #[test]
    fn only_stripe_shaped_ids_are_put_in_a_path() {
        assert!(is_stripe_id("cs_test_a1B2c3"));
        for bad in ["", "cs_1/../../v1/charges", "cs_1?expand=x", "cs 1", "cs_é"] {
            assert!(!is_stripe_id(bad), "{bad}");
        }
    }
}
