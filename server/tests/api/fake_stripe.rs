//! A fake Stripe for HTTP tests: a real axum server on `127.0.0.1:0` that answers the
//! Checkout Sessions API the way Stripe does (form bodies, `Bearer sk_…` keys, idempotency
//! keys, Stripe-shaped errors), serves a stand-in for the hosted payment page, and signs the
//! webhooks it sends with the endpoint secret. It records every request so a test can check
//! exactly what iapd sent, and can be told to fail or stall the next API call.
//!
//! `end2end/fakes/stripe.mjs` is its twin for the browser tests; keep them in step.

use app::domain::stripe::signature_header;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One request as the fake received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// With its query string.
    pub path: String,
    /// Lowercase names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The form body as ordered pairs (empty for a GET).
    pub form: Vec<(String, String)>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the next `/v1/…` call meets instead of a normal answer.
#[derive(Clone, Debug)]
pub enum Trouble {
    /// This status and JSON body, like a Stripe refusal or outage.
    Answer(u16, Value),
    /// A wait before answering normally, to trip a client's timeout.
    Stall(Duration),
}

/// The fake's state, shared by its handlers and the test.
struct Shared {
    base_url: String,
    webhook_target: Mutex<Option<String>>,
    webhook_secret: String,
    http: reqwest::Client,
    inner: Mutex<Inner>,
}

/// A request's form, and the status and body first answered to it.
type Answered = (Vec<(String, String)>, u16, Value);

#[derive(Default)]
struct Inner {
    /// Session objects by id, as Stripe would return them now.
    sessions: BTreeMap<String, Value>,
    /// Idempotency key → the form it came with and the body first answered.
    keys: HashMap<String, (Vec<(String, String)>, Value)>,
    /// Refund objects by PaymentIntent: a payment is refunded once.
    refunds: BTreeMap<String, Value>,
    /// Customers, payment methods (with `customer` set once attached) and PaymentIntents.
    customers: BTreeMap<String, Value>,
    payment_methods: BTreeMap<String, Value>,
    intents: BTreeMap<String, Value>,
    /// PaymentIntent creations by idempotency key: the form, the status and the body, so a
    /// declined charge replays as declined.
    intent_keys: HashMap<String, Answered>,
    requests: Vec<Recorded>,
    trouble: VecDeque<Trouble>,
    counter: u64,
}

pub struct FakeStripe {
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl FakeStripe {
    /// Serves on a free port until dropped. Webhooks go to `webhook_target` (none are sent
    /// without one), signed with `webhook_secret`.
    pub async fn start(webhook_target: Option<String>, webhook_secret: String) -> FakeStripe {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let shared = Arc::new(Shared {
            base_url,
            webhook_target: Mutex::new(webhook_target),
            webhook_secret,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
            inner: Mutex::new(Inner::default()),
        });
        let router = Router::new()
            .route("/v1/checkout/sessions", axum::routing::post(create_session))
            .route("/v1/checkout/sessions/{id}", get(retrieve_session))
            .route("/v1/refunds", axum::routing::post(create_refund))
            .route("/v1/customers", axum::routing::post(create_customer))
            .route("/v1/payment_intents", axum::routing::post(create_intent))
            .route("/v1/payment_intents/{id}", get(retrieve_intent))
            .route("/pay/{id}", get(hosted_page))
            .route("/pay/{id}/cancel", get(hosted_cancel))
            .layer(middleware::from_fn_with_state(shared.clone(), record))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeStripe { shared, server }
    }

    /// `http://127.0.0.1:<port>`: the `api_base` to give `StripeClient`.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// The refunds made, one per PaymentIntent.
    pub fn refunds(&self) -> Vec<Value> {
        self.shared.lock().refunds.values().cloned().collect()
    }

    /// The session as `GET /v1/checkout/sessions/{id}` would return it.
    pub fn session(&self, id: &str) -> Option<Value> {
        self.shared.lock().sessions.get(id).cloned()
    }

    pub fn session_count(&self) -> usize {
        self.shared.lock().sessions.len()
    }

    /// Queues trouble for the next API call (calls meet queued troubles in order).
    pub fn push_trouble(&self, trouble: Trouble) {
        self.shared.lock().trouble.push_back(trouble);
    }

    /// The customer paid: the session completes, then the signed
    /// `checkout.session.completed` goes to the webhook target. The target's status, if any.
    pub async fn pay(&self, id: &str) -> Option<u16> {
        self.shared.pay(id).await
    }

    /// Where webhooks go from now on: a server under test learns its port only after the
    /// fake is running.
    pub fn set_webhook_target(&self, target: &str) {
        *self
            .shared
            .webhook_target
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(target.to_owned());
    }

    /// The customer paid, but the webhook is lost: the session completes and nothing is
    /// sent. Whether the session exists.
    pub fn pay_without_webhook(&self, id: &str) -> bool {
        self.shared.settle(id, "complete").is_some()
    }

    /// The session lapsed unpaid, then the signed `checkout.session.expired` goes out.
    pub async fn expire(&self, id: &str) -> Option<u16> {
        self.shared.settle(id, "expired")?;
        self.shared.send_event("checkout.session.expired", id).await
    }

    /// A signed event about a session without sending it: `(raw body, Stripe-Signature)`,
    /// for a test that hands it to the in-process router itself.
    pub fn signed_event(&self, kind: &str, id: &str) -> Option<(Vec<u8>, String)> {
        self.shared.signed_event(kind, id)
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Moves an open session to `complete` and paid, or to `expired`; `None` if unknown.
    fn settle(&self, id: &str, to: &str) -> Option<Value> {
        let mut inner = self.lock();
        inner.counter += 1;
        let intent = format!("pi_test_{:024}", inner.counter);
        let count = inner.counter;
        let session = inner.sessions.get_mut(id)?;
        if session["status"] == "open" {
            session["status"] = json!(to);
            session["url"] = Value::Null;
            if to == "complete" && session["mode"] == "setup" {
                // The card typed on the page: its number's last four decide how charges go.
                let number = session["card"]
                    .as_str()
                    .unwrap_or("4242424242424242")
                    .to_owned();
                let method = format!("pm_test_{count:024}");
                session["setup_intent"] = json!(format!("seti_test_{count:024}"));
                session["_payment_method"] = json!(method);
                let customer = session["customer"].clone();
                let card = json!({
                    "id": method,
                    "object": "payment_method",
                    "type": "card",
                    "customer": customer,
                    "card": {"brand": "visa", "last4": &number[number.len() - 4..],
                             "exp_month": 12, "exp_year": 2034},
                });
                inner.payment_methods.insert(method, card);
            } else if to == "complete" {
                session["payment_status"] = json!("paid");
                session["payment_intent"] = json!(intent);
            }
        }
        inner.sessions.get(id).cloned()
    }

    async fn pay(&self, id: &str) -> Option<u16> {
        self.settle(id, "complete")?;
        self.send_event("checkout.session.completed", id).await
    }

    fn signed_event(&self, kind: &str, id: &str) -> Option<(Vec<u8>, String)> {
        let mut inner = self.lock();
        let object = public(inner.sessions.get(id)?);
        inner.counter += 1;
        let created = now();
        let event = json!({
            "id": format!("evt_test_{:024}", inner.counter),
            "object": "event",
            "api_version": "2025-06-30.basil",
            "created": created,
            "data": {"object": object},
            "livemode": false,
            "pending_webhooks": 1,
            "request": {"id": null, "idempotency_key": null},
            "type": kind,
        });
        let body = serde_json::to_vec(&event).expect("event JSON");
        let signature = signature_header(&body, &self.webhook_secret, created);
        Some((body, signature))
    }

    /// POSTs the signed event like Stripe; the target's status, `None` without a target or
    /// if it could not be reached.
    async fn send_event(&self, kind: &str, id: &str) -> Option<u16> {
        let target = self
            .webhook_target
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()?;
        let (body, signature) = self.signed_event(kind, id)?;
        let response = self
            .http
            .post(&target)
            .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
            .header(
                header::USER_AGENT,
                "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            )
            .header("Stripe-Signature", signature)
            .body(body)
            .send()
            .await
            .ok()?;
        Some(response.status().as_u16())
    }
}

/// Stripe's error body.
fn stripe_error(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> Response {
    let mut error = json!({"type": kind, "message": message});
    if let Some(code) = code {
        error["code"] = json!(code);
    }
    (status, axum::Json(json!({ "error": error }))).into_response()
}

/// Records each request, then lets queued trouble intercept API calls.
async fn record(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let form = if parts.method == Method::POST {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes).unwrap_or_default()
    } else {
        Vec::new()
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: path.clone(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        form,
    };
    let trouble = {
        let mut inner = shared.lock();
        inner.requests.push(recorded);
        if path.starts_with("/v1/") {
            inner.trouble.pop_front()
        } else {
            None
        }
    };
    match trouble {
        Some(Trouble::Answer(status, body)) => {
            let status = StatusCode::from_u16(status).expect("status");
            return (status, axum::Json(body)).into_response();
        }
        Some(Trouble::Stall(wait)) => tokio::time::sleep(wait).await,
        None => {}
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Stripe's answer to a call without a secret key; `None` when the call may proceed.
fn unauthorised(headers: &HeaderMap) -> Option<Response> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match bearer {
        Some(key) if key.starts_with("sk_") => None,
        _ => Some(stripe_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            "Invalid API Key provided. A secret key (sk_…) is required.",
        )),
    }
}

async fn create_session(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = unauthorised(&headers) {
        return refusal;
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let key = idempotency_key(&headers);
    if let Some(replayed) = replay(&shared.lock(), key.as_deref(), &form) {
        return replayed;
    }
    if field("mode") == Some("setup") {
        return create_setup_session(&shared, &form, key);
    }
    for required in [
        "mode",
        "line_items[0][price_data][currency]",
        "line_items[0][price_data][unit_amount]",
        "line_items[0][price_data][product_data][name]",
        "line_items[0][quantity]",
        "success_url",
    ] {
        if field(required).is_none_or(str::is_empty) {
            return stripe_error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some("parameter_missing"),
                &format!("Missing required param: {required}."),
            );
        }
    }
    let amount = field("line_items[0][price_data][unit_amount]")
        .and_then(|a| a.parse::<i64>().ok())
        .filter(|a| *a > 0);
    let quantity = field("line_items[0][quantity]")
        .and_then(|q| q.parse::<i64>().ok())
        .filter(|q| *q > 0);
    let (Some(amount), Some(quantity), Some("payment")) = (amount, quantity, field("mode")) else {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("parameter_invalid_integer"),
            "Invalid mode, unit_amount or quantity.",
        );
    };
    let metadata = metadata(&form);
    let mut inner = shared.lock();
    inner.counter += 1;
    let id = format!("cs_test_a1{:058}", inner.counter);
    let created = now();
    let session = json!({
        "id": id,
        "object": "checkout.session",
        "amount_subtotal": amount * quantity,
        "amount_total": amount * quantity,
        "cancel_url": field("cancel_url"),
        "client_reference_id": field("client_reference_id"),
        "created": created,
        "currency": field("line_items[0][price_data][currency]"),
        "customer": null,
        "expires_at": created + 86_400,
        "livemode": false,
        "metadata": metadata,
        "mode": "payment",
        "payment_intent": null,
        "payment_status": "unpaid",
        "status": "open",
        "success_url": field("success_url"),
        "url": format!("{}/pay/{id}", shared.base_url),
    });
    inner.sessions.insert(id, session.clone());
    if let Some(key) = key {
        inner.keys.insert(key, (form.clone(), session.clone()));
    }
    axum::Json(session).into_response()
}

/// The `metadata[name]` fields of a form, as the object's `metadata`.
fn metadata(form: &[(String, String)]) -> serde_json::Map<String, Value> {
    form.iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("metadata[")?.strip_suffix(']')?;
            Some((name.to_owned(), json!(v)))
        })
        .collect()
}

/// The request's `Idempotency-Key`, if any.
fn idempotency_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Stripe's answer to a request whose idempotency key was seen: the first answer again for
/// the same parameters, a refusal for others; `None` for a new key.
fn replay(inner: &Inner, key: Option<&str>, form: &[(String, String)]) -> Option<Response> {
    let key = key?;
    let (first_form, answer) = inner.keys.get(key)?;
    if first_form != form {
        return Some(stripe_error(
            StatusCode::BAD_REQUEST,
            "idempotency_error",
            None,
            &format!(
                "Keys for idempotent requests can only be used with the same parameters \
                 they were first used with. Try using a key other than '{key}' if you \
                 meant to execute a different request."
            ),
        ));
    }
    Some(
        (
            [("idempotent-replayed", "true")],
            axum::Json(answer.clone()),
        )
            .into_response(),
    )
}

/// `POST /v1/refunds`: refunds a paid session's PaymentIntent in full, once. The same
/// idempotency key replays the first answer; a second refund of the same payment is refused
/// with `charge_already_refunded`, as Stripe does.
async fn create_refund(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = unauthorised(&headers) {
        return refusal;
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let key = idempotency_key(&headers);
    let mut inner = shared.lock();
    if let Some(replayed) = replay(&inner, key.as_deref(), &form) {
        return replayed;
    }
    let intent = form
        .iter()
        .find(|(k, _)| k == "payment_intent")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let Some(session) = inner
        .sessions
        .values()
        .find(|s| s["payment_intent"] == json!(intent))
        .cloned()
    else {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("resource_missing"),
            &format!("No such payment_intent: '{intent}'"),
        );
    };
    if inner.refunds.contains_key(&intent) {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("charge_already_refunded"),
            "Charge has already been refunded.",
        );
    }
    inner.counter += 1;
    let metadata = metadata(&form);
    let refund = json!({
        "id": format!("re_test_{:024}", inner.counter),
        "object": "refund",
        "amount": session["amount_total"],
        "currency": session["currency"],
        "created": now(),
        "metadata": metadata,
        "payment_intent": intent,
        "reason": form.iter().find(|(k, _)| k == "reason").map(|(_, v)| v.clone()),
        "status": "succeeded",
    });
    inner.refunds.insert(intent, refund.clone());
    if let Some(key) = key {
        inner.keys.insert(key, (form, refund.clone()));
    }
    axum::Json(refund).into_response()
}

async fn retrieve_session(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Path(id): Path<String>,
) -> Response {
    if let Some(refusal) = unauthorised(&headers) {
        return refusal;
    }
    let inner = shared.lock();
    match inner.sessions.get(&id) {
        Some(session) => {
            let mut session = session.clone();
            let expand = uri
                .query()
                .unwrap_or_default()
                .contains("setup_intent.payment_method");
            if let (true, Some(intent)) =
                (expand, session["setup_intent"].as_str().map(str::to_owned))
            {
                let method = session["_payment_method"]
                    .as_str()
                    .and_then(|m| inner.payment_methods.get(m))
                    .cloned();
                session["setup_intent"] = json!({
                    "id": intent, "object": "setup_intent", "status": "succeeded",
                    "payment_method": method,
                });
            }
            let session = public(&session);
            axum::Json(session).into_response()
        }
        None => stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("resource_missing"),
            &format!("No such checkout.session: '{id}'"),
        ),
    }
}

fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

/// The stand-in for Stripe's payment page: opening it pays. The webhook is delivered before
/// the customer is redirected, so a test never races it (real Stripe makes no such promise).
async fn hosted_page(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    axum::extract::Query(page): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    if let (Some(number), Some(session)) = (page.get("card"), shared.lock().sessions.get_mut(&id)) {
        session["card"] = json!(number);
    }
    let Some(session) = shared.lock().sessions.get(&id).cloned() else {
        return (StatusCode::NOT_FOUND, "No such Checkout Session").into_response();
    };
    match session["status"].as_str() {
        Some("open") => {
            shared.pay(&id).await;
        }
        Some("complete") => {}
        _ => return (StatusCode::GONE, "This Checkout Session has expired").into_response(),
    }
    let success = session["success_url"].as_str().unwrap_or("/");
    see_other(&success.replace("{CHECKOUT_SESSION_ID}", &id))
}

/// Stripe's back link: nothing changes, the customer returns to `cancel_url`.
async fn hosted_cancel(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let cancel = shared
        .lock()
        .sessions
        .get(&id)
        .and_then(|s| s["cancel_url"].as_str().map(str::to_owned));
    match cancel {
        Some(cancel) => see_other(&cancel),
        None => (StatusCode::NOT_FOUND, "No such Checkout Session").into_response(),
    }
}

/// A setup-mode session for `customer`: its page saves a card (a PaymentMethod attached to
/// the customer, reached through the session's SetupIntent).
fn create_setup_session(
    shared: &Shared,
    form: &[(String, String)],
    key: Option<String>,
) -> Response {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut inner = shared.lock();
    let customer = field("customer").filter(|c| inner.customers.contains_key(c));
    let (Some(customer), Some(success)) = (customer, field("success_url")) else {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("parameter_missing"),
            "Setup mode needs an existing customer and a success_url.",
        );
    };
    inner.counter += 1;
    let id = format!("cs_test_c1{:058}", inner.counter);
    let session = json!({
        "id": id,
        "object": "checkout.session",
        "cancel_url": field("cancel_url"),
        "created": now(),
        "currency": null,
        "customer": customer,
        "livemode": false,
        "metadata": metadata(form),
        "mode": "setup",
        "payment_intent": null,
        "payment_status": "no_payment_required",
        "setup_intent": null,
        "status": "open",
        "success_url": success,
        "url": format!("{}/pay/{id}", shared.base_url),
    });
    inner.sessions.insert(id, session.clone());
    if let Some(key) = key {
        inner.keys.insert(key, (form.to_vec(), session.clone()));
    }
    axum::Json(session).into_response()
}

/// A session as Stripe shows it: without what the fake keeps for itself (the card typed
/// on its page, the payment method it saved).
fn public(session: &Value) -> Value {
    let mut session = session.clone();
    if let Some(object) = session.as_object_mut() {
        object.remove("card");
        object.remove("_payment_method");
    }
    session
}

/// `POST /v1/customers`.
async fn create_customer(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = unauthorised(&headers) {
        return refusal;
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let key = idempotency_key(&headers);
    let mut inner = shared.lock();
    if let Some(replayed) = replay(&inner, key.as_deref(), &form) {
        return replayed;
    }
    inner.counter += 1;
    let id = format!("cus_test_{:014}", inner.counter);
    let customer = json!({
        "id": id,
        "object": "customer",
        "name": form.iter().find(|(k, _)| k == "name").map(|(_, v)| v.clone()),
        "metadata": metadata(&form),
    });
    inner.customers.insert(id, customer.clone());
    if let Some(key) = key {
        inner.keys.insert(key, (form, customer.clone()));
    }
    axum::Json(customer).into_response()
}

/// `POST /v1/payment_intents` with `confirm=true` and `off_session=true`: charges a saved
/// card at once. A card ending in 0341 (Stripe's "attaches, but charges fail" test card) is
/// declined with a 402 `card_error`; so is a payment method not attached to the customer.
async fn create_intent(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = unauthorised(&headers) {
        return refusal;
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let key = idempotency_key(&headers);
    let mut inner = shared.lock();
    if let Some((first, status, answer)) = key.as_ref().and_then(|k| inner.intent_keys.get(k)) {
        if *first != form {
            return stripe_error(
                StatusCode::BAD_REQUEST,
                "idempotency_error",
                None,
                "Keys for idempotent requests can only be used with the same parameters they were first used with.",
            );
        }
        let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::OK);
        return (
            status,
            [("idempotent-replayed", "true")],
            axum::Json(answer.clone()),
        )
            .into_response();
    }
    let amount = field("amount")
        .and_then(|a| a.parse::<i64>().ok())
        .filter(|a| *a > 0);
    let (Some(amount), Some(currency), Some(customer), Some(method), Some("true"), Some("true")) = (
        amount,
        field("currency"),
        field("customer"),
        field("payment_method"),
        field("confirm").as_deref(),
        field("off_session").as_deref(),
    ) else {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("parameter_missing"),
            "amount, currency, customer, payment_method, confirm and off_session are required here.",
        );
    };
    inner.counter += 1;
    let id = format!("pi_test_{:024}", inner.counter);
    let card = inner.payment_methods.get(&method).cloned();
    let attached = card
        .as_ref()
        .is_some_and(|c| c["customer"] == json!(customer));
    let declines = card.as_ref().is_none_or(|c| c["card"]["last4"] == "0341");
    let mut intent = json!({
        "id": id,
        "object": "payment_intent",
        "amount": amount,
        "currency": currency,
        "customer": customer,
        "payment_method": method,
        "metadata": metadata(&form),
        "status": "succeeded",
        "last_payment_error": null,
    });
    let (status, answer) = if !attached || declines {
        intent["status"] = json!("requires_payment_method");
        let message = "Your card was declined.";
        intent["last_payment_error"] = json!({"code": "card_declined", "message": message});
        let error = json!({"error": {
            "type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
            "message": message, "payment_intent": intent,
        }});
        (402, error)
    } else {
        (200, intent.clone())
    };
    inner.intents.insert(id, intent);
    if let Some(key) = key {
        inner
            .intent_keys
            .insert(key, (form, status, answer.clone()));
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (status, axum::Json(answer)).into_response()
}

/// `GET /v1/payment_intents/{id}`.
async fn retrieve_intent(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(refusal) = unauthorised(&headers) {
        return refusal;
    }
    match shared.lock().intents.get(&id) {
        Some(intent) => axum::Json(intent.clone()).into_response(),
        None => stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("resource_missing"),
            &format!("No such payment_intent: '{id}'"),
        ),
    }
}

/// A webhook endpoint for tests: records each delivery and answers 200.
pub struct WebhookInbox {
    pub url: String,
    received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    server: JoinHandle<()>,
}

impl Drop for WebhookInbox {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl WebhookInbox {
    pub async fn start() -> WebhookInbox {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!(
            "http://{}/webhooks/stripe",
            listener.local_addr().expect("addr")
        );
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        let router = Router::new().route(
            "/webhooks/stripe",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| async move {
                store.lock().expect("inbox").push((headers, body));
                StatusCode::OK
            }),
        );
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        WebhookInbox {
            url,
            received,
            server,
        }
    }

    /// Each delivery as (`Stripe-Signature`, raw body).
    pub fn deliveries(&self) -> Vec<(String, Bytes)> {
        self.received
            .lock()
            .expect("inbox")
            .iter()
            .map(|(headers, body)| {
                let signature = headers
                    .get("stripe-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                (signature, body.clone())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::stripe::{DEFAULT_TOLERANCE_SECS, WebhookEvent, verify_signature};

    const SECRET: &str = "whsec_fake_secret";

    fn create_form(order: i64) -> String {
        serde_urlencoded::to_string([
            ("mode", "payment".to_owned()),
            ("line_items[0][price_data][currency]", "eur".to_owned()),
            ("line_items[0][price_data][unit_amount]", "1000".to_owned()),
            (
                "line_items[0][price_data][product_data][name]",
                "Starter Pack".to_owned(),
            ),
            ("line_items[0][quantity]", "1".to_owned()),
            ("client_reference_id", format!("IAP{order:05}")),
            ("metadata[order_id]", order.to_string()),
            (
                "success_url",
                "http://shop.test/done?session={CHECKOUT_SESSION_ID}".to_owned(),
            ),
            ("cancel_url", "http://shop.test/cancelled".to_owned()),
        ])
        .expect("form")
    }

    async fn create(fake: &FakeStripe, key: &str, form: String, auth: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/v1/checkout/sessions", fake.base_url()))
            .header(header::AUTHORIZATION, auth)
            .header("Idempotency-Key", key)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("fake answers")
    }

    fn verified(delivery: &(String, Bytes)) -> WebhookEvent {
        let now = now();
        verify_signature(
            &delivery.0,
            &delivery.1,
            SECRET,
            now,
            DEFAULT_TOLERANCE_SECS,
        )
        .expect("signed with the endpoint secret");
        WebhookEvent::parse(&delivery.1).expect("a Stripe event")
    }

    #[tokio::test]
    async fn the_hosted_page_pays_signs_the_webhook_and_returns_to_the_shop() {
        let inbox = WebhookInbox::start().await;
        let fake = FakeStripe::start(Some(inbox.url.clone()), SECRET.into()).await;
        let session: Value = create(&fake, "k1", create_form(42), "Bearer sk_test_1")
            .await
            .json()
            .await
            .expect("session");
        let id = session["id"].as_str().expect("id").to_owned();
        assert_eq!(session["status"], "open");

        let no_redirect = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let page = no_redirect
            .get(session["url"].as_str().expect("url"))
            .send()
            .await
            .expect("page");
        assert_eq!(page.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            page.headers()[header::LOCATION],
            format!("http://shop.test/done?session={id}").as_str()
        );

        let deliveries = inbox.deliveries();
        assert_eq!(deliveries.len(), 1);
        match verified(&deliveries[0]) {
            WebhookEvent::CheckoutCompleted {
                session_id,
                order_id,
                paid,
                amount_total,
                ..
            } => {
                assert_eq!(
                    (session_id.as_str(), order_id, paid, amount_total),
                    (id.as_str(), Some(42), true, Some(1000))
                );
            }
            other => panic!("{other:?}"),
        }
        let now_paid = fake.session(&id).expect("session");
        assert_eq!(
            (&now_paid["status"], &now_paid["payment_status"]),
            (&json!("complete"), &json!("paid"))
        );

        let cancel = no_redirect
            .get(format!("{}/pay/{id}/cancel", fake.base_url()))
            .send()
            .await
            .expect("cancel");
        assert_eq!(
            cancel.headers()[header::LOCATION],
            "http://shop.test/cancelled"
        );
    }

    #[tokio::test]
    async fn an_expired_session_sends_a_signed_expired_event_and_cannot_be_paid() {
        let inbox = WebhookInbox::start().await;
        let fake = FakeStripe::start(Some(inbox.url.clone()), SECRET.into()).await;
        let session: Value = create(&fake, "k1", create_form(7), "Bearer sk_test_1")
            .await
            .json()
            .await
            .expect("session");
        let id = session["id"].as_str().expect("id");
        assert_eq!(fake.expire(id).await, Some(200));
        match verified(&inbox.deliveries()[0]) {
            WebhookEvent::CheckoutExpired {
                session_id,
                order_id,
                ..
            } => assert_eq!((session_id.as_str(), order_id), (id, Some(7))),
            other => panic!("{other:?}"),
        }
        let page = reqwest::get(session["url"].as_str().expect("url"))
            .await
            .expect("page");
        assert_eq!(page.status(), StatusCode::GONE);
        assert_eq!(
            inbox.deliveries().len(),
            1,
            "no completed event after expiry"
        );
    }

    #[tokio::test]
    async fn the_fake_refuses_like_stripe_without_a_secret_key_or_with_a_reused_key() {
        let fake = FakeStripe::start(None, SECRET.into()).await;
        let anonymous = create(&fake, "k1", create_form(1), "Bearer pk_test_1").await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

        let first = create(&fake, "k1", create_form(1), "Bearer sk_test_1").await;
        assert_eq!(first.status(), StatusCode::OK);
        let again = create(&fake, "k1", create_form(1), "Bearer sk_test_1").await;
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        let reused = create(&fake, "k1", create_form(2), "Bearer sk_test_1").await;
        assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
        let error: Value = reused.json().await.expect("error body");
        assert_eq!(error["error"]["type"], "idempotency_error");
        assert_eq!(fake.session_count(), 1);

        let (body, signature) = fake
            .signed_event("checkout.session.completed", &first_id(&fake))
            .expect("event");
        assert!(verify_signature(&signature, &body, SECRET, now(), 300).is_ok());
        assert_eq!(fake.pay(&first_id(&fake)).await, None, "no webhook target");
    }

    fn first_id(fake: &FakeStripe) -> String {
        fake.shared
            .lock()
            .sessions
            .keys()
            .next()
            .expect("a session")
            .clone()
    }
}
