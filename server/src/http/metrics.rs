//! `GET /metrics` in Prometheus's text format: requests and their latency per route, the
//! ledger writer's batch sizes and commit latency, and the depth of every outbox.
//!
//! It answers only `Authorization: Bearer <METRICS_TOKEN>`; without `METRICS_TOKEN` the
//! route does not exist (404), so nothing about the server's traffic leaks by default.
//! Latency is the time to the response's head: a streamed page's body is not waited for.

use app::metrics::{Histogram, LATENCY_BOUNDS, header, label};
use app::secret::Secret;
use app::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What one route answered: responses per status class (1xx…5xx) and their latency.
#[derive(Debug)]
struct RouteStats {
    by_class: [u64; 5],
    latency: Histogram,
}

/// Requests per (method, route pattern). Unmatched paths share one entry, so a scan of
/// random URLs cannot grow the table.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    routes: Mutex<HashMap<(Method, String), RouteStats>>,
}

impl HttpMetrics {
    fn record(&self, method: Method, route: String, status: StatusCode, seconds: f64) {
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        let stats = routes.entry((method, route)).or_insert_with(|| RouteStats {
            by_class: [0; 5],
            latency: Histogram::new(LATENCY_BOUNDS),
        });
        let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
        stats.by_class[class] += 1;
        stats.latency.observe(seconds);
    }

    fn render(&self, out: &mut String) {
        let Ok(routes) = self.routes.lock() else {
            return;
        };
        let mut keys: Vec<_> = routes.keys().collect();
        keys.sort_by(|a, b| (&a.1, a.0.as_str()).cmp(&(&b.1, b.0.as_str())));
        header(
            out,
            "iapd_http_requests_total",
            "counter",
            "HTTP responses per method, route pattern and status class.",
        );
        for key in &keys {
            let stats = &routes[*key];
            for (i, count) in stats.by_class.iter().enumerate() {
                if *count > 0 {
                    let _ = writeln!(
                        out,
                        "iapd_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}xx\"}} {count}",
                        key.0,
                        label(&key.1),
                        i + 1
                    );
                }
            }
        }
        header(
            out,
            "iapd_http_request_duration_seconds",
            "histogram",
            "Time from a request's arrival to its response's head, per route.",
        );
        for key in &keys {
            let labels = format!("method=\"{}\",route=\"{}\"", key.0, label(&key.1));
            routes[*key]
                .latency
                .render(out, "iapd_http_request_duration_seconds", &labels);
        }
    }
}

/// The middleware that counts every request under its route pattern.
pub async fn record(
    State(metrics): State<Arc<HttpMetrics>>,
    req: Request<Body>,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    metrics.record(
        method,
        route,
        response.status(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[derive(Clone)]
struct MetricsState {
    app: AppState,
    http: Arc<HttpMetrics>,
    token: Option<Secret>,
}

/// `/metrics`: 404 unless `token` is set, then 401 to anyone who does not send it.
pub fn router(state: &AppState, http: Arc<HttpMetrics>, token: Option<Secret>) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(MetricsState {
            app: state.clone(),
            http,
            token,
        })
}

async fn scrape(State(state): State<MetricsState>, headers: HeaderMap) -> Response {
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let Some(token) = &state.token else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !app::crypto::same_secret(offered, token.expose()) {
        return (StatusCode::UNAUTHORIZED, "wrong or missing token\n").into_response();
    }
    let depths = match state.app.pool.acquire().await {
        Ok(mut conn) => app::db::metrics::depths(&mut conn).await,
        Err(error) => Err(error),
    };
    let depths = match depths {
        Ok(depths) => depths,
        Err(error) => {
            tracing::error!(%error, "metrics: cannot read the outbox depths");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let mut out = String::with_capacity(16 * 1024);
    state.http.render(&mut out);
    state.app.ledger.metrics().render(&mut out);
    header(
        &mut out,
        "iapd_ledger_up",
        "gauge",
        "1 while the ledger writer accepts changes, 0 while it restarts.",
    );
    let up = u8::from(state.app.ledger.healthy());
    let _ = writeln!(out, "iapd_ledger_up {up}");
    header(
        &mut out,
        "iapd_queue_depth",
        "gauge",
        "Work waiting, per queue: mails, SMS, SMS batches, delivery reports, orders, holds.",
    );
    for (queue, depth) in [
        ("mail", depths.mail_queued),
        ("sms", depths.sms_outgoing),
        ("sms_batch", depths.sms_batches_pending),
        ("sms_report", depths.sms_reports_queued),
        ("order_pending", depths.orders_pending),
        ("hold_open", depths.holds_open),
    ] {
        let _ = writeln!(out, "iapd_queue_depth{{queue=\"{queue}\"}} {depth}");
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        out,
    )
        .into_response()
}
