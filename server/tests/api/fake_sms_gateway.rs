//! A fake HTTP SMS gateway on a local port, as iapd's HTTP provider talks to one: each
//! message POSTed as JSON with an `Idempotency-Key`. It recognises a repeated key (answers
//! the first reference again, delivers nothing twice), can refuse some numbers, answer
//! slowly, answer the first few too late (having delivered them), or hold every answer
//! after the first few until told to go on.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// One request as the gateway saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub key: String,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<Received>>,
    /// Idempotency key → reference, for every message delivered.
    delivered: Mutex<HashMap<String, String>>,
    refused: Mutex<HashSet<String>>,
    delay: Mutex<Duration>,
    /// Answer this many requests, then hold the answers of the next ones.
    answer_first: Mutex<Option<usize>>,
    /// How many of the next requests to answer late, and how late.
    late: Mutex<(usize, Duration)>,
    held: AtomicUsize,
    go_on: Notify,
    released: AtomicBool,
}

#[derive(Clone)]
pub struct FakeGateway {
    /// Where iapd posts messages (`SMS_GATEWAY_URL`).
    pub url: String,
    inner: Arc<Inner>,
}

impl FakeGateway {
    pub async fn start() -> FakeGateway {
        let inner = Arc::new(Inner::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let router = axum::Router::new()
            .route("/sms", axum::routing::post(handle))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        FakeGateway {
            url: format!("http://{addr}/sms"),
            inner,
        }
    }

    /// Takes `delay` to answer each message.
    pub fn answer_in(&self, delay: Duration) {
        *self.inner.delay.lock().expect("lock") = delay;
    }

    /// Refuses messages to `number` (E.164) with a 422.
    pub fn refuse(&self, number: &str) {
        self.inner
            .refused
            .lock()
            .expect("lock")
            .insert(number.to_owned());
    }

    /// Delivers the next `n` messages at once but answers each only after `delay`: later
    /// than a client that gave up waiting.
    pub fn answer_late(&self, n: usize, delay: Duration) {
        *self.inner.late.lock().expect("lock") = (n, delay);
    }

    /// Delivers every message, but answers only the first `n`; the others wait for
    /// [`FakeGateway::go_on`].
    pub fn answer_only_first(&self, n: usize) {
        *self.inner.answer_first.lock().expect("lock") = Some(n);
    }

    /// Answers held requests, and every later one at once.
    pub fn go_on(&self) {
        self.inner.released.store(true, Ordering::SeqCst);
        self.inner.go_on.notify_waiters();
    }

    /// Requests whose answer is held right now.
    pub fn held(&self) -> usize {
        self.inner.held.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.received.lock().expect("lock").clone()
    }

    /// Idempotency key → reference of every message delivered (once each).
    pub fn delivered(&self) -> HashMap<String, String> {
        self.inner.delivered.lock().expect("lock").clone()
    }

    /// How many times the gateway was asked for `key`.
    pub fn times_asked(&self, key: &str) -> usize {
        self.received().iter().filter(|r| r.key == key).count()
    }
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let order = {
        let mut received = inner.received.lock().expect("lock");
        received.push(Received {
            key: key.clone(),
            body: body.clone(),
        });
        received.len()
    };
    let number = body["to"].as_str().unwrap_or_default().to_owned();
    let refused = inner.refused.lock().expect("lock").contains(&number);
    // Taken before answering: a held or late answer is for a message already delivered.
    let reference = (!refused).then(|| {
        let mut delivered = inner.delivered.lock().expect("lock");
        delivered
            .entry(key)
            .or_insert_with(|| format!("FAKE-{order}"))
            .clone()
    });
    let hold = inner
        .answer_first
        .lock()
        .expect("lock")
        .is_some_and(|n| order > n);
    if hold && !inner.released.load(Ordering::SeqCst) {
        inner.held.fetch_add(1, Ordering::SeqCst);
        let waiting = inner.go_on.notified();
        if !inner.released.load(Ordering::SeqCst) {
            waiting.await;
        }
        inner.held.fetch_sub(1, Ordering::SeqCst);
    }
    let Some(reference) = reference else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "refused"})),
        );
    };
    let late = {
        let mut late = inner.late.lock().expect("lock");
        if late.0 > 0 {
            late.0 -= 1;
            Some(late.1)
        } else {
            None
        }
    };
    let delay = late.unwrap_or_else(|| *inner.delay.lock().expect("lock"));
    tokio::time::sleep(delay).await;
    (StatusCode::OK, Json(json!({ "reference": reference })))
}
